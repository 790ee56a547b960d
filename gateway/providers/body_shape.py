"""The structural shape of an OpenAI request body, checked once before any translator runs.

Translators read nested fields (`messages[i].tool_calls[j].function.name`); a client that sends
the wrong type there must get a 400 naming the field, not a 500 from deep inside a translator.
Only types are checked and unknown fields pass through (`extra="allow"`), so new OpenAI
parameters keep working.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from gateway.errors import BadRequestError


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


def check_body_shape(body: dict[str, Any]) -> None:
    """Raise a 400 naming the first field whose type no provider can translate."""
    try:
        _Body.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(
            str(p) for p in first["loc"] if not str(p).startswith(("str", "list", "dict", "_"))
        )
        raise BadRequestError(
            f"invalid request body at {where or 'body'}: {first['msg']}",
            code="invalid_request_body",
            param=str(first["loc"][0]) if first["loc"] else None,
        ) from None
