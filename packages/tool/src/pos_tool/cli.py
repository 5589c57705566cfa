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
from ._server import build_server, serve_http
from .exceptions import RegistryError

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


def _serve(args: argparse.Namespace) -> int:
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
        server = build_server(args.project_root, durable=args.durable)
    except RegistryError as exc:
        print(
            f"pos-workflow: cannot start: {exc.message}\n  fix: {exc.remediation}", file=sys.stderr
        )
        return 2
    logger.info("serving %s over %s", args.project_root.resolve().name, args.transport)
    try:
        if args.transport == "http":
            serve_http(server, host=args.host, port=args.port, log_level=args.log_level)
        else:
            server.run("stdio")
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
