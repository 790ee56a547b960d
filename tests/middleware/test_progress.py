from __future__ import annotations

from middleware.progress import ProgressCall, render_block, split_content


def test_block_matches_open_webui_format() -> None:
    block = render_block(ProgressCall("call_1", "execute_sql", '{"sql": "select 1"}', "42"))
    assert block == (
        '<details type="tool_calls" done="true" id="call_1" name="execute_sql" '
        'arguments="{&quot;sql&quot;: &quot;select 1&quot;}" result="&quot;42&quot;">\n'
        "<summary>Tool Executed</summary>\n</details>\n"
    )


def test_blocks_round_trip_with_awkward_text() -> None:
    call = ProgressCall("c<1>", "t", '{"q": "a\\"b <x> & \'y\'"}', 'line1\nline2 "quoted" <b>&amp;')
    parts = split_content("before\n" + render_block(call) + "after")
    assert parts == ["before\n", call, "after"]


def test_unfinished_blocks_are_dropped() -> None:
    text = '<details type="tool_calls" done="false" id="1" name="x" arguments="{}">\n<summary>Executing...</summary>\n</details>\nanswer'
    assert split_content(text) == ["answer"]
