"""The real Open WebUI 0.12.4 against toolrelay: a chat whose model calls `execute_sql`.

Run with `scripts/test-open-webui`. The first run installs Open WebUI into
`.cache/open-webui-venv` (minutes); later runs reuse it.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHAT_MODEL, FIXTURE_NAME, FIXTURE_TABLE, TASK_MODEL, E2EStack
from tests.e2e.open_webui import OpenWebUIClient, assistant_messages
from tests.e2e.open_webui_env import REPO_ROOT
from tests.support.components import require_component

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Whatever the task asks for (title, tags or follow-ups), it finds its key in this reply.
TASK_REPLY = json.dumps(
    {
        "title": "Fixture row lookup",
        "tags": ["Databases", "SQL"],
        "follow_ups": ["Show me row 2", "How many rows are there?"],
    }
)
TASK_KINDS = {
    "title": "Generate a concise title",
    "tags": "Generate 1-3 broad tags",
    "follow_ups": "Predict 3-5 useful messages",
}
_DETAILS = re.compile(r'<details type="tool_calls"([^>]*)>')
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')


def _sql_tool(stack: E2EStack) -> str:
    """The name the middleware exposes for execute_sql (prefixed if names collide)."""
    names = stack.mcp_tool_names()
    if "execute_sql" in names:
        return "execute_sql"
    (name,) = [name for name in names if name.endswith("execute_sql")]
    return name


def _script_turn(stack: E2EStack, sql_tool: str, answer: str) -> str:
    sql = f"select id, name from {FIXTURE_TABLE} where id = 1"
    stack.script(
        CHAT_MODEL,
        [{"tool_calls": [{"name": sql_tool, "arguments": {"sql": sql}}]}, {"text": answer}],
    )
    stack.script(TASK_MODEL, [{"text": TASK_REPLY}] * 3)
    return sql


def _tool_blocks(content: str) -> list[dict[str, str]]:
    """Attributes of each `<details type="tool_calls">` block, HTML-unescaped."""
    return [
        {name: html.unescape(value) for name, value in _ATTRIBUTE.findall(match.group(1))}
        for match in _DETAILS.finditer(content)
    ]


def _task_kind(body: dict[str, Any]) -> str | None:
    text = str(body["messages"][-1].get("content"))
    return next((kind for kind, marker in TASK_KINDS.items() if marker in text), None)


def _offered_tools(body: dict[str, Any]) -> set[str]:
    return {tool["function"]["name"] for tool in body.get("tools") or []}


def test_api_chat_runs_sql_renders_the_block_and_tasks_get_no_tools(
    e2e_stack: E2EStack, webui_client: OpenWebUIClient
) -> None:
    assert CHAT_MODEL in webui_client.model_ids()
    sql_tool = _sql_tool(e2e_stack)
    answer = "The answer is: row 1 is the fixture row."
    sql = _script_turn(e2e_stack, sql_tool, answer)
    chat_before = len(e2e_stack.received(CHAT_MODEL))
    tasks_before = len(e2e_stack.received(TASK_MODEL))

    chat_id = webui_client.start_chat(CHAT_MODEL, "What is row 1?", session_id="e2e-api")

    def finished(chat: dict[str, Any]) -> bool:
        """The answer is saved and all three tasks' results have landed in the chat."""
        (message,) = assistant_messages(chat)
        return (
            bool(message.get("done"))
            and chat["chat"]["title"] != "New Chat"
            and bool((chat.get("meta") or {}).get("tags"))
            and bool(message.get("followUps"))
        )

    chat = webui_client.wait_for_chat(chat_id, finished)

    (message,) = assistant_messages(chat)
    content = str(message["content"])
    assert content.rstrip().endswith(answer), content
    (block,) = _tool_blocks(content)
    assert block["done"] == "true"
    assert block["name"] == sql_tool
    assert json.loads(block["arguments"]) == {"sql": sql}
    assert any(FIXTURE_NAME in text for text in _strings(json.loads(block["result"])))
    # Escaped, so the attribute cannot end early at the row's quote.
    raw = _DETAILS.search(content)
    assert raw is not None and "&quot;alpha" in raw.group(0)
    assert "error" not in message or not message["error"], message.get("error")

    # The model: offered Open WebUI's built-in tools and the MCP tool, called twice (tool
    # call, then answer), never asked again by Open WebUI re-running a streamed tool call.
    first, second = e2e_stack.received(CHAT_MODEL)[chat_before:]
    assert {sql_tool, "get_current_timestamp", "add_memory"} <= _offered_tools(first)
    # Open WebUI streams, so each model call streams too (usage asked for, to sum it).
    assert first["stream"] is True and second["stream"] is True
    assert first["stream_options"] == {"include_usage": True}
    # Open WebUI's signed user JWT was verified: the gateway saw its user as the end user.
    assert first["user"] == webui_client.user_id and second["user"] == webui_client.user_id
    assert "open webui user token ignored" not in e2e_stack.middleware.log()
    tool_results = [m for m in second["messages"] if m["role"] == "tool"]
    assert len(tool_results) == 1 and "owui-row" in str(tool_results[0]["content"])

    # Title, tags and follow-ups reached the gateway as plain non-streaming requests.
    tasks = e2e_stack.received(TASK_MODEL)[tasks_before:]
    assert sorted(str(_task_kind(body)) for body in tasks) == sorted(TASK_KINDS)
    for body in tasks:
        assert "tools" not in body, body
        assert body.get("stream") in (None, False)
        assert [m["role"] for m in body["messages"]] == ["user"]
        assert str(body["messages"][0]["content"]).startswith("### Task:")
    assert chat["chat"]["title"] == "Fixture row lookup"
    assert chat["meta"]["tags"] == ["databases", "sql"]
    assert message.get("followUps") == ["Show me row 2", "How many rows are there?"]


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value; strings that hold JSON themselves are opened too."""
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if not isinstance(value, str):
        return [str(value)]
    try:
        inner = json.loads(value)
    except json.JSONDecodeError:
        return [value]
    return [value, *_strings(inner)] if isinstance(inner, dict | list) else [value]


def test_browser_chat_shows_the_tool_row_and_the_answer(
    e2e_stack: E2EStack, webui_client: OpenWebUIClient
) -> None:
    require_component(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    webui_client.hide_changelog()
    from playwright.sync_api import Route, expect, sync_playwright

    sql_tool = _sql_tool(e2e_stack)
    answer = "The answer is: the browser saw row 1."
    _script_turn(e2e_stack, sql_tool, answer)
    seen_before = len(e2e_stack.received(CHAT_MODEL))
    webui = e2e_stack.webui.url
    ARTIFACTS.mkdir(exist_ok=True)

    def loopback_only(route: Route) -> None:
        if route.request.url.startswith(webui):
            route.continue_()
        else:  # fonts, CDNs, update checks: nothing leaves the machine
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", loopback_only)
            page.goto(webui)
            chat_input = page.locator("#chat-input")
            expect(chat_input).to_be_visible(timeout=60_000)
            chat_input.click()
            page.keyboard.type("What is row 1?")
            page.keyboard.press("Enter")

            expect(page.get_by_text(answer)).to_be_visible(timeout=60_000)
            tool_row = page.get_by_text(f"View Result from {sql_tool}")
            expect(tool_row).to_be_visible()
            page.screenshot(path=ARTIFACTS / "open-webui-answer.png", full_page=True)

            tool_row.click()
            expect(page.get_by_text(FIXTURE_NAME).first).to_be_visible()
            page.screenshot(path=ARTIFACTS / "open-webui-tool-result.png", full_page=True)

            # Saved, not just streamed: a reload renders the same chat from Open WebUI's DB.
            page.reload()
            expect(page.get_by_text(answer)).to_be_visible(timeout=60_000)
            expect(page.get_by_text(f"View Result from {sql_tool}")).to_be_visible()

            # A second turn: Open WebUI sends the first answer back, tool block and all.
            e2e_stack.script(CHAT_MODEL, [{"text": "Second answer, no tools needed."}])
            e2e_stack.script(TASK_MODEL, [{"text": TASK_REPLY}])
            chat_input.click()
            page.keyboard.type("And again?")
            page.keyboard.press("Enter")
            expect(page.get_by_text("Second answer, no tools needed.")).to_be_visible(
                timeout=60_000
            )
            page.screenshot(path=ARTIFACTS / "open-webui-second-turn.png", full_page=True)
        finally:
            browser.close()

    first_turn = e2e_stack.received(CHAT_MODEL)[seen_before:]
    assert len(first_turn) == 3, [body["messages"] for body in first_turn]
    assert {sql_tool, "get_current_timestamp", "add_memory"} <= _offered_tools(first_turn[0])
    # The model never sees the HTML block: the middleware turned it back into tool messages.
    history = first_turn[2]["messages"]
    assert all("<details" not in str(m.get("content")) for m in history), history
    assert any(m["role"] == "tool" and "owui-row" in str(m["content"]) for m in history)
    assert history[-1] == {"role": "user", "content": "And again?"}


# In the page: whenever the highest answer word present changes, note it (10 ms sampling).
_WATCH_GROWTH = """
() => {
  window.__growth = [];
  let last = -1;
  setInterval(() => {
    const text = document.body.innerText;
    let n = 0;
    for (let i = 1; i <= 30; i++) if (text.includes('sw' + String(i).padStart(2, '0') + ' ')) n = i;
    if (n !== last) { window.__growth.push(n); last = n; }
  }, 10);
}
"""


def test_browser_shows_the_answer_growing_as_the_model_streams_it(
    e2e_stack: E2EStack, webui_client: OpenWebUIClient
) -> None:
    require_component(CHROMIUM.exists(), f"Chromium at {CHROMIUM}")
    webui_client.hide_changelog()
    from playwright.sync_api import Route, expect, sync_playwright

    sql_tool = _sql_tool(e2e_stack)
    # 30 words, each followed by a space, streamed one per chunk 50 ms apart after the tool.
    answer = " ".join(f"sw{i:02d}" for i in range(1, 31)) + " end."
    _script_turn(e2e_stack, sql_tool, answer)
    webui = e2e_stack.webui.url

    def loopback_only(route: Route) -> None:
        if route.request.url.startswith(webui):
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", loopback_only)
            page.goto(webui)
            chat_input = page.locator("#chat-input")
            expect(chat_input).to_be_visible(timeout=60_000)
            page.evaluate(_WATCH_GROWTH)
            chat_input.click()
            page.keyboard.type("Stream the answer, please")
            page.keyboard.press("Enter")
            expect(page.get_by_text("sw30 end.", exact=False)).to_be_visible(timeout=90_000)
            expect(page.get_by_text(f"View Result from {sql_tool}")).to_be_visible()
            growth: list[int] = page.evaluate("() => window.__growth")
            page.screenshot(path=ARTIFACTS / "open-webui-streamed-answer.png", full_page=True)
        finally:
            browser.close()

    # The page showed the answer partly written, several times, before it was complete.
    partial = [n for n in growth if 0 < n < 30]
    assert len(partial) >= 5, growth
    assert growth[-1] == 30
