"""Partner feeds: each contract's rules enforced, identifiers split off and sealed, nothing lost."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from svduty.config import Settings
from svduty.datasets.contract import Column
from svduty.datasets.partners import FEEDS
from svduty.ingest.partners import (
    PartnerAdapter,
    ingest_feed,
    linkage_dir,
    raw_dir,
    read_linkage_partition,
)
from svduty.ingest.sources import find_sources
from tests.conftest import run_cli

SAMPLES = {
    "crime_ref": "CR240001",
    "person_urn": "PU0001",
    "ho_code": "008/01",
    "offence": "Assault occasioning actual bodily harm",
    "postcode": "NM1 2AB",
    "pnc_id": "24/123456A",
    "nhs_number": "9434765919",
    "upn": "A123456789012",
    "site_code": "RGT01",
    "attendance_id": "ED0001",
    "case_id": "YJC0001",
    "child_id": "CH0001",
    "crn": "X123456",
    "case_ref": "PB0001",
    "record_id": "EX0001",
    "school_urn": "123456",
    "episode_id": "EP0001",
    "incident_no": "INC0001",
    "referral_id": "NMMEN24-0001",
    "participant_id": "MP0001",
    "project_ref": "NM-MEN-24",
    "sessions": "12",
    "forename": "Alexandra",
    "surname": "Quennell-Osgood",
    "location_description": "near the bus station",
    "assault_method_other": "",
    "period_start": "2024-01-01",
    "period_end": "2024-01-31",
    "missing_episodes": "2",
    "age_band": "15-17",
    "longitude": "-1.0",
    "latitude": "52.1",
}
DOB = "2008-03-15"
EVENT = "2024-01-20 21:30:00"


def sample(col: Column, i: int) -> str:
    """A valid value for a column (row ``i`` of a sample file)."""
    import datetime as dt

    if col.name in SAMPLES:
        value = SAMPLES[col.name]
        return re.sub(r"0001$", f"000{i + 1}", value) if value.endswith("0001") else value
    if col.name == "date_of_birth":
        d = dt.datetime.fromisoformat(DOB)
    elif col.type in ("date", "datetime"):
        d = dt.datetime.fromisoformat(EVENT)
    else:
        d = None
    if d is not None:
        if col.format:
            return d.strftime(col.format)
        return d.date().isoformat() if col.type == "date" else d.strftime("%Y-%m-%dT%H:%M:%S")
    if col.allowed:
        return "N" if col.type == "bool" else sorted(col.allowed)[0]
    if col.pattern and "E01" in col.pattern or col.name.endswith("lsoa") or col.name == "lsoa_code":
        return "E01900001"
    return "Text"


def write_feed(path: Path, feed: str, rows: list[dict[str, str]] | None = None, n: int = 3) -> Path:
    contract = FEEDS[feed].contract
    if rows is None:
        rows = [{c.header: sample(c, i) for c in contract.columns} for i in range(n)]
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=contract.header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _ingest(settings: Settings, con: Any, feed: str, path: Path) -> Any:
    return ingest_feed(con, settings, feed, *find_sources([path]))


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_valid_file_loads_without_identifiers(
    settings: Settings, con: Any, tmp_path: Path, feed: str
) -> None:
    path = write_feed(tmp_path / f"{feed}-2024-01.csv", feed)
    report = _ingest(settings, con, feed, path)
    assert [(r.status, r.rows_loaded, r.rows_quarantined) for r in report.results] == [
        ("loaded", 3, 0)
    ]
    spec = FEEDS[feed]
    table = con.table(spec.table)
    assert not set(spec.identifiers) & set(table.columns)
    assert spec.record_id not in table.columns
    rows = table.to_pyarrow().to_pylist()
    assert all(re.fullmatch(r"[0-9a-f]{32}", r["record_key"]) for r in rows)
    assert len({r["record_key"] for r in rows}) == 3
    if spec.dob:
        assert {r["age_at_event"] for r in rows} == {15}
        assert {r["age_band"] for r in rows} == {"15-17"}
    again = _ingest(settings, con, feed, path)
    assert again.results[0].status == "unchanged"
    assert table.count().execute() == 3


@pytest.mark.parametrize("feed", sorted(f for f in FEEDS if FEEDS[f].person_level))
def test_identifiers_are_sealed_in_the_linkage_store(
    settings: Settings, con: Any, tmp_path: Path, feed: str
) -> None:
    path = write_feed(tmp_path / f"{feed}-2024-01.csv", feed)
    _ingest(settings, con, feed, path)
    spec = FEEDS[feed]
    sealed = linkage_dir(settings) / feed / spec.org / "2024-01.arrow.sealed"
    assert b"Quennell" not in sealed.read_bytes()
    ident = read_linkage_partition(settings, sealed)
    assert set(spec.identifiers) <= set(ident.column_names)
    assert ident["surname"].to_pylist() == ["Quennell-Osgood"] * 3
    warehouse_keys = set(con.table(spec.table).record_key.execute())
    assert set(ident["record_key"].to_pylist()) == warehouse_keys
    raw = list((raw_dir(settings) / feed).iterdir())
    assert len(raw) == 1 and b"Quennell" not in raw[0].read_bytes()
    for f in settings.data_dir.rglob("*"):
        if f.is_file():
            assert b"Quennell" not in f.read_bytes(), f


def _breakers(col: Column) -> list[tuple[str, str]]:
    """(rule, bad value) for every rule a column declares."""
    out = []
    if col.required:
        out.append(("required", ""))
    out.append(("field-length", "X" * (col.max_length + 1)))
    if col.type in ("float", "int"):
        out.append(("type", "twelve"))
    if col.minimum is not None:
        out.append(("range", str(col.minimum - 1)))
    if col.type == "bool":
        out.append(("type", "maybe"))
    if col.type in ("date", "datetime", "timestamp"):
        out.append(("type", "31/02/2024 99:99" if col.format else "2024-02-31"))
    if col.pattern:
        out.append(("format", "?bad?"))
    if col.allowed and col.type != "bool":
        out.append(("allowed-value", "Not a listed value"))
    if col.text:
        out.append(("formula", '=HYPERLINK("http://example.invalid")'))
    if col.check:
        out.append((col.check[0], "9434765918"))
    return out


@pytest.mark.parametrize("feed", sorted(FEEDS))
def test_every_rule_of_every_contract_quarantines_and_loses_nothing(
    settings: Settings, con: Any, tmp_path: Path, feed: str
) -> None:
    contract = FEEDS[feed].contract
    good = [{c.header: sample(c, i) for c in contract.columns} for i in range(2)]
    bad_rows, expected = [], set()
    for col in contract.columns:
        for rule, value in _breakers(col):
            row = {c.header: sample(c, 5) for c in contract.columns}
            row[col.header] = value
            bad_rows.append(row)
            expected.add((len(good) + len(bad_rows) + 1, col.header, rule))
    month_row = {c.header: sample(c, 7) for c in contract.columns}
    event = contract.column(FEEDS[feed].event)
    month_row[event.header] = sample(event, 0).replace("2024", "2023")
    bad_rows.append(month_row)
    expected.add((len(good) + len(bad_rows) + 1, event.header, "month-mismatch"))
    path = write_feed(tmp_path / f"{feed}-2024-01.csv", feed, good + bad_rows)
    report = _ingest(settings, con, feed, path)
    result = report.results[0]
    assert result.rows_loaded == 2
    assert result.rows_read == 2 + len(bad_rows)
    assert result.rows_quarantined == len(bad_rows)
    q = con.table("quarantine").to_pyarrow().to_pylist()
    got = {(e["row"], e["column"], e["rule"]) for e in q}
    assert expected <= got, expected - got
    for e in q:
        assert "Quennell" not in e["message"]
        if FEEDS[feed].person_level:
            assert e["raw"].startswith("enc:v1:")
            opened = PartnerAdapter(FEEDS[feed], settings).vault.open_text(e["raw"])
            assert "Alexandra" in opened or "Quennell" in opened  # the record, kept whole


def test_a_file_of_another_feed_is_refused_with_its_name(
    settings: Settings, con: Any, tmp_path: Path
) -> None:
    path = write_feed(tmp_path / "istv-2024-01.csv", "education")
    report = _ingest(settings, con, "istv", path)
    assert report.results[0].status == "refused"
    assert "this is a education file" in report.results[0].message
    assert "[rule: wrong-feed]" in report.results[0].message


def test_renamed_identifier_columns_are_refused(
    settings: Settings, con: Any, tmp_path: Path
) -> None:
    path = write_feed(tmp_path / "youth-justice-2024-01.csv", "youth-justice")
    text = path.read_text().replace("Forename", "First Name").replace("Surname", "Family Name")
    path.write_text(text)
    report = _ingest(settings, con, "youth-justice", path)
    message = report.results[0].message
    assert "missing column(s) 'Forename', 'Surname'" in message
    assert "Quennell" not in message
    assert con.table("feed_youth_justice").count().execute() == 0


def test_key_inside_the_data_folder_is_refused(tmp_path: Path) -> None:
    from svduty.errors import ConfigError
    from svduty.privacy.keys import master_key

    s = Settings(data_dir=tmp_path / "d", key_file=tmp_path / "d" / "secret.key")
    with pytest.raises(ConfigError, match="inside the data folder"):
        master_key(s)


def test_partner_cli_loads_and_status_lists_the_feed(tmp_path: Path) -> None:
    path = write_feed(tmp_path / "social-care-2024-01.csv", "social-care")
    result = run_cli("ingest", "social-care", str(path), data_dir=tmp_path / "d")
    assert result.returncode == 0, result.stderr
    assert "Quennell" not in result.stdout + result.stderr
    status = run_cli("status", "--json", data_dir=tmp_path / "d")
    import json

    loads = json.loads(status.stdout)["loads"]
    assert {
        "feed": "social-care",
        "month": "2024-01",
        "rows": 3,
        "quarantined": 0,
        "forces": 1,
    } in loads
