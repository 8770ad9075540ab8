"""Cohort evaluation on the synthetic partnership, whose participant effects are planted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from svduty.commissioning.cohort import evaluate_cohort

WORKS, NO_EFFECT, NO_LIST = "NM-MEN-24", "AY-SPT-24", "EB-YVP-25"


@pytest.fixture(scope="module")
def results(synthetic_warehouse: Any) -> dict[str, dict[str, Any]]:
    con = synthetic_warehouse.con
    return {ref: evaluate_cohort(con, ref) for ref in (WORKS, NO_EFFECT, NO_LIST)}


def _outcome(result: dict[str, Any], name: str, months: int) -> dict[str, Any]:
    found = [
        o for o in result["outcomes"] if o["outcome"] == name and o["horizon_months"] == months
    ]
    assert len(found) == 1, result["outcomes"]
    return found[0]


@pytest.mark.parametrize("months", [6, 12])
def test_recovers_the_planted_participant_effect(
    results: dict[str, dict[str, Any]], synthetic_warehouse: Any, months: int
) -> None:
    planted = synthetic_warehouse.planted["commissioning"]["participants"][WORKS]
    result = results[WORKS]
    assert result["supported"], result["reasons"]
    police = _outcome(result, "police", months)
    assert police["ci_low"] <= planted["effect"] <= police["ci_high"], police
    assert police["ci_high"] < 0, "the interval should exclude no effect"
    # most participants are matched, and the comparison group is larger than the participants
    assert result["participants"]["matched"] >= 0.8 * planted["participants"]
    assert result["comparison"]["people"] > result["participants"]["matched"]


def test_a_project_without_effect_finds_none(results: dict[str, dict[str, Any]]) -> None:
    result = results[NO_EFFECT]
    assert result["supported"], result["reasons"]
    for months in (6, 12):
        police = _outcome(result, "police", months)
        assert police["ci_low"] <= 0 <= police["ci_high"], police


def test_groups_are_alike_on_their_history(results: dict[str, dict[str, Any]]) -> None:
    balance = {b["measure"]: b for b in results[WORKS]["balance"]}
    police = balance["police recorded crimes in the lookback (mean)"]
    assert abs(police["smd"]) < 0.25
    assert abs(balance["age at referral (mean)"]["smd"]) < 0.25


def test_says_when_there_is_no_participant_list(results: dict[str, dict[str, Any]]) -> None:
    result = results[NO_LIST]
    assert result["supported"] is False
    assert result["outcomes"] == []
    assert "no participant list" in result["reasons"][0]


def test_same_data_same_answer_and_no_person_keys(
    results: dict[str, dict[str, Any]], synthetic_warehouse: Any
) -> None:
    con = synthetic_warehouse.con
    again = evaluate_cohort(con, WORKS)
    assert json.dumps(again, sort_keys=True, default=str) == json.dumps(
        results[WORKS], sort_keys=True, default=str
    )
    keys = con.table("person_links").linked_key.to_pyarrow().to_pylist()
    text = json.dumps(results, default=str)
    assert not [k for k in keys[:5000] if k and k in text]
