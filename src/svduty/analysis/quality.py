"""Data quality per partner feed and organisation: can the needs assessment trust what it reads?

Four dimensions, each with a red-amber-green status against stated thresholds:

- completeness: the share of rows with what an analysis needs (a place, a time, an age, a sex,
  whichever the feed carries);
- validity: the share of rows read that validation refused (quarantined), and the rules they
  broke most;
- timeliness: days from the end of each month to the first successful load of its data;
- coverage: the months loaded against the months expected (from the first to the last month
  any feed covers; for providers' participant lists, from their own first to last month), and
  the months missing.

The engine counts (one row per feed, organisation and month); Python compares.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from svduty.analysis.scope import Scope, month_label
from svduty.datasets.partners import FEEDS as PARTNER_FEEDS
from svduty.ingest.status import FEED_TABLES, unusual_months

# (green at or above, amber at or above) for shares where more is better; (green at or below,
# amber at or below) for the invalid share and the days late, where less is better.
THRESHOLDS: dict[str, dict[str, Any]] = {
    "completeness": {"green": 0.95, "amber": 0.80, "measure": "lowest share of rows with a "
                     "needed value (place, time, age, sex)", "better": "higher"},
    "validity": {"green": 0.01, "amber": 0.05, "measure": "share of rows read that were "
                 "quarantined", "better": "lower"},
    "timeliness": {"green": 31, "amber": 62, "measure": "median days from the end of a month "
                   "to its first successful load", "better": "lower"},
    "coverage": {"green": 1.0, "amber": 0.9, "measure": "share of the expected months loaded",
                 "better": "higher"},
}  # fmt: skip
RANK = {"green": 0, "amber": 1, "red": 2}
# Months a feed has no data by design: schools are closed in August.
NO_DATA_BY_DESIGN = {"education": (8,)}
# Feeds that come only while something runs: providers' participant lists exist for the months a
# funded project takes referrals, so only the months between their first and last are expected.
OWN_SPAN = {"participants"}
# The values that say nothing: a sex recorded as unknown is as good as missing for analysis.
UNINFORMATIVE = {"sex": ("Unknown",)}


def rag(dimension: str, value: float | None) -> str | None:
    """The red-amber-green status of a value of one dimension (``None`` when not measured).

    Examples:
        >>> rag("completeness", 0.97), rag("validity", 0.03), rag("timeliness", 90)
        ('green', 'amber', 'red')
    """
    if value is None:
        return None
    t = THRESHOLDS[dimension]
    if t["better"] == "higher":
        return "green" if value >= t["green"] else "amber" if value >= t["amber"] else "red"
    return "green" if value <= t["green"] else "amber" if value <= t["amber"] else "red"


def needed_columns(feed: str, columns: list[str]) -> dict[str, str]:
    """The columns that give a feed's records their place, time, age and sex (those it has).

    Examples:
        >>> needed_columns("police-uk-street", ["crime_id", "month", "lsoa_code", "crime_type"])
        {'place': 'lsoa_code', 'time': 'month'}
    """
    time = PARTNER_FEEDS[feed].event if feed in PARTNER_FEEDS else None
    candidates = {
        "place": ("lsoa_code", "home_lsoa", "longitude"),
        "time": (time, "date", "month"),
        "age": ("age_at_event", "age_band", "age_range"),
        "sex": ("sex", "gender"),
    }
    out = {}
    for role, names in candidates.items():
        found = next((c for c in names if c and c in columns), None)
        if found:
            out[role] = found
    return out


def _present(t: ir.Table, role: str, column: str) -> ir.IntegerValue:
    col = t[column]
    ok = col.notnull()
    if col.type().is_string():
        ok = ok & (col != "")
        for value in UNINFORMATIVE.get(role, ()):
            ok = ok & (col != value)
    return ibis.ifelse(ok, 1, 0).sum()


def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def _month_end(month: dt.date) -> dt.date:
    return (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()


def _months(first: str, last: str) -> list[str]:
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def _scoped(t: ir.Table, scope: Scope | None) -> ir.Table:
    return scope.months(t) if scope is not None else t


def _current_loads(con: Any, scope: Scope | None) -> pd.DataFrame:
    """Each partition's loads: its current load (the latest successful one, whose rows are in
    the warehouse) and its first successful load, with their dates."""
    t = _scoped(con.table("loads"), scope)
    t = t.filter(t.status == "loaded", t.feed.isin(list(FEED_TABLES)))
    per = t.group_by(["feed", "org", "month"]).aggregate(
        first_loaded=t.loaded_at.min(), current=t.load_seq.max()
    )
    cur = t.semi_join(per, t.load_seq == per.current).select(
        "feed", "org", "month", "rows_read", "rows_quarantined"
    )
    frame = per.join(cur, ["feed", "org", "month"]).to_pandas()
    frame["month"] = frame["month"].map(month_label)
    return frame


def data_quality(con: Any, scope: Scope | None = None) -> dict[str, Any]:
    """Completeness, validity, timeliness and coverage of every feed, per organisation.

    Args:
        con: the warehouse.
        scope: limits the months looked at (its area is not applied: a record without a place
            cannot be placed in an area, and missing places are what completeness measures).

    Returns:
        ``months`` (``from, to``: the expected range), ``feeds`` (one entry per feed and
        organisation: ``feed, org, table, rows, completeness`` (``{role: {column, share}}`` and
        ``lowest``), ``validity`` (``rows_read, rows_quarantined, invalid_share, rules``: the
        most common quarantine rules with ``rule, column, rows``), ``timeliness``
        (``median_days, worst_days, worst_month, latest_month, latest_days``), ``coverage``
        (``first_month, last_month, expected_months, months_loaded, missing_months, share,
        unusual_months``), ``status`` (``completeness, validity, timeliness, coverage,
        overall``: ``green``, ``amber``, ``red`` or ``None`` when not measured) and
        ``note``), ``refused_files`` (files refused outright, by feed), ``thresholds`` and
        ``note``.

    Notes:
        The dimensions follow the UK Government Data Quality Framework (Government Data
        Quality Hub, 2020): completeness, validity, timeliness (with coverage as the
        completeness of the series). Unusual months use :func:`svduty.ingest.status
        .unusual_months` (Iglewicz & Hoaglin's modified z-score).

    Examples:
        >>> rag("coverage", 11 / 12)
        'amber'
    """
    loads = _current_loads(con, scope)
    q = _scoped(con.table("quarantine"), scope)
    q = q.filter(q.feed.isin(list(FEED_TABLES)))
    rules = (
        q.select("feed", "org", "rule", "column", "source", "row")
        .distinct()
        .group_by(["feed", "org", "rule", "column"])
        .aggregate(rows=ibis._.count())
    )
    rule_rows = pd.DataFrame(_rows(rules), columns=["feed", "org", "rule", "column", "rows"])
    monthly: dict[tuple[str, str], dict[str, int]] = {}
    complete: dict[tuple[str, str], dict[str, Any]] = {}
    for feed, (table, sender) in FEED_TABLES.items():
        t = _scoped(con.table(table), scope)
        for r in _rows(t.group_by([sender, "month"]).aggregate(n=t.count())):
            monthly.setdefault((feed, r[sender]), {})[month_label(r["month"])] = int(r["n"])
        needed = needed_columns(feed, list(t.columns))
        agg = {role: _present(t, role, column) for role, column in needed.items()}
        for r in _rows(t.group_by(sender).aggregate(rows=t.count(), **agg)):
            complete[(feed, r[sender])] = {"rows": int(r["rows"]), "needed": needed, **r}
    keys = sorted(set(monthly) | {(f, o) for f, o in zip(loads["feed"], loads["org"], strict=True)})
    loaded_months = {
        k: set(monthly.get(k, {})) | set(loads[(loads["feed"] == k[0]) & (loads["org"] == k[1])]
                                         ["month"])
        for k in keys
    }  # fmt: skip
    # the months of every feed, already within the scope's
    every = sorted(m for months in loaded_months.values() for m in months)
    expected_all = _months(every[0], every[-1]) if every else []
    feeds = []
    for feed, org in keys:
        table, _ = FEED_TABLES[feed]
        k = (feed, org)
        c = complete.get(k, {"rows": 0, "needed": needed_columns(feed, [])})
        rows = c["rows"]
        completeness: dict[str, Any] = {}
        for role, column in c["needed"].items():
            share = round(c[role] / rows, 4) if rows else None
            completeness[role] = {"column": column, "share": share}
        shares = [v["share"] for v in completeness.values() if v["share"] is not None]
        completeness["lowest"] = min(shares) if shares else None

        lk = loads[(loads["feed"] == feed) & (loads["org"] == org)]
        read, bad = int(lk["rows_read"].sum()), int(lk["rows_quarantined"].sum())
        top = rule_rows[(rule_rows["feed"] == feed) & (rule_rows["org"] == org)]
        top = top.sort_values(["rows", "rule", "column"], ascending=[False, True, True])
        validity: dict[str, Any] = {
            "rows_read": read,
            "rows_quarantined": bad,
            "invalid_share": round(bad / read, 4) if read else None,
            "rules": [
                {"rule": r.rule, "column": r.column, "rows": int(r.rows)}
                for r in top.head(3).itertuples()
            ],
        }

        days = {
            m: (pd.Timestamp(ts).date() - _month_end(pd.Timestamp(m + "-01").date())).days
            for m, ts in zip(lk["month"], lk["first_loaded"], strict=True)
        }
        worst = max(days, key=lambda m: (days[m], m)) if days else None
        latest = max(days) if days else None
        timeliness: dict[str, Any] = {
            "median_days": float(statistics.median(days.values())) if days else None,
            "worst_days": days[worst] if worst else None,
            "worst_month": worst,
            "latest_month": latest,
            "latest_days": days[latest] if latest else None,
        }

        skip = NO_DATA_BY_DESIGN.get(feed, ())
        expected = [m for m in expected_all if int(m[5:]) not in skip]
        have = loaded_months[k]
        if feed in OWN_SPAN and have:
            expected = [m for m in expected if min(have) <= m <= max(have)]
        missing = [m for m in expected if m not in have]
        counts = monthly.get(k, {})
        coverage: dict[str, Any] = {
            "first_month": min(have) if have else None,
            "last_month": max(have) if have else None,
            "expected_months": len(expected),
            "months_loaded": len([m for m in expected if m in have]),
            "missing_months": missing,
            "share": round(1 - len(missing) / len(expected), 4) if expected else None,
            "unusual_months": unusual_months(counts),
        }
        status = {
            "completeness": rag("completeness", completeness["lowest"]),
            "validity": rag("validity", validity["invalid_share"]),
            "timeliness": rag("timeliness", timeliness["median_days"]),
            "coverage": rag("coverage", coverage["share"]),
        }
        known = [s for s in status.values() if s]
        status["overall"] = max(known, key=RANK.__getitem__) if known else None
        notes = []
        if skip:
            notes.append("no August by design (schools are closed): August is not expected")
        if feed in OWN_SPAN:
            notes.append(
                "lists come only while funded projects take referrals: only the months from "
                "the first to the last list are expected"
            )
        if feed.startswith("police-uk"):
            notes.append("timeliness counts to the load here, not to publication on police.uk")
        feeds.append(
            {
                "feed": feed,
                "org": org,
                "table": table,
                "rows": rows,
                "completeness": completeness,
                "validity": validity,
                "timeliness": timeliness,
                "coverage": coverage,
                "status": status,
                "note": "; ".join(notes),
            }
        )
    refused = con.table("loads")
    refused = refused.filter(refused.status == "refused")
    refused_files = [
        {"feed": r["feed"], "file_name": r["file_name"], "message": r["message"]}
        for r in _rows(refused.order_by(["feed", "file_name", "load_seq"]))
    ]
    return {
        "months": {
            "from": expected_all[0] if expected_all else None,
            "to": expected_all[-1] if expected_all else None,
        },
        "feeds": feeds,
        "refused_files": refused_files,
        "thresholds": THRESHOLDS,
        "note": (
            "One entry per feed and sending organisation (police.uk files as feeds of their "
            "own). Completeness: rows with a place, time, age and sex, whichever the feed "
            "carries (empty values and a sex recorded as Unknown count as missing). Validity: "
            "rows quarantined of rows read, in the file now loaded for each month. Timeliness: "
            "days from the end of a month to the first successful load of its file; a first "
            "load of past months shows as late. Coverage: months with data against every "
            "month from the first to the last month any feed covers (education has no August "
            "by design). Status: red, amber or green against the thresholds; overall is the "
            "worst of the four."
        ),
    }
