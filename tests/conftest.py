"""Shared fixtures: an empty warehouse on each engine, the real data folder, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from svduty.config import Settings
from svduty.warehouse import connect

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SVDUTY_SHARED_DATA", ROOT.parent / "shared" / "data"))
TEST_DATA = Path(__file__).parent / "data"
MALFORMED = TEST_DATA / "policeuk-malformed"

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# Tests never touch the real key folder in the home directory.
os.environ["SVDUTY_KEY_DIR"] = tempfile.mkdtemp(prefix="svduty-test-keys-")


def needs_shared() -> pytest.MarkDecorator:
    """Skip, saying why, when ../shared/data is absent (CI always has it)."""
    return pytest.mark.skipif(
        not (SHARED / "policeuk").is_dir(),
        reason=f"the public data folder {SHARED} is absent (it sits beside the repository in CI)",
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh, empty DuckDB warehouse."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def con(settings: Settings) -> Iterator[Any]:
    """An empty DuckDB warehouse."""
    c = connect(settings)
    yield c
    c.disconnect()


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine_con(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An empty warehouse on each engine in turn."""
    c = connect(Settings(data_dir=tmp_path / "data", engine=request.param))
    yield c
    if request.param == "duckdb":
        c.disconnect()


def run_cli(
    *args: str,
    data_dir: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``svduty`` command in a subprocess."""
    cmd = [sys.executable, "-m", "svduty"]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        cmd + list(args), capture_output=True, text=True, env=full_env, input=input, timeout=600
    )


# The session warehouses (they read SHARED, defined above).
from tests.warehouses import real_warehouse, synthetic_warehouse  # noqa: E402, F401
