"""OpenAI chat request -> Bedrock Converse request (the body of `converse`/`converse-stream`).

System and developer messages become `system` blocks; tool results become `toolResult` blocks
in a user turn right after the assistant's `toolUse` blocks; consecutive turns of one role are
merged, since Converse wants the roles to alternate. Sampling goes in `inferenceConfig`; what
only some model families take (`top_k`, Anthropic's `thinking`) goes in
`additionalModelRequestFields`, as LiteLLM sends it. `response_format` is one forced tool whose
input schema is the requested schema (`JSON_TOOL`), turned back into text on the way out.
"""

from __future__ import annotations

from common.chat import ChatRequest, JSONObject, Message, MessageContent, Tool, ToolChoice
from gateway.errors import BadRequestError
from gateway.providers.anthropic_request import CLAUDE_EFFORT_BUDGET
from gateway.providers.base import JSON
from gateway.providers.images import image_url_of, parse_data_url
from gateway.providers.openai_shapes import text_of, tool_arguments
from gateway.providers.params import enforce_supported

JSON_TOOL = "json_tool_call"
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}

SUPPORTED = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "user",
        "thinking",
        "reasoning_effort",
        "n",
    }
)


def is_anthropic(model: str) -> bool:
    """`anthropic.claude-...`, or a cross-region profile such as `us.anthropic.claude-...`."""
    return "anthropic." in model.split("/")[-1]


def converse_request(body: ChatRequest, model: str, *, drop_params: bool) -> JSON:
    body = enforce_supported(body, SUPPORTED, provider="bedrock", drop_params=drop_params)
    if body.get("n") not in (None, 1):
        raise BadRequestError("bedrock supports only n=1", param="n")
    system, messages = _messages(body.get("messages") or [])
    out: JSON = {"messages": messages}
    if system:
        out["system"] = system
    inference = _inference_config(body)
    if inference:
        out["inferenceConfig"] = inference
    additional = _additional_fields(body, model, inference)
    if additional:
        out["additionalModelRequestFields"] = additional
    tool_config = _tool_config(body, messages)
    if tool_config is not None:
        out["toolConfig"] = tool_config
    return out


def _inference_config(body: ChatRequest) -> JSON:
    config: JSON = {}
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens is not None:
        config["maxTokens"] = max_tokens
    if body.get("temperature") is not None:
        config["temperature"] = body["temperature"]
    if body.get("top_p") is not None:
        config["topP"] = body["top_p"]
    stop = body.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    return config


def _additional_fields(body: ChatRequest, model: str, inference: JSON) -> JSON:
    fields: JSON = {}
    if body.get("top_k") is not None:
        fields["top_k"] = body.get("top_k")
    if not is_anthropic(model):
        return fields
    thinking = body.get("thinking")
    effort = body.get("reasoning_effort")
    if isinstance(thinking, dict):
        fields["thinking"] = thinking
    elif isinstance(effort, str) and effort in CLAUDE_EFFORT_BUDGET:
        budget = CLAUDE_EFFORT_BUDGET[effort]
        fields["thinking"] = {"type": "enabled", "budget_tokens": budget}
        # Claude wants max_tokens above the thinking budget.
        inference["maxTokens"] = max(int(inference.get("maxTokens") or 0), budget + 1024)
    return fields


def _tool_config(body: ChatRequest, messages: list[JSON]) -> JSON | None:
    tools = [_tool(t) for t in body.get("tools") or []]
    choice = _tool_choice(body.get("tool_choice"))
    schema = _json_schema(body.get("response_format"))
    if schema is not None:
        tools.append(
            {
                "toolSpec": {
                    "name": JSON_TOOL,
                    "description": "Answer in JSON.",
                    "inputSchema": {"json": schema},
                }
            }
        )
        choice = {"tool": {"name": JSON_TOOL}}
    if choice == "none":
        # Converse has no "none" choice. Leaving the tools out forbids calls; Bedrock still
        # wants them declared when the history holds tool blocks, so then they stay (auto).
        if not _has_tool_blocks(messages):
            return None
        choice = None
    if not tools:
        return None
    config: JSON = {"tools": tools}
    if isinstance(choice, dict):
        config["toolChoice"] = choice
    return config


def _has_tool_blocks(messages: list[JSON]) -> bool:
    return any("toolUse" in b or "toolResult" in b for m in messages for b in m["content"])


def _json_schema(response_format: JSONObject | None) -> JSON | None:
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return schema if isinstance(schema, dict) else {"type": "object"}
    return None


def _tool(tool: Tool) -> JSON:
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise BadRequestError("each tool needs a function with a name", param="tools")
    spec: JSON = {
        "name": function["name"],
        "inputSchema": {"json": function.get("parameters") or {"type": "object", "properties": {}}},
    }
    if function.get("description"):
        spec["description"] = function["description"]
    return {"toolSpec": spec}


def _tool_choice(choice: ToolChoice) -> JSON | str | None:
    if choice is None:
        return None
    if choice == "auto":
        return {"auto": {}}
    if choice == "required":
        return {"any": {}}
    if choice == "none":
        return "none"
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"tool": {"name": choice["function"].get("name")}}
    raise BadRequestError(f"unsupported tool_choice: {choice!r}", param="tool_choice")


def _messages(messages: list[Message]) -> tuple[list[JSON], list[JSON]]:
    system: list[JSON] = []
    turns: list[JSON] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            text = text_of(message.get("content"))
            if text:
                system.append({"text": text})
        elif role == "user":
            _append(turns, "user", _user_blocks(message.get("content")))
        elif role == "assistant":
            _append(turns, "assistant", _assistant_blocks(message))
        elif role in ("tool", "function"):
            _append(turns, "user", [_tool_result(message)])
        else:
            raise BadRequestError(f"unsupported message role {role!r}", param="messages")
    return system, turns


def _append(turns: list[JSON], role: str, blocks: list[JSON]) -> None:
    if not blocks:
        return
    if turns and turns[-1]["role"] == role:
        previous = turns[-1]["content"]
        # Tool results lead the user turn that answers a toolUse.
        results = [b for b in previous + blocks if "toolResult" in b]
        others = [b for b in previous + blocks if "toolResult" not in b]
        turns[-1]["content"] = [*results, *others]
        return
    turns.append({"role": role, "content": blocks})


def _user_blocks(content: MessageContent) -> list[JSON]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if not isinstance(content, list):
        return []
    blocks: list[JSON] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            if part.get("text"):
                blocks.append({"text": part["text"]})
            continue
        url = image_url_of(part)
        if url is not None:
            blocks.append(_image_block(url))
    return blocks


def _image_block(url: str) -> JSON:
    """Converse takes image bytes (base64 in JSON) or an S3 object; the provider has already
    fetched http(s) images into data URLs (`inline_remote_images`)."""
    if url.startswith("s3://"):
        # the format is not knowable from the URI; Bedrock checks it against the object
        extension = url.rsplit(".", 1)[-1].lower()
        image_format = "jpeg" if extension == "jpg" else extension
        if image_format not in IMAGE_FORMATS.values():
            raise BadRequestError(
                f"image {url!r}: name an S3 object ending .png, .jpeg, .gif or .webp",
                param="messages",
            )
        return {"image": {"format": image_format, "source": {"s3Location": {"uri": url}}}}
    inline = parse_data_url(url)
    if inline is None:
        raise BadRequestError(f"unsupported image URL {url[:40]!r}", param="messages")
    known = IMAGE_FORMATS.get(inline.media_type)
    if known is None:
        raise BadRequestError(
            f"bedrock takes png, jpeg, gif or webp images, not {inline.media_type}",
            param="messages",
        )
    return {"image": {"format": known, "source": {"bytes": inline.data}}}


def _assistant_blocks(message: Message) -> list[JSON]:
    blocks: list[JSON] = []
    thinking = message.get("thinking_blocks")
    for block in thinking if isinstance(thinking, list) else []:
        # Claude's signed thinking must come back unchanged before its tool calls.
        if isinstance(block, dict) and block.get("type") == "thinking":
            reasoning: JSON = {"text": str(block.get("thinking", ""))}
            if block.get("signature"):
                reasoning["signature"] = block["signature"]
            blocks.append({"reasoningContent": {"reasoningText": reasoning}})
    text = text_of(message.get("content"))
    if text:
        blocks.append({"text": text})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        blocks.append(
            {
                "toolUse": {
                    "toolUseId": call.get("id"),
                    "name": function.get("name"),
                    "input": tool_arguments(function.get("arguments")),
                }
            }
        )
    return blocks


def _tool_result(message: Message) -> JSON:
    content = message.get("content")
    blocks: list[JSON]
    if isinstance(content, list):
        blocks = _user_blocks(content)
    else:
        text = text_of(content)
        blocks = [{"text": text}] if text else []
    # Bedrock refuses an empty toolResult content; an empty result still answers the call.
    return {
        "toolResult": {
            "toolUseId": message.get("tool_call_id"),
            "content": blocks or [{"text": ""}],
        }
    }
