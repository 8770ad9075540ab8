"""Serious violence counted once, at the finest grain the assessment needs (kind, month and
LSOA), from which every higher level is summed: the whole partnership, each partnership area
(community safety partnership) and each LSOA of the reference area.

The engine does the counting in one query; the sums are exact because each record has one place.
Records outside the reference area or without a place count towards the whole partnership only.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from svduty.analysis.definition import Definition
from svduty.analysis.scope import Scope, month_label, month_range, serious_violence

ALL = "all"  # the kind of every serious violence record, and the area of the whole partnership


def count_table(con: Any, definition: Definition, scope: Scope) -> pd.DataFrame:
    """Records by ``kind``, ``month`` (``YYYY-MM``) and ``lsoa`` (``None`` when the record has no
    place), including kind ``all`` (distinct records of any kind). Only non-zero cells."""
    sv = serious_violence(con, definition, scope)
    anykind = (
        sv.select("source", "record", "month", "lsoa")
        .distinct()
        .mutate(kind=ibis.literal(ALL))
        .select(sv.columns)
    )
    both = ibis.union(sv, anykind, distinct=False)
    out = both.group_by(["kind", "month", "lsoa"]).aggregate(count=both.count()).to_pandas()
    out["month"] = [month_label(m) for m in out["month"]]
    out["count"] = out["count"].astype("int64")
    out["lsoa"] = out["lsoa"].astype(object).where(out["lsoa"].notna(), None)
    return out.sort_values(["kind", "month", "lsoa"], na_position="last").reset_index(drop=True)


def kinds_of(definition: Definition) -> list[str]:
    """The kinds counted, ``all`` first."""
    return [ALL, *(k.key for k in definition.kinds)]


def area_counts(
    table: pd.DataFrame, places: pd.DataFrame, months: list[str], kinds: list[str]
) -> pd.DataFrame:
    """Counts by ``kind``, ``area`` and ``month``, every cell present (zeros included): area
    ``all`` for the whole partnership and each partnership area's code.

    Args:
        table: :func:`count_table`'s rows.
        places: :func:`svduty.analysis.scope.areas` of the scope (LSOA to partnership area).
        months: the months of the scope, ``YYYY-MM``.
        kinds: the kinds to include.
    """
    csp = dict(zip(places["lsoa21_code"], places["csp24_code"], strict=True))
    t = table.assign(area=table["lsoa"].map(csp))
    whole = t.groupby(["kind", "month"])["count"].sum().rename(ALL)
    by_area = t.dropna(subset=["area"]).groupby(["kind", "area", "month"])["count"].sum()
    codes = sorted(set(places["csp24_code"].dropna()))
    grid = pd.MultiIndex.from_product(
        [kinds, [ALL, *codes], months], names=["kind", "area", "month"]
    )
    parts = [whole.reset_index().assign(area=ALL).rename(columns={ALL: "count"})]
    parts.append(by_area.reset_index())
    stacked = pd.concat(parts, ignore_index=True).set_index(["kind", "area", "month"])["count"]
    return stacked.reindex(grid, fill_value=0).astype("int64").reset_index()


def scope_months(con: Any, definition: Definition, scope: Scope) -> list[str]:
    """The scope's months as ``YYYY-MM``, first to last."""
    return [month_label(m) for m in month_range(con, definition, scope)]
