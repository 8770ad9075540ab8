"""Fixtures for the web platform: an app over a real warehouse and a real store (SQLite, or the
PostgreSQL server that .ci/run starts), and clients signed in through the real sign-in page."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from svduty.config import Settings
from svduty.store import Store, open_store
from svduty.store import agreements as store_agreements
from svduty.store import users as store_users
from svduty.store.models import User
from svduty.warehouse import connect
from svduty.web.app import create_app

PASSWORD = "correct horse battery staple"  # noqa: S105
PG_ENV = "SVDUTY_TEST_DATABASE_URL"

#: One user per role (and a second organisation for some), as (name, role, org).
PEOPLE: list[tuple[str, str, str | None]] = [
    ("police-pdo", "partner_data_officer", "police"),
    ("health-pdo", "partner_data_officer", "health"),
    ("police-analyst", "analyst", "police"),
    ("health-analyst", "analyst", "health"),
    ("council-analyst", "analyst", "council"),
    ("commissioner", "commissioner", "council"),
    ("dpo", "dpo", "council"),
    ("admin", "admin", None),
]


@lru_cache(maxsize=1)
def password_hash() -> str:
    """The Argon2 hash of :data:`PASSWORD`."""
    return store_users.hash_password(PASSWORD)


def postgres_url() -> str | None:
    """The test PostgreSQL server's URL; fails in CI without one, else None (the test skips)."""
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI") == "true":
        pytest.fail(f"{PG_ENV} is not set: .ci/run must start PostgreSQL (scripts/postgres.sh)")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    admin = postgres_url()
    if not admin:
        pytest.skip(f"no PostgreSQL server ({PG_ENV} unset; scripts/postgres.sh starts one)")
    import psycopg

    name = f"svduty_web_{uuid.uuid4().hex[:12]}"
    plain = admin.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield re.sub(r"/[^/]*$", f"/{name}", admin)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class Platform:
    """An app with a user per role; ``client(name)`` signs in through the real page."""

    app: FastAPI
    store: Store
    settings: Settings
    clients: dict[str, TestClient] = field(default_factory=dict)

    def anonymous(self) -> TestClient:
        return TestClient(self.app)

    def client(self, name: str) -> TestClient:
        if name not in self.clients:
            c = TestClient(self.app)
            token = csrf_of(c.get("/login").text)
            r = c.post(
                "/login",
                data={"name": name, "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            assert r.status_code == 303, f"{name} could not sign in: {r.status_code}"
            self.clients[name] = c
        return self.clients[name]

    def csrf(self, name: str, page: str = "/uploads") -> str:
        """The signed-in user's CSRF token (read from a page they can open)."""
        return csrf_of(self.client(name).get(page).text)

    def token(self, name: str) -> str:
        user = store_users.get_user_by_name(self.store, name)
        assert user is not None
        return store_users.create_token(self.store, user.id, name="tests")

    def role_of(self, name: str) -> tuple[str, str | None]:
        for n, role, org in PEOPLE:
            if n == name:
                return role, org
        raise KeyError(name)


def build_platform(settings: Settings, con: Any) -> Platform:
    """Orgs, agreements and one user per role in the store ``settings`` names; an app over it."""
    store = open_store(settings)
    store_agreements.ensure_orgs(store)
    store_agreements.ensure_agreements(store)
    for name, role, org in PEOPLE:
        store_users.create_user(store, name, role, org, None, oidc_subject=f"test:{name}")
    # One real Argon2 hash, computed once a session (each takes about 0.4 s here).
    with store.session() as s:
        s.execute(update(User).values(password_hash=password_hash()))
    return Platform(create_app(settings, store=store, warehouse_con=con), store, settings)


@pytest.fixture
def platform(store_url: str, synthetic_warehouse: Any) -> Iterator[Platform]:
    """The platform over the session's synthetic (demo) warehouse, read only, on each store."""
    wh = synthetic_warehouse
    settings = Settings(
        data_dir=wh.settings.data_dir,
        key_dir=wh.settings.key_dir,
        key_file=wh.settings.key_file,
        database_url=store_url,
    )
    p = build_platform(settings, wh.con)
    yield p
    for c in p.clients.values():
        c.close()
    p.store.dispose()


@pytest.fixture
def empty_platform(store_url: str, tmp_path: Path) -> Iterator[Platform]:
    """The platform over a new, empty warehouse (for uploads), on each store."""
    settings = Settings(data_dir=tmp_path / "data", database_url=store_url)
    con = connect(settings)
    p = build_platform(settings, con)
    yield p
    for c in p.clients.values():
        c.close()
    p.store.dispose()
    con.disconnect()


def street_csv(month: str = "2024-01", rows: int = 5, bad: int = 0, value: str = "") -> bytes:
    """A small police.uk street file: ``rows`` valid crimes and ``bad`` rows that break a rule."""
    header = (
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
        "LSOA name,Crime type,Last outcome category,Context"
    )
    lines = [header]
    for i in range(rows):
        crime_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{month}-{i}").hex * 2
        lines.append(
            f"{crime_id},{month},Test Constabulary,Test Constabulary,-0.1,52.2,On or near "
            f"{value or 'High Street'},E01000001,Test 001A,Violence and sexual offences,"
            "Under investigation,"
        )
    for _ in range(bad):
        lines.append(f"{'z' * 64},{month}-99,X,X,,,,,,Burglary,,")
    return ("\n".join(lines) + "\n").encode()
