"""Opening the operational store: SQLite in the data folder, or PostgreSQL.

``SVDUTY_DATABASE_URL`` (or ``Settings.database_url``) names a PostgreSQL database such as
``postgresql+psycopg://svduty@db.example/svduty``; without it the store is
``<data folder>/svduty.sqlite``. Opening applies the Alembic migrations that are due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from svduty.config import Settings

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(settings: Settings) -> str:
    """The store's SQLAlchemy URL for these settings."""
    if settings.database_url:
        url = settings.database_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{settings.data_dir.resolve() / 'svduty.sqlite'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL: safe from corruption, fsync at checkpoints
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # A writing transaction (Store.session) takes the write lock at BEGIN, so that two writers
    # never both read the audit head; a reading one (Store.sessions) does not, and WAL lets it
    # read while another connection writes.
    writes = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


WRITE_OPTION = "svduty_writes"


class Store:
    """The operational store: an engine and two session factories.

    ``session()`` is for changes (one transaction, committed at the end); ``sessions()`` for
    reads. On SQLite a process's writers queue on a lock of their own before BEGIN IMMEDIATE,
    rather than on SQLite's busy handler, which sleeps in steps of milliseconds.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = url.split(":", 1)[0].split("+", 1)[0]
        kwargs: dict[str, Any] = {"future": True}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "connect", _disable_pysqlite_begin)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(
            self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        self._write_lock = threading.RLock() if self.dialect == "sqlite" else nullcontext()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one writing transaction: committed on success, rolled back on error."""
        with self._write_lock, self._writes() as s, s.begin():
            yield s

    def upgrade(self) -> None:
        """Apply the migrations that are due."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _disable_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own implicit BEGIN would defeat BEGIN IMMEDIATE (SQLAlchemy's documented recipe).
    dbapi_connection.isolation_level = None


def open_store(settings: Settings, *, upgrade: bool = True) -> Store:
    """Open (and by default migrate) the store these settings name."""
    url = database_url(settings)
    if url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(url)
    if upgrade:
        store.upgrade()
    return store
