"""Where: rates by LSOA and partnership area, and concentration, against independent counts of
the real police.uk files and the synthetic partnership's feeds, and hand-worked examples."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from svduty.analysis.definition import load_definition
from svduty.analysis.scope import Scope
from svduty.analysis.where import concentration, gini, lorenz, lsoa_concentration, rates
from svduty.errors import ConfigError
from tests.conftest import SHARED
from tests.warehouses import Warehouse

DEFAULT = load_definition()
# The police.uk categories of the default definition's kinds (violence_and_sexual, robbery,
# weapons_possession), written out here rather than read from the definition.
CATEGORIES = {"Violence and sexual offences", "Robbery", "Possession of weapons"}


# ---- concentration: hand-worked and pure ---------------------------------------------------


def test_gini_of_equal_counts_is_zero_and_of_one_area_is_n_minus_one_over_n() -> None:
    assert gini([7] * 12) == 0.0
    for n in (1, 2, 5, 516):
        assert gini([0] * (n - 1) + [40]) == pytest.approx((n - 1) / n)
    assert gini([]) is None and gini([0, 0]) is None


def test_concentration_of_a_hand_worked_example() -> None:
    # 20 areas: one with 10 records, one with 5, five with 1, thirteen with none (20 records).
    counts = [10, 5] + [1] * 5 + [0] * 13
    c = concentration(counts)
    # top 1% and 5% of 20 areas: ceil(0.2) = ceil(1.0) = 1 area; top 10%: 2 areas.
    assert [(t["areas"], t["share_of_records"]) for t in c["top"]] == [
        (1, 0.5), (1, 0.5), (2, 0.75),
    ]  # fmt: skip
    assert c["half_in_share_of_areas"] == 1 / 20
    # sorted ascending: 13 zeros, 1 x5 at i = 14..18, 5 at 19, 10 at 20;
    # sum (2i - 21) x_i = (7 + 9 + 11 + 13 + 15) + 17 * 5 + 19 * 10 = 330; / (20 * 20) = 0.825
    assert c["gini"] == pytest.approx(0.825)
    assert c["areas"] == 20 and c["records"] == 20


def test_concentration_with_no_records_has_no_shares() -> None:
    c = concentration([0, 0, 0])
    assert all(t["share_of_records"] is None for t in c["top"])
    assert c["gini"] is None and c["lorenz"] == [] and c["half_in_share_of_areas"] is None


def test_lorenz_curve_is_short_and_bounded_for_many_areas() -> None:
    rng = np.random.default_rng(4)
    x = rng.negative_binomial(1, 0.05, size=1000)
    points = lorenz(x)
    assert len(points) == 101
    assert points[0] == [0.0, 0.0] and points[-1] == [1.0, 1.0]
    shares = np.array(points)
    assert np.all(np.diff(shares[:, 0]) > 0) and np.all(np.diff(shares[:, 1]) >= 0)
    assert np.all(shares[:, 1] <= shares[:, 0] + 1e-9)  # below the line of equality
    # Gini is one minus twice the area under the curve (trapezoid, exact on all 1001 points)
    full = lorenz(x, points=10_000)
    a, r = np.array(full).T
    area = float(np.sum((r[1:] + r[:-1]) / 2 * np.diff(a)))
    assert gini(x) == pytest.approx(1 - 2 * area, abs=1e-6)


def _numpy_concentration(counts: np.ndarray) -> dict[str, Any]:
    """Gini as mean absolute difference over twice the mean; top shares by sorting."""
    x = counts.astype(float)
    n = len(x)
    g = np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * x.mean())
    desc = np.sort(x)[::-1]
    top = [desc[: max(1, math.ceil(round(s * n, 9)))].sum() / x.sum() for s in (0.01, 0.05, 0.1)]
    return {"gini": g, "top": top}


# ---- the real police.uk months --------------------------------------------------------------


@pytest.fixture(scope="module")
def files() -> dict[str, Any]:
    """Serious violence in the police.uk street files, counted with the csv module: distinct
    crimes per reference LSOA, outside it and without a location; residents per LSOA."""
    if not (SHARED / "policeuk").is_dir():
        pytest.skip(f"the public data folder {SHARED} is absent")
    geo = json.loads((SHARED / "geography" / "lsoa21_bsc_cambs_pboro.geojson").read_text())
    reference = {f["properties"]["lsoa21_code"] for f in geo["features"]}
    by_lsoa: dict[str, set[str]] = defaultdict(set)
    outside: set[str] = set()
    nowhere: set[str] = set()
    months = set()
    for path in sorted((SHARED / "policeuk").glob("*/*-street.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for i, row in enumerate(csv.DictReader(f)):
                months.add(row["Month"])
                if row["Crime type"] not in CATEGORIES:
                    continue
                crime = row["Crime ID"] or f"{path.name}:{i}"
                code = row["LSOA code"].strip()
                if not code:
                    nowhere.add(crime)
                elif code in reference:
                    by_lsoa[code].add(crime)
                else:
                    outside.add(crime)
    residents: dict[str, int] = defaultdict(int)
    population = SHARED / "population" / "census2021_lsoa21_age6_cambs_pboro.csv"
    with open(population, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            residents[row["lsoa21_code"]] += int(row["usual_residents"])
    return {
        "counts": {code: len(by_lsoa.get(code, ())) for code in reference},
        "outside": len(outside),
        "no_location": len(nowhere),
        "months": len(months),
        "residents": residents,
    }


@pytest.mark.shared
def test_real_lsoa_counts_equal_an_independent_count(
    real_warehouse: Warehouse, files: dict[str, Any]
) -> None:
    r = rates(real_warehouse.con, DEFAULT)
    got = {row["lsoa"]: row["count"] for row in r["lsoas"]}
    assert len(got) == 516  # every reference LSOA, zeros included
    assert got == files["counts"]
    assert r["outside_area"] == files["outside"] and r["no_location"] == files["no_location"]
    assert r["months"] == files["months"] == 18
    assert r["total"]["count"] == sum(files["counts"].values())
    assert sum(a["count"] for a in r["areas"]) == r["total"]["count"]
    assert len(r["areas"]) == 6


@pytest.mark.shared
def test_real_rate_of_one_hand_checked_lsoa(
    real_warehouse: Warehouse, files: dict[str, Any]
) -> None:
    r = rates(real_warehouse.con, DEFAULT)
    row = next(x for x in r["lsoas"] if x["lsoa"] == "E01015599")  # Peterborough 014A
    count, residents = files["counts"]["E01015599"], files["residents"]["E01015599"]
    assert (row["count"], row["residents"]) == (count, residents) == (1214, 2678)
    # 1,214 crimes in 18 months among 2,678 residents: 1214 / 2678 * 1000 * 12 / 18
    assert row["rate_per_1000"] == pytest.approx(302.2156, abs=1e-4)
    assert row["lsoa_name"] == "Peterborough 014A" and row["area_name"] == "Peterborough"
    peterborough = next(a for a in r["areas"] if a["area_name"] == "Peterborough")
    pb = [x for x in r["lsoas"] if x["area"] == peterborough["area"]]
    expected = sum(x["count"] for x in pb) / sum(x["residents"] for x in pb) * 1000 * 12 / 18
    assert peterborough["rate_per_1000"] == pytest.approx(expected)


@pytest.mark.shared
def test_real_youth_rates_are_none_without_ages(real_warehouse: Warehouse) -> None:
    r = rates(real_warehouse.con, DEFAULT)
    assert r["records_with_age"] == 0
    assert all(x["youth_count"] is None and x["rate_per_1000_10_24"] is None for x in r["lsoas"])
    assert r["areas"][0]["rate_per_1000_10_24"] is None
    assert "cannot be counted" in r["note"]


@pytest.mark.shared
def test_real_concentration_equals_numpy_and_is_within_bounds(
    real_warehouse: Warehouse, files: dict[str, Any]
) -> None:
    c = lsoa_concentration(real_warehouse.con, DEFAULT)
    expected = _numpy_concentration(np.array(list(files["counts"].values())))
    assert c["gini"] == pytest.approx(expected["gini"], rel=1e-9)
    assert [t["share_of_records"] for t in c["top"]] == pytest.approx(expected["top"])
    assert [t["areas"] for t in c["top"]] == [6, 26, 52]  # ceil of 5.16, 25.8, 51.6
    top1, top5, top10 = (t["share_of_records"] for t in c["top"])
    assert 0.01 < top1 < top5 < top10 < 1  # more than each LSOA's even share
    assert 0.2 < c["gini"] < 0.7  # violence concentrates, as everywhere, but not in one place
    assert 0.0 < c["half_in_share_of_areas"] < 0.5
    assert len(c["lorenz"]) == 101


# ---- the synthetic partnership --------------------------------------------------------------


def test_synthetic_rates_cover_every_lsoa_and_area(synthetic_warehouse: Warehouse) -> None:
    con = synthetic_warehouse.con
    r = rates(con, DEFAULT)
    assert len(r["lsoas"]) == 300 and r["months"] == 24
    reference = sorted(con.table("ref_lsoa").to_pandas()["lsoa21_code"])
    assert [x["lsoa"] for x in r["lsoas"]] == reference
    assert sum(a["residents"] for a in r["areas"]) == synthetic_warehouse.planted["population"]
    assert sum(x["count"] for x in r["lsoas"]) == r["total"]["count"]
    one = r["areas"][0]
    area = rates(con, DEFAULT, Scope(area=one["area_name"]))
    assert {x["area"] for x in area["lsoas"]} == {one["area"]}
    assert area["total"]["count"] == one["count"]
    assert area["lsoas"] == [x for x in r["lsoas"] if x["area"] == one["area"]]


def test_synthetic_youth_counts_equal_an_independent_count(
    synthetic_warehouse: Warehouse,
) -> None:
    """Violence with injury (police crime only) involving a victim or suspect aged 10-24,
    counted with pandas on the feed table."""
    con = synthetic_warehouse.con
    kind = DEFAULT.kind("violence_with_injury")
    crime = con.table("feed_police_crime").to_pandas()
    crime = crime[crime["ho_code"].isin(kind.values("ho_codes"))]
    per = crime.groupby("record_key").agg(
        lsoa=("lsoa_code", "first"),
        youth=("age_at_event", lambda a: bool(((a >= 10) & (a <= 24)).any())),
    )
    r = rates(con, DEFAULT, kind="violence_with_injury")
    got = {x["lsoa"]: (x["count"], x["youth_count"]) for x in r["lsoas"]}
    expected = per.groupby("lsoa").agg(count=("youth", "size"), youth=("youth", "sum"))
    for code, (count, youth) in got.items():
        e = expected.loc[code] if code in expected.index else None
        assert (count, youth) == ((int(e["count"]), int(e["youth"])) if e is not None else (0, 0))
    assert r["records_with_age"] == r["total"]["count"] > 0
    total = r["total"]
    assert total["rate_per_1000_10_24"] == pytest.approx(
        total["youth_count"] / total["residents_10_24"] * 1000 * 12 / 24, rel=1e-3
    )
    # youth violence runs at a higher rate among 10-24s than violence among all residents
    assert total["rate_per_1000_10_24"] > total["rate_per_1000"]


def test_an_unknown_kind_is_refused_naming_the_kinds(synthetic_warehouse: Warehouse) -> None:
    with pytest.raises(ConfigError, match="violence_with_injury"):
        rates(synthetic_warehouse.con, DEFAULT, kind="stabbings")


def test_results_are_plain_json(synthetic_warehouse: Warehouse, tmp_path: Path) -> None:
    r = rates(synthetic_warehouse.con, DEFAULT)
    c = lsoa_concentration(synthetic_warehouse.con, DEFAULT)
    path = tmp_path / "where.json"
    path.write_text(json.dumps({"rates": r, "concentration": c}))
    assert json.loads(path.read_text())["rates"]["lsoas"][0] == r["lsoas"][0]


@pytest.mark.shared
def test_real_gi_star_equals_esda_on_independent_counts_and_weights(
    real_warehouse: Warehouse, files: dict[str, Any]
) -> None:
    """Gi* z from :func:`hotspots` equal esda's on counts from the CSV files and Queen weights
    built here from the GeoJSON with geopandas, and the Ord & Getis (1995) formula by hand."""
    import geopandas as gpd
    from esda.getisord import G_Local
    from libpysal.weights import Queen
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    from svduty.analysis.hotspots import hotspots

    gdf = gpd.read_file(SHARED / "geography" / "lsoa21_bsc_cambs_pboro.geojson")
    gdf = gdf.sort_values("lsoa21_code").reset_index(drop=True)
    codes = gdf["lsoa21_code"].tolist()
    w = Queen.from_dataframe(gdf, ids=codes, use_index=False)
    assert not w.islands
    y = np.array([files["counts"][c] for c in codes], dtype=float)
    expected = G_Local(y, w, transform="B", star=True, permutations=0).Zs

    h = hotspots(real_warehouse.con, DEFAULT)
    got = {r["lsoa"]: r for r in h["lsoas"]}
    z = np.array([got[c]["z"] for c in codes])
    assert z == pytest.approx(expected, abs=1e-6)

    # Ord & Getis (1995) eq. 14 with binary weights and self-weight 1
    n = len(y)
    wm = w.full()[0] + np.eye(n)
    wi, s1 = wm.sum(axis=1), (wm**2).sum(axis=1)
    mean, sd = y.mean(), y.std()
    by_hand = (wm @ y - mean * wi) / (sd * np.sqrt((n * s1 - wi**2) / (n - 1)))
    assert z == pytest.approx(by_hand, abs=1e-6)

    # hot and cold after Benjamini-Hochberg at 5%, by statsmodels on two-sided normal p
    p = 2 * stats.norm.sf(np.abs(expected))
    reject = multipletests(p, alpha=0.05, method="fdr_bh")[0]
    assert {c for c, r in zip(codes, reject, strict=True) if r} == set(h["hot"]) | set(h["cold"])
    assert len(h["hot"]) > 10 and "E01015599" in h["hot"]  # Peterborough's centre
    assert all(got[c]["z"] > 0 for c in h["hot"])
    assert all(0 < got[c]["p_sim"] <= 0.5 for c in codes)
    json.dumps(h, allow_nan=False)
