"""The demo partnership end to end, and the promise that no identifier reaches the warehouse,
the data folder, the logs or any CLI output."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from svduty.config import Settings
from svduty.datasets.partners import FEEDS
from svduty.warehouse import TABLES, connect
from tests.conftest import run_cli

SEED, YEARS, SCALE = ("7", "1", "0.3")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("demo")
    data, source = root / "data", root / "synth"
    args = ["--seed", SEED, "--years", YEARS, "--scale", SCALE]
    outputs = [run_cli("synth", "--out", str(source), *args)]
    outputs.append(run_cli("-v", "demo", *args, data_dir=data))
    outputs.append(run_cli("-v", "status", "--json", data_dir=data))
    outputs.append(run_cli("-v", "quarantine", "--json", "--limit", "0", data_dir=data))
    outputs.append(run_cli("-v", "status", data_dir=data))
    outputs.append(run_cli("-v", "cohorts", "--json", data_dir=data))
    return {"data": data, "source": source, "outputs": outputs}


def test_demo_loads_every_feed(demo: dict[str, Any]) -> None:
    for result in demo["outputs"]:
        assert result.returncode == 0, result.stderr
    status = json.loads(demo["outputs"][2].stdout)
    feeds = {e["feed"] for e in status["loads"]}
    assert set(FEEDS) <= feeds
    months = {e["month"] for e in status["loads"] if e["feed"] == "police-crime"}
    assert len(months) == 12
    record = json.loads((demo["data"] / "demo.json").read_text())
    assert record["seed"] == int(SEED)
    assert all(t["rows_loaded"] > 0 for t in record["feeds"].values())
    # people are linked, and counted across agencies
    assert 0 < record["linkage"]["clusters"] < record["linkage"]["records"]
    figures = json.loads(demo["outputs"][5].stdout)
    # the cohort figures count the people the agencies recorded; the providers' participant
    # lists (projects, not agencies) add a few people known to no agency
    with duckdb.connect(str(demo["data"] / "warehouse.duckdb"), read_only=True) as db:
        agencies, everyone = db.sql(
            "SELECT COUNT(DISTINCT linked_key) FILTER (WHERE feed <> 'participants'), "
            "COUNT(DISTINCT linked_key) FROM person_links"
        ).fetchone()
    assert everyone == record["linkage"]["clusters"]
    assert figures["available"] and figures["people"] == agencies
    # the synthetic partnership's register, returns and next round are loaded for commissioners
    assert record["commissioning"]["register"] == 8
    assert record["commissioning"]["proposals"] > 0


def _identifiers(source: Path) -> set[str]:
    """Every direct identifier written in the generated feed files."""
    values: set[str] = set()
    for name, feed in FEEDS.items():
        ident = [c.header for c in feed.contract.columns if c.identifier]
        for path in sorted((source / "feeds" / name).glob("*.csv")):
            with open(path, newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    values.update(row[h] for h in ident if row[h])
    return values


def _public_words(source: Path) -> set[str]:
    """Words of the public reference data (place names may also be surnames)."""
    words: set[str] = set()
    for path in (source / "reference").rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            words.update(re.findall(r"[A-Za-z][A-Za-z'-]+", text))
            words.update(re.findall(r"[A-Za-z]+", text))
    return words


TOKEN = re.compile(
    r"[0-9]{10}"  # NHS numbers
    r"|[0-9]{2}/[0-9]{2}/[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}"  # dates
    r"|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}"  # postcodes
    r"|[0-9]{2,4}/[0-9]{1,7}[A-Z]|[A-Z][0-9]{12}"  # PNC ids, UPNs
    r"|[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*"  # names: "Smith", "O'Neill", "Smith-Jones"
)


def _tokens(text: str) -> set[str]:
    """What could be an identifier in a text: a name inside a longer word of public data
    ("Brooks" in "Brookside") is not one, but names stored back to back ("SmithJones") are."""
    return set(TOKEN.findall(text))


def test_no_identifier_in_the_warehouse_the_data_folder_or_any_output(
    demo: dict[str, Any],
) -> None:
    identifiers = _identifiers(demo["source"])
    assert len(identifiers) > 1000
    public = _public_words(demo["source"])
    # values precise enough to stand for a person: NHS numbers, dates, postcodes, ids, names
    specific = {v for v in identifiers if len(v) >= 6 and v not in public}
    assert any(re.fullmatch(r"[0-9]{10}", v) for v in specific)
    # the scan below finds identifiers where they are: in the generated files themselves
    for name in ("police-crime", "istv", "education"):
        generated = next((demo["source"] / "feeds" / name).glob("*.csv")).read_text()
        assert len(_tokens(generated) & specific) > 20, name
    # 1. every text value of every warehouse table
    con = connect(Settings(data_dir=demo["data"]))
    for name, tdef in TABLES.items():
        text = [c for c, t in tdef.schema.items() if t.is_string()]
        if not text:
            continue
        for row in con.table(name).select(*text).to_pyarrow().to_pylist():
            for value in row.values():
                assert value not in identifiers or value in public, (name, "an identifier")
    con.disconnect()
    # 2. the bytes of every file in the data folder
    for path in demo["data"].rglob("*"):
        if path.is_file():
            found = _tokens(path.read_bytes().decode("latin-1")) & specific
            assert not found, (path, "holds an identifier in clear")
    # 3. every command's output and log
    for result in demo["outputs"]:
        assert not _tokens(result.stdout + result.stderr) & specific


def test_demo_again_changes_nothing(demo: dict[str, Any]) -> None:
    again = run_cli(
        "demo", "--seed", SEED, "--years", YEARS, "--scale", SCALE, data_dir=demo["data"]
    )
    assert again.returncode == 0, again.stderr
    record = json.loads((demo["data"] / "demo.json").read_text())
    assert all(t["rows_loaded"] == 0 for t in record["feeds"].values())
