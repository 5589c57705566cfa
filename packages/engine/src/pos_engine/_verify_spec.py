"""What a workflow definition asks the server to check: ``x-verify``, commands, approval.

A checkpoint's ``evidence_schema`` may mark a string field (a path relative to the
project) with an ``x-verify`` annotation; the server then checks the file itself
before the checkpoint passes, instead of trusting what the agent claims::

    "test_file": {
      "type": "string",
      "x-verify": {
        "file_exists": true,
        "file_contains": {"literal": "def test_"},
        "min_lines": 5,
        "command": "pytest_collect"
      }
    }

The annotation applies where the field's value is: on a property reached from the
top of the schema through ``properties`` and ``items`` only (so that the values it
checks are known without running the schema); anywhere else the definition is
refused. Commands are declared once, at the top of metadata.json (``commands``),
and a check names one: a command never comes from evidence. A checkpoint's
``approval`` makes a person approve the phase after its evidence passes.

This module turns those declarations into frozen records when a definition loads
and refuses a malformed one with a :class:`~pos_engine.exceptions.DefinitionError`
naming the field; ``_verify`` runs the checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import re2

from ._evidence_schema import compile_linear
from .exceptions import DefinitionError

__all__ = [
    "CHECK_KINDS",
    "VERIFY_KEYWORD",
    "ApprovalSpec",
    "CommandSpec",
    "ContentRule",
    "FieldChecks",
    "parse_approval",
    "parse_commands",
    "parse_field_checks",
    "valid_git_ref",
]

VERIFY_KEYWORD = "x-verify"
"""The evidence_schema annotation that asks the server to check a field's file."""

CHECK_KINDS: tuple[str, ...] = (
    "file_exists",
    "file_sha256",
    "file_contains",
    "min_lines",
    "git_changed",
    "command",
)
"""The checks an ``x-verify`` annotation can ask for, in the order they run."""

PLACEHOLDERS: tuple[str, ...] = ("path", "target_file")
"""What a command's argv may name: ``{path}`` (the checked field's file) and ``{target_file}``."""

MAX_TIMEOUT_SECONDS = 600
DEFAULT_TIMEOUT_SECONDS = 60
DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A ref that git reads as a revision, never as an option: no leading '-', no '..' range.
_GIT_REF = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/~^-]{0,199}")
# Schema keywords whose object values are maps of names, not subschemas.
_NAME_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)


def valid_git_ref(ref: str) -> bool:
    """Whether ``ref`` is a revision the git check accepts (``HEAD``, ``main``, ``v1.2~3``, a sha)."""
    return bool(_GIT_REF.fullmatch(ref)) and ".." not in ref and "//" not in ref


@dataclass(frozen=True)
class ContentRule:
    """A ``file_contains`` rule: a literal or an RE2 regex, found at least ``min_count`` times."""

    literal: str | None = None
    regex: str | None = None
    min_count: int = 1

    def describe(self) -> str:
        """Say what the rule looks for, e.g. ``literal 'def test_'``."""
        what = f"literal {self.literal!r}" if self.literal is not None else f"regex {self.regex!r}"
        return what + (f" at least {self.min_count} times" if self.min_count > 1 else "")


@dataclass(frozen=True)
class CommandSpec:
    """A command the workflow definition declares for ``x-verify`` ``command`` checks.

    Attributes:
        name: The key under metadata.json ``commands``.
        argv: The program and its arguments, run without a shell; ``{path}`` and
            ``{target_file}`` are replaced by project-relative paths.
        description: What passing means, shown to agents and people.
        timeout_seconds: The process (and its children) is killed after this long.
        max_output_bytes: Output (stdout and stderr together) beyond this kills it.
        expect_exit: The exit codes that pass.
        env: Variables set for the command on top of the minimal environment.
    """

    name: str
    argv: tuple[str, ...]
    description: str
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    expect_exit: tuple[int, ...] = (0,)
    env: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the command as shown in phase_content (what the server would run)."""
        return {
            "name": self.name,
            "argv": list(self.argv),
            "description": self.description,
            "timeout_seconds": self.timeout_seconds,
            "expect_exit": list(self.expect_exit),
        }


@dataclass(frozen=True)
class FieldChecks:
    """The ``x-verify`` checks of one field, found where ``path`` leads in the evidence.

    Attributes:
        path: Property names from the top of the evidence, ``"*"`` for every array item.
        file_sha256: The sibling property holding the agent's claimed SHA-256 of the file.
        contains: ``file_contains`` rules, all of which must hold.
        min_lines: The file must have at least this many non-blank lines.
        git_ref: The file must differ from its version at this revision.
        git_ref_field: Or: the sibling property naming that revision.
        command: The declared command to run on the file.
    """

    path: tuple[str, ...]
    file_sha256: str | None = None
    contains: tuple[ContentRule, ...] = ()
    min_lines: int | None = None
    git_ref: str | None = None
    git_ref_field: str | None = None
    command: str | None = None

    @property
    def pointer(self) -> str:
        """The field's JSON pointer, ``*`` standing for every item (``/files/*/path``)."""
        return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in self.path)

    def kinds(self) -> list[str]:
        """The checks asked for, in the order they run (``file_exists`` always first)."""
        asked = {
            "file_sha256": self.file_sha256 is not None,
            "file_contains": bool(self.contains),
            "min_lines": self.min_lines is not None,
            "git_changed": self.git_ref is not None or self.git_ref_field is not None,
            "command": self.command is not None,
        }
        return ["file_exists", *(kind for kind in CHECK_KINDS[1:] if asked[kind])]

    def describe(self) -> list[str]:
        """One line per check, for agents: what the server will verify."""
        lines = ["file_exists: a regular file inside the project"]
        if self.file_sha256 is not None:
            lines.append(f"file_sha256: the file's SHA-256 equals the {self.file_sha256!r} field")
        lines.extend(f"file_contains: {rule.describe()}" for rule in self.contains)
        if self.min_lines is not None:
            lines.append(f"min_lines: at least {self.min_lines} non-blank lines")
        if self.git_ref is not None:
            lines.append(f"git_changed: differs from its version at {self.git_ref!r}")
        if self.git_ref_field is not None:
            lines.append(
                f"git_changed: differs from its version at the {self.git_ref_field!r} field"
            )
        if self.command is not None:
            lines.append(f"command: {self.command} (run only where the project enables commands)")
        return lines


@dataclass(frozen=True)
class ApprovalSpec:
    """A checkpoint's demand for a person's approval after its evidence passes."""

    prompt: str
    source: str = "definition"

    def to_dict(self) -> dict[str, Any]:
        """Return what phase_content says about the approval."""
        return {"required": True, "prompt": self.prompt, "source": self.source}


@dataclass(frozen=True)
class _Found:
    """One ``x-verify`` annotation, where it sits and the schema that holds its field."""

    path: tuple[str, ...]
    annotation: Any
    siblings: frozenset[str] = field(default_factory=frozenset)


def _problem(where: str, message: str) -> DefinitionError:
    return DefinitionError(f"{where}: {message}", details={"field": where})


def parse_commands(
    raw: Mapping[str, Any] | None, where: str = "commands"
) -> dict[str, CommandSpec]:
    """Read metadata.json ``commands`` (already shaped by the definition schema).

    Raises:
        DefinitionError: a placeholder that does not exist, or one in the program name.
    """
    commands: dict[str, CommandSpec] = {}
    for name, spec in (raw or {}).items():
        at = f"{where}.{name}"
        argv = tuple(spec["argv"])
        for index, arg in enumerate(argv):
            for placeholder in _PLACEHOLDER.findall(arg):
                if placeholder not in PLACEHOLDERS:
                    raise _problem(
                        f"{at}.argv[{index}]",
                        f"unknown placeholder {{{placeholder}}}; use {{path}} or {{target_file}}",
                    )
                if index == 0:
                    raise _problem(
                        f"{at}.argv[0]",
                        "the program cannot come from a placeholder; name it literally",
                    )
        expect = spec.get("expect_exit", 0)
        commands[name] = CommandSpec(
            name=name,
            argv=argv,
            description=spec["description"],
            timeout_seconds=float(spec.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
            max_output_bytes=int(spec.get("max_output_bytes", DEFAULT_MAX_OUTPUT_BYTES)),
            expect_exit=tuple(expect) if isinstance(expect, list) else (int(expect),),
            env=tuple(sorted(spec.get("env", {}).items())),
        )
    return commands


def parse_approval(raw: Mapping[str, Any] | None) -> ApprovalSpec | None:
    """Read a checkpoint's ``approval`` (``required`` defaults to true)."""
    if raw is None or not raw.get("required", True):
        return None
    return ApprovalSpec(prompt=raw["prompt"])


def _annotations(schema: Any) -> Iterator[_Found]:
    """Yield every annotation reachable through ``properties`` and ``items`` from the top."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(schema, ())]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict):
            continue
        properties = node.get("properties")
        if isinstance(properties, dict):
            siblings = frozenset(properties)
            for name, sub in properties.items():
                if isinstance(sub, dict) and VERIFY_KEYWORD in sub:
                    yield _Found((*path, name), sub[VERIFY_KEYWORD], siblings)
                stack.append((sub, (*path, name)))
        items = node.get("items")
        if isinstance(items, dict):
            if VERIFY_KEYWORD in items:
                yield _Found((*path, "*"), items[VERIFY_KEYWORD])
            stack.append((items, (*path, "*")))


def _schema_pointers(schema: Any) -> Iterator[tuple[str, bool]]:
    """Yield (schema pointer, reachable) of every ``x-verify`` keyword in the schema."""
    stack: list[tuple[Any, str, bool, bool]] = [(schema, "", True, False)]
    while stack:
        node, where, reachable, names = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                at = f"{where}/{key.replace('~', '~0').replace('/', '~1')}"
                if key == VERIFY_KEYWORD and not names:
                    yield at, reachable
                    continue
                if names:  # a property name: its value is a subschema
                    stack.append((value, at, reachable, False))
                else:
                    keeps = reachable and key in ("properties", "items")
                    stack.append((value, at, keeps, key in _NAME_MAPS))
        elif isinstance(node, list):
            stack.extend((item, f"{where}/{i}", False, False) for i, item in enumerate(node))


def parse_field_checks(
    schema: dict[str, Any], commands: Mapping[str, CommandSpec], where: str
) -> tuple[FieldChecks, ...]:
    """Read every ``x-verify`` annotation of a checkpoint's ``evidence_schema``.

    Args:
        schema: The evidence_schema (already a valid JSON Schema).
        commands: The workflow's declared commands.
        where: The checkpoint's location, for messages (``phases[3].checkpoint``).

    Raises:
        DefinitionError: an annotation out of reach, malformed, naming an undeclared
            command or sibling field, or a regex RE2 cannot run.
    """
    at = f"{where}.evidence_schema"
    for pointer, reachable in _schema_pointers(schema):
        if not reachable or pointer == f"/{VERIFY_KEYWORD}":
            raise _problem(
                f"{at}{pointer}",
                f"{VERIFY_KEYWORD} is applied only on properties reached through 'properties' "
                "and 'items' from the top of the schema; move it there",
            )
    return tuple(_field_checks(found, commands, at) for found in _annotations(schema))


def _field_checks(found: _Found, commands: Mapping[str, CommandSpec], at: str) -> FieldChecks:
    spot = f"{at}{FieldChecks(found.path).pointer}/{VERIFY_KEYWORD}"
    raw = found.annotation
    if not isinstance(raw, dict):
        raise _problem(spot, f"must be an object of checks, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(CHECK_KINDS))
    if unknown or not raw:
        raise _problem(
            spot,
            f"unknown check(s) {unknown}; use {', '.join(CHECK_KINDS)}"
            if unknown
            else f"names no check; use {', '.join(CHECK_KINDS)}",
        )
    if "file_exists" in raw and raw["file_exists"] is not True:
        raise _problem(spot, "file_exists must be true (every checked field must be a file)")

    def sibling(kind: str, key: str) -> str | None:
        spec = raw.get(kind)
        if not isinstance(spec, dict) or key not in spec:
            return None
        name = spec[key]
        if not isinstance(name, str) or name not in found.siblings:
            raise _problem(
                f"{spot}/{kind}/{key}",
                f"{name!r} is not a property beside the checked field; name one of "
                f"{sorted(found.siblings)}",
            )
        return name

    digest = sibling("file_sha256", "digest_field") if "file_sha256" in raw else None
    if "file_sha256" in raw and digest is None:
        raise _problem(f"{spot}/file_sha256", 'write {"digest_field": "<sibling property>"}')
    contains = raw.get("file_contains", [])
    rules = tuple(
        _content_rule(rule, f"{spot}/file_contains")
        for rule in (contains if isinstance(contains, list) else [contains])
    )
    min_lines = raw.get("min_lines")
    if min_lines is not None and (
        isinstance(min_lines, bool) or not isinstance(min_lines, int) or min_lines < 1
    ):
        raise _problem(f"{spot}/min_lines", f"must be a positive integer, got {min_lines!r}")
    git = raw.get("git_changed")
    git_ref = git.get("ref") if isinstance(git, dict) else None
    git_field = sibling("git_changed", "ref_field") if isinstance(git, dict) else None
    if git is not None and (not isinstance(git, dict) or (git_ref is None) == (git_field is None)):
        raise _problem(
            f"{spot}/git_changed", 'write {"ref": "HEAD"} or {"ref_field": "<sibling property>"}'
        )
    if git_ref is not None and (not isinstance(git_ref, str) or not valid_git_ref(git_ref)):
        raise _problem(f"{spot}/git_changed/ref", f"{git_ref!r} is not a revision name git accepts")
    command = raw.get("command")
    if command is not None and (not isinstance(command, str) or command not in commands):
        declared = ", ".join(sorted(commands)) or "none"
        raise _problem(
            f"{spot}/command",
            f"{command!r} is not declared in metadata.json commands (declared: {declared})",
        )
    return FieldChecks(
        path=found.path,
        file_sha256=digest,
        contains=rules,
        min_lines=min_lines,
        git_ref=git_ref,
        git_ref_field=git_field,
        command=command,
    )


def _content_rule(raw: Any, spot: str) -> ContentRule:
    if not isinstance(raw, dict) or ("literal" in raw) == ("regex" in raw):
        raise _problem(spot, 'write {"literal": "..."} or {"regex": "..."} (one of them)')
    count = raw.get("min_count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise _problem(f"{spot}/min_count", f"must be a positive integer, got {count!r}")
    text = raw.get("literal", raw.get("regex"))
    if not isinstance(text, str) or not text:
        raise _problem(spot, "the literal or regex must be a non-empty string")
    if "regex" in raw:
        try:
            compile_linear(text)
        except re2.error as exc:
            raise _problem(
                f"{spot}/regex",
                f"{text!r:.80} cannot run on a linear-time regex engine ({exc}); "
                "avoid backreferences and lookaround",
            ) from None
        return ContentRule(regex=text, min_count=count)
    return ContentRule(literal=text, min_count=count)
