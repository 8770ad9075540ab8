"""A partner feed: its contract plus what ingestion needs to know about its people and events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from svduty.datasets.contract import Column, Contract, RowRule

HO_CODE = r"^[0-9]{3}/[0-9]{2}$"
YES_NO = frozenset({"Y", "N"})


@dataclass(frozen=True)
class Feed:
    """A partner's extract.

    Attributes:
        contract: columns and rules (identifier columns marked ``identifier=True``).
        org: the partner organisation that sends it by default (``police``, ``health``...).
        event: the warehouse column dating each record; its month must be the file's month.
        record_id: the partner's reference for a record; stored only as a keyed pseudonym.
        person_id: the partner's reference for a person, if any; stored only as a pseudonym.
        dob: the date-of-birth column, if any, for the age at the event.
    """

    contract: Contract
    org: str
    event: str
    record_id: str
    person_id: str | None = None
    dob: str | None = "date_of_birth"

    @property
    def name(self) -> str:
        """The feed's name, as scripts and ``status --json`` use it."""
        return self.contract.feed

    @property
    def table(self) -> str:
        """Its warehouse table."""
        return "feed_" + self.name.replace("-", "_")

    @property
    def identifiers(self) -> list[str]:
        """The direct identifier columns (split off at ingestion)."""
        return [c.name for c in self.contract.columns if c.identifier]

    @property
    def person_level(self) -> bool:
        """Whether records name people (and so must be sealed wherever kept in full)."""
        return bool(self.identifiers)

    @property
    def kept(self) -> list[Column]:
        """The columns stored in the warehouse, as they are."""
        drop = {self.record_id, self.person_id}
        return [c for c in self.contract.columns if not c.identifier and c.name not in drop]


def event_in_month(column: str, header: str, fmt: str | None) -> RowRule:
    """The rule that a record's event falls in the month of the file."""

    def check(t: pa.Table, ctx: dict[str, Any]) -> pa.Array:
        values = t[column].combine_chunks()
        if fmt:
            parsed = pc.strptime(values, format=fmt, unit="s", error_is_null=True)
            month = pc.strftime(parsed, format="%Y-%m")
        else:
            month = pc.utf8_slice_codeunits(values, 0, 7)
        return pc.and_(pc.is_valid(month), pc.not_equal(month, ctx["month"]))

    return RowRule(
        "month-mismatch",
        header,
        f"{header} falls outside the month of the file (from its name)",
        check,
    )


def flag(header: str, name: str) -> Column:
    """A Y/N flag."""
    return Column(header, name, "bool", allowed=YES_NO)
