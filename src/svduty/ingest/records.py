"""Load records and quarantine rows: the provenance every load leaves behind."""

from __future__ import annotations

import csv
import datetime as _dt
import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from svduty import __version__
from svduty.datasets.contract import Contract, Failures
from svduty.datasets.csvfile import BadRecord
from svduty.warehouse import TABLES


@dataclass
class LoadResult:
    """What one file's load did (one row of the ``loads`` table)."""

    source: str
    file_name: str
    feed: str
    status: str  # loaded | unchanged | refused
    org: str | None = None
    month: _dt.date | None = None
    sha256: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_already_present: int = 0
    rows_updated: int = 0
    message: str = ""
    load_seq: int = field(default_factory=time.time_ns)
    notes: list[str] = field(default_factory=list)

    def to_table(self) -> pa.Table:
        """The load record as a one-row table of the ``loads`` schema."""
        row = {k: v for k, v in asdict(self).items() if k in TABLES["loads"].schema.names}
        row["loaded_at"] = _dt.datetime.now(_dt.UTC)
        row["svduty_version"] = __version__
        if self.notes and not row["message"]:
            row["message"] = "; ".join(self.notes)
        schema = TABLES["loads"].schema.to_pyarrow()
        return pa.Table.from_pylist([row], schema=schema)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        d = asdict(self)
        d["month"] = self.month.strftime("%Y-%m") if self.month else None
        return d


def raw_lines(table: pa.Table, indices: pa.Array, names: list[str]) -> list[str]:
    """The records at ``indices`` as CSV lines, to keep in quarantine exactly as read."""
    subset = table.take(indices).select(names).to_pylist()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    lines = []
    for row in subset:
        out.seek(0)
        out.truncate()
        writer.writerow([row[n] for n in names])
        lines.append(out.getvalue().rstrip("\n"))
    return lines


def quarantine_table(
    *,
    contract: Contract,
    table: pa.Table,
    failures: Failures,
    bad: list[BadRecord],
    feed: str,
    org: str | None,
    month: _dt.date | None,
    source: str,
    load_seq: int,
    seal: Callable[[str], str] = str,
) -> pa.Table:
    """Every refused row, one entry per (row, broken rule), with the raw record."""
    names = [c.name for c in contract.columns]
    ft = failures.to_table()
    rows: dict[str, list[Any]] = {"row": [], "column": [], "rule": [], "message": [], "raw": []}
    if ft.num_rows:
        idx = ft["index"]
        rows["row"] = table["_row"].take(idx).to_pylist()
        rows["column"] = ft["column"].to_pylist()
        rows["rule"] = ft["rule"].to_pylist()
        rows["message"] = [
            f"row {r}: {m}" for r, m in zip(rows["row"], ft["message"].to_pylist(), strict=True)
        ]
        rows["raw"] = [seal(r) for r in raw_lines(table, idx, names)]
    for b in bad:
        rows["row"].append(b.row)
        rows["column"].append(b.column)
        rows["rule"].append(b.rule)
        rows["message"].append(b.message)
        rows["raw"].append(seal(b.raw))
    n = len(rows["row"])
    out = pa.table(
        {
            "feed": pa.array([feed] * n, pa.string()),
            "org": pa.array([org] * n, pa.string()),
            "month": pa.array([month] * n, pa.date32()),
            "source": pa.array([source] * n, pa.string()),
            "row": pa.array(rows["row"], pa.int64()),
            "column": pa.array(rows["column"], pa.string()),
            "rule": pa.array(rows["rule"], pa.string()),
            "message": pa.array(rows["message"], pa.string()),
            "raw": pa.array(rows["raw"], pa.string()),
            "load_seq": pa.array([load_seq] * n, pa.int64()),
        }
    )
    return out.sort_by([("row", "ascending"), ("rule", "ascending")])


def failed_mask(n: int, failures: Failures) -> pa.Array:
    """True for every row index that broke at least one rule."""
    if not failures.index:
        return pa.array([False] * n)
    idx = pc.unique(pa.chunked_array(failures.index).combine_chunks())
    return pc.is_in(pa.array(range(n), pa.uint64()), value_set=idx.cast(pa.uint64()))


def current_loads(con: Any, feeds: list[str]) -> dict[tuple[str, str, _dt.date], str]:
    """The SHA-256 of the file behind each partition now in the warehouse."""
    t = con.table("loads")
    t = t.filter(t.feed.isin(feeds), t.status == "loaded")
    w = ibis.window(group_by=[t.feed, t.org, t.month], order_by=ibis.desc(t.load_seq))
    latest = t.mutate(rn=ibis.row_number().over(w)).filter(ibis._.rn == 0)
    df = latest.select("feed", "org", "month", "sha256").to_pyarrow().to_pylist()
    return {(r["feed"], r["org"], _as_date(r["month"])): r["sha256"] for r in df}


def _as_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    return value
