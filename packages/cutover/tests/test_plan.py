"""The cutover plan: shipped default, schema, consistency checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pos_cutover import (
    LEGACY_TOOL_NAMES,
    PlanError,
    default_plan,
    load_plan,
    parse_plan,
    plan_schema,
    thresholds,
)

SPECS = Path(__file__).resolve().parents[3] / "specs"


def test_default_plan_removes_the_old_group_and_targets_workflow_and_server_info() -> None:
    plan = default_plan()

    assert (plan.remove_groups, plan.add_groups, plan.keep_groups) == (
        ("workflow_legacy",),
        ("workflow",),
        ("server_info",),
    )
    assert plan.target_groups == ("workflow", "server_info")
    assert (plan.expected_before, plan.expected_after) == (9, 3)
    assert plan.present == ("pos_workflow", "get_server_info", "current_date")
    assert plan.absent == LEGACY_TOOL_NAMES
    assert json.loads(plan.target_bytes()) == plan.target_registry


def test_shipped_schema_and_latency_targets_are_the_ones_in_specs() -> None:
    specs_thresholds = json.loads((SPECS / "thresholds.json").read_text(encoding="utf-8"))

    assert plan_schema() == json.loads(
        (SPECS / "cutover-plan.schema.json").read_text(encoding="utf-8")
    )
    assert thresholds()["actions_p95_ms"] == specs_thresholds["actions_p95_ms"]


def test_a_plan_round_trips_through_its_file_format(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(default_plan().to_dict()), encoding="utf-8")

    loaded = load_plan(path)

    assert loaded.to_dict() == default_plan().to_dict()
    assert loaded.source == str(path)


def test_an_inconsistent_plan_is_refused_with_every_problem() -> None:
    data = default_plan().to_dict()
    data["groups"] = {"remove": ["workflow"], "add": ["workflow"], "keep": ["server_info"]}
    data["target_registry"]["groups"] = ["workflow"]
    data["tools"]["absent"].append("pos_workflow")

    with pytest.raises(PlanError) as caught:
        parse_plan(json.dumps(data), "broken.json")

    assert caught.value.problems == [
        "/groups: ['workflow'] are in both 'remove' and 'add'",
        "/target_registry/groups: ['workflow'] must name exactly add + keep (['server_info', 'workflow'])",
        "/tools: ['pos_workflow'] are both present and absent",
    ]


def test_a_plan_off_schema_or_not_json_is_refused() -> None:
    data = default_plan().to_dict()
    data["expected_tools"]["after"] = 0
    data["target_registry"] = {"version": 2, "groups": []}
    data["surprise"] = True

    with pytest.raises(PlanError) as caught:
        parse_plan(json.dumps(data), "off.json")
    with pytest.raises(PlanError, match="not valid JSON"):
        parse_plan("{", "half.json")

    assert len(caught.value.problems) == 4
    assert "plan 'off.json' is not usable" in caught.value.message


def test_a_missing_plan_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot be read") as caught:
        load_plan(tmp_path / "nope.json")

    assert caught.value.remediation == "Check the --plan path."
