"""``pos-cutover``: move an MCP server from the old workflow tools to pos_workflow, prove it, undo it.

Commands::

    pos-cutover run      [--project P] [--plan F] [--json] [--skip-checks]  check, backup, apply, verify, report
    pos-cutover check    [--project P] [--plan F] [--json] [--verbose]      pre-checks only; changes nothing
    pos-cutover backup   [--project P] [--plan F] [--json]                  verified backup (+ canary session)
    pos-cutover apply    [--project P] [--backup ID] [--json]               atomic, journaled file replacement
    pos-cutover verify   [--project P] [--backup ID] [--json]               fresh server: tools, actions, clients
    pos-cutover report   [--project P] [--backup ID] [--json]               print (and rewrite) the report
    pos-cutover rollback [--project P] [--backup ID] [--json]               restore every file byte-identical
    pos-cutover demo     DEST                                               praxis-style demo project
    pos-cutover guide                                                       the old tool -> pos_workflow table

The step subcommands (check ... report, and rollback, the undo of apply) and run's
help and options come from the step table, ``pos_cutover._step_table.STEPS``.

run, check and apply take --spec-map OLD=NEW (repeatable): a legacy session of a
dynamic workflow (spec_execution_v1) that names the spec folder OLD is planned from
NEW (folders relative to the project).

Common options: --server-command CMD (how to start the server), --environment
and --tester (named in the report), --log-level, and (all but report) --store URL:
where the project's sessions live, as for ``pos-workflow serve`` (default:
$POS_WORKFLOW_STORE, else the project's file store). run, check and backup also
take the praxis-os options: --remove-praxis-server, --rewrite-instructions,
--client-command, --client-transport, --http-url; run takes --accept-unmigrated.

Exit codes:

    0  done, or nothing to do (already cut over)
    1  a pre-check, the backup or verification failed; nothing of the project was changed
    2  usage: bad arguments, an invalid plan, an unknown backup, a folder without .praxis-os/
    3  verification failed after apply; rolled back, every file byte-identical to the backup
    4  rollback failed, or a file matches neither backup nor target: a human must look
    5  another cutover (run, apply, rollback) is running on this project
    6  cut over and verified, but partial: legacy sessions were left behind (see the report);
       --accept-unmigrated accepts that

Progress goes to stdout (to stderr with ``--json``, which prints the result
object on stdout); logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from pos_engine import freeze_objects_at_exit
from rich.console import Console
from rich.markup import escape

# Only what the parser shows is imported here: --help, --version and guide must not pay for
# the MCP SDK (most of a cold start). The commands that start a server import the rest.
from ._changes import DEFAULT_HTTP_URL, ChangeOptions, default_client_command
from ._exit import ExitCode, package_version
from ._server import DEFAULT_SERVER_COMMAND, ServerLauncher
from ._step_table import STEPS, Step
from ._store import STORE_ENV, StoreSetting
from .exceptions import CutoverError, PlanError

if TYPE_CHECKING:
    from ._result import CutoverResult

__all__ = ["main"]

logger = logging.getLogger("pos_cutover")

_EPILOG = """\
exit codes:
  0  done, or nothing to do (already cut over)
  1  a pre-check, the backup or verification failed; nothing of the project was changed
  2  usage: bad arguments, an invalid plan, an unknown backup, a folder without .praxis-os/
  3  verification failed after apply; rolled back, every file byte-identical to the backup
  4  rollback failed, or a file matches neither backup nor target: a human must look
  5  another cutover (run, apply, rollback) is running on this project
  6  cut over and verified, but partial: legacy sessions were left behind (see the report);
     --accept-unmigrated accepts that
"""

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _with_undos(steps: Sequence[Step]) -> list[Step]:
    """The steps that are subcommands: ``steps`` in order, then each undo (once)."""
    undos = [s.undo for s in steps if s.undo is not None]
    return [*steps, *dict.fromkeys(u for u in undos if u not in steps)]


def _parser(steps: Sequence[Step] = STEPS) -> argparse.ArgumentParser:
    """The command line: ``run`` of ``steps``, a subcommand per step and undo, demo, guide.

    A subcommand's parsed arguments carry its :class:`~pos_cutover._step_table.Step`
    as ``step`` (None for ``run``): that is what ``main`` calls.
    """
    parser = argparse.ArgumentParser(
        prog="pos-cutover",
        description="Move an MCP server from the old workflow tools to pos_workflow, prove it worked, undo it.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pos-cutover {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str,
        text: str,
        *,
        plan: bool = False,
        backup: bool = False,
        specs: bool = False,
        store: bool = True,
    ) -> argparse.ArgumentParser:
        """A cutover subcommand; ``plan`` ones (run, check, backup) plan the project's changes."""
        sub = commands.add_parser(
            name,
            help=text,
            description=text,
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "--project", type=Path, default=Path.cwd(), help="project folder (default: cwd)"
        )
        sub.add_argument(
            "--json",
            action="store_true",
            help="print the result as JSON on stdout (progress on stderr)",
        )
        sub.add_argument("--log-level", type=str.upper, choices=_LEVELS, default="WARNING")
        sub.add_argument(
            "--server-command",
            default=shlex.join(DEFAULT_SERVER_COMMAND),
            help="how to start the MCP server; --project-root and --log-level are appended "
            "(default: %(default)s)",
        )
        sub.add_argument(
            "--environment", default="production", help="named in the report (default: production)"
        )
        sub.add_argument(
            "--tester", default=None, help="named in the report (default: the OS user)"
        )
        if store:
            sub.add_argument(
                "--store",
                metavar="URL",
                default=None,
                help="where the project's sessions live, as for `pos-workflow serve --store`: "
                "file:///path/to/project or postgresql://user:password@host/db; the servers "
                f"the cutover starts use it too (default: ${STORE_ENV}, else the project's "
                "file store)",
            )
        if plan:
            sub.add_argument(
                "--plan",
                type=Path,
                default=None,
                help="cutover plan JSON (default: the shipped plan)",
            )
        if plan:
            _change_options(sub)
        if backup:
            sub.add_argument(
                "--backup",
                default=None,
                metavar="ID",
                help="backup folder name (default: the newest)",
            )
        if specs:
            sub.add_argument(
                "--spec-map",
                action="append",
                default=[],
                type=_spec_pair,
                metavar="OLD=NEW",
                help="plan legacy sessions that name the spec folder OLD from NEW instead "
                "(project-relative; repeatable)",
            )
        return sub

    # run takes what its steps take, but --backup: it makes the backup itself.
    run = command(
        "run",
        " -> ".join(step.name for step in steps) + "; rolls back when verify fails",
        plan=any(step.plans_changes for step in steps),
        specs=any(step.maps_specs for step in steps),
        store=any(step.needs_store for step in steps),
    )
    run.set_defaults(step=None)
    run.add_argument(
        "--skip-checks",
        action="store_true",
        help="go ahead even when a pre-check fails (rehearse a rollback; never in production)",
    )
    run.add_argument(
        "--accept-unmigrated",
        action="store_true",
        help="exit 0 although legacy sessions could not be migrated (the report still says "
        "partial and names them; without it such a run exits 6)",
    )

    def verbose(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--verbose",
            action="store_true",
            help="list every old tool mention, not one line per file",
        )

    if any(step.lists_findings for step in steps):
        verbose(run)
    for step in _with_undos(steps):
        sub = command(
            step.name,
            step.help,
            plan=step.plans_changes,
            backup=step.needs_backup_id,
            specs=step.maps_specs,
            store=step.needs_store,
        )
        sub.set_defaults(step=step)
        if step.lists_findings:
            verbose(sub)
    demo = commands.add_parser("demo", help="materialise the legacy demo project into DEST")
    demo.add_argument("dest", type=Path, help="a new or empty folder")
    demo.add_argument(
        "--server-command",
        default=shlex.join(DEFAULT_SERVER_COMMAND),
        help="how to start the server",
    )
    demo.add_argument("--log-level", type=str.upper, choices=_LEVELS, default="WARNING")
    guide = commands.add_parser(
        "guide", help="print the migration table: old tool -> pos_workflow call"
    )
    guide.add_argument("--log-level", type=str.upper, choices=_LEVELS, default="WARNING")
    return parser


def _spec_pair(text: str) -> tuple[str, str]:
    """Parse one ``--spec-map OLD=NEW`` value."""
    old, sep, new = text.partition("=")
    if not sep or not old.strip() or not new.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not OLD=NEW: give the spec folder a legacy session names and the "
            "folder to use, e.g. .praxis-os/specs/2025-10-20-x=.praxis-os/specs/completed/2025-10-20-x"
        )
    return old.strip(), new.strip()


def _change_options(sub: argparse.ArgumentParser) -> None:
    """The options that shape what the cutover changes in a praxis-os project."""
    group = sub.add_argument_group("praxis-os projects")
    group.add_argument(
        "--remove-praxis-server",
        action="store_true",
        help="switch the clients away from the praxis server instead of keeping it for its rag "
        "and browser tools (agents lose those; the check names them)",
    )
    group.add_argument(
        "--rewrite-instructions",
        action="store_true",
        help="rewrite old tool calls in agent instructions as pos_workflow calls (backed up, "
        "undone by rollback)",
    )
    group.add_argument(
        "--client-command",
        default=None,
        metavar="CMD",
        help="the command client configs launch for pos-workflow (`serve --project-root ...` is "
        f"appended; default: this environment's, by absolute path: {shlex.join(default_client_command())})",
    )
    group.add_argument(
        "--client-transport",
        choices=("same", "stdio"),
        default="same",
        help="same: an entry that reached praxis over HTTP reaches pos-workflow over HTTP "
        "(someone must start that server); stdio: every new entry launches pos-workflow "
        "(default: same)",
    )
    group.add_argument(
        "--http-url",
        default=DEFAULT_HTTP_URL,
        help="the pos-workflow URL written into HTTP entries (default: %(default)s)",
    )


def _options(args: argparse.Namespace) -> ChangeOptions:
    spec_map = tuple(getattr(args, "spec_map", None) or ())
    if not hasattr(args, "remove_praxis_server"):
        return ChangeOptions(spec_map=spec_map)
    command = tuple(shlex.split(args.client_command)) if args.client_command else ()
    return ChangeOptions(
        remove_praxis_server=args.remove_praxis_server,
        rewrite_instructions=args.rewrite_instructions,
        client_command=command,
        client_transport=args.client_transport,
        http_url=args.http_url,
        spec_map=spec_map,
    )


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def _launcher(args: argparse.Namespace) -> ServerLauncher:
    return ServerLauncher(command=tuple(shlex.split(args.server_command)), log_level=args.log_level)


def _finish(args: argparse.Namespace, result: CutoverResult, console: Console) -> int:
    if result.outcome == "not_a_project" and not args.json:
        print(f"pos-cutover {args.command}: {result.message}", file=sys.stderr)
        return int(result.exit_code)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        if result.report is not None:
            print()
            print(result.report.markdown, end="")
            print()
        style = {ExitCode.OK: "green", ExitCode.PARTIAL: "yellow"}.get(result.exit_code, "red")
        console.print(
            f"[{style} bold]{result.outcome}[/] {escape(result.message)} (exit {int(result.exit_code)})"
        )
    return int(result.exit_code)


def _guide() -> int:
    from ._mapping import migration_table_markdown  # noqa: PLC0415 - see the imports

    print(migration_table_markdown(), end="")
    return 0


def _demo(args: argparse.Namespace) -> int:
    dest: Path = args.dest
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        print(f"pos-cutover demo: {str(dest)!r} exists and is not an empty folder", file=sys.stderr)
        return int(ExitCode.USAGE)
    from .demo import materialise  # noqa: PLC0415 - see the imports

    try:
        project = materialise(dest, _launcher(args))
    except CutoverError as exc:
        print(f"pos-cutover demo: {exc.message}\n  fix: {exc.remediation}", file=sys.stderr)
        return int(ExitCode.FAILED)
    print(f"demo project: {project.root}")
    for s in project.sessions:
        print(
            f"  {s['session_id']}  {s['workflow_type']}  {s['target_file']}  phases completed: {s['phases_completed']}"
        )
    for legacy in project.legacy_files:
        print(f"  legacy session file: {legacy}")
    return 0


def _crashed(project: Path, exc: Exception) -> int:
    """Say what an unexpected failure left behind; exit 4 when a cutover is left unfinished."""
    from ._journal import read_journal  # noqa: PLC0415 - see the imports

    try:
        pending = read_journal(project) is not None
    except CutoverError:
        pending = True
    if pending:
        where = (
            "an unfinished cutover is journaled; `pos-cutover run` recovers it (or use rollback)"
        )
    else:
        where = "nothing of the project was changed"
    print(f"pos-cutover: unexpected {type(exc).__name__}: {exc}; {where}", file=sys.stderr)
    return int(ExitCode.ROLLBACK_FAILED if pending else ExitCode.FAILED)


def _cutover_command(args: argparse.Namespace) -> int:
    from ._checks import load_builtins  # noqa: PLC0415 - see the imports
    from ._plan import load_plan  # noqa: PLC0415
    from ._printer import Printer  # noqa: PLC0415
    from ._run import Cutover  # noqa: PLC0415

    load_builtins()
    console = Console(stderr=args.json, highlight=False, soft_wrap=True)
    try:
        plan = load_plan(args.plan) if getattr(args, "plan", None) is not None else None
    except PlanError as exc:
        print(f"pos-cutover: {exc.message}\n  fix: {exc.remediation}", file=sys.stderr)
        return int(ExitCode.USAGE)
    project = args.project.resolve()
    if not project.is_dir():
        print(
            f"pos-cutover {args.command}: no folder {str(args.project)!r}; pass --project PATH "
            "(the folder that holds .praxis-os/)",
            file=sys.stderr,
        )
        return int(ExitCode.USAGE)
    cutover = Cutover(
        project,
        plan,
        launcher=_launcher(args),
        progress=Printer(console, args.command, verbose=getattr(args, "verbose", False)),
        environment=args.environment,
        tester=args.tester,
        options=_options(args),
        store=StoreSetting.resolve(getattr(args, "store", None)),
    )
    step: Step | None = args.step

    async def call() -> CutoverResult:
        if step is None:
            return await cutover.run(
                skip_checks=args.skip_checks, accept_unmigrated=args.accept_unmigrated
            )
        return await step.command(cutover, getattr(args, "backup", None))

    command = args.command
    try:
        result = anyio.run(call)
    except Exception as exc:  # the journal, not this process, is what makes a crash recoverable
        logger.exception("pos-cutover %s failed unexpectedly", command)
        return _crashed(project, exc)
    return _finish(args, result, console)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``pos-cutover``; return the process exit code (see the module docstring)."""
    freeze_objects_at_exit()
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on usage errors (2)
        return exc.code if isinstance(exc.code, int) else int(ExitCode.USAGE)
    _configure_logging(args.log_level)
    if args.command == "guide":
        return _guide()
    if args.command == "demo":
        return _demo(args)
    return _cutover_command(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
