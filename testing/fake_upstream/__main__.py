"""`python -m testing.fake_upstream --host 127.0.0.1 --port N [--require-key KEY]
[--certfile CERT.pem --keyfile KEY.pem]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import structlog
import uvicorn

from .app import FakeUpstream
from .runner import ServerTls, uvicorn_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m testing.fake_upstream",
        description="A scripted fake LLM upstream (OpenAI wire format) for tests and benchmarks.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8999, help="port to listen on (default 8999)")
    parser.add_argument(
        "--require-key", metavar="KEY", help="answer 401 unless 'Authorization: Bearer KEY' is sent"
    )
    parser.add_argument(
        "--record-limit",
        type=int,
        default=10_000,
        metavar="N",
        help="keep the last N requests for GET /__fake__/requests (default 10000)",
    )
    parser.add_argument(
        "--log-level", default="warning", help="uvicorn log level (default warning)"
    )
    parser.add_argument(
        "--certfile", type=Path, help="serve HTTPS with this certificate chain (PEM)"
    )
    parser.add_argument("--keyfile", type=Path, help="the private key of --certfile (PEM)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.record_limit < 1:
        print("error: --record-limit must be at least 1", file=sys.stderr)
        return 2
    if (args.certfile is None) != (args.keyfile is None):
        print("error: --certfile and --keyfile go together", file=sys.stderr)
        return 2
    tls = ServerTls(args.certfile, args.keyfile) if args.certfile else None
    upstream = FakeUpstream(require_key=args.require_key, record_limit=args.record_limit)
    structlog.get_logger("fake_upstream").info(
        "fake upstream starting",
        url=f"{'https' if tls else 'http'}://{args.host}:{args.port}",
        require_key=args.require_key is not None,
        record_limit=args.record_limit,
    )
    config = uvicorn_config(upstream, args.host, args.port, args.log_level, tls=tls)
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
