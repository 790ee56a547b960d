"""The `toolrelay` command: `up`, `gateway`, `middleware`, `mcp NAME` and `config check FILE`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from common.config import ConfigError, read_document
from gateway.config import load_config
from toolrelay.operator.cli import COMMANDS as OPERATOR_COMMANDS
from toolrelay.operator.cli import add_commands as add_operator_commands
from toolrelay.operator.cli import run as run_operator


def _gateway(args: argparse.Namespace) -> int:
    from gateway.server import serve

    config = load_config(args.config)
    serve(
        config,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        server=args.server,
    )
    return 0


def _middleware(args: argparse.Namespace) -> int:
    from middleware.server import serve

    config = read_document(args.config)
    serve(config, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _up(args: argparse.Namespace) -> int:
    from toolrelay.defaults import Ports
    from toolrelay.up import run_stack

    ports = Ports(
        gateway=args.gateway_port,
        middleware=args.middleware_port,
        mcp_base=args.mcp_port_base,
        s3=args.s3_port,
    )
    return run_stack(config_path=args.config, host=args.host, home=args.home, ports=ports)


def _config_check(args: argparse.Namespace) -> int:
    from toolrelay.config_check import run_check

    return run_check(args.file, sys.stdout, as_json_output=args.json)


def _logs(args: argparse.Namespace) -> int:
    from toolrelay.defaults import home_dir
    from toolrelay.service_logs import show

    try:
        return show(
            home_dir(args.home),
            level=args.level,
            services=args.service or None,
            follow=not args.no_follow,
            as_json=args.json,
        )
    except FileNotFoundError as exc:
        print(f"toolrelay logs: {exc}", file=sys.stderr)
        return 1


def _migrate(args: argparse.Namespace) -> int:
    from toolrelay.migrate import MigrationError, run_migrations

    try:
        database = run_migrations(load_config(args.config))
    except MigrationError as exc:
        print(f"toolrelay: migrate: {exc}", file=sys.stderr)
        return 1
    print(f"toolrelay: {database} is at the newest schema", flush=True)
    return 0


def _mcp(rest: Sequence[str]) -> int:
    from mcp_servers.cli import main as mcp_main  # type: ignore[import-untyped, unused-ignore]

    return int(mcp_main(list(rest)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="toolrelay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gateway = sub.add_parser("gateway", help="run the OpenAI-compatible gateway (port 4000)")
    gateway.add_argument("--config", help="LiteLLM-format config.yaml")
    gateway.add_argument("--host", default="127.0.0.1")
    gateway.add_argument("--port", type=int, default=4000)
    gateway.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes; more than one shares limits, router state and cache only "
        "through Redis (see the README)",
    )
    gateway.add_argument(
        "--server",
        choices=["uvicorn", "granian"],
        default=os.environ.get("TOOLRELAY_SERVER") or "uvicorn",
        help="the ASGI server (default $TOOLRELAY_SERVER or uvicorn; granian needs the "
        "granian package)",
    )
    gateway.add_argument("--log-level", default="info")
    gateway.set_defaults(handler=_gateway)

    middleware = sub.add_parser("middleware", help="run the tool-executing middleware (port 4001)")
    middleware.add_argument("--config", help="LiteLLM-format config.yaml")
    middleware.add_argument("--host", default="127.0.0.1")
    middleware.add_argument("--port", type=int, default=4001)
    middleware.add_argument("--log-level", default="info")
    middleware.set_defaults(handler=_middleware)

    up = sub.add_parser("up", help="run the whole stack with embedded defaults")
    up.add_argument("--config", help="use this config instead of the embedded defaults")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--home", help="data directory (default: $TOOLRELAY_HOME or ~/.toolrelay)")
    up.add_argument("--gateway-port", type=int, default=4000)
    up.add_argument("--middleware-port", type=int, default=4001)
    up.add_argument(
        "--mcp-port-base",
        type=int,
        default=8110,
        help="postgres, fetch, browser, storage from here up",
    )
    up.add_argument(
        "--s3-port",
        type=int,
        default=8333,
        help="the embedded SeaweedFS S3 port (when no S3_ENDPOINT is set)",
    )
    up.set_defaults(handler=_up)

    add_operator_commands(sub)

    logs = sub.add_parser("logs", help="follow the logs of the services `toolrelay up` started")
    logs.add_argument("--home", help="data directory (default: $TOOLRELAY_HOME or ~/.toolrelay)")
    logs.add_argument("--level", choices=["debug", "info", "warning", "error"], default="info")
    logs.add_argument("--service", action="append", help="only this service (repeatable)")
    logs.add_argument("--no-follow", action="store_true", help="print what is there and exit")
    logs.add_argument("--json", action="store_true", help="one JSON object per line")
    logs.set_defaults(handler=_logs)

    config = sub.add_parser("config", help="inspect a config file")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser(
        "check",
        help="what each service honours, ignores, does not know or finds wrong in FILE "
        "(exit 0 ok, 1 warnings, 2 errors)",
    )
    check.add_argument("file", help="LiteLLM-format config.yaml")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(handler=_config_check)

    migrate = sub.add_parser(
        "migrate", help="migrate the gateway's database to the newest schema and exit"
    )
    migrate.add_argument("--config", help="LiteLLM-format config.yaml (or set DATABASE_URL)")
    migrate.set_defaults(handler=_migrate)

    sub.add_parser(
        "mcp", help="run an MCP server: toolrelay mcp NAME|bridge ... (see toolrelay mcp --help)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["mcp"]:
        return _mcp(args_list[1:])
    args = build_parser().parse_args(args_list)
    if args.command in OPERATOR_COMMANDS:
        return run_operator(args)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"toolrelay: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
