"""Parse a spec's ``tasks.md`` into phases and tasks: the plan of a dynamic workflow.

What is read (fenced code blocks are never read as structure; a fence that opens
inside a fence with the same marker nests, as spec authors write them):

- **phases**: headings ``## Phase N: Name`` (``Phase N - Name`` too). The
  shallowest heading level holding such a heading is the phase level; a
  ``Phase N:`` heading deeper than that is an ordinary heading. A trailing
  ``(Days 1-2)`` is the phase's timeframe. Any other heading at the phase level
  or above ends the phase.
- **tasks**: headings ``### Task N.M: Title`` (any level below the phase) and
  list items ``- [ ] **Task N.M**: Title``, ``- **Task N.M: Title**``,
  ``- Task N.M: Title``. A heading task runs to the next heading at its level or
  above, the next task, or a phase-level label (``**Phase 1 Validation Gate:**``);
  a list task runs while its lines are indented under it.
- **fields**, written as bold labels (``**Priority:** High``,
  ``- **Estimated Time**: 2 hours``) or plain ``Label: value`` lines:
  a task's priority, estimate, dependencies, description, steps (the list under
  ``Steps:``), acceptance criteria (the list under ``Acceptance Criteria:``, else
  every checkbox of the task) and validation command; a phase's objective
  (``Objective:``/``Goal:``/``Purpose:``), estimate, dependencies, deliverables and
  validation gate (the checklist under a ``Validation Gate`` or ``Exit criteria``
  label or heading).

Malformed plans raise :class:`~pos_engine.exceptions.DefinitionError` naming the
line: no phase, a phase number repeated or out of order, a task outside any
phase or under the wrong phase, a repeated task id, a phase without tasks.
What is odd but usable (no validation gate, no acceptance criteria, a dependency
on an unknown task) is returned as findings.

Every regular expression here matches a line prefix without nested or
overlapping quantifiers, so parsing is linear in the size of the file, however
long a line is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._models import PlanPhase, PlanTask
from ._spec_fields import Fields
from ._spec_markdown import (
    DASHES,
    PHASE,
    PHASE_LABELS,
    PHASE_NAMED,
    TASK,
    TASK_ITEM,
    TASK_LABELS,
    Lines,
    clean,
    normalise,
    task_dependencies,
)
from .exceptions import DefinitionError

__all__ = ["ParsedSpec", "parse_spec_tasks"]


def _error(name: str, line: int, message: str) -> DefinitionError:
    return DefinitionError(
        f"{name} line {line}: {message}",
        details={"field": name, "line": line},
        remediation=f"Fix {name} at the named line (phases are '## Phase N: Name' headings, "
        "tasks '### Task N.M: Title' headings or '- [ ] **Task N.M**: Title' items), then retry.",
    )


# ---------------------------------------------------------------------- drafts


@dataclass
class _TaskDraft:
    phase: int
    number: int
    title: str
    line: int  # 1-based; the body starts on the next line
    indent: int  # list tasks: the item's indent; heading tasks: -1
    level: int  # heading tasks: the heading level; list tasks: 7
    checked: bool | None
    end: int = 0  # the index of the first line after the body

    @property
    def body(self) -> range:
        """The task's lines (0-based indices): a task's lines are contiguous."""
        return range(self.line, self.end)


@dataclass
class _PhaseDraft:
    number: int
    title: str
    line: int
    zone: list[int] = field(default_factory=list)  # lines outside every task
    gates: list[list[int]] = field(default_factory=list)  # gate heading regions
    tasks: list[_TaskDraft] = field(default_factory=list)


@dataclass(frozen=True)
class ParsedSpec:
    """A parsed tasks.md: its title, its phases in order, and what looked odd."""

    title: str
    phases: tuple[PlanPhase, ...]
    findings: tuple[str, ...]

    @property
    def task_count(self) -> int:
        """How many tasks the spec holds."""
        return sum(len(phase.tasks) for phase in self.phases)


def _task_start(
    line: str, heading: tuple[int, str] | None
) -> tuple[int, int, str, bool | None] | None:
    """Return (phase, number, title, checked) when the line starts a task."""
    if heading is not None:
        match = TASK.match(heading[1])
        if match is None:
            return None
        rest = heading[1][match.end() :]
        if rest[:1] == "." and rest[1:2].isdigit():
            return None  # "Task 1.2.3" is a sub-step, not a task
        return int(match.group(1)), int(match.group(2)), _title(rest), None
    match = TASK_ITEM.match(line)
    if match is None:
        return None
    rest = line[match.end() :]
    marker, bold = match.group(2), match.group(4)
    separated = rest.lstrip("* \t")[:1] == ":" or rest.lstrip("* \t")[:2] in DASHES
    if not (marker or bold) or not separated:
        return None  # "**Task 2.1** (Integrate) depends on ..." mentions a task
    box = match.group(3)
    checked = None if box is None else box in "xX"
    return int(match.group(5)), int(match.group(6)), _title(rest), checked


def _title(rest: str) -> str:
    text = rest.strip().lstrip("*:.-\u2013\u2014 \t")
    if text.endswith("**"):
        text = text[:-2]
    return clean(text.replace("**", ""))


def _split_timeframe(title: str) -> tuple[str, str]:
    """Split ``Foundation (Days 1-2)`` into name and timeframe."""
    if title.endswith(")"):
        start = title.rfind("(")
        if start > 0 and title[:start].strip():
            return title[:start].strip(), title[start + 1 : -1].strip()
    return title, ""


# ---------------------------------------------------------------------- the walk


class _Walker:
    """Assigns every line to the spec preamble, a phase's own lines, a gate region or a task."""

    def __init__(self, lines: Lines, name: str) -> None:
        self.name = name
        self.lines = lines
        self.phases: list[_PhaseDraft] = []
        self.phase: _PhaseDraft | None = None
        self.task: _TaskDraft | None = None
        self.gate: tuple[int, list[int]] | None = None  # (heading level, lines)
        self.ended_by: tuple[int, str] | None = None  # the heading that closed the last phase
        self.seen_tasks: dict[str, int] = {}
        self.phase_lines: dict[int, int] = {}
        levels = [h[0] for h in lines.head.values() if PHASE.match(h[1])]
        self.phase_level = min(levels) if levels else 0

    def run(self) -> list[_PhaseDraft]:
        lines = self.lines
        structural, text = lines.structural, lines.text
        marked = [index for index, flag in enumerate(structural) if flag]
        previous = 0
        for index in marked:
            self._gap(previous, index)  # the prose, lists and code between structural lines
            self._line(index, text[index])
            previous = index + 1
        self._gap(previous, len(text))
        self._close_phase(len(text))
        return self.phases

    def _gap(self, start: int, stop: int) -> None:
        """Lines ``start..stop`` hold no structure: they belong to the open task or phase."""
        if start >= stop:
            return
        task = self.task
        if task is not None:
            if task.indent < 0:
                return  # a heading task's body runs on
            end = self._list_task_end(task, start, stop)
            if end == stop:
                return
            self._close_task(end)
            start = end
        if self.phase is not None:
            self.phase.zone.extend(range(start, stop))
            if self.gate is not None:
                self.gate[1].extend(range(start, stop))

    def _list_task_end(self, task: _TaskDraft, start: int, stop: int) -> int:
        """The first line a list task does not reach: one at its item's indent or less.

        A fence opening counts, the code inside a fence does not.
        """
        lines = self.lines
        fenced, text = lines.fenced, lines.text
        for index in range(start, stop):
            line = text[index]
            if not line or (fenced[index] and index and fenced[index - 1]):
                continue
            if line[:1] not in " \t" and task.indent >= 0:
                return index  # at column 0: outside any list item
            if line.strip() and lines.indent_of(index) <= task.indent:
                return index
        return stop

    # -- structure

    def _line(self, index: int, line: str) -> None:
        lines = self.lines
        heading = lines.head.get(index)
        start = (
            _task_start(line, heading) if heading is not None or index in lines.task_lines else None
        )
        if heading is not None and heading[0] == self.phase_level and PHASE.match(heading[1]):
            self._open_phase(index, heading[1])
        elif heading is not None and start is None and self._is_gate_heading(heading[1]):
            self._close_task(index)
            self.gate = (heading[0], [])
            self._content(index)
        elif start is not None:
            self._open_task(index, heading, start)
        elif heading is not None:
            self._heading(index, heading[0])
        else:
            if self.task is not None and self._ends_task(index):
                self._close_task(index)
            if self.task is None:
                self._content(index)

    def _is_gate_heading(self, text: str) -> bool:
        if self.phase is None:
            return False
        name, _ = normalise(text)
        if "validation gate" not in name and "exit criteria" not in name:
            return False
        named = PHASE_NAMED.search(text)
        return named is None or int(named.group(1)) == self.phase.number

    def _heading(self, index: int, level: int) -> None:
        if self.gate is not None and level <= self.gate[0]:
            self._close_gate()
        if level <= self.phase_level:
            if self.phase is not None:
                self.ended_by = (index + 1, self.lines.text[index].strip())
            self._close_phase(index)
            return
        if self.task is not None and level <= self.task.level:
            self._close_task(index)
        if self.task is None:
            self._content(index)

    def _ends_task(self, index: int) -> bool:
        """Whether a structural line that is not a heading ends the current task."""
        assert self.task is not None  # noqa: S101 - checked by the caller
        if self.task.indent >= 0:
            return self.lines.indent[index] <= self.task.indent
        if index not in self.lines.label:
            return False
        label = self.lines.label[index]
        return label is not None and label.indent == 0 and (label.gate or label.phase is not None)

    def _content(self, index: int) -> None:
        """A line outside every task: the phase's own (and its gate region's, if one is open)."""
        if self.phase is not None:
            self.phase.zone.append(index)
            if self.gate is not None:
                self.gate[1].append(index)

    # -- phases and tasks

    def _open_phase(self, index: int, text: str) -> None:
        match = PHASE.match(text)
        assert match is not None  # noqa: S101 - checked by the caller
        number = int(match.group(1))
        self._close_phase(index)
        if number in self.phase_lines:
            raise _error(
                self.name,
                index + 1,
                f"phase {number} appears twice (first at line {self.phase_lines[number]})",
            )
        expected = len(self.phases) + 1
        if number != expected:
            after = (
                f"follows phase {self.phases[-1].number}" if self.phases else "is the first phase"
            )
            raise _error(
                self.name,
                index + 1,
                f"phase {number} {after}; phases must be numbered 1, 2, 3, ... in order "
                f"(expected phase {expected})",
            )
        title = text[match.end() :].strip() or f"Phase {number}"
        self.phase = _PhaseDraft(number, title, index + 1)
        self.phase_lines[number] = index + 1
        self.ended_by = None

    def _open_task(
        self,
        index: int,
        heading: tuple[int, str] | None,
        start: tuple[int, int, str, bool | None],
    ) -> None:
        phase_no, number, title, checked = start
        task_id = f"{phase_no}.{number}"
        if self.phase is None and task_id in self.seen_tasks:
            return  # a later section mentioning a defined task
        if self.phase is None:
            where = (
                f"it follows {self.ended_by[1]!r} (line {self.ended_by[0]}), which ends the phase "
                "before it"
                if self.ended_by
                else "it comes before the first phase heading"
            )
            raise _error(self.name, index + 1, f"task {task_id} is outside any phase: {where}")
        if phase_no != self.phase.number:
            raise _error(
                self.name,
                index + 1,
                f"task {task_id} is under phase {self.phase.number} (line {self.phase.line}); "
                f"a task id starts with its phase number ({self.phase.number}.M)",
            )
        if task_id in self.seen_tasks:
            raise _error(
                self.name,
                index + 1,
                f"task {task_id} appears twice (first at line {self.seen_tasks[task_id]})",
            )
        self._close_task(index)
        self._close_gate()
        self.seen_tasks[task_id] = index + 1
        if heading is not None:
            self.task = _TaskDraft(phase_no, number, title, index + 1, -1, heading[0], checked)
        else:
            self.task = _TaskDraft(
                phase_no, number, title, index + 1, self.lines.indent[index], 7, checked
            )
        self.phase.tasks.append(self.task)

    def _close_task(self, index: int) -> None:
        """End the open task (if any) before line ``index``."""
        if self.task is not None:
            self.task.end = index
        self.task = None

    def _close_gate(self) -> None:
        if self.gate is not None and self.phase is not None:
            self.phase.gates.append(self.gate[1])
        self.gate = None

    def _close_phase(self, index: int) -> None:
        self._close_task(index)
        self._close_gate()
        if self.phase is not None:
            if not self.phase.tasks:
                raise _error(
                    self.name,
                    self.phase.line,
                    f"phase {self.phase.number} ({self.phase.title!r}) has no tasks; give it "
                    f"'Task {self.phase.number}.1' and the rest",
                )
            self.phases.append(self.phase)
        self.phase = None


def _task(lines: Lines, draft: _TaskDraft) -> PlanTask:
    fields = Fields(lines, draft.body, TASK_LABELS)
    criteria_label = fields.first("criteria")
    if criteria_label is not None:
        criteria = fields.items(fields.region(*criteria_label), checkboxes_first=True)
    else:
        criteria = fields.checkboxes()
    steps_label = fields.first("steps")
    steps = fields.items(fields.region(*steps_label)) if steps_label else []
    dependencies = fields.inline("dependencies")
    return PlanTask(
        id=f"{draft.phase}.{draft.number}",
        number=draft.number,
        title=draft.title or f"Task {draft.phase}.{draft.number}",
        line=draft.line,
        priority=fields.inline("priority"),
        estimate=fields.inline("estimate"),
        dependencies=dependencies,
        depends_on=task_dependencies(dependencies),
        description=fields.paragraph("description") or fields.first_paragraph(),
        steps=steps,
        acceptance_criteria=criteria,
        validation_command=fields.code_after("validation"),
        checked=draft.checked,
        body=lines.block_text(draft.body, dedent=draft.indent >= 0),
    )


def _phase(lines: Lines, draft: _PhaseDraft) -> PlanPhase:
    fields = Fields(lines, draft.zone, PHASE_LABELS)
    gate: list[str] = []
    for position, label, kind in fields.labels:
        if kind == "gate":
            region = fields.region(position, label)
            if label.value and not region:
                gate.append(clean(label.value))
            gate.extend(fields.items(region, checkboxes_first=True))
    for region in draft.gates:
        gate.extend(Fields(lines, region, {}).items(region, checkboxes_first=True))
    deliverables = fields.first("deliverables")
    name, timeframe = _split_timeframe(draft.title)
    estimate = fields.inline("estimate")
    return PlanPhase(
        number=draft.number,
        title=draft.title,
        name=name,
        line=draft.line,
        timeframe=timeframe,
        objective=fields.paragraph("objective") or fields.first_paragraph(),
        estimate=estimate or (timeframe if any(c.isdigit() for c in timeframe) else ""),
        dependencies=fields.inline("dependencies"),
        deliverables=fields.items(fields.region(*deliverables)) if deliverables else [],
        validation_gate=list(dict.fromkeys(gate)),
        tasks=[_task(lines, t) for t in draft.tasks],
    )


def _findings(phases: list[PlanPhase]) -> list[str]:
    known = {task.id for phase in phases for task in phase.tasks}
    findings = []
    for phase in phases:
        numbers = [task.number for task in phase.tasks]
        if numbers != list(range(1, len(numbers) + 1)):
            findings.append(
                f"phase {phase.number}: task numbers {', '.join(t.id for t in phase.tasks)} are "
                f"not 1, 2, 3, ... in order; get_task serves them by these numbers"
            )
        if not phase.validation_gate:
            findings.append(
                f"phase {phase.number} ({phase.name!r}, line {phase.line}) has no Validation Gate "
                "checklist: its checkpoint asks for the tasks and their acceptance criteria only"
            )
        for task in phase.tasks:
            if not task.acceptance_criteria:
                findings.append(
                    f"task {task.id} ({task.title!r}, line {task.line}) has no acceptance criteria: "
                    "its evidence is done and a note"
                )
            unknown = [d for d in task.depends_on if d not in known]
            if unknown:
                findings.append(
                    f"task {task.id} depends on {', '.join(unknown)}, which the spec does not define"
                )
    return findings


def parse_spec_tasks(text: str, *, name: str = "tasks.md") -> ParsedSpec:
    """Parse the text of a spec's tasks.md into phases and tasks.

    Args:
        text: The content of tasks.md.
        name: The file's name, as error messages show it.

    Returns:
        The spec's title (its first ``#`` heading), its phases in order with their
        tasks, and findings about what is odd but usable.

    Raises:
        DefinitionError: the plan is malformed; the message names the line
            (``details["line"]``) and what is wrong.
    """
    lines = Lines(text)
    drafts = _Walker(lines, name).run()
    if not drafts:
        raise DefinitionError(
            f"{name} has no phase: expected '## Phase 1: <name>' headings (outside code blocks) "
            "with '### Task 1.1: <title>' tasks under them",
            details={"field": name, "line": 0},
            remediation="Write the plan as '## Phase N: Name' sections holding 'Task N.M' "
            "entries, then retry.",
        )
    title = next((h[1] for _, h in sorted(lines.head.items()) if h[0] == 1), "")
    phases = [_phase(lines, draft) for draft in drafts]
    return ParsedSpec(title=title, phases=tuple(phases), findings=tuple(_findings(phases)))
