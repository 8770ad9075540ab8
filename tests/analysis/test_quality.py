"""Data quality: every figure equals an independent pandas computation over the load records,
the quarantine and the feed tables, and a gappy, partly invalid delivery is reported as such."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from svduty.analysis.quality import THRESHOLDS, data_quality, rag
from svduty.analysis.scope import Scope
from svduty.config import Settings
from svduty.datasets.partners import FEEDS
from svduty.ingest.partners import ingest_feed
from svduty.ingest.sources import find_sources
from svduty.synth import generate
from svduty.warehouse import connect
from tests.warehouses import Warehouse


def _entry(result: dict, feed: str) -> dict[str, Any]:
    (entry,) = [f for f in result["feeds"] if f["feed"] == feed]
    return entry


def _loads(con: Any, feed: str) -> pd.DataFrame:
    loads = con.table("loads").to_pandas()
    loads = loads[(loads["feed"] == feed) & (loads["status"] == "loaded")]
    loads["month"] = pd.to_datetime(loads["month"]).dt.strftime("%Y-%m")
    return loads


def _days_late(loads: pd.DataFrame) -> pd.Series:
    first = loads.groupby("month")["loaded_at"].min()
    ends = pd.PeriodIndex(first.index, freq="M").end_time.normalize()
    loaded = pd.to_datetime(first.dt.date.astype(str))
    return pd.Series((loaded.to_numpy() - ends.to_numpy()).astype("timedelta64[D]").astype(int),
                     index=first.index)  # fmt: skip


def test_thresholds() -> None:
    assert [rag("completeness", v) for v in (0.95, 0.8, 0.79)] == ["green", "amber", "red"]
    assert [rag("validity", v) for v in (0.01, 0.05, 0.051)] == ["green", "amber", "red"]
    assert [rag("timeliness", v) for v in (31, 62, 63)] == ["green", "amber", "red"]
    assert [rag("coverage", v) for v in (1.0, 0.9, 0.89)] == ["green", "amber", "red"]
    assert rag("coverage", None) is None and set(THRESHOLDS) == {
        "completeness", "validity", "timeliness", "coverage"
    }  # fmt: skip


def test_synthetic_partnership_against_pandas(synthetic_warehouse: Warehouse) -> None:
    con = synthetic_warehouse.con
    result = data_quality(con)
    json.dumps(result, allow_nan=False)
    assert result["months"] == {"from": "2024-01", "to": "2025-12"}
    assert {(f["feed"], f["org"]) for f in result["feeds"]} == {
        (name, feed.org) for name, feed in FEEDS.items()
    }
    for name, feed in FEEDS.items():
        entry = _entry(result, name)
        table = con.table(feed.table).to_pandas()
        assert entry["rows"] == len(table)
        for role, c in entry["completeness"].items():
            if role == "lowest":
                continue
            values = table[c["column"]]
            ok = values.notna() & ~values.isin(["", "Unknown"])
            assert c["share"] == pytest.approx(ok.mean(), abs=1e-4), (name, role)
        loads = _loads(con, name)
        assert entry["validity"]["rows_read"] == loads["rows_read"].sum() == len(table)
        assert entry["validity"]["invalid_share"] == 0.0
        late = _days_late(loads)
        assert entry["timeliness"]["median_days"] == statistics.median(late)
        assert entry["timeliness"]["worst_days"] == late.max()
        expected = {"education": 22, "participants": 6}.get(name, 24)  # lists: referral months
        assert entry["coverage"]["expected_months"] == entry["coverage"]["months_loaded"]
        assert entry["coverage"]["expected_months"] == expected
        assert entry["coverage"]["missing_months"] == []
    ambulance = _entry(result, "ambulance")
    assert ambulance["completeness"]["age"]["share"] < 0.95  # age band often unrecorded
    assert ambulance["status"]["completeness"] == "amber"
    # a scope limits the months
    year = data_quality(con, Scope.from_options("2025-01", "2025-12"))
    assert year["months"] == {"from": "2025-01", "to": "2025-12"}
    fire = _entry(year, "fire")
    assert fire["coverage"]["expected_months"] == 12
    assert fire["rows"] == int(
        (pd.to_datetime(con.table("feed_fire").to_pandas()["month"]).dt.year == 2025).sum()
    )


def _rewrite(path: Path, change: Any) -> int:
    """Apply ``change`` to the rows of a CSV file; returns how many it changed."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, rows = list(reader.fieldnames or []), list(reader)
    n = sum(bool(change(i, r)) for i, r in enumerate(rows))
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return n


def test_a_gappy_partly_invalid_delivery(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    generate(out, seed=3, years=1, scale=0.05)
    crime = out / "feeds" / "police-crime"
    (crime / "police-crime-2024-05.csv").unlink()  # a month never sent

    def bad_sex(i: int, row: dict[str, str]) -> bool:
        if i < 4:
            row["Sex"] = "M"  # not one of the declared values
        return i < 4

    def no_lsoa(i: int, row: dict[str, str]) -> bool:
        if i < 7:
            row["LSOA"] = ""  # allowed, but the place is unknown
        return i < 7

    assert _rewrite(crime / "police-crime-2024-03.csv", bad_sex) == 4
    assert _rewrite(crime / "police-crime-2024-07.csv", no_lsoa) == 7
    (crime / "police-crime-2024-13x.csv").write_text("Crime Reference\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "key")
    con = connect(settings)
    ingest_feed(con, settings, "police-crime", *find_sources([crime]))
    ingest_feed(con, settings, "education", *find_sources([out / "feeds" / "education"]))

    result = data_quality(con)
    police = _entry(result, "police-crime")
    assert result["months"] == {"from": "2024-01", "to": "2024-12"}
    assert police["coverage"]["missing_months"] == ["2024-05"]
    assert police["coverage"]["share"] == round(11 / 12, 4)
    assert police["status"]["coverage"] == "amber"
    read = _loads(con, "police-crime")["rows_read"].sum()
    assert police["validity"]["rows_read"] == read
    assert police["validity"]["rows_quarantined"] == 4
    assert police["validity"]["invalid_share"] == round(4 / read, 4)
    assert police["validity"]["rules"] == [{"rule": "allowed-value", "column": "Sex", "rows": 4}]
    rows = con.table("feed_police_crime").to_pandas()
    assert police["rows"] == len(rows) == read - 4
    assert police["completeness"]["place"]["share"] == round(1 - 7 / len(rows), 4)
    assert police["status"]["overall"] == "red"  # loaded long after the months ended
    education = _entry(result, "education")
    assert education["coverage"]["expected_months"] == 11
    assert education["coverage"]["missing_months"] == []
    assert "August" in education["note"]
    (refused,) = result["refused_files"]
    assert refused["feed"] == "police-crime" and "police-crime-2024-13x.csv" in refused["file_name"]
    con.disconnect()
