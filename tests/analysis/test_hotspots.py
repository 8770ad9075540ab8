"""Hotspots: Gi* against the Ord & Getis formula, the false discovery rate against statsmodels,
the LSOA change test's error rate on simulated over-dispersed counts, and the synthetic
partnership's planted persistent and emerging hotspots."""

from __future__ import annotations

import json

import numpy as np
import pytest
from libpysal.weights import lat2W
from scipy import stats
from shapely import box
from statsmodels.stats.multitest import multipletests

from svduty.analysis.definition import load_definition
from svduty.analysis.hotspots import (
    benjamini_hochberg,
    gi_star,
    hotspots,
    queen_from_polygons,
    queen_weights,
)
from svduty.analysis.persistence import hotspot_change, lsoa_change, split_months
from svduty.analysis.scope import Scope
from svduty.errors import ConfigError
from tests.warehouses import Warehouse

DEFAULT = load_definition()


# ---- pure ---------------------------------------------------------------------------------


def test_benjamini_hochberg_equals_statsmodels() -> None:
    rng = np.random.default_rng(8)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 0.001, 20), [0.01, 0.01, 1.0]])
    expected = multipletests(p, alpha=0.05, method="fdr_bh")[1]
    assert benjamini_hochberg(p) == pytest.approx(expected)


def test_gi_star_equals_the_ord_getis_formula_with_binary_weights() -> None:
    rng = np.random.default_rng(2)
    w = lat2W(8, 8, rook=False)
    y = rng.poisson(rng.gamma(2.0, 5.0, 64)).astype(float)
    g = gi_star(y, w, permutations=99, seed=1)
    wm = w.full()[0] + np.eye(64)
    wi, s1 = wm.sum(axis=1), (wm**2).sum(axis=1)
    z = (wm @ y - y.mean() * wi) / (y.std() * np.sqrt((64 * s1 - wi**2) / 63))
    assert g["z"].to_numpy() == pytest.approx(z)
    assert g["p_value"].to_numpy() == pytest.approx(2 * stats.norm.sf(np.abs(z)))
    assert ((g["p_sim"] > 0) & (g["p_sim"] <= 0.5)).all()
    assert set(g["band"].dropna()) <= {90, 95, 99}


def test_gi_star_without_variation_calls_nothing_significant() -> None:
    g = gi_star([0.0] * 9 + [0.0], lat2W(2, 5), permutations=0)
    assert g["z"].isna().all() and (g["class"] == "not significant").all()


def test_an_island_is_joined_to_its_nearest_area_and_gets_a_z() -> None:
    x, y = [0.10, 0.11, 0.12, 0.13], [52.20, 52.21, 52.22, 52.23]  # shared corners, exactly
    cells = [box(x[i], y[j], x[i + 1], y[j + 1]) for j in range(3) for i in range(3)]
    cells.append(box(0.15, 52.17, 0.16, 52.18))  # apart, below the bottom-right cell
    codes = [f"E0100000{i}" for i in range(10)]
    w, joined = queen_from_polygons(codes, cells)
    assert joined == [{"lsoa": "E01000009", "joined_to": "E01000002"}]
    assert w.neighbors["E01000009"] == ["E01000002"]
    assert "E01000009" in w.neighbors["E01000002"]
    assert sorted(w.neighbors["E01000004"]) == [c for c in codes[:9] if c != "E01000004"]
    g = gi_star([5, 1, 0, 2, 1, 0, 1, 0, 1, 9], w, permutations=0)
    assert g["z"].notna().all()


def test_split_months_say_how() -> None:
    months = [f"2024-{m:02d}" for m in range(1, 13)] + [f"2025-{m:02d}" for m in range(1, 13)]
    earlier, later, rule = split_months(months)
    assert (earlier[0], earlier[-1], later[0], later[-1]) == (
        "2024-01",
        "2024-12",
        "2025-01",
        "2025-12",
    )
    assert "first 12 months against the last 12" in rule
    earlier, later, rule = split_months(months[:17])
    assert len(earlier) == len(later) == 8 and "middle month" in rule
    with pytest.raises(ConfigError):
        split_months(months[:1])


def _simulate(rng: np.random.Generator, shape: float) -> tuple[np.ndarray, np.ndarray]:
    """Two periods of negative binomial counts (gamma-Poisson) for 300 areas, no change."""
    mu = rng.lognormal(3, 0.8, 300)
    return rng.poisson(rng.gamma(shape, mu / shape)), rng.poisson(rng.gamma(shape, mu / shape))


@pytest.mark.parametrize("shape", [4.0, 48.0])
def test_lsoa_change_holds_its_error_rate_on_over_dispersed_counts(shape: float) -> None:
    """With nothing changing, a discovery in any LSOA should happen in about 5% of runs (the
    false discovery rate equals the family-wise rate when every null is true); a Poisson test
    would find one in most runs at this over-dispersion. rho is about 1 / (2 shape)."""
    rng = np.random.default_rng(int(shape))
    runs = [lsoa_change(*_simulate(rng, shape)) for _ in range(150)]
    any_discovery = np.mean([(r["trend"].isin(["rising", "falling"])).any() for r in runs])
    assert any_discovery <= 0.11
    assert np.mean([r.attrs["rho"] for r in runs]) == pytest.approx(1 / (2 * shape), rel=0.25)


def test_lsoa_change_finds_a_tripling_among_the_busiest() -> None:
    rng = np.random.default_rng(5)
    found = 0
    for _ in range(100):
        mu = rng.lognormal(3, 0.8, 300)
        mu[0] = 40
        step = np.ones(300)
        step[0] = 3
        earlier = rng.poisson(rng.gamma(48, mu / 48))
        later = rng.poisson(rng.gamma(48, mu * step / 48))
        found += lsoa_change(earlier, later)["trend"][0] == "rising"
    assert found >= 50  # about two in three


def test_one_lsoa_surging_among_ordinary_neighbours_is_seen_by_its_own_counts() -> None:
    """Why hotspot_change has two lenses: a single cell tripling beside ordinary ones barely
    moves its Gi* neighbourhood sum, while the busiest cells inflate the variance Gi* compares
    against; the LSOA lens sees it."""
    rng = np.random.default_rng(12)
    w = lat2W(15, 20, rook=False)
    mu = rng.lognormal(2.3, 0.5, 300)
    mu[[20, 140, 260]] *= 12  # busy town centres
    surge = 95  # an inner cell with ordinary neighbours, busy enough to be tested
    mu[surge] = np.quantile(mu, 0.95)
    step = np.ones(300)
    step[surge] = 3
    earlier, later = rng.poisson(mu), rng.poisson(mu * step)
    assert gi_star(later, w, permutations=0).at[surge, "class"] == "not significant"
    assert lsoa_change(earlier, later).at[surge, "trend"] == "rising"


# ---- the synthetic partnership -------------------------------------------------------------


@pytest.fixture(scope="module")
def change(synthetic_warehouse: Warehouse) -> dict:
    return hotspot_change(synthetic_warehouse.con, DEFAULT)


def test_the_split_of_two_years_is_a_year_against_a_year(change: dict) -> None:
    assert change["split"]["earlier"] == {"first": "2024-01", "last": "2024-12", "months": 12}
    assert change["split"]["later"] == {"first": "2025-01", "last": "2025-12", "months": 12}
    json.dumps(change, allow_nan=False)


def test_planted_persistent_hotspots_persist(synthetic_warehouse: Warehouse, change: dict) -> None:
    planted = synthetic_warehouse.planted["hotspots"]["persistent"]["lsoa21_codes"]
    rows = {r["lsoa"]: r for r in change["lsoas"]}
    assert set(planted) <= set(change["persistent"])
    for code in planted:
        assert rows[code]["basis"] == "Gi*"
        assert rows[code]["earlier"] == "hot" or rows[code]["later"] == "hot"
    assert change["fading"] == []


def test_planted_emerging_hotspots_are_new(synthetic_warehouse: Warehouse, change: dict) -> None:
    """Both planted emerging LSOAs (x3 violence from 2025-01) are new; so are LSOAs whose Gi*
    neighbourhood takes in one of them (the cluster Gi* sees), and no other; and only the
    planted ones rose by their own counts."""
    emerging = set(synthetic_warehouse.planted["hotspots"]["emerging"]["lsoa21_codes"])
    assert emerging <= set(change["new"])
    codes = [r["lsoa"] for r in change["lsoas"]]
    w, _ = queen_weights(synthetic_warehouse.con, codes)
    beside = {n for e in emerging for n in w.neighbors[e]}
    assert set(change["new"]) <= emerging | beside
    rising = {r["lsoa"] for r in change["lsoas"] if r["trend"] == "rising"}
    assert rising == emerging
    assert not any(r["trend"] == "falling" for r in change["lsoas"])


def test_hotspots_of_one_partnership_area(synthetic_warehouse: Warehouse) -> None:
    con = synthetic_warehouse.con
    whole = hotspots(con, DEFAULT, permutations=0)
    planted = synthetic_warehouse.planted["hotspots"]["persistent"]["lsoa21_codes"]
    assert set(planted) <= set(whole["hot"])
    area = next(r["area"] for r in whole["lsoas"] if r["lsoa"] == planted[0])
    one = hotspots(con, DEFAULT, Scope(area=area), permutations=0)
    assert {r["area"] for r in one["lsoas"]} == {area}
    assert planted[0] in one["hot"]
    assert one["method"]["permutations"] == 0 and one["lsoas"][0]["p_sim"] is None
    json.dumps(one, allow_nan=False)
