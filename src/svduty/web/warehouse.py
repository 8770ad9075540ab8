"""The web platform's access to the analytical warehouse.

One DuckDB connection serves the process. It is not safe to share between threads, so every use
goes through :meth:`WarehouseAccess.read` or :meth:`WarehouseAccess.write`, which hold a lock;
readers that need speed cache what they compute, keyed by :meth:`WarehouseAccess.version`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from svduty.config import Settings

T = TypeVar("T")


class WarehouseAccess:
    """The warehouse for the web app, opened on first use (or given, for tests)."""

    def __init__(self, settings: Settings, con: Any | None = None) -> None:
        self.settings = settings
        self._con = con
        self._own = con is None
        self._lock = threading.RLock()
        self._version = 0

    def _connection(self) -> Any:
        if self._con is None:
            from svduty.warehouse import connect

            self._con = connect(self.settings)
        return self._con

    def read(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(con)`` under the lock and return its result."""
        with self._lock:
            return fn(self._connection())

    def write(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(con)``, which changes the warehouse, under the lock; bump the version."""
        with self._lock:
            try:
                return fn(self._connection())
            finally:
                self._version += 1

    def version(self) -> int:
        """A number that changes whenever this process changed the warehouse."""
        return self._version

    def close(self) -> None:
        """Close the connection if this object opened it."""
        with self._lock:
            if self._own and self._con is not None and hasattr(self._con, "disconnect"):
                self._con.disconnect()
            self._con = None
