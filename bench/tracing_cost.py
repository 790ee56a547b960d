"""What OpenTelemetry tracing costs: CPU time per request with tracing off and on.

Starts identical stacks on loopback (one fake upstream shared; a gateway and a middleware
each): `off` (tracing off), `on` and `on2` (both exporting every span over OTLP/HTTP to a
local receiver) and, with `--baseline-ref REF`, `base` (tracing on, the code as it was at
REF). Each round sends the same number of chat requests to every stack at the same time
(so that all of them see the same load from the rest of the machine), through the
middleware (one model call per chat: 4 spans across both services) and straight to the
gateway (2 spans), and reads the CPU time of each service's threads before and after: the
scheduler's own nanosecond clock (`/proc/<pid>/task/<tid>/schedstat`), or with `--clock
ticks` the utime+stime of each service's process tree, sampled at the 10 ms tick.

    uv run python bench/tracing_cost.py [--requests 500] [--rounds 6] [--baseline-ref main]
        [--ref COMMIT]  # measure a commit's code instead of the work tree
        [--split]       # where the cost is: recording, encoding, sending
        [--fresh-stacks]  # every stack started again, in a shuffled order, each round
        [--one-at-a-time] # each stack loaded alone (a quiet machine), not all together
        [--without PIECE]  # a stack without one piece of tracing: that piece's share
        [--stream]      # streamed chats (as Open WebUI sends them), not whole answers
        [--tools]       # the issue's chat: one execute_sql call on the postgres MCP server

For each round the ratio of CPU per request `on / off` is the overhead of tracing; the
report is the median of the per-round ratios with their spread (min .. max). `on2 / on`
(tracing on in both arms) is the noise floor: it should be about 0%, and an overhead
smaller than its spread is not resolved. `base / off` is the overhead of the baseline's
tracing, measured in the same rounds. On the middleware path each service's own share is
shown too (its middleware, its gateway: each against the same service with tracing off).

`--tools` measures the chat that tracing's acceptance traces: each stack gets its own postgres
MCP server (on the services' CPU, its CPU counted with theirs), the middleware offers its tools
to the model, and the fake upstream plays a script by turn: `execute_sql` (`SELECT 1`, on the
local PostgreSQL) first, then a short answer. One chat is then the middleware's request, two
model calls with their gateway requests and upstream attempts, and the tool call with the
server's own span: 9 spans across three services.

`--split` adds two stacks that do less, so the overhead splits into its parts (each as a
share of off's CPU; they add up to on/off): `record` (spans made, queued and handed to the
export thread, which drops them: recording), `encode` (the thread also writes the protobuf,
sends nothing: encoding) and `on` itself (the POST: sending). The encoder and the exporter's `send` are replaced in those
services' processes before they start (`-c` boot).

The export thread runs inside each service, so its CPU (encoding, HTTP) is counted. The
services run on CPU 0; this process (the load), the fake upstream and the receiver run on
CPU 1 where there is one, so the receiver's decoding does not land on the measured core.
The scheduler's clock is the default since 2026-12-05: utime+stime are charged a whole tick
at a time to whichever thread runs at the tick, and with them two identical tracing-off
stacks differed by 4-8% (`off2/off`, `--diagnose`), the first-started one costing more in
every run; with the scheduler's clock it was within +-3% in four runs and -4.1% in a fifth
(bench/README.md). A thread
that exits stops being counted, which the services' long-lived threads never do. What the
rounds cannot smooth is a difference between two sets of processes (memory layout, hash
seeds, the order they started in): that is what the on-vs-on noise floor and `off2/off`
show. With `--fresh-stacks` every stack is started again before each round, in a shuffled
order, so that difference is drawn anew each round and the median over rounds smooths it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.procstat import sample, scheduled_cpu_seconds
from testing.fake_upstream import command_args
from tests.middleware.stack import gateway_config
from tests.support.components import POSTGRES_DSN
from tests.support.processes import ServiceProcess, free_port, start_service

REPO = Path(__file__).resolve().parent.parent
MASTER_KEY = "sk-bench-tracing"
MODEL = "size-200"
# `--tools`: the model that calls execute_sql once, then answers (a by-turn script)
TOOL_MODEL = "bench-sql"
TOOL_SCRIPT = {
    "model": TOOL_MODEL,
    "by_turn": True,
    "replies": [
        {"tool_calls": [{"name": "execute_sql", "arguments": {"sql": "SELECT 1"}}]},
        {"text": "The query returned one row: 1."},
    ],
}
PACKAGES = ("common", "gateway", "middleware", "mcp_servers", "testing", "toolrelay")
SERVICE_CPU = 0
LOAD_CPU = 1


@dataclass
class Stack:
    name: str
    gateway: ServiceProcess
    middleware: ServiceProcess
    mcp: ServiceProcess | None = None  # with `--tools`: the postgres MCP server

    def cpu(self, scheduled: bool = False) -> tuple[float, float, float]:
        """CPU seconds so far of the gateway's, the middleware's and the MCP server's (0
        without one) process trees: from /proc's tick-sampled utime+stime, or (`scheduled`)
        the scheduler's exact clock."""
        processes = (self.gateway, self.middleware, self.mcp)
        pids = [p.process.pid if p is not None else None for p in processes]
        read = scheduled_cpu_seconds if scheduled else (lambda pid: sample(pid).cpu_seconds)
        gateway, middleware, mcp = (read(pid) if pid is not None else 0.0 for pid in pids)
        return gateway, middleware, mcp

    def stop(self) -> None:
        self.middleware.stop()
        if self.mcp is not None:
            self.mcp.stop()
        self.gateway.stop()


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def export_ref(ref: str, into: Path) -> Path:
    """The packages as they were at git `ref`, exported (no worktree, no branch)."""
    target = into / f"source-{ref.replace('/', '-')}"
    if target.exists():
        return target
    target.mkdir()
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", ref], cwd=REPO, capture_output=True, text=True,
        check=True,
    ).stdout.split()  # fmt: skip
    archive = subprocess.run(
        ["git", "archive", ref, *[p for p in PACKAGES if p in listed]],
        cwd=REPO, capture_output=True, check=True,
    )  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


# The split arms, patched in the service process before it starts: `record` replaces the
# export thread's encoding with a constant and drops every batch (spans are made, queued and
# handed to the thread, nothing more), `encode` encodes each batch and puts its request
# together as the real code does, but sends nothing.
EXPORT_PATCHES = {
    "record": (
        "from common.tracing.otlp import OtlpEncoder, OtlpHttpSpanExporter, SendOutcome\n"
        "_NOTHING = ((b'', b''), (b'', b''), b'')\n"
        "OtlpEncoder.encode_span = lambda self, span: _NOTHING\n"
        "OtlpHttpSpanExporter.send = lambda self, spans: SendOutcome(ok=True)\n"
    ),
    "encode": (
        "from common.tracing.otlp import OtlpHttpSpanExporter, SendOutcome, export_request\n"
        "def send(self, spans):\n"
        "    export_request(spans)\n"
        "    return SendOutcome(ok=True)\n"
        "OtlpHttpSpanExporter.send = send\n"
    ),
}


# `--without PIECE`: a stack with tracing on and one piece of it left out, patched in the
# same way. `on` minus that stack is the piece's share (its encoding and sending included).
PIECE_PATCHES = {
    "server-spans": (
        "import common.tracing.asgi as _asgi\n"
        "async def _untraced(self, scope, receive, send):\n"
        "    await self.app(scope, receive, send)\n"
        "_asgi.ServerSpanMiddleware.__call__ = _untraced\n"
    ),
    "attempt-span": (
        "import gateway.tracing.router as _router\n"
        "from common.tracing.provider import NO_SPAN as _NO_SPAN\n"
        "_router.AttemptTracing.span = lambda *args, **kwargs: _NO_SPAN\n"
    ),
    "model-call-span": (
        "import middleware.tracing as _middleware\n"
        "from common.tracing.provider import NO_SPAN as _NO_SPAN\n"
        "_middleware.ModelCallTracing.span = lambda *args, **kwargs: _NO_SPAN\n"
    ),
    "hook": "import gateway.tracing as _gateway\n_gateway.tracing_hooks = lambda: []\n",
    "traceparent": (
        "import common.tracing.propagation as _propagation\n"
        "_propagation.TraceHeaderWriter.__call__ = lambda self, headers: None\n"
    ),
    "log-ids": "import common.logs as _logs\n_logs.add_trace_ids = lambda _l, _m, e: e\n",
    # spans made, recorded and ended as usual, then let go instead of queued: against the
    # `record` split arm (queued, dropped by the export thread) it is what keeping finished
    # spans until their batch goes costs
    "queue": (
        "from common.tracing.export import BoundedSpanProcessor as _Processor\n"
        "_Processor.enqueue = lambda self, span: None\n"
    ),
}
PIECES = tuple(PIECE_PATCHES)
PATCHES = {**EXPORT_PATCHES, **PIECE_PATCHES}


def toolrelay_args(
    source: Path | None, *args: str, export: str | None = None, module: str = "toolrelay"
) -> list[str]:
    """`python -m toolrelay ...` (or another `module`); with `source`, its packages first on
    sys.path; with `export`, the service patched with `PATCHES[export]` (an export arm or a
    piece left out)."""
    if source is None and export is None:
        return ["-m", module, *args]
    boot = "import runpy, sys\n"
    if source is not None:
        boot += f"sys.path.insert(0, {str(source)!r})\n"
    if export is not None:
        boot += PATCHES[export]
    boot += f"sys.argv[0] = {module!r}\nrunpy.run_module({module!r}, run_name='__main__')\n"
    return ["-c", boot, *args]


def start_stack(
    name: str,
    upstream: str,
    logs: Path,
    env: dict[str, str],
    source: Path | None,
    export: str | None = None,
    tools: bool = False,
) -> Stack:
    # Each stack its own data directory: a shared SQLite file and spend journal would make
    # the stacks wait on each other, unevenly.
    env = {**env, "TOOLRELAY_HOME": str(logs / f"home-{name}")}
    gateway_file = _write(
        logs / f"{name}-gateway.yaml",
        {
            **gateway_config(upstream, [MODEL, TOOL_MODEL]),
            "general_settings": {"master_key": MASTER_KEY},
        },
    )

    def start(
        part: str,
        config: Path,
        command: str,
        module: str = "toolrelay",
        health_path: str = "/health/liveliness",
    ) -> ServiceProcess:
        """One service of the stack: `python -m <module> <command> --config ... --port ...`."""
        port = free_port()
        args = (command, "--config", str(config), "--port", str(port))
        return start_service(
            f"{name}-{part}", toolrelay_args(source, *args, export=export, module=module),
            port=port, log_dir=logs, env=env, timeout=60, health_path=health_path,
        )  # fmt: skip

    gateway = start("gateway", gateway_file, "gateway")
    mcp = None
    middleware_config: dict[str, Any] = {
        "general_settings": {"master_key": MASTER_KEY},
        "middleware_settings": {"gateway_url": gateway.url},
        "storage": {"local_dir": str(logs / f"{name}-artifacts")},
    }
    try:
        if tools:
            mcp_file = _write(
                logs / f"{name}-postgres.yaml",
                {"mcp_server_settings": {"postgres": {"dsn": POSTGRES_DSN}}},
            )
            mcp = start(
                "postgres-mcp", mcp_file, "postgres", module="mcp_servers.cli",
                health_path="/healthz",
            )  # fmt: skip
            middleware_config["mcp_servers"] = {"postgres": {"url": f"{mcp.url}/mcp"}}
        middleware_file = _write(logs / f"{name}-middleware.yaml", middleware_config)
        middleware = start("middleware", middleware_file, "middleware")
    except BaseException:
        for started in (mcp, gateway):
            if started is not None:
                started.stop()
        raise
    return Stack(name, gateway, middleware, mcp)


class CountingReceiver:
    """An OTLP/HTTP receiver that answers 200 and counts the spans it decodes."""

    def __init__(self) -> None:
        self.spans = 0
        self.lock = threading.Lock()

    def accept(self, body: bytes) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        request = ExportTraceServiceRequest.FromString(body)
        count = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
        with self.lock:
            self.spans += count


@contextmanager
def running_receiver() -> Iterator[tuple[str, CountingReceiver]]:
    receiver = CountingReceiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            receiver.accept(self.rfile.read(int(self.headers.get("content-length") or 0)))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", receiver
    finally:
        server.shutdown()
        server.server_close()


async def send(
    url: str, count: int, concurrency: int, stream: bool = False, model: str = MODEL
) -> None:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": "hello"}]}
    if stream:  # as Open WebUI asks: the answer as server-sent events, usage at the end
        body.update(stream=True, stream_options={"include_usage": True})
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    queue = iter(range(count))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            for _ in queue:
                response = await client.post(url, json=body, headers=headers)
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def measure(
    stacks: list[Stack],
    path: str,
    count: int,
    concurrency: int,
    scheduled: bool = False,
    one_at_a_time: random.Random | None = None,
    settle: float = 0.0,
    stream: bool = False,
    model: str = MODEL,
) -> list[tuple[float, float, float]]:
    """CPU microseconds per request of each stack's gateway, middleware and MCP server (0
    without one) over one round.
    By default the stacks take their requests at the same time, so each sees the same
    machine: on a shared machine the CPU a request costs rises and falls with the load
    around it, and stacks measured one after the other would differ by that alone. With
    `one_at_a_time` (a quiet machine) each stack takes its requests alone, in an order drawn
    from it: the services' core then runs one stack's processes, as a deployment's does,
    instead of switching between every stack's.

    `settle`: seconds of quiet before the first reading and after the last request. The
    services write their work's results in bursts a little later (the spend writer every
    2 s, the trace export by full batch or every 5 s): with quiet on both sides a round's
    readings hold its own requests' bursts, not a random share of them and of the round
    before."""
    via_middleware = path == "middleware"
    urls = [
        f"{stack.middleware.url if via_middleware else stack.gateway.url}/v1/chat/completions"
        for stack in stacks
    ]
    if one_at_a_time is None:
        time.sleep(settle)
        before = [stack.cpu(scheduled) for stack in stacks]

        async def all_stacks() -> None:
            await asyncio.gather(*(send(url, count, concurrency, stream, model) for url in urls))

        asyncio.run(all_stacks())
        time.sleep(settle)
        after = [stack.cpu(scheduled) for stack in stacks]
    else:
        before, after = [(0.0, 0.0, 0.0)] * len(stacks), [(0.0, 0.0, 0.0)] * len(stacks)
        order = list(range(len(stacks)))
        one_at_a_time.shuffle(order)
        for i in order:
            time.sleep(settle)
            before[i] = stacks[i].cpu(scheduled)
            asyncio.run(send(urls[i], count, concurrency, stream, model))
            time.sleep(settle)
            after[i] = stacks[i].cpu(scheduled)
    return [
        ((a[0] - b[0]) / count * 1e6, (a[1] - b[1]) / count * 1e6, (a[2] - b[2]) / count * 1e6)
        for a, b in zip(after, before, strict=True)
    ]


def _model_of(path: str, chat_model: str) -> str:
    """The model a path's chats ask for: `--tools`' scripted one through the middleware only
    (the gateway alone has no tools to offer it)."""
    return chat_model if path == "middleware" else MODEL


def pin(cpu: int, usable: set[int]) -> None:
    """Move this process, and what it starts from now on, to `cpu`, when the machine gives
    it more than one CPU and `cpu` is one of them. `usable` is read once, before any pin:
    read again after the first, it is that one CPU. (Until 2026-12-05 it was read again, so
    the services never left the load's CPU: every process of the bench shared CPU 1 while
    CPU 0 stood idle.)"""
    if len(usable) > 1 and cpu in usable:
        os.sched_setaffinity(0, {cpu})


def percent(ratios: list[float]) -> str:
    middle = statistics.median(ratios)
    return (
        f"{(middle - 1) * 100:+.1f}% "
        f"({(min(ratios) - 1) * 100:+.1f} .. {(max(ratios) - 1) * 100:+.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500, help="per stack, path and round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--baseline-ref", help="also measure tracing as it was at this ref")
    parser.add_argument("--ref", help="measure the code at this ref (default: the work tree)")
    parser.add_argument("--paths", default="middleware,gateway")
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="two more stacks: off2 (off again) and unsampled (on, OTEL_TRACES_SAMPLER="
        "always_off: the tracing code runs, no span is recorded or exported)",
    )
    parser.add_argument(
        "--clock",
        choices=("scheduled", "ticks"),
        default="scheduled",
        help="CPU time from each thread's schedstat (the scheduler's exact clock, default) or "
        "the tick-sampled utime+stime of /proc",
    )
    parser.add_argument(
        "--fresh-stacks",
        action="store_true",
        help="stop every stack and start it again, in a shuffled order, before each round "
        "(two identical stacks can differ by a few percent for as long as they run)",
    )
    parser.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="each stack takes its round's requests alone, in a shuffled order (for a quiet "
        "machine: the services' core runs one stack at a time, as in a deployment)",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=6.0,
        help="seconds of quiet before and after each round's requests, so that the "
        "services' delayed work (spend writes every 2 s, trace export within 5 s) falls in "
        "the round that caused it (0: the readings bracket the requests alone)",
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=PIECES,
        help="a stack with this piece of tracing left out (repeatable): its share is "
        "(on - no-PIECE) / off",
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="two more stacks that split the cost: record (spans made and queued, the export "
        "thread drops them) and encode (also encoded, not sent)",
    )
    parser.add_argument(
        "--on-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the on and on2 stacks only (e.g. an export setting "
        "against --baseline-ref HEAD without it)",
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="streamed chats (`stream: true` with usage, as Open WebUI sends them) instead of "
        "single JSON answers",
    )
    parser.add_argument(
        "--tools",
        action="store_true",
        help="chats with one tool call: a postgres MCP server in every stack, the model calls "
        "execute_sql once, then answers (the middleware path)",
    )
    args = parser.parse_args()
    paths = args.paths.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-tracing-") as tmp:
        logs = Path(tmp)
        base_source = export_ref(args.baseline_ref, logs) if args.baseline_ref else None
        source = export_ref(args.ref, logs) if args.ref else None
        usable = os.sched_getaffinity(0)
        pin(LOAD_CPU, usable)
        port = free_port()
        upstream = start_service(
            "fake-upstream", command_args(port, record_limit=1), port=port, log_dir=logs,
            health_path="/health",
        )  # fmt: skip
        chat_model = MODEL
        if args.tools:
            httpx.post(f"{upstream.url}/__fake__/script", json=TOOL_SCRIPT).raise_for_status()
            chat_model = TOOL_MODEL
        stacks: list[Stack] = []
        with running_receiver() as (receiver_url, receiver):
            try:
                on = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver_url}
                tried = {**on, **dict(item.split("=", 1) for item in args.on_env)}
                configs: list[tuple[str, dict[str, str], Path | None, str | None]] = [
                    ("off", {}, source, None), ("on", tried, source, None),
                    ("on2", tried, source, None),
                ]  # fmt: skip
                if base_source is not None:
                    configs.append(("base", on, base_source, None))
                for piece in args.without:
                    configs.append((f"no-{piece}", on, source, piece))
                if args.split:
                    configs.append(("record", on, source, "record"))
                    configs.append(("encode", on, source, "encode"))
                if args.diagnose:
                    configs.append(("off2", {}, source, None))
                    unsampled = {**on, "OTEL_TRACES_SAMPLER": "always_off"}
                    configs.append(("unsampled", unsampled, source, None))

                def start_all(order: list[int]) -> list[Stack]:
                    """Every stack, started in `order`; returned in the configs' order."""
                    pin(SERVICE_CPU, usable)  # the services inherit this CPU
                    started: dict[int, Stack] = {}
                    try:
                        for i in order:
                            name, env, code, export = configs[i]
                            started[i] = start_stack(
                                name, upstream.url, logs, env, code, export, args.tools
                            )
                    except BaseException:
                        for stack in started.values():
                            stack.stop()
                        raise
                    pin(LOAD_CPU, usable)
                    for path in paths:  # warm-up: connection pools, first-call imports
                        measure(
                            list(started.values()), path, 200, args.concurrency,
                            stream=args.stream, model=_model_of(path, chat_model),
                        )  # fmt: skip
                    return [started[i] for i in range(len(configs))]

                shuffler = random.Random(0)
                stacks = start_all(list(range(len(configs))))
                services_on = sorted(os.sched_getaffinity(stacks[0].gateway.process.pid))
                results: dict[tuple[str, str], list[float]] = {}
                for round_number in range(args.rounds):
                    if args.fresh_stacks and round_number:
                        for stack in stacks:
                            stack.stop()
                        order = list(range(len(configs)))
                        shuffler.shuffle(order)
                        stacks = start_all(order)
                    for path in paths:
                        costs = measure(
                            stacks, path, args.requests, args.concurrency,
                            args.clock == "scheduled",
                            random.Random(round_number) if args.one_at_a_time else None,
                            args.settle, args.stream, _model_of(path, chat_model),
                        )  # fmt: skip
                        for stack, (gateway, middleware, mcp) in zip(stacks, costs, strict=True):
                            # the gateway path counts the gateway alone (the others idle)
                            total = gateway + middleware + mcp if path == "middleware" else gateway
                            results.setdefault((stack.name, path), []).append(total)
                            if path == "middleware":  # each service's share, for the split
                                shares = {"mw:gateway": gateway, "mw:middleware": middleware}
                                if args.tools:
                                    shares["mw:mcp"] = mcp
                                for share, cost in shares.items():
                                    results.setdefault((stack.name, share), []).append(cost)
            finally:
                for stack in stacks:
                    stack.stop()
                upstream.stop()
            spans = receiver.spans
    print(
        f"requests per stack, path and round {args.requests}, rounds {args.rounds}, "
        f"concurrency {args.concurrency}, {'streamed' if args.stream else 'not streamed'}, "
        f"{'one execute_sql call per chat, ' if args.tools else ''}clock {args.clock}, settle {args.settle:g} s, stacks "
        f"{'one at a time' if args.one_at_a_time else 'together'} on CPU {services_on}, load "
        f"on CPU {sorted(os.sched_getaffinity(0))}; spans received: {spans}; "
        "load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    # (top, bottom, label): per round, (top - bottom) / off's CPU, so the split arms' parts
    # add up to the overhead; the noise floor is on2 against on.
    arms = [("on", "off", "overhead (on/off)"), ("on2", "on", "noise floor (on2/on)")]
    if base_source is not None:
        arms.append(("base", "off", f"{args.baseline_ref} overhead (base/off)"))
    for piece in args.without:
        arms.append(("on", f"no-{piece}", f"{piece} ((on-no-{piece})/off)"))
    if args.split:
        arms.append(("record", "off", "recording ((record-off)/off)"))
        arms.append(("encode", "record", "encoding ((encode-record)/off)"))
        arms.append(("on", "encode", "sending ((on-encode)/off)"))
    if args.diagnose:
        arms.append(("off2", "off", "off2/off"))
        arms.append(("unsampled", "off", "unsampled/off"))
    print("| path | off CPU us/req | on CPU us/req | " + " | ".join(a[2] for a in arms) + " |")
    print("|---" * (3 + len(arms)) + "|")
    labels = {
        "middleware": "middleware + gateway" + (" + postgres MCP" if args.tools else ""),
        "mw:middleware": "(its middleware)",
        "mw:gateway": "(its gateway)",
        "mw:mcp": "(its postgres MCP server)",
        "gateway": "gateway alone",
    }
    share_rows = ["mw:middleware", "mw:gateway", *(["mw:mcp"] if args.tools else [])]
    rows = [p for path in paths for p in ([path, *share_rows] if path == "middleware" else [path])]
    for path in rows:
        off = results[("off", path)]
        cells = [f"{statistics.median(off):.0f}", f"{statistics.median(results[('on', path)]):.0f}"]
        for top, bottom, _ in arms:
            base = off if bottom != "on" else results[("on", path)]
            ratios = [
                1 + (a - b) / c
                for a, b, c in zip(results[(top, path)], results[(bottom, path)], base, strict=True)
            ]
            cells.append(percent(ratios))
        print(f"| {labels[path]} | " + " | ".join(cells) + " |")
    print("median of per-round ratios (min .. max over rounds)")


if __name__ == "__main__":
    main()
