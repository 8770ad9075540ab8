"""A load killed with SIGKILL part-way leaves no partial rows; the next run completes it."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from svduty.config import Settings
from svduty.warehouse import connect
from tests.conftest import MALFORMED, SHARED, needs_shared, run_cli

GOOD = MALFORMED / "formula-payload" / "2024-01-testforce-street.csv"
OTHER = MALFORMED / "zip-slip.zip"


def _counts(settings: Settings) -> tuple[int, int, int]:
    con = connect(settings)
    try:
        return (
            con.table("policeuk_street").count().execute(),
            con.table("quarantine").count().execute(),
            con.table("loads").count().execute(),
        )
    finally:
        if settings.engine == "duckdb":
            con.disconnect()


def _kill_then_resume(tmp_path: Path, engine: str, point: str) -> tuple[Settings, tuple, list]:
    settings = Settings(data_dir=tmp_path / "data", engine=engine)
    args = ["--engine", engine, "ingest", "police-uk", str(GOOD)]
    # a first, committed load of another partition that the killed run must not disturb
    warm = run_cli(
        "--engine", engine, "ingest", "police-uk", str(OTHER), data_dir=settings.data_dir
    )
    assert warm.returncode == 1  # zip-slip's unsafe members are refused, its good member loads
    before = _counts(settings)
    killed = run_cli(
        *args,
        data_dir=settings.data_dir,
        env={"SVDUTY_FAULT_POINT": point},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    return settings, before, args


def test_duckdb_load_killed_before_commit_leaves_nothing(tmp_path: Path) -> None:
    settings, before, args = _kill_then_resume(tmp_path, "duckdb", "before-commit")
    assert _counts(settings) == before
    resumed = run_cli(*args, data_dir=settings.data_dir)
    assert resumed.returncode == 0, resumed.stderr
    street, quarantine, loads = _counts(settings)
    assert street == 3  # same force-month: the file replaced the zip member's three rows
    assert quarantine == 2
    assert loads == before[2] + 1


@pytest.mark.spark
@pytest.mark.slow
def test_spark_load_killed_part_way_is_all_or_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", engine="spark")
    args = ["--engine", "spark", "ingest", "police-uk", str(GOOD)]
    # killed with the rows staged but no journal: the staging is thrown away at the next start
    killed = run_cli(*args, data_dir=settings.data_dir, env={"SVDUTY_FAULT_POINT": "before-commit"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert any((settings.spark_dir / "_staging").iterdir())
    assert _counts(settings) == (0, 0, 0)
    assert not (settings.spark_dir / "_staging").exists()
    # killed with the journal written and one folder moved: rolled forward, whole, at next start
    killed = run_cli(
        *args, data_dir=settings.data_dir, env={"SVDUTY_FAULT_POINT": "spark-mid-commit"}
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (settings.spark_dir / "_journal.json").exists()
    assert _counts(settings) == (3, 2, 1)
    assert not (settings.spark_dir / "_journal.json").exists()
    resumed = run_cli(*args, "--json", data_dir=settings.data_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert '"status": "unchanged"' in resumed.stdout
    assert _counts(settings) == (3, 2, 2)


@needs_shared()
def test_killed_during_the_third_file_keeps_the_first_two_and_resumes(tmp_path: Path) -> None:
    files = [str(p) for p in sorted((SHARED / "policeuk").glob("2024-0[1-3]/*-street.csv"))]
    settings = Settings(data_dir=tmp_path / "data")
    killed = run_cli(
        "ingest",
        "police-uk",
        *files,
        data_dir=settings.data_dir,
        env={"SVDUTY_FAULT_POINT": "before-commit", "SVDUTY_FAULT_SKIP": "2"},
    )
    assert killed.returncode == -signal.SIGKILL
    con = connect(settings)
    t = con.table("policeuk_street")
    months = t.group_by("month").aggregate(n=t.count()).to_pyarrow().to_pylist()
    assert sorted((m["month"].month, m["n"]) for m in months) == [(1, 6116), (2, 6499)]
    con.disconnect()
    resumed = run_cli("ingest", "police-uk", "--json", *files, data_dir=settings.data_dir)
    assert resumed.returncode == 0
    statuses = [r["status"] for r in json.loads(resumed.stdout)["results"]]
    assert statuses == ["unchanged", "unchanged", "loaded"]
    assert _counts(settings)[0] == 6116 + 6499 + 6993
