"""What current Anthropic clients send, made acceptable to every backend.

Claude Code 2.1.x (recorded in tests/gateway/anthropic_api/fixtures/) sends, besides the
classic Messages fields:
- `system`-role messages inside `messages` (environment details), next to the top-level
  `system` blocks;
- `thinking: {"type": "adaptive", "display": ...}` and `output_config: {"effort": ...}`;
- `context_management: {"edits": [...]}` (beta `context-management-2025-06-27`).

`normalize` lifts system-role messages into the top-level `system` for every backend (the
public Messages API refuses them as a role; the text keeps its order after the real system
prompt). `prepare_for_translation` applies what can be applied to a request bound for a
non-Anthropic provider, and drops (or, without `drop_params`, refuses) top-level fields that
have no translation; an `anthropic/` backend gets them all unchanged.
"""

from __future__ import annotations

from typing import Any

import structlog

from gateway.errors import BadRequestError
from gateway.providers.base import JSON

log = structlog.get_logger("toolrelay.gateway.messages")

# Top-level fields the translation onto chat reads (or deliberately ignores, as `metadata`
# apart from its user id). Anything else has no chat equivalent.
TRANSLATED_FIELDS = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "stream",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
        "output_config",
        "context_management",
    }
)
THINKING_TYPES = frozenset({"enabled", "disabled", "adaptive"})
EFFORTS = frozenset({"low", "medium", "high", "xhigh", "max"})
# Chat providers know low/medium/high; Anthropic's stronger settings mean "the most you have".
_CHAT_EFFORT = {"low": "low", "medium": "medium", "high": "high", "xhigh": "high", "max": "high"}
_CLEAR_THINKING = "clear_thinking_20251015"


def normalize(native: JSON) -> JSON:
    """Validate the newer fields and lift system-role messages into `system`."""
    _check_thinking(native.get("thinking"))
    _check_output_config(native.get("output_config"))
    _check_context_management(native.get("context_management"))
    messages = native.get("messages")
    if not isinstance(messages, list):
        return native
    lifted: list[JSON] = []
    kept: list[Any] = []
    for i, message in enumerate(messages):
        if isinstance(message, dict) and message.get("role") == "system":
            lifted.extend(_system_blocks(message.get("content"), f"messages.{i}"))
        else:
            kept.append(message)
    if not lifted:
        return native
    return {**native, "system": _as_blocks(native.get("system")) + lifted, "messages": kept}


def reasoning_effort(native: JSON) -> str | None:
    """Anthropic's thinking controls as chat's `reasoning_effort`: an explicit effort wins;
    adaptive thinking without one lets the model decide, so nothing is sent."""
    thinking = native.get("thinking")
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind == "disabled":
        return None
    output_config = native.get("output_config")
    effort = output_config.get("effort") if isinstance(output_config, dict) else None
    if isinstance(effort, str):
        return _CHAT_EFFORT[effort]
    if kind == "enabled" and isinstance(thinking, dict):
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 2048:
            return "low"
        return "medium" if budget < 8192 else "high"
    return None


def response_format(native: JSON) -> JSON | None:
    """`output_config.format` (structured outputs) as chat's `response_format`."""
    output_config = native.get("output_config")
    fmt = output_config.get("format") if isinstance(output_config, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return None
    schema = fmt.get("schema")
    return {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": True},
    }


def untranslated_fields(native: JSON) -> list[str]:
    """Top-level fields a chat provider has no equivalent for (newer or beta features)."""
    return sorted(key for key in native if key not in TRANSLATED_FIELDS)


def check_untranslated(fields: list[str], *, drop_params: bool, provider: str) -> None:
    """drop_params semantics: without it, a field only Anthropic understands is a 400."""
    if not fields:
        return
    if not drop_params:
        raise BadRequestError(
            f"{', '.join(fields)}: only anthropic/ models take these fields, and this model is "
            f"served by {provider}/. Set litellm_settings.drop_params: true to drop them.",
            code="unsupported_params",
            param=fields[0],
        )
    log.debug("dropped fields with no chat translation", fields=fields, provider=provider)


def prepare_for_translation(native: JSON) -> JSON:
    """The request as a chat provider can take it: context-management edits applied where
    they mean something without Anthropic's server, untranslated fields left out (the route
    decides with `check_untranslated` whether that is allowed)."""
    unknown = set(untranslated_fields(native))
    out = {key: value for key, value in native.items() if key not in unknown}
    edits = (native.get("context_management") or {}).get("edits") or []
    for edit in edits:
        if edit.get("type") == _CLEAR_THINKING:
            out["messages"] = _clear_thinking(out.get("messages") or [], edit.get("keep"))
        else:
            # Tool-result clearing needs the provider's own token counts; without them the
            # conversation is sent whole, as a chat provider has no such feature to ask for.
            log.debug("context_management edit not applied", edit_type=edit.get("type"))
    out.pop("context_management", None)
    return out


def _clear_thinking(messages: list[Any], keep: Any) -> list[Any]:
    """Remove thinking blocks from all but the last N assistant turns (`keep: "all"` keeps
    every one, which is Claude Code's setting)."""
    if keep == "all":
        return messages
    turns = keep.get("value", 1) if isinstance(keep, dict) else 1
    assistant_positions = [
        i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "assistant"
    ]
    clear = set(assistant_positions[: max(len(assistant_positions) - int(turns), 0)])
    out: list[Any] = []
    for i, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if i in clear and isinstance(content, list):
            blocks = [
                b
                for b in content
                if not (isinstance(b, dict) and b.get("type") in ("thinking", "redacted_thinking"))
            ]
            message = {**message, "content": blocks or [{"type": "text", "text": ""}]}
        out.append(message)
    return out


def _as_blocks(system: Any) -> list[JSON]:
    if isinstance(system, str):
        return [{"type": "text", "text": system}] if system else []
    if isinstance(system, list):
        return [b for b in system if isinstance(b, dict)]
    return []


def _system_blocks(content: Any, where: str) -> list[JSON]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list) and all(
        isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        for b in content
    ):
        return list(content)
    raise BadRequestError(
        f"{where}.content: a system message holds a string or text blocks", param=where
    )


def _check_thinking(thinking: Any) -> None:
    if thinking is None:
        return
    if not isinstance(thinking, dict) or thinking.get("type") not in THINKING_TYPES:
        raise BadRequestError(
            "thinking.type: must be 'enabled', 'disabled' or 'adaptive'", param="thinking"
        )


def _check_output_config(output_config: Any) -> None:
    if output_config is None:
        return
    if not isinstance(output_config, dict):
        raise BadRequestError("output_config: must be an object", param="output_config")
    effort = output_config.get("effort")
    if effort is not None and effort not in EFFORTS:
        raise BadRequestError(
            f"output_config.effort: must be one of {', '.join(sorted(EFFORTS))}",
            param="output_config.effort",
        )
    fmt = output_config.get("format")
    if fmt is not None and not (
        isinstance(fmt, dict)
        and fmt.get("type") == "json_schema"
        and isinstance(fmt.get("schema"), dict)
    ):
        raise BadRequestError(
            "output_config.format: must be {'type': 'json_schema', 'schema': {...}}",
            param="output_config.format",
        )


def _check_context_management(context_management: Any) -> None:
    if context_management is None:
        return
    edits = context_management.get("edits") if isinstance(context_management, dict) else None
    if not isinstance(edits, list) or not all(
        isinstance(e, dict) and isinstance(e.get("type"), str) for e in edits
    ):
        raise BadRequestError(
            "context_management.edits: must be a list of objects with a 'type'",
            param="context_management",
        )
