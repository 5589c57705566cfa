"""Command line: ``pos-workflow serve`` (the MCP server) and ``pos-workflow demo`` (the main job).

``python -m pos_tool`` is ``pos-workflow``; without a command it serves. Logs go
to stderr only: on stdio, stdout is the protocol.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import anyio

from ._demo import DemoFailure, run_demo
from ._http import TOKEN_ENV, TOKEN_FILE_ENV, HttpLimits, StaticTokenVerifier, load_tokens
from ._server import build_server, check_exposure, serve_http
from ._stdio import serve_stdio
from .exceptions import RegistryError, ServerConfigError

__all__ = ["main"]

logger = logging.getLogger("pos_tool")

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pos-workflow",
        description="MCP server for phase-gated workflows (the pos_workflow tool).",
    )
    commands = parser.add_subparsers(dest="command", metavar="{serve,demo}")
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
    defaults = HttpLimits()
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
    return parser


def _http_settings(args: argparse.Namespace) -> tuple[StaticTokenVerifier | None, HttpLimits]:
    """Return the token verifier (None without tokens) and limits; refuse unsafe settings."""
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


def _serve(args: argparse.Namespace) -> int:
    _configure_logging(args.log_level)
    try:
        settings = _http_settings(args) if args.transport == "http" else None
        server = build_server(args.project_root, durable=args.durable)
    except (RegistryError, ServerConfigError) as exc:
        print(
            f"pos-workflow: cannot start: {exc.message}\n  fix: {exc.remediation}", file=sys.stderr
        )
        return 2
    logger.info("serving %s over %s", args.project_root.resolve().name, args.transport)
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
    return 0


def _demo(args: argparse.Namespace) -> int:
    _configure_logging(args.log_level)

    async def go(root: Path) -> None:
        await run_demo(root, args.workflow, print, log_level=args.log_level)

    try:
        if args.project_root is not None:
            args.project_root.mkdir(parents=True, exist_ok=True)
            anyio.run(go, args.project_root.resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="pos-workflow-demo-") as scratch:
                anyio.run(go, Path(scratch))
    except DemoFailure as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pos-workflow``; return the process exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or words[0] not in ("serve", "demo", "-h", "--help"):
        words.insert(0, "serve")  # serving is the default command
    args = _parser().parse_args(words)
    if args.command == "demo":
        return _demo(args)
    return _serve(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
