"""The embedded engine: one DuckDB file, written in transactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis

from svduty.errors import WarehouseError
from svduty.warehouse.changes import Replace
from svduty.warehouse.faults import fault_point
from svduty.warehouse.sqlnames import quote
from svduty.warehouse.tables import TABLES


def open_duckdb(path: Path) -> Any:
    """Open (creating if need be) the DuckDB warehouse and its declared tables."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = ibis.duckdb.connect(str(path))
    except Exception as e:  # duckdb raises its own IOException when another process holds the file
        raise WarehouseError(
            f"cannot open the warehouse {path}: {e}. Is another svduty command using it?"
        ) from e
    # Checkpoint (rewrite the file from the log) at 128 MB of log rather than DuckDB's 16 MB: a
    # load commits once per file, and checkpointing after every few files costs more than the load.
    con.raw_sql("SET checkpoint_threshold = '128MB'")
    existing = set(con.list_tables())
    for t in TABLES.values():
        if t.name not in existing:
            con.create_table(t.name, schema=t.schema)
        else:
            have = set(con.table(t.name).schema().names)
            for col, dtype in t.schema.items():
                if col not in have:
                    sqltype = dtype_sql(dtype)
                    con.raw_sql(f"ALTER TABLE {quote(t.name)} ADD COLUMN {quote(col)} {sqltype}")
    return con


def dtype_sql(dtype: Any) -> str:
    """DuckDB's name for an Ibis type."""
    from ibis.backends.sql.datatypes import DuckDBType

    return DuckDBType.to_string(dtype)


def commit_duckdb(con: Any, changes: list[Replace]) -> None:
    """Apply every change in one transaction: all of them become visible, or none."""
    raw = con.con
    raw.execute("BEGIN TRANSACTION")
    try:
        for i, change in enumerate(changes):
            tdef = TABLES[change.table]
            if sorted(change.key) != sorted(tdef.partition_by):
                raise WarehouseError(
                    f"a change to {change.table} must name its partition {tdef.partition_by}"
                )
            where = " AND ".join(f"{quote(k)} = ?" for k in change.key) or "TRUE"
            raw.execute(
                f"DELETE FROM {quote(change.table)} WHERE {where}", list(change.key.values())
            )
            if change.data.num_rows:
                data = change.data.select(tdef.schema.names).cast(tdef.schema.to_pyarrow())
                view = f"_svduty_stage_{i}"
                raw.register(view, data)
                try:
                    raw.execute(f"INSERT INTO {quote(change.table)} SELECT * FROM {view}")
                finally:
                    raw.unregister(view)
        fault_point("before-commit")
        raw.execute("COMMIT")
    except BaseException:
        raw.execute("ROLLBACK")
        raise


def checkpoint_duckdb(con: Any) -> None:
    """Fold the write-ahead log into the database file."""
    con.con.execute("CHECKPOINT")
