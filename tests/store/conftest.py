"""The ``store`` fixture: a fresh operational store on SQLite and on PostgreSQL in turn.

PostgreSQL is the throwaway server ``scripts/postgres.sh`` starts (``make test`` and ``.ci/run``
run it and export ``SVDUTY_TEST_DATABASE_URL``). Each test gets a database of its own, dropped
afterwards. Without a server the postgres tests skip, saying why, except under ``CI=true``,
where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from svduty.store import users
from svduty.store.db import Store

PG_ENV = "SVDUTY_TEST_DATABASE_URL"


def _pg_admin_url() -> str:
    url = os.environ.get(PG_ENV, "")
    if not url:
        reason = f'{PG_ENV} is not set: run `eval "$(scripts/postgres.sh)"` (make test does)'
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(_pg_admin_url())
    name = f"svduty_t_{uuid.uuid4().hex[:16]}"
    conninfo = {
        "host": base.host or "127.0.0.1",
        "port": base.port or 5432,
        "user": base.username or "postgres",
        "dbname": "postgres",
    }
    if base.password:
        conninfo["password"] = base.password
    try:
        admin = psycopg.connect(**conninfo, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(f"the PostgreSQL server at {base.host}:{base.port} is not answering ({e})")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each database in turn."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'svduty.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    s = Store(url)
    s.upgrade()
    try:
        yield s
    finally:
        s.dispose()


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with small costs, so the sign-in tests do not wait on 64 MiB hashes."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users, "_hasher", cheap)
    monkeypatch.setattr(users, "_DUMMY_HASH", cheap.hash("dummy password"))
