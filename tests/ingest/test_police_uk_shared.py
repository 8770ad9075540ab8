"""Ingesting the real police.uk files in ../shared/data/policeuk, checked against an independent
count of the CSV files made here with Python's csv module."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from svduty.config import Settings
from svduty.ingest.police_uk import ingest_police_uk
from svduty.ingest.sources import find_sources
from svduty.warehouse import connect
from svduty.warehouse.views import street_crimes
from tests.conftest import SHARED, needs_shared, run_cli

pytestmark = [needs_shared(), pytest.mark.shared]
POLICEUK = SHARED / "policeuk"


def _csv_rows(kind: str) -> list[dict[str, str]]:
    rows = []
    for path in sorted(POLICEUK.glob(f"*/*-{kind}.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for i, row in enumerate(csv.DictReader(f)):
                row["_file"], row["_index"] = path.name, str(i)
                rows.append(row)
    return rows


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Any]:
    con = connect(Settings(data_dir=tmp_path_factory.mktemp("shared") / "data"))
    sources, refused = find_sources([POLICEUK])
    first = ingest_police_uk(con, sources, refused)
    second = ingest_police_uk(con, sources, refused)
    return con, first, second


def test_every_row_loads_and_counts_match_an_independent_count(loaded: Any) -> None:
    con, first, _ = loaded
    expected = Counter((r["Month"], r["Crime type"]) for r in _csv_rows("street"))
    assert sum(expected.values()) == 125_201
    t = con.table("policeuk_street")
    got = t.group_by(["month", "crime_type"]).aggregate(n=t.count()).to_pyarrow().to_pylist()
    assert {(r["month"].strftime("%Y-%m"), r["crime_type"]): r["n"] for r in got} == expected
    assert first.totals()["rows_quarantined"] == 0
    assert [r.status for r in first.results] == ["loaded"] * 42


def test_outcomes_and_stop_and_search_counts_match(loaded: Any) -> None:
    con, _, _ = loaded
    for kind, table, month_of in (
        ("outcomes", "policeuk_outcomes", lambda r: r["Month"]),
        ("stop-and-search", "policeuk_stop_search", lambda r: r["_file"][:7]),
    ):
        expected = Counter(month_of(r) for r in _csv_rows(kind))
        t = con.table(table)
        got = t.group_by("month").aggregate(n=t.count()).to_pyarrow().to_pylist()
        assert {r["month"].strftime("%Y-%m"): r["n"] for r in got} == expected, kind


def test_ingesting_again_adds_nothing(loaded: Any) -> None:
    con, first, second = loaded
    assert second.totals()["rows_loaded"] == 0
    assert second.totals()["rows_already_present"] == first.totals()["rows_read"] == 196_675
    assert {r.status for r in second.results} == {"unchanged"}
    assert con.table("policeuk_street").count().execute() == 125_201
    loads = con.table("loads")
    assert loads.count().execute() == 84  # every load recorded, the unchanged ones too


def test_identical_anti_social_behaviour_rows_stay_distinct(loaded: Any) -> None:
    con, _, _ = loaded
    asb = [r for r in _csv_rows("street") if r["Crime type"] == "Anti-social behaviour"]
    fields = ("Month", "Longitude", "Latitude", "Location", "LSOA code")
    repeats = sum(n - 1 for n in Counter(tuple(r[f] for f in fields) for r in asb).values())
    assert len(asb) == 20_797
    assert repeats >= 4_942
    t = con.table("policeuk_street")
    assert t.filter(t.crime_type == "Anti-social behaviour").count().execute() == 20_797


def test_every_load_is_traceable_to_its_file(loaded: Any) -> None:
    con, first, _ = loaded
    import hashlib

    loads = {
        r["source"]: r
        for r in con.table("loads").filter(lambda t: t.status == "loaded").to_pyarrow().to_pylist()
    }
    for path in sorted(POLICEUK.glob("*/*.csv")):
        record = loads[str(path)]
        assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert record["rows_read"] == path.read_bytes().count(b"\n") - 1
    t = con.table("policeuk_street")
    row = t.filter(t.source_row == 2, t.month == t.month.min()).to_pyarrow().to_pylist()[0]
    with open(POLICEUK / "2024-01/2024-01-cambridgeshire-street.csv", encoding="utf-8") as f:
        first_line = next(csv.DictReader(f))
    assert row["crime_id"] == first_line["Crime ID"]


def test_outcomes_update_the_last_outcome_of_matching_crimes(loaded: Any) -> None:
    con, _, _ = loaded
    latest: dict[str, tuple[str, int, str]] = {}
    for r in _csv_rows("outcomes"):
        key = (r["Month"], int(r["_index"]))
        if r["Crime ID"] not in latest or key > latest[r["Crime ID"]][:2]:
            latest[r["Crime ID"]] = (*key, r["Outcome type"])
    expected = {}
    for r in _csv_rows("street"):
        if r["Crime ID"]:
            expected[r["Crime ID"]] = latest.get(r["Crime ID"], (0, 0, r["Last outcome category"]))[
                2
            ]
    view = street_crimes(con)
    got = view.filter(view.crime_id.notnull()).select("crime_id", "last_outcome_category")
    got_map = {r["crime_id"]: r["last_outcome_category"] for r in got.to_pyarrow().to_pylist()}
    changed = sum(1 for r in _csv_rows("street") if r["Crime ID"] in latest)
    assert changed > 40_000  # the outcomes files do touch most 2024 crimes
    assert got_map == {k: (v or None) for k, v in expected.items()}


def test_a_newer_download_updates_outcomes_without_duplicating(tmp_path: Path) -> None:
    original = POLICEUK / "2024-03" / "2024-03-cambridgeshire-street.csv"
    with open(original, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    newer = [list(r) for r in rows]
    changed = 0
    for r in newer:
        if r[9] != "Anti-social behaviour" and r[10] == "Unable to prosecute suspect":
            r[10] = "Suspect charged"
            changed += 1
            if changed == 25:
                break
    newer.append(["f" * 64, *rows[0][1:]])
    folder = tmp_path / "newer" / "2024-03"
    folder.mkdir(parents=True)
    with open(folder / original.name, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *newer])
    con = connect(Settings(data_dir=tmp_path / "data"))
    ingest_police_uk(con, *find_sources([original]))
    report = ingest_police_uk(con, *find_sources([folder / original.name]))
    result = report.results[0]
    assert (result.rows_read, result.rows_loaded) == (len(rows) + 1, 1)
    assert result.rows_already_present == len(rows)
    assert result.rows_updated == 25
    t = con.table("policeuk_street")
    assert t.count().execute() == len(rows) + 1
    assert t.filter(t.crime_id.notnull()).crime_id.nunique().execute() == sum(
        1 for r in newer if r[0]
    )
    assert t.filter(t.last_outcome_category == "Suspect charged").count().execute() == 25


def test_status_json_lists_each_feed_and_month(tmp_path: Path) -> None:
    data = tmp_path / "d"
    assert run_cli("ingest", "police-uk", str(POLICEUK), data_dir=data).returncode == 0
    result = run_cli("status", "--json", data_dir=data)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    loads = {(e["feed"], e["month"]): (e["rows"], e["quarantined"]) for e in status["loads"]}
    street = Counter(r["Month"] for r in _csv_rows("street"))
    for month, n in street.items():
        assert loads[("police-uk-street", month)] == (n, 0)
    assert sum(1 for f, _ in loads if f == "police-uk-outcomes") == 12
    assert sum(1 for f, _ in loads if f == "police-uk-stop-and-search") == 12
    assert len(loads) == 42
    cov = {c["feed"]: c for c in status["coverage"]}
    assert cov["police-uk-street"]["missing_months"] == []
    assert cov["police-uk-street"]["share_without_location"] == pytest.approx(0.032, abs=0.001)


def test_outcome_loads_say_how_many_crimes_they_update(loaded: Any) -> None:
    _, first, _ = loaded
    street_ids = {r["Crime ID"] for r in _csv_rows("street") if r["Crime ID"]}
    expected = {}
    for r in _csv_rows("outcomes"):
        expected.setdefault(r["_file"], set())
        if r["Crime ID"] in street_ids:
            expected[r["_file"]].add(r["Crime ID"])
    got = {r.file_name: r.rows_updated for r in first.results if r.feed == "police-uk-outcomes"}
    assert got == {f: len(ids) for f, ids in expected.items()}
    assert got["2024-01-cambridgeshire-outcomes.csv"] > 3000
