"""Declared contracts for partner feeds, and their vectorised validation.

A contract lists a feed's columns (the exact header, the warehouse name, the type and the checks on
each value) and the rules that look at a whole row. :func:`validate` runs every check over a table
of strings at once (Arrow compute, so it costs little more than reading the file) and collects every
failure instead of stopping at the first: a row can break several rules and each is reported.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

ColumnType = Literal["string", "float", "int", "date", "datetime", "timestamp", "bool"]

# Text that a spreadsheet would run as a formula (CWE-1236); numeric columns are checked by type.
FORMULA_PATTERN = r"^[=+\-@\t\r]"
FLOAT_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
INT_PATTERN = r"^[+-]?[0-9]+$"
BOOL_VALUES = {"True": True, "False": False, "true": True, "false": False, "Y": True, "N": False}


@dataclass(frozen=True)
class Column:
    """One column of a feed.

    Attributes:
        header: the column's name in the file, exactly.
        name: its name in the warehouse (snake_case).
        type: how the text is converted once valid.
        required: an empty value breaks the rule ``required``.
        pattern: a regular expression (RE2) that a non-empty value must match (rule ``format``).
        allowed: the values a non-empty value must be one of (rule ``allowed-value``).
        minimum / maximum: bounds for a numeric value (rule ``range``).
        max_length: the longest value accepted (rule ``field-length``).
        text: free text, checked for spreadsheet-formula payloads (rule ``formula``).
        format: for ``date`` and ``datetime`` (local time, no zone), the strftime format the
            agency exports (``%d/%m/%Y``...); ISO 8601 when not given.
        check: ``(rule, function)``: a further check, the function true where a value fails.
        identifier: a direct identifier of a person (name, date of birth, NHS number...): split
            off to the encrypted linkage store at ingestion, never stored in the warehouse.
        description: what the column holds, for the docs.
    """

    header: str
    name: str
    type: ColumnType = "string"
    required: bool = False
    pattern: str | None = None
    allowed: frozenset[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 1000
    text: bool = False
    format: str | None = None
    check: tuple[str, Callable[[pa.Array], pa.Array]] | None = None
    identifier: bool = False
    description: str = ""


@dataclass(frozen=True)
class RowRule:
    """A rule over several columns of a row.

    ``check(table, context)`` returns a boolean array, true where the row BREAKS the rule.
    """

    name: str
    column: str
    message: str
    check: Callable[[pa.Table, dict[str, Any]], pa.Array]


@dataclass(frozen=True)
class Contract:
    """A feed's declared contract."""

    feed: str
    columns: tuple[Column, ...]
    rules: tuple[RowRule, ...] = ()
    description: str = ""

    @property
    def header(self) -> list[str]:
        """The exact header the file must have."""
        return [c.header for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name`` in the warehouse."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass
class Failures:
    """Every failure found in a table: parallel lists, one entry per (row, rule)."""

    index: list[pa.Array] = field(default_factory=list)
    column: list[str] = field(default_factory=list)
    rule: list[str] = field(default_factory=list)
    message: list[str] = field(default_factory=list)

    def add(self, broken: pa.Array, column: str, rule: str, message: str) -> None:
        """Record the rows where ``broken`` is true."""
        broken = pc.fill_null(broken, False)
        idx = pc.indices_nonzero(broken)
        if len(idx):
            self.index.append(idx)
            self.column.append(column)
            self.rule.append(rule)
            self.message.append(message)

    def to_table(self) -> pa.Table:
        """One row per failure: ``index`` (position in the table), column, rule, message."""
        if not self.index:
            return pa.table(
                {
                    "index": pa.array([], pa.uint64()),
                    "column": pa.array([], pa.string()),
                    "rule": pa.array([], pa.string()),
                    "message": pa.array([], pa.string()),
                }
            )
        parts = []
        for idx, col, rule, msg in zip(
            self.index, self.column, self.rule, self.message, strict=True
        ):
            n = len(idx)
            parts.append(
                pa.table(
                    {
                        "index": idx.cast(pa.uint64()),
                        "column": pa.array([col] * n, pa.string()),
                        "rule": pa.array([rule] * n, pa.string()),
                        "message": pa.array([msg] * n, pa.string()),
                    }
                )
            )
        return pa.concat_tables(parts)


def _empty(values: pa.Array) -> pa.Array:
    return pc.or_(pc.is_null(values), pc.equal(pc.utf8_length(values), 0))


def _parses(text: str, kind: str) -> bool:
    try:
        if kind == "date":
            _dt.date.fromisoformat(text)
            return True
        if kind == "datetime":
            return _dt.datetime.fromisoformat(text).tzinfo is None
        return _dt.datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _strptime(values: pa.Array, fmt: str) -> pa.Array:
    """Parse with ``fmt``; null where the text is not exactly a valid date in that format (the
    round trip catches what a lenient parser would roll over, such as 30 February)."""
    parsed = pc.strptime(values, format=fmt, unit="s", error_is_null=True)
    same = pc.equal(pc.strftime(parsed, format=fmt), values)
    return pc.if_else(pc.fill_null(same, False), parsed, pa.scalar(None, parsed.type))


def unparseable(values: pa.Array, checked: pa.Array, kind: str) -> pa.Array:
    """True where a checked value is not an ISO date, local date-time, or timestamp with offset."""
    target = {"date": pa.date32(), "datetime": pa.timestamp("us")}.get(
        kind, pa.timestamp("us", "UTC")
    )
    try:
        pc.cast(pc.if_else(checked, values, pa.scalar(None, pa.string())), target)
        return pa.array([False] * len(values))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        flags = checked.to_pylist()
        texts = values.to_pylist()
        return pa.array(
            [bool(f) and not _parses(v, kind) for f, v in zip(flags, texts, strict=True)]
        )


def validate(table: pa.Table, contract: Contract, context: dict[str, Any]) -> Failures:
    """Check every value and row of ``table`` (all columns strings, named as in the warehouse).

    Args:
        table: the parsed file, one string column per contract column.
        contract: the feed's contract.
        context: facts about the file the row rules may use (its month, for instance).

    Returns:
        Every failure, one per broken rule and row.

    Examples:
        >>> c = Contract("x", (Column("A", "a", required=True),))
        >>> validate(pa.table({"a": ["1", ""]}), c, {}).to_table()["index"].to_pylist()
        [1]
    """
    failures = Failures()
    for col in contract.columns:
        values = table[col.name].combine_chunks()
        empty = _empty(values)
        present = pc.invert(empty)
        where = f"column '{col.header}'"
        if col.required:
            failures.add(empty, col.header, "required", f"{where} is empty; a value is required")
        too_long = pc.greater(pc.utf8_length(values), col.max_length)
        failures.add(
            too_long,
            col.header,
            "field-length",
            f"{where} is longer than {col.max_length:,} characters",
        )
        # Later checks skip values already refused for length (a 10 MB field is not regex-scanned).
        checked = pc.and_(present, pc.invert(too_long))
        if col.type in ("float", "int"):
            pattern = FLOAT_PATTERN if col.type == "float" else INT_PATTERN
            bad = pc.and_(checked, pc.invert(pc.match_substring_regex(values, pattern)))
            failures.add(bad, col.header, "type", f"{where} is not a number")
            if col.minimum is not None or col.maximum is not None:
                ok_num = pc.and_(checked, pc.invert(bad))
                nums = pc.cast(pc.if_else(ok_num, values, "0"), pa.float64())
                out = pa.array([False] * len(values))
                if col.minimum is not None:
                    out = pc.or_(out, pc.less(nums, col.minimum))
                if col.maximum is not None:
                    out = pc.or_(out, pc.greater(nums, col.maximum))
                failures.add(
                    pc.and_(ok_num, out),
                    col.header,
                    "range",
                    f"{where} is outside {col.minimum} to {col.maximum}",
                )
        if col.type in ("date", "datetime") and col.format:
            parsed = _strptime(values, col.format)
            bad = pc.and_(checked, pc.is_null(parsed))
            failures.add(bad, col.header, "type", f"{where} is not a {col.type} as {col.format}")
        elif col.type in ("timestamp", "date", "datetime"):
            bad = unparseable(values, checked, col.type)
            failures.add(bad, col.header, "type", f"{where} is not a valid ISO 8601 {col.type}")
        if col.check is not None:
            rule, fails = col.check
            bad = pc.and_(checked, pc.fill_null(fails(values), True))
            failures.add(bad, col.header, rule, f"{where} fails its {rule} check")
        if col.type == "bool":
            bad = pc.and_(checked, pc.invert(pc.is_in(values, pa.array(list(BOOL_VALUES)))))
            failures.add(bad, col.header, "type", f"{where} is not True/False or Y/N")
        if col.pattern is not None:
            bad = pc.and_(checked, pc.invert(pc.match_substring_regex(values, col.pattern)))
            failures.add(bad, col.header, "format", f"{where} does not match {col.pattern}")
        if col.allowed is not None:
            bad = pc.and_(checked, pc.invert(pc.is_in(values, pa.array(sorted(col.allowed)))))
            failures.add(
                bad, col.header, "allowed-value", f"{where} is not one of the declared values"
            )
        if col.text:
            bad = pc.and_(checked, pc.match_substring_regex(values, FORMULA_PATTERN))
            failures.add(
                bad,
                col.header,
                "formula",
                f"{where} starts with =, +, -, @ or a control character "
                "(a spreadsheet formula payload)",
            )
    for rule in contract.rules:
        failures.add(rule.check(table, context), rule.column, rule.name, rule.message)
    return failures


def convert(table: pa.Table, columns: Sequence[Column]) -> dict[str, pa.Array]:
    """Convert valid string columns to their declared types (empty text becomes null)."""
    out: dict[str, pa.Array] = {}
    for col in columns:
        values = table[col.name].combine_chunks()
        nulled = pc.if_else(_empty(values), pa.scalar(None, pa.string()), values)
        if col.type == "string":
            out[col.name] = nulled
        elif col.type == "float":
            out[col.name] = pc.cast(nulled, pa.float64())
        elif col.type == "int":
            out[col.name] = pc.cast(nulled, pa.int64())
        elif col.type == "bool":
            truthy = pa.array([k for k, v in BOOL_VALUES.items() if v])
            out[col.name] = pc.if_else(
                pc.is_null(nulled), pa.scalar(None, pa.bool_()), pc.is_in(nulled, truthy)
            )
        elif col.type in ("date", "datetime") and col.format:
            parsed = _strptime(nulled, col.format)
            kind = pa.date32() if col.type == "date" else pa.timestamp("us")
            out[col.name] = pc.cast(parsed, kind)
        elif col.type == "date":
            out[col.name] = pc.cast(nulled, pa.date32())
        elif col.type == "datetime":
            out[col.name] = pc.cast(nulled, pa.timestamp("us"))
        elif col.type == "timestamp":
            out[col.name] = pc.cast(nulled, pa.timestamp("us", tz="UTC"))
        else:  # pragma: no cover - the Literal type forbids it
            raise ValueError(col.type)
    return out
