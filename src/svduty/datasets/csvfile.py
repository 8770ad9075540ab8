"""Reading a partner's CSV file into a table of strings, row by row accountable.

Two paths give the same result. The fast one hands a clean UTF-8 file to Arrow's multi-threaded
reader. Anything unusual (a row with the wrong number of fields, a byte that is not UTF-8, blank
lines, a field bigger than Arrow's block) sends the file down the careful path: Python's ``csv``
module, one record at a time, so that every record keeps the line number it starts on and every
malformed record is kept, with the reason, rather than dropped.

Row numbers are the line on which a record starts, counting the header as line 1: what a text
editor shows, and what a spreadsheet shows when no value holds a line break.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from svduty.errors import FileRefused

UTF8_BOM = b"\xef\xbb\xbf"
_FAST_BLOCK = 16 << 20


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be read as a row of the declared columns."""

    row: int
    column: str
    rule: str
    message: str
    raw: str


@dataclass
class ParsedCSV:
    """A file read as strings: ``table`` has one column per header name plus ``_row``."""

    table: pa.Table
    bad: list[BadRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        """Every data record in the file, good or bad."""
        return self.table.num_rows + len(self.bad)


def _decode_header(source: str, data: bytes) -> tuple[list[str], bytes, list[str]]:
    notes: list[str] = []
    if not data.strip():
        raise FileRefused(source, "empty", "the file is empty; expected a CSV header and rows")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused(
            source, "encoding", "the file is UTF-16; save it as UTF-8 (CSV UTF-8) and load it again"
        )
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
        notes.append("a UTF-8 byte-order mark was removed")
    head = data[:65536]
    if b"\x00" in head:
        raise FileRefused(source, "not-csv", "the file is binary (NUL bytes), not a CSV text file")
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FileRefused(
            source, "not-csv", "the first line is not UTF-8 text, so this is not a CSV header"
        ) from e
    header = next(csv.reader([text]), [])
    return header, data, notes


def check_header(source: str, header: list[str], expected: list[str]) -> None:
    """Refuse a file whose header is not exactly ``expected``, saying what differs."""
    if header == expected:
        return
    joined = ",".join(header)
    for delim, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
        if joined.split(delim) == expected or (
            len(header) == 1 and header[0].split(delim) == expected
        ):
            raise FileRefused(
                source,
                "header",
                f"the columns are separated by {name}; police.uk files and svduty expect commas",
            )
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    parts = []
    if missing:
        parts.append("missing column(s) " + ", ".join(repr(c) for c in missing))
    if extra:
        shown = [c if len(c) <= 40 else c[:37] + "..." for c in extra[:5]]
        parts.append("unexpected column(s) " + ", ".join(repr(c) for c in shown))
    if not parts:
        parts.append("the columns are in another order")
    raise FileRefused(
        source,
        "header",
        "header does not match the declared contract: "
        + "; ".join(parts)
        + f". Expected: {','.join(expected)}",
    )


def _fast(data: bytes, names: list[str]) -> pa.Table | None:
    """Arrow's reader, or None when the file needs the careful path."""
    if b"\n\n" in data or b"\n\r\n" in data or b"\r\r" in data:
        return None
    invalid = []

    def handler(row: pacsv.InvalidRow) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=_FAST_BLOCK),
            parse_options=pacsv.ParseOptions(
                delimiter=",",
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
                invalid_row_handler=handler,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    physical = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if invalid or physical != table.num_rows + 1:
        return None  # a value holds a line break: only the careful path numbers rows right
    rows = pa.array(range(2, table.num_rows + 2), pa.int64())
    return table.append_column("_row", rows)


class _Lines:
    """The file's physical lines, decoded one by one (so one bad byte spoils one record, not the
    file), remembering which lines the current record took and able to step back."""

    def __init__(self, data: bytes) -> None:
        self.lines = data.splitlines(keepends=True)
        self.pos = 0
        self.taken: list[int] = []
        self.bad: set[int] = set()

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        number = self.pos + 1
        self.pos += 1
        self.taken.append(number)
        raw = self.lines[number - 1]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.bad.add(number)
            return raw.decode("utf-8", errors="replace")

    def text(self, numbers: list[int]) -> str:
        return "".join(
            self.lines[n - 1].decode("utf-8", errors="backslashreplace") for n in numbers
        ).rstrip("\r\n")


def _careful(source: str, data: bytes, names: list[str]) -> ParsedCSV:
    """Python's csv module, one record at a time. A record that spans several lines and cannot be
    read (an unclosed quote swallowing the rows after it) is split back: its first line is
    quarantined and the lines after it are read again as records of their own."""
    lines = _Lines(data)
    reader = csv.reader(lines, strict=True)
    columns: list[list[str]] = [[] for _ in names]
    rows: list[int] = []
    bad: list[BadRecord] = []
    width = len(names)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(1 << 30)
    try:
        next(reader)  # the header, already checked
        while True:
            lines.taken = []
            problem: tuple[str, str] | None = None
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                record, problem = [], ("csv-syntax", f"is not valid CSV ({e})")
            span = list(lines.taken)
            if not span or (record == [] and problem is None):
                continue  # a blank line is no record
            start = span[0]
            if problem is None and len(record) != width:
                what = "fewer" if len(record) < width else "more"
                hint = " (a truncated last line?)" if what == "fewer" else ""
                problem = (
                    "field-count",
                    f"has {len(record)} fields, {what} than the {width} header columns{hint}",
                )
            if problem is not None and len(span) > 1:
                lines.pos = span[1] - 1  # re-read what the broken record swallowed
                span = span[:1]
            if problem is None and lines.bad.intersection(span):
                problem = (
                    "encoding",
                    "is not valid UTF-8 (perhaps saved as Latin-1 or Windows-1252); "
                    "re-save the file as UTF-8",
                )
            if problem is not None:
                rule, message = problem
                bad.append(BadRecord(start, "", rule, f"row {start} {message}", lines.text(span)))
                continue
            rows.append(start)
            for i, value in enumerate(record):
                columns[i].append(value)
    finally:
        csv.field_size_limit(old_limit)
    table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, columns, strict=True)})
    table = table.append_column("_row", pa.array(rows, pa.int64()))
    return ParsedCSV(table, bad)


def _raw(record: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(record)
    return out.getvalue()


def read_csv_strings(
    source: str, data: bytes, expected_header: list[str], names: list[str]
) -> ParsedCSV:
    """Read ``data`` (a whole CSV file) as strings after checking its header.

    Args:
        source: how to name the file in messages.
        data: the file's bytes.
        expected_header: the exact header the contract declares.
        names: the warehouse names of those columns, in the same order.

    Raises:
        FileRefused: the file is empty, binary, UTF-16 or its header is not the declared one.

    Examples:
        >>> p = read_csv_strings("f.csv", b"A,B\\n1,2\\n3\\n", ["A", "B"], ["a", "b"])
        >>> p.table.num_rows, [b.rule for b in p.bad]
        (1, ['field-count'])
    """
    header, data, notes = _decode_header(source, data)
    check_header(source, header, expected_header)
    table = _fast(data, names)
    if table is not None:
        return ParsedCSV(table, [], notes)
    parsed = _careful(source, data, names)
    parsed.notes.extend(notes)
    return parsed


def neutralise(value: Any) -> Any:
    """Keep a spreadsheet from running a value as a formula (OWASP CSV injection).

    Examples:
        >>> neutralise("=SUM(A1)"), neutralise("Smith"), neutralise(3)
        ("'=SUM(A1)", 'Smith', 3)
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
