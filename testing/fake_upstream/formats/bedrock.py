"""AWS Bedrock's Converse API: `POST /model/{modelId}/converse` (JSON) and
`/model/{modelId}/converse-stream` (AWS event-stream frames), every request SigV4-checked.

Each request's signature is recomputed with botocore from the secret of the access key it names
(`bedrock_sigv4`), before anything else is looked at, as AWS does; a Bedrock API key
(`Authorization: Bearer`) is accepted too. The model id in the path picks the behaviour and the
scripts, like the model name of the other formats. Replies are rendered like the API reference:
`output.message.content` blocks (`text`, `toolUse`, `reasoningContent` when Claude thinking was
asked for), `stopReason`, `usage`, `metrics`; streams as `messageStart`, `contentBlockStart`
(tool use), `contentBlockDelta`, `contentBlockStop`, `messageStop`, `metadata`, each payload
carrying the `p` padding field AWS adds. Errors are `{"message"}` bodies named by the
`x-amzn-ErrorType` header; a content-policy scenario is a `content_filtered` stop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import orjson

from .. import eventstream
from ..delivery import deliver
from ..exchange import Exchange
from ..reply import Reply, ReplyError, ToolCall
from ..state import UpstreamState
from . import Route
from .bedrock_sigv4 import AuthProblem, SignedRequest, check
from .bedrock_wire import parse
from .openai_wire import argument_pieces, text_pieces

EVENT_STREAM = b"application/vnd.amazon.eventstream"
THINKING_TEXT = "Let me think about this step by step."
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}
_ERROR_TYPES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}
_PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _error_headers(error_type: str) -> tuple[tuple[bytes, bytes], ...]:
    named = f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"
    return ((b"x-amzn-errortype", named.encode()),)


def bedrock_error(error: ReplyError) -> ReplyError:
    """A scenario's error as Bedrock sends it: its exception name in `x-amzn-ErrorType`."""
    message = error.message
    error_type = _ERROR_TYPES.get(error.status, "InternalServerException")
    if error.code == "context_length_exceeded":
        message = "Input is too long for requested model."
    if error.type.endswith("Exception"):  # already Bedrock's (a validation failure)
        error_type = error.type
    return ReplyError(error.status, message, error_type, headers=_error_headers(error_type))


def error_body(error: ReplyError) -> bytes:
    return orjson.dumps({"message": error.message})


def _tool_use_id(call: ToolCall) -> str:
    return "tooluse_" + call.id.removeprefix("call_")


class ConverseRenderer:
    def __init__(self, thinking: bool) -> None:
        self._thinking = thinking
        self._sent = 0

    def _usage(self, reply: Reply) -> dict[str, int]:
        return {
            "inputTokens": reply.usage.prompt_tokens,
            "outputTokens": reply.usage.completion_tokens,
            "totalTokens": reply.usage.total_tokens,
        }

    def _stop_reason(self, reply: Reply) -> str:
        return _STOP_REASONS.get(reply.finish_reason, reply.finish_reason)

    def body(self, reply: Reply) -> bytes:
        content: list[dict[str, Any]] = []
        if self._thinking:
            content.append(
                {"reasoningContent": {"reasoningText": {"text": THINKING_TEXT, "signature": "sig"}}}
            )
        if reply.text:
            content.append({"text": reply.text})
        for call in reply.tool_calls:
            content.append(
                {
                    "toolUse": {
                        "toolUseId": _tool_use_id(call),
                        "name": call.name,
                        "input": orjson.loads(call.arguments or "{}"),
                    }
                }
            )
        return orjson.dumps(
            {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": self._stop_reason(reply),
                "usage": self._usage(reply),
                "metrics": {"latencyMs": 42},
            }
        )

    def _event(self, kind: str, payload: dict[str, Any]) -> bytes:
        # AWS pads each payload to hide the length of its content; clients ignore `p`.
        self._sent += 1
        padded = {**payload, "p": _PADDING[: 1 + self._sent % len(_PADDING)]}
        return eventstream.event(kind, orjson.dumps(padded))

    def frames(self, reply: Reply) -> Iterator[bytes]:
        yield self._event("messageStart", {"role": "assistant"})
        index = 0
        if self._thinking:
            for delta in ({"text": THINKING_TEXT}, {"signature": "sig"}):
                yield self._event(
                    "contentBlockDelta",
                    {"contentBlockIndex": index, "delta": {"reasoningContent": delta}},
                )
            yield self._event("contentBlockStop", {"contentBlockIndex": index})
            index += 1
        if reply.text:
            for piece in text_pieces(reply.text):
                yield self._event(
                    "contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": piece}}
                )
            yield self._event("contentBlockStop", {"contentBlockIndex": index})
            index += 1
        for call in reply.tool_calls:
            start = {"toolUse": {"toolUseId": _tool_use_id(call), "name": call.name}}
            yield self._event("contentBlockStart", {"contentBlockIndex": index, "start": start})
            for piece in argument_pieces(call.arguments):
                yield self._event(
                    "contentBlockDelta",
                    {"contentBlockIndex": index, "delta": {"toolUse": {"input": piece}}},
                )
            yield self._event("contentBlockStop", {"contentBlockIndex": index})
            index += 1
        yield self._event("messageStop", {"stopReason": self._stop_reason(reply)})
        yield self._event("metadata", {"usage": self._usage(reply), "metrics": {"latencyMs": 42}})

    def error_body(self, error: ReplyError) -> bytes:
        return error_body(error)

    def malformed_body(self) -> bytes:
        return b'{"output": {"message": {"role": "assistant", "content": [{'

    def malformed_frame(self) -> bytes:
        frame = bytearray(eventstream.event("contentBlockDelta", b'{"contentBlockIndex":0}'))
        frame[-1] ^= 0xFF  # a message CRC that does not match
        return bytes(frame)


def _signed_request(exchange: Exchange, raw_body: bytes) -> SignedRequest:
    raw_path = exchange.scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else quote(exchange.path)
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in exchange.scope["headers"]}
    return SignedRequest(exchange.method, path, exchange.query, headers, raw_body)


async def _refuse(exchange: Exchange, problem: AuthProblem) -> None:
    error = ReplyError(problem.status, problem.message, problem.error_type)
    await exchange.respond(
        problem.status, error_body(error), headers=_error_headers(problem.error_type)
    )


def _thinking(body: Any) -> bool:
    fields = body.get("additionalModelRequestFields") if isinstance(body, dict) else None
    thinking = fields.get("thinking") if isinstance(fields, dict) else None
    return isinstance(thinking, dict) and thinking.get("type") == "enabled"


async def _converse(state: UpstreamState, exchange: Exchange, body: Any, stream: bool) -> None:
    problem = check(_signed_request(exchange, exchange.body))
    if problem is not None:
        await _refuse(exchange, problem)
        return
    parsed = parse(body, exchange.path_params["model"], stream=stream)
    if isinstance(parsed, ReplyError):
        error = bedrock_error(parsed)
        await exchange.respond(error.status, error_body(error), headers=error.headers)
        return
    reply = state.scenario.plan(parsed)
    if reply.error is not None and reply.error.code == "content_policy_violation":
        # Bedrock's guardrails and model filters stop the answer; there is no error status.
        reply = Reply(text=None, usage=reply.usage, finish_reason="content_filtered")
    elif reply.error is not None:
        reply = dataclasses.replace(reply, error=bedrock_error(reply.error))
    await deliver(
        exchange,
        reply,
        ConverseRenderer(_thinking(body)),
        stream=stream,
        stream_content_type=EVENT_STREAM,
    )


async def converse(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await _converse(state, exchange, body, stream=False)


async def converse_stream(state: UpstreamState, exchange: Exchange, body: Any) -> None:
    await _converse(state, exchange, body, stream=True)


def routes() -> list[Route]:
    # The signature is the authentication: checked in the handler, not by `require_key`.
    return [
        Route("POST", "/model/{model+}/converse", converse, error_body, authenticated=False),
        Route(
            "POST",
            "/model/{model+}/converse-stream",
            converse_stream,
            error_body,
            authenticated=False,
        ),
    ]


__all__ = ["bedrock_error", "error_body", "routes"]
