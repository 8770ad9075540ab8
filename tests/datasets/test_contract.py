"""The declared contracts and their vectorised validation, rule by rule."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from svduty.datasets.contract import Column, Contract, convert, validate
from svduty.datasets.csvfile import read_csv_strings
from svduty.datasets.police_uk import STREET, parse_file_name
from svduty.errors import FileRefused

C = Contract(
    "test",
    (
        Column("N", "n", "float", required=True, minimum=0, maximum=10),
        Column("K", "k", allowed=frozenset({"a", "b"})),
        Column("P", "p", pattern=r"^[A-Z]{2}$"),
        Column("T", "t", text=True, max_length=5),
        Column("B", "b", "bool"),
        Column("D", "d", "date"),
    ),
)


def _failures(**cols: list[str]) -> set[tuple[int, str, str]]:
    t = pa.table(
        {c.name: cols.get(c.name, [""] * len(next(iter(cols.values())))) for c in C.columns}
    )
    ft = validate(t, C, {}).to_table().to_pylist()
    return {(r["index"], r["column"], r["rule"]) for r in ft}


def test_each_rule_fires_where_broken_and_only_there() -> None:
    assert _failures(n=["1", "", "x", "11", "-1", "1e1"]) == {
        (1, "N", "required"),
        (2, "N", "type"),
        (3, "N", "range"),
        (4, "N", "range"),
    }
    assert _failures(n=["1"] * 3, k=["a", "c", ""]) == {(1, "K", "allowed-value")}
    assert _failures(n=["1"] * 3, p=["AB", "ab", "ABC"]) == {(1, "P", "format"), (2, "P", "format")}
    assert _failures(n=["1"] * 4, t=["ok", "=1+1", "@x", "toolong"]) == {
        (1, "T", "formula"),
        (2, "T", "formula"),
        (3, "T", "field-length"),
    }
    assert _failures(n=["1"] * 3, b=["True", "false", "yes"]) == {(2, "B", "type")}
    assert _failures(n=["1"] * 3, d=["2024-02-29", "2023-02-29", "29/02/2024"]) == {
        (1, "D", "type"),
        (2, "D", "type"),
    }


def test_every_failure_of_a_row_is_reported() -> None:
    assert _failures(n=["x"], k=["z"], p=["z"]) == {
        (0, "N", "type"),
        (0, "K", "allowed-value"),
        (0, "P", "format"),
    }


def test_convert_types_and_nulls() -> None:
    t = pa.table(
        {
            "n": ["1.5", ""],
            "k": ["a", ""],
            "p": ["AB", ""],
            "t": ["x", ""],
            "b": ["True", ""],
            "d": ["2024-01-02", ""],
        }
    )
    out = convert(t, C.columns)
    assert out["n"].to_pylist() == [1.5, None]
    assert out["k"].to_pylist() == ["a", None]
    assert out["b"].to_pylist() == [True, None]
    assert out["d"].to_pylist() == [dt.date(2024, 1, 2), None]


def test_header_must_be_exact() -> None:
    good = ",".join(STREET.header).encode() + b"\n"
    read_csv_strings("f", good + b",".join([b""] * 12) + b"\n", STREET.header, STREET.header)
    with pytest.raises(FileRefused, match="other order"):
        swapped = STREET.header[1:2] + STREET.header[:1] + STREET.header[2:]
        read_csv_strings("f", ",".join(swapped).encode() + b"\n", STREET.header, STREET.header)


def test_fast_and_careful_paths_agree() -> None:
    header = b"A,B\n"
    rows = b"".join(f"{i},v{i}\n".encode() for i in range(1000))
    fast = read_csv_strings("f", header + rows, ["A", "B"], ["a", "b"])
    careful = read_csv_strings("f", header + rows + b"1\n", ["A", "B"], ["a", "b"])
    assert fast.table.to_pydict() == careful.table.to_pydict()
    assert [b.row for b in careful.bad] == [1002]


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("2024-01-cambridgeshire-street.csv", ("2024-01", "cambridgeshire", "street")),
        (
            "2019-07-metropolitan-stop-and-search.csv",
            ("2019-07", "metropolitan", "stop-and-search"),
        ),
        ("2024-01-avon-and-somerset-outcomes.csv", ("2024-01", "avon-and-somerset", "outcomes")),
        ("january.csv", None),
    ],
)
def test_police_uk_file_names(name: str, parsed: tuple[str, str, str] | None) -> None:
    assert parse_file_name(name) == parsed


def test_contract_docs_are_up_to_date() -> None:
    from svduty.datasets.contract_docs import render
    from tests.conftest import ROOT

    assert (ROOT / "docs" / "contracts.md").read_text() == render(), (
        "run: python -m svduty.datasets.contract_docs > docs/contracts.md"
    )


def test_every_rule_the_code_can_raise_is_documented() -> None:
    import re

    from svduty.datasets.contract_docs import FILE_RULES, ROW_RULES
    from tests.conftest import ROOT

    src = "".join(p.read_text() for p in (ROOT / "src" / "svduty").rglob("*.py"))
    raised = set(re.findall(r'FileRefused\(\s*[^,]+,\s*"([a-z-]+)"', src))
    assert raised <= set(FILE_RULES), raised - set(FILE_RULES)
    quarantined = set(re.findall(r'BadRecord\([^)]*?"([a-z-]+)"', src, re.S))
    quarantined |= set(re.findall(r'\(\s*"([a-z-]+)",\s*f?"(?:has|is)\s', src))
    assert quarantined <= set(ROW_RULES), quarantined - set(ROW_RULES)
