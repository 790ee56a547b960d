"""Anthropic Messages requests, validated as strictly as the real API.

Checks follow the Messages API reference: `anthropic-version` header, `max_tokens` required,
no unknown top-level fields, only `user`/`assistant` roles (a `system` role is refused with the
API's own hint), `tool_use` blocks answered by `tool_result` blocks at the start of the very
next user turn and nowhere else, images as base64 (jpeg/png/gif/webp) or URL sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..reply import Prompt, ReplyError

# The API versions by date; any dated version is accepted, a malformed one is refused.
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "tools",
        "tool_choice",
        "metadata",
        "thinking",
        "service_tier",
        "output_config",
        "context_management",
    }
)
_EFFORTS = frozenset({"low", "medium", "high", "xhigh", "max"})
_CONTEXT_EDITS = frozenset({"clear_thinking_20251015", "clear_tool_uses_20250919"})
# `context_management` is a beta: the API refuses it unless this beta is named in the header.
CONTEXT_MANAGEMENT_BETA = "context-management-2025-06-27"
_USER_BLOCKS = frozenset({"text", "image", "tool_result", "document"})
_ASSISTANT_BLOCKS = frozenset({"text", "tool_use", "thinking", "redacted_thinking"})
_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_TOOL_CHOICES = frozenset({"auto", "any", "tool", "none"})


def invalid(message: str) -> ReplyError:
    return ReplyError(400, message, "invalid_request_error")


@dataclass(frozen=True, slots=True)
class AnthropicRequest:
    prompt: Prompt
    thinking: bool


def parse(
    body: Any, version: bytes | None, beta: bytes | None = None
) -> AnthropicRequest | ReplyError:
    if version is None:
        return invalid("anthropic-version: header is required")
    if not _VERSION.match(version.decode("latin-1")):
        return invalid(f"anthropic-version: invalid version {version.decode('latin-1')!r}")
    if not isinstance(body, dict):
        return invalid("The request body is not valid JSON.")
    for key in body:
        if key not in _FIELDS:
            return invalid(f"{key}: Extra inputs are not permitted")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return invalid("model: Field required")
    max_tokens = body.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return invalid("max_tokens: Field required (an integer >= 1)")
    temperature = body.get("temperature")
    if temperature is not None and not (
        isinstance(temperature, int | float) and 0 <= temperature <= 1
    ):
        return invalid("temperature: Input should be less than or equal to 1")
    system_chars = _system_chars(body.get("system"))
    if isinstance(system_chars, ReplyError):
        return system_chars
    checked = _check_messages(body.get("messages"))
    if isinstance(checked, ReplyError):
        return checked
    last_user, chars = checked
    tools = _tool_names(body.get("tools"), body.get("tool_choice"))
    if isinstance(tools, ReplyError):
        return tools
    problem = _output_config(body.get("output_config")) or _context_management(
        body.get("context_management"), beta
    )
    if problem is not None:
        return problem
    thinking = body.get("thinking")
    if thinking is not None and (
        not isinstance(thinking, dict)
        or thinking.get("type") not in ("enabled", "disabled", "adaptive")
    ):
        return invalid("thinking: Input tag does not match 'enabled', 'disabled', 'adaptive'")
    # Adaptive thinking lets the model decide; the fake always thinks, so streams show blocks.
    thinking_on = isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
        if not isinstance(budget, int) or budget < 1024:
            return invalid(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            )
        if budget >= max_tokens:
            return invalid("`max_tokens` must be greater than `thinking.budget_tokens`")
    stream = body.get("stream") is True
    prompt = Prompt(model, last_user, tools, chars + system_chars, stream, stream)
    return AnthropicRequest(prompt, thinking_on)


def _output_config(output_config: Any) -> ReplyError | None:
    if output_config is None:
        return None
    if not isinstance(output_config, dict):
        return invalid("output_config: Input should be an object")
    for key in output_config:
        if key not in ("effort", "format"):
            return invalid(f"output_config.{key}: Extra inputs are not permitted")
    effort = output_config.get("effort")
    if effort is not None and effort not in _EFFORTS:
        return invalid("output_config.effort: Input should be 'low', 'medium', 'high' or 'max'")
    return None


def _context_management(context_management: Any, beta: bytes | None) -> ReplyError | None:
    if context_management is None:
        return None
    betas = (beta or b"").decode("latin-1").split(",")
    if CONTEXT_MANAGEMENT_BETA not in (b.strip() for b in betas):
        return invalid("context_management: Extra inputs are not permitted")
    edits = context_management.get("edits") if isinstance(context_management, dict) else None
    if not isinstance(edits, list):
        return invalid("context_management.edits: Input should be a valid list")
    for k, edit in enumerate(edits):
        if not isinstance(edit, dict) or edit.get("type") not in _CONTEXT_EDITS:
            return invalid(f"context_management.edits.{k}: Input tag does not match")
    return None


def _system_chars(system: Any) -> int | ReplyError:
    if system is None:
        return 0
    if isinstance(system, str):
        return len(system)
    if isinstance(system, list) and all(
        isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        for b in system
    ):
        return sum(len(b["text"]) for b in system)
    return invalid("system: Input should be a valid string or a list of text blocks")


def _blocks(content: Any, where: str) -> list[dict[str, Any]] | ReplyError:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list) or not content:
        return invalid(f"{where}.content: Input should be a valid string or a non-empty list")
    if not all(isinstance(b, dict) and isinstance(b.get("type"), str) for b in content):
        return invalid(f"{where}.content: each block needs a 'type'")
    return content


def _check_messages(messages: Any) -> tuple[str, int] | ReplyError:
    if not isinstance(messages, list) or not messages:
        return invalid("messages: Field required (a non-empty list)")
    pending: set[str] = set()  # tool_use ids the next user turn must answer
    last_user = ""
    chars = 0
    for i, message in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(message, dict):
            return invalid(f"{where}: Input should be an object")
        role = message.get("role")
        if role == "system":
            return invalid(
                f'{where}: Unexpected role "system". The Messages API accepts a top-level '
                '`system` parameter, not "system" as an input message role.'
            )
        if role not in ("user", "assistant"):
            return invalid(f"{where}.role: Input should be 'user' or 'assistant'")
        blocks = _blocks(message.get("content"), where)
        if isinstance(blocks, ReplyError):
            return blocks
        if role == "assistant":
            if pending:
                return _unanswered(i - 1, pending)
            checked = _assistant(blocks, where)
            if isinstance(checked, ReplyError):
                return checked
            pending, added = checked
            chars += added
            continue
        checked_user = _user(blocks, where, pending)
        if isinstance(checked_user, ReplyError):
            return checked_user
        text, added = checked_user
        pending = set()
        chars += added
        if text:
            last_user = text
    if pending:
        return _unanswered(len(messages) - 1, pending)
    return last_user, chars


def _unanswered(index: int, ids: set[str]) -> ReplyError:
    return invalid(
        f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately "
        f"after: {', '.join(sorted(ids))}. Each `tool_use` block must have a corresponding "
        "`tool_result` block in the next message."
    )


def _assistant(blocks: list[dict[str, Any]], where: str) -> tuple[set[str], int] | ReplyError:
    ids: set[str] = set()
    chars = 0
    for j, block in enumerate(blocks):
        kind = block["type"]
        if kind not in _ASSISTANT_BLOCKS:
            return invalid(f"{where}.content.{j}: type {kind!r} is not allowed in assistant turns")
        if kind == "text":
            chars += len(str(block.get("text", "")))
        elif kind == "tool_use":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                return invalid(f"{where}.content.{j}.tool_use: 'id' and 'name' are required")
            if not isinstance(block.get("input"), dict):
                return invalid(f"{where}.content.{j}.tool_use.input: Input should be an object")
            ids.add(block["id"])
    return ids, chars


def _user(
    blocks: list[dict[str, Any]], where: str, pending: set[str]
) -> tuple[str, int] | ReplyError:
    texts: list[str] = []
    chars = 0
    seen_other = False
    answered: set[str] = set()
    for j, block in enumerate(blocks):
        kind = block["type"]
        if kind not in _USER_BLOCKS:
            return invalid(f"{where}.content.{j}: type {kind!r} is not allowed in user turns")
        if kind == "tool_result":
            tool_id = block.get("tool_use_id")
            if tool_id not in pending:
                return invalid(
                    f"{where}.content.{j}: unexpected `tool_use_id` found in `tool_result` "
                    f"blocks: {tool_id}. Each `tool_result` block must have a corresponding "
                    "`tool_use` block in the previous message."
                )
            if seen_other:
                return invalid(
                    f"{where}.content.{j}: `tool_result` blocks must come first in the content "
                    "array, before any other content."
                )
            answered.add(tool_id)
            content = block.get("content")
            chars += len(content) if isinstance(content, str) else 0
            continue
        seen_other = True
        if kind == "text":
            if not isinstance(block.get("text"), str):
                return invalid(f"{where}.content.{j}.text: Field required")
            texts.append(block["text"])
            chars += len(block["text"])
        elif kind == "image":
            problem = _image(block.get("source"))
            if problem:
                return invalid(f"{where}.content.{j}.image.source: {problem}")
    if pending - answered:
        return _unanswered(int(where.rsplit(".", 1)[1]) - 1, pending - answered)
    return "".join(texts), chars


def _image(source: Any) -> str | None:
    if not isinstance(source, dict):
        return "Field required"
    if source.get("type") == "base64":
        if source.get("media_type") not in _MEDIA_TYPES:
            return "media_type must be one of image/jpeg, image/png, image/gif, image/webp"
        if not isinstance(source.get("data"), str) or not source["data"]:
            return "data: Field required"
        return None
    if source.get("type") == "url":
        return None if isinstance(source.get("url"), str) else "url: Field required"
    return "type: Input should be 'base64' or 'url'"


def _tool_names(tools: Any, choice: Any) -> tuple[str, ...] | ReplyError:
    names: list[str] = []
    for k, tool in enumerate(tools or []):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            return invalid(f"tools.{k}.name: Field required")
        schema = tool.get("input_schema")
        if "type" not in tool and not (isinstance(schema, dict) and schema.get("type") == "object"):
            return invalid(f"tools.{k}.custom.input_schema: Input should be an object schema")
        names.append(tool["name"])
    if choice is not None:
        if not isinstance(choice, dict) or choice.get("type") not in _TOOL_CHOICES:
            return invalid("tool_choice: Input tag does not match 'auto', 'any', 'tool', 'none'")
        if choice["type"] == "tool" and choice.get("name") not in names:
            return invalid(f"tool_choice.tool.name: tool {choice.get('name')!r} not in tools")
        if choice["type"] in ("any", "tool") and not names:
            return invalid("tool_choice: may only be specified while providing tools")
    return tuple(names)
