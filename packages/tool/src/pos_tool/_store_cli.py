"""``pos-workflow store ...``: migrate a store's schema, copy sessions between stores.

A store is named by URL (see :func:`pos_engine.open_store`): ``file:///path/to/project``
or a bare path for a project's file store, ``postgresql://user:password@host/db`` for
the PostgreSQL store. ``--store`` defaults to ``$POS_WORKFLOW_STORE``. No message
prints a password.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from pos_engine import (
    CopyReport,
    PosError,
    SessionStore,
    copy_sessions,
    open_store,
    redact_url,
)

__all__ = ["STORE_ENV", "add_store_commands", "fail", "run_store_command", "store_setting"]

STORE_ENV = "POS_WORKFLOW_STORE"
"""The environment variable that names the session store when ``--store`` is not given."""


def store_setting(value: str | None) -> str | None:
    """The store URL to use: ``--store``'s value, else ``$POS_WORKFLOW_STORE``, else None."""
    if value:
        return value
    return os.environ.get(STORE_ENV) or None


def fail(what: str, error: PosError) -> int:
    """Print a PosError as ``pos-workflow: <what>: <message>`` plus its fix; return 2."""
    print(f"pos-workflow: {what}: {error.message}\n  fix: {error.remediation}", file=sys.stderr)
    return 2


def add_store_commands(commands: Any) -> None:
    """Add ``store migrate`` and ``store copy`` to the ``pos-workflow`` subcommands."""
    store = commands.add_parser(
        "store",
        help="migrate a session store, or copy sessions between stores",
        description="Session store maintenance. A store is a URL: file:///path/to/project "
        "(or a bare path) or postgresql://user:password@host:5432/dbname.",
    )
    verbs = store.add_subparsers(dest="store_command", metavar="{migrate,copy}", required=True)
    migrate = verbs.add_parser(
        "migrate",
        help="create or upgrade the store's schema (idempotent)",
        description="Apply the schema migrations the store lacks; a no-op when it is current.",
    )
    migrate.add_argument("--store", help=f"the store URL (default: ${STORE_ENV})", metavar="URL")
    copy = verbs.add_parser(
        "copy",
        help="copy every session to another store, ids and versions intact",
        description="Copy every readable session of --from into --to. Re-running copies only "
        "what is new; a session the target holds with a different record is reported and "
        "left alone (unless --overwrite). Both sides get a checksum over the same sessions. "
        "Exit status: 0 when the target holds every source session exactly, 1 otherwise.",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="source store")
    copy.add_argument("--to", dest="target", required=True, metavar="URL", help="target store")
    copy.add_argument(
        "--overwrite",
        action="store_true",
        help="replace target sessions whose record differs from the source's",
    )
    copy.add_argument(
        "--batch-size", type=int, default=500, help="sessions per round (default: 500)"
    )


def _migrate(args: argparse.Namespace) -> int:
    url = store_setting(args.store)
    if url is None:
        print(
            f"pos-workflow store migrate: name the store with --store URL or ${STORE_ENV}",
            file=sys.stderr,
        )
        return 2
    try:
        store = open_store(url)
        try:
            result = store.migrate()
        finally:
            store.close()
    except PosError as exc:
        return fail("store migrate", exc)
    where = store.describe()
    if result.after is None:
        print(f"{where}: ready (this store has no versioned schema)")
    elif result.applied:
        print(f"{where}: schema version {result.before} -> {result.after}")
        for line in result.applied:
            print(f"  applied {line}")
    else:
        print(f"{where}: schema version {result.after} is current; nothing to do")
    return 0


def _print_copy(source: SessionStore, target: SessionStore, report: CopyReport) -> None:
    print(f"from {source.describe()}")
    print(f"  to {target.describe()}")
    print(
        f"source: {report.source_sessions} session(s), checksum {report.source_checksum}"
        + (f"; {len(report.unreadable)} unreadable, not copied" if report.unreadable else "")
    )
    print(
        f"copied {report.copied}, unchanged {report.unchanged}, replaced {report.replaced}, "
        f"conflicts {len(report.conflicts)}"
    )
    for conflict in report.conflicts:
        theirs = conflict.target_version if conflict.target_version is not None else "unreadable"
        print(
            f"  conflict {conflict.session_id}: source version {conflict.source_version}, "
            f"target version {theirs} (left as it is; --overwrite replaces it)"
        )
    for session_id in report.unreadable:
        print(f"  unreadable in the source: {session_id}")
    print(
        f"target: {report.target_sessions} of those session(s), checksum {report.target_checksum}"
    )
    print(
        "verified: the target holds every source session exactly"
        if report.verified
        else "NOT verified: the target differs from the source (see above)"
    )


def _progress(every_seconds: float = 5.0) -> Callable[[CopyReport], None]:
    """A progress callback that says how far a long copy got, on stderr, every few seconds."""
    last = [time.monotonic()]

    def show(report: CopyReport) -> None:
        now = time.monotonic()
        if now - last[0] >= every_seconds:
            last[0] = now
            print(
                f"... {report.source_sessions} session(s) read, {report.copied} copied",
                file=sys.stderr,
            )

    return show


def _copy(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        print(
            f"pos-workflow store copy: --batch-size must be 1 or more, got {args.batch_size}",
            file=sys.stderr,
        )
        return 2
    if redact_url(args.source) == redact_url(args.target):
        print("pos-workflow store copy: --from and --to name the same store", file=sys.stderr)
        return 2
    try:
        source = open_store(args.source, existing=True)
        try:
            source.check_ready()
            target = open_store(args.target)
            try:
                target.migrate()  # a new target gets its schema, as `store migrate` would
                report = copy_sessions(
                    source,
                    target,
                    overwrite=args.overwrite,
                    batch_size=args.batch_size,
                    progress=_progress(),
                )
                _print_copy(source, target, report)
            finally:
                target.close()
        finally:
            source.close()
    except PosError as exc:
        return fail("store copy", exc)
    return 0 if report.verified else 1


def run_store_command(args: argparse.Namespace) -> int:
    """Run ``pos-workflow store <verb>``; return the exit code."""
    if args.store_command == "migrate":
        return _migrate(args)
    return _copy(args)
