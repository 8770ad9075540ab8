"""When serious violence happens: hour of day by day of week, and school days against the
school holidays (the after-school peak of youth violence).

Four feeds carry a time: police recorded crime (``committed``), ED attendances (ISTV: the assault
time, else the arrival), ambulance call-outs and fire incidents; police.uk street data gives the
month only. Times are naive UK local clock times, as partners export them. The engine counts
records by source, day and hour; the statistics run on those counts.

Whether schools are open comes from a school calendar, a data file a partnership can replace
(:mod:`svduty.analysis.school_calendar`): svduty ships the typical dates of England's school
holidays.
"""

from __future__ import annotations

import math
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import relative_risk

from svduty.analysis.definition import Definition
from svduty.analysis.school_calendar import SchoolCalendar, is_school_day, load_school_calendar
from svduty.analysis.scope import Scope, serious_violence
from svduty.analysis.trends import rate_ratio
from svduty.datasets.person import AGE_BANDS
from svduty.errors import ConfigError

ALL = "all"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
AFTER_SCHOOL = (15, 18)  # first and last hour of the after-school window, 15:00-18:59
# The feeds with a time of day: source -> (table, time column).
TIMED = {
    "police-crime": ("feed_police_crime", "committed"),
    "istv": ("feed_istv", "assault_time"),
    "ambulance": ("feed_ambulance", "call_time"),
    "fire": ("feed_fire", "incident_time"),
}


def scoped_records(con: Any, definition: Definition, scope: Scope, kind: str = ALL) -> ir.Table:
    """The distinct serious violence records (``source, record``) of a kind (``all``: any) in
    the scope."""
    if kind != ALL and kind not in {k.key for k in definition.kinds}:
        known = ", ".join(k.key for k in definition.kinds)
        raise ConfigError(f"kind {kind!r} is not in {definition.version}; use all or {known}")
    sv = serious_violence(con, definition, scope)
    if kind != ALL:
        sv = sv.filter(sv.kind == kind)
    return sv.select("source", "record").distinct()


def _covering_bands(ages: tuple[int, int]) -> list[str] | None:
    """The age bands that exactly make up ``ages``, or None when the bands straddle its ends."""
    inside = []
    for band in AGE_BANDS:
        lo, _, hi = band.replace("+", "-200").partition("-")
        if ages[0] <= int(lo) and int(hi) <= ages[1]:
            inside.append((int(lo), int(hi), band))
    inside.sort()
    edges_ok = bool(inside) and inside[0][0] == ages[0] and inside[-1][1] == ages[1]
    joined = all(a[1] + 1 == b[0] for a, b in zip(inside, inside[1:], strict=False))
    return [b for _, _, b in inside] if edges_ok and joined else None


def _timed(
    con: Any, recs: ir.Table, ages: tuple[int, int] | None = None, bands: list[str] | None = None
) -> ir.Table:
    """One row per record of a timed source: ``source, event_time`` (null if unknown),
    ``from_arrival`` (ISTV time taken from the arrival) and ``young`` (someone aged ``ages``)."""
    parts = []
    for source, (table, column) in TIMED.items():
        t = con.table(table)
        extra = {"arrival": t.arrival.min()} if source == "istv" else {}
        if ages and source in ("police-crime", "istv"):
            extra["young"] = t.age_at_event.between(*ages).fill_null(False).any()
        elif source == "ambulance" and bands:
            extra["young"] = t.age_band.isin(bands).fill_null(False).any()
        per = t.group_by("record_key").aggregate(event_time=t[column].min(), **extra)
        if "young" not in extra:
            per = per.mutate(young=ibis.literal(False))
        if source == "istv":
            per = per.mutate(
                event_time=ibis.coalesce(per.event_time, per.arrival),
                from_arrival=per.event_time.isnull() & per.arrival.notnull(),
            )
        else:
            per = per.mutate(from_arrival=ibis.literal(False))
        r = recs.filter(recs.source == source)
        j = r.join(per, r.record == per.record_key)
        parts.append(
            j.select(j.source, event_time=j.event_time, from_arrival=j.from_arrival, young=j.young)
        )
    return ibis.union(*parts, distinct=False)


def _no_time_note(con: Any, recs: ir.Table) -> str:
    n = int(recs.filter(recs.source == "police-uk").count().execute())
    if not n:
        return ""
    return f"police.uk street records ({n}) carry the month only, no time of day, and are left out."


def _header(definition: Definition, scope: Scope, kind: str) -> dict[str, Any]:
    return {"definition_version": definition.version, "kind": kind, "scope": scope.label}


def hour_by_weekday(
    con: Any, definition: Definition, scope: Scope, kind: str = ALL
) -> dict[str, Any]:
    """Serious violence records by hour of day and day of week, per source with a time.

    Returns:
        ``definition_version, kind, scope, note`` and ``rows``: for each source with timed
        records, all 168 cells ``{"source", "weekday" (0 = Monday), "weekday_name", "hour",
        "count"}``; ``totals``: ``{"source", "records", "count" (with a time),
        "without_time", "time_from_arrival"}``. Empty lists when no source in scope has a time
        (police.uk alone). Counts are records: one per crime, ED attendance, call-out or
        incident.
    """
    recs = scoped_records(con, definition, scope, kind)
    t = _timed(con, recs)
    known = t.filter(t.event_time.notnull())
    known = known.mutate(weekday=known.event_time.day_of_week.index(), hour=known.event_time.hour())
    cells = known.group_by(["source", "weekday", "hour"]).aggregate(count=known.count())
    cells = cells.to_pandas()
    totals = (
        t.group_by("source")
        .aggregate(
            records=t.count(),
            count=t.event_time.count(),
            arrival=t.from_arrival.cast("int64").sum(),
        )
        .to_pandas()
    )
    rows: list[dict[str, Any]] = []
    total_rows: list[dict[str, Any]] = []
    for source in TIMED:
        tot = totals[totals["source"] == source]
        if tot.empty or int(tot["count"].iloc[0]) == 0:
            continue
        got = cells[cells["source"] == source].set_index(["weekday", "hour"])["count"]
        for w in range(7):
            for h in range(24):
                n = int(got.get((w, h), 0))
                rows.append({"source": source, "weekday": w, "weekday_name": WEEKDAYS[w],
                             "hour": h, "count": n})  # fmt: skip
        records, timed = int(tot["records"].iloc[0]), int(tot["count"].iloc[0])
        total_rows.append({"source": source, "records": records, "count": timed,
                           "without_time": records - timed,
                           "time_from_arrival": int(tot["arrival"].fillna(0).iloc[0])})  # fmt: skip
    notes = [
        "Hour and day of the event as recorded (UK local clock time). Sources overlap (one "
        "assault can be a crime, an ED attendance and an ambulance call-out): do not add them."
    ]
    arrival = sum(r["time_from_arrival"] for r in total_rows)
    if arrival:
        notes.append(
            f"{arrival} ED attendances without an assault time are placed at their arrival at "
            "the emergency department, usually some hours after the assault."
        )
    if not rows:
        notes.append("No source in scope carries a time of day.")
    notes.append(_no_time_note(con, recs))
    return {**_header(definition, scope, kind), "rows": rows, "totals": total_rows,
            "note": " ".join(n for n in notes if n)}  # fmt: skip


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def hourly_rate_ratio(k: int, n: int, hours: int = 4, level: float = 0.95) -> dict[str, Any]:
    """The hourly rate of ``k`` records in a window of ``hours`` against the hourly rate of the
    other ``n - k`` records of the same days, with an exact test of equal rates.

    Under equal hourly rates ``k`` is binomial with probability ``hours / 24``; the interval is
    the Clopper-Pearson interval of ``k / n`` turned into the ratio
    ``p / (1 - p) * (24 - hours) / hours``.

    Notes:
        Clopper, C. J. & Pearson, E. S. (1934) The use of confidence or fiducial limits
        illustrated in the case of the binomial. Biometrika 26(4), 404-413.

    Examples:
        >>> r = hourly_rate_ratio(50, 150)
        >>> round(r["ratio"], 2), r["ci_low"] > 1, r["p_value"] < 0.001
        (2.5, True, True)
        >>> hourly_rate_ratio(0, 0)["ratio"] is None
        True
    """
    out: dict[str, Any] = {"ratio": None, "ci_low": None, "ci_high": None, "p_value": None}
    if n == 0:
        return out
    test = stats.binomtest(k, n, hours / 24)
    ci = test.proportion_ci(level, method="exact")
    scale = (24 - hours) / hours

    def odds(p: float) -> float | None:
        return _finite(p / (1 - p) * scale) if p < 1 else None

    return {"ratio": odds(k / n), "ci_low": odds(ci.low), "ci_high": odds(ci.high),
            "p_value": float(test.pvalue)}  # fmt: skip


def share_ratio(k1: int, n1: int, k2: int, n2: int, level: float = 0.95) -> dict[str, Any]:
    """The share ``k1 / n1`` against the share ``k2 / n2``: their ratio with the Katz
    (log) interval, and Fisher's exact test.

    Notes:
        Katz, D., Baptista, J., Azen, S. P. & Pike, M. C. (1978) Obtaining confidence intervals
        for the risk ratio in cohort studies. Biometrics 34, 469-474 (scipy's
        ``relative_risk``); Fisher, R. A. (1935) The Design of Experiments.

    Examples:
        >>> r = share_ratio(60, 100, 30, 100)
        >>> round(r["ratio"], 2), r["ci_low"] > 1, r["p_value"] < 0.001
        (2.0, True, True)
    """
    out: dict[str, Any] = {"ratio": None, "ci_low": None, "ci_high": None, "p_value": None}
    if n1 == 0 or n2 == 0:
        return out
    rr = relative_risk(k1, n1, k2, n2)
    ci = rr.confidence_interval(level)
    p = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
    return {"ratio": _finite(rr.relative_risk), "ci_low": _finite(ci.low),
            "ci_high": _finite(ci.high), "p_value": float(p)}  # fmt: skip


def _day_rate_ratio(per_day: pd.Series, school: pd.Series) -> dict[str, Any]:
    """Window records per school day against per holiday weekday, negative binomial over days."""
    out: dict[str, Any] = {"ratio": None, "ci_low": None, "ci_high": None, "p_value": None}
    y = per_day.to_numpy(dtype=float)
    s = school.to_numpy(dtype=bool)
    if y[s].sum() == 0 or y[~s].sum() == 0:
        return out
    try:
        r = rate_ratio(y, np.ones(len(y)), s)
    except (ValueError, np.linalg.LinAlgError):
        return out
    return {"ratio": _finite(r.ratio), "ci_low": _finite(r.ci_low),
            "ci_high": _finite(r.ci_high), "p_value": _finite(r.p_value)}  # fmt: skip


def _loaded_days(con: Any, table: str, scope: Scope, cal: SchoolCalendar) -> pd.DatetimeIndex:
    """The days a source is counted over: those of the months its feed has loaded within the
    scope (a month with no serious violence still counts, a month not loaded does not), within
    the calendar."""
    t = scope.months(con.table(table))
    months = t.select("month").distinct().to_pandas()["month"]
    starts = sorted({pd.Timestamp(m).to_period("M") for m in months})
    days = [pd.date_range(m.start_time, m.end_time.normalize()) for m in starts]
    out = days[0].append(days[1:]) if days else pd.DatetimeIndex([])
    return out[cal.covers(out)]


def _compare(g: pd.DataFrame, school: pd.Series) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Records of weekdays by hour, school days (True) against holiday weekdays (False), and
    the after-school window's figures."""
    g = g[g["day"].dt.dayofweek < 5].assign(school=lambda f: school.reindex(f["day"]).to_numpy())
    by = pd.DataFrame(0, index=range(24), columns=[True, False])
    for (h, s), n in g.groupby(["hour", "school"])["count"].sum().items():
        by.loc[int(h), bool(s)] = int(n)
    first, last = AFTER_SCHOOL
    k_s, k_h = int(by.loc[first:last, True].sum()), int(by.loc[first:last, False].sum())
    n_s, n_h = int(by[True].sum()), int(by[False].sum())
    window = g[(g["hour"] >= first) & (g["hour"] <= last)].groupby("day")["count"].sum()
    weekdays = school.index[school.index.dayofweek < 5]
    hourly = hourly_rate_ratio(k_s, n_s, last - first + 1)
    share = share_ratio(k_s, n_s, k_h, n_h)
    day = _day_rate_ratio(window.reindex(weekdays, fill_value=0), school.reindex(weekdays))
    return by, {
        "count_school_days": n_s, "count_holiday_weekdays": n_h,
        "window_school_days": k_s, "window_holiday_weekdays": k_h,
        "share_school_days": k_s / n_s if n_s else None,
        "share_holiday_weekdays": k_h / n_h if n_h else None,
        **{f"hourly_{k}": v for k, v in hourly.items()},
        **{f"share_{k}": v for k, v in share.items()},
        **{f"day_{k}": v for k, v in day.items()},
    }  # fmt: skip


def school_days(
    con: Any,
    definition: Definition,
    scope: Scope,
    kind: str = ALL,
    ages: tuple[int, int] = (10, 17),
    calendar: SchoolCalendar | None = None,
) -> dict[str, Any]:
    """Serious violence by hour on school days against holiday weekdays, for all ages and for
    those aged ``ages``, and the after-school window (15:00-18:59).

    Returns:
        ``definition_version, kind, scope, calendar, ages, window, note`` and

        - ``days``: ``{"source", "first", "last", "months", "school_days",
          "holiday_weekdays", "left_out"}``: the days of the months the feed has loaded in the
          scope (and the calendar covers), and the records left out, dated outside them;
        - ``rows``: ``{"source", "ages" ("all" or "10-17"), "hour", "count_school_days",
          "count_holiday_weekdays", "per_school_day", "per_holiday_weekday"}``, 24 per group;
        - ``after_school``: per source and ages, the window's counts and shares on school days
          and holiday weekdays; ``hourly_*``: the window's hourly rate on school days against
          the rest of those days (:func:`hourly_rate_ratio`); ``share_*``: its share of
          school-day records against its share of holiday-weekday records
          (:func:`share_ratio`); ``day_*``: window records per school day against per holiday
          weekday (negative binomial over days, :func:`svduty.analysis.trends.rate_ratio`).

    Weekends are left out: school days are compared with holiday weekdays, like with like.

    Notes:
        The share ratio conditions on each day type's total, so busier days do not bias it;
        the hourly and share tests treat records as independent, which related incidents (a
        feud, a series of robberies) are not, so very small p-values deserve some caution.
        Methods: Clopper & Pearson (1934), Katz et al. (1978), Fisher (1935), and the negative
        binomial of :func:`svduty.analysis.trends.rate_ratio` (Cameron & Trivedi 2013).
    """
    cal = calendar or load_school_calendar()
    lo, hi = int(ages[0]), int(ages[1])
    if not 0 <= lo <= hi:
        raise ConfigError(f"ages {ages!r}: give the youngest and oldest age, e.g. (10, 17)")
    group, bands = f"{lo}-{hi}", _covering_bands((lo, hi))
    recs = scoped_records(con, definition, scope, kind)
    t = _timed(con, recs, (lo, hi), bands)
    t = t.filter(t.event_time.notnull())
    t = t.mutate(day=t.event_time.date(), hour=t.event_time.hour())
    counts = t.group_by(["source", "day", "hour", "young"]).aggregate(count=t.count()).to_pandas()
    counts["day"] = pd.to_datetime(counts["day"]).dt.normalize()
    rows: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    spans: list[dict[str, Any]] = []
    for source in TIMED:
        c = counts[counts["source"] == source]
        days = _loaded_days(con, TIMED[source][0], scope, cal) if len(c) else pd.DatetimeIndex([])
        if not len(days):
            continue
        school = pd.Series(is_school_day(days, cal), index=days)
        d_s = int(school.sum())
        d_h = int((days.dayofweek < 5).sum()) - d_s
        inside = c["day"].isin(days)
        spans.append({"source": source, "first": str(days[0].date()),
                      "last": str(days[-1].date()), "months": len(set(days.to_period("M"))),
                      "school_days": d_s, "holiday_weekdays": d_h,
                      "left_out": int(c.loc[~inside, "count"].sum())})  # fmt: skip
        c = c[inside]
        groups = [(ALL, c)]
        if source in ("police-crime", "istv") or (source == "ambulance" and bands):
            groups.append((group, c[c["young"].astype(bool)]))
        for label, g in groups:
            by, summary = _compare(g, school)
            for h in range(24):
                ns, nh = int(by.loc[h, True]), int(by.loc[h, False])
                rows.append({"source": source, "ages": label, "hour": h,
                             "count_school_days": ns, "count_holiday_weekdays": nh,
                             "per_school_day": ns / d_s if d_s else None,
                             "per_holiday_weekday": nh / d_h if d_h else None})  # fmt: skip
            after.append({"source": source, "ages": label, **summary})
    bands_text = (
        ", ambulance patients in the bands " + " and ".join(bands)
        if bands
        else "; ambulance records (age bands only) do not fit these ages"
    )
    notes = [
        "" if spans else "No source in scope carries a time of day within the calendar.",
        f"School days from the calendar '{cal.name}' ({cal.version}): typical dates, not those "
        "of a particular school, and schools' five training days are not known. Counts per day "
        "of each type make the unequal numbers of days fair; weekends are left out, so school "
        "days are compared with holiday weekdays (bank holidays count as holiday weekdays). "
        f"Aged {group}: police crimes naming a victim or suspect of that age, ED patients of "
        f"that age{bands_text}. The hourly ratio compares the window with the rest of the same "
        "days (exact binomial test): violence is rare at night, so it exceeds 1 for every age; "
        "the like-for-like test is the share ratio, the window's share of school-day records "
        "against its share of holiday-weekday records (Katz interval, Fisher's exact test). "
        "The day ratio allows for days varying more than chance (negative binomial).",
        _no_time_note(con, recs),
    ]
    first, last = AFTER_SCHOOL
    return {
        **_header(definition, scope, kind),
        "calendar": {"name": cal.name, "version": cal.version, "source": cal.source},
        "ages": [lo, hi],
        "window": {"first_hour": first, "last_hour": last, "label": f"{first}:00-{last}:59"},
        "days": spans, "rows": rows, "after_school": after,
        "note": " ".join(n for n in notes if n),
    }  # fmt: skip
