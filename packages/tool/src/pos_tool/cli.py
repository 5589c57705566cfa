"""Command line: ``pos-workflow serve`` (the MCP server), ``pos-workflow demo`` (the main job)
and ``pos-workflow store`` (migrate a session store, copy sessions between stores).

``stats`` prints a project's metrics and ``dashboard`` serves its dashboard page.
``approve``, ``reject`` and ``pending`` are a person's approval gates, and
``verify-session`` checks a session's audit trail.
``python -m pos_tool`` is ``pos-workflow``; without a command it serves. Logs go
to stderr only: on stdio, stdout is the protocol.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos_engine import (
    PosError,
    SessionStore,
    ValidationError,
    freeze_objects_at_exit,
    open_store,
)

# Only what the parser shows is imported here: --help and --version must not pay for the
# MCP SDK, Starlette and uvicorn (most of a cold start). Each command imports what it runs.
from ._defaults import DEFAULT_LIMITS, DEFAULT_RANGE, RANGES, TOKEN_ENV, TOKEN_FILE_ENV, HttpLimits
from ._faults import FAULTS_ENV, parse_faults
from ._review_cli import REVIEW_COMMANDS, add_review_commands, run_review_command
from ._store_cli import STORE_ENV, add_store_commands, fail, run_store_command, store_setting
from .exceptions import ServerConfigError

if TYPE_CHECKING:
    from ._http import StaticTokenVerifier

__all__ = ["main"]

logger = logging.getLogger("pos_tool")

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_COMMANDS = ("serve", "demo", "stats", "dashboard", "store", *REVIEW_COMMANDS)
_PERIOD = re.compile(r"^([1-9][0-9]{0,5})(m|h|d)$")
_PERIOD_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def _period(text: str) -> int:
    """``30m``, ``24h`` or ``7d`` in seconds (argparse type)."""
    match = _PERIOD.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a period like 30m, 24h or 7d (minutes, hours or days)"
        )
    return int(match[1]) * _PERIOD_SECONDS[match[2]]


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _version() -> str:
    """``pos-workflow X (pos-engine Y)``, from the installed metadata (nothing imported)."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    def of(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return f"pos-workflow {of('pos-tool')} (pos-engine {of('pos-engine')}, mcp {of('mcp')})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pos-workflow",
        description="MCP server for phase-gated workflows (the pos_workflow tool).",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", metavar="{" + ",".join(_COMMANDS) + "}")
    serve = commands.add_parser("serve", help="run the MCP server (default)")
    serve.add_argument(
        "--project-root", type=Path, default=Path.cwd(), help="project folder (default: cwd)"
    )
    serve.add_argument(
        "--transport", choices=("stdio", "http"), default="stdio", help="default: stdio"
    )
    serve.add_argument("--host", default="127.0.0.1", help="HTTP host (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="HTTP port (default: 8765)")
    serve.add_argument("--log-level", type=str.upper, choices=_LEVELS, default="INFO")
    http = serve.add_argument_group("HTTP transport")
    http.add_argument(
        "--auth-token-file",
        type=Path,
        help=f"file of bearer tokens, one per line ('<token>' or '<name> <token>'); "
        f"also ${TOKEN_FILE_ENV}, or one token in ${TOKEN_ENV}",
    )
    http.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="allow a non-loopback --host without a token (anyone who can reach it may call)",
    )
    defaults = DEFAULT_LIMITS
    http.add_argument(
        "--max-sessions",
        type=int,
        default=defaults.max_sessions,
        help=f"open MCP sessions in all (default: {defaults.max_sessions})",
    )
    http.add_argument(
        "--max-sessions-per-client",
        type=int,
        default=defaults.max_sessions_per_client,
        help="open MCP sessions per token or address; the oldest idle one is evicted "
        f"(default: {defaults.max_sessions_per_client})",
    )
    http.add_argument(
        "--session-idle-timeout",
        type=float,
        default=defaults.session_idle_timeout,
        help=f"seconds before an idle session ends (default: {defaults.session_idle_timeout:g})",
    )
    http.add_argument(
        "--header-timeout",
        type=float,
        default=defaults.header_timeout,
        help=f"seconds a client has to send a request's headers (default: "
        f"{defaults.header_timeout:g})",
    )
    serve.add_argument(
        "--no-fsync",
        dest="durable",
        action="store_false",
        help="skip fsync of session writes (scratch runs)",
    )
    serve.add_argument(
        "--store",
        metavar="URL",
        help="where sessions live: file:///path/to/project or postgresql://user:pass@host/db "
        f"(default: ${STORE_ENV}, else the project's file store)",
    )
    serve.add_argument(
        "--inject-faults",
        metavar="SPEC",
        default=os.environ.get(FAULTS_ENV),
        help=(
            "make calls slow, failing or the process heavy on purpose, to test alerts: "
            f"e.g. latency=1.5,errors=0.1,memory_mb=150 (default: ${FAULTS_ENV}; off)"
        ),
    )
    demo = commands.add_parser(
        "demo", help="drive a bundled workflow to completion through the MCP client"
    )
    demo.add_argument(
        "--project-root", type=Path, help="project folder (default: a scratch folder)"
    )
    demo.add_argument(
        "--workflow",
        default="test_generation_v3",
        help="workflow type (default: test_generation_v3)",
    )
    demo.add_argument("--log-level", type=str.upper, choices=_LEVELS, default="WARNING")
    _add_monitoring_commands(commands)
    add_store_commands(commands)
    add_review_commands(commands)
    return parser


def _add_monitoring_commands(commands: Any) -> None:
    stats = commands.add_parser(
        "stats", help="print the project's metrics: latency, errors, sessions"
    )
    stats.add_argument(
        "--project-root", type=Path, default=Path.cwd(), help="project folder (default: cwd)"
    )
    stats.add_argument(
        "--since",
        type=_period,
        default=86400,
        metavar="PERIOD",
        help="how far back: e.g. 30m, 24h, 7d (default: 24h)",
    )
    stats.add_argument("--json", action="store_true", help="print the summary as JSON")
    dashboard = commands.add_parser(
        "dashboard", help="serve the project's monitoring dashboard (or write it to a file)"
    )
    dashboard.add_argument(
        "--project-root", type=Path, default=Path.cwd(), help="project folder (default: cwd)"
    )
    dashboard.add_argument("--host", default="127.0.0.1", help="host (default: 127.0.0.1)")
    dashboard.add_argument("--port", type=int, default=8766, help="port (default: 8766)")
    dashboard.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write a self-contained snapshot page to FILE instead of serving",
    )
    dashboard.add_argument(
        "--range", choices=tuple(RANGES), default=DEFAULT_RANGE, help="range of --output"
    )
    dashboard.add_argument("--log-level", type=str.upper, choices=_LEVELS, default="WARNING")


def _stop_gracefully_on_sigterm() -> None:
    """Make SIGTERM stop the server as Ctrl-C does, so its last metrics are written."""

    def interrupt(_signum: int, _frame: object) -> None:
        signal.raise_signal(signal.SIGINT)

    if hasattr(signal, "SIGTERM"):  # pragma: no branch - every POSIX system has it
        signal.signal(signal.SIGTERM, interrupt)


def _http_settings(args: argparse.Namespace) -> tuple[StaticTokenVerifier | None, HttpLimits]:
    """Return the token verifier (None without tokens) and limits; refuse unsafe settings."""
    from ._http import StaticTokenVerifier, load_tokens  # noqa: PLC0415 - see the imports
    from ._server import check_exposure  # noqa: PLC0415

    tokens = load_tokens(args.auth_token_file)
    check_exposure(args.host, authenticated=bool(tokens), insecure_no_auth=args.insecure_no_auth)
    for name in ("max_sessions", "max_sessions_per_client"):
        if getattr(args, name) < 1:
            raise ServerConfigError(
                f"--{name.replace('_', '-')} must be at least 1",
                remediation="Pass a positive number.",
            )
    for name in ("session_idle_timeout", "header_timeout"):
        if not getattr(args, name) > 0:
            raise ServerConfigError(
                f"--{name.replace('_', '-')} must be a positive number of seconds",
                remediation="Pass a positive number.",
            )
    limits = HttpLimits(
        max_sessions=args.max_sessions,
        max_sessions_per_client=args.max_sessions_per_client,
        session_idle_timeout=args.session_idle_timeout,
        header_timeout=args.header_timeout,
    )
    return (StaticTokenVerifier(tokens) if tokens else None), limits


def _open_store(args: argparse.Namespace) -> SessionStore:
    """Open the store ``serve`` was told to use and check it can serve (schema current)."""
    store = open_store(
        store_setting(args.store), project_root=args.project_root, durable=args.durable
    )
    try:
        store.check_ready()
    except PosError:
        store.close()
        raise
    return store


def _serve(args: argparse.Namespace) -> int:
    import anyio  # noqa: PLC0415 - see the imports

    from ._monitor import monitor_of  # noqa: PLC0415
    from ._server import build_server, serve_http  # noqa: PLC0415
    from ._stdio import serve_stdio  # noqa: PLC0415

    _configure_logging(args.log_level)
    root: Path = args.project_root
    if not root.is_dir():
        # Creating it would hide a typo: the server would run on an empty project.
        what = "is not a folder" if root.exists() else "does not exist"
        print(
            f"pos-workflow: project root {str(root)!r} {what} (it is not created); "
            "pass --project-root with the project's folder",
            file=sys.stderr,
        )
        return 2
    try:
        faults = parse_faults(args.inject_faults)
        settings = _http_settings(args) if args.transport == "http" else None
        store = _open_store(args)
    except PosError as exc:
        return fail("cannot start", exc)
    try:
        server = build_server(args.project_root, durable=args.durable, store=store)
    except PosError as exc:
        store.close()
        return fail("cannot start", exc)
    monitor = monitor_of(server)
    if faults:
        if monitor is None:
            print(
                "pos-workflow: cannot start: fault injection needs metrics, which "
                ".praxis-os/config/monitoring.json turns off\n  fix: remove --inject-faults "
                f"and ${FAULTS_ENV}, or set enabled to true",
                file=sys.stderr,
            )
            store.close()
            return 2
        monitor.set_faults(faults)
    logger.info(
        "serving %s over %s; sessions: %s",
        args.project_root.resolve().name,
        args.transport,
        store.describe(),
    )
    _stop_gracefully_on_sigterm()
    try:
        if settings is not None:
            verifier, limits = settings
            serve_http(
                server,
                host=args.host,
                port=args.port,
                log_level=args.log_level,
                verifier=verifier,
                limits=limits,
            )
        else:
            anyio.run(serve_stdio, server)
    except KeyboardInterrupt:
        return 130
    finally:
        store.close()
    return 0


def _stats(args: argparse.Namespace) -> int:
    from ._stats import load_summary_safely, render_summary  # noqa: PLC0415 - see the imports

    _configure_logging("WARNING")
    root = args.project_root
    try:
        summary, problem = load_summary_safely(root, args.since)
    except ValidationError as exc:
        return fail("cannot read the metrics", exc)
    if problem is not None:
        print(f"pos-workflow: {problem}", file=sys.stderr)
        return 1
    if summary is None:
        message = (
            "no metrics recorded yet: .praxis-os/metrics/metrics.db does not exist "
            "(a server writes it once it runs on this project)"
        )
        if args.json:
            print(
                json.dumps({"project": root.resolve().name, "available": False, "message": message})
            )
        else:
            print(f"pos-workflow stats: {message}")
        return 0
    if args.json:
        print(json.dumps({"available": True, **summary}, indent=2))
    else:
        print(render_summary(summary, args.since), end="")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    # --output writes the page without a web server, so without importing one.
    from ._dashboard_page import dashboard_data, render_dashboard  # noqa: PLC0415 - see the imports

    _configure_logging(args.log_level)
    root = args.project_root.resolve()
    try:
        if args.output is not None:
            data = dashboard_data(root, range_name=args.range, live=False)
            args.output.write_text(render_dashboard(data), encoding="utf-8")
            print(f"pos-workflow dashboard: wrote {args.output}")
            return 0
        dashboard_data(root)  # fail now on an unusable monitoring file, not on the first request
    except ValidationError as exc:
        return fail("cannot show the dashboard", exc)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"pos-workflow dashboard of {root.name}: http://{host}:{args.port}/dashboard "
        "(Ctrl-C to stop)",
        file=sys.stderr,
    )
    from ._server import serve_dashboard  # noqa: PLC0415 - see the imports

    try:
        serve_dashboard(root, host=args.host, port=args.port, log_level=args.log_level)
    except KeyboardInterrupt:
        return 130
    return 0


def _demo(args: argparse.Namespace) -> int:
    import anyio  # noqa: PLC0415 - see the imports

    from ._demo import DemoFailure, run_demo  # noqa: PLC0415

    _configure_logging(args.log_level)

    async def go(root: Path, scratch: bool) -> None:
        await run_demo(root, args.workflow, print, log_level=args.log_level, scratch=scratch)

    try:
        if args.project_root is not None:
            args.project_root.mkdir(parents=True, exist_ok=True)
            anyio.run(go, args.project_root.resolve(), False)
        else:
            with tempfile.TemporaryDirectory(prefix="pos-workflow-demo-") as scratch:
                anyio.run(go, Path(scratch), True)
    except DemoFailure as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pos-workflow``; return the process exit code."""
    freeze_objects_at_exit()
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or words[0] not in (*_COMMANDS, "-h", "--help", "--version"):
        words.insert(0, "serve")  # serving is the default command
    args = _parser().parse_args(words)
    if args.command == "demo":
        return _demo(args)
    if args.command == "stats":
        return _stats(args)
    if args.command == "dashboard":
        return _dashboard(args)
    if args.command == "store":
        return run_store_command(args)
    if args.command in REVIEW_COMMANDS:
        _configure_logging("WARNING")
        return run_review_command(args)
    return _serve(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
