"""The dispatch table and argument checks, without MCP."""

from __future__ import annotations

import ast

import pytest
from pos_tool import ACTIONS, PARAMETERS, VALID_ACTIONS
from pos_tool._actions import GROUPS, ActionInputError, parse_call


def test_the_table_has_the_14_actions_of_the_design_in_their_groups() -> None:
    groups = {name: spec.group for name, spec in ACTIONS.items()}
    assert groups == {
        "list_workflows": "discovery",
        "start": "execution",
        "get_phase": "execution",
        "get_task": "execution",
        "complete_phase": "execution",
        "get_state": "execution",
        "list_sessions": "management",
        "get_session": "management",
        "delete_session": "management",
        "pause": "management",
        "resume": "management",
        "retry_phase": "recovery",
        "rollback": "recovery",
        "get_errors": "recovery",
    }
    assert tuple(groups) == VALID_ACTIONS
    assert set(GROUPS) == set(groups.values())


def test_required_and_optional_parameters_match_the_design_table() -> None:
    table = {name: (spec.required, spec.optional) for name, spec in ACTIONS.items()}
    sid = ("session_id",)
    assert table == {
        "list_workflows": ((), ("category",)),
        "start": (("workflow_type", "target_file"), ("options",)),
        "get_phase": (sid, ()),
        "get_task": (("session_id", "phase", "task_number"), ()),
        "complete_phase": (("session_id", "phase", "evidence"), ()),
        "get_state": (sid, ()),
        "list_sessions": ((), ("status",)),
        "get_session": (sid, ()),
        "delete_session": (sid, ("reason",)),
        "pause": (sid, ("checkpoint_note",)),
        "resume": (sid, ()),
        "retry_phase": (("session_id", "phase"), ("reset_evidence", "replan")),
        "rollback": (("session_id", "to_phase"), ()),
        "get_errors": (sid, ()),
    }


def test_parameters_are_in_the_signature_order_of_the_brief() -> None:
    assert tuple(PARAMETERS) == (
        "action", "session_id", "workflow_type", "target_file", "options", "phase", "task_number",
        "evidence", "category", "status", "reason", "checkpoint_note", "reset_evidence", "replan",
        "to_phase",
    )  # fmt: skip


def test_every_parameter_but_action_is_used_by_some_action() -> None:
    used = {name for spec in ACTIONS.values() for name in spec.parameters}
    assert used == set(PARAMETERS) - {"action"}


@pytest.mark.parametrize("name", VALID_ACTIONS)
def test_every_example_call_passes_the_argument_checks(name: str) -> None:
    spec = ACTIONS[name]
    checked = parse_call({"action": name, **spec.example})
    assert checked.spec is spec
    assert checked.params == dict(spec.example)


@pytest.mark.parametrize("name", VALID_ACTIONS)
def test_every_example_call_is_a_valid_python_call_expression(name: str) -> None:
    call = ast.parse(ACTIONS[name].example_call(), mode="eval").body
    assert isinstance(call, ast.Call)
    keywords = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg != "evidence"}
    assert keywords["action"] == name


def test_null_values_count_as_not_given() -> None:
    checked = parse_call(
        {"action": "list_sessions", "status": None, "session_id": None, "phase": None}
    )
    assert checked.params == {}


def test_a_call_collects_every_finding_before_failing() -> None:
    with pytest.raises(ActionInputError) as caught:
        parse_call({"action": "get_task", "phase": "one", "evidence": {}}, sent=["bogus"])
    error = caught.value
    assert error.message == (
        "get_task requires session_id, phase and task_number; session_id and task_number are missing; "
        "evidence is not a parameter of get_task; unknown argument 'bogus': pos_workflow has no such "
        "parameter; phase must be an integer, got str 'one'"
    )
    assert error.details["missing_parameters"] == ["session_id", "task_number"]
    assert error.details["unexpected_parameters"] == ["evidence"]
    assert error.details["unknown_arguments"] == ["bogus"]
    assert [p["parameter"] for p in error.details["invalid_parameters"]] == ["phase"]


def test_a_misspelt_action_gets_a_suggestion() -> None:
    with pytest.raises(ActionInputError) as caught:
        parse_call({"action": "complete_phse"})
    assert "did you mean 'complete_phase'?" in caught.value.message
    assert caught.value.to_dict()["valid_actions"] == list(VALID_ACTIONS)


@pytest.mark.parametrize(
    ("old_tool", "action"),
    [
        ("start_workflow", "start"),
        ("get_current_phase", "get_phase"),
        ("get_workflow_state", "get_state"),
    ],
)
def test_an_archived_tool_name_sent_as_action_points_to_its_replacement(
    old_tool: str, action: str
) -> None:
    with pytest.raises(ActionInputError) as caught:
        parse_call({"action": old_tool})
    assert f"did you mean {action!r}?" in caught.value.message


def test_a_non_string_action_is_named_with_its_type() -> None:
    with pytest.raises(ActionInputError) as caught:
        parse_call({"action": 7})
    assert caught.value.message == "action must be a string, got int 7"


def test_booleans_are_not_accepted_as_integers() -> None:
    with pytest.raises(ActionInputError) as caught:
        parse_call({"action": "rollback", "session_id": "abc", "to_phase": True})
    assert caught.value.message == "to_phase must be an integer, got bool True"


def test_the_remediation_example_reuses_the_callers_well_typed_values() -> None:
    with pytest.raises(ActionInputError) as caught:
        parse_call({"action": "get_task", "session_id": "my_session", "phase": "two"})
    assert caught.value.remediation == (
        "get_task requires session_id, phase and task_number. "
        'Call it like: pos_workflow(action="get_task", session_id="my_session", phase=1, task_number=1)'
    )


def test_example_calls_render_booleans_and_lists_as_python_literals() -> None:
    call = ACTIONS["retry_phase"].example_call({"reset_evidence": True, "phase": 2})
    evidence_call = ACTIONS["complete_phase"].example_call(
        {"evidence": {"items": ["a", 1], "ok": False}}
    )

    assert call.endswith("phase=2, reset_evidence=True)")
    assert 'evidence={"items": ["a", 1], "ok": False})' in evidence_call
    assert ast.literal_eval(evidence_call.split("evidence=", 1)[1][:-1]) == {
        "items": ["a", 1],
        "ok": False,
    }


def test_an_integer_parameter_accepts_a_json_integer_written_with_a_fraction() -> None:
    call = parse_call({"action": "get_task", "session_id": "s1", "phase": 1.0, "task_number": 2})

    assert call.params == {"session_id": "s1", "phase": 1, "task_number": 2}
    assert type(call.params["phase"]) is int


def test_a_fractional_number_is_still_not_an_integer() -> None:
    with pytest.raises(ActionInputError, match=r"phase must be an integer, got float 1\.5"):
        parse_call({"action": "get_task", "session_id": "s1", "phase": 1.5, "task_number": 2})
