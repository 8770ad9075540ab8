"""The command line: help everywhere, documented, one-line errors, JSON shapes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from svduty.cli import app
from svduty.cli_reference import render
from tests.conftest import MALFORMED, ROOT, run_cli

runner = CliRunner()


def _commands() -> list[list[str]]:
    root = typer.main.get_command(app)
    out: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        out.append(path)
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(root, [])
    return out


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "svduty")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_cli_reference_is_up_to_date() -> None:
    documented = (ROOT / "docs" / "cli.md").read_text()
    assert documented == render(), "run: python -m svduty.cli_reference > docs/cli.md"


def test_status_of_an_empty_warehouse(tmp_path: Path) -> None:
    result = run_cli("status", "--json", data_dir=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["loads"] == []
    plain = run_cli("status", data_dir=tmp_path / "d")
    assert "The warehouse is empty" in plain.stdout


def test_ingest_exit_codes_and_json(tmp_path: Path) -> None:
    ok = run_cli(
        "ingest", "police-uk", "--json", str(MALFORMED / "formula-payload"), data_dir=tmp_path / "d"
    )
    assert ok.returncode == 0, ok.stderr  # quarantined rows are not a failure
    body = json.loads(ok.stdout)
    assert (body["rows_loaded"], body["rows_quarantined"]) == (3, 2)
    refused = run_cli("ingest", "police-uk", str(MALFORMED / "empty"), data_dir=tmp_path / "d")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"refused: {MALFORMED / 'empty' / '2024-01-testforce-street.csv'}: the file is empty; "
        "expected a CSV header and rows [rule: empty]"
    ]
    status = json.loads(run_cli("status", "--json", data_dir=tmp_path / "d").stdout)
    assert status["loads"] == [
        {"feed": "police-uk-street", "month": "2024-01", "rows": 3, "quarantined": 2, "forces": 1}
    ]


def test_quarantine_lists_reasons_and_exports_safely(tmp_path: Path) -> None:
    data = tmp_path / "d"
    run_cli("ingest", "police-uk", str(MALFORMED / "formula-payload"), data_dir=data)
    listing = run_cli("quarantine", "--json", data_dir=data)
    body = json.loads(listing.stdout)
    assert body["by_rule"] == [
        {"feed": "police-uk-street", "rule": "formula", "entries": 2, "files": 1}
    ]
    assert [(e["row"], e["column"]) for e in body["entries"]] == [(5, "Location"), (6, "LSOA name")]
    assert all("raw" not in e for e in body["entries"])
    export = tmp_path / "q.csv"
    run_cli("quarantine", "--export", str(export), data_dir=data)
    with open(export, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    for r in rows:
        assert all(not v.startswith(("=", "+", "-", "@")) for v in r.values())
    assert rows[0]["raw"].startswith("'") is False and "=cmd" in rows[0]["raw"]
    human = run_cli("quarantine", data_dir=data)
    assert "formula" in human.stdout and "row 5" in human.stdout


def test_engine_must_be_known(tmp_path: Path) -> None:
    result = run_cli("--engine", "oracle", "status", data_dir=tmp_path / "d")
    assert result.returncode == 2
    assert "choose duckdb or spark" in result.stderr


def test_warehouse_in_use_is_a_clear_error(tmp_path: Path) -> None:
    import duckdb

    data = tmp_path / "d"
    data.mkdir()
    holder = duckdb.connect(str(data / "warehouse.duckdb"))
    try:
        result = run_cli("status", data_dir=data)
    finally:
        holder.close()
    # the same process may open it, another may not: DuckDB allows one writer process
    assert result.returncode == 1
    assert "Is another svduty command using it?" in result.stderr
