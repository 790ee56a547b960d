"""Check a chat request body once, where it enters, and hand back a `ChatRequest`.

Translators read nested fields (`messages[i].tool_calls[j].function.name`); a client that sends
the wrong type there must get a 400 naming the field, not a 500 from deep inside a translator.
Only types are checked and unknown fields pass through (`extra="allow"`), so new OpenAI
parameters keep working. The pydantic models only check: the body that goes on is the client's
own dict, unchanged, now known to have the `ChatRequest` shape.

Errors are `ChatBodyError`s (message, param, code); each service maps them to its own error
type at its boundary.
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from common.chat import ChatRequest


class ChatBodyError(ValueError):
    """A chat body no translator can take; `param` names the field, `code` the OpenAI code."""

    def __init__(self, message: str, *, param: str | None, code: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Function(_Open):
    name: StrictStr | None = None
    arguments: StrictStr | dict[str, Any] | None = None


class _ToolCall(_Open):
    id: StrictStr | None = None
    function: _Function | None = None


class _Part(_Open):
    type: StrictStr | None = None
    text: StrictStr | None = None
    image_url: StrictStr | dict[str, Any] | None = None


class _Message(_Open):
    role: StrictStr
    content: StrictStr | list[_Part] | None = None
    name: StrictStr | None = None
    tool_calls: list[_ToolCall] | None = None
    tool_call_id: StrictStr | None = None


class _Tool(_Open):
    type: StrictStr | None = None
    function: _Function | dict[str, Any] | None = None


class _Body(_Open):
    messages: list[_Message] | None = None
    tools: list[_Tool] | None = None
    stop: StrictStr | list[StrictStr] | None = None
    tool_choice: StrictStr | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None


def require_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ChatBodyError(
            "Missing required parameter: 'model'.", param="model", code="missing_required_parameter"
        )
    return model


def check_messages(body: dict[str, Any]) -> None:
    """A non-empty `messages` list of objects that each have a string `role`."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ChatBodyError(
            "Missing required parameter: 'messages' (a non-empty list).",
            param="messages",
            code="missing_required_parameter",
        )
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ChatBodyError(
                f"messages[{i}] must be an object with a 'role'.",
                param=f"messages[{i}]",
                code=None,
            )


def check_body_shape(body: dict[str, Any]) -> None:
    """Raise naming the first field whose type no provider can translate.

    Used on its own for bodies that are not chat requests (legacy completions, embeddings,
    translated `/v1/messages` bodies), whose chat-shaped fields must still be translatable."""
    try:
        _Body.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(
            str(p) for p in first["loc"] if not str(p).startswith(("str", "list", "dict", "_"))
        )
        raise ChatBodyError(
            f"invalid request body at {where or 'body'}: {first['msg']}",
            code="invalid_request_body",
            param=str(first["loc"][0]) if first["loc"] else None,
        ) from None


def parse_chat_request(body: dict[str, Any]) -> ChatRequest:
    """`body` as a `ChatRequest`, or a `ChatBodyError` for the first thing wrong with it."""
    require_model(body)
    check_messages(body)
    check_body_shape(body)
    # Every field ChatRequest declares was checked above; the dict itself goes on unchanged.
    return cast(ChatRequest, body)
