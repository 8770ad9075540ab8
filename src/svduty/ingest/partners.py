"""Loading partner feeds: the same path as police.uk, plus what person-level data needs.

Direct identifiers are split off before anything is stored: the warehouse keeps keyed pseudonyms
of the partner's record and person references, the age at the event and what analysis needs; the
identifiers go, sealed (AES-256-GCM), to the linkage store in ``<data>/linkage/``, one file per
partition, for the record linkage that comes next. The raw file and quarantined rows of a
person-level feed are kept too, but only sealed, so nothing in the data folder holds an identifier
in clear. Keys live outside the data folder (see :mod:`svduty.privacy.keys`).
"""

from __future__ import annotations

import datetime as _dt
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from svduty.config import Settings
from svduty.datasets.contract import convert
from svduty.datasets.csvfile import ParsedCSV
from svduty.datasets.feeds import Feed
from svduty.datasets.partners import FEEDS
from svduty.datasets.person import age_band
from svduty.errors import FileRefused
from svduty.ingest.loader import FeedAdapter, IngestReport, Target, ingest, with_provenance
from svduty.ingest.records import LoadResult
from svduty.ingest.sources import Source
from svduty.privacy.keys import derive, master_key
from svduty.privacy.pseudonyms import pseudonymise_array
from svduty.privacy.vault import Vault

FILE_MONTH = re.compile(r"(?P<month>\d{4}-(0[1-9]|1[0-2]))(?:[^0-9].*)?\.csv$")


def linkage_dir(settings: Settings) -> Path:
    """The linkage store: sealed identifiers, one file per feed, organisation and month."""
    return settings.data_dir / "linkage"


def raw_dir(settings: Settings) -> Path:
    """Where sealed copies of person-level files are kept."""
    return settings.data_dir / "raw"


def ages(dob: pa.Array, event: pa.Array) -> pa.Array:
    """Whole years from ``dob`` to ``event`` (dates or timestamps).

    Examples:
        >>> import datetime as dt
        >>> d = pa.array([dt.date(2008, 6, 15), dt.date(2008, 6, 15)])
        >>> ages(d, pa.array([dt.date(2024, 6, 14), dt.date(2024, 6, 15)])).to_pylist()
        [15, 16]
    """
    years = pc.subtract(pc.year(event), pc.year(dob))
    before = pc.less(
        pc.add(pc.multiply(pc.month(event), 100), pc.day(event)),
        pc.add(pc.multiply(pc.month(dob), 100), pc.day(dob)),
    )
    return pc.subtract(years, pc.cast(before, pa.int64())).cast(pa.int64())


class PartnerAdapter(FeedAdapter):
    """One partner feed; ``org`` names the sending organisation (default: the feed's own)."""

    def __init__(self, feed: Feed, settings: Settings, org: str | None = None) -> None:
        self.feed = feed
        self.feeds = (feed.name,)
        self.org = org or feed.org
        self.settings = settings
        key = master_key(settings)
        self.pseudonym_key = derive(key, "pseudonym")
        self.vault = Vault(derive(key, "vault"))
        self._data: dict[str, bytes] = {}

    def resolve(self, source: Source, data: bytes) -> Target:
        m = FILE_MONTH.search(source.name)
        month = _dt.date.fromisoformat(m["month"] + "-01") if m else _dt.date(1, 1, 1)
        self._check_feed(source, data)
        if self.feed.person_level:
            self._data[source.display] = data
        return Target(
            feed=self.feed.name,
            contract=self.feed.contract,
            table=self.feed.table,
            org=self.org,
            month=month,
            notes=[] if m else ["month taken from the rows: the file name has no YYYY-MM"],
        )

    def _check_feed(self, source: Source, data: bytes) -> None:
        """Say which feed a file belongs to when it was given as another."""
        first = data[:65536].removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
        header = first.decode("utf-8", errors="replace").split(",")
        if header == self.feed.contract.header:
            return
        for other in FEEDS.values():
            if other.name != self.feed.name and header == other.contract.header:
                raise FileRefused(
                    source.display,
                    "wrong-feed",
                    f"this is a {other.name} file, not {self.feed.name}; "
                    f"load it with: svduty ingest {other.name}",
                )

    def check_rows(self, source: Source, target: Target, parsed: ParsedCSV) -> None:
        if target.month.year > 1:
            return
        values = parsed.table[self.feed.event].combine_chunks()
        fmt = self.feed.contract.column(self.feed.event).format
        if fmt:
            months = pc.strftime(
                pc.strptime(values, format=fmt, unit="s", error_is_null=True), format="%Y-%m"
            )
        else:
            months = pc.utf8_slice_codeunits(values, 0, 7)
        counts = Counter(v for v in months.to_pylist() if v)
        if not counts:
            raise FileRefused(
                source.display, "file-name", "cannot tell the file's month from its name or rows"
            )
        target.month = _dt.date.fromisoformat(counts.most_common(1)[0][0] + "-01")

    def rows(self, target: Target, valid: pa.Table, load_seq: int) -> pa.Table:
        feed = self.feed
        cols = convert(valid, feed.kept)
        cols["record_key"] = pseudonymise_array(
            self.pseudonym_key, f"{feed.name}:record", valid[feed.record_id].combine_chunks()
        )
        if feed.person_id:
            cols["person_key"] = pseudonymise_array(
                self.pseudonym_key, f"{feed.name}:person", valid[feed.person_id].combine_chunks()
            )
        else:
            cols["person_key"] = pa.nulls(valid.num_rows, pa.string())
        if feed.dob:
            typed = convert(valid, [feed.contract.column(feed.dob)])[feed.dob]
            age = ages(typed, cols[feed.event])
            cols["age_at_event"] = age
            if "age_band" not in cols:
                cols["age_band"] = pa.array([age_band(a) for a in age.to_pylist()], pa.string())
        return with_provenance(cols, target, valid, load_seq)

    def seal_raw(self, text: str) -> str:
        return self.vault.seal_text(text) if self.feed.person_level else text

    def before_commit(self, target: Target, valid: pa.Table, result: LoadResult) -> None:
        """Seal the raw file and write the partition's identifiers to the linkage store."""
        if not self.feed.person_level:
            return
        feed = self.feed
        data = self._data.pop(result.source, b"")
        self.vault.write(raw_dir(self.settings) / feed.name / f"{result.sha256}.csv.sealed", data)
        ident = {
            "record_key": pseudonymise_array(
                self.pseudonym_key, f"{feed.name}:record", valid[feed.record_id].combine_chunks()
            ),
            "event": valid[feed.event].combine_chunks(),
        }
        if feed.person_id:
            ident["person_key"] = pseudonymise_array(
                self.pseudonym_key, f"{feed.name}:person", valid[feed.person_id].combine_chunks()
            )
        for name in feed.identifiers:
            ident[name] = valid[name].combine_chunks()
        ident["source_row"] = valid["_row"].combine_chunks()
        table = pa.table(ident)
        sink = io.BytesIO()
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        path = linkage_dir(self.settings) / feed.name / target.org / f"{target.month_text}.arrow"
        self.vault.write(path.with_suffix(".arrow.sealed"), sink.getvalue())


def read_linkage_partition(settings: Settings, path: Path) -> pa.Table:
    """Open one sealed partition of the linkage store (for record linkage)."""
    key = master_key(settings, create=False)
    data = Vault(derive(key, "vault")).read(path)
    return pa.ipc.open_file(io.BytesIO(data)).read_all()


def ingest_feed(
    con: Any,
    settings: Settings,
    feed: str,
    sources: Iterable[Source],
    refused: Iterable[FileRefused] = (),
    org: str | None = None,
    progress: Callable[[LoadResult], None] | None = None,
) -> IngestReport:
    """Load a partner feed's files (see :data:`svduty.datasets.partners.FEEDS` for the names)."""
    adapter = PartnerAdapter(FEEDS[feed], settings, org)
    return ingest(con, adapter, feed, sources, refused, progress)
