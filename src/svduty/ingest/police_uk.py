"""Loading police.uk files: street crime, outcomes and stop-and-search.

A file's load replaces its partition (one force's month) in one atomic commit, together with its
quarantined rows and its load record. The same file again changes nothing; a newer download of
the same month replaces the older one, so outcomes are updated and no crime is counted twice.
Anti-social behaviour rows carry no ID and identical ones are distinct incidents, which is why
idempotency works per force and month and never by collapsing identical rows.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from svduty.datasets import police_uk as puk
from svduty.datasets.contract import convert, validate
from svduty.datasets.csvfile import read_csv_strings
from svduty.errors import FileRefused
from svduty.ingest.records import LoadResult, current_loads, failed_mask, quarantine_table
from svduty.ingest.sources import Source
from svduty.warehouse import Replace, checkpoint, commit

log = logging.getLogger(__name__)

FEEDS = [k.contract.feed for k in puk.KINDS.values()]


@dataclass
class IngestReport:
    """Everything one ``ingest police-uk`` run did."""

    results: list[LoadResult] = field(default_factory=list)

    @property
    def refused(self) -> list[LoadResult]:
        """The files refused outright."""
        return [r for r in self.results if r.status == "refused"]

    def totals(self) -> dict[str, int]:
        """Rows read, loaded, quarantined and already present, over all files."""
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "rows_already_present")
        return {k: sum(getattr(r, k) for r in self.results) for k in keys}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _first_line(data: bytes) -> list[str]:
    line = data[:65536].removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
    return next(csv.reader([line.decode("utf-8", errors="replace")]), [])


def _modal(values: pa.Array) -> str | None:
    counts = Counter(v for v in values.to_pylist() if v)
    return counts.most_common(1)[0][0] if counts else None


def _identity(kind: str, table: pa.Table) -> pa.Array:
    """A key per row for counting rows already present: the crime ID where there is one,
    otherwise the whole row (identical ID-less rows are distinct incidents, counted as a multiset).
    """
    skip = {"source_row", "load_seq"}
    cols = [table[c].cast(pa.string()) for c in table.column_names if c not in skip]
    whole = pc.binary_join_element_wise(*[pc.fill_null(c, "") for c in cols], "\x1f")
    if kind == "outcomes":
        return pc.binary_join_element_wise(
            table["crime_id"], pc.fill_null(table["outcome_type"], ""), "\x1f"
        )
    if kind == "street":
        return pc.if_else(pc.is_null(table["crime_id"]), whole, table["crime_id"])
    return whole


def _multiset_overlap(old: pa.Array, new: pa.Array) -> int:
    a, b = Counter(old.to_pylist()), Counter(new.to_pylist())
    return sum(min(n, a[k]) for k, n in b.items())


class PoliceUkLoader:
    """Loads police.uk files into one warehouse, remembering which file each partition holds."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.current = current_loads(con, FEEDS)

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
            feed="police-uk",
            status="refused",
            message=f"{error.message} [rule: {error.rule}]",
        )
        commit(self.con, [Replace("loads", {"load_seq": result.load_seq}, result.to_table())])
        return result

    def _load(self, source: Source) -> LoadResult:
        data = source.read()
        sha = hashlib.sha256(data).hexdigest()
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
        contract = kind.contract
        names = [c.name for c in contract.columns]
        parsed = read_csv_strings(source.display, data, contract.header, names)
        table = parsed.table
        if parsed.rows_read == 0:
            raise FileRefused(
                source.display,
                "no-rows",
                "the file has a header but no rows; nothing was loaded (loading it would empty "
                "a month that police.uk never publishes empty)",
            )
        month_text, force = (named[0], named[1]) if named else (None, None)
        if month_text is None:
            col = (
                table["month"]
                if "month" in table.column_names
                else pc.utf8_slice_codeunits(table["date"], 0, 7)
            )
            month_text = _modal(col.combine_chunks())
            force_name = (
                _modal(table["falls_within"].combine_chunks())
                if ("falls_within" in table.column_names)
                else None
            )
            force = _slug(force_name) if force_name else "unknown-force"
            if not month_text or not re.fullmatch(r"\d{4}-\d{2}", month_text):
                raise FileRefused(
                    source.display,
                    "file-name",
                    "cannot tell the file's month from its name or rows",
                )
            parsed.notes.append(
                f"month {month_text} and force {force} taken from the rows: the file name "
                "does not follow police.uk's YYYY-MM-<force>-<kind>.csv"
            )
        month = _dt.date.fromisoformat(month_text + "-01")
        result = LoadResult(
            source=source.display,
            file_name=source.name,
            feed=contract.feed,
            status="loaded",
            force=force,
            month=month,
            sha256=sha,
            rows_read=parsed.rows_read,
            notes=list(parsed.notes),
        )
        failures = validate(table, contract, {"month": month_text})
        failed = failed_mask(table.num_rows, failures)
        quarantine = quarantine_table(
            contract=contract,
            table=table,
            failures=failures,
            bad=parsed.bad,
            feed=contract.feed,
            force=force,
            month=month,
            source=source.display,
            load_seq=result.load_seq,
        )
        result.rows_quarantined = len(set(quarantine["row"].to_pylist()))
        valid = table.filter(pc.invert(failed))
        rows = self._typed(kind.name, valid, contract, force, month, result.load_seq)
        key = (contract.feed, force, month)
        assert force is not None
        if self.current.get(key) == sha:
            result.status = "unchanged"
            result.rows_already_present = rows.num_rows
            result.message = "this file is already loaded; nothing changed"
            commit(self.con, [Replace("loads", {"load_seq": result.load_seq}, result.to_table())])
            return result
        if key in self.current:
            self._compare(kind.name, rows, force, month, result)
        else:
            result.rows_loaded = rows.num_rows
        if kind.name == "outcomes":
            result.rows_updated = self._crimes_matched(rows)
        partition = {"force": force, "month": month}
        commit(
            self.con,
            [
                Replace(kind.table, partition, rows),
                Replace("quarantine", {"feed": contract.feed, **partition}, quarantine),
                Replace("loads", {"load_seq": result.load_seq}, result.to_table()),
            ],
        )
        self.current[key] = sha
        return result

    def _typed(
        self,
        kind: str,
        valid: pa.Table,
        contract: Any,
        force: str | None,
        month: _dt.date,
        load_seq: int,
    ) -> pa.Table:
        cols = convert(valid, contract.columns)
        n = valid.num_rows
        cols["month"] = pa.array([month] * n, pa.date32())
        cols["force"] = pa.array([force] * n, pa.string())
        cols["source_row"] = valid["_row"].combine_chunks()
        cols["load_seq"] = pa.array([load_seq] * n, pa.int64())
        return pa.table(cols)

    def _crimes_matched(self, outcomes: pa.Table) -> int:
        """How many loaded crimes this outcomes file gives a newer last outcome to."""
        ids = pc.unique(outcomes["crime_id"].combine_chunks())
        if not len(ids):
            return 0
        street = self.con.table("policeuk_street")
        batch = ibis.memtable(pa.table({"outcome_crime_id": ids}))
        matched = street.semi_join(batch, street.crime_id == batch.outcome_crime_id)
        return int(matched.count().execute())

    def _compare(
        self, kind: str, rows: pa.Table, force: str, month: _dt.date, result: LoadResult
    ) -> None:
        """Count what a newer download of a loaded month repeats, adds and updates."""
        table = puk.KINDS[kind].table
        t = self.con.table(table)
        old = t.filter(t.force == force, t.month == month).to_pyarrow()
        old = old.select(rows.column_names).cast(rows.schema)
        present = _multiset_overlap(_identity(kind, old), _identity(kind, rows))
        result.rows_already_present = present
        result.rows_loaded = rows.num_rows - present
        if kind == "street":
            before = dict(
                zip(
                    old["crime_id"].to_pylist(),
                    old["last_outcome_category"].to_pylist(),
                    strict=True,
                )
            )
            result.rows_updated = sum(
                1
                for cid, outcome in zip(
                    rows["crime_id"].to_pylist(),
                    rows["last_outcome_category"].to_pylist(),
                    strict=True,
                )
                if cid is not None and cid in before and before[cid] != outcome
            )
        removed = old.num_rows - present
        if removed:
            result.notes.append(
                f"{removed} row(s) of the earlier download are not in this one and were replaced"
            )


def _street_first(source: Source) -> int:
    named = puk.parse_file_name(source.name)
    return 0 if named is None or named[2] == "street" else 1


def ingest_police_uk(
    con: Any,
    sources: Iterable[Source],
    refused: Iterable[FileRefused] = (),
    progress: Callable[[LoadResult], None] | None = None,
) -> IngestReport:
    """Load police.uk files into the warehouse.

    Args:
        con: the warehouse (see :func:`svduty.warehouse.connect`).
        sources: the files (see :func:`svduty.ingest.sources.find_sources`).
        refused: paths already refused while finding files; recorded as such.
        progress: called after each file.

    Returns:
        One :class:`LoadResult` per file.
    """
    loader = PoliceUkLoader(con)
    report = IngestReport()
    for error in refused:
        report.results.append(loader.refuse(error))
        log.info("refused %s", error)
    # street files first, so an outcomes file in the same run finds the crimes it updates
    for source in sorted(sources, key=_street_first):
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
