"""The Home Office success measures of the Serious Violence Duty, from the loaded feeds.

The Home Office judges Violence Reduction Units, and asks Duty partnerships to track, a
reduction in (1) hospital admissions for assault with a knife or sharp object, (2) knife or
sharp object enabled serious violence recorded by the police and (3) non-domestic homicide,
each especially among victims under 25. Each measure here is a monthly series, in total and
for victims under 25, with its baseline, its latest 12 months and the change between them as a
negative binomial rate ratio.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from svduty.analysis.definition import Definition
from svduty.analysis.kinds import classified
from svduty.analysis.scope import Scope, areas, month_label, parse_month
from svduty.analysis.trends import rate_ratio
from svduty.errors import ConfigError

# Offences on which a knife flag makes a crime knife or sharp object enabled serious violence:
# the violence against the person, robbery and sexual offence codes of the police feed
# (svduty.datasets.partners.offences). The ONS "selected offences" list is narrower: it leaves
# out assault without injury and harassment.
KNIFE_ENABLED_CODES = {
    "violence against the person": (
        "001/00", "004/01", "002/00", "005/01", "008/01", "008/06", "105/01", "195/12",
    ),
    "robbery": ("034/01", "034/02"),
    "sexual offences": ("019/07", "017/01"),
}  # fmt: skip
UNDER = 25  # the Home Office measures' young victims: under 25
LATEST_MONTHS = 12
MIN_BASELINE_MONTHS = 6

MEASURES = (
    (
        "sharp_object_ed",
        "ED attendances for assault with a sharp object",
        "istv",
        "feed_istv",
    ),
    (
        "knife_enabled_crime",
        "Police recorded knife or sharp object enabled serious violence",
        "police-crime",
        "feed_police_crime",
    ),
    ("homicide", "Non-domestic homicide", "police-crime", "feed_police_crime"),
)


def parse_period(text: str, option: str = "--baseline") -> tuple[dt.date, dt.date]:
    """A period written ``YYYY-MM..YYYY-MM`` as its first and last months.

    Examples:
        >>> parse_period("2024-01..2024-12")
        (datetime.date(2024, 1, 1), datetime.date(2024, 12, 1))
    """
    first, sep, last = text.partition("..")
    if not sep:
        raise ConfigError(f"{option} {text!r} is not a period written YYYY-MM..YYYY-MM")
    a, b = parse_month(first, option), parse_month(last, option)
    if a > b:
        raise ConfigError(f"{option} {text!r} ends before it starts")
    return a, b


def _crimes(con: Any) -> ir.Table:
    """One row per police crime: its month, code, place, knife and domestic abuse flags, and
    whether any victim was under 25."""
    t = con.table("feed_police_crime")
    young = (t.role == "Victim") & (t.age_at_event < UNDER)
    return t.group_by(["record_key", "month"]).aggregate(
        ho_code=t.ho_code.first(),
        lsoa=t.lsoa_code.first(),
        knife=t.knife.any().fill_null(False),
        domestic=t.domestic_abuse.any().fill_null(False),
        young=young.any().fill_null(False),
    )


def _events(con: Any, definition: Definition, key: str) -> tuple[ir.Table | None, str]:
    """The measure's events (``record, month, lsoa, young``), or ``None`` and why not."""
    if key == "sharp_object_ed":
        t = con.table("feed_istv")
        t = t.filter(t.assault_method == "Sharp object")
        return t.select(
            record=t.record_key,
            month=t.month,
            lsoa=t.home_lsoa,
            young=(t.age_at_event < UNDER).fill_null(False),
        ), ""
    crimes = _crimes(con)
    if key == "knife_enabled_crime":
        codes = [c for group in KNIFE_ENABLED_CODES.values() for c in group]
        events = crimes.filter(crimes.knife, crimes.ho_code.isin(codes))
    else:
        if "homicide" not in {k.key for k in definition.kinds}:
            return None, f"the definition {definition.version} has no homicide kind"
        c = classified(con, definition)
        hom = c.filter(c.source == "police-crime", c.kind == "homicide").select("record")
        events = crimes.semi_join(hom.distinct(), crimes.record_key == hom.record)
        events = events.filter(~events.domestic)
    return events.select(record=events.record_key, month="month", lsoa="lsoa", young="young"), ""


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    return [p.to_timestamp().date() for p in pd.period_range(first, last, freq="M")]


def _span(months: list[dt.date], counts: list[int]) -> dict[str, Any]:
    return {
        "from": month_label(months[0]),
        "to": month_label(months[-1]),
        "months": len(months),
        "count": int(sum(counts)),
    }


def _change(
    series: list[int], months: list[dt.date], baseline: list[dt.date], exposure: float
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None, str]:
    """Baseline, latest 12 months and their rate ratio (or ``None`` and why)."""
    index = {m: i for i, m in enumerate(months)}
    base = [m for m in baseline if m in index]
    latest = months[-LATEST_MONTHS:]
    b_counts = [series[index[m]] for m in base]
    l_counts = [series[index[m]] for m in latest]
    b_span = _span(base, b_counts) if base else None
    l_span = _span(latest, l_counts) if latest else None
    if len(base) < len(baseline):
        return b_span, l_span, None, "the baseline is not wholly inside the loaded months"
    if len(latest) < LATEST_MONTHS:
        return b_span, l_span, None, f"{len(months)} months loaded: the latest 12 need 12"
    if len(base) < MIN_BASELINE_MONTHS:
        return b_span, l_span, None, f"a baseline needs at least {MIN_BASELINE_MONTHS} months"
    if base[-1] >= latest[0]:
        return (
            b_span,
            l_span,
            None,
            f"the baseline overlaps the latest 12 months ({len(months)} months loaded; the "
            "default baseline, the first 12 months, needs 24)",
        )
    if not sum(b_counts) or not sum(l_counts):
        return b_span, l_span, None, "no events in the baseline or the latest months"
    y = np.array([*b_counts, *l_counts])
    later = np.arange(len(y)) >= len(b_counts)
    try:
        r = rate_ratio(y, np.full(len(y), exposure), later)
    except ValueError:
        return b_span, l_span, None, "the negative binomial model did not converge"
    values = (r.ratio, r.ci_low, r.ci_high, r.p_value)
    if not all(math.isfinite(v) for v in values):
        return b_span, l_span, None, "too few events for an interval"
    change = {
        "rate_ratio": round(r.ratio, 4),
        "ci_low": round(r.ci_low, 4),
        "ci_high": round(r.ci_high, 4),
        "p_value": float(f"{r.p_value:.3g}"),
        "alpha": round(r.alpha, 4),
    }
    return b_span, l_span, change, ""


def _loaded_months(con: Any, table: str, scope: Scope) -> list[dt.date]:
    t = scope.months(con.table(table))
    row = t.aggregate(first=t.month.min(), last=t.month.max()).to_pandas().iloc[0]
    if pd.isna(row["first"]):
        return []
    return _months(pd.Timestamp(row["first"]).date(), pd.Timestamp(row["last"]).date())


def success_measures(
    con: Any, definition: Definition, scope: Scope, baseline: str | None = None
) -> dict[str, Any]:
    """The Home Office success measures available from the warehouse, for the scope.

    1. ED attendances for assault with a sharp object (``feed_istv``, method ``Sharp
       object``), standing in for the Home Office's hospital admissions (HES, ICD-10 X99),
       which are not a feed here; placed by the patient's home LSOA.
    2. Police recorded knife or sharp object enabled serious violence: distinct crimes of
       ``feed_police_crime`` with the knife flag on a code of :data:`KNIFE_ENABLED_CODES`.
    3. Non-domestic homicide: crimes of the definition's ``homicide`` kind not flagged as
       domestic abuse.

    Each in total and for victims under 25 (``age_at_event`` < 25; a crime counts when any
    victim is under 25).

    Args:
        con: the warehouse.
        definition: the local definition (for its homicide kind).
        scope: the months and area (resolved).
        baseline: ``YYYY-MM..YYYY-MM``; by default the first 12 months of each series.

    Returns:
        ``area, area_name, definition_version, residents, residents_under_25, measures,
        note``; ``measures`` has one entry per measure and cohort: ``measure, label, cohort``
        (``all`` or ``under_25``), ``source, available, series`` (``month, count`` for every
        month from the first to the last the feed has in the scope), ``count, baseline`` and
        ``latest`` (``from, to, months, count``), ``change`` (``rate_ratio, ci_low, ci_high,
        p_value, alpha`` of the latest 12 months against the baseline, or ``None``) and
        ``note``.

    Notes:
        The change is the rate ratio of a negative binomial regression of monthly counts on a
        latest-period indicator with the area's residents as a constant exposure
        (:func:`svduty.analysis.trends.rate_ratio`); with one indicator and a constant exposure
        it equals the ratio of mean monthly counts, its interval widened for over-dispersion.
        Measures: Home Office (2022) Serious Violence Duty: statutory guidance, and the Violence
        Reduction Unit primary measures.

    Examples:
        >>> parse_period("2024-01..2024-06")[1].month
        6
    """
    period = parse_period(baseline) if baseline else None
    lsoas = areas(con, scope)
    pop = con.table("ref_population")
    pop = pop.filter(pop.lsoa21_code.isin(lsoas["lsoa21_code"].tolist()))
    young_pop = pop.filter(pop.age_band.isin(["0-15", "16-24"]))
    residents = int(pop.residents.sum().execute() or 0)
    residents_young = int(young_pop.residents.sum().execute() or 0)
    out_rows: list[dict[str, Any]] = []
    for key, label, source, table in MEASURES:
        loaded = bool(con.table(table).count().execute())
        events, why_not = _events(con, definition, key) if loaded else (None, "")
        cohorts = (("all", label, residents), ("under_25", f"{label}, victims under 25",
                                                 residents_young))  # fmt: skip
        if not loaded or events is None:
            reason = why_not or f"the {source} feed is not loaded"
            if key == "homicide" and not loaded:
                reason += "; police.uk categories do not separate homicide from other violence"
            if key == "knife_enabled_crime" and not loaded:
                reason += "; police.uk has no knife flag"
            for cohort, name, _ in cohorts:
                out_rows.append(
                    {"measure": key, "label": name, "cohort": cohort, "source": source,
                     "available": False, "series": [], "count": None, "baseline": None,
                     "latest": None, "change": None,
                     "note": f"not available from loaded data: {reason}"}
                )  # fmt: skip
            continue
        events = scope.places(scope.months(events), con)
        by_month = (
            events.group_by("month")
            .aggregate(
                all=events.record.nunique(),
                under_25=events.record.nunique(where=events.young),
            )
            .to_pandas()
        )
        counted = {month_label(r.month): r for r in by_month.itertuples()}
        months = _loaded_months(con, table, scope)
        base = _months(*period) if period else months[:LATEST_MONTHS]
        for cohort, name, exposure in cohorts:
            series = [
                int(getattr(counted[month_label(m)], cohort)) if month_label(m) in counted else 0
                for m in months
            ]
            b, latest, change, why = (
                _change(series, months, base, float(exposure or 1))
                if months
                else (None, None, None, "no months loaded in the scope")
            )
            note = "" if change else f"no change estimated: {why}"
            out_rows.append(
                {
                    "measure": key,
                    "label": name,
                    "cohort": cohort,
                    "source": source,
                    "available": True,
                    "series": [
                        {"month": month_label(m), "count": n}
                        for m, n in zip(months, series, strict=True)
                    ],
                    "count": int(sum(series)),
                    "baseline": b,
                    "latest": latest,
                    "change": change,
                    "note": note,
                }
            )
    codes = "; ".join(f"{g}: {', '.join(c)}" for g, c in KNIFE_ENABLED_CODES.items())
    return {
        "area": scope.area,
        "area_name": scope.area_name,
        "definition_version": definition.version,
        "residents": residents,
        "residents_under_25": residents_young,
        "measures": out_rows,
        "note": (
            "The Home Office success measures: (1) hospital admissions for assault with a knife "
            "or sharp object (HES, ICD-10 X99) are not a feed here, so emergency department "
            "attendances for assault with a sharp object (ISTV) stand in for them, placed by "
            "the patient's home; (2) police recorded knife or sharp object enabled serious "
            f"violence: crimes with the knife flag on the codes {codes}; (3) non-domestic "
            "homicide: the definition's homicide kind without the domestic abuse flag. Under "
            f"{UNDER}: the victim's age at the event (a crime counts when any victim is under "
            f"{UNDER}). Change: the latest {LATEST_MONTHS} months against the baseline "
            f"({baseline or 'the first 12 months'}), a negative binomial rate ratio of monthly "
            "counts with a constant exposure (residents), with its 95% interval; small counts "
            "give wide intervals, and a change is not an effect of any one programme."
        ),
    }
