"""The OpenAI chat contract: what a chat request, its answer and its stream chunks look like.

These are `TypedDict`s, not classes: at run time a request stays the dict that orjson parsed, so
typing it costs nothing per request (pydantic or msgspec objects would be built and dumped again
on every call, which `bench/translation_cost.py` would show). `common.chat_validation` checks a
body once, at the route, and only then is it treated as a `ChatRequest`.

Requests describe what the gateway *accepts*, which is wider than what OpenAI documents: optional
fields may be null, tool-call arguments may be an object as well as a JSON string, and content
parts and tools of other types pass through. Unknown keys pass through too (a TypedDict does not
forbid them at run time), so new OpenAI parameters keep working. Responses and chunks describe
what the gateway *emits*.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, Required, TypeAlias, TypedDict

JSONObject: TypeAlias = dict[str, Any]  # a JSON schema, provider-specific options, ...

# ---- requests ---------------------------------------------------------------------------


class FunctionCall(TypedDict, total=False):
    name: str | None
    arguments: str | JSONObject | None  # a JSON string (OpenAI) or an object (some SDKs)


class ToolCall(TypedDict, total=False):
    id: str | None
    type: object  # "function"; not checked
    function: FunctionCall | None


class ContentPart(TypedDict, total=False):
    """`{"type": "text", "text": ...}` or `{"type": "image_url", "image_url": {"url": ...}}`;
    parts of other types pass through for the providers that know them."""

    type: str | None
    text: str | None
    image_url: str | JSONObject | None
    cache_control: object


MessageContent: TypeAlias = str | list[ContentPart] | None


class Message(TypedDict, total=False):
    role: Required[str]  # system | developer | user | assistant | tool (| function)
    content: MessageContent
    name: str | None
    tool_calls: list[ToolCall] | None
    tool_call_id: str | None
    cache_control: object
    reasoning_content: object
    thinking_blocks: object


class Tool(TypedDict, total=False):
    type: str | None
    function: JSONObject | None  # {"name", "description", "parameters", "strict"}


ToolChoice: TypeAlias = str | JSONObject | None  # "auto" | "none" | "required" | {"function": ...}


class ChatRequest(TypedDict, total=False):
    """A `/v1/chat/completions` body that `parse_chat_request` accepted.

    The fields typed `object` are not checked at the route: they go on as the client sent them,
    and a translator that reads one checks its type (a wrong one is the upstream's 400 to give).
    """

    model: Required[str]
    messages: Required[list[Message]]
    tools: list[Tool] | None
    tool_choice: ToolChoice
    stop: str | list[str] | None
    response_format: JSONObject | None  # {"type": "text" | "json_object" | "json_schema", ...}
    parallel_tool_calls: object
    stream: object
    stream_options: object
    temperature: object
    top_p: object
    top_k: object
    presence_penalty: object
    frequency_penalty: object
    max_tokens: object
    max_completion_tokens: object
    n: object
    seed: object
    user: object
    reasoning_effort: object
    thinking: object
    keep_alive: object


# ---- responses --------------------------------------------------------------------------


class Usage(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: NotRequired[JSONObject]
    completion_tokens_details: NotRequired[JSONObject]
    cache_creation_input_tokens: NotRequired[int]  # LiteLLM's: prompt tokens written to cache


class OutputFunctionCall(TypedDict):
    name: str
    arguments: str  # always a JSON string on the way out


class OutputToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: OutputFunctionCall


class AssistantMessage(TypedDict):
    role: Literal["assistant"]
    content: str | None
    tool_calls: NotRequired[list[OutputToolCall]]
    reasoning_content: NotRequired[str]
    thinking_blocks: NotRequired[list[JSONObject]]  # Anthropic's, to send back next turn


class Choice(TypedDict):
    index: int
    message: AssistantMessage
    finish_reason: str | None
    logprobs: NotRequired[JSONObject | None]


class ChatCompletion(TypedDict):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: NotRequired[Usage]


# ---- stream chunks ----------------------------------------------------------------------


class FunctionCallDelta(TypedDict, total=False):
    name: str
    arguments: str


class ToolCallDelta(TypedDict, total=False):
    index: Required[int]
    id: str
    type: Literal["function"]
    function: FunctionCallDelta


class Delta(TypedDict, total=False):
    role: Literal["assistant"]
    content: str | None
    reasoning_content: str
    tool_calls: list[ToolCallDelta]


class ChunkChoice(TypedDict):
    index: int
    delta: Delta
    finish_reason: str | None


class ChatCompletionChunk(TypedDict):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: NotRequired[Usage | None]
