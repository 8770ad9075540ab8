"""Loading police.uk files: street crime, outcomes and stop-and-search.

Each force's month is a partition: the same file again changes nothing, and a newer download of
a month replaces the older one, so outcomes are updated and no crime is counted twice. Anti-social
behaviour rows carry no ID and identical ones are distinct incidents, which is why idempotency works
per force and month and never by collapsing identical rows.
"""

from __future__ import annotations

import csv
import datetime as _dt
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from svduty.datasets import police_uk as puk
from svduty.datasets.csvfile import ParsedCSV
from svduty.errors import FileRefused
from svduty.ingest.loader import FeedAdapter, IngestReport, Target, ingest, row_identity
from svduty.ingest.records import LoadResult
from svduty.ingest.sources import Source

FEEDS = tuple(k.contract.feed for k in puk.KINDS.values())
FEED_KIND = {k.contract.feed: k for k in puk.KINDS.values()}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _first_line(data: bytes) -> list[str]:
    line = data[:65536].removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
    return next(csv.reader([line.decode("utf-8", errors="replace")]), [])


def _modal(values: pa.Array) -> str | None:
    counts = Counter(v for v in values.to_pylist() if v)
    return counts.most_common(1)[0][0] if counts else None


class PoliceUkAdapter(FeedAdapter):
    """police.uk's three kinds of file, told apart by name (or, failing that, by header)."""

    feeds = FEEDS

    def resolve(self, source: Source, data: bytes) -> Target:
        named = puk.parse_file_name(source.name)
        if named:
            kind = puk.KINDS[named[2]]
        else:
            found = puk.kind_from_header(_first_line(data)) if data.strip() else None
            if found is None:
                raise FileRefused(
                    source.display,
                    "unknown-kind",
                    "neither the file name (YYYY-MM-<force>-street|outcomes|stop-and-search.csv) "
                    "nor the header says which police.uk file this is",
                )
            kind = found
        month, force = (named[0], named[1]) if named else ("0001-01", "")
        return Target(
            feed=kind.contract.feed,
            contract=kind.contract,
            table=kind.table,
            org=force,
            month=_dt.date.fromisoformat(month + "-01"),
            partition_column="force",
        )

    def check_rows(self, source: Source, target: Target, parsed: ParsedCSV) -> None:
        if target.org:
            return
        table = parsed.table
        col = (
            table["month"]
            if "month" in table.column_names
            else pc.utf8_slice_codeunits(table["date"], 0, 7)
        )
        month = _modal(col.combine_chunks())
        force = (
            _modal(table["falls_within"].combine_chunks())
            if "falls_within" in table.column_names
            else None
        )
        if not month or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise FileRefused(
                source.display, "file-name", "cannot tell the file's month from its name or rows"
            )
        target.org = _slug(force) if force else "unknown-force"
        target.month = _dt.date.fromisoformat(month + "-01")
        target.notes.append(
            f"month {month} and force {target.org} taken from the rows: the file name "
            "does not follow police.uk's YYYY-MM-<force>-<kind>.csv"
        )

    def identity(self, target: Target, rows: pa.Table) -> pa.Array:
        """The crime ID where there is one; otherwise the whole row."""
        if target.feed == puk.OUTCOMES_CONTRACT.feed:
            return pc.binary_join_element_wise(
                rows["crime_id"], pc.fill_null(rows["outcome_type"], ""), "\x1f"
            )
        if target.feed == puk.STREET.feed:
            return pc.if_else(pc.is_null(rows["crime_id"]), row_identity(rows), rows["crime_id"])
        return row_identity(rows)

    def after_compare(
        self, con: Any, target: Target, old: pa.Table | None, rows: pa.Table, result: LoadResult
    ) -> None:
        if target.feed == puk.STREET.feed and old is not None:
            result.rows_updated = _outcomes_changed(old, rows)
        if target.feed == puk.OUTCOMES_CONTRACT.feed:
            result.rows_updated = _crimes_matched(con, rows)


def _outcomes_changed(old: pa.Table, new: pa.Table) -> int:
    """Crimes in both downloads whose last outcome differs."""
    before = dict(
        zip(old["crime_id"].to_pylist(), old["last_outcome_category"].to_pylist(), strict=True)
    )
    return sum(
        1
        for cid, outcome in zip(
            new["crime_id"].to_pylist(), new["last_outcome_category"].to_pylist(), strict=True
        )
        if cid is not None and cid in before and before[cid] != outcome
    )


def _crimes_matched(con: Any, outcomes: pa.Table) -> int:
    """How many loaded crimes an outcomes file gives a newer last outcome to."""
    ids = pc.unique(outcomes["crime_id"].combine_chunks())
    if not len(ids):
        return 0
    street = con.table("policeuk_street")
    batch = ibis.memtable(pa.table({"outcome_crime_id": ids}))
    matched = street.semi_join(batch, street.crime_id == batch.outcome_crime_id)
    return int(matched.count().execute())


def _street_first(source: Source) -> int:
    named = puk.parse_file_name(source.name)
    return 0 if named is None or named[2] == "street" else 1


def ingest_police_uk(
    con: Any,
    sources: Iterable[Source],
    refused: Iterable[FileRefused] = (),
    progress: Callable[[LoadResult], None] | None = None,
) -> IngestReport:
    """Load police.uk files into the warehouse (street files first, so that an outcomes file in
    the same run finds the crimes it updates).

    Args:
        con: the warehouse (see :func:`svduty.warehouse.connect`).
        sources: the files (see :func:`svduty.ingest.sources.find_sources`).
        refused: paths already refused while finding files; recorded as such.
        progress: called after each file.
    """
    return ingest(
        con, PoliceUkAdapter(), "police-uk", sources, refused, progress, order=_street_first
    )
