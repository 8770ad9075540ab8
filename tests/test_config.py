"""Settings come from the environment with the SVDUTY_ prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from svduty.config import Settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    s = Settings()
    assert (s.engine, s.data_dir, s.spark_master) == ("duckdb", Path("svduty-data"), "local[2]")
    monkeypatch.setenv("SVDUTY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SVDUTY_ENGINE", "spark")
    s = Settings()
    assert (s.data_dir, s.engine) == (tmp_path, "spark")
    assert s.spark_dir == tmp_path / "spark"
    assert s.duckdb_path == tmp_path / "warehouse.duckdb"


def test_unknown_engine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SVDUTY_ENGINE", "oracle")
    with pytest.raises(ValueError, match="duckdb"):
        Settings()


def test_every_setting_is_described() -> None:
    assert all(f.description for f in Settings.model_fields.values())


def test_import_does_not_load_pyspark() -> None:
    import subprocess
    import sys

    code = (
        "import sys, svduty.cli, svduty.warehouse, svduty.ingest.police_uk; "
        "print('pyspark' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
