"""The one load path every feed goes through: read, validate, quarantine, load with provenance.

A feed adapter says where a file goes (its feed, partition and table) and how valid rows become
warehouse rows; the loader does the rest the same way for every feed. A file's load replaces its
partition (one organisation's month) in one atomic commit, together with its quarantined rows and
its load record. The same file again changes nothing; a newer file for the same partition replaces
the older one, and the load record counts what it repeats, adds and updates.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from svduty.datasets.contract import Contract, convert, validate
from svduty.datasets.csvfile import ParsedCSV, read_csv_strings
from svduty.errors import FileRefused
from svduty.ingest.records import LoadResult, current_loads, failed_mask, quarantine_table
from svduty.ingest.sources import Source
from svduty.warehouse import Replace, checkpoint, commit

log = logging.getLogger(__name__)


@dataclass
class Target:
    """Where one file goes, resolved from its name or header."""

    feed: str
    contract: Contract
    table: str
    org: str
    month: _dt.date
    partition_column: str = "org"
    notes: list[str] = field(default_factory=list)

    @property
    def month_text(self) -> str:
        """The month as YYYY-MM."""
        return self.month.strftime("%Y-%m")

    @property
    def partition(self) -> dict[str, Any]:
        """The key of the partition this file replaces."""
        return {self.partition_column: self.org, "month": self.month}


class FeedAdapter:
    """What differs between feeds; the defaults suit a feed with nothing to hide."""

    feeds: tuple[str, ...] = ()

    def resolve(self, source: Source, data: bytes) -> Target:
        """The file's feed, partition and contract (raise :class:`FileRefused` if unknown)."""
        raise NotImplementedError

    def check_rows(self, source: Source, target: Target, parsed: ParsedCSV) -> None:
        """A chance to refine the target from the rows (month or org of a file oddly named)."""

    def rows(self, target: Target, valid: pa.Table, load_seq: int) -> pa.Table:
        """Warehouse rows from the valid rows (strings): typed, with provenance columns."""
        cols = convert(valid, target.contract.columns)
        return with_provenance(cols, target, valid, load_seq)

    def identity(self, target: Target, rows: pa.Table) -> pa.Array:
        """A key per row, to count rows a newer file repeats (as a multiset: identical rows
        are distinct records)."""
        return row_identity(rows)

    def seal_raw(self, text: str) -> str:
        """What quarantine keeps of a refused record (as read, unless it must be encrypted)."""
        return text

    def before_commit(self, target: Target, valid: pa.Table, result: LoadResult) -> None:
        """Work outside the warehouse that must be done before the load commits."""

    def after_compare(
        self, con: Any, target: Target, old: pa.Table | None, rows: pa.Table, result: LoadResult
    ) -> None:
        """Extra counts for the load record (outcomes updated, crimes matched...)."""


def with_provenance(
    cols: dict[str, pa.Array], target: Target, valid: pa.Table, load_seq: int
) -> pa.Table:
    """Add the partition and provenance columns to converted columns."""
    n = valid.num_rows
    cols["month"] = pa.array([target.month] * n, pa.date32())
    cols[target.partition_column] = pa.array([target.org] * n, pa.string())
    cols["source_row"] = valid["_row"].combine_chunks()
    cols["load_seq"] = pa.array([load_seq] * n, pa.int64())
    return pa.table(cols)


def row_identity(rows: pa.Table) -> pa.Array:
    """The whole row (less provenance) as one string."""
    skip = {"source_row", "load_seq"}
    cols = [rows[c].cast(pa.string()) for c in rows.column_names if c not in skip]
    return pc.binary_join_element_wise(*[pc.fill_null(c, "") for c in cols], "\x1f")


def _multiset_overlap(old: pa.Array, new: pa.Array) -> int:
    a, b = Counter(old.to_pylist()), Counter(new.to_pylist())
    return sum(min(n, a[k]) for k, n in b.items())


@dataclass
class IngestReport:
    """Everything one ingest run did."""

    results: list[LoadResult] = field(default_factory=list)

    @property
    def refused(self) -> list[LoadResult]:
        """The files refused outright."""
        return [r for r in self.results if r.status == "refused"]

    def totals(self) -> dict[str, int]:
        """Rows read, loaded, quarantined and already present, over all files."""
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "rows_already_present")
        return {k: sum(getattr(r, k) for r in self.results) for k in keys}


class Loader:
    """Loads files of one family of feeds into a warehouse, remembering each partition's file."""

    def __init__(self, con: Any, adapter: FeedAdapter, family: str) -> None:
        self.con = con
        self.adapter = adapter
        self.family = family
        self.current = current_loads(con, list(adapter.feeds))

    def load(self, source: Source) -> LoadResult:
        """Load one file; a refused file is recorded and returned with status ``refused``."""
        try:
            return self._load(source)
        except FileRefused as e:
            return self.refuse(e, source.name)

    def refuse(self, error: FileRefused, file_name: str | None = None) -> LoadResult:
        """Record a refused file (also one refused before it could be read: an unsafe archive
        member, a missing path)."""
        result = LoadResult(
            source=error.source,
            file_name=file_name or error.source.rsplit("/", 1)[-1],
            feed=self.family,
            status="refused",
            message=f"{error.message} [rule: {error.rule}]",
        )
        commit(self.con, [Replace("loads", {"load_seq": result.load_seq}, result.to_table())])
        return result

    def _load(self, source: Source) -> LoadResult:
        data = source.read()
        sha = hashlib.sha256(data).hexdigest()
        target = self.adapter.resolve(source, data)
        contract = target.contract
        names = [c.name for c in contract.columns]
        parsed = read_csv_strings(source.display, data, contract.header, names)
        if parsed.rows_read == 0:
            raise FileRefused(
                source.display,
                "no-rows",
                "the file has a header but no rows; nothing was loaded (loading it would empty "
                "a month of data)",
            )
        self.adapter.check_rows(source, target, parsed)
        table = parsed.table
        result = LoadResult(
            source=source.display,
            file_name=source.name,
            feed=target.feed,
            status="loaded",
            org=target.org,
            month=target.month,
            sha256=sha,
            rows_read=parsed.rows_read,
            notes=[*parsed.notes, *target.notes],
        )
        failures = validate(table, contract, {"month": target.month_text})
        quarantine = quarantine_table(
            contract=contract,
            table=table,
            failures=failures,
            bad=parsed.bad,
            feed=target.feed,
            org=target.org,
            month=target.month,
            source=source.display,
            load_seq=result.load_seq,
            seal=self.adapter.seal_raw,
        )
        result.rows_quarantined = len(set(quarantine["row"].to_pylist()))
        valid = table.filter(pc.invert(failed_mask(table.num_rows, failures)))
        rows = self.adapter.rows(target, valid, result.load_seq)
        key = (target.feed, target.org, target.month)
        if self.current.get(key) == sha:
            result.status = "unchanged"
            result.rows_already_present = rows.num_rows
            result.message = "this file is already loaded; nothing changed"
            commit(self.con, [Replace("loads", {"load_seq": result.load_seq}, result.to_table())])
            return result
        old = None
        if key in self.current:
            t = self.con.table(target.table)
            part = t.filter(
                t[target.partition_column] == target.org, t.month == target.month
            ).to_pyarrow()
            old = part.select(rows.column_names).cast(rows.schema)
            present = _multiset_overlap(
                self.adapter.identity(target, old), self.adapter.identity(target, rows)
            )
            result.rows_already_present = present
            result.rows_loaded = rows.num_rows - present
            if old.num_rows - present:
                result.notes.append(
                    f"{old.num_rows - present} row(s) of the earlier file are not in this one "
                    "and were replaced"
                )
        else:
            result.rows_loaded = rows.num_rows
        self.adapter.after_compare(self.con, target, old, rows, result)
        self.adapter.before_commit(target, valid, result)
        commit(
            self.con,
            [
                Replace(target.table, target.partition, rows),
                Replace(
                    "quarantine",
                    {"feed": target.feed, "org": target.org, "month": target.month},
                    quarantine,
                ),
                Replace("loads", {"load_seq": result.load_seq}, result.to_table()),
            ],
        )
        self.current[key] = sha
        return result


def ingest(
    con: Any,
    adapter: FeedAdapter,
    family: str,
    sources: Iterable[Source],
    refused: Iterable[FileRefused] = (),
    progress: Callable[[LoadResult], None] | None = None,
    order: Callable[[Source], Any] | None = None,
) -> IngestReport:
    """Load files through ``adapter``; refused paths are recorded as such.

    Returns:
        One :class:`LoadResult` per file, in the order loaded.
    """
    loader = Loader(con, adapter, family)
    report = IngestReport()
    for error in refused:
        report.results.append(loader.refuse(error))
        log.info("refused %s", error)
    for source in sorted(sources, key=order) if order else sources:
        result = loader.load(source)
        report.results.append(result)
        log.info(
            "%s: %s (%d read, %d loaded, %d quarantined, %d already present)",
            source.display,
            result.status,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            result.rows_already_present,
        )
        if progress:
            progress(result)
    checkpoint(con)
    return report
