"""What an analysis covers: a range of months and an area (the whole partnership, or one
community safety partnership area), and the reference figures of that area's LSOAs.

Every part of the Strategic Needs Assessment takes a :class:`Scope`, so that the report for one
partnership area over one year is the same code as the report for the whole county.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from svduty.analysis.definition import Definition
from svduty.analysis.kinds import classified
from svduty.errors import ConfigError

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# Census 2021 gives residents in bands 0-15 and 16-24; residents aged 10-24 are estimated as
# the 16-24 band plus 6/16 of the 0-15 band (ages 10 to 15 of 0 to 15, assuming an even spread).
SHARE_10_15_OF_0_15 = 6 / 16


def parse_month(text: str, option: str = "--month") -> dt.date:
    """``YYYY-MM`` as the first day of that month.

    Examples:
        >>> parse_month("2024-03")
        datetime.date(2024, 3, 1)
    """
    m = _MONTH.match(text.strip())
    if not m:
        raise ConfigError(f"{option} {text!r} is not a month written YYYY-MM (e.g. 2025-06)")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def month_label(d: Any) -> str:
    """A month as ``YYYY-MM``, from a date, timestamp or period."""
    return pd.Timestamp(str(d)).strftime("%Y-%m")


@dataclass(frozen=True)
class Scope:
    """A range of months (inclusive, either end may be open) and an area.

    ``area`` is ``None`` for the whole partnership, or a community safety partnership code
    (E22...) resolved with :meth:`resolve`.
    """

    start: dt.date | None = None
    end: dt.date | None = None
    area: str | None = None
    area_name: str | None = None

    @classmethod
    def from_options(
        cls, start: str | None = None, end: str | None = None, area: str | None = None
    ) -> Scope:
        """A scope from the command line's ``--from``, ``--to`` and ``--area``."""
        first = parse_month(start, "--from") if start else None
        last = parse_month(end, "--to") if end else None
        if first and last and first > last:
            raise ConfigError(f"--from {start} is after --to {end}")
        return cls(first, last, area)

    def resolve(self, con: Any) -> Scope:
        """The scope with its area named by the reference geography: a code or a name (any
        case) of a community safety partnership or local authority becomes its CSP code."""
        if self.area is None:
            return self
        geo = areas(con)
        wanted = self.area.strip().casefold()
        for code, name in (("csp24_code", "csp24_name"), ("ltla24_code", "ltla24_name")):
            hit = geo[(geo[code].str.casefold() == wanted) | (geo[name].str.casefold() == wanted)]
            if len(hit):
                csp = hit["csp24_code"].iloc[0]
                csp_name = hit["csp24_name"].iloc[0]
                return Scope(self.start, self.end, str(csp), str(csp_name))
        known = sorted(set(geo["csp24_name"].dropna()))
        raise ConfigError(
            f"--area {self.area!r} is not a community safety partnership or local authority of "
            f"the reference area; known partnership areas: {', '.join(known) or 'none loaded'}"
        )

    @property
    def label(self) -> str:
        """The area and months in words."""
        where = self.area_name or self.area or "the whole partnership"
        first = self.start.strftime("%B %Y") if self.start else "the first month"
        last = self.end.strftime("%B %Y") if self.end else "the last month"
        return f"{where}, {first} to {last}"

    def months(self, t: ir.Table, column: str = "month") -> ir.Table:
        """``t`` limited to the scope's months."""
        if self.start is not None:
            t = t.filter(t[column] >= ibis.literal(self.start))
        if self.end is not None:
            t = t.filter(t[column] <= ibis.literal(self.end))
        return t

    def lsoa_codes(self, con: Any) -> list[str]:
        """The reference LSOAs of the area (every reference LSOA for the whole partnership)."""
        return sorted(areas(con, self)["lsoa21_code"])

    def places(self, t: ir.Table, con: Any, column: str = "lsoa") -> ir.Table:
        """``t`` limited to the area (unchanged for the whole partnership, which keeps records
        outside the reference LSOAs and records without a place)."""
        if self.area is None:
            return t
        geo = con.table("ref_geography")
        inside = geo.filter(geo.csp24_code == self.area).select(_code=geo.lsoa21_code)
        ref = con.table("ref_lsoa")
        inside = inside.semi_join(ref, inside._code == ref.lsoa21_code)
        return t.semi_join(inside, t[column] == inside._code)


def areas(con: Any, scope: Scope | None = None) -> pd.DataFrame:
    """One row per LSOA of the reference area (those with a boundary in ``ref_lsoa``) in the
    scope's area: its codes and names up to the
    partnership area, rural-urban class, land area, residents and residents aged 10 to 24
    (estimated, see :data:`SHARE_10_15_OF_0_15`)."""
    geo = con.table("ref_geography").to_pandas()
    lsoa = con.table("ref_lsoa").select("lsoa21_code", "area_km2").to_pandas()
    pop = con.table("ref_population").to_pandas()
    wide = pop.pivot_table(
        index="lsoa21_code", columns="age_band", values="residents", aggfunc="sum", fill_value=0
    )
    residents = wide.sum(axis=1).rename("residents")
    zero = pd.Series(0.0, index=wide.index)
    youth = (wide.get("16-24", zero) + SHARE_10_15_OF_0_15 * wide.get("0-15", zero)).rename(
        "residents_10_24"
    )
    out = (
        geo.merge(lsoa, on="lsoa21_code", how="inner")
        .merge(residents, left_on="lsoa21_code", right_index=True, how="left")
        .merge(youth, left_on="lsoa21_code", right_index=True, how="left")
    )
    if scope is not None and scope.area is not None:
        out = out[out["csp24_code"] == scope.area]
    out[["residents", "residents_10_24"]] = out[["residents", "residents_10_24"]].fillna(0)
    return out.sort_values("lsoa21_code").reset_index(drop=True)


def serious_violence(con: Any, definition: Definition, scope: Scope) -> ir.Table:
    """The classified serious violence records (``source, record, month, lsoa, kind``) of the
    scope's months and area."""
    return scope.places(scope.months(classified(con, definition)), con)


def month_range(con: Any, definition: Definition, scope: Scope) -> list[dt.date]:
    """Every month from the first to the last with serious violence records in the scope
    (within the scope's own bounds where given)."""
    t = scope.months(classified(con, definition))
    row = t.aggregate(first=t.month.min(), last=t.month.max()).to_pandas().iloc[0]
    if pd.isna(row["first"]):
        return []
    first = scope.start or pd.Timestamp(row["first"]).date().replace(day=1)
    last = scope.end or pd.Timestamp(row["last"]).date().replace(day=1)
    return [p.to_timestamp().date() for p in pd.period_range(first, last, freq="M")]
