"""The operator commands over HTTP: status, models, keys, spend, tools and chat.

Each takes the parsed arguments, the two `Api`s and an `Output`, and returns an exit status.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from toolrelay.operator.client import Api, OperatorError
from toolrelay.operator.output import Output
from toolrelay.operator.progress import ChatPrinter, parse_arguments


def status(gateway: Api, middleware: Api, out: Output) -> int:
    rows: list[tuple[str, str, str, str]] = []
    raw: dict[str, Any] = {}
    try:
        ready = gateway.call("GET", "/health/readiness")
        raw["gateway"] = ready
        rows.append(("gateway", gateway.base, "healthy", str(ready.get("version", ""))))
        rows.append(("database", "", str(ready.get("db")), ""))
    except OperatorError as exc:
        raw["gateway"] = {"error": str(exc)}
        rows.append(("gateway", gateway.base, f"down: {exc}", ""))
    try:
        health = middleware.call("GET", "/health/liveliness")
        tools = middleware.call("GET", "/mcp/tools/list")
        raw["middleware"] = {"health": health, "mcp_servers": tools.get("servers", [])}
        rows.append(("middleware", middleware.base, "healthy", ""))
        for server in tools.get("servers", []):
            detail = f"{len(server.get('tools', []))} tools"
            rows.append((f"mcp {server.get('name')}", detail, str(server.get("health")), ""))
    except OperatorError as exc:
        raw["middleware"] = {"error": str(exc)}
        rows.append(("middleware", middleware.base, f"down: {exc}", ""))
    out.table("toolrelay status", ("service", "where", "health", "version"), rows, raw)
    return 0 if all("down" not in r[2] for r in rows) else 1


def models_list(gateway: Api, out: Output) -> int:
    data = gateway.call("GET", "/model/info").get("data", [])
    rows = [
        (
            m.get("model_name"),
            m.get("litellm_params", {}).get("model"),
            m.get("litellm_params", {}).get("api_base", ""),
            m.get("model_info", {}).get("mode", "chat"),
        )
        for m in data
    ]
    out.table("models", ("name", "provider model", "api_base", "mode"), rows, data)
    return 0


def models_test(gateway: Api, out: Output, name: str) -> int:
    body = {"model": name, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1}
    started = time.perf_counter()
    reply = gateway.call("POST", "/v1/chat/completions", json=body)
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    usage = reply.get("usage") or {}
    result = {
        "model": name,
        "ok": True,
        "latency_ms": latency_ms,
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "completion_tokens": usage.get("completion_tokens", 0),
        "cost_usd": _cost(gateway, name, usage),
        "reply": _content(reply),
    }
    out.item(f"model test: {name}", result)
    return 0


def _cost(gateway: Api, name: str, usage: dict[str, Any]) -> float | None:
    """What the gateway charges for this usage (its own prices and overrides), asked of it."""
    if not usage:
        return None
    answer = gateway.call(
        "POST", "/spend/calculate", json={"model": name, "completion_response": {"usage": usage}}
    )
    cost = answer.get("cost") if isinstance(answer, dict) else None
    return float(cost) if isinstance(cost, int | float) else None


def _content(reply: dict[str, Any]) -> str:
    choices = reply.get("choices") or [{}]
    return str((choices[0].get("message") or {}).get("content") or "")


KEY_COLUMNS = ("key_alias", "token", "models", "spend", "max_budget", "blocked", "expires")


def keys_create(gateway: Api, out: Output, body: dict[str, Any]) -> int:
    created = gateway.call("POST", "/key/generate", json=body)
    out.item("key created (shown once)", created)
    return 0


def keys_list(gateway: Api, out: Output) -> int:
    found = gateway.call("GET", "/key/list", params={"return_full_object": "true", "size": 1000})
    keys = found.get("keys", [])
    rows = [tuple(_cell(k.get(c)) for c in KEY_COLUMNS) for k in keys]
    out.table(f"keys ({found.get('total_count', len(keys))})", KEY_COLUMNS, rows, found)
    return 0


def keys_info(gateway: Api, out: Output, key: str) -> int:
    found = gateway.call("GET", "/key/info", params={"key": key})
    out.item(f"key {found.get('key', key)}", found.get("info", found))
    return 0


def keys_update(gateway: Api, out: Output, key: str, changes: dict[str, Any]) -> int:
    if not changes:
        raise OperatorError("nothing to update: pass --models, --max-budget, --alias, ...")
    updated = gateway.call("POST", "/key/update", json={"key": key, **changes})
    out.item(f"key {key} updated", updated)
    return 0


def keys_delete(gateway: Api, out: Output, keys: list[str]) -> int:
    deleted = gateway.call("POST", "/key/delete", json={"keys": keys})
    out.line(f"deleted {len(deleted.get('deleted_keys', []))} key(s)", deleted)
    return 0


def keys_block(gateway: Api, out: Output, key: str, *, unblock: bool) -> int:
    path = "/key/unblock" if unblock else "/key/block"
    result = gateway.call("POST", path, json={"key": key})
    out.line(f"key {'unblocked' if unblock else 'blocked'}", result)
    return 0


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "all"
    return value


SPEND_FIELDS = {
    "key": "api_key",
    "team": "team_id",
    "user": "user",
    "model": "model_group",
    "tag": "request_tags",
}


def spend(gateway: Api, out: Output, *, by: str, since: str) -> int:
    start = _since(since)
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    rows = gateway.call(
        "GET",
        "/spend/logs",
        params={
            "start_date": start.isoformat(),
            "end_date": tomorrow.isoformat(),
            "summarize": "false",
            "limit": 100000,
        },
    )
    field = SPEND_FIELDS[by]
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for row in rows:
        values = row.get(field)
        for value in values if isinstance(values, list) else [values]:
            total = totals[str(value or "-")]
            total[0] += float(row.get("spend") or 0)
            total[1] += 1
            total[2] += float(row.get("total_tokens") or 0)
    summary = [
        {by: name, "spend": round(t[0], 8), "requests": int(t[1]), "tokens": int(t[2])}
        for name, t in sorted(totals.items(), key=lambda item: -item[1][0])
    ]
    table_rows = [(s[by], f"{s['spend']:.6f}", s["requests"], s["tokens"]) for s in summary]
    out.table(
        f"spend by {by} since {start}",
        (by, "spend (USD)", "requests", "tokens"),
        table_rows,
        summary,
    )
    return 0


def _since(text: str) -> date:
    unit = text[-1:]
    days = {"d": 1, "w": 7}.get(unit)
    if days is None or not text[:-1].isdigit():
        raise OperatorError(f"--since: expected a duration like 7d or 2w, got {text!r}")
    return datetime.now(UTC).date() - timedelta(days=int(text[:-1]) * days)


def tools_list(middleware: Api, out: Output) -> int:
    servers = middleware.call("GET", "/mcp/tools/list").get("servers", [])
    rows = [
        (tool.get("name"), server.get("name"), str(tool.get("description") or "")[:80])
        for server in servers
        for tool in server.get("tools", [])
    ]
    out.table("tools", ("tool", "server", "description"), rows, servers)
    return 0


def tools_call(middleware: Api, out: Output, name: str, args: list[str]) -> int:
    result = middleware.call(
        "POST", "/mcp/tools/call", json={"name": name, "arguments": parse_arguments(args)}
    )
    if out.as_json:
        out.data(result)
    else:
        for part in result.get("content", []):
            if part.get("type") == "text":
                out.console.print(part.get("text", ""), markup=False)
            else:
                out.console.print(f"[{part.get('type')} content]", markup=False)
    return 1 if result.get("isError") else 0


def chat(middleware: Api, out: Output, model: str, prompt: str) -> int:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    printer = ChatPrinter(out)
    with middleware.stream("/v1/chat/completions", body) as response:
        for line in response.iter_lines():
            printer.feed_line(line)
    printer.finish()
    return 0
