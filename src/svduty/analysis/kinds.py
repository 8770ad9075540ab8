"""Which records are serious violence, and of which kinds, under a local definition.

:func:`classified` gives one row per record and kind (a knife robbery is both ``knife`` and
``robbery``), from every source in the warehouse, as one Ibis expression; :func:`counts_by_kind`
counts them. Kinds overlap, so counts by kind do not add up to the number of records: the
``all`` row counts distinct records.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from svduty.analysis.definition import Definition

COLUMNS = ("source", "record", "month", "lsoa", "kind")


def _any(conditions: list[ir.BooleanValue]) -> ir.BooleanValue | None:
    out = None
    for c in conditions:
        out = c if out is None else (out | c)
    return out


def _tagged(t: ir.Table, source: str, record: Any, lsoa: Any, tests: dict[str, Any]) -> list:
    parts = []
    for kind, test in tests.items():
        if test is None:
            continue
        parts.append(
            t.filter(test).select(
                source=ibis.literal(source),
                record=record,
                month=t.month,
                lsoa=lsoa,
                kind=ibis.literal(kind),
            )
        )
    return parts


def classified(con: Any, definition: Definition) -> ir.Table:
    """Every serious violence record with its kind: ``source, record, month, lsoa, kind``.

    Sources: ``police-uk`` (street crime by category), ``police-crime`` (one row per crime, by
    Home Office code and flags), ``istv`` (ED assault method), ``ambulance`` (injury) and
    ``fire`` (incident type).
    """
    parts: list[ir.Table] = []
    street = con.table("policeuk_street")
    parts += _tagged(
        street,
        "police-uk",
        ibis.coalesce(street.crime_id, street.force + ":" + street.source_row.cast("string")),
        street.lsoa_code,
        {k.key: street.crime_type.isin(k.values("police_uk")) if k.values("police_uk") else None
         for k in definition.kinds},
    )  # fmt: skip
    crime = con.table("feed_police_crime")
    flags = ("knife", "firearm", "domestic_abuse", "alcohol", "drugs", "county_lines",
             "exploitation")  # fmt: skip
    crimes = crime.group_by(["record_key", "month"]).aggregate(
        ho_code=crime.ho_code.first(),
        lsoa_code=crime.lsoa_code.first(),
        **{f: crime[f].any() for f in flags},
    )
    tests = {}
    for k in definition.kinds:
        conds = []
        if k.values("ho_codes"):
            conds.append(crimes.ho_code.isin(k.values("ho_codes")))
        conds += [crimes[f] for f in k.values("flags")]
        tests[k.key] = _any(conds)
    parts += _tagged(crimes, "police-crime", crimes.record_key, crimes.lsoa_code, tests)
    for source, table, column, condition, lsoa in (
        ("istv", "feed_istv", "assault_method", "istv_methods", "home_lsoa"),
        ("ambulance", "feed_ambulance", "injury", "ambulance_injuries", "lsoa_code"),
        ("fire", "feed_fire", "incident_type", "fire_types", "lsoa_code"),
    ):
        t = con.table(table)
        parts += _tagged(
            t, source, t.record_key, t[lsoa],
            {k.key: t[column].isin(k.values(condition)) if k.values(condition) else None
             for k in definition.kinds},
        )  # fmt: skip
    return ibis.union(*parts, distinct=False)


def counts_by_kind(
    con: Any, definition: Definition, by: tuple[str, ...] = ("month",)
) -> list[dict[str, Any]]:
    """Records of each kind and source, grouped by ``by`` (``month``, ``lsoa``), plus the
    distinct serious violence records of each source under kind ``all``."""
    c = classified(con, definition)
    keys = ["source", *by]
    per_kind = c.group_by([*keys, "kind"]).aggregate(count=c.count())
    total = (
        c.select(*keys, "record")
        .distinct()
        .group_by(keys)
        .aggregate(count=ibis._.count())
        .mutate(kind=ibis.literal("all"))
    )
    rows = ibis.union(per_kind, total.select(per_kind.columns)).to_pyarrow().to_pylist()
    for r in rows:
        r["count"] = int(r["count"])
        r["definition_version"] = definition.version
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in (*keys, "kind")))
