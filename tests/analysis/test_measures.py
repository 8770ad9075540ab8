"""The Home Office success measures: monthly counts equal independent pandas counts of the
feeds, the change is the negative binomial ratio of the two periods, and a measure whose feed
is not loaded says so."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from svduty.analysis.definition import load_definition
from svduty.analysis.measures import KNIFE_ENABLED_CODES, parse_period, success_measures
from svduty.analysis.scope import Scope
from svduty.errors import ConfigError
from tests.warehouses import Warehouse

CODES = [c for group in KNIFE_ENABLED_CODES.values() for c in group]


def _by_key(result: dict) -> dict[tuple[str, str], dict]:
    return {(m["measure"], m["cohort"]): m for m in result["measures"]}


def _series(m: dict) -> dict[str, int]:
    return {r["month"]: r["count"] for r in m["series"]}


def _monthly(frame: pd.DataFrame) -> dict[str, int]:
    months = pd.to_datetime(frame["month"]).dt.strftime("%Y-%m")
    return {k: int(v) for k, v in months.value_counts().items()}


def _crimes(w: Warehouse) -> pd.DataFrame:
    """One row per police crime, counted here from the person rows with pandas."""
    rows = w.con.table("feed_police_crime").to_pandas()
    rows["young_victim"] = (rows["role"] == "Victim") & (rows["age_at_event"] < 25)
    return rows.groupby("record_key").agg(
        month=("month", "first"),
        ho_code=("ho_code", "first"),
        lsoa=("lsoa_code", "first"),
        knife=("knife", "any"),
        domestic=("domestic_abuse", "any"),
        young=("young_victim", "any"),
    )


def _check(m: dict, expected: dict[str, int]) -> None:
    got = _series(m)
    assert list(got) == [f"{y}-{mo:02d}" for y in (2024, 2025) for mo in range(1, 13)]
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
    assert m["count"] == sum(expected.values())


def test_counts_match_independent_counts(synthetic_warehouse: Warehouse) -> None:
    w = synthetic_warehouse
    definition = load_definition()
    result = success_measures(w.con, definition, Scope())
    got = _by_key(result)
    assert len(got) == 6 and all(m["available"] for m in got.values())

    ed = w.con.table("feed_istv").to_pandas()
    sharp = ed[ed["assault_method"] == "Sharp object"]
    _check(got[("sharp_object_ed", "all")], _monthly(sharp))
    _check(got[("sharp_object_ed", "under_25")], _monthly(sharp[sharp["age_at_event"] < 25]))

    crimes = _crimes(w)
    knife = crimes[crimes["knife"] & crimes["ho_code"].isin(CODES)]
    assert len(knife) > 500
    _check(got[("knife_enabled_crime", "all")], _monthly(knife))
    _check(got[("knife_enabled_crime", "under_25")], _monthly(knife[knife["young"]]))

    homicide = crimes[crimes["ho_code"].isin(definition.kind("homicide").values("ho_codes"))]
    homicide = homicide[~homicide["domestic"]]
    _check(got[("homicide", "all")], _monthly(homicide))
    _check(got[("homicide", "under_25")], _monthly(homicide[homicide["young"]]))

    pop = w.con.table("ref_population").to_pandas()
    assert result["residents"] == w.planted["population"] == pop["residents"].sum()
    assert "HES" in result["note"] and "stand in" in result["note"]
    json.dumps(result, allow_nan=False)


def test_change_is_the_ratio_of_the_periods(synthetic_warehouse: Warehouse) -> None:
    """With one period indicator and a constant exposure the negative binomial's fitted means
    are the periods' mean monthly counts, so the rate ratio is their ratio."""
    result = success_measures(synthetic_warehouse.con, load_definition(), Scope())
    for m in result["measures"]:
        series = [r["count"] for r in m["series"]]
        base, latest = sum(series[:12]), sum(series[12:])
        assert m["baseline"] == {"from": "2024-01", "to": "2024-12", "months": 12, "count": base}
        assert m["latest"] == {"from": "2025-01", "to": "2025-12", "months": 12, "count": latest}
        if base and latest:
            c = m["change"]
            assert c["rate_ratio"] == pytest.approx(latest / base, abs=1e-3)
            assert c["ci_low"] < c["rate_ratio"] < c["ci_high"]
        else:
            assert m["change"] is None and "no events" in m["note"]


def test_the_intervention_area(synthetic_warehouse: Warehouse) -> None:
    """Under-25 knife enabled crime in the treated area (violence with a victim or suspect
    under 25 planted 25% lower from 2025-01) counted against pandas; the numbers are too small
    for the fall to be asserted."""
    w = synthetic_warehouse
    treated = w.planted["intervention"]["csp24_code"]
    scope = Scope(area=treated).resolve(w.con)
    got = _by_key(success_measures(w.con, load_definition(), scope))
    geo = w.con.table("ref_geography").to_pandas()
    inside = set(geo.loc[geo["csp24_code"] == treated, "lsoa21_code"])
    crimes = _crimes(w)
    knife = crimes[crimes["knife"] & crimes["ho_code"].isin(CODES) & crimes["lsoa"].isin(inside)]
    young = knife[knife["young"]]
    m = got[("knife_enabled_crime", "under_25")]
    _check(m, _monthly(young))
    months = pd.to_datetime(young["month"])
    assert m["baseline"]["count"] == int((months.dt.year == 2024).sum())
    assert m["latest"]["count"] == int((months.dt.year == 2025).sum())
    ratio = m["latest"]["count"] / m["baseline"]["count"]
    assert m["change"]["rate_ratio"] == pytest.approx(ratio, abs=1e-3)


def test_baseline_and_too_few_months(synthetic_warehouse: Warehouse) -> None:
    con, definition = synthetic_warehouse.con, load_definition()
    result = success_measures(con, definition, Scope(), baseline="2024-01..2024-06")
    m = _by_key(result)[("knife_enabled_crime", "all")]
    series = [r["count"] for r in m["series"]]
    assert m["baseline"]["count"] == sum(series[:6]) and m["baseline"]["months"] == 6
    assert m["change"]["rate_ratio"] == pytest.approx(
        (sum(series[12:]) / 12) / (sum(series[:6]) / 6), abs=1e-3
    )
    one_year = Scope.from_options("2025-01", "2025-12")
    for m in success_measures(con, definition, one_year)["measures"]:
        assert len(m["series"]) == 12 and m["change"] is None
        assert "overlaps" in m["note"]
    with pytest.raises(ConfigError, match="YYYY-MM..YYYY-MM"):
        parse_period("2024-01")
    with pytest.raises(ConfigError, match="ends before"):
        parse_period("2024-06..2024-01")


def test_real_data_has_none_of_the_feeds(real_warehouse: Warehouse) -> None:
    result = success_measures(real_warehouse.con, load_definition(), Scope())
    assert result["residents"] == 894_479 and result["residents_under_25"] == 264_027
    for m in result["measures"]:
        assert not m["available"] and m["series"] == [] and m["change"] is None
        assert m["note"].startswith("not available from loaded data")
    homicide = _by_key(result)[("homicide", "all")]
    assert "police.uk categories do not separate homicide" in homicide["note"]
