"""The corpus of malformed police.uk files: each gets a clear refusal or quarantine entry naming
file, row and rule, and no valid row of any file is lost."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from svduty.ingest.police_uk import ingest_police_uk
from svduty.ingest.sources import find_sources
from tests.conftest import MALFORMED, run_cli

# case -> (loaded rows, {(row, rule)} quarantined)  or  ("refused", rule, words in the message)
ROW_CASES: dict[str, tuple[int, set[tuple[int, str]]]] = {
    "latin1": (4, {(6, "encoding")}),
    "utf8-bom": (4, set()),
    "truncated-last-line": (4, {(6, "field-count")}),
    "wrong-month": (3, {(5, "month-mismatch")}),
    "month-format": (3, {(5, "format"), (5, "month-mismatch")}),
    "coordinates-out-of-range": (3, {(5, "range"), (6, "range")}),
    "coordinates-half": (3, {(5, "coordinates-pair")}),
    "formula-payload": (3, {(5, "formula"), (6, "formula")}),
    "duplicate-crime-id": (3, {(5, "duplicate-crime-id")}),
    "unknown-crime-type": (3, {(5, "allowed-value")}),
    "bad-crime-id": (4, {(5, "format"), (6, "crime-id-required")}),
    "bad-lsoa": (3, {(5, "format")}),
    "unknown-outcome": (3, {(5, "allowed-value")}),
    "too-many-fields": (3, {(5, "field-count")}),
    "unclosed-quote": (5, {(4, "csv-syntax")}),
    "blank-lines": (4, set()),
    "crlf": (4, set()),
    "quoted-newline": (4, set()),
    "outcomes-bad": (1, {(3, "required"), (4, "allowed-value")}),
    "stop-search-bad": (1, {(3, "allowed-value"), (3, "type"), (4, "month-mismatch")}),
    "ten-mb-field.zip": (3, {(5, "field-length")}),
}
REFUSED_CASES: dict[str, tuple[str, str]] = {
    "missing-column": ("header", "missing column(s) 'Context'"),
    "extra-column": ("header", "unexpected column(s) 'Notes'"),
    "semicolons": ("header", "semicolons"),
    "empty": ("empty", "empty"),
    "header-only": ("no-rows", "no rows"),
    "not-csv": ("not-csv", "binary"),
    "html-page": ("header", "Expected: Crime ID,Month"),
    "utf16": ("encoding", "UTF-16"),
}


def _records_in(path: Path) -> int:
    """Records in a file by an independent reading (Python's csv, tolerant), header excluded."""
    if path.suffix == ".zip":
        return -1
    text = path.read_bytes().decode("utf-8", errors="replace")
    return sum(1 for r in csv.reader(text.splitlines()) if r) - 1


def _ingest(con: Any, case: str) -> Any:
    return ingest_police_uk(con, *find_sources([MALFORMED / case]))


def test_corpus_has_at_least_twenty_files() -> None:
    files = [p for p in MALFORMED.rglob("*") if p.is_file()]
    assert len(files) >= 20
    assert set(ROW_CASES) | set(REFUSED_CASES) | {"zip-slip.zip"} == {
        p.name for p in MALFORMED.iterdir()
    }


@pytest.mark.parametrize("case", sorted(ROW_CASES))
def test_bad_rows_are_quarantined_and_good_rows_load(con: Any, case: str) -> None:
    loaded, expected = ROW_CASES[case]
    report = _ingest(con, case)
    assert [r.status for r in report.results] == ["loaded"]
    result = report.results[0]
    assert result.rows_loaded == loaded
    q = con.table("quarantine").to_pyarrow().to_pylist()
    assert {(e["row"], e["rule"]) for e in q} == expected
    for e in q:
        assert str(MALFORMED / case) in e["source"]
        assert f"row {e['row']}" in e["message"]
        assert e["raw"], "the refused record is kept as read"
    # nothing lost: every record is either loaded or in quarantine
    assert result.rows_read == loaded + len({e["row"] for e in q})
    table = {"outcomes-bad": "policeuk_outcomes", "stop-search-bad": "policeuk_stop_search"}.get(
        case, "policeuk_street"
    )
    assert con.table(table).count().execute() == loaded


@pytest.mark.parametrize("case", sorted(REFUSED_CASES))
def test_unreadable_files_are_refused_with_a_reason(con: Any, case: str) -> None:
    rule, words = REFUSED_CASES[case]
    report = _ingest(con, case)
    assert [r.status for r in report.results] == ["refused"]
    message = report.results[0].message
    assert f"[rule: {rule}]" in message
    assert words in message
    loads = con.table("loads").to_pyarrow().to_pylist()
    assert [(r["status"], r["source"]) for r in loads] == [("refused", report.results[0].source)]
    assert con.table("policeuk_street").count().execute() == 0


def test_zip_member_escaping_its_folder_is_refused_and_the_rest_loads(con: Any) -> None:
    report = _ingest(con, "zip-slip.zip")
    by_status = {r.status: [] for r in report.results}
    for r in report.results:
        by_status[r.status].append(r)
    assert len(by_status["refused"]) == 2
    assert all("unsafe-path" in r.message for r in by_status["refused"])
    assert {r.source.split("!")[1] for r in by_status["refused"]} == {
        "../../evil.csv",
        "/etc/2024-01-testforce-street.csv",
    }
    assert [r.rows_loaded for r in by_status["loaded"]] == [3]
    assert not (MALFORMED.parent / "evil.csv").exists()


def test_row_numbers_count_lines_across_a_quoted_line_break(con: Any) -> None:
    _ingest(con, "quoted-newline")
    rows = sorted(con.table("policeuk_street").source_row.execute().tolist())
    assert rows == [2, 3, 4, 6]
    locations = con.table("policeuk_street").location.execute().tolist()
    assert "On or near\nTwo Lines" in locations


def test_whole_corpus_through_the_cli(tmp_path: Path) -> None:
    result = run_cli("ingest", "police-uk", str(MALFORMED), data_dir=tmp_path / "d")
    assert result.returncode == 1
    refused_lines = [ln for ln in result.stderr.splitlines() if ln.startswith("refused:")]
    assert len(refused_lines) == len(REFUSED_CASES) + 2
    assert all("[rule: " in ln for ln in refused_lines)
    q = run_cli("quarantine", "--json", "--limit", "0", data_dir=tmp_path / "d")
    assert q.returncode == 0, q.stderr


def test_bad_file_among_good_ones_loses_nothing(con: Any, tmp_path: Path) -> None:
    """A refused file does not stop the others: every valid row of every file still loads."""
    report = ingest_police_uk(
        con,
        *find_sources([MALFORMED / "empty", MALFORMED / "zip-slip.zip", MALFORMED / "bad-lsoa"]),
    )
    statuses = sorted(r.status for r in report.results)
    assert statuses == ["loaded", "loaded", "refused", "refused", "refused"]
    # zip-slip's good member and bad-lsoa's file are the same force-month: the later one wins,
    # and the load records say so
    assert con.table("policeuk_street").count().execute() == 3
