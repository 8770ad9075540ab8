"""The public version of the assessment's figures: no count from 1 to 4 anywhere, and no
published total that can be differenced back to a suppressed count.

Counts by kind, month and area form a hierarchy (partnership-area months add up to the area's
period total; LSOA totals add up to their partnership area's) protected together by
:func:`svduty.privacy.disclosure.protect`; monthly counts of single LSOAs are not published at
all. Every other table of counts is protected as a table whose total is known. Figures a reader
could turn back into small counts (rolling sums, control limits, the forecast's per-LSOA
scores, Gi* z-scores) are left out; rates and ratios whose counts are suppressed are too.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

from svduty.analysis.counts import ALL
from svduty.privacy.disclosure import SMALL, protect

COUNT_FIELDS = ("count", "people", "youth_count", "under_25", "victims", "suspects", "records")


def is_count(key: str) -> bool:
    """Whether a field of the figures holds a count of records or people.

    Examples:
        >>> is_count("count"), is_count("count_school_days"), is_count("hour")
        (True, True, False)
    """
    return (
        key in COUNT_FIELDS
        or key.startswith(("count_", "window_", "people_"))
        or key.endswith("_count")
    )


MEDIAN_PEOPLE = 10  # the fewest people whose median months before a knife offence is published
DROPPED_SERIES = ("rolling_12", "expected", "low", "high")
NOTE = (
    "Statistical disclosure control: no count from 1 to 4 is shown for any area, month or "
    "group; further counts are suppressed where a published total would let a reader work a "
    "suppressed count back out, or narrow it to fewer than 3 possible values (checked by "
    "linear programming over every published total). "
    "Suppressed counts are shown as *. Counts for single neighbourhoods (LSOAs) are given for "
    "the whole period only, never by month."
)


def _hierarchy(f: dict[str, Any]) -> tuple[dict[tuple[str, str, str], int | None], int]:
    """Protect each kind's counts: area-months, area totals and LSOA totals."""
    areas = [ALL] + [a["area"] for a in f["scope"]["partnership_areas"]]
    csp_of = {p["lsoa"]: p["area"] for p in f["places"]}
    months = f["trends"]["months"]
    monthly: dict[tuple[str, str, str], int] = {}
    lsoa_total: dict[tuple[str, str], int] = defaultdict(int)
    for r in f["counts"]:
        if r["area"] in areas:
            monthly[(r["kind"], r["area"], r["month"])] = r["count"]
        else:
            lsoa_total[(r["kind"], r["area"])] += r["count"]
    published: dict[tuple[str, str, str], int | None] = {}
    hidden_total = 0
    for kind in f["kind_labels"]:
        cells: list[tuple[str, str, str]] = []
        for a in areas:
            cells += [(a, m, "month") for m in months] + [(a, "", "total")]
        lsoas = sorted(code for code in csp_of)
        cells += [(code, "", "lsoa") for code in lsoas]
        index = {c: i for i, c in enumerate(cells)}
        values = []
        for a, m, what in cells:
            if what == "month":
                values.append(monthly.get((kind, a, m), 0))
            elif what == "total":
                values.append(sum(monthly.get((kind, a, mm), 0) for mm in months))
            else:
                values.append(lsoa_total.get((kind, a), 0))
        groups: list[tuple[list[int], int | None]] = []
        for a in areas:
            groups.append(([index[(a, m, "month")] for m in months], index[(a, "", "total")]))
        for m in months:
            groups.append(([index[(a, m, "month")] for a in areas[1:]], index[(ALL, m, "month")]))
        groups.append(([index[(a, "", "total")] for a in areas[1:]], index[(ALL, "", "total")]))
        for a in areas[1:]:
            inside = [index[(c, "", "lsoa")] for c in lsoas if csp_of[c] == a]
            if inside:
                groups.append((inside, index[(a, "", "total")]))
        try:
            hidden = protect(values, groups)
        except RuntimeError:  # too few events to protect: suppress every non-zero count
            hidden = {i for i, v in enumerate(values) if v}
        hidden_total += len(hidden)
        for c, i in index.items():
            published[(kind, *c)] = None if i in hidden else values[i]
    return published, hidden_total


def _protect_rows(rows: list[dict[str, Any]]) -> int:
    """Protect a list of count rows as one table whose total is known, field by field."""
    hidden_total = 0
    fields = sorted({k for r in rows for k in r if is_count(k)})
    for field in fields:
        idx = [
            i for i, r in enumerate(rows)
            if isinstance(r.get(field), int) and not isinstance(r.get(field), bool)
        ]  # fmt: skip
        if not idx:
            continue
        values = [rows[i][field] for i in idx]
        if not any(v in SMALL for v in values):
            continue
        try:
            hidden = protect(values, [(list(range(len(values))), None)])
        except RuntimeError:  # too few events to protect: suppress every non-zero count
            hidden = {i for i, v in enumerate(values) if v}
        for k in hidden:
            rows[idx[k]][field] = None
            rows[idx[k]]["suppressed"] = True
        hidden_total += len(hidden)
    return hidden_total


def _walk(part: Any) -> int:
    """Protect every list of count rows inside a section, and suppress any other count from
    1 to 4."""
    hidden = 0
    if isinstance(part, dict):
        for key in [k for k in part if is_count(k)]:
            value = part.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value in SMALL:
                part[key] = None
                part["suppressed"] = True
                hidden += 1
        for value in part.values():
            hidden += _walk(value)
    elif isinstance(part, list):
        if (
            part
            and all(isinstance(r, dict) for r in part)
            and any(isinstance(r.get(f), int) for r in part for f in COUNT_FIELDS)
        ):
            hidden += _protect_rows(part)
        for r in part:
            hidden += _walk(r)
    return hidden


def public_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """A copy of the figures fit for publication (see the module's description)."""
    f = copy.deepcopy(figures)
    published, hidden = _hierarchy(f)
    areas = {ALL} | {a["area"] for a in f["scope"]["partnership_areas"]}
    f["counts"] = [
        {**r, "count": published[(r["kind"], r["area"], r["month"], "month")],
         **({"suppressed": True}
            if published[(r["kind"], r["area"], r["month"], "month")] is None else {})}
        for r in f["counts"] if r["area"] in areas
    ]  # fmt: skip
    f["lsoa_totals"] = [
        {"kind": kind, "area": a, "count": v, **({"suppressed": True} if v is None else {})}
        for (kind, a, _m, what), v in sorted(published.items())
        if what == "lsoa"
    ]
    months = f["trends"]["months"]
    for s in f["trends"]["series"]:
        s["counts"] = [published[(s["kind"], s["area"], m, "month")] for m in months]
        for key in DROPPED_SERIES:
            s.pop(key, None)
    for r in f["trends"]["summary"]:
        total = published[(r["kind"], r["area"], "", "total")]
        r["count"] = total
        if total is None:
            r["rate_per_1000"] = None
        c = r.get("change")
        if c is not None:
            small = min(c.pop("later_count", 0), c.pop("earlier_count", 0)) < 10
            r["change"] = None if small or total is None else c
        r["flagged"] = [{"month": m["month"], "flag": m["flag"]} for m in r.get("flagged", [])]
    for k in f.get("kinds", []):
        k["count"] = published[(k["kind"], ALL, "", "total")]
        if k["count"] is None:
            k["share"] = k["rate_per_1000"] = None
    for name in (
        "where", "when", "who", "cohorts", "why", "measures", "quality", "forecast", "harm"
    ):  # fmt: skip
        part = f.get(name)
        if part is not None:
            f[name] = _public_part(name, part, published)
            hidden += _walk(f[name])
    _derived(f)
    f["public"] = True
    f["disclosure"] = {"note": NOTE, "suppressed": hidden, "rule": "1-4 suppressed; secondary"}
    return f


def public_cohorts(cohorts: dict[str, Any]) -> dict[str, Any]:
    """The cohort figures (:func:`svduty.analysis.cohorts.cohorts`) fit for publication, as in
    the public assessment."""
    part = copy.deepcopy(cohorts)
    hidden = _walk(part)
    _cohort_derived(part)
    part["disclosure"] = {"note": NOTE, "suppressed": hidden, "rule": "1-4 suppressed; secondary"}
    return part


def _public_part(name: str, part: dict[str, Any], published: dict[Any, int | None]) -> Any:
    """Leave out of a section what could be turned back into small counts."""
    part = copy.deepcopy(part)
    if name == "forecast":
        part.pop("scores", None)
        part.pop("lsoas", None)
    if name == "when":
        school = part.get("school_days") or {}
        for r in school.get("rows", []):
            r.pop("per_school_day", None)  # rates per day give the counts back
            r.pop("per_holiday_weekday", None)
    if name == "measures":
        for m in part.get("measures", []):
            # sums over parts of a series (baseline, latest) are further totals: not published
            for key in ("baseline", "latest"):
                if isinstance(m.get(key), dict):
                    m[key]["count"] = None
            c = m.get("change")
            if c is not None and (m.get("count") or 0) < 20:
                m["change"] = None
    if name == "where":
        for r in part.get("lsoas", []):
            v = published.get((part.get("kind", ALL), r.get("lsoa"), "", "lsoa"))
            if "count" in r:
                r["count"] = v
                if v is None:
                    r["suppressed"] = True
                    for key in list(r):
                        if key.startswith("rate"):
                            r[key] = None
        for key in ("hotspots", "hotspot_change"):
            section = part.get(key) or {}
            for r in section.get("lsoas", []):
                for k in ("z", "p", "p_value", "q", "q_value", "gi", "count"):
                    r.pop(k, None)
    return part


def _cohort_derived(part: Any) -> None:
    """In the cohort figures, a share whose counts were suppressed would give them back, and
    months before a knife offence are published only for groups of at least
    :data:`MEDIAN_PEOPLE`."""
    if isinstance(part, dict):
        counts = [part[k] for k in part if is_count(k)]
        if any(v is None for v in counts):
            for k in list(part):
                if k.startswith(("share", "median", "quartile")):
                    part[k] = None
        if "median_months" in part and (part.get("people") or 0) < MEDIAN_PEOPLE:
            part["median_months"] = part["quartile_months"] = None
        for value in part.values():
            _cohort_derived(value)
    elif isinstance(part, list):
        for value in part:
            _cohort_derived(value)


def _derived(f: dict[str, Any]) -> None:
    """Leave out shares and ratios whose counts were suppressed."""
    _cohort_derived(f.get("cohorts"))
    school = (f.get("when") or {}).get("school_days") or {}
    for a in school.get("after_school", []):
        if any(a.get(k) is None for k in a if is_count(k)):
            for k in list(a):
                if k.startswith(("share", "hourly", "day_")):
                    a[k] = None
    under = (f.get("who") or {}).get("under_25") or {}
    for r in under.get("shares", []) + under.get("records", []):
        if r.get("under_25") is None or r.get("count") is None:
            r["share"] = r["ci_low"] = r["ci_high"] = None
