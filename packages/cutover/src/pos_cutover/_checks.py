"""Pre-checks: gather every PASS/WARN/FAIL with its reason and remediation, never stop early.

The built-in checks:

- ``journal``: no interrupted cutover is waiting for recovery;
- ``registry`` / ``target-registry``: both registries match the registry schema;
- ``server-current`` / ``server-target``: the real server starts with each
  registry (in a scratch copy of the project) and lists the planned tools;
- ``actions``: pos_workflow answers all 14 actions (in the scratch copy, on a
  session of its own: nothing of the project is touched);
- ``backup-space``: the backup folder is writable and has room;
- ``lock``: no other cutover is running.

More checks plug in with :func:`register_check`; importing pos_cutover registers
``session-store`` (the store is reachable and ready, every record readable; see
``pos_cutover._store_check``), ``legacy-definitions`` (what legacy workflow definitions declare that is not
enforced, and dynamic workflows) and ``legacy-sessions`` (each legacy session
file and what its migration maps), see ``pos_cutover._legacy``; then
``praxis-server``, ``clients``, ``agent-instructions`` and ``surface``, see
``pos_cutover._praxis_checks``. A check that raises becomes a FAIL, the others
still run.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
from jsonschema import Draft202012Validator
from pos_engine import PosError
from pos_tool import DEFAULT_GROUPS, REGISTRY_FILE, registry_schema

from ._backup import BACKUPS_DIR, backup_size_estimate
from ._changes import ChangeOptions
from ._journal import JOURNAL_FILE, read_journal
from ._lock import LOCK_FILE, lock_holder
from ._plan import CutoverPlan
from ._probe import smoke_actions
from ._probe_work import ProbeWork, store_approver
from ._server import LiveServer, ServerLauncher, connect, sole_exception
from ._store import StoreSetting
from .exceptions import CutoverError, ServerStartError, StoreError

__all__ = [
    "CheckContext",
    "CheckFn",
    "CheckReport",
    "CheckResult",
    "CheckStatus",
    "Finding",
    "register_check",
    "registered_checks",
    "run_checks",
    "unregister_check",
]

CheckStatus = Literal["PASS", "WARN", "FAIL"]
"""PASS: fine. WARN: the cutover may go ahead but someone should look. FAIL: it must not."""

logger = logging.getLogger(__name__)

_CUTOVER_OWN = frozenset({"backups", "cutover.lock", "cutover-journal.json"})
_SESSION_DATA = frozenset({"state", ".cache", "metrics"})
"""What ``.praxis-os`` holds of sessions: the store, legacy sessions, recorded metrics."""


def _scratch_ignore(top: Path, left_out: frozenset[str]) -> Callable[[str, list[str]], set[str]]:
    """Leave out temp files, lock sidecars and the names ``left_out`` at the top."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n.endswith(".tmp") or n == ".locks"}
        if Path(folder) == top:
            skipped |= left_out.intersection(names)
        return skipped

    return ignore


@dataclass(frozen=True)
class Finding:
    """One item a check found.

    Attributes:
        message: What was found.
        location: Where (``file:line``), when it has a place.
        replacement: What to write instead, when there is one.
    """

    message: str
    location: str | None = None
    replacement: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as a JSON-able dict."""
        return asdict(self)


@dataclass
class CheckResult:
    """The outcome of one check.

    Attributes:
        name: The check's name.
        status: PASS, WARN or FAIL.
        reason: One sentence: what was found.
        remediation: What to do about it (empty on PASS).
        findings: Individual items, e.g. every old tool mention.
        details: Figures for the JSON output (tool names, counts, ...).
    """

    name: str
    status: CheckStatus
    reason: str
    remediation: str = ""
    findings: list[Finding] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-able dict."""
        return {
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
            "remediation": self.remediation,
            "findings": [f.to_dict() for f in self.findings],
            "details": self.details,
        }


@dataclass
class CheckReport:
    """Every check result of one pre-check run."""

    results: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether no check failed (warnings allowed)."""
        return not self.failed

    @property
    def failed(self) -> list[CheckResult]:
        """The failed checks."""
        return [r for r in self.results if r.status == "FAIL"]

    def counts(self) -> dict[str, int]:
        """How many checks passed, warned and failed."""
        return {s: sum(1 for r in self.results if r.status == s) for s in ("PASS", "WARN", "FAIL")}

    def get(self, name: str) -> CheckResult:
        """Return the result named ``name``.

        Raises:
            KeyError: No such check ran.
        """
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-able dict."""
        return {
            "ok": self.ok,
            "counts": self.counts(),
            "results": [r.to_dict() for r in self.results],
        }


@dataclass
class CheckContext:
    """What a check may look at.

    Attributes:
        project: The project root (read it; never change it).
        plan: The cutover plan.
        launcher: How to start the server (on a scratch copy: servers the checks start
            never use the project's session store).
        lock_held: Whether the caller holds the cutover lock itself.
        run_id: Identifies this run (probe sessions carry it).
        spec_map: Spec folders of legacy dynamic sessions to replace (``--spec-map``):
            the folder a session named -> the folder to use, relative to the project.
        options: How the praxis server, its clients and the instructions are treated.
        store: The session store the cutover works on (read it; never change it).
        cache: What checks compute once and share (the project's survey).
    """

    project: Path
    plan: CutoverPlan
    launcher: ServerLauncher
    lock_held: bool = False
    run_id: str = "check"
    spec_map: dict[str, str] = field(default_factory=dict)
    options: ChangeOptions = field(default_factory=ChangeOptions)
    store: StoreSetting = field(default_factory=StoreSetting)
    cache: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[CheckContext], Awaitable[list[CheckResult]]]
"""A check: looks at the context and returns one or more results."""

_EXTRA_CHECKS: dict[str, CheckFn] = {}


def register_check(name: str, check: CheckFn) -> None:
    """Add a check to every pre-check run (replacing one of the same name)."""
    _EXTRA_CHECKS[name] = check


def unregister_check(name: str) -> bool:
    """Remove a registered check; return whether it was registered."""
    return _EXTRA_CHECKS.pop(name, None) is not None


def registered_checks() -> dict[str, CheckFn]:
    """Return the registered extra checks by name."""
    load_builtins()
    return dict(_EXTRA_CHECKS)


def load_builtins() -> None:
    """Register the package's built-in checks and migration steps (once; then a no-op).

    Importing the package no longer imports its parts (see ``pos_cutover/__init__.py``),
    so a caller that imported only a submodule gets the built-ins here, in their usual order.
    """
    importlib.import_module("._api", __package__)


# ------------------------------------------------------------------ checks


async def check_journal(ctx: CheckContext) -> list[CheckResult]:
    """No interrupted cutover waits for recovery."""
    try:
        journal = read_journal(ctx.project)
    except CutoverError as exc:
        return [CheckResult("journal", "FAIL", exc.message, exc.remediation)]
    if journal is None:
        return [CheckResult("journal", "PASS", "no interrupted cutover")]
    return [
        CheckResult(
            "journal",
            "FAIL",
            f"an interrupted cutover from backup {journal.backup_id} ({journal.state}) is recorded in {JOURNAL_FILE}",
            "Run `pos-cutover run` (it recovers first) or `pos-cutover rollback`.",
            details=journal.to_dict(),
        )
    ]


def registry_groups(root: Path) -> tuple[tuple[str, ...] | None, str]:
    """Read the registry under ``root`` and check it against the registry schema.

    Group names are not checked here: the server decides which groups it knows
    (the ``server-*`` checks start it with each registry).

    Returns:
        ``(groups, description)``; groups is None when the file is unusable, and
        the description then says why.
    """
    path = root / REGISTRY_FILE
    if not path.exists():
        return DEFAULT_GROUPS, f"no registry file (default groups {list(DEFAULT_GROUPS)})"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{REGISTRY_FILE} is not readable JSON ({type(exc).__name__})"
    errors = sorted(
        Draft202012Validator(registry_schema()).iter_errors(data),
        key=lambda e: list(map(str, e.path)),
    )
    if errors:
        shown = "; ".join(
            f"{'/'.join(map(str, e.path)) or '(top level)'}: {e.message[:120]}" for e in errors[:3]
        )
        return None, f"{REGISTRY_FILE} does not match specs/tool-registry.schema.json: {shown}"
    groups = tuple(data["groups"])
    return groups, f"{REGISTRY_FILE}: groups {list(groups)}"


async def check_registry(ctx: CheckContext) -> list[CheckResult]:
    """The current registry and the plan's target registry match the registry schema."""
    groups, reason = registry_groups(ctx.project)
    if groups is None:
        current = CheckResult(
            "registry", "FAIL", reason, "Fix the file (or restore it from a backup)."
        )
    else:
        current = CheckResult("registry", "PASS", reason, details={"groups": list(groups)})
        missing = [g for g in ctx.plan.remove_groups if g not in groups]
        if not (ctx.project / REGISTRY_FILE).exists():
            current.reason += (
                "; without the file pos-workflow serves the target groups, and the old surface "
                "is whatever else the clients launch (see praxis-server and clients)"
            )
        elif missing:
            current.status = "WARN"
            current.reason += f"; the plan removes {missing}, which the registry does not name"
            current.remediation = "Check that --project and --plan belong together."
    errors = list(Draft202012Validator(registry_schema()).iter_errors(ctx.plan.target_registry))
    if errors:
        target = CheckResult(
            "target-registry",
            "FAIL",
            f"the plan's target registry does not match the registry schema: {errors[0].message[:200]}",
            "Fix target_registry in the plan.",
        )
    else:
        target = CheckResult(
            "target-registry",
            "PASS",
            f"the plan's target registry is well-formed: groups {list(ctx.plan.target_groups)}",
        )
    return [current, target]


@contextlib.contextmanager
def scratch_copy(project: Path, *, sessions: bool = True) -> Iterator[Path]:
    """Yield a scratch copy of the project's ``.praxis-os`` and ``universal/workflows``.

    Backups, the lock, the journal and temp files are left out, and without ``sessions``
    also the session store, legacy sessions and metrics (a server that only lists its tools
    needs none of them, and they are most of a big project). The copy is removed afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="pos-cutover-scratch-") as scratch:
        root = Path(scratch) / project.resolve().name
        root.mkdir()
        own = _CUTOVER_OWN if sessions else _CUTOVER_OWN | _SESSION_DATA
        # universal/workflows holds only workflows: none of its names is left out.
        for folder, left_out in ((".praxis-os", own), ("universal/workflows", frozenset())):
            source = project / folder
            if source.is_dir():
                with contextlib.suppress(shutil.Error):  # a live server's file vanished mid-copy
                    shutil.copytree(
                        source,
                        root / folder,
                        symlinks=True,
                        ignore=_scratch_ignore(source, left_out),
                    )
        yield root


def _surface_result(
    name: str, tools: list[str], expected: int | None, ctx: CheckContext, *, after: bool
) -> CheckResult:
    details: dict[str, Any] = {"tools": tools, "count": len(tools), "expected": expected}
    findings = []
    if after:
        findings += [
            Finding(f"required tool {t!r} is not listed")
            for t in ctx.plan.present
            if t not in tools
        ]
        findings += [
            Finding(f"old tool {t!r} is still listed") for t in ctx.plan.absent if t in tools
        ]
    count_off = expected is not None and len(tools) != expected
    if findings or (after and count_off):
        return CheckResult(
            name,
            "FAIL",
            f"the server with the target registry lists {len(tools)} tools (plan: {expected})",
            "Fix the plan's target_registry or tools so that they agree with this server's groups.",
            findings,
            details,
        )
    if count_off:
        return CheckResult(
            name,
            "WARN",
            f"the server lists {len(tools)} tools, the plan expected {expected} before the cutover",
            "Check that the plan fits this project (expected_tools.before).",
            details=details,
        )
    if expected is None:
        return CheckResult(
            name,
            "PASS",
            f"the server starts and lists {len(tools)} tools (no registry file: the plan's "
            "count of tools before applies to a registry naming the old tools)",
            details=details,
        )
    return CheckResult(
        name, "PASS", f"the server starts and lists {len(tools)} tools as planned", details=details
    )


def _start_failure(name: str, exc: ServerStartError) -> CheckResult:
    return CheckResult(name, "FAIL", exc.message, exc.remediation, details={"stderr": exc.stderr})


async def _actions_result(server: LiveServer, ctx: CheckContext, scratch: Path) -> CheckResult:
    types = ctx.plan.workflow_types[0] if ctx.plan.workflow_types else None
    # The server runs on the scratch copy and its file store: files and approvals go there.
    work = ProbeWork(scratch, ctx.run_id, store_approver(scratch, StoreSetting()))
    results = await smoke_actions(server, ctx.run_id, types, work=work)
    failed = [r for r in results if not r.ok]
    details = {"actions": [r.to_dict() for r in results]}
    if failed:
        return CheckResult(
            "actions",
            "FAIL",
            f"{len(failed)} of {len(results)} pos_workflow actions misbehaved in a scratch copy",
            "Fix the server before the cutover; the findings name each action.",
            [Finding(f"{r.action}: {r.detail}") for r in failed],
            details,
        )
    return CheckResult(
        "actions",
        "PASS",
        f"all {len(results)} pos_workflow actions answered in a scratch copy",
        details=details,
    )


ServerCheck = Callable[[CheckContext, Path], Awaitable[list[CheckResult]]]
"""Start a server on a scratch copy and judge what it answers."""


async def check_servers(ctx: CheckContext) -> list[CheckResult]:
    """The server starts with the current and with the target registry; pos_workflow answers all 14 actions.

    Each server gets its own scratch copy, and both start at once: a start is mostly
    imports, so on two cores the check takes about one start instead of two. The server
    with the current registry only lists its tools, so its copy holds no sessions.
    """
    with (
        scratch_copy(ctx.project, sessions=False) as current,
        scratch_copy(ctx.project) as target,
    ):
        target_registry = target / REGISTRY_FILE
        target_registry.parent.mkdir(parents=True, exist_ok=True)
        target_registry.write_bytes(ctx.plan.target_bytes())
        found: dict[Path, list[CheckResult]] = {}

        async def collect(server: ServerCheck, scratch: Path) -> None:
            found[scratch] = await server(ctx, scratch)

        async with anyio.create_task_group() as group:
            group.start_soon(collect, _current_server, current)
            group.start_soon(collect, _target_server, target)
    return found[current] + found[target]


async def _current_server(ctx: CheckContext, scratch: Path) -> list[CheckResult]:
    """The server starts on the project as it is and lists the tools the plan expects before."""
    try:
        async with connect(scratch, ctx.launcher, durable=False) as server:
            tools = await server.tool_names()
    except ServerStartError as exc:
        return [_start_failure("server-current", exc)]
    before = ctx.plan.expected_before if (scratch / REGISTRY_FILE).exists() else None
    return [_surface_result("server-current", tools, before, ctx, after=False)]


async def _target_server(ctx: CheckContext, scratch: Path) -> list[CheckResult]:
    """With the target registry the server lists the planned tools and answers all 14 actions."""
    try:
        async with connect(scratch, ctx.launcher, durable=False) as server:
            tools = await server.tool_names()
            results = [
                _surface_result("server-target", tools, ctx.plan.expected_after, ctx, after=True)
            ]
            if "pos_workflow" in tools:
                results.append(await _actions_result(server, ctx, scratch))
            else:
                results.append(
                    CheckResult(
                        "actions", "FAIL", "pos_workflow is not listed with the target registry"
                    )
                )
            return results
    except ServerStartError as exc:
        return [
            _start_failure("server-target", exc),
            CheckResult(
                "actions", "FAIL", "not run: the server does not start with the target registry"
            ),
        ]


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _session_count(ctx: CheckContext) -> int:
    """How many sessions the store holds (0 when it cannot be read: ``session-store`` says why)."""
    try:
        with ctx.store.existing(ctx.project) as store:
            return sum(store.count_by_status().values()) if store is not None else 0
    except (StoreError, PosError):
        return 0


async def check_backup_space(ctx: CheckContext) -> list[CheckResult]:
    """The backup folder can be written and has room for the backup."""
    folder = ctx.project / BACKUPS_DIR
    probe_at = _existing_ancestor(folder)
    need = backup_size_estimate(ctx.project, _session_count(ctx))
    details: dict[str, Any] = {"folder": BACKUPS_DIR, "needed_bytes": need}
    if not probe_at.is_dir():
        return [
            CheckResult(
                "backup-space",
                "FAIL",
                f"{probe_at.relative_to(ctx.project).as_posix()} is not a folder, so {BACKUPS_DIR} cannot be created",
                f"Move that file away so that {BACKUPS_DIR} can be created.",
                details=details,
            )
        ]
    try:
        with tempfile.NamedTemporaryFile(dir=probe_at, prefix=".pos-cutover-probe-"):
            pass
    except OSError as exc:
        return [
            CheckResult(
                "backup-space",
                "FAIL",
                f"{BACKUPS_DIR} is not writable ({exc.strerror or type(exc).__name__})",
                "Fix the permissions of .praxis-os so that pos-cutover can write backups.",
                details=details,
            )
        ]
    free = shutil.disk_usage(probe_at).free
    details["free_bytes"] = free
    if free < need:
        return [
            CheckResult(
                "backup-space",
                "FAIL",
                f"{free} bytes free where the backup needs about {need}",
                "Free disk space on the project's volume.",
                details=details,
            )
        ]
    return [
        CheckResult(
            "backup-space",
            "PASS",
            f"{BACKUPS_DIR} is writable; {free // 2**20} MiB free, about {need // 1024} KiB needed",
            details=details,
        )
    ]


async def check_lock(ctx: CheckContext) -> list[CheckResult]:
    """No other cutover holds the project's lock."""
    if ctx.lock_held:
        return [CheckResult("lock", "PASS", "this run holds the cutover lock")]
    holder = lock_holder(ctx.project)
    if holder is None:
        return [CheckResult("lock", "PASS", "no other cutover is running")]
    return [
        CheckResult(
            "lock",
            "FAIL",
            f"another cutover holds {LOCK_FILE}: pid {holder.get('pid')!r} ({holder.get('command')!r})",
            "Wait for it to finish.",
            details={"holder": holder},
        )
    ]


BUILTIN_CHECKS: tuple[tuple[str, CheckFn], ...] = (
    ("journal", check_journal),
    ("registry", check_registry),
    ("servers", check_servers),
    ("backup-space", check_backup_space),
    ("lock", check_lock),
)


async def _guarded(name: str, check: CheckFn, ctx: CheckContext) -> list[CheckResult]:
    try:
        return await check(ctx)
    except Exception as exc:  # a broken check must not hide the others
        logger.exception("check %s failed", name)
        cause = sole_exception(exc)  # a check that runs tasks raises from a task group
        return [
            CheckResult(
                name,
                "FAIL",
                f"the check itself failed: {type(cause).__name__}: {str(cause)[:300]}",
                "Report this; the traceback is in the log (stderr).",
            )
        ]


async def run_checks(
    ctx: CheckContext, progress: Callable[[CheckResult], None] | None = None
) -> CheckReport:
    """Run every built-in and registered check; return all results (never stops early)."""
    load_builtins()
    report = CheckReport()
    for name, check in (*BUILTIN_CHECKS, *_EXTRA_CHECKS.items()):
        for result in await _guarded(name, check, ctx):
            report.results.append(result)
            if progress is not None:
                progress(result)
    return report
