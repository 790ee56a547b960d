"""`toolrelay mcp NAME ...`: start one MCP server over HTTP.

    toolrelay mcp NAME [--host 127.0.0.1] [--port N] [--config FILE] [--auth-token T]
    toolrelay mcp bridge [--host H] [--port N] [--shared] [--config FILE] -- COMMAND ARGS...

The server's settings are `mcp_server_settings.NAME` of the config file, overridden by the
flags (`host`, `port`, `auth_token`, and for the bridge `command`, `shared`). The token may
also come from the environment variable MCP_AUTH_TOKEN. Bad input exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from mcp_servers import registry
from mcp_servers._config import ConfigError, load_server_settings
from mcp_servers._http import serve
from mcp_servers._logs import configure_logging
from mcp_servers._tracing import install_tracing

EXIT_USAGE = 2
AUTH_TOKEN_ENV = "MCP_AUTH_TOKEN"
BRIDGE = "bridge"


class UsageError(Exception):
    """The command line cannot be served; the message says why."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toolrelay mcp",
        description="Start one MCP server (streamable HTTP at /mcp, SSE at /sse, /healthz).",
    )
    parser.add_argument("name", help=f"server name: {', '.join(sorted(registry.SERVERS))}")
    parser.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default: the server's own)")
    parser.add_argument("--config", default=None, help="toolrelay/LiteLLM config YAML")
    parser.add_argument(
        "--auth-token", default=None, help=f"require this bearer token (or set {AUTH_TOKEN_ENV})"
    )
    parser.add_argument(
        "--shared",
        action="store_true",
        help="bridge only: one child process shared by all sessions",
    )
    return parser


def _split_command(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, []


def _settings(args: argparse.Namespace, command: list[str]) -> dict[str, Any]:
    settings = load_server_settings(args.name, args.config)
    if args.config:
        # Servers that fall back to other sections of the file (storage -> `storage:`) need it.
        settings.setdefault("config_path", args.config)
    token = args.auth_token or os.environ.get(AUTH_TOKEN_ENV) or settings.get("auth_token")
    if token:
        settings["auth_token"] = token
    if args.name == BRIDGE:
        if command:
            settings["command"] = command
        if not settings.get("command"):
            raise UsageError("bridge needs a command: toolrelay mcp bridge -- COMMAND ARGS...")
        if args.shared:
            settings["shared"] = True
    elif command:
        raise UsageError(f"{args.name} takes no command after `--` (only bridge does)")
    elif args.shared:
        raise UsageError("--shared applies to the bridge only")
    return settings


def main(argv: list[str]) -> int:
    if argv[:1] == ["mcp"]:
        argv = argv[1:]
    own, command = _split_command(argv)
    parser = _parser()
    try:
        args = parser.parse_args(own)
    except SystemExit as exc:  # argparse already printed the usage message
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    try:
        module = registry.load(args.name)
        settings = _settings(args, command)
        host = args.host or str(settings.get("host") or "127.0.0.1")
        port = args.port or int(settings.get("port") or module.DEFAULT_PORT)
        if not 0 < port < 65536:
            raise UsageError(f"--port must be between 1 and 65535, got {port}")
        settings["host"], settings["port"] = host, port
        configure_logging()
        install_tracing(args.name, args.config)
        app = module.build_app(settings)
    except (registry.UnknownServerError, UsageError, ConfigError, ValueError) as exc:
        print(f"toolrelay mcp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    serve(app, host, port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
