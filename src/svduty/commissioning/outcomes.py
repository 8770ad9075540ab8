"""The violence that youth interventions target, counted the same way for need and for impact.

A crime counts as *young people's serious violence* when it is police recorded serious violence
under the local definition (:mod:`svduty.analysis.definition`) and names at least one victim or
suspect aged ``max_age`` or under at the time (24 by default: the Duty's focus on under-25s).
Each crime weighs what its Home Office code weighs in the harm index (:mod:`svduty.analysis.harm`),
so that the need of an area is its harm, not only its count.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from svduty.analysis.definition import Definition, load_definition
from svduty.analysis.harm import HarmWeights, _crime_weights, load_harm_weights
from svduty.analysis.kinds import classified

MAX_AGE = 24


def young_violence(
    con: Any,
    definition: Definition | None = None,
    max_age: int = MAX_AGE,
    weights: HarmWeights | None = None,
) -> ir.Table:
    """One row per crime of young people's serious violence.

    Columns: ``record_key``, ``month`` (first day), ``lsoa_code``, ``csp24_code`` (null outside
    the reference area) and ``weight`` (the harm weight; 0 where the code has none).
    """
    definition = definition or load_definition()
    weights = weights or load_harm_weights()
    sv = classified(con, definition)
    sv = sv.filter(sv.source == "police-crime")
    sv = sv.select(record_key=sv.record, month=sv.month, lsoa_code=sv.lsoa).distinct()
    crime = con.table("feed_police_crime")
    young = crime.filter(crime.age_at_event <= max_age).select(_young=crime.record_key).distinct()
    sv = sv.semi_join(young, sv.record_key == young._young)
    geo = con.table("ref_geography").select(_lsoa="lsoa21_code", csp24_code="csp24_code")
    sv = sv.left_join(geo, sv.lsoa_code == geo._lsoa).drop("_lsoa")
    w = _crime_weights(con, weights).rename(_key="record_key")
    sv = sv.left_join(w, sv.record_key == w._key).drop("_key")
    return sv.mutate(weight=sv.weight.fill_null(0.0))


def monthly_by_area(
    con: Any,
    definition: Definition | None = None,
    max_age: int = MAX_AGE,
    weights: HarmWeights | None = None,
) -> pd.DataFrame:
    """Crimes and harm of young people's serious violence per partnership area and month.

    Returns a frame ``csp24_code, month, crimes, harm``, complete: every area of the reference
    geography and every month from the first to the last month with police recorded crime,
    zero where nothing happened.
    """
    t = young_violence(con, definition, max_age, weights)
    t = t.filter(t.csp24_code.notnull())
    got = (
        t.group_by(["csp24_code", "month"])
        .aggregate(crimes=t.count(), harm=t.weight.sum())
        .to_pandas()
    )
    crime = con.table("feed_police_crime")
    span = crime.aggregate(first=crime.month.min(), last=crime.month.max()).to_pandas().iloc[0]
    geo = con.table("ref_geography").select("csp24_code").distinct().to_pandas()
    codes = sorted(geo["csp24_code"].dropna())
    if pd.isna(span["first"]) or not codes:
        return pd.DataFrame({"csp24_code": [], "month": [], "crimes": [], "harm": []})
    months = pd.date_range(pd.Timestamp(span["first"]), pd.Timestamp(span["last"]), freq="MS")
    grid = pd.MultiIndex.from_product([codes, months.date], names=["csp24_code", "month"])
    got["month"] = pd.to_datetime(got["month"]).dt.date
    out = got.set_index(["csp24_code", "month"]).reindex(grid, fill_value=0).reset_index()
    out["crimes"] = out["crimes"].astype(int)
    out["harm"] = out["harm"].astype(float)
    return out


def need_by_area(
    con: Any,
    months: int = 12,
    end: dt.date | None = None,
    definition: Definition | None = None,
    max_age: int = MAX_AGE,
) -> pd.DataFrame:
    """Each partnership area's need: young people's serious violence in the last ``months``
    months (to ``end``, default the last month loaded), by count and by harm, with its name and
    residents aged 10 to 24.

    Returns ``csp24_code, csp24_name, crimes, harm, residents_10_24, first, last``.
    """
    from svduty.analysis.scope import areas

    panel = monthly_by_area(con, definition, max_age)
    ref = areas(con)
    names = ref.groupby("csp24_code").agg(
        csp24_name=("csp24_name", "first"), residents_10_24=("residents_10_24", "sum")
    )
    if panel.empty:
        out = names.reset_index()
        out[["crimes", "harm"]] = 0
        out["first"] = out["last"] = None
        return out
    last = end or max(panel["month"])
    first = (pd.Timestamp(last) - pd.DateOffset(months=months - 1)).date()
    window = panel[(panel["month"] >= first) & (panel["month"] <= last)]
    sums = window.groupby("csp24_code")[["crimes", "harm"]].sum()
    out = names.join(sums, how="left").fillna({"crimes": 0, "harm": 0.0}).reset_index()
    out["crimes"] = out["crimes"].astype(int)
    out["first"], out["last"] = first, last
    return out.sort_values("csp24_code").reset_index(drop=True)


__all__ = ["MAX_AGE", "monthly_by_area", "need_by_area", "young_violence"]
