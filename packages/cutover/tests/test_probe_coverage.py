"""An action the probe walk never calls fails the verification: it proved nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pos_cutover import ServerLauncher, _probe, connect
from pos_cutover._probe import smoke_actions
from pos_tool import ACTIONS

pytestmark = pytest.mark.anyio


async def test_a_new_action_without_a_probe_case_fails_the_smoke(
    tmp_path: Path, launcher: ServerLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A maintainer adds a row to the action table but no step to the probe walk.
    added = dataclasses.replace(ACTIONS["get_errors"], name="get_metrics")
    monkeypatch.setattr(_probe, "ACTIONS", {**ACTIONS, "get_metrics": added})

    async with connect(tmp_path, launcher, durable=False) as server:
        results = {r.action: r for r in await smoke_actions(server, "t")}

    assert (results["get_metrics"].ok, results["get_metrics"].detail) == (False, "not called")
    assert all(r.ok for name, r in results.items() if name != "get_metrics"), results
