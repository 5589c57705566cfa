"""The ``session-store`` pre-check: the store the cutover works on can be used, and what it holds.

Registered when pos_cutover is imported. It opens the store the cutover was given
(``--store`` / ``$POS_WORKFLOW_STORE``, else the project's file store) the way the
cutover will, reads it page by page through the store API, and reports:

- FAIL when the store cannot be opened or is not ready (unreachable, its schema
  behind: ``pos-workflow store migrate`` fixes that), with the store's own reason;
- WARN for each record it cannot read: the cutover never writes or removes it, and
  the backup names it without its contents (the store API reads sessions, not bytes);
- PASS otherwise: where the sessions are and how many.

(On a store other than the project's file store, the ``clients`` check warns about
each client entry that launches pos-workflow itself: such a server uses the project's
file store unless the IDE starts it with ``$POS_WORKFLOW_STORE``.)
"""

from __future__ import annotations

from typing import Any

from pos_engine import PosError, SessionStore

from ._checks import CheckContext, CheckResult, CheckStatus, Finding, register_check
from ._store import STORE_ENV
from .exceptions import CutoverError

__all__ = ["check_session_store"]

_NAME = "session-store"
_SHOWN_IDS = 20


def _listed(store: SessionStore) -> tuple[int, list[str]]:
    """Count the readable sessions page by page; return that and the unreadable ids."""
    count, cursor = 0, None
    while True:
        page = store.list_page(limit=500, cursor=cursor)
        count += len(page.summaries)
        cursor = page.next_cursor
        if cursor is None:
            return count, store.corrupt_ids()


async def check_session_store(ctx: CheckContext) -> list[CheckResult]:
    """The session store can be used; list the records it cannot read."""
    details: dict[str, Any] = {"setting": ctx.store.identity}
    try:
        with ctx.store.existing(ctx.project) as store:
            if store is None:
                return [
                    CheckResult(
                        _NAME,
                        "PASS",
                        "the project's file store holds no sessions yet",
                        details=details,
                    )
                ]
            where = store.describe()
            count, unreadable = _listed(store)
    except CutoverError as exc:
        return [CheckResult(_NAME, "FAIL", exc.message, exc.remediation, details=details)]
    except PosError as exc:
        return [
            CheckResult(
                _NAME,
                "FAIL",
                f"the session store {ctx.store.shown()!r} cannot be listed: {exc.message}",
                exc.remediation,
                details=details,
            )
        ]
    details |= {"where": where, "sessions": count, "unreadable": unreadable}
    reason = f"{where}: {count} session(s)"
    findings: list[Finding] = []
    remedies: list[str] = []
    if unreadable:
        reason += f", {len(unreadable)} record(s) cannot be read"
        shown = unreadable[:_SHOWN_IDS]
        findings += [Finding(f"unreadable session record {sid}") for sid in shown]
        if len(unreadable) > len(shown):
            findings.append(Finding(f"... and {len(unreadable) - len(shown)} more"))
        remedies.append(
            "The cutover leaves unreadable records exactly as they are, and the backup names "
            "them without their contents: repair or delete them first if they matter "
            "(pos_workflow get_session says what is wrong with each)."
        )
    else:
        reason += ", every record readable"
    if ctx.store.url is not None:
        reason += f"; the servers the cutover starts use it too ({STORE_ENV})"
    status: CheckStatus = "WARN" if findings else "PASS"
    return [CheckResult(_NAME, status, reason, " ".join(remedies), findings, details)]


register_check(_NAME, check_session_store)
