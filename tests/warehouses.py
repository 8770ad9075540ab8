"""Warehouses shared by the analysis and report tests, built once per test session: the synthetic
partnership (two years, its planted effects known) and the real police.uk months with the real
reference data (skipped, saying why, without ../shared)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from svduty.config import Settings
from svduty.demo import run_demo
from svduty.ingest.police_uk import ingest_police_uk
from svduty.ingest.sources import find_sources
from svduty.reference import load_reference
from svduty.warehouse import connect
from tests.conftest import SHARED

SYNTH_SEED = 11
SYNTH_SCALE = 0.5


@dataclass
class Warehouse:
    """A loaded warehouse: its connection, settings and, for the synthetic one, what was
    planted (``demo.json``'s ``planted``)."""

    con: Any
    settings: Settings
    planted: dict[str, Any]


@pytest.fixture(scope="session")
def synthetic_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The synthetic partnership, 2024-01 to 2025-12, every feed loaded (DuckDB)."""
    root = tmp_path_factory.mktemp("synthetic-warehouse")
    settings = Settings(data_dir=root / "data", key_file=root / "key")
    con = connect(settings)
    record = run_demo(con, settings, seed=SYNTH_SEED, years=2, scale=SYNTH_SCALE)
    yield Warehouse(con, settings, record["planted"])
    con.disconnect()


def load_real(settings: Settings) -> Any:
    """A warehouse with the real reference data and the 18 police.uk months, read in place."""
    con = connect(settings)
    load_reference(con, SHARED)
    ingest_police_uk(con, *find_sources([SHARED / "policeuk"]))
    return con


@pytest.fixture(scope="session")
def real_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The real public data of ../shared/data on DuckDB."""
    if not (SHARED / "policeuk").is_dir():
        pytest.skip(f"the public data folder {SHARED} is absent (it sits beside the repository)")
    root: Path = tmp_path_factory.mktemp("real-warehouse")
    settings = Settings(data_dir=root / "data")
    con = load_real(settings)
    yield Warehouse(con, settings, {})
    con.disconnect()
