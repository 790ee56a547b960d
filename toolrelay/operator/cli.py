"""The operator subcommands of `toolrelay`: argument parsing, and the one place where
errors become a single line and a non-zero exit status."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import anyio
import structlog
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from common.config import ConfigError
from toolrelay.operator import commands
from toolrelay.operator.client import Api, OperatorError, Target
from toolrelay.operator.output import Output

COMMANDS = frozenset({"status", "models", "keys", "spend", "chat", "tools", "backup", "restore"})


def add_commands(sub: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument("--url", help="gateway URL (default $TOOLRELAY_URL or $LITELLM_PROXY_URL)")
    common.add_argument("--middleware-url", help="middleware URL ($TOOLRELAY_MIDDLEWARE_URL)")
    common.add_argument(
        "--api-key", help="admin key ($TOOLRELAY_API_KEY or $LITELLM_PROXY_API_KEY)"
    )

    sub.add_parser("status", parents=[common], help="every service, MCP server and dependency")

    models = sub.add_parser("models", help="list or test models")
    models_sub = models.add_subparsers(dest="action", required=True)
    models_sub.add_parser("list", parents=[common], help="the configured models")
    test = models_sub.add_parser("test", parents=[common], help="a one-token call: latency, cost")
    test.add_argument("name")

    keys = sub.add_parser("keys", help="virtual keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create", parents=[common], help="generate a key")
    update = keys_sub.add_parser("update", parents=[common], help="change a key")
    update.add_argument("key")
    for parser in (create, update):
        parser.add_argument("--models", nargs="*", help="model names the key may use")
        parser.add_argument("--max-budget", type=float)
        parser.add_argument("--budget-duration", help="e.g. 30d")
        parser.add_argument("--alias", help="key_alias")
        parser.add_argument("--team", help="team_id")
        parser.add_argument("--user", help="user_id")
        parser.add_argument("--rpm", type=int, help="rpm_limit")
        parser.add_argument("--tpm", type=int, help="tpm_limit")
    create.add_argument("--duration", help="expiry, e.g. 7d")
    keys_sub.add_parser("list", parents=[common], help="all keys")
    info = keys_sub.add_parser("info", parents=[common], help="one key")
    info.add_argument("key")
    delete = keys_sub.add_parser("delete", parents=[common], help="delete keys")
    delete.add_argument("keys", nargs="+")
    block = keys_sub.add_parser("block", parents=[common], help="block (or --unblock) a key")
    block.add_argument("key")
    block.add_argument("--unblock", action="store_true")

    spend = sub.add_parser(
        "spend", parents=[common], help="spend summed by key/team/user/model/tag"
    )
    spend.add_argument("--by", choices=sorted(commands.SPEND_FIELDS), default="model")
    spend.add_argument("--since", default="7d", help="e.g. 7d, 2w (default 7d)")

    chat = sub.add_parser("chat", parents=[common], help="chat through the middleware, with tools")
    chat.add_argument("model")
    chat.add_argument("prompt")

    tools = sub.add_parser("tools", help="MCP tools through the middleware")
    tools_sub = tools.add_subparsers(dest="action", required=True)
    tools_sub.add_parser("list", parents=[common], help="every tool the key may use")
    call = tools_sub.add_parser("call", parents=[common], help="call one tool")
    call.add_argument("name")
    call.add_argument("--arg", action="append", default=[], help="k=v (JSON values allowed)")

    for name, verb in (
        ("backup", "write the gateway's tables to"),
        ("restore", "load into an empty database from"),
    ):
        parser = sub.add_parser(name, parents=[common], help=f"{verb} FILE (SQLite or PostgreSQL)")
        parser.add_argument("file")
        parser.add_argument(
            "--database-url",
            help="default: --config, $DATABASE_URL, or the SQLite file in $TOOLRELAY_HOME",
        )
        parser.add_argument("--config", help="take the database from this config file")


def run(
    args: argparse.Namespace, out: TextIO | None = None, environ: dict[str, str] | None = None
) -> int:
    """Run one operator command; every failure is one line on stderr and exit status 1."""
    stream = out or sys.stdout
    env = dict(os.environ if environ is None else environ)
    _quiet_logs()
    output = Output(stream, as_json=args.json)
    try:
        return _dispatch(args, output, env)
    except (OperatorError, ConfigError) as exc:
        print(f"toolrelay {args.command}: {exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace, out: Output, env: dict[str, str]) -> int:
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args, out, env)
    target = Target.from_environ(
        env, url=args.url, middleware=args.middleware_url, api_key=args.api_key
    )
    gateway = Api(target.gateway, target.headers())
    middleware = Api(target.middleware, target.headers())
    try:
        return _http_command(args, out, gateway, middleware)
    finally:
        gateway.close()
        middleware.close()


def _http_command(args: argparse.Namespace, out: Output, gateway: Api, middleware: Api) -> int:
    command, action = args.command, getattr(args, "action", None)
    if command == "status":
        return commands.status(gateway, middleware, out)
    if command == "models":
        if action == "list":
            return commands.models_list(gateway, out)
        return commands.models_test(gateway, out, args.name)
    if command == "keys":
        if action == "create":
            body = _key_fields(args)
            if args.duration:
                body["duration"] = args.duration
            return commands.keys_create(gateway, out, body)
        if action == "list":
            return commands.keys_list(gateway, out)
        if action == "info":
            return commands.keys_info(gateway, out, args.key)
        if action == "update":
            return commands.keys_update(gateway, out, args.key, _key_fields(args))
        if action == "delete":
            return commands.keys_delete(gateway, out, args.keys)
        return commands.keys_block(gateway, out, args.key, unblock=args.unblock)
    if command == "spend":
        return commands.spend(gateway, out, by=args.by, since=args.since)
    if command == "chat":
        return commands.chat(middleware, out, args.model, args.prompt)
    if action == "list":
        return commands.tools_list(middleware, out)
    return commands.tools_call(middleware, out, args.name, args.arg)


def _key_fields(args: argparse.Namespace) -> dict[str, Any]:
    names = {
        "models": "models",
        "max_budget": "max_budget",
        "budget_duration": "budget_duration",
        "alias": "key_alias",
        "team": "team_id",
        "user": "user_id",
        "rpm": "rpm_limit",
        "tpm": "tpm_limit",
    }
    return {
        wire: getattr(args, name) for name, wire in names.items() if getattr(args, name) is not None
    }


def _backup_or_restore(args: argparse.Namespace, out: Output, env: dict[str, str]) -> int:
    from gateway.store.database import database_url_for, default_data_dir
    from toolrelay.operator import backup

    url = database_url_for(_configured_database(args, env), default_data_dir(env))
    path = Path(args.file)
    with Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=out.console,
        disable=out.as_json,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=max(total, 1))
            bar.update(tasks[table], completed=done if total else 1)

        job = backup.backup if args.command == "backup" else backup.restore
        counts = anyio.run(job, url, path, progress)
    verb = "backed up" if args.command == "backup" else "restored"
    out.line(f"{verb} {sum(counts.values())} rows ({path})", {"file": str(path), "rows": counts})
    return 0


def _configured_database(args: argparse.Namespace, env: dict[str, str]) -> str | None:
    if args.database_url:
        return str(args.database_url)
    if args.config:
        from gateway.config import load_config

        return load_config(args.config, environ=env).file.general_settings.database_url
    return env.get("DATABASE_URL")


def _quiet_logs() -> None:
    # Service log lines (e.g. "database ready") must not mix into command output. The
    # stream is looked up when a logger is made, not now: whoever swaps sys.stderr later
    # (a test runner, a caller embedding the CLI) must not be left with a closed file.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
    )
