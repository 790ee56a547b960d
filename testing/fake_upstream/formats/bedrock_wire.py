"""Bedrock Converse requests, validated as the real API does (its ValidationException texts).

Checks follow the bedrock-runtime service model: only its top-level fields; `messages` that
start with a user turn and alternate roles; each content block a union with exactly one member;
no blank text; images png/jpeg/gif/webp as base64 bytes or an S3 location; `toolUse` blocks
answered by `toolResult` blocks in the very next user turn; tool blocks only with a
`toolConfig`; `toolChoice` naming a declared tool; `inferenceConfig` within its ranges.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..reply import Prompt, ReplyError

_FIELDS = frozenset(
    {
        "messages",
        "system",
        "inferenceConfig",
        "toolConfig",
        "guardrailConfig",
        "additionalModelRequestFields",
        "promptVariables",
        "additionalModelResponseFieldPaths",
        "requestMetadata",
        "performanceConfig",
        "serviceTier",
        "outputConfig",
    }
)
_USER_BLOCKS = frozenset({"text", "image", "document", "toolResult", "cachePoint"})
_ASSISTANT_BLOCKS = frozenset({"text", "toolUse", "reasoningContent", "cachePoint"})
_IMAGE_FORMATS = frozenset({"png", "jpeg", "gif", "webp"})
_INFERENCE = frozenset({"maxTokens", "temperature", "topP", "stopSequences"})


def invalid(message: str) -> ReplyError:
    return ReplyError(400, message, "ValidationException")


def parse(body: Any, model_id: str, *, stream: bool) -> Prompt | ReplyError:
    if not isinstance(body, dict):
        return invalid("The request body is not valid JSON.")
    for key in body:
        if key not in _FIELDS:
            return invalid(f"Unknown parameter in input: {key!r}")
    system_chars = _system(body.get("system"))
    if isinstance(system_chars, ReplyError):
        return system_chars
    problem = _inference(body.get("inferenceConfig"))
    if problem is not None:
        return problem
    tools = _tools(body.get("toolConfig"))
    if isinstance(tools, ReplyError):
        return tools
    checked = _messages(body.get("messages"), has_tool_config=body.get("toolConfig") is not None)
    if isinstance(checked, ReplyError):
        return checked
    last_user, chars = checked
    return Prompt(model_id, last_user, tools, chars + system_chars, stream, stream)


def _system(system: Any) -> int | ReplyError:
    if system is None:
        return 0
    if not isinstance(system, list):
        return invalid("system: expected a list of SystemContentBlock")
    chars = 0
    for i, block in enumerate(system):
        if not isinstance(block, dict) or len(block) != 1:
            return invalid(f"system.{i}: a SystemContentBlock has exactly one member")
        if "text" in block:
            if not isinstance(block["text"], str) or not block["text"].strip():
                return invalid(f"system.{i}.text: the text field is blank")
            chars += len(block["text"])
    return chars


def _inference(config: Any) -> ReplyError | None:
    if config is None:
        return None
    if not isinstance(config, dict):
        return invalid("inferenceConfig: expected an object")
    for key in config:
        if key not in _INFERENCE:
            return invalid(f"Unknown parameter in inferenceConfig: {key!r}")
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and (
        not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
    ):
        return invalid("inferenceConfig.maxTokens: must be an integer >= 1")
    for key in ("temperature", "topP"):
        value = config.get(key)
        if value is not None and not (isinstance(value, int | float) and 0 <= value <= 1):
            return invalid(f"inferenceConfig.{key}: must be between 0 and 1")
    stops = config.get("stopSequences")
    if stops is not None and not (
        isinstance(stops, list) and all(isinstance(s, str) for s in stops)
    ):
        return invalid("inferenceConfig.stopSequences: expected a list of strings")
    return None


def _tools(config: Any) -> tuple[str, ...] | ReplyError:
    if config is None:
        return ()
    if not isinstance(config, dict) or not isinstance(config.get("tools"), list):
        return invalid("toolConfig.tools: Field required")
    if not config["tools"]:
        return invalid("toolConfig.tools: must contain at least 1 tool")
    names: list[str] = []
    for i, tool in enumerate(config["tools"]):
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            return invalid(f"toolConfig.tools.{i}.toolSpec.name: Field required")
        schema = spec.get("inputSchema")
        if not isinstance(schema, dict) or not isinstance(schema.get("json"), dict):
            return invalid(f"toolConfig.tools.{i}.toolSpec.inputSchema.json: Field required")
        names.append(spec["name"])
    choice = config.get("toolChoice")
    if choice is not None:
        if (
            not isinstance(choice, dict)
            or len(choice) != 1
            or next(iter(choice))
            not in (
                "auto",
                "any",
                "tool",
            )
        ):
            return invalid("toolConfig.toolChoice: exactly one of auto, any, tool")
        if "tool" in choice and (choice["tool"] or {}).get("name") not in names:
            return invalid("toolConfig.toolChoice.tool.name: not the name of a declared tool")
    return tuple(names)


def _messages(messages: Any, *, has_tool_config: bool) -> tuple[str, int] | ReplyError:
    if not isinstance(messages, list) or not messages:
        return invalid("messages: must contain at least one message")
    pending: set[str] = set()  # toolUse ids the next user turn must answer
    last_user = ""
    chars = 0
    for i, message in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(message, dict):
            return invalid(f"{where}: expected an object")
        role = message.get("role")
        if role not in ("user", "assistant"):
            return invalid(f"{where}.role: must be user or assistant")
        if i == 0 and role != "user":
            return invalid(
                "A conversation must start with a user message. Try again with a conversation that starts with a user message."
            )
        if i and messages[i - 1].get("role") == role:
            return invalid(
                "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again."
            )
        content = message.get("content")
        if not isinstance(content, list) or not content:
            return invalid(f"{where}.content: must contain at least one content block")
        allowed = _USER_BLOCKS if role == "user" else _ASSISTANT_BLOCKS
        answered: set[str] = set()
        used: set[str] = set()
        texts: list[str] = []
        for j, block in enumerate(content):
            if not isinstance(block, dict) or len(block) != 1:
                return invalid(f"{where}.content.{j}: a ContentBlock has exactly one member")
            kind, value = next(iter(block.items()))
            if kind not in allowed:
                return invalid(f"{where}.content.{j}: {kind} is not allowed in a {role} message")
            problem = _block(kind, value, f"{where}.content.{j}", has_tool_config)
            if problem is not None:
                return problem
            if kind == "text":
                texts.append(value)
                chars += len(value)
            elif kind == "toolUse":
                used.add(value["toolUseId"])
            elif kind == "toolResult":
                if value["toolUseId"] not in pending:
                    return invalid(
                        f"{where}.content.{j}: The toolResult block's toolUseId "
                        f"{value['toolUseId']} does not match a toolUse block of the previous turn."
                    )
                answered.add(value["toolUseId"])
                chars += sum(len(str(c.get("text", ""))) for c in value["content"])
        if role == "user":
            if pending - answered:
                return invalid(
                    f"{where}: Expected toolResult blocks for toolUse ids "
                    f"{', '.join(sorted(pending - answered))}"
                )
            pending = set()
            if texts:
                last_user = "".join(texts)
        else:
            if pending:
                return invalid(f"{where}: the previous toolUse blocks were not answered")
            pending = used
    if pending:
        return invalid("The last assistant message's toolUse blocks have no toolResult.")
    return last_user, chars


def _block(kind: str, value: Any, where: str, has_tool_config: bool) -> ReplyError | None:
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            return invalid(
                f"{where}: The text field in the ContentBlock object is blank. Add text to the "
                "text field, and try again."
            )
    elif kind == "image":
        return _image(value, where)
    elif kind in ("toolUse", "toolResult") and not has_tool_config:
        return invalid(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks."
        )
    elif kind == "toolUse":
        if not isinstance(value, dict) or not all(
            isinstance(value.get(k), str) for k in ("toolUseId", "name")
        ):
            return invalid(f"{where}.toolUse: toolUseId and name are required")
        if not isinstance(value.get("input"), dict):
            return invalid(f"{where}.toolUse.input: expected a JSON object")
    elif kind == "toolResult":
        if not isinstance(value, dict) or not isinstance(value.get("toolUseId"), str):
            return invalid(f"{where}.toolResult.toolUseId: Field required")
        content = value.get("content")
        if not isinstance(content, list) or not content:
            return invalid(f"{where}.toolResult.content: must contain at least one block")
        for k, part in enumerate(content):
            if not isinstance(part, dict) or len(part) != 1:
                return invalid(f"{where}.toolResult.content.{k}: exactly one member")
            if "image" in part:
                problem = _image(part["image"], f"{where}.toolResult.content.{k}")
                if problem is not None:
                    return problem
    return None


def _image(image: Any, where: str) -> ReplyError | None:
    if not isinstance(image, dict) or image.get("format") not in _IMAGE_FORMATS:
        return invalid(f"{where}.image.format: must be one of png, jpeg, gif, webp")
    source = image.get("source")
    if not isinstance(source, dict) or len(source) != 1:
        return invalid(f"{where}.image.source: exactly one of bytes, s3Location")
    if "bytes" in source:
        try:
            base64.b64decode(str(source["bytes"]), validate=True)
        except binascii.Error:
            return invalid(f"{where}.image.source.bytes: not valid base64")
        return None
    location = source.get("s3Location")
    if not isinstance(location, dict) or not str(location.get("uri", "")).startswith("s3://"):
        return invalid(f"{where}.image.source.s3Location.uri: must be an s3:// URI")
    return None
