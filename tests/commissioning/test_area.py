"""Area evaluation: exact on noise-free panels, calibrated on simulated ones, and on the
synthetic partnership it finds the planted intervention and few effects in placebos."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from svduty.commissioning.area import (
    EvaluationError,
    Units,
    _did,
    _synth,
    _units,
    did,
    evaluate_area,
    event_study,
    placebos,
    synthetic_control,
)
from svduty.commissioning.outcomes import monthly_by_area

START = dt.date(2025, 1, 1)


def panel_from(series: dict[str, list[float]], first: dt.date = dt.date(2024, 1, 1)):
    rows = []
    for code, values in series.items():
        for t, v in enumerate(values):
            month = dt.date(
                first.year + (first.month - 1 + t) // 12, (first.month - 1 + t) % 12 + 1, 1
            )
            rows.append({"csp24_code": code, "month": month, "crimes": v})
    return pd.DataFrame(rows)


def seasonal(level: float, months: int = 24, phase: float = 0.0, amp: float = 0.2) -> np.ndarray:
    t = np.arange(months)
    return level * (1 + amp * np.sin(2 * np.pi * (t + phase) / 12))


def noise_free(effect: float, treated: tuple[str, ...] = ("A",)) -> pd.DataFrame:
    """Six areas of different sizes, one seasonal pattern, ``treated`` x (1 + effect) from 2025."""
    series = {}
    for i, code in enumerate("ABCDEF"):
        y = seasonal(40.0 * (i + 1))
        if code in treated:
            y[12:] *= 1 + effect
        series[code] = list(y)
    return panel_from(series)


def simulate(rng: np.random.Generator, effect: float) -> pd.DataFrame:
    """A panel drawn like the synthetic partnership: six areas of 34-71 LSOAs, LSOA rates that
    differ, a common seasonality, negative binomial LSOA-month counts (gamma shape 4), area
    ``A1`` multiplied by 1 + ``effect`` from month 12 of 24."""
    season = 1 + 0.12 * np.cos(2 * np.pi * (np.arange(24) - 6) / 12)
    series = {}
    for a, n in enumerate([71, 51, 51, 45, 48, 34]):
        mu = rng.lognormal(-0.6, 0.5, n)[:, None] * season[None, :]
        if a == 1:
            mu[:, 12:] *= 1 + effect
        series[f"A{a}"] = list(rng.poisson(rng.gamma(4.0, mu / 4.0)).sum(axis=0))
    return panel_from(series)


@pytest.mark.parametrize("effect", [-0.3, -0.05, 0.2])
def test_noise_free_effect_is_recovered_exactly(effect: float) -> None:
    panel = noise_free(effect)
    assert did(panel, ["A"], START)["estimate"] == pytest.approx(effect, abs=1e-9)
    sc = synthetic_control(panel, ["A"], START)
    assert sc["estimate"] == pytest.approx(effect, abs=1e-9)
    assert sc["pre_rmspe"] == pytest.approx(0, abs=1e-9)
    rows = event_study(panel, ["A"], START)["coefficients"]
    for r in rows:
        expected = effect if r["relative_month"] >= 0 else 0.0
        assert r["estimate"] == pytest.approx(expected, abs=1e-9)


def test_several_treated_areas_are_one_unit() -> None:
    panel = noise_free(-0.2, treated=("A", "C"))
    r = evaluate_area(panel, ["A", "C"], START, with_placebos=False)
    assert r["comparison_areas"] == ["B", "D", "E", "F"]
    assert r["did"]["estimate"] == pytest.approx(-0.2, abs=1e-9)
    assert r["synthetic_control"]["estimate"] == pytest.approx(-0.2, abs=1e-9)


def test_did_one_post_month_is_the_ratio_of_ratios() -> None:
    """Hand-worked: with two areas, two months before and one after, the treated post cell
    has its own parameter, the pre-period is an independence model (area effects are ratios
    of row sums), so exp(beta) = (treated after / treated before) / (other after / other
    before), the before counts summed."""
    panel = panel_from({"T": [50, 40, 30], "C": [80, 70, 96]})
    got = did(panel, ["T"], dt.date(2024, 3, 1))["estimate"]
    assert got == pytest.approx((30 / 90) / (96 / 150) - 1, abs=1e-9)


def test_synthetic_weights_recover_a_known_mix() -> None:
    b, c = seasonal(30, phase=0), seasonal(90, phase=4, amp=0.35)
    nb, nc = b / b[:12].mean(), c / c[:12].mean()
    a = 55 * (0.3 * nb + 0.7 * nc)
    a[12:] *= 0.8
    panel = panel_from({"A": list(a), "B": list(b), "C": list(c), "D": list(seasonal(20, 8, 0.5))})
    sc = synthetic_control(panel, ["A"], START)
    assert sc["weights"] == pytest.approx({"B": 0.3, "C": 0.7, "D": 0.0}, abs=1e-6)
    assert sc["estimate"] == pytest.approx(-0.2, abs=1e-9)


def test_too_few_months_before_or_after() -> None:
    panel = noise_free(-0.2)
    early = evaluate_area(panel, ["A"], dt.date(2024, 4, 1))
    assert early["supported"] is False and early["months_before"] == 3
    assert "3 month(s) of data before the start" in early["reasons"][0]
    assert early["did"] is None and early["synthetic_control"] is None
    late = evaluate_area(panel, ["A"], dt.date(2025, 11, 1))
    assert late["supported"] is False
    assert any("2 month(s) of data from the start" in r for r in late["reasons"])


def test_too_few_events() -> None:
    panel = noise_free(-0.2)
    panel["crimes"] = panel["crimes"] / 40  # area A: about 1 a month
    r = evaluate_area(panel, ["A"], START)
    assert r["supported"] is False
    assert any("event(s) in the treated area(s) before the start" in x for x in r["reasons"])
    assert r["did"] is None


def test_no_comparison_area() -> None:
    panel = noise_free(-0.2)
    r = evaluate_area(panel, list("ABCDEF"), START)
    assert r["supported"] is False
    assert any("no comparison area" in x for x in r["reasons"])


def test_poor_synthetic_fit_is_not_a_conclusion() -> None:
    """An area whose seasonality runs against every donor's cannot be matched."""
    series = {code: list(seasonal(100.0 * (i + 1))) for i, code in enumerate("BCDE")}
    series["A"] = list(seasonal(400, phase=6, amp=0.5))
    r = evaluate_area(panel_from(series), ["A"], START, with_placebos=False)
    assert r["synthetic_control"]["supported"] is False
    assert r["supported"] is False
    assert any("synthetic control does not track" in x for x in r["reasons"])
    assert r["did"]["estimate"] is not None


def test_unknown_area_is_an_error() -> None:
    with pytest.raises(EvaluationError, match="Z9 not in the panel"):
        evaluate_area(noise_free(0.0), ["Z9"], START)


def test_deterministic() -> None:
    panel = simulate(np.random.default_rng(5), -0.25)
    first = evaluate_area(panel, ["A1"], START)
    second = evaluate_area(panel.sample(frac=1, random_state=3), ["A1"], START)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def _rates(effect: float, reps: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    hits: dict[str, list[tuple[bool, bool]]] = {"did": [], "sc": []}
    for _ in range(reps):
        u: Units = _units(simulate(rng, effect), ["A1"], START)
        for name, r in (("did", _did(u, 0.05)), ("sc", _synth(u, 0.05))):
            covered = r["ci_low"] <= effect <= r["ci_high"]
            hits[name].append((covered, r["ci_low"] > 0 or r["ci_high"] < 0))
    return {k: np.array(v) for k, v in hits.items()}


def test_calibrated_on_simulated_partnerships() -> None:
    """On 150 panels drawn like the synthetic partnership, with no effect and with -25%:
    95% intervals cover the truth about 95% of the time (not significantly less, one-sided
    binomial test at 1%), and a -25% fall is usually detected."""
    null, planted = _rates(0.0, 150, seed=1), _rates(-0.25, 150, seed=2)
    for method in ("did", "sc"):
        for rates in (null, planted):
            misses = int((~rates[method][:, 0]).sum())
            assert stats.binom.sf(misses - 1, 150, 0.05) > 0.01, (method, misses)
        assert planted[method][:, 1].mean() >= 0.6, method


@pytest.fixture(scope="module")
def evaluation(synthetic_warehouse: Any) -> dict[str, Any]:
    planted = synthetic_warehouse.planted["intervention"]
    panel = monthly_by_area(synthetic_warehouse.con)
    start = dt.date.fromisoformat(planted["start"] + "-01")
    return evaluate_area(panel, [planted["csp24_code"]], start)


def test_synthetic_partnership_intervals_contain_the_planted_effect(
    synthetic_warehouse: Any, evaluation: dict[str, Any]
) -> None:
    effect = synthetic_warehouse.planted["intervention"]["effect"]
    assert evaluation["supported"], evaluation["reasons"]
    for method in ("did", "synthetic_control"):
        r = evaluation[method]
        assert r["ci_low"] <= effect <= r["ci_high"], (method, r)
        assert r["estimate"] < 0, method


def test_synthetic_partnership_placebos(evaluation: dict[str, Any]) -> None:
    """Fake interventions (each untreated area at each start month, and the treated area at
    fake starts before its real one) are found significant no more often than the nominal 5%,
    by each method. Two untreated areas have a real rise from 2025-01 (an emerging hotspot): the
    difference-in-differences interval allows for such area-level shifts (estimated from the
    comparison areas) and so does not mistake them for an intervention's effect."""
    pl = evaluation["placebos"]
    assert len(pl["runs"]) >= 50
    assert {r["kind"] for r in pl["runs"]} == {"in-space", "in-time"}
    for method in ("did", "synthetic_control"):
        summary = pl[method]
        assert summary["runs"] >= 50
        assert summary["share"] <= 0.05, summary


def test_placebos_on_a_noise_free_panel_find_nothing() -> None:
    pl = placebos(noise_free(-0.3), ["A"], START)
    assert pl["did"]["runs"] == 5 * 16 + 4
    assert pl["did"]["significant"] == 0 and pl["synthetic_control"]["significant"] == 0
    assert all(math.isclose(r["did"]["estimate"], 0, abs_tol=1e-9) for r in pl["runs"])
