"""The Strategic Needs Assessment as data: every figure of the report, computed from the
warehouse for a scope (months and area) under a local definition of serious violence.

:func:`assess` returns plain data (what ``figures.json`` holds); :mod:`svduty.reports` turns it
into the HTML and PDF report, and applies disclosure control for the public version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd

from svduty import __version__
from svduty.analysis.counts import ALL, area_counts, count_table, kinds_of, scope_months
from svduty.analysis.definition import Definition
from svduty.analysis.scope import Scope, areas
from svduty.analysis.trends import change_on_last_year, control_chart, rolling_sum, seasonality

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")  # fmt: skip


def _trends(
    by_area: pd.DataFrame, places: pd.DataFrame, months: list[str], definition: Definition
) -> dict[str, Any]:
    """Monthly series, rolling 12 months, control chart, change on the previous year and
    seasonality, by kind and area."""
    labels = {ALL: "All serious violence", **{k.key: k.label for k in definition.kinds}}
    residents = {ALL: float(places["residents"].sum())}
    names = {ALL: "Whole partnership"}
    for code, rows in places.groupby("csp24_code"):
        residents[str(code)] = float(rows["residents"].sum())
        names[str(code)] = str(rows["csp24_name"].iloc[0])
    years = len(months) / 12
    series, summary = [], []
    for (kind, area), rows in by_area.groupby(["kind", "area"], sort=False):
        counts = [int(c) for c in rows.set_index("month").reindex(months)["count"].fillna(0)]
        control = control_chart(counts)
        total = sum(counts)
        pop = residents.get(area, 0.0)
        series.append({
            "kind": kind, "area": area, "counts": counts, "rolling_12": rolling_sum(counts),
            "expected": [c["expected"] for c in control], "low": [c["low"] for c in control],
            "high": [c["high"] for c in control], "flags": [c["flag"] for c in control],
        })  # fmt: skip
        row: dict[str, Any] = {
            "kind": kind,
            "label": labels.get(kind, kind),
            "area": area,
            "area_name": names.get(area, area),
            "count": total,
            "residents": int(pop),
            "rate_per_1000": (total / pop * 1000 / years) if pop and years else None,
            "change": change_on_last_year(counts, months, pop or 1.0),
            "flagged": [
                {"month": m, "flag": c["flag"], "count": n, "expected": c["expected"]}
                for m, c, n in zip(months, control, counts, strict=True)
                if c["flag"]
            ],
        }
        if area == ALL and months:
            s = seasonality(counts, int(months[0][5:7]))
            row["seasonality"] = (
                None
                if s is None
                else {
                    "amplitude": s.amplitude, "ci_low": s.ci_low, "ci_high": s.ci_high,
                    "peak_month": s.peak_month, "peak_month_name": MONTH_NAMES[s.peak_month - 1],
                    "p_value": s.p_value, "months": s.months,
                }
            )  # fmt: skip
        summary.append(row)
    return {
        "months": months,
        "series": series,
        "summary": summary,
        "note": (
            "Rates are per 1,000 residents (Census 2021) per year. The change compares the "
            "latest months with the same months a year before, as a negative binomial rate "
            "ratio with a 95% interval: counts of crime vary more than a Poisson model allows, "
            "and the negative binomial widens the interval accordingly. A month is flagged "
            "when it falls outside 3-sigma negative binomial control limits around the mean "
            "of the 12 months before it. Seasonality is a yearly sine-cosine cycle fitted with "
            "a linear trend; with fewer than 24 months it is tentative."
        ),
    }


def _kinds(trend_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each kind's total over the scope and its share of all serious violence."""
    whole = {r["kind"]: r for r in trend_rows if r["area"] == ALL}
    total = whole.get(ALL, {}).get("count", 0)
    out = []
    for kind, r in whole.items():
        out.append({
            "kind": kind, "label": r["label"], "count": r["count"],
            "share": (r["count"] / total) if total else None,
            "rate_per_1000": r["rate_per_1000"],
        })  # fmt: skip
    return out


def assess(
    con: Any,
    definition: Definition,
    scope: Scope,
    *,
    step: Callable[[str], None] | None = None,
    parts: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Every figure of the Strategic Needs Assessment for ``scope``.

    Args:
        con: the warehouse.
        definition: the local definition of serious violence.
        scope: the months and area (resolved here).
        step: called with the name of each part as it starts (for progress).
        parts: only these parts (default: all of them).

    Returns:
        ``definition_version``, ``scope``, ``counts`` (``{kind, month, area, count}`` rows),
        and a section per part: ``kinds``, ``trends``, ``where``, ``when``, ``who``, ``why``,
        ``measures``, ``quality``, ``forecast``, ``harm``.
    """
    say = step or (lambda _: None)
    scope = scope.resolve(con)
    say("Counting serious violence by kind, month and area")
    places = areas(con, scope)
    months = scope_months(con, definition, scope)
    if scope.start is None and months:
        scope = Scope(dt.date.fromisoformat(months[0] + "-01"), scope.end, scope.area,
                      scope.area_name)  # fmt: skip
    if scope.end is None and months:
        scope = Scope(scope.start, dt.date.fromisoformat(months[-1] + "-01"), scope.area,
                      scope.area_name)  # fmt: skip
    table = count_table(con, definition, scope)
    kinds = kinds_of(definition)
    by_area = area_counts(table, places, months, kinds)
    inside = set(places["lsoa21_code"])
    lsoa_rows = table[table["lsoa"].isin(inside)]
    rows = [
        {"kind": k, "month": m, "area": a, "count": int(c)}
        for k, a, m, c in by_area[["kind", "area", "month", "count"]].itertuples(index=False)
    ] + [
        {"kind": k, "month": m, "area": a, "count": int(c)}
        for k, m, a, c in lsoa_rows[["kind", "month", "lsoa", "count"]].itertuples(index=False)
    ]
    all_rows = table[table["kind"] == ALL]
    figures: dict[str, Any] = {
        "title": "Serious Violence Strategic Needs Assessment",
        "svduty_version": __version__,
        "definition_version": definition.version,
        "definition_name": definition.name,
        "scope": {
            "area": scope.area or ALL,
            "area_name": scope.area_name or "Whole partnership",
            "from": months[0] if months else None,
            "to": months[-1] if months else None,
            "months": len(months),
            "lsoas": len(places),
            "residents": int(places["residents"].sum()),
            "partnership_areas": [
                {"area": str(c), "area_name": str(n)}
                for c, n in places[["csp24_code", "csp24_name"]]
                .drop_duplicates()
                .sort_values("csp24_code")
                .itertuples(index=False)
            ],  # fmt: skip
        },
        "places": [
            {"lsoa": str(c), "lsoa_name": str(n), "area": str(a), "residents": int(r)}
            for c, n, a, r in places[
                ["lsoa21_code", "lsoa21_name", "csp24_code", "residents"]
            ].itertuples(index=False)
        ],
        "kind_labels": {ALL: "All serious violence", **{k.key: k.label for k in definition.kinds}},
        "counts": rows,
        "unplaced": {
            "no_location": int(all_rows.loc[all_rows["lsoa"].isna(), "count"].sum()),
            "outside_area": int(
                all_rows.loc[
                    all_rows["lsoa"].notna() & ~all_rows["lsoa"].isin(inside), "count"
                ].sum()
            ),
        },
        "counts_note": (
            "Records by kind, month and area. Kind 'all' counts each record once, whatever its "
            "kinds; kinds overlap (a knife robbery is both). Area 'all' is the whole "
            "partnership, including records outside the reference LSOAs or without a place; "
            "partnership areas and LSOAs count records placed in them (LSOA rows are given "
            "where the count is not zero). One incident seen by police and by the emergency "
            "department counts in both sources."
        ),
    }
    say("Trends")
    figures["trends"] = _trends(by_area, places, months, definition)
    figures["kinds"] = _kinds(figures["trends"]["summary"])
    for name, build in _parts().items():
        if parts is not None and name not in parts:
            continue
        say(name.capitalize())
        figures[name] = build(con, definition, scope)
    return figures


def _parts() -> dict[str, Callable[[Any, Definition, Scope], Any]]:
    """The sections computed by their own modules, in report order."""
    from svduty.analysis import (
        cohorts,
        harm,
        hotspots,
        measures,
        persistence,
        quality,
        when,
        where,
        who,
        why,
    )

    return {
        "harm": lambda con, d, s: harm.harm_by_kind(con, d, s),
        "where": lambda con, d, s: {
            "rates": where.rates(con, d, s),
            "concentration": where.lsoa_concentration(con, d, s),
            "hotspots": hotspots.hotspots(con, d, s),
            "hotspot_change": persistence.hotspot_change(con, d, s),
        },
        "when": lambda con, d, s: {
            "hour_by_weekday": when.hour_by_weekday(con, d, s),
            "school_days": when.school_days(con, d, s),
        },
        "who": lambda con, d, s: {
            "age_sex": who.age_sex(con, d, s),
            "under_25": who.under_25(con, d, s),
        },
        "cohorts": lambda con, d, s: cohorts.cohorts(con, d, s),
        "why": lambda con, d, s: why.risk_factors(con, d, s),
        "measures": lambda con, d, s: measures.success_measures(con, d, s),
        "quality": lambda con, d, s: quality.data_quality(con, s),
        "forecast": _forecast,
    }


def _forecast(con: Any, definition: Definition, scope: Scope) -> dict[str, Any]:
    from svduty.analysis.forecast import NotEnoughHistory, backtest, forecast_details

    try:
        out = forecast_details(con, definition, None, scope)
    except NotEnoughHistory as e:
        return {"lsoas": [], "backtest": None, "note": f"No forecast: {e}."}
    try:
        out["backtest"] = backtest(con, definition, 6, scope)
    except NotEnoughHistory as e:
        out["backtest"] = {"summary": [], "note": f"No backtest: {e}."}
    return out
