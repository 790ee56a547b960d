"""LiteLLM's tolerances: shapes LiteLLM configs use that the schema does not, reshaped before
validation, each with a finding that names its path.

Measured with LiteLLM 1.106.2 (the benchmark's version): its Router refuses both fallback
forms below at start ("is not a dictionary", "must have exactly one key"), while its run-time
lookup (`get_fallback_model_group`) treats a plain name as a fallback for every group and
skips an entry whose first key is not a group. toolrelay starts with both, as the issue
asks, using the run-time meaning and saying so.

- `fallbacks` (and the context-window and content-policy lists) as a list of model names:
  LiteLLM tries them, in order, for every model group; here they become the `"*"` entry.
- a fallback entry LiteLLM would skip at run time (e.g. `{model_name: a, fallbacks: [b]}`,
  which is not its `{a: [b]}` shape) is dropped with a warning, as LiteLLM ignores it.
- `fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks` and
  `default_fallbacks` under `litellm_settings` apply when `router_settings` has none
  (LiteLLM's router reads them from the module settings; `router_settings` wins).
- `litellm_settings.database_url` is not read by LiteLLM (only `general_settings.database_url`
  and `DATABASE_URL` are), so it is reported as misplaced, never used silently.
- `DATABASE_HOST`/`DATABASE_USERNAME`/`DATABASE_PASSWORD`/`DATABASE_NAME` build the
  database URL when none is given, as LiteLLM does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from common.config import KeyPath, format_key_path
from common.config.report import Finding, Verdict, line_of

FALLBACK_KEYS = ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks")
CATCH_ALL = "*"


def apply_litellm_tolerances(
    raw: dict[str, Any], environ: Mapping[str, str], lines: Mapping[KeyPath, int]
) -> list[Finding]:
    """Reshape `raw` in place; findings for everything that was reshaped or dropped."""
    findings: list[Finding] = []

    def note(path: KeyPath, message: str, verdict: Verdict = Verdict.WRONG) -> None:
        findings.append(Finding(verdict, format_key_path(path), message, line=line_of(lines, path)))

    router = _section(raw, "router_settings")
    module = _section(raw, "litellm_settings")
    for key in FALLBACK_KEYS:
        from_module = module.pop(key, None)
        if key in router:
            router[key] = _fallback_entries(router[key], ("router_settings", key), note)
            if from_module is not None:
                note(("litellm_settings", key), f"router_settings.{key} wins; not used")
        elif from_module is not None:
            router[key] = _fallback_entries(from_module, ("litellm_settings", key), note)
            note(("litellm_settings", key), f"used as router_settings.{key}", Verdict.HONOURED)
    for section_name, section in (("router_settings", router), ("litellm_settings", module)):
        default = section.pop("default_fallbacks", None)
        if default is not None:
            _add_default(router, default, (section_name, "default_fallbacks"), note)
    _stringify_environment(raw)
    _misplaced_database_url(raw, module, note)
    _database_url_from_parts(raw, environ, note)
    return findings


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    """A copy of the section, put back in `raw`; a non-mapping is left for validation to name."""
    current = raw.get(name)
    if current is not None and not isinstance(current, dict):
        return {}
    section = dict(current or {})
    raw[name] = section
    return section


def _fallback_entries(value: Any, path: KeyPath, note: Any) -> list[dict[str, list[str]]]:
    if value is None:
        return []
    if not isinstance(value, list):
        note(
            path,
            f"expected a list of {{model: [fallbacks]}} entries, got {type(value).__name__}; ignored",
        )
        return []
    entries: list[dict[str, list[str]]] = []
    names: list[str] = []
    for index, item in enumerate(value):
        where = (*path, index)
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and len(item) == 1:
            ((group, targets),) = item.items()
            if isinstance(targets, str):
                targets = [targets]
            if isinstance(targets, list) and all(isinstance(t, str) for t in targets):
                entries.append({str(group): list(targets)})
            else:
                note(where, f"{group}: expected a list of model names; entry ignored")
        elif isinstance(item, dict):
            shown = ", ".join(map(str, item))
            hint = ""
            if "model_name" in item and "fallbacks" in item:
                hint = f"; write it as `- {item['model_name']}: {item['fallbacks']}`"
            note(
                where,
                f"entry with keys {{{shown}}} is not LiteLLM's `{{model: [fallbacks]}}` shape; "
                f"LiteLLM skips it at run time and so does toolrelay{hint}",
            )
        else:
            note(where, f"expected a {{model: [fallbacks]}} entry, got {item!r}; ignored")
    if names:
        # LiteLLM: a list of plain names is tried, in order, for every model group.
        entries.append({CATCH_ALL: names})
        note(path, f"model names {names} are fallbacks for every model group", Verdict.HONOURED)
    return entries


def _add_default(router: dict[str, Any], default: Any, path: KeyPath, note: Any) -> None:
    if not isinstance(default, list) or not all(isinstance(n, str) for n in default):
        note(path, "expected a list of model names; ignored")
        return
    entries = router.setdefault("fallbacks", [])
    if any(isinstance(e, dict) and CATCH_ALL in e for e in entries):
        note(path, "a `*` fallback entry is already configured; this list is not used")
        return
    entries.append({CATCH_ALL: list(default)})
    note(path, "fallbacks for model groups without their own entry", Verdict.HONOURED)


def _stringify_environment(raw: dict[str, Any]) -> None:
    # LiteLLM exports these with str(); `REDIS_PORT: 6379` is a number in YAML.
    declared = raw.get("environment_variables")
    if isinstance(declared, dict):
        raw["environment_variables"] = {
            str(k): v if isinstance(v, str) or v is None else str(v) for k, v in declared.items()
        }


def _misplaced_database_url(raw: dict[str, Any], module: dict[str, Any], note: Any) -> None:
    if "database_url" not in module:
        return
    del module["database_url"]  # reported here, so not again as an unknown key
    general = raw.get("general_settings")
    configured = isinstance(general, dict) and general.get("database_url")
    instead = (
        "general_settings.database_url is used"
        if configured
        else "keys, teams, budgets and spend go to the SQLite file in $TOOLRELAY_HOME "
        "(default ~/.toolrelay) instead"
    )
    note(
        ("litellm_settings", "database_url"),
        "LiteLLM does not read a database URL here (only general_settings.database_url or "
        f"DATABASE_URL), and neither does toolrelay: {instead}. "
        "Move it to general_settings.database_url.",
    )


def _database_url_from_parts(raw: dict[str, Any], environ: Mapping[str, str], note: Any) -> None:
    general = raw.get("general_settings")
    if isinstance(general, dict) and general.get("database_url"):
        return
    if environ.get("DATABASE_URL"):
        return
    parts = [
        environ.get(n)
        for n in ("DATABASE_HOST", "DATABASE_USERNAME", "DATABASE_PASSWORD", "DATABASE_NAME")
    ]
    host, user, password, name = parts
    if not (host and user and password and name):
        return
    port = environ.get("DATABASE_PORT")
    address = f"{host}:{port}" if port and ":" not in host else host
    url = f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{address}/{name}"
    section = _section(raw, "general_settings")
    section["database_url"] = url
    note(
        ("general_settings", "database_url"),
        f"built from DATABASE_HOST/USERNAME/PASSWORD/NAME ({host}/{name})",
        Verdict.HONOURED,
    )
