"""The distributed engine: Parquet tables under the data folder, read by Spark.

Each table is a folder; each partition (see :mod:`svduty.warehouse.tables`) a sub-folder of
Parquet files. Spark has no transactions over plain Parquet, so a commit is made atomic by a redo
journal: every new partition is first written to a staging folder, then a journal listing the
folder renames is written (atomically, by rename), then the renames are done and the journal is
removed. A process killed before the journal exists leaves only staging files, which are removed
at the next start; one killed after it is rolled forward at the next start. Readers never see half
a load.

``pyspark`` is imported here only, and only when the Spark engine is asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote as urlquote

import pyarrow.parquet as pq

from svduty.config import Settings
from svduty.warehouse.changes import Replace
from svduty.warehouse.faults import fault_point
from svduty.warehouse.tables import TABLES

_SESSION: Any = None


def spark_session(settings: Settings) -> Any:
    """The process's Spark session (created on first use; Spark allows one per process)."""
    global _SESSION
    if _SESSION is not None:
        return _SESSION
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)  # type: ignore[attr-defined]
    local_dir = settings.spark_dir / "_spark-local"
    local_dir.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.master(settings.spark_master)
        .appName("svduty")
        .config("spark.sql.warehouse.dir", str((settings.spark_dir / "_spark-warehouse").resolve()))
        .config("spark.local.dir", str(local_dir.resolve()))
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.parquet.datetimeRebaseModeInRead", "CORRECTED")
    )
    _SESSION = builder.getOrCreate()
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


class SparkStore:
    """Parquet folders plus a journal; registers each table as a temporary view."""

    def __init__(self, root: Path, session: Any) -> None:
        self.root = root
        self.tables_dir = root / "tables"
        self.staging = root / "_staging"
        self.trash = root / "_trash"
        self.journal = root / "_journal.json"
        self.session = session
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        self.recover()

    # -- durability ---------------------------------------------------------------------------
    def recover(self) -> None:
        """Roll forward a committed journal; throw away uncommitted staging."""
        if self.journal.exists():
            moves = json.loads(self.journal.read_text())["moves"]
            self._apply(moves)
            self.journal.unlink()
        shutil.rmtree(self.staging, ignore_errors=True)
        shutil.rmtree(self.trash, ignore_errors=True)

    def _apply(self, moves: list[dict[str, str]]) -> None:
        for i, move in enumerate(moves):
            src, dst = Path(move["staged"]), Path(move["final"])
            if not src.exists():
                continue  # done before a crash
            if dst.exists():
                old = self.trash / move["txid"] / str(i)
                old.parent.mkdir(parents=True, exist_ok=True)
                os.replace(dst, old)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            if i == 0:
                fault_point("spark-mid-commit")

    def partition_dir(self, table: str, key: dict[str, Any]) -> Path:
        """The folder holding one partition of a table."""
        tdef = TABLES[table]
        parts = [f"{k}={urlquote(str(key[k]), safe='')}" for k in tdef.partition_by]
        return self.tables_dir.joinpath(table, *(parts or ["all"]))

    def commit(self, changes: list[Replace]) -> None:
        """Apply the changes atomically (see the module's notes)."""
        txid = uuid.uuid4().hex
        moves = []
        for i, change in enumerate(changes):
            tdef = TABLES[change.table]
            staged = self.staging / txid / str(i)
            staged.mkdir(parents=True)
            data = change.data.select(tdef.schema.names).cast(tdef.schema.to_pyarrow())
            pq.write_table(data, staged / "part-0.parquet")
            moves.append(
                {
                    "txid": txid,
                    "staged": str(staged),
                    "final": str(self.partition_dir(change.table, change.key)),
                }
            )
        fault_point("before-commit")
        tmp = self.root / f"_journal.{txid}.tmp"
        with open(tmp, "w") as f:
            json.dump({"moves": moves}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.journal)
        self._apply(moves)
        self.journal.unlink()
        shutil.rmtree(self.staging / txid, ignore_errors=True)
        shutil.rmtree(self.trash / txid, ignore_errors=True)
        for name in {c.table for c in changes}:
            self.register(name)

    # -- reading -------------------------------------------------------------------------------
    def register(self, name: str) -> None:
        """(Re)register a table's folder as a temporary view, seeing its current files."""
        from ibis.backends.pyspark.datatypes import PySparkSchema

        folder = self.tables_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        schema = PySparkSchema.from_ibis(TABLES[name].schema)
        df = (
            self.session.read.schema(schema)
            .option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.parquet")
            .parquet(str(folder.resolve()))
        )
        df.createOrReplaceTempView(name)


def open_spark(settings: Settings) -> Any:
    """An Ibis PySpark backend over the Parquet tables in the data folder."""
    import ibis

    base = spark_session(settings)
    session = base.newSession()  # its own temporary views: one per warehouse
    store = SparkStore(settings.spark_dir, session)
    for name in TABLES:
        store.register(name)
    con = ibis.pyspark.connect(session)
    con._svduty_store = store  # type: ignore[attr-defined]
    return con
