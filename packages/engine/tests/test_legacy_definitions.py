"""Legacy (praxis-style) workflow definitions: detection, mapping, gates, findings, running."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pos_engine import (
    DefinitionError,
    GateResult,
    WorkflowEngine,
    WorkflowRegistry,
    evaluate_evidence,
    legacy_findings,
)
from pos_engine._definitions import bundled_workflows_dir, load_definition
from pos_engine._legacy_definitions import is_legacy_metadata
from pos_engine._legacy_tasks import parse_legacy_task
from pos_engine.testing.drive import complete_all, example_evidence

LEGACY = "legacy_spec_v1"
DYNAMIC = "legacy_exec_v1"
PWN = "__import__('os').system('touch PWNED')"

PHASE0_GATE = f"""\
# Phase 0 is a learning phase: warnings only.
checkpoint:
  strict: false
  allow_override: true
evidence_schema:
  spec_directory_created:
    type: boolean
    required: true
    description: "The spec directory exists"
  spec_dir:
    type: string
    required: true
    description: "Path of the spec directory"
    validator: valid_path
  documents_indexed:
    type: integer
    required: true
    description: "How many supporting documents were indexed"
validators:
  valid_path: "lambda x: {PWN} or '/' in x"
"""

PHASE1_GATE = f"""\
checkpoint:
  strict: true
  allow_override: false
evidence_schema:
  srd_created:
    type: boolean
    required: true
    description: "srd.md written"
  user_story_count:
    type: integer
    required: true
    description: "Number of user stories"
    validator: "lambda x: {PWN} or x >= 3"
  functional_requirements:
    type: list
    required: true
    description: "The FR identifiers"
  extra_notes:
    type: dict
    required: false
validators: {{}}
cross_field_validation:
  - rule: "lambda e: e['user_story_count'] <= len(e['functional_requirements'])"
"""

TASK_WITH_STEPS = """\
# Task 1: Create the Spec Directory

**Objective:** Create the spec folder for the feature.

---

## Context

Every spec lives in its own dated folder.

## Execution Steps

### Step 1: Make the folder

```bash
# From project root
mkdir -p .praxis-os/specs/{target_file}
```

**Expected Output:**
```
(no output)
```

---

### Step 2: Check it exists
Run it and look.

**Expected:** The folder is listed.

## Completion Criteria

- [ ] Folder exists
"""

TASK_WITH_LIST = """\
# Copy the documents

Bring every supporting document into the spec folder.

1. List the documents with `ls docs/`
2. Copy each one
   ```bash
   cp docs/*.md .praxis-os/specs/
   ```
3. Write an index
"""

TASK_PROSE = "Just think hard about the requirements, then write srd.md.\n"


def legacy_metadata(workflow_type: str = LEGACY, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "workflow_type": workflow_type,
        "version": "1.0.0",
        "name": "Legacy Specification Creation",
        "description": "Create a specification with phase gates (legacy format).",
        "author": "Agent OS Team",
        "strict_mode": True,
        "total_phases": 3,
        "estimated_duration": "1-2 hours",
        "primary_outputs": ["srd.md", "specs.md"],
        "dynamic_phases": False,
        "start_phase": 0,
        "phases": [
            {
                "phase_number": 0,
                "phase_name": "Supporting Documents Integration",
                "phase_file": "phases/0/phase.md",
                "purpose": "Bring pre-existing documents into the spec.",
                "estimated_effort": "10-20 minutes",
                "key_deliverables": ["Spec directory created", "Document index"],
                "validation_criteria": ["Spec directory follows the naming convention"],
                "checkpoint": {
                    "required_evidence": [
                        "spec_directory_created",
                        "spec_dir",
                        "documents_indexed",
                    ]
                },
                "tasks": [
                    {"task_number": 0, "name": "create-directory", "file": "task-0-dir.md"},
                    {"task_number": 1, "name": "copy-documents", "file": "task-1-copy.md"},
                ],
            },
            {
                "phase_number": 1,
                "phase_name": "Requirements Gathering",
                "purpose": "Define goals, stories and requirements.",
                "estimated_effort": "35-50 minutes",
                "checkpoint": {
                    "required_evidence": [
                        "srd_created",
                        "user_story_count",
                        "business_goals_defined",
                    ]
                },
                "tasks": [
                    {"task_number": 1, "name": "write-srd", "phase_file": "task-1-srd.md"},
                ],
            },
            {
                "phase_number": 2,
                "phase_name": "Finalization",
                "purpose": "Review and package the spec.",
                "checkpoint": {"required_evidence": ["readme_created", "spec_validated"]},
                "tasks": [{"task_number": 1, "name": "final-package", "file": "task-1-final.md"}],
            },
        ],
    }
    data.update(overrides)
    return data


def write_legacy(base: Path, workflow_type: str = LEGACY, **overrides: Any) -> Path:
    folder = base / workflow_type
    for n in range(3):
        (folder / "phases" / str(n)).mkdir(parents=True, exist_ok=True)
        (folder / "phases" / str(n) / "phase.md").write_text(f"# Phase {n}\n\nDo phase {n}.\n")
    (folder / "metadata.json").write_text(json.dumps(legacy_metadata(workflow_type, **overrides)))
    (folder / "phases/0/gate-definition.yaml").write_text(PHASE0_GATE)
    (folder / "phases/0/task-0-dir.md").write_text(TASK_WITH_STEPS)
    (folder / "phases/0/task-1-copy.md").write_text(TASK_WITH_LIST)
    (folder / "phases/1/gate-definition.yaml").write_text(PHASE1_GATE)
    (folder / "phases/1/task-1-srd.md").write_text(TASK_PROSE)
    (folder / "phases/2/task-1-final.md").write_text("# Task 1: Package it\n\nShip it.\n")
    return folder


def write_dynamic(base: Path) -> Path:
    folder = base / DYNAMIC
    (folder / "phases" / "0").mkdir(parents=True)
    meta = {
        "workflow_type": DYNAMIC,
        "version": "1.0.0",
        "name": "Spec execution",
        "description": "Phases come from tasks.md.",
        "total_phases": "dynamic",
        "phases": [
            {"phase_number": 0, "phase_name": "Analysis", "tasks": []},
            {"phase_number": "1-N", "phase_name": "Dynamic phases"},
        ],
        "dynamic_phases": True,
    }
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture
def legacy_project(project: Path) -> Path:
    base = project / ".praxis-os" / "workflows"
    write_legacy(base)
    write_dynamic(base)
    return project


def load(tmp_path: Path, **overrides: Any) -> Any:
    return load_definition(write_legacy(tmp_path, **overrides), "project")


# ------------------------------------------------------------------------ discovery


@pytest.mark.slow
def test_list_workflows_shows_the_legacy_workflow_with_format_legacy_beside_the_bundled_ones(
    legacy_project: Path,
) -> None:
    result = WorkflowEngine.for_project(legacy_project, durable=False).list_workflows()
    by_type = {w["workflow_type"]: w for w in result["workflows"]}
    assert by_type[LEGACY]["format"] == "legacy"
    assert by_type[LEGACY]["category"] == "legacy"
    assert by_type[LEGACY]["source"] == "project"
    assert by_type[LEGACY]["phases"] == [
        {"phase": 0, "title": "Supporting Documents Integration", "task_count": 2},
        {"phase": 1, "title": "Requirements Gathering", "task_count": 1},
        {"phase": 2, "title": "Finalization", "task_count": 1},
    ]
    assert by_type["test_generation_v3"]["format"] == "pos"
    assert by_type["spec_creation_v1"]["format"] == "pos"


@pytest.mark.slow
def test_a_dynamic_legacy_definition_without_dynamic_config_is_reported_and_hides_nothing(
    legacy_project: Path,
) -> None:
    engine = WorkflowEngine.for_project(legacy_project, durable=False)
    result = engine.list_workflows()
    types = [w["workflow_type"] for w in result["workflows"]]
    assert {LEGACY, "test_generation_v3", "spec_creation_v1"} <= set(types)
    assert DYNAMIC not in types
    assert result["invalid_workflows"] == [
        {
            "workflow_folder": DYNAMIC,
            "source": "project",
            "field": "/dynamic_config",
            "message": f"metadata.json: {DYNAMIC!r} is dynamic (its phases come from a spec) but "
            "has no dynamic_config naming its source and templates",
        }
    ]
    with pytest.raises(DefinitionError, match="has no dynamic_config"):
        engine.start_workflow(DYNAMIC, "src/calculator.py")


def test_dynamic_phases_true_alone_also_marks_a_definition_dynamic(tmp_path: Path) -> None:
    meta = legacy_metadata()
    del meta["total_phases"]
    folder = write_legacy(tmp_path)
    (folder / "metadata.json").write_text(json.dumps({**meta, "dynamic_phases": True}))
    with pytest.raises(DefinitionError, match="dynamic") as caught:
        load_definition(folder, "project")
    assert caught.value.details["field"] == "/dynamic_config"


@pytest.mark.parametrize(
    ("metadata", "legacy"),
    [
        ({"total_phases": 2, "phases": []}, True),
        ({"dynamic_phases": False}, True),
        ({"phases": [{"phase_number": 0}]}, True),
        ({"phases": [{"number": 0}]}, False),
        ({"phases": "nope"}, False),
        (["not", "an", "object"], False),
    ],
)
def test_the_legacy_format_is_detected_by_its_own_keys(metadata: Any, legacy: bool) -> None:
    assert is_legacy_metadata(metadata) is legacy


@pytest.mark.slow
def test_bundled_workflows_keep_our_format_and_have_no_legacy_findings() -> None:
    for folder in sorted(p for p in bundled_workflows_dir().iterdir() if p.is_dir()):
        definition = load_definition(folder, "bundled")
        assert definition.format == "pos"
        assert legacy_findings(definition) == []
        for phase in definition.phases:
            shown = phase.checkpoint.to_dict()
            assert shown["strict"] is True
            assert "unevaluated_validators" not in shown and "allow_override" not in shown


# -------------------------------------------------------------------------- mapping


def test_legacy_phases_map_onto_our_phase_fields(tmp_path: Path) -> None:
    definition = load(tmp_path)
    assert (definition.format, definition.category, definition.author) == (
        "legacy",
        "legacy",
        "Agent OS Team",
    )
    assert (definition.start_phase, definition.total_phases, definition.last_phase) == (0, 3, 2)
    assert definition.primary_outputs == ("srd.md", "specs.md")
    phase = definition.phase(0)
    assert (phase.title, phase.purpose, phase.estimated_duration) == (
        "Supporting Documents Integration",
        "Bring pre-existing documents into the spec.",
        "10-20 minutes",
    )
    assert phase.deliverables == ("Spec directory created", "Document index")
    assert phase.content == "# Phase 0\n\nDo phase 0.\n"
    assert [(t.number, t.name, t.file) for t in phase.tasks] == [
        (1, "create-directory", "task-0-dir.md"),
        (2, "copy-documents", "task-1-copy.md"),
    ]
    assert definition.phase(1).tasks[0].file == "task-1-srd.md"  # the phase_file spelling
    assert definition.phase(2).estimated_duration == ""


def test_a_metadata_category_wins_over_the_legacy_default(tmp_path: Path) -> None:
    assert load(tmp_path, category="documentation").category == "documentation"


def test_gate_fields_become_a_json_schema_with_mapped_types_and_required_names(
    tmp_path: Path,
) -> None:
    checkpoint = load(tmp_path).phase(1).checkpoint
    assert checkpoint.required_evidence == (
        "srd_created",
        "user_story_count",
        "functional_requirements",
    )
    assert checkpoint.evidence_schema == {
        "type": "object",
        "properties": {
            "srd_created": {"type": "boolean", "description": "srd.md written"},
            "user_story_count": {"type": "integer", "description": "Number of user stories"},
            "functional_requirements": {"type": "array", "description": "The FR identifiers"},
            "extra_notes": {"type": "object"},
        },
        "required": ["srd_created", "user_story_count", "functional_requirements"],
    }
    assert checkpoint.evidence_example == {
        "srd_created": True,
        "user_story_count": 1,
        "functional_requirements": ["example"],
        "extra_notes": {},
    }
    assert (checkpoint.strict, checkpoint.allow_override) == (True, False)


def test_an_integer_field_rejects_true_and_a_boolean_field_rejects_one(tmp_path: Path) -> None:
    checkpoint = load(tmp_path).phase(1).checkpoint
    good = dict(checkpoint.evidence_example)
    assert list(checkpoint.validator.iter_errors(good)) == []
    as_bool = [
        e.message for e in checkpoint.validator.iter_errors({**good, "user_story_count": True})
    ]
    as_int = [e.message for e in checkpoint.validator.iter_errors({**good, "srd_created": 1})]
    assert as_bool == ["True is not of type 'integer'"]
    assert as_int == ["1 is not of type 'boolean'"]


def test_a_phase_without_a_gate_requires_the_metadata_names_and_fails_closed(
    tmp_path: Path,
) -> None:
    checkpoint = load(tmp_path).phase(2).checkpoint
    assert checkpoint.required_evidence == ("readme_created", "spec_validated")
    assert checkpoint.evidence_schema == {
        "type": "object",
        "required": ["readme_created", "spec_validated"],
        "properties": {"readme_created": {}, "spec_validated": {}},
    }
    assert checkpoint.evidence_example == {"readme_created": True, "spec_validated": True}
    assert checkpoint.strict is True
    assert [e.message for e in checkpoint.validator.iter_errors({})] == [
        "'readme_created' is a required property",
        "'spec_validated' is a required property",
    ]


def test_every_generated_evidence_example_passes_its_schema(tmp_path: Path) -> None:
    for phase in load(tmp_path).phases:
        jsonschema.validate(phase.checkpoint.evidence_example, phase.checkpoint.evidence_schema)
        jsonschema.Draft202012Validator.check_schema(phase.checkpoint.evidence_schema)


def test_the_validation_sentence_names_fields_strictness_validators_and_criteria(
    tmp_path: Path,
) -> None:
    definition = load(tmp_path)
    assert definition.phase(0).checkpoint.validation == (
        "Provide spec_directory_created (boolean), spec_dir (string), documents_indexed "
        "(integer). Non-strict gate: missing or invalid evidence passes with recorded warnings. "
        "Legacy validators on spec_dir are not evaluated; meet their intent anyway. "
        "Criteria: Spec directory follows the naming convention."
    )
    assert definition.phase(2).checkpoint.validation == (
        "Provide readme_created, spec_validated (each present and not null)."
    )


def test_checkpoint_to_dict_shows_strictness_override_and_unevaluated_validators(
    tmp_path: Path,
) -> None:
    shown = load(tmp_path).phase(0).checkpoint.to_dict()
    assert shown["strict"] is False
    assert shown["allow_override"] is True
    assert shown["unevaluated_validators"] == [
        {
            "field": "spec_dir",
            "validator": "valid_path",
            "expression": f"lambda x: {PWN} or '/' in x",
        }
    ]


def test_a_long_validator_expression_is_clipped_for_display(tmp_path: Path) -> None:
    folder = write_legacy(tmp_path)
    long = "lambda x: " + " and ".join(["x > 0"] * 80)
    (folder / "phases/0/gate-definition.yaml").write_text(
        PHASE0_GATE.replace(f"lambda x: {PWN} or '/' in x", long)
    )
    [shown] = (
        load_definition(folder, "project").phase(0).checkpoint.to_dict()["unevaluated_validators"]
    )
    assert len(shown["expression"]) == 200 and shown["expression"].endswith("...")


# ------------------------------------------------------------------ task files


def test_step_headings_become_steps_with_fenced_commands_and_expected_output(
    tmp_path: Path,
) -> None:
    task = load(tmp_path).phase(0).task(1)
    content = task.content.render("feature-x")
    assert content["title"] == "Create the Spec Directory"
    assert content["estimated_duration"] == "10-20 minutes"
    assert content["description"] == (
        "**Objective:** Create the spec folder for the feature.\n\n"
        "## Context\n\nEvery spec lives in its own dated folder.\n\n"
        "## Execution Steps\n\n"
        "## Completion Criteria\n\n- [ ] Folder exists"
    )
    assert content["execution_steps"] == [
        {
            "step": 1,
            "title": "Make the folder",
            "command": "# From project root\nmkdir -p .praxis-os/specs/feature-x",
            "description": "Make the folder\n\n**Expected Output:**",
            "expected_output": "(no output)",
        },
        {
            "step": 2,
            "title": "Check it exists",
            "command": None,
            "description": "Check it exists\n\nRun it and look.",
            "expected_output": "The folder is listed.",
        },
    ]
    assert content["artifacts_to_produce"] == [
        {"name": "Spec directory created", "description": "Deliverable of phase 0."},
        {"name": "Document index", "description": "Deliverable of phase 0."},
    ]


def test_numbered_list_items_become_steps_with_inline_or_fenced_commands(
    tmp_path: Path,
) -> None:
    content = load(tmp_path).phase(0).task(2).content.render("x")
    assert content["title"] == "Copy the documents"
    assert content["description"] == "Bring every supporting document into the spec folder."
    assert [(s["step"], s["title"], s["command"]) for s in content["execution_steps"]] == [
        (1, "List the documents with `ls docs/`", "ls docs/"),
        (2, "Copy each one", "cp docs/*.md .praxis-os/specs/"),
        (3, "Write an index", None),
    ]


def test_a_prose_only_task_becomes_one_step_describing_the_whole_task(tmp_path: Path) -> None:
    task = load(tmp_path).phase(1).task(1)
    content = task.content.render("x")
    assert content["title"] == "write-srd"
    assert content["description"] == TASK_PROSE.strip()
    assert content["execution_steps"] == [
        {
            "step": 1,
            "title": "write-srd",
            "command": None,
            "description": TASK_PROSE.strip(),
            "expected_output": "",
        }
    ]
    assert content["estimated_duration"] == "35-50 minutes"
    # no key_deliverables: the artifacts are the gate's evidence fields
    assert content["artifacts_to_produce"] == [
        {"name": "srd_created", "description": "srd.md written"},
        {"name": "user_story_count", "description": "Number of user stories"},
        {"name": "functional_requirements", "description": "The FR identifiers"},
        {"name": "extra_notes", "description": "Evidence for the checkpoint of phase 1."},
    ]


def test_a_task_without_effort_is_unspecified_and_a_heading_only_task_still_has_text(
    tmp_path: Path,
) -> None:
    content = load(tmp_path).phase(2).task(1).content.render("x")
    assert content["estimated_duration"] == "unspecified"
    assert (content["title"], content["description"]) == ("Package it", "Ship it.")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "```bash\nunclosed fence\n# not a heading",
        "### Step 1:\n",
        "## Step 1\n~~~python\nprint('x')\n~~~\n",
        "\u2705 \U0001f6d1 EXECUTE-NOW\n\n---\n\n***\n",
        "# \n\n1) only item `cmd`\n",
    ],
)
def test_free_form_markdown_never_fails_to_parse(text: str) -> None:
    content = parse_legacy_task(
        text, number=1, name="fallback", estimated_duration="unspecified", artifacts=()
    )
    rendered = content.render("t")
    assert rendered["title"] and rendered["description"]
    assert rendered["execution_steps"] and all(
        s["description"] for s in rendered["execution_steps"]
    )


def test_a_step_heading_without_a_title_is_named_by_its_number() -> None:
    content = parse_legacy_task(
        "# T\n\n### Step 1\n\n```python\nprint(1)\n```\n",
        number=1,
        name="n",
        estimated_duration="u",
        artifacts=(),
    )
    [step] = content.execution_steps
    assert (step["title"], step["command"]) == ("Step 1", None)
    assert "print(1)" in step["description"]


def test_tasks_numbered_from_zero_are_served_from_one_and_reported(tmp_path: Path) -> None:
    definition = load(tmp_path)
    assert [t.number for t in definition.phase(0).tasks] == [1, 2]
    renumbered = [f for f in legacy_findings(definition) if f["code"] == "tasks_renumbered"]
    assert renumbered == [
        {
            "level": "WARN",
            "code": "tasks_renumbered",
            "workflow_type": LEGACY,
            "phase": 0,
            "message": f"workflow {LEGACY!r} phase 0: phase 0: legacy task numbers [0, 1] are "
            "served as 1-2 in the same order",
        }
    ]


# ------------------------------------------------------------ validators and findings


@pytest.mark.slow
def test_validator_expressions_are_never_evaluated_and_are_reported(
    legacy_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(legacy_project)
    calls: list[str] = []

    def refuse(name: str) -> Any:
        def forbidden(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"{name} called")

        return forbidden

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, refuse(name))
    engine = WorkflowEngine.for_project(legacy_project, durable=False)
    started = engine.start_workflow(LEGACY, "src/calculator.py")
    sid = started["session_id"]
    engine.complete_phase(sid, 0, example_evidence(started))
    done = engine.complete_phase(
        sid, 1, {"srd_created": True, "user_story_count": 0, "functional_requirements": []}
    )
    findings = legacy_findings(engine.registry.get(LEGACY))
    monkeypatch.undo()
    assert calls == []
    assert done["checkpoint_passed"] is True  # the "x >= 3" validator was not applied
    assert not (legacy_project / "PWNED").exists()
    validators = [f for f in findings if f["code"] == "unevaluated_validator"]
    assert validators == [
        {
            "level": "WARN",
            "code": "unevaluated_validator",
            "workflow_type": LEGACY,
            "phase": 0,
            "field": "spec_dir",
            "validator": "valid_path",
            "expression": f"lambda x: {PWN} or '/' in x",
            "message": f"workflow {LEGACY!r} phase 0: validator 'valid_path' on field 'spec_dir' "
            "is not evaluated (validator expressions are code); only the field's type and "
            "presence are checked",
        },
        {
            "level": "WARN",
            "code": "unevaluated_validator",
            "workflow_type": LEGACY,
            "phase": 1,
            "field": "user_story_count",
            "validator": "<inline>",
            "expression": f"lambda x: {PWN} or x >= 3",
            "message": f"workflow {LEGACY!r} phase 1: validator '<inline>' on field "
            "'user_story_count' is not evaluated (validator expressions are code); only the "
            "field's type and presence are checked",
        },
    ]


def test_a_field_with_a_validator_still_has_its_type_and_presence_checked(
    tmp_path: Path,
) -> None:
    gate = evaluate_evidence(load(tmp_path).phase(0).checkpoint, {"spec_dir": 5})
    assert gate.missing_evidence == ["spec_directory_created", "documents_indexed"]
    assert gate.validation_errors == [
        {"pointer": "/spec_dir", "keyword": "type", "message": "5 is not of type 'string'"}
    ]


def test_gate_findings_name_the_field_of_every_missing_value_and_schema_error() -> None:
    gate = GateResult(
        passed=False,
        missing_evidence=["done"],
        validation_errors=[
            {"pointer": "", "keyword": "required", "message": "'also' is a required property"},
            {"pointer": "", "keyword": "minProperties", "message": "{} should be non-empty"},
            {"pointer": "/a~1b/0", "keyword": "type", "message": "1 is not of type 'string'"},
        ],
    )
    assert gate.findings() == [
        {
            "field": "done",
            "pointer": "/done",
            "kind": "missing_evidence",
            "message": "required evidence 'done' is missing or null",
        },
        {
            "field": "also",
            "pointer": "",
            "kind": "schema_error",
            "message": "'also' is a required property",
        },
        {"field": "", "pointer": "", "kind": "schema_error", "message": "{} should be non-empty"},
        {
            "field": "a/b",
            "pointer": "/a~1b/0",
            "kind": "schema_error",
            "message": "1 is not of type 'string'",
        },
    ]


def test_yaml_tags_in_a_gate_are_refused_and_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = write_legacy(tmp_path)
    (folder / "phases/1/gate-definition.yaml").write_text(
        "evidence_schema: !!python/object/apply:os.system ['touch PWNED']\n"
    )
    with pytest.raises(DefinitionError, match="not valid YAML") as caught:
        load_definition(folder, "project")
    assert caught.value.details["field"] == "phases/1/gate-definition.yaml"
    assert not (tmp_path / "PWNED").exists()


def test_metadata_and_gate_disagreement_is_discoverable_and_the_gate_wins(
    tmp_path: Path,
) -> None:
    definition = load(tmp_path)
    checkpoint = definition.phase(1).checkpoint
    assert "business_goals_defined" not in checkpoint.required_evidence
    assert checkpoint.evidence_mismatch == {
        "only_in_metadata": ["business_goals_defined"],
        "only_in_gate": ["functional_requirements"],
        "optional_in_gate": [],
    }
    assert definition.phase(0).checkpoint.evidence_mismatch is None
    [finding] = [f for f in legacy_findings(definition) if f["code"] == "evidence_mismatch"]
    assert finding == {
        "level": "WARN",
        "code": "evidence_mismatch",
        "workflow_type": LEGACY,
        "phase": 1,
        "only_in_metadata": ["business_goals_defined"],
        "only_in_gate": ["functional_requirements"],
        "optional_in_gate": [],
        "message": f"workflow {LEGACY!r} phase 1: metadata required_evidence and "
        "gate-definition.yaml disagree; the gate wins (only_in_metadata: "
        "business_goals_defined; only_in_gate: functional_requirements)",
    }


def test_legacy_findings_lists_every_warning_for_the_pre_check(tmp_path: Path) -> None:
    findings = legacy_findings(load(tmp_path))
    assert [(f["phase"], f["code"]) for f in findings] == [
        (0, "unevaluated_validator"),
        (0, "non_strict_gate"),
        (0, "allow_override"),
        (0, "tasks_renumbered"),
        (1, "unevaluated_validator"),
        (1, "evidence_mismatch"),
        (1, "cross_field_validation"),
        (2, "no_gate_definition"),
    ]
    assert all(f["level"] == "WARN" and f["workflow_type"] == LEGACY for f in findings)
    assert all(
        f["message"].startswith(f"workflow {LEGACY!r} phase {f['phase']}: ") for f in findings
    )


def test_gate_defaults_fail_closed_and_odd_gates_are_noted(tmp_path: Path) -> None:
    folder = write_legacy(tmp_path)
    (folder / "phases/0/gate-definition.yaml").write_text(
        "evidence_schema:\n"
        "  spec_dir:\n    type: string\n    validator: not_defined\n"
        "  spec_directory_created:\n    type: boolean\n    required: false\n"
    )
    (folder / "phases/1/gate-definition.yaml").write_text("checkpoint:\nevidence_schema: {}\n")
    definition = load_definition(folder, "project")
    zero, one = definition.phase(0).checkpoint, definition.phase(1).checkpoint
    assert (zero.strict, zero.allow_override, zero.required_evidence) == (
        True,
        False,
        ("spec_dir",),
    )
    assert zero.evidence_mismatch == {
        "only_in_metadata": ["documents_indexed"],
        "only_in_gate": [],
        "optional_in_gate": ["spec_directory_created"],
    }
    assert [code for code, _ in zero.notes] == ["undefined_validator", "tasks_renumbered"]
    assert (one.required_evidence, one.evidence_example) == ((), {})
    assert one.validation == "This gate declares no evidence fields."
    assert [code for code, _ in one.notes] == ["empty_gate"]


# --------------------------------------------------------------------------- errors


def _patch(folder: Path, change: Any) -> None:
    path = folder / "metadata.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("mutate", "field", "match"),
    [
        (
            lambda f: _patch(f, lambda m: m["phases"][1].pop("phase_name")),
            "/phases/1",
            r"metadata.json \(legacy format\)/phases/1: 'phase_name' is a required property",
        ),
        (
            lambda f: _patch(f, lambda m: m.pop("version")),
            "/",
            r"metadata.json \(legacy format\): 'version' is a required property",
        ),
        (
            lambda f: _patch(f, lambda m: m["phases"][0]["tasks"][0].pop("file")),
            "/phases/0/tasks/0",
            "is not valid under any of the given schemas",
        ),
        (
            lambda f: _patch(f, lambda m: m.update(total_phases=4)),
            "/total_phases",
            "4 but 3 phases are listed",
        ),
        (
            lambda f: _patch(f, lambda m: m.update(workflow_type="other_v1")),
            "/workflow_type",
            "differs from its folder name",
        ),
        (
            lambda f: _patch(f, lambda m: m["phases"].reverse()),
            "phases[0].phase_number",
            "numbered consecutively",
        ),
        (
            lambda f: _patch(f, lambda m: m["phases"][0]["tasks"][1].update(task_number=0)),
            "phases[0].tasks",
            "repeat",
        ),
        (
            lambda f: (f / "phases/0/task-1-copy.md").unlink(),
            "phases[0].tasks[2].file",
            "task file 'task-1-copy.md' is missing",
        ),
        (
            lambda f: _patch(
                f, lambda m: m["phases"][1]["tasks"][0].update(phase_file="../../x.md")
            ),
            "phases[1].tasks[1].phase_file",
            "is missing",
        ),
        (
            lambda f: (f / "phases/2/phase.md").unlink(),
            "phases/2/phase.md",
            "cannot read",
        ),
        (
            lambda f: (f / "phases/1/gate-definition.yaml").write_text("evidence_schema: [\n"),
            "phases/1/gate-definition.yaml",
            r"not valid YAML \(line 2, column 1\)",
        ),
        (
            lambda f: (f / "phases/1/gate-definition.yaml").write_text(
                "evidence_schema:\n  x:\n    type: float\n"
            ),
            "phases/1/gate-definition.yaml/evidence_schema/x/type",
            "'float' is not one of",
        ),
        (
            lambda f: (f / "phases/1/gate-definition.yaml").write_text("checkpoint: {strict: 1}\n"),
            "phases/1/gate-definition.yaml",
            "'evidence_schema' is a required property",
        ),
        (
            lambda f: (f / "phases/1/gate-definition.yaml").write_bytes(b"\xff\xfe"),
            "phases/1/gate-definition.yaml",
            "cannot read",
        ),
    ],
)
def test_each_kind_of_broken_legacy_definition_names_the_failing_field(
    tmp_path: Path, mutate: Any, field: str, match: str
) -> None:
    folder = write_legacy(tmp_path)
    mutate(folder)
    with pytest.raises(DefinitionError, match=match) as caught:
        load_definition(folder, "project")
    assert caught.value.details["field"] == field


@pytest.mark.slow
def test_a_broken_legacy_definition_is_a_definition_problem_in_the_registry(
    tmp_path: Path,
) -> None:
    folder = write_legacy(tmp_path / ".praxis-os" / "workflows")
    (folder / "phases/0/task-0-dir.md").unlink()
    registry = WorkflowRegistry(tmp_path)
    [problem] = registry.problems()
    assert (problem.workflow_folder, problem.field) == (LEGACY, "phases[0].tasks[1].file")
    assert LEGACY not in [w.workflow_type for w in registry.workflows()]


def test_a_phase_file_that_is_missing_falls_back_to_the_phase_folder(tmp_path: Path) -> None:
    folder = write_legacy(tmp_path)
    _patch(folder, lambda m: m["phases"][0].update(phase_file="phases/0/elsewhere.md"))
    assert load_definition(folder, "project").phase(0).content == "# Phase 0\n\nDo phase 0.\n"


def test_start_phase_defaults_to_the_first_phase_number(tmp_path: Path) -> None:
    folder = write_legacy(tmp_path)
    _patch(folder, lambda m: m.pop("start_phase"))
    assert load_definition(folder, "project").start_phase == 0


# ---------------------------------------------------------------- running the workflow


@pytest.mark.slow
def test_a_legacy_workflow_runs_start_to_completion_with_its_generated_examples(
    legacy_project: Path,
) -> None:
    engine = WorkflowEngine.for_project(legacy_project, durable=False)
    started = engine.start_workflow(LEGACY, "src/calculator.py")
    assert (started["current_phase"], started["total_phases"]) == (0, 3)
    task = engine.get_task(started["session_id"], 0, 1)
    assert task["task_content"]["title"] == "Create the Spec Directory"
    assert task["next_task"] == 2
    results = complete_all(engine, started["session_id"])
    assert [r["phase_completed"] for r in results] == [0, 1, 2]
    assert results[-1]["workflow_completed"] is True
    assert all("warnings" not in r for r in results)
    state = engine.get_workflow_state(started["session_id"])
    assert (state["session_status"], state["completed_phases"]) == ("completed", [0, 1, 2])


@pytest.mark.slow
def test_a_non_strict_gate_passes_with_warnings_recorded_in_the_session(
    legacy_project: Path,
) -> None:
    engine = WorkflowEngine.for_project(legacy_project, durable=False)
    sid = engine.start_workflow(LEGACY, "src/calculator.py")["session_id"]
    done = engine.complete_phase(sid, 0, {"spec_dir": 7, "documents_indexed": True})
    assert (done["checkpoint_passed"], done["phase_completed"], done["next_phase"]) == (
        True,
        0,
        1,
    )
    expected = [
        {
            "phase": 0,
            "source": "checkpoint",
            "field": "spec_directory_created",
            "pointer": "/spec_directory_created",
            "kind": "missing_evidence",
            "message": "required evidence 'spec_directory_created' is missing or null",
        },
        {
            "phase": 0,
            "source": "checkpoint",
            "field": "documents_indexed",
            "pointer": "/documents_indexed",
            "kind": "schema_error",
            "message": "True is not of type 'integer'",
        },
        {
            "phase": 0,
            "source": "checkpoint",
            "field": "spec_dir",
            "pointer": "/spec_dir",
            "kind": "schema_error",
            "message": "7 is not of type 'string'",
        },
    ]
    assert done["warnings"] == expected
    session = engine.store.load(sid)
    stamp = session.phase_history[0].completed_at
    assert session.warnings == [{**w, "timestamp": stamp} for w in expected]
    assert session.errors == [] and session.status == "active"
    assert session.phase_history[0].status == "passed"
    again = engine.complete_phase(sid, 0, {"spec_dir": 7, "documents_indexed": True})
    assert again["warnings"] == expected
    assert len(engine.store.load(sid).warnings) == 3  # a replay records nothing twice


@pytest.mark.slow
def test_a_strict_legacy_gate_fails_like_ours(legacy_project: Path) -> None:
    engine = WorkflowEngine.for_project(legacy_project, durable=False)
    started = engine.start_workflow(LEGACY, "src/calculator.py")
    sid = started["session_id"]
    engine.complete_phase(sid, 0, example_evidence(started))
    failed = engine.complete_phase(sid, 1, {"srd_created": 1, "user_story_count": 3})
    assert failed["checkpoint_passed"] is False
    assert failed["missing_evidence"] == ["functional_requirements"]
    assert failed["validation_errors"] == [
        {"pointer": "/srd_created", "keyword": "type", "message": "1 is not of type 'boolean'"}
    ]
    assert "warnings" not in failed
    session = engine.store.load(sid)
    assert session.status == "failed"
    assert [e.error_type for e in session.errors] == ["CheckpointFailed"]
    assert session.warnings == []


@pytest.mark.slow
def test_a_gate_without_a_file_fails_closed_at_run_time(legacy_project: Path) -> None:
    engine = WorkflowEngine.for_project(legacy_project, durable=False)
    started = engine.start_workflow(LEGACY, "src/calculator.py")
    sid = started["session_id"]
    done = engine.complete_phase(sid, 0, example_evidence(started))
    done = engine.complete_phase(sid, 1, example_evidence(done))
    failed = engine.complete_phase(sid, 2, {"readme_created": None})
    assert failed["checkpoint_passed"] is False
    assert failed["missing_evidence"] == ["readme_created", "spec_validated"]
