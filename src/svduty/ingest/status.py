"""What the warehouse holds: loads by feed and month, quarantine, and coverage checks.

The coverage checks are the ones users of police.uk data need before trusting a series: months
missing from the loaded range, months whose volume departs sharply from the rest, rows without a
location or LSOA, and rows whose LSOA lies outside the reference area.
"""

from __future__ import annotations

import datetime as _dt
import statistics
from typing import Any

import ibis

from svduty.datasets.partners import FEEDS as PARTNER_FEEDS
from svduty.datasets.police_uk import KINDS

# feed -> (table, the column naming who sent it: the force for police.uk, the partner otherwise)
FEED_TABLES = {k.contract.feed: (k.table, "force") for k in KINDS.values()} | {
    f.name: (f.table, "org") for f in PARTNER_FEEDS.values()
}
# Iglewicz & Hoaglin's modified z-score: |0.6745 (x - median) / MAD| > 3.5 flags an outlier.
OUTLIER_Z = 3.5
MIN_RELATIVE_DEPARTURE = 0.2


def _month(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        value = value.date()
    return value.strftime("%Y-%m")


def _months_between(first: _dt.date, last: _dt.date) -> list[_dt.date]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(_dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _rows(expr: ibis.Expr) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def loads_by_month(con: Any) -> list[dict[str, Any]]:
    """One entry per feed and month: rows in the warehouse and rows quarantined."""
    q = con.table("quarantine")
    quarantined = {
        (r["feed"], _month(r["month"])): r["n"]
        for r in _rows(
            q.select("feed", "org", "month", "row")
            .distinct()
            .group_by(["feed", "month"])
            .aggregate(n=ibis._.count())
        )
        if r["month"] is not None
    }
    out = []
    for feed, (table, sender) in FEED_TABLES.items():
        t = con.table(table)
        counts = _rows(t.group_by("month").aggregate(rows=t.count(), forces=t[sender].nunique()))
        for r in counts:
            month = _month(r["month"])
            out.append(
                {
                    "feed": feed,
                    "month": month,
                    "rows": int(r["rows"]),
                    "quarantined": int(quarantined.pop((feed, month), 0)),
                    "forces": int(r["forces"]),
                }
            )
    # a month whose every row was quarantined still shows
    for (feed, month), n in quarantined.items():
        out.append({"feed": feed, "month": month, "rows": 0, "quarantined": int(n), "forces": 0})
    return sorted(out, key=lambda r: (r["feed"], r["month"]))


def unusual_months(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Months whose volume departs sharply from the rest (robust z-score on the median/MAD).

    Notes:
        Iglewicz, B. & Hoaglin, D. (1993) How to Detect and Handle Outliers: a month is flagged
        when its modified z-score exceeds 3.5 and it differs from the median by over 20%.

    Examples:
        >>> unusual_months({"2024-01": 100, "2024-02": 104, "2024-03": 98, "2024-04": 30})
        [{'month': '2024-04', 'rows': 30, 'median': 99.0, 'z': -15.5}]
    """
    if len(counts) < 4:
        return []
    values = list(counts.values())
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    out = []
    for month, n in sorted(counts.items()):
        departure = abs(n - median) / median if median else 0.0
        z = 0.6745 * (n - median) / mad if mad else (float("inf") if n != median else 0.0)
        if abs(z) > OUTLIER_Z and departure > MIN_RELATIVE_DEPARTURE:
            out.append({"month": month, "rows": n, "median": float(median), "z": round(z, 1)})
    return out


def coverage(con: Any) -> list[dict[str, Any]]:
    """Coverage checks per police.uk feed and force."""
    ref = con.table("ref_lsoa")
    has_reference = bool(ref.count().execute())
    out = []
    for feed, (table, sender) in FEED_TABLES.items():
        t = con.table(table)
        for force_row in _rows(t.select(sender).distinct()):
            force = force_row[sender]
            ft = t.filter(t[sender] == force)
            counts = {
                _month(r["month"]): int(r["n"])
                for r in _rows(ft.group_by("month").aggregate(n=ft.count()))
            }
            months = sorted(counts)
            first = _dt.date.fromisoformat(months[0] + "-01")
            last = _dt.date.fromisoformat(months[-1] + "-01")
            missing = [_month(m) for m in _months_between(first, last) if _month(m) not in counts]
            entry: dict[str, Any] = {
                "feed": feed,
                "org": force,
                "first_month": months[0],
                "last_month": months[-1],
                "rows": sum(counts.values()),
                "missing_months": missing,
                "unusual_months": unusual_months(counts),
            }
            n = max(sum(counts.values()), 1)
            if "longitude" in ft.columns:
                no_location = int(ft.longitude.isnull().sum().execute() or 0)
                entry["share_without_location"] = round(no_location / n, 4)
            if "lsoa_code" in ft.columns:
                no_lsoa = int(ft.lsoa_code.isnull().sum().execute() or 0)
                entry["share_without_lsoa"] = round(no_lsoa / n, 4)
                if has_reference:
                    coded = ft.filter(ft.lsoa_code.notnull())
                    outside = coded.anti_join(ref, coded.lsoa_code == ref.lsoa21_code).count()
                    n_out = int(outside.execute())
                    entry["rows_outside_reference_area"] = n_out
                    entry["share_outside_reference_area"] = round(n_out / n, 4)
                else:
                    entry["rows_outside_reference_area"] = None
            if sender == "force":
                entry["force"] = force
            out.append(entry)
    return out


def quarantine_by_rule(con: Any) -> list[dict[str, Any]]:
    """Quarantine entries counted by feed and rule."""
    q = con.table("quarantine")
    rows = _rows(
        q.group_by(["feed", "rule"]).aggregate(entries=q.count(), files=q.source.nunique())
    )
    return sorted(
        ({k: (int(v) if k in ("entries", "files") else v) for k, v in r.items()} for r in rows),
        key=lambda r: (r["feed"], -r["entries"]),
    )


def quarantine_entries(
    con: Any, feed: str | None = None, rule: str | None = None, limit: int | None = 100
) -> list[dict[str, Any]]:
    """Quarantined rows: file, row, column, rule and message (and the raw record)."""
    q = con.table("quarantine")
    if feed:
        q = q.filter(q.feed == feed)
    if rule:
        q = q.filter(q.rule == rule)
    q = q.order_by([q.feed, q.source, q.row, q.rule])
    if limit:
        q = q.limit(limit)
    out = []
    for r in _rows(q):
        r["month"] = _month(r["month"]) if r["month"] else None
        out.append(r)
    return out


def recent_loads(con: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The latest load records, newest first."""
    t = con.table("loads").order_by(ibis.desc("load_seq")).limit(limit)
    out = []
    for r in _rows(t):
        r["month"] = _month(r["month"]) if r["month"] else None
        r["loaded_at"] = r["loaded_at"].isoformat() if r["loaded_at"] else None
        out.append(r)
    return out


def status(con: Any) -> dict[str, Any]:
    """Everything ``svduty status`` shows, as one JSON-ready object."""
    ref = {
        name: int(con.table(name).count().execute())
        for name in ("ref_lsoa", "ref_geography", "ref_population", "ref_imd")
    }
    return {
        "loads": loads_by_month(con),
        "coverage": coverage(con),
        "quarantine": quarantine_by_rule(con),
        "reference": ref,
        "recent_loads": recent_loads(con, 10),
    }
