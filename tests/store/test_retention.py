"""Retention: months before the cut-off leave the warehouse, the linkage store and the uploads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from svduty.config import Settings
from svduty.ingest.partners import ingest_feed, linkage_dir, raw_dir
from svduty.ingest.sources import find_sources
from svduty.store import audit
from svduty.store.agreements import ensure_agreements, set_agreement
from svduty.store.db import Store
from svduty.store.models import Organisation, RetentionRecord, Upload
from svduty.store.retention import apply_retention, cutoff_month
from svduty.synth import generate

TODAY = dt.date(2026, 7, 15)  # 24 months back: July 2024 is kept, January-June 2024 go


def _months(con: Any, table: str) -> list[str]:
    t = con.table(table)
    return sorted({d.strftime("%Y-%m") for d in t.month.to_pyarrow().to_pylist()})


@pytest.fixture
def loaded(tmp_path: Path, settings: Settings, con: Any, store: Store) -> Store:
    generate(tmp_path / "synth", seed=5, years=1, scale=0.02)
    for feed in ("istv", "fire"):
        ingest_feed(con, settings, feed, *find_sources([tmp_path / "synth" / "feeds" / feed]))
    ensure_agreements(store)
    set_agreement(store, "istv", retention_months=24)
    set_agreement(store, "fire", retention_months=24)
    with store.session() as s:
        health = s.execute(select(Organisation).where(Organisation.short_name == "health"))
        org = health.scalar_one()
        s.add(Upload(org=org, feed="istv", filename="istv-2024-02.csv", months=["2024-02"]))
        s.add(Upload(org=org, feed="istv", filename="istv-2024-09.csv", months=["2024-09"]))
    return store


def test_cutoff_month() -> None:
    assert cutoff_month(TODAY, 24) == dt.date(2024, 7, 1)
    assert cutoff_month(dt.date(2026, 3, 1), 3) == dt.date(2025, 12, 1)


def test_dry_run_changes_nothing(settings: Settings, con: Any, loaded: Store) -> None:
    before = _months(con, "feed_istv")
    report = {
        e["feed"]: e for e in apply_retention(settings, loaded, con, today=TODAY, dry_run=True)
    }
    assert report["istv"]["rows_removed"] > 0 and report["istv"]["dry_run"]
    assert _months(con, "feed_istv") == before
    assert audit.search(loaded, action="retention") == []


def test_apply_removes_old_months_and_records_it(
    settings: Settings, con: Any, loaded: Store
) -> None:
    n_before = con.table("feed_istv").count().execute()
    report = {e["feed"]: e for e in apply_retention(settings, loaded, con, today=TODAY)}
    istv = report["istv"]
    assert istv["before_month"] == "2024-07" and istv["rows_removed"] > 0
    assert con.table("feed_istv").count().execute() == n_before - istv["rows_removed"]
    assert _months(con, "feed_istv")[0] == "2024-07"
    assert _months(con, "feed_fire")[0] == "2024-07"
    loads = con.table("loads")
    assert _months(con, "loads")[0] == "2024-07"
    assert loads.filter(loads.feed == "istv").count().execute() == 6
    sealed = sorted(p.name for p in (linkage_dir(settings) / "istv").rglob("*.arrow.sealed"))
    assert sealed[0] == "2024-07.arrow.sealed" and len(sealed) == 6
    assert len(list((raw_dir(settings) / "istv").glob("*.sealed"))) == 6
    # istv's linkage partitions and raw files for January to June
    assert istv["files_removed"] == 12 and istv["uploads_removed"] == 1
    with loaded.sessions() as s:
        uploads = {u.filename: u.removed_at for u in s.execute(select(Upload)).scalars()}
        records = {r.feed: r for r in s.execute(select(RetentionRecord)).scalars()}
    assert uploads["istv-2024-02.csv"] is not None and uploads["istv-2024-09.csv"] is None
    assert records["istv"].rows_removed == istv["rows_removed"]
    assert records["istv"].before_month == "2024-07"
    event = audit.search(loaded, action="retention")[0]
    assert event["detail"]["feeds"]["istv"]["rows_removed"] == istv["rows_removed"]
    assert audit.verify(loaded)[1] == []
    # a second run finds nothing more to remove
    again = {e["feed"]: e for e in apply_retention(settings, loaded, con, today=TODAY)}
    assert again["istv"]["rows_removed"] == 0 and again["istv"]["files_removed"] == 0
