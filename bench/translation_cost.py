"""Translation cost per request, per provider: request + response translation, pure CPU.

    uv run python bench/translation_cost.py [--rounds 2000] [--clock wall|cpu]

For each provider, one representative chat request (system prompt, a multi-turn history with a
tool call and its result, two tools with JSON schemas) is translated to the provider's shape and
one representative native answer (text plus a tool call, with usage) is translated back; the
streamed column translates a 40-piece text stream plus a tool call and the usage chunk. No
network, no JSON encoding: only the translators, plus the chat route's one body check (which
runs once per request, before any of them). Reports the median of `rounds` timings in
microseconds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from gateway.anthropic_api.request import chat_request as anthropic_inbound_request
from gateway.anthropic_api.response import anthropic_message
from gateway.anthropic_api.stream import AnthropicEvents
from gateway.deployments import Deployment
from gateway.providers import (
    anthropic_request,
    anthropic_response,
    gemini_request,
    gemini_response,
    ollama_translate,
)
from gateway.providers.anthropic_stream import AnthropicChunks
from gateway.providers.base import ProviderCall
from gateway.providers.openai_shapes import ChunkWriter
from gateway.providers.params import upstream_body
from gateway.request_checks import chat_request

JSON = dict[str, Any]
WORDS = [f"word{i} " for i in range(40)]
TOOLS: list[JSON] = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"enum": ["C", "F"]}},
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }
    for name in ("get_weather", "get_time")
]
CHAT: JSON = {
    "model": "group",
    "temperature": 0.2,
    "max_tokens": 512,
    "tools": TOOLS,
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. " * 10},
        {"role": "user", "content": "What is the weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C, sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": "24C, clear"},
        {"role": "user", "content": "And what time is it there?"},
    ],
}
ANTHROPIC_MESSAGE: JSON = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude",
    "content": [
        {"type": "text", "text": "Let me check the time. " * 5},
        {"type": "tool_use", "id": "toolu_1", "name": "get_time", "input": {"city": "Paris"}},
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 300, "output_tokens": 40, "cache_read_input_tokens": 100},
}
GEMINI_RESPONSE: JSON = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {"text": "Let me check the time. " * 5},
                    {"functionCall": {"name": "get_time", "args": {"city": "Paris"}}},
                ],
            },
            "finishReason": "STOP",
        }
    ],
    "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 40, "totalTokenCount": 340},
}
OLLAMA_RESPONSE: JSON = {
    "model": "llama3",
    "message": {
        "role": "assistant",
        "content": "Let me check the time. " * 5,
        "tool_calls": [{"function": {"name": "get_time", "arguments": {"city": "Paris"}}}],
    },
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 300,
    "eval_count": 40,
}
OPENAI_COMPLETION: JSON = {
    "id": "chatcmpl-1",
    "model": "gpt",
    "choices": [
        {
            "message": {
                "role": "assistant",
                "content": "Let me check the time. " * 5,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 300, "completion_tokens": 40},
}
ANTHROPIC_INBOUND: JSON = {
    "model": "group",
    "max_tokens": 512,
    "system": "You are a helpful assistant. " * 10,
    "tools": [
        {"name": t["function"]["name"], "input_schema": t["function"]["parameters"]} for t in TOOLS
    ],
    "messages": [
        {"role": "user", "content": "What is the weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Paris"}}
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "18C"},
                {"type": "text", "text": "Time?"},
            ],
        },
    ],
}


def _anthropic_events() -> list[JSON]:
    events: list[JSON] = [
        {
            "type": "message_start",
            "message": {"id": "msg_1", "model": "claude", "usage": {"input_tokens": 300}},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}
        for w in WORDS
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "t", "name": "get_time", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"city": "Paris"}'},
        },
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 40},
        },
        {"type": "message_stop"},
    ]
    return events


def _gemini_chunks() -> list[JSON]:
    chunks: list[JSON] = [{"candidates": [{"content": {"parts": [{"text": w}]}}]} for w in WORDS]
    last = dict(GEMINI_RESPONSE)
    last["candidates"] = [
        {
            "content": {"parts": [{"functionCall": {"name": "get_time", "args": {}}}]},
            "finishReason": "STOP",
        }
    ]
    return [*chunks, last]


def _ollama_lines() -> list[JSON]:
    lines: list[JSON] = [
        {"message": {"role": "assistant", "content": w}, "done": False} for w in WORDS
    ]
    return [*lines, {**OLLAMA_RESPONSE, "message": {"role": "assistant", "content": ""}}]


def _openai_chunks() -> list[JSON]:
    writer = ChunkWriter.start("gpt")
    chunks = [writer.role(), *(writer.text(w) for w in WORDS)]
    chunks += [
        writer.tool_call_start(0, "c1", "get_time", '{"city": "Paris"}'),
        writer.finish("tool_calls"),
    ]
    chunks.append(
        {"id": writer.id, "choices": [], "usage": {"prompt_tokens": 300, "completion_tokens": 40}}
    )
    return chunks


AZURE_CALL = ProviderCall(
    deployment=Deployment(id="d", model_name="group", provider="azure", model="gpt-4o"),
    body=CHAT,
    timeout=60,
    request_id="r",
)


def anthropic_once() -> None:
    anthropic_request.messages_request(CHAT, "claude", drop_params=False)
    anthropic_response.chat_completion(ANTHROPIC_MESSAGE, json_mode=False)


def gemini_once() -> None:
    gemini_request.generate_request(CHAT, drop_params=False)
    gemini_response.chat_completion(GEMINI_RESPONSE, "gemini")


def ollama_once() -> None:
    ollama_translate.chat_request(CHAT, "llama3", stream=False, drop_params=False)
    ollama_translate.chat_completion(OLLAMA_RESPONSE, "llama3")


def azure_once() -> None:
    upstream_body(AZURE_CALL)  # Azure speaks OpenAI: only gateway fields are removed


def route_check_once() -> None:
    chat_request(CHAT)  # the chat route's one body check (model, messages, nested types)


def inbound_once() -> None:
    anthropic_inbound_request(ANTHROPIC_INBOUND)
    anthropic_message(OPENAI_COMPLETION, "group")


EVENTS, GEMINI_CHUNKS, OLLAMA_LINES, OPENAI_CHUNKS = (
    _anthropic_events(),
    _gemini_chunks(),
    _ollama_lines(),
    _openai_chunks(),
)


def anthropic_stream() -> None:
    anthropic_request.messages_request(CHAT, "claude", drop_params=False)
    translator = AnthropicChunks("claude")
    for event in EVENTS:
        for _ in translator.feed(event):
            pass


def gemini_stream() -> None:
    gemini_request.generate_request(CHAT, drop_params=False)
    translator = gemini_response.GeminiChunks("gemini")
    for chunk in GEMINI_CHUNKS:
        for _ in translator.feed(chunk):
            pass
    for _ in translator.close():
        pass


def ollama_stream() -> None:
    ollama_translate.chat_request(CHAT, "llama3", stream=True, drop_params=False)
    translator = ollama_translate.OllamaChunks(ChunkWriter.start("llama3"))
    for line in OLLAMA_LINES:
        for _ in translator.feed(line):
            pass


def inbound_stream() -> None:
    anthropic_inbound_request(ANTHROPIC_INBOUND)
    translator = AnthropicEvents("group")
    for chunk in OPENAI_CHUNKS:
        for _ in translator.feed(chunk):
            pass
    for _ in translator.close():
        pass


CASES: dict[str, tuple[Callable[[], None], Callable[[], None] | None]] = {
    "anthropic/": (anthropic_once, anthropic_stream),
    "gemini/": (gemini_once, gemini_stream),
    "ollama/": (ollama_once, ollama_stream),
    "azure/": (azure_once, None),
    "/v1/messages (inbound)": (inbound_once, inbound_stream),
    "chat body check (route)": (route_check_once, None),
}


def median_us(fn: Callable[[], None], rounds: int, clock: str = "wall") -> float:
    for _ in range(min(200, rounds)):
        fn()  # warm up
    if clock == "cpu":
        return _median_cpu_us(fn, rounds)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        fn()
        timings.append(time.perf_counter_ns() - started)
    return statistics.median(timings) / 1000


def _median_cpu_us(fn: Callable[[], None], rounds: int, batch: int = 100) -> float:
    """This thread's CPU time, per call, median over batches: time spent descheduled on a
    busy machine does not count (the thread clock is too coarse to time single calls)."""
    timings = []
    for _ in range(max(1, rounds // batch)):
        started = time.thread_time_ns()
        for _ in range(batch):
            fn()
        timings.append((time.thread_time_ns() - started) / batch)
    return statistics.median(timings) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall: perf_counter per call; cpu: thread CPU time (for a shared, busy machine)",
    )
    args = parser.parse_args()
    print(f"{'provider':<24}{'request+response µs':>22}{'streamed (42 chunks) µs':>26}")
    for name, (once, stream) in CASES.items():
        whole = median_us(once, args.rounds, args.clock)
        streamed = f"{median_us(stream, args.rounds, args.clock):.1f}" if stream else "-"
        print(f"{name:<24}{whole:>22.1f}{streamed:>26}")


if __name__ == "__main__":
    main()
