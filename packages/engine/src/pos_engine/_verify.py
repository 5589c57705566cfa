"""Server-side verification of evidence: the checks ``x-verify`` asks for, run for real.

For every evidence value an ``x-verify`` annotation covers (see ``_verify_spec``),
the server reads the file the value names (inside the project, through the same
guard as ``target_file``, bounded, symlinks not leading out) and checks what the
annotation asks; commands run last, only when everything else passed and the
project enables them. Nothing here holds the session lock: ``complete_phase``
runs :class:`ServerChecks` before taking it, and inside it only re-stats the files
read (:meth:`VerificationReport.changed`), refusing the call if one changed meanwhile.

Each check gives a record (``pointer``, ``check``, ``outcome`` passed, failed or
skipped, ``message`` and what was seen: path, size, SHA-256, exit code, output
tail, time); the failed ones are the checkpoint's ``verification_errors``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._bounded import BoundedInputError, read_bounded_bytes
from ._definitions import Checkpoint
from ._evidence_schema import compile_linear
from ._gates_config import GateSettings
from ._models import utc_now
from ._verify_command import run_command
from ._verify_git import git_changed
from ._verify_spec import ContentRule, FieldChecks
from .exceptions import ConflictError
from .guards import validate_target_file

__all__ = [
    "MAX_VERIFIED_FILE_BYTES",
    "MAX_VERIFIED_VALUES",
    "ServerChecks",
    "VerificationReport",
    "field_values",
    "verify_evidence",
    "with_verification",
]

MAX_VERIFIED_FILE_BYTES = 8 * 1024 * 1024
"""Largest file a check reads; a bigger one fails its check."""

MAX_VERIFIED_VALUES = 100
"""Most evidence values one checkpoint verifies (each may read a file and run a command)."""

MAX_COMMAND_RUNS = 10
"""Most commands one checkpoint runs."""

_Sig = tuple[int, int, int]


@dataclass
class VerificationReport:
    """Every check's record, the failures among them, and the files read.

    Attributes:
        records: One entry per check, in order (see the module docstring).
        stamps: Signature (size, mtime, inode) of every file read, by project path.
        verified_at: When the checks ran (UTC ISO 8601).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    stamps: dict[str, _Sig] = field(default_factory=dict)
    verified_at: str = ""

    @property
    def failures(self) -> list[dict[str, str]]:
        """The failed checks as ``{pointer, check, message}`` (the checkpoint's verification_errors)."""
        return [
            {"pointer": r["pointer"], "check": r["check"], "message": r["message"]}
            for r in self.records
            if r["outcome"] == "failed"
        ]

    @property
    def passed(self) -> bool:
        """No check failed (skipped ones do not count)."""
        return all(r["outcome"] != "failed" for r in self.records)

    def changed(self, root: Path) -> list[str]:
        """The files read whose signature differs now (cheap: one stat each)."""
        moved = []
        for rel, sig in self.stamps.items():
            try:
                st = os.stat(root / rel)
            except OSError:
                moved.append(rel)
                continue
            if (st.st_size, st.st_mtime_ns, st.st_ino) != sig:
                moved.append(rel)
        return moved


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def field_values(
    evidence: dict[str, Any], path: tuple[str, ...]
) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """Yield (pointer, value, parent object) of every value ``path`` reaches."""
    stack: list[tuple[Any, int, str, dict[str, Any]]] = [(evidence, 0, "", evidence)]
    found = []
    while stack:
        node, depth, pointer, parent = stack.pop()
        if depth == len(path):
            found.append((pointer, node, parent))
            continue
        step = path[depth]
        if step == "*":
            if isinstance(node, list):
                stack.extend(
                    (item, depth + 1, f"{pointer}/{i}", parent) for i, item in enumerate(node)
                )
        elif isinstance(node, dict) and step in node:
            stack.append((node[step], depth + 1, f"{pointer}/{_escape(step)}", node))
    yield from sorted(found, key=lambda item: item[0])


def _record(pointer: str, check: str, outcome: str, message: str, **seen: Any) -> dict[str, Any]:
    return {"pointer": pointer, "check": check, "outcome": outcome, "message": message, **seen}


def _count(rule: ContentRule, data: bytes) -> int | str:
    """How often ``rule`` is found (up to min_count), or why the file cannot be searched."""
    if rule.literal is not None:
        needle = rule.literal.encode("utf-8")
        found, start = 0, 0
        while found < rule.min_count:
            at = data.find(needle, start)
            if at < 0:
                break
            found, start = found + 1, at + len(needle)
        return found
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 text (byte {exc.start}), so the regex cannot be matched"
    regex = compile_linear(rule.regex or "")
    found = 0
    for _ in regex.finditer(text):
        found += 1
        if found >= rule.min_count:
            break
    return found


def _non_blank_lines(data: bytes) -> int:
    return sum(1 for line in data.splitlines() if line.strip())


@dataclass
class _Field:
    """One evidence value under verification, with what its file gave."""

    pointer: str
    checks: FieldChecks
    value: Any
    parent: dict[str, Any]
    rel: str = ""
    data: bytes | None = None


class _Run:
    """One verification: reads each file once and keeps every record in order."""

    def __init__(
        self,
        root: Path,
        checkpoint: Checkpoint,
        *,
        workflow_type: str,
        target_file: str,
        settings: GateSettings,
    ) -> None:
        self.root = root
        self.checkpoint = checkpoint
        self.workflow_type = workflow_type
        self.target_file = target_file
        self.settings = settings
        self.report = VerificationReport()

    def add(self, pointer: str, check: str, outcome: str, message: str, **seen: Any) -> None:
        self.report.records.append(_record(pointer, check, outcome, message, **seen))

    def read(self, item: _Field) -> None:
        """Run ``file_exists`` (and read the file) for ``item``."""
        pointer, value = item.pointer, item.value
        if not isinstance(value, str):
            self.add(
                pointer,
                "file_exists",
                "failed",
                f"expected a file path, got {type(value).__name__}",
            )
            return
        try:
            item.rel = validate_target_file(value, self.root, name=f"path {pointer}")
        except ValueError as exc:
            self.add(pointer, "file_exists", "failed", str(exc), path=value[:200])
            return
        shown = repr(item.rel)
        try:
            data = read_bounded_bytes(
                self.root / item.rel,
                limit=MAX_VERIFIED_FILE_BYTES,
                inside=self.root,
                follow_symlinks=True,
            )
            st = os.stat(self.root / item.rel)
        except FileNotFoundError:
            self.add(
                pointer, "file_exists", "failed", f"{shown}: file does not exist", path=item.rel
            )
            return
        except BoundedInputError as exc:
            self.add(pointer, "file_exists", "failed", f"{shown}: the file {exc}", path=item.rel)
            return
        except OSError as exc:
            why = "it is a folder" if isinstance(exc, IsADirectoryError) else exc.strerror
            self.add(
                pointer, "file_exists", "failed", f"{shown}: cannot be read ({why})", path=item.rel
            )
            return
        item.data = data
        self.report.stamps[item.rel] = (st.st_size, st.st_mtime_ns, st.st_ino)
        self.add(
            pointer,
            "file_exists",
            "passed",
            f"{shown}: a regular file of {len(data)} bytes",
            path=item.rel,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )

    def content(self, item: _Field) -> None:
        """Run the checks on the file's bytes: file_sha256, file_contains, min_lines, git_changed."""
        checks, data, pointer = item.checks, item.data, item.pointer
        for kind in checks.kinds()[1:]:
            if kind == "command":
                continue
            if data is None:
                self.add(pointer, kind, "skipped", "not checked: the file could not be read")
                continue
            if kind == "file_sha256":
                self._sha256(item, data)
            elif kind == "file_contains":
                for rule in checks.contains:
                    self._contains(item, rule, data)
            elif kind == "min_lines":
                lines = _non_blank_lines(data)
                wanted = checks.min_lines or 0
                outcome = "passed" if lines >= wanted else "failed"
                self.add(
                    pointer,
                    kind,
                    outcome,
                    f"{item.rel!r}: {lines} non-blank line(s)"
                    + ("" if outcome == "passed" else f", at least {wanted} required"),
                    path=item.rel,
                    lines=lines,
                )
            else:
                self._git(item, data)

    def _sha256(self, item: _Field, data: bytes) -> None:
        name = item.checks.file_sha256 or ""
        pointer = item.pointer.rsplit("/", 1)[0] + "/" + _escape(name)
        claimed = item.parent.get(name)
        actual = hashlib.sha256(data).hexdigest()
        if not isinstance(claimed, str) or claimed.strip().lower() != actual:
            self.add(
                pointer,
                "file_sha256",
                "failed",
                f"claims sha256 {str(claimed)[:80]!r} for {item.rel!r}, but the file's is {actual}",
                path=item.rel,
                sha256=actual,
            )
            return
        self.add(
            pointer,
            "file_sha256",
            "passed",
            f"{item.rel!r}: sha256 matches",
            path=item.rel,
            sha256=actual,
        )

    def _contains(self, item: _Field, rule: ContentRule, data: bytes) -> None:
        found = _count(rule, data)
        if isinstance(found, str):
            self.add(
                item.pointer, "file_contains", "failed", f"{item.rel!r} {found}", path=item.rel
            )
            return
        if found >= rule.min_count:
            message = f"{item.rel!r} contains the {rule.describe()}"
            self.add(item.pointer, "file_contains", "passed", message, path=item.rel)
            return
        message = (
            f"{item.rel!r} does not contain the {rule.describe()}"
            if found == 0
            else f"{item.rel!r} contains the {rule.describe()} only {found} time(s)"
        )
        self.add(item.pointer, "file_contains", "failed", message, path=item.rel, found=found)

    def _git(self, item: _Field, data: bytes) -> None:
        checks = item.checks
        ref: Any = checks.git_ref
        if checks.git_ref_field is not None:
            ref = item.parent.get(checks.git_ref_field)
            if not isinstance(ref, str):
                self.add(
                    item.pointer,
                    "git_changed",
                    "failed",
                    f"the {checks.git_ref_field!r} field must name a git revision",
                )
                return
        verdict = git_changed(self.root, item.rel, ref, data)
        outcome = "passed" if verdict.changed else "failed"
        message = f"{item.rel!r}: {verdict.message}"
        self.add(
            item.pointer,
            "git_changed",
            outcome,
            message,
            path=item.rel,
            ref=ref,
            commit=verdict.commit,
        )

    def command(self, item: _Field, runnable: bool) -> bool:
        """Run the field's command when allowed; return whether a command ran."""
        name = item.checks.command
        if name is None:
            return False
        if not runnable:
            self.add(
                item.pointer, "command", "skipped", f"{name} not run: fix the failures above first"
            )
            return False
        refusal = self.settings.command_refusal(self.workflow_type, name)
        if refusal is not None:
            self.add(item.pointer, "command", "skipped", f"{name} not run: {refusal}")
            return False
        outcome = run_command(
            self.checkpoint.commands[name], self.root, path=item.rel, target_file=self.target_file
        )
        self.add(
            item.pointer,
            "command",
            "passed" if outcome.passed else "failed",
            f"{item.rel!r}: {outcome.message}",
            command=name,
            path=item.rel,
            **outcome.to_dict(),
        )
        return True


def verify_evidence(
    root: Path,
    checkpoint: Checkpoint,
    evidence: dict[str, Any],
    *,
    workflow_type: str,
    target_file: str,
    settings: GateSettings,
    others_passed: bool = True,
) -> VerificationReport:
    """Run the checkpoint's server checks on ``evidence``; never raises for bad evidence.

    Args:
        root: The project root.
        checkpoint: The checkpoint whose ``verify`` lists the checks.
        evidence: The evidence as sent.
        workflow_type: For the project's command allow-list.
        target_file: The session's target file (``{target_file}`` in commands).
        settings: The project's gate settings (may commands run?).
        others_passed: The evidence passed its schema; commands run only then.
    """
    run = _Run(
        root, checkpoint, workflow_type=workflow_type, target_file=target_file, settings=settings
    )
    run.report.verified_at = utc_now()
    items = [
        _Field(pointer, checks, value, parent)
        for checks in checkpoint.verify
        for pointer, value, parent in field_values(evidence, checks.path)
    ]
    if len(items) > MAX_VERIFIED_VALUES:
        run.add(
            "",
            "file_exists",
            "failed",
            f"the evidence names {len(items)} files to verify, more than the "
            f"{MAX_VERIFIED_VALUES} one checkpoint checks; split the work into smaller phases",
        )
        return run.report
    for item in items:
        run.read(item)
        run.content(item)
    runnable = others_passed and run.report.passed
    ran = 0
    for item in items:
        if ran >= MAX_COMMAND_RUNS and item.checks.command is not None:
            run.add(
                item.pointer, "command", "failed", f"more than {MAX_COMMAND_RUNS} commands to run"
            )
            continue
        ran += run.command(item, runnable and run.report.passed)
    return run.report


def with_verification(result: dict[str, Any], report: VerificationReport | None) -> dict[str, Any]:
    """Add what the server verified (every check's record) to a complete_phase answer."""
    if report is not None:
        result["verification"] = report.records
    return result


class ServerChecks:
    """The verification of one evidence, run outside the session lock and reused inside it.

    ``prime`` runs the checks before ``complete_phase`` takes the lock; ``result``
    (inside the lock) returns that report if the checkpoint is the same and no file
    it read changed since, and raises :class:`ConflictError` otherwise, so slow
    checks never run while the session is locked.
    """

    def __init__(self, root: Path, evidence: dict[str, Any], settings: GateSettings) -> None:
        self.root = root
        self.evidence = evidence
        self.settings = settings
        self._known: tuple[Checkpoint, VerificationReport] | None = None

    def prime(
        self, checkpoint: Checkpoint, *, workflow_type: str, target_file: str, schema_passed: bool
    ) -> None:
        """Run the checks of ``checkpoint`` now (no-op when it declares none)."""
        if not checkpoint.verify:
            return
        report = verify_evidence(
            self.root,
            checkpoint,
            self.evidence,
            workflow_type=workflow_type,
            target_file=target_file,
            settings=self.settings,
            others_passed=schema_passed,
        )
        self._known = (checkpoint, report)

    def result(self, checkpoint: Checkpoint) -> VerificationReport | None:
        """The primed report for ``checkpoint`` (None: it declares no checks).

        Raises:
            ConflictError: the checkpoint changed since priming, or a file read changed.
        """
        if not checkpoint.verify:
            return None
        known = self._known
        if known is None or not (known[0] is checkpoint or known[0] == checkpoint):
            raise ConflictError(
                "the workflow definition changed while the evidence was being verified",
                remediation="Call complete_phase again with the same evidence.",
            )
        moved = known[1].changed(self.root)
        if moved:
            raise ConflictError(
                f"{', '.join(repr(m) for m in moved[:5])} changed while the evidence was being "
                "verified; nothing was recorded",
                remediation="Finish writing the files, then call complete_phase again.",
            )
        return known[1]
