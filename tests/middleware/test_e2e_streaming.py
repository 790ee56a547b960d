"""The answer streams through the tool loop as the model writes it (real processes, the
official OpenAI SDK), and `upstream_stream: false` keeps the original whole-answer mode."""

from __future__ import annotations

import time

from openai import OpenAI

from tests.middleware.conftest import FIXTURE_TABLE, SLOW_ANSWER_MODEL
from tests.middleware.stack import MASTER_KEY, Stack
from tests.support.components import require_component

WORDS = 30
ANSWER = " ".join(f"word{i}" for i in range(1, WORDS + 1)) + "."


def _client(stack: Stack) -> OpenAI:
    return OpenAI(base_url=stack.base_url, api_key=MASTER_KEY, max_retries=0, timeout=60)


def _script_sql_then_slow_answer(stack: Stack) -> None:
    sql = {"sql": f"SELECT name FROM {FIXTURE_TABLE} WHERE id = 1"}
    stack.script(
        SLOW_ANSWER_MODEL,
        [{"tool_calls": [{"name": "execute_sql", "arguments": sql}]}, {"text": ANSWER}],
    )


def _stream(stack: Stack) -> list[tuple[float, str, bool]]:
    """(arrival time, content, had tool_calls) per chunk with a choice."""
    seen: list[tuple[float, str, bool]] = []
    for chunk in _client(stack).chat.completions.create(
        model=SLOW_ANSWER_MODEL,
        messages=[{"role": "user", "content": "what is row 1?"}],
        stream=True,
        stream_options={"include_usage": True},
    ):
        if chunk.choices:
            delta = chunk.choices[0].delta
            seen.append((time.monotonic(), delta.content or "", bool(delta.tool_calls)))
    return seen


def test_answer_streams_after_the_tool_block_as_the_model_writes_it(
    stack: Stack, postgres_ready: bool
) -> None:
    require_component(postgres_ready, "PostgreSQL on 127.0.0.1:5432")
    _script_sql_then_slow_answer(stack)

    seen = _stream(stack)

    assert not any(had_calls for _, _, had_calls in seen)
    texts = [text for _, text, _ in seen]
    block_at = next(i for i, text in enumerate(texts) if '<details type="tool_calls"' in text)
    assert 'name="execute_sql"' in texts[block_at]
    assert "toolrelay-row-alpha" in texts[block_at]
    answer = [(at, text) for at, text, _ in seen[block_at + 1 :] if text]
    assert "".join(text for _, text in answer) == ANSWER
    assert len(answer) >= WORDS  # one piece per word, as the model wrote them
    # The model spaces its 30 pieces 50 ms apart: streamed through, the first reaches the
    # client well before the last (a lower bound set by the upstream, not by our speed).
    assert answer[-1][0] - answer[0][0] >= 1.0
    # The second model call was streamed, and asked for usage.
    second = stack.received(SLOW_ANSWER_MODEL)[-1]
    assert second["stream"] is True
    assert second["stream_options"] == {"include_usage": True}


def test_forced_mode_sends_the_answer_whole_after_the_model_finished(
    forced_stack: Stack, postgres_ready: bool
) -> None:
    require_component(postgres_ready, "PostgreSQL on 127.0.0.1:5432")
    _script_sql_then_slow_answer(forced_stack)

    seen = _stream(forced_stack)

    assert not any(had_calls for _, _, had_calls in seen)
    texts = [text for _, text, _ in seen]
    block_at = next(i for i, text in enumerate(texts) if '<details type="tool_calls"' in text)
    answer = [text for text in texts[block_at + 1 :] if text]
    assert answer == [ANSWER]
    assert all(body["stream"] is False for body in forced_stack.received(SLOW_ANSWER_MODEL)[-2:])
