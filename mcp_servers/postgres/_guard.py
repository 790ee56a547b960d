"""Static checks on SQL text before it reaches PostgreSQL.

These are one layer of several (see `_db.py`): the statement still runs as a single
prepared statement inside a READ ONLY transaction that is always rolled back. The checks
exist so that the obvious escapes are refused with a clear message, and so that
side-effecting functions that a read-only transaction does *not* stop (terminating
backends, reading server files, changing settings, advisory locks) never run at all.

The scanner understands comments, string literals (plain, E'', dollar-quoted) and quoted
identifiers, so a function name inside a string literal is not mistaken for a call, and a
call hidden behind a comment or a quoted identifier is still found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Statements a read-only query may start with.
READ_ONLY_KEYWORDS = frozenset({"select", "with", "values", "table", "show", "explain"})

# Never allowed, even with writes on: they change the session or the transaction the
# server manages, or run code/commands on the server host.
ALWAYS_DENIED_KEYWORDS = frozenset(
    {
        "begin",
        "start",
        "commit",
        "end",
        "rollback",
        "abort",
        "savepoint",
        "release",
        "prepare",
        "set",
        "reset",
        "discard",
        "do",
        "copy",
        "listen",
        "unlisten",
        "notify",
        "load",
        "lock",
        "call",
        "execute",
        "deallocate",
        "checkpoint",
        "vacuum",
        "cluster",
        "reindex",
    }
)

# Functions with side effects outside the transaction (or that run arbitrary SQL text).
# Matched on the unqualified name, so `pg_catalog.set_config` is caught too.
DENIED_FUNCTIONS = frozenset(
    {
        "set_config",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_switch_wal",
        "pg_create_restore_point",
        "pg_backup_start",
        "pg_backup_stop",
        "pg_start_backup",
        "pg_stop_backup",
        "pg_promote",
        "pg_wal_replay_pause",
        "pg_wal_replay_resume",
        "pg_log_backend_memory_contexts",
        "pg_logical_emit_message",
        "pg_notify",
        "pg_sleep",
        "pg_sleep_for",
        "pg_sleep_until",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_stat_file",
        "pg_import_system_collations",
        "query_to_xml",
        "query_to_xml_and_xmlschema",
        "query_to_xmlschema",
        "cursor_to_xml",
        "cursor_to_xmlschema",
        "lo_import",
        "lo_export",
        "lo_unlink",
        "lo_create",
        "lo_creat",
        "lo_open",
        "lo_put",
        "lo_from_bytea",
        "lo_truncate",
        "lowrite",
        "dblink",
    }
)
# Whole families: dblink_*, advisory locks, replication slots/origins, pg_ls_*, adminpack's
# pg_file_*, and statistics resets.
DENIED_FUNCTION_PREFIXES = (
    "dblink_",
    "pg_advisory_",
    "pg_try_advisory_",
    "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot",
    "pg_drop_replication_slot",
    "pg_replication_",
    "pg_copy_",
    "pg_ls_",
    "pg_file_",
    "pg_stat_reset",
    "pg_stat_statements_reset",
)


class SqlRejected(ValueError):
    """The SQL text is refused before it is sent; the message says why."""


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "quoted" (a "quoted identifier"), "punct"
    text: str


_SEMICOLON = Token("punct", ";")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_\x80-\uffff][A-Za-z0-9_$\x80-\uffff]*")


def tokenize(sql: str) -> list[Token]:
    """Words, quoted identifiers and punctuation; comments and string literals dropped."""
    tokens: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
        elif ch == "'":
            i = _skip_string(sql, i + 1, backslash_escapes=False)
        elif ch in "eE" and sql.startswith("'", i + 1):
            i = _skip_string(sql, i + 2, backslash_escapes=True)
        elif ch in "uU" and sql.startswith('&"', i + 1):
            raise SqlRejected('Unicode-escaped identifiers (U&"...") are not accepted')
        elif ch == '"':
            end = sql.find('"', i + 1)
            while end >= 0 and sql.startswith('""', end):
                end = sql.find('"', end + 2)
            if end < 0:
                raise SqlRejected("unterminated quoted identifier")
            tokens.append(Token("quoted", sql[i + 1 : end].replace('""', '"')))
            i = end + 1
        elif ch == "$" and (match := _DOLLAR_TAG.match(sql, i)):
            tag = match.group(0)
            end = sql.find(tag, match.end())
            if end < 0:
                raise SqlRejected("unterminated dollar-quoted string")
            i = end + len(tag)
        elif match := _WORD.match(sql, i):
            tokens.append(Token("word", match.group(0).lower()))
            i = match.end()
        else:
            tokens.append(Token("punct", ch))
            i += 1
    return tokens


def _skip_block_comment(sql: str, i: int) -> int:
    depth, i = 1, i + 2  # PostgreSQL block comments nest
    while depth and i < len(sql):
        if sql.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif sql.startswith("*/", i):
            depth, i = depth - 1, i + 2
        else:
            i += 1
    if depth:
        raise SqlRejected("unterminated block comment")
    return i


def _skip_string(sql: str, i: int, *, backslash_escapes: bool) -> int:
    n = len(sql)
    while i < n:
        ch = sql[i]
        if backslash_escapes and ch == "\\":
            i += 2
        elif ch == "'":
            if sql.startswith("''", i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    raise SqlRejected("unterminated string literal")


def leading_keyword(tokens: list[Token]) -> str:
    """The statement's first keyword (opening parentheses skipped); '' when there is none."""
    for token in tokens:
        if token.kind == "punct" and token.text == "(":
            continue
        if token.kind == "word":
            return token.text
        return token.text
    return ""


def denied_function(tokens: list[Token]) -> str | None:
    """The first denied function that the SQL names, if any."""
    for token in tokens:
        if token.kind not in ("word", "quoted"):
            continue
        name = token.text if token.kind == "word" else token.text.lower()
        if name in DENIED_FUNCTIONS or name.startswith(DENIED_FUNCTION_PREFIXES):
            return name
    return None


def check_sql(sql: str, *, allow_writes: bool) -> str:
    """Refuse SQL that must not run; return its leading keyword otherwise."""
    if not sql.strip():
        raise SqlRejected("the SQL is empty")
    tokens = tokenize(sql)
    while tokens and tokens[-1] == _SEMICOLON:
        tokens.pop()
    if _SEMICOLON in tokens:
        raise SqlRejected(
            "only one SQL statement per call is accepted (found ';' between statements)"
        )
    keyword = leading_keyword(tokens)
    if not keyword:
        raise SqlRejected("the SQL has no statement")
    if keyword in ALWAYS_DENIED_KEYWORDS or _is_alter_system(tokens):
        raise SqlRejected(
            f"{keyword.upper()} statements are not accepted: the server manages transactions and session settings"
        )
    if not allow_writes and keyword not in READ_ONLY_KEYWORDS:
        raise SqlRejected(
            f"{keyword.upper()} is not a read-only statement; this server is read-only "
            f"(accepted: {', '.join(sorted(k.upper() for k in READ_ONLY_KEYWORDS))})"
        )
    function = denied_function(tokens)
    if function is not None:
        raise SqlRejected(
            f"the function {function}() is not allowed: it has side effects on the server"
        )
    return keyword


def _is_alter_system(tokens: list[Token]) -> bool:
    words = [t.text for t in tokens[:2] if t.kind == "word"]
    return words == ["alter", "system"]
