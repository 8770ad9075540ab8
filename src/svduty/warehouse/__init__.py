"""The warehouse: an Ibis backend over DuckDB (default) or Spark, and atomic writes to it.

This package is the only place that knows which engine runs. Everything else builds Ibis
expressions on ``con.table(name)`` and hands writes to :func:`commit`.

Examples:
    >>> from svduty.config import Settings
    >>> import tempfile
    >>> con = connect(Settings(data_dir=tempfile.mkdtemp()))
    >>> con.table("policeuk_street").count().execute()
    0
"""

from __future__ import annotations

from typing import Any

from svduty.config import Settings
from svduty.warehouse.changes import Replace
from svduty.warehouse.tables import TABLES, TableDef

__all__ = ["TABLES", "Replace", "TableDef", "checkpoint", "commit", "connect", "engine_of"]


def connect(settings: Settings) -> Any:
    """Open the warehouse that ``settings`` describe and return its Ibis backend.

    DuckDB: the file ``<data_dir>/warehouse.duckdb``. Spark: a session on ``settings.spark_master``
    over Parquet tables in ``<data_dir>/spark`` (or ``settings.spark_warehouse``). Every declared
    table exists, empty if nothing was loaded.
    """
    if settings.engine == "spark":
        from svduty.warehouse.spark_store import open_spark

        return open_spark(settings)
    from svduty.warehouse.duckdb_store import open_duckdb

    return open_duckdb(settings.duckdb_path)


def engine_of(con: Any) -> str:
    """``"duckdb"`` or ``"spark"``."""
    return "spark" if hasattr(con, "_svduty_store") else "duckdb"


def commit(con: Any, changes: list[Replace]) -> None:
    """Apply ``changes`` to the warehouse atomically: all become visible, or none."""
    if engine_of(con) == "spark":
        con._svduty_store.commit(changes)
    else:
        from svduty.warehouse.duckdb_store import commit_duckdb

        commit_duckdb(con, changes)


def checkpoint(con: Any) -> None:
    """Make the committed loads compact on disk (DuckDB folds its log in; Spark needs nothing)."""
    if engine_of(con) == "duckdb":
        from svduty.warehouse.duckdb_store import checkpoint_duckdb

        checkpoint_duckdb(con)
