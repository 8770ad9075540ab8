"""``svduty evaluate`` by the register's references, on the synthetic partnership whose demo
loads the register: the area and cohort evaluations of its planted projects."""

from __future__ import annotations

import json
from typing import Any

from tests.commissioning.conftest import run_on


def test_the_register_lists_the_planted_projects(warehouse: Any) -> None:
    got = run_on(warehouse, "interventions", "list", "--json")
    assert got.returncode == 0, got.stderr
    ids = {row["id"] for row in json.loads(got.stdout)}
    planted = warehouse.planted["commissioning"]
    assert set(planted["register"]) <= ids
    assert set(planted["participants"]) <= ids


def test_evaluate_area_by_intervention(warehouse: Any) -> None:
    planted = warehouse.planted["intervention"]
    got = run_on(warehouse, "evaluate", "area", "--intervention", "EB-YVP-25", "--no-placebos",
               "--json")  # fmt: skip
    assert got.returncode == 0, got.stderr
    result = json.loads(got.stdout)
    assert result["treated_areas"] == [planted["csp24_code"]]
    for method in ("did", "synthetic_control"):
        r = result[method]
        assert r["ci_low"] <= planted["effect"] <= r["ci_high"], (method, r)


def test_evaluate_cohort_json_and_text(warehouse: Any) -> None:
    planted = warehouse.planted["commissioning"]["participants"]["NM-MEN-24"]
    got = run_on(warehouse, "evaluate", "cohort", "--intervention", "NM-MEN-24", "--json")
    assert got.returncode == 0, got.stderr
    result = json.loads(got.stdout)
    police = [o for o in result["outcomes"] if o["outcome"] == "police"]
    assert [o["horizon_months"] for o in police] == [6, 12]
    for o in police:
        assert o["ci_low"] <= planted["effect"] <= o["ci_high"], o
    text = run_on(warehouse, "evaluate", "cohort", "--intervention", "NM-MEN-24")
    assert text.returncode == 0, text.stderr
    assert "fewer than the matched comparison group" in " ".join(text.stdout.split())


def test_evaluate_cohort_refuses_an_unknown_project(warehouse: Any) -> None:
    got = run_on(warehouse, "evaluate", "cohort", "--intervention", "NO-SUCH-1")
    assert got.returncode == 1
    assert "No intervention NO-SUCH-1 in the register" in " ".join(got.stderr.split())
