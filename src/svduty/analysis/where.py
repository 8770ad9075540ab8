"""Where serious violence happens: counts and rates per 1,000 residents by LSOA and partnership
area, and how concentrated violence is among LSOAs.

The "Where" part of the Strategic Needs Assessment. Counts come from :func:`lsoa_counts`, one
Ibis query over every source, so the rates, the concentration figures and the hotspots
(:mod:`svduty.analysis.hotspots`) all count the same records.

A record counts in an LSOA when the source places it there (for ED attendances, ISTV, that is the
patient's home LSOA, as :func:`svduty.analysis.kinds.classified` places them). Records in an
LSOA outside the reference area, or with no LSOA at all, cannot be given a rate: they are left
out of every LSOA and area figure and reported as ``outside_area`` and ``no_location``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from svduty.analysis.definition import Definition
from svduty.analysis.kinds import classified
from svduty.analysis.scope import Scope, areas, month_label, month_range
from svduty.datasets.person import AGE_BANDS
from svduty.errors import ConfigError

YOUTH_AGES = (10, 24)
YOUTH_BANDS = ("10-14", "15-17", "18-24")  # of the feeds' AGE_BANDS
assert set(YOUTH_BANDS) <= set(AGE_BANDS)
TOP_SHARES = (0.01, 0.05, 0.10)
LORENZ_POINTS = 101

# Sources whose records carry a person's age: (source, feed table). police.uk and fire do not.
_AGED_SOURCES = (
    ("police-crime", "feed_police_crime"),
    ("istv", "feed_istv"),
    ("ambulance", "feed_ambulance"),
)


def check_kind(definition: Definition, kind: str) -> str:
    """``kind`` if it is ``"all"`` or a kind of ``definition``.

    Raises:
        ConfigError: naming the kinds there are.
    """
    keys = [k.key for k in definition.kinds]
    if kind != "all" and kind not in keys:
        raise ConfigError(
            f"kind {kind!r} is not in definition {definition.version}; use 'all' or one of "
            + ", ".join(keys)
        )
    return kind


def _ages(con: Any) -> ir.Table:
    """Per record of each source with ages: whether any person on it has an age (``aged``) and
    whether any is aged 10 to 24 (``youth``), from the age at the event or else the age band."""
    parts = []
    low, high = YOUTH_AGES
    for source, table in _AGED_SOURCES:
        t = con.table(table)
        band = t.age_band
        if "age_at_event" in t.columns:
            age = t.age_at_event
            aged = age.notnull() | band.notnull()
            youth = ibis.coalesce(age.between(low, high), band.isin(YOUTH_BANDS), False)
        else:
            aged = band.notnull()
            youth = ibis.coalesce(band.isin(YOUTH_BANDS), False)
        per = t.group_by(t.record_key).aggregate(_aged=aged.any(), _youth=youth.any())
        parts.append(
            per.select(
                _source=ibis.literal(source),
                _record=per.record_key,
                _aged=per._aged,
                _youth=per._youth,
            )
        )
    return ibis.union(*parts, distinct=False)


def _counts_query(con: Any, definition: Definition, scope: Scope, kind: str) -> ir.Table:
    """Distinct records of the kind in the scope's months by LSOA (``None``: no location), with
    how many involve someone aged 10 to 24 and how many carry an age at all."""
    c = scope.months(classified(con, definition))
    if kind != "all":
        c = c.filter(c.kind == kind)
    recs = c.select("source", "record", "lsoa").distinct()
    ages = _ages(con)
    j = recs.left_join(ages, [recs.source == ages._source, recs.record == ages._record])
    return j.group_by(j.lsoa).aggregate(
        count=j.count(),
        youth_count=j._youth.fill_null(False).cast("int64").sum(),
        aged_count=j._aged.fill_null(False).cast("int64").sum(),
    )


@dataclass(frozen=True)
class LsoaCounts:
    """Serious violence records of one kind over a scope, by reference LSOA of the scope.

    Attributes:
        frame: one row per LSOA of the scope (zeros included), sorted by code: the columns of
            :func:`svduty.analysis.scope.areas` plus ``count``, ``youth_count`` and
            ``aged_count`` (records carrying anyone's age).
        months: the scope's months, first to last.
        outside_area: records placed in an LSOA outside the reference area.
        no_location: records with no LSOA.
    """

    frame: pd.DataFrame
    months: list[Any]
    outside_area: int
    no_location: int


def lsoa_counts(
    con: Any, definition: Definition, scope: Scope | None = None, kind: str = "all"
) -> LsoaCounts:
    """Serious violence records of ``kind`` (``"all"``: distinct records of any kind) in the
    scope's months, by reference LSOA of the scope's area.

    ``outside_area`` and ``no_location`` are counted over the whole partnership whatever the
    scope's area, since a record without a reference LSOA belongs to no partnership area.
    """
    scope = (scope or Scope()).resolve(con)
    check_kind(definition, kind)
    by_lsoa = _counts_query(con, definition, scope, kind).to_pandas()
    blank = by_lsoa["lsoa"].isna() | (by_lsoa["lsoa"].astype("string").str.strip() == "")
    no_location = int(by_lsoa.loc[blank, "count"].sum())
    by_lsoa = by_lsoa[~blank]
    reference = areas(con)
    outside_area = int(by_lsoa.loc[~by_lsoa["lsoa"].isin(reference["lsoa21_code"]), "count"].sum())
    if scope.area is not None:
        reference = reference[reference["csp24_code"] == scope.area]
    frame = reference.merge(
        by_lsoa.rename(columns={"lsoa": "lsoa21_code"}), on="lsoa21_code", how="left"
    )
    for col in ("count", "youth_count", "aged_count"):
        frame[col] = frame[col].fillna(0).astype("int64")
    return LsoaCounts(
        frame=frame,
        months=month_range(con, definition, scope),
        outside_area=outside_area,
        no_location=no_location,
    )


def annual_rate(count: float, residents: float, months: int) -> float | None:
    """Records per 1,000 residents per year: ``count / residents * 1000 * 12 / months``.

    Examples:
        >>> annual_rate(30, 1500, 18)
        13.333333333333334
        >>> annual_rate(3, 0, 12) is None
        True
    """
    if residents <= 0 or months <= 0:
        return None
    return float(count) / float(residents) * 1000.0 * 12.0 / months


def _row(
    label: dict[str, Any],
    count: int,
    residents: float,
    youth_count: int | None,
    residents_10_24: float,
    months: int,
) -> dict[str, Any]:
    return {
        **label,
        "count": int(count),
        "residents": int(round(residents)),
        "rate_per_1000": annual_rate(count, residents, months),
        "youth_count": None if youth_count is None else int(youth_count),
        "residents_10_24": round(float(residents_10_24), 1),
        "rate_per_1000_10_24": (
            None if youth_count is None else annual_rate(youth_count, residents_10_24, months)
        ),
    }


def _sums(label: dict[str, Any], g: pd.DataFrame, months: int, youth: bool) -> dict[str, Any]:
    return _row(
        label,
        int(g["count"].sum()),
        float(g["residents"].sum()),
        int(g["youth_count"].sum()) if youth else None,
        float(g["residents_10_24"].sum()),
        months,
    )


def rates(
    con: Any, definition: Definition, scope: Scope | None = None, kind: str = "all"
) -> dict[str, Any]:
    """Serious violence per 1,000 residents per year by LSOA and by partnership area.

    Args:
        con: the warehouse.
        definition: the local definition of serious violence.
        scope: months and area (default: everything loaded, the whole partnership).
        kind: ``"all"`` (distinct records of any kind) or a kind of the definition.

    Returns:
        ``kind``, ``definition_version``, ``scope`` (in words), ``months`` (how many),
        ``first_month``, ``last_month``; ``lsoas``: every reference LSOA of the scope, zeros
        included, with ``lsoa, lsoa_name, area, area_name, count, residents, rate_per_1000,
        youth_count, residents_10_24, rate_per_1000_10_24``; ``areas``: the same per
        partnership area (``csp24_code``); ``total``: the scope as a whole; ``outside_area``
        and ``no_location``: records left out because they have no reference LSOA;
        ``records_with_age``: records of the scope's LSOAs that carry a person's age; ``note``.

    Notes:
        Rates use Census 2021 usual residents. Youth violence counts records involving a victim
        or suspect aged 10 to 24 (police crime: the age at the event of anyone on the crime;
        ED and ambulance: the patient's age band) per 1,000 residents aged 10 to 24 (estimated,
        see :data:`svduty.analysis.scope.SHARE_10_15_OF_0_15`). Records from sources without
        ages (police.uk, fire) never count as youth violence, so when any are in scope the
        youth rate is a floor; when no record in scope carries an age, youth figures are
        ``None``.

    Examples:
        >>> annual_rate(12, 2000, 12)  # one LSOA: 12 records in a year, 2,000 residents
        6.0
    """
    scope = (scope or Scope()).resolve(con)
    counts = lsoa_counts(con, definition, scope, kind)
    months = len(counts.months)
    f = counts.frame
    aged = int(f["aged_count"].sum())
    total = int(f["count"].sum())
    youth = aged > 0
    lsoas = [
        _row(
            {"lsoa": code, "lsoa_name": name, "area": area, "area_name": area_name},
            n,
            residents,
            y if youth else None,
            residents_10_24,
            months,
        )  # fmt: skip
        for code, name, area, area_name, n, residents, y, residents_10_24 in zip(
            f["lsoa21_code"],
            f["lsoa21_name"],
            f["csp24_code"],
            f["csp24_name"],
            f["count"],
            f["residents"],
            f["youth_count"],
            f["residents_10_24"],
            strict=True,
        )  # fmt: skip
    ]
    by_area = [
        _sums({"area": code, "area_name": g["csp24_name"].iloc[0]}, g, months, youth)
        for code, g in f.groupby("csp24_code", sort=True)
    ]
    notes = [
        f"{counts.outside_area} records placed outside the reference area and "
        f"{counts.no_location} with no location (the whole partnership, these months) are in "
        "no LSOA or area figure."
    ]
    if not youth:
        notes.append(
            "No record in scope carries an age (police.uk data has none), so youth violence "
            "(victim or suspect aged 10-24) cannot be counted: youth figures are None."
        )
    elif aged < total:
        notes.append(
            f"Only {aged} of {total} records carry an age (police crime, ED and ambulance "
            "feeds); the others never count as youth violence, so youth rates are a floor."
        )
    return {
        "kind": kind,
        "definition_version": definition.version,
        "scope": scope.label,
        "months": months,
        "first_month": month_label(counts.months[0]) if counts.months else None,
        "last_month": month_label(counts.months[-1]) if counts.months else None,
        "lsoas": lsoas,
        "areas": by_area,
        "total": _sums({"area": scope.area, "area_name": scope.area_name}, f, months, youth),
        "outside_area": counts.outside_area,
        "no_location": counts.no_location,
        "records_with_age": aged,
        "note": " ".join(notes),
    }


def gini(counts: Sequence[float] | np.ndarray) -> float | None:
    """The Gini coefficient of counts over areas (0: spread evenly; (n-1)/n: all in one).

    ``G = sum_i (2i - n - 1) x_(i) / (n sum_i x_i)`` with ``x_(1) <= ... <= x_(n)``, which equals
    the mean absolute difference over twice the mean, ``sum_ij |x_i - x_j| / (2 n^2 mean)``.

    Notes:
        Damgaard, C. & Weiner, J. (2000) Describing inequality in plant size or fecundity.
        Ecology 81(4), 1139-1142 (the sorted form). With fewer records than areas even a random
        spread looks concentrated; Bernasco, W. & Steenbeek, W. (2017) More places than crimes.
        Journal of Quantitative Criminology 33(3), 451-467.

    Examples:
        >>> gini([5, 5, 5, 5])
        0.0
        >>> gini([0, 0, 0, 8])
        0.75
    """
    x = np.sort(np.asarray(counts, dtype=float))
    n, total = len(x), float(x.sum())
    if n == 0 or total <= 0:
        return None
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * x).sum() / (n * total))


def lorenz(counts: Sequence[float] | np.ndarray, points: int = LORENZ_POINTS) -> list[list[float]]:
    """The Lorenz curve: ``[share of areas, share of records]`` pairs from ``[0, 0]`` to
    ``[1, 1]``, areas taken from the fewest records to the most.

    With more than ``points - 1`` areas, the curve (straight between areas) is read at
    ``points`` evenly spaced shares of areas, which is exact on that piecewise-linear curve.

    Examples:
        >>> lorenz([1, 3])
        [[0.0, 0.0], [0.5, 0.25], [1.0, 1.0]]
    """
    x = np.sort(np.asarray(counts, dtype=float))
    n, total = len(x), float(x.sum())
    if n == 0 or total <= 0:
        return []
    share_areas = np.arange(n + 1) / n
    share_records = np.concatenate([[0.0], np.cumsum(x) / total])
    if n + 1 > points:
        grid = np.linspace(0.0, 1.0, points)
        share_records = np.interp(grid, share_areas, share_records)
        share_areas = grid
    return [
        [round(float(a), 6), round(float(r), 6)]
        for a, r in zip(share_areas, share_records, strict=True)
    ]


def concentration(counts: Sequence[float] | np.ndarray) -> dict[str, Any]:
    """How concentrated records are among areas.

    Args:
        counts: records per area (LSOA), zeros included: areas without records count.

    Returns:
        ``areas`` and ``records``; ``top``: for 1%, 5% and 10% of areas, how many areas that is
        (``ceil(share x areas)``, at least one, so that a share of a small number of areas is
        never zero areas) and the share of records in that many areas with the most records;
        ``half_in_share_of_areas``: the smallest share of areas holding at least half the
        records; ``gini`` (see :func:`gini`); ``lorenz`` (see :func:`lorenz`). Shares are
        ``None`` when there are no records.

    Examples:
        Ten records in five areas: 6, 3, 1, 0 and 0. The top 1%, 5% and 10% of five areas are
        each ``ceil(0.05) = ceil(0.25) = ceil(0.5) = 1`` area, holding 6 of 10 records; 6 is
        also the fewest needed for half, one area of five. Sorted ascending, 0, 0, 1, 3, 6:
        ``G = (-4*0 - 2*0 + 0*1 + 2*3 + 4*6) / (5 * 10) = 30 / 50 = 0.6``.

        >>> c = concentration([6, 0, 1, 3, 0])
        >>> [(t["share_of_areas"], t["areas"], t["share_of_records"]) for t in c["top"]]
        [(0.01, 1, 0.6), (0.05, 1, 0.6), (0.1, 1, 0.6)]
        >>> c["half_in_share_of_areas"], c["gini"]
        (0.2, 0.6)
        >>> c["lorenz"]
        [[0.0, 0.0], [0.2, 0.0], [0.4, 0.0], [0.6, 0.1], [0.8, 0.4], [1.0, 1.0]]
    """
    x = np.sort(np.asarray(counts, dtype=float))[::-1]
    n, total = len(x), float(x.sum())
    top = []
    for share in TOP_SHARES:
        k = min(n, max(1, math.ceil(share * n - 1e-9))) if n else 0
        top.append(
            {
                "share_of_areas": share,
                "areas": k,
                "share_of_records": float(x[:k].sum() / total) if total > 0 else None,
            }
        )
    half = None
    if total > 0:
        k = int(np.searchsorted(np.cumsum(x), total / 2 - 1e-9) + 1)
        half = k / n
    g = gini(x)
    return {
        "areas": n,
        "records": int(total) if float(total).is_integer() else total,
        "top": top,
        "half_in_share_of_areas": half,
        "gini": None if g is None else round(g, 12),
        "lorenz": lorenz(x),
    }


def lsoa_concentration(
    con: Any, definition: Definition, scope: Scope | None = None, kind: str = "all"
) -> dict[str, Any]:
    """:func:`concentration` of the scope's LSOA counts, with the kind, months and scope."""
    scope = (scope or Scope()).resolve(con)
    counts = lsoa_counts(con, definition, scope, kind)
    return {
        "kind": kind,
        "definition_version": definition.version,
        "scope": scope.label,
        "months": len(counts.months),
        **concentration(counts.frame["count"].to_numpy()),
    }
