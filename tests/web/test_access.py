"""Every route of the app, walked by every principal: the anonymous public, one user per role
(through the real sign-in page) and a bearer token.

The expected access of each route is declared in :data:`ACCESS`; a route of the app that is not
declared there fails the walk, so a new endpoint cannot escape it. For every request the walk
checks the status, the API's one error shape (and the sign-in redirect of pages), that every
refusal was audited, and that no record-level row of a health feed (``istv``, ``ambulance``)
reaches anyone the feed's data-sharing agreement does not name. The public endpoints are
checked for counts from 1 to 4.

Each test runs on SQLite and on the PostgreSQL server that .ci/run starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from starlette.routing import Mount, Route

from svduty.reports.public import is_count
from svduty.store.agreements import DEFAULT_AGREEMENTS, can_see_aggregates, can_see_records
from svduty.store.models import AuditEvent, Organisation, Upload
from svduty.web.data_routes import RECORD_TABLES
from svduty.web.security import STAFF
from tests.web.conftest import PEOPLE, Platform
from tests.web.test_commissioning_pages import fill_commissioning

MONTH = "2024-03"
PURPOSE = "walking every endpoint"
#: The feeds whose record-level rows are health data (see store/agreements.py).
HEALTH_FEEDS = ("istv", "ambulance")
UPLOADERS = ("partner_data_officer", "admin")
AUDITORS = ("dpo", "admin")
COMMISSIONING = ("commissioner", "analyst", "dpo", "admin")
COMMISSIONERS = ("commissioner", "admin")


@dataclass(frozen=True)
class Who:
    """A principal of the walk."""

    key: str  # "anonymous", a user's name, or "token:<name>"
    name: str  # the audit trail's actor
    role: str  # "public" for the anonymous
    org: str | None
    auth: str  # anonymous | session | token

    @property
    def public(self) -> bool:
        return self.auth == "anonymous"


def principals() -> list[Who]:
    people = [Who(n, n, role, org, "session") for n, role, org in PEOPLE]
    token = next(w for w in people if w.name == "health-analyst")
    return [
        Who("anonymous", "anonymous", "public", None, "anonymous"),
        *people,
        Who("token:health-analyst", token.name, token.role, token.org, "token"),
    ]


@dataclass(frozen=True)
class Call:
    """One request of the walk: the route it exercises and what it should get."""

    method: str
    path: str
    params: dict[str, str]
    expect: int
    page: bool  # a page (HTML) rather than the API
    route: tuple[str, str]


# --- the expected access of every route ---------------------------------------------------
# Each rule takes the principal and the filled-in path parameters and gives the status.

Rule = Callable[[Who, dict[str, str]], int]


def everyone(_: Who, __: dict[str, str]) -> int:
    return 200


def roles(*allowed: str) -> Rule:
    def rule(who: Who, _: dict[str, str]) -> int:
        if who.public:
            return 401
        return 200 if who.role in allowed else 403

    return rule


def own_upload(who: Who, values: dict[str, str]) -> int:
    """An upload: its organisation's partner data officer or an administrator; 404 for another
    organisation's partner data officer (as if it did not exist)."""
    status = roles(*UPLOADERS)(who, values)
    if status != 200 or who.role == "admin":
        return status
    return 200 if values["upload_org"] == who.org else 404


def feed_records(who: Who, values: dict[str, str]) -> int:
    if who.public:
        return 401
    return 200 if can_see_records(values["feed"], who.role, who.org) else 403


def feed_counts(who: Who, values: dict[str, str]) -> int:
    if who.public:
        return 401
    return 200 if can_see_aggregates(values["feed"], who.role, who.org) else 403


def login_page(who: Who, _: dict[str, str]) -> int:
    """The sign-in page; someone signed in is sent on."""
    return 200 if who.public else 303


def state_changing(allowed: tuple[str, ...] | None) -> Rule:
    """A POST sent without a CSRF token (or form): refused. Roles are checked first where the
    route has them; a bearer token needs no CSRF token, so gets to the form's validation."""

    def rule(who: Who, _: dict[str, str]) -> int:
        if allowed is not None:
            if who.public:
                return 401
            if who.role not in allowed:
                return 403
        if who.auth == "token":
            return 422 if allowed is not None else 400
        return 403

    return rule


def sso_off(_: Who, __: dict[str, str]) -> int:
    """Single sign-on, not set up in the tests: "not found" for everyone (not a refusal)."""
    return 404


def logout(who: Who, _: dict[str, str]) -> int:
    return 303 if who.auth == "token" else 403


STAFF_ONLY = roles(*STAFF)

#: (method, path) -> (rule, whether it is a page). Every route of the app must be here.
ACCESS: dict[tuple[str, str], tuple[Rule, bool]] = {
    # the service and the account
    ("GET", "/api/health"): (everyone, False),
    ("GET", "/api/me"): (STAFF_ONLY, False),
    ("GET", "/login"): (login_page, True),
    ("POST", "/login"): (state_changing(None), True),
    ("POST", "/logout"): (logout, True),
    ("GET", "/login/oidc"): (sso_off, True),
    ("GET", "/login/oidc/callback"): (sso_off, True),
    ("GET", "/accessibility"): (everyone, True),
    ("GET", "/openapi.json"): (everyone, False),
    ("GET", "/api/docs"): (everyone, True),
    ("GET", "/api/docs/oauth2-redirect"): (everyone, True),
    ("GET", "/static"): (everyone, True),
    # uploads
    ("GET", "/uploads"): (roles(*UPLOADERS), True),
    ("POST", "/uploads"): (state_changing(UPLOADERS), True),
    ("GET", "/uploads/{upload_id}"): (own_upload, True),
    ("GET", "/api/uploads"): (roles(*UPLOADERS), False),
    ("POST", "/api/uploads"): (state_changing(UPLOADERS), False),
    ("GET", "/api/uploads/{upload_id}"): (own_upload, False),
    # feeds, records and the audit trail
    ("GET", "/api/feeds"): (STAFF_ONLY, False),
    ("GET", "/api/feeds/{feed}/counts"): (feed_counts, False),
    ("GET", "/api/records/{feed}"): (feed_records, False),
    ("GET", "/api/audit"): (roles(*AUDITORS), False),
    ("GET", "/api/audit/verify"): (roles(*AUDITORS), False),
    ("GET", "/audit"): (roles(*AUDITORS), True),
    ("GET", "/admin"): (roles(*AUDITORS), True),
    # the dashboard and the public figures
    ("GET", "/"): (everyone, True),
    ("GET", "/api/public/figures"): (everyone, False),
    ("GET", "/dashboard"): (STAFF_ONLY, True),
    ("GET", "/dashboard/panels"): (STAFF_ONLY, True),
    ("GET", "/dashboard/area/{code}"): (STAFF_ONLY, True),
    ("GET", "/api/dashboard/options"): (STAFF_ONLY, False),
    ("GET", "/api/dashboard/trend"): (STAFF_ONLY, False),
    ("GET", "/api/dashboard/map"): (STAFF_ONLY, False),
    ("GET", "/api/dashboard/area/{code}"): (STAFF_ONLY, False),
    ("GET", "/api/dashboard/measures"): (STAFF_ONLY, False),
    ("GET", "/api/dashboard/quality"): (STAFF_ONLY, False),
    ("GET", "/api/dashboard/cohorts"): (STAFF_ONLY, False),
    # commissioning: the register, funding rounds and monitoring
    ("GET", "/commissioning"): (roles(*COMMISSIONING), True),
    ("GET", "/commissioning/interventions/{ref}"): (roles(*COMMISSIONING), True),
    ("POST", "/commissioning/interventions/{ref}"): (state_changing(COMMISSIONERS), True),
    ("GET", "/commissioning/rounds/{name:path}"): (roles(*COMMISSIONING), True),
    ("POST", "/commissioning/rounds/{name:path}/override"): (
        state_changing(COMMISSIONERS),
        True,
    ),
    ("GET", "/commissioning/monitoring"): (roles(*COMMISSIONING), True),
    ("GET", "/commissioning/monitoring/report"): (roles(*COMMISSIONING), True),
    ("GET", "/api/commissioning/interventions"): (roles(*COMMISSIONING), False),
    ("GET", "/api/commissioning/rounds/{name:path}"): (roles(*COMMISSIONING), False),
}


def flat_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every route with its full path, through included routers (FastAPI keeps them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from flat_routes(inner.routes, prefix + getattr(context, "prefix", ""))
        else:
            yield prefix + getattr(route, "path", ""), route


def app_routes(p: Platform) -> set[tuple[str, str]]:
    """Every (method, path) the app answers (HEAD aside), the static mount as one."""
    found: set[tuple[str, str]] = set()
    for path, route in flat_routes(p.app.routes):
        if isinstance(route, Mount):
            found.add(("GET", path))
        elif isinstance(route, APIRoute | Route):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method, path))
        else:  # a new kind of route must be classified here first
            found.add(("?", repr(route)[:80]))
    return found


# --- the values for path parameters ---------------------------------------------------------


def add_uploads(p: Platform) -> dict[str, str]:
    """One upload row for police and one for health (the store only: the warehouse is shared)."""
    ids = {}
    with p.store.session() as s:
        for org in ("police", "health"):
            org_id = s.execute(
                select(Organisation.id).where(Organisation.short_name == org)
            ).scalar_one()
            u = Upload(org_id=org_id, feed="police-uk" if org == "police" else "istv",
                       filename=f"{org}-2024-03.csv", status="loaded", months=[MONTH],
                       result={"files": [], "refused": [], "quarantine": []})  # fmt: skip
            s.add(u)
            s.flush()
            ids[org] = str(u.id)
    return ids


def calls(
    p: Platform,
    who: Who,
    uploads: dict[str, str],
    codes: list[str],
    commissioning: tuple[str, str] = ("", ""),
) -> Iterator[Call]:
    """Every route with its path parameters filled in with real values (``commissioning``: a
    project's reference and a funding round's name)."""
    for (method, path), (rule, page) in ACCESS.items():
        fills: list[dict[str, str]] = [{}]
        if "{upload_id}" in path:
            fills = [{"upload_id": i, "upload_org": org} for org, i in uploads.items()]
        elif "{feed}" in path:
            fills = [{"feed": feed} for feed in RECORD_TABLES]
        elif "{code}" in path:
            fills = [{"code": code} for code in codes]
        elif "{ref}" in path:
            fills = [{"ref": commissioning[0]}]
        elif "{name:path}" in path:
            fills = [{"name": commissioning[1]}]
        for values in fills:
            url = path.replace("{name:path}", "{name}").format(**values)
            if path == "/static":
                url = "/static/vendor/govuk-frontend/govuk-frontend.min.css"
            params = {"month": MONTH, "purpose": PURPOSE} if "records" in path else {}
            expect = rule(who, values)
            if expect == 401 and page and method == "GET":
                expect = 303  # a page sends the public to sign in
            yield Call(method, url, params, expect, page, (method, path))


# --- what the walk checks -------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9_\-]{16,}")


def tokens(text: str) -> set[str]:
    """The long identifier-like words of a response (pseudonyms, record ids)."""
    return set(_TOKEN.findall(text))


def health_record_tokens(p: Platform) -> dict[str, set[str]]:
    """For each health feed, the identifier-like values of its record-level rows (sealed keys,
    record ids): none may reach a principal the agreement does not name."""

    def read(con: Any) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for feed in HEALTH_FEEDS:
            table = RECORD_TABLES[feed][0]
            t = con.table(table)
            values: set[str] = set()
            for column, dtype in t.schema().items():
                if not dtype.is_string():
                    continue
                for v in t[column].to_pyarrow().to_pylist():
                    if isinstance(v, str) and _TOKEN.fullmatch(v) and re.search(r"\d", v):
                        values.add(v)
            found[feed] = values
        return found

    return p.app.state.warehouse.read(read)


def last_event(p: Platform) -> int:
    with p.store.sessions() as s:
        return int(s.execute(select(func.max(AuditEvent.id))).scalar() or 0)


def refusals_since(p: Platform, after: int) -> list[AuditEvent]:
    with p.store.sessions() as s:
        return list(
            s.execute(
                select(AuditEvent).where(AuditEvent.id > after, AuditEvent.outcome == "refused")
            ).scalars()
        )


def assert_error_shape(r: Response, status: int) -> None:
    body = r.json()
    assert set(body) == {"ok", "error", "errors", "status"}, body
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list)


def small_counts(value: Any, where: str = "") -> list[str]:
    """Every count-like field from 1 to 4 in a JSON value, by its place."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{where}.{k}"
            number = isinstance(v, int | float) and not isinstance(v, bool)
            if is_count(str(k)) and number and 1 <= v <= 4:
                found.append(f"{here}={v}")
            found.extend(small_counts(v, here))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(small_counts(v, f"{where}[{i}]"))
    return found


class _Tables(HTMLParser):
    """The cells of every table of a page, row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str) -> list[list[str]]:
    parser = _Tables()
    parser.feed(html)
    return [r for r in parser.rows if r]


def rule_of(call: Call) -> Rule:
    return ACCESS[call.route][0]


def client_for(p: Platform, who: Who, token: str) -> tuple[TestClient, dict[str, str]]:
    if who.auth == "anonymous":
        return p.anonymous(), {}
    if who.auth == "token":
        return p.anonymous(), {"Authorization": f"Bearer {token}"}
    return p.client(who.name), {}


# --- the tests --------------------------------------------------------------------------------


def test_every_route_is_classified(platform: Platform) -> None:
    routes = app_routes(platform)
    missing = sorted(routes - set(ACCESS))
    assert not missing, f"routes with no expected access in ACCESS (add them): {missing}"
    stale = sorted(set(ACCESS) - routes)
    assert not stale, f"ACCESS names routes the app no longer has: {stale}"
    # The API's documented paths are all walked too.
    documented = {
        (method.upper(), path.replace("/rounds/{name}", "/rounds/{name:path}"))
        for path, item in platform.app.openapi()["paths"].items()
        for method in item
    }  # OpenAPI writes a path parameter that may hold "/" (a round's name) without ":path"
    assert documented <= set(ACCESS), sorted(documented - set(ACCESS))


def test_every_principal_on_every_route(platform: Platform, tmp_path: Path) -> None:
    p = platform
    uploads = add_uploads(p)
    commissioning = fill_commissioning(p, tmp_path)
    token = p.token("health-analyst")
    options = p.client("admin").get("/api/dashboard/options").json()
    areas = [a["code"] for a in options["areas"] if a["code"] != "all"]
    lsoa = p.client("admin").get("/api/dashboard/map").json()["features"][0]["id"]
    codes = [areas[0], lsoa]
    secrets = health_record_tokens(p)
    assert all(secrets.values()), "the synthetic warehouse has no health record to protect"
    seen_health_rows = False
    failures: list[str] = []
    for who in principals():
        c, headers = client_for(p, who, token)
        for call in calls(p, who, uploads, codes, commissioning):
            before = last_event(p)
            r = c.request(call.method, call.path, params=call.params, headers=headers,
                          follow_redirects=False)  # fmt: skip
            label = f"{who.key} {call.method} {call.path}"
            if r.status_code != call.expect:
                failures.append(f"{label}: {r.status_code}, expected {call.expect}")
                continue
            status = r.status_code
            if status >= 400 and not call.page:
                assert_error_shape(r, status)
            if status == 401 and not call.page:
                assert r.headers.get("www-authenticate") == "Bearer", label
            if status == 401 and call.page and call.method == "GET":
                pytest.fail(f"{label}: a page answered 401 instead of sending to sign in")
            if who.public and call.page and call.method == "GET" and status == 303:
                location = r.headers["location"]
                assert location.startswith("/login?next="), (label, location)
            if status in (401, 403) or (status == 404 and rule_of(call) is not sso_off):
                refused = refusals_since(p, before)
                assert refused, f"{label}: {status} was not audited"
                assert any(e.actor == who.name for e in refused), (label, refused)
            # No record-level health row reaches a principal its agreement does not name.
            words = tokens(r.text)
            for feed, values in secrets.items():
                leaked = words & values
                if can_see_records(feed, who.role, who.org) and who.role != "public":
                    seen_health_rows |= bool(leaked) and call.path.startswith("/api/records/")
                    continue
                assert not leaked, f"{label}: {len(leaked)} values of {feed} records leaked"
    assert not failures, "\n".join(failures)
    # The check can see a leak: the health analyst's own rows carry the values looked for.
    assert seen_health_rows


def test_record_level_health_rows_follow_the_agreement(platform: Platform) -> None:
    """Only the organisations the agreement names see health rows, whatever the role."""
    p = platform
    params = {"month": MONTH, "purpose": PURPOSE}
    for feed in HEALTH_FEEDS:
        named = DEFAULT_AGREEMENTS[feed]["record_orgs"]
        assert named and "police" not in named and "council" not in named
        for name, role, org in PEOPLE:
            r = p.client(name).get(f"/api/records/{feed}", params=params)
            if can_see_records(feed, role, org):
                assert org in named and r.status_code == 200 and r.json()["count"] > 0
            else:
                assert r.status_code == 403, (feed, name)
                assert "rows" not in r.json()
        # Even the API's error for a bad month says nothing of the rows.
        bad = p.client("police-analyst").get(
            f"/api/records/{feed}", params={**params, "month": "x"}
        )
        assert bad.status_code == 422 and "rows" not in bad.json()


def test_unknown_bearer_token_is_refused_and_audited(platform: Platform) -> None:
    p = platform
    c = p.anonymous()
    for path in ("/api/me", "/api/records/istv", "/api/dashboard/trend", "/api/uploads"):
        before = last_event(p)
        r = c.get(path, headers={"Authorization": "Bearer forged"},
                  params={"month": MONTH, "purpose": PURPOSE})  # fmt: skip
        assert r.status_code == 401, path
        assert_error_shape(r, 401)
        assert [e.action for e in refusals_since(p, before)] == ["sign-in"], path
    # A page posted with one gets an error page (not a server error), audited once.
    before = last_event(p)
    r = c.post("/logout", headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401 and "Sign in" in r.text
    assert [e.action for e in refusals_since(p, before)] == ["sign-in"]


def test_public_endpoints_show_no_count_from_1_to_4(platform: Platform) -> None:
    p = platform
    c = p.anonymous()
    figures = c.get("/api/public/figures")
    assert figures.status_code == 200
    body = figures.json()
    assert body["areas"], "the public figures name no partnership area"
    assert not small_counts(body), small_counts(body)
    # The areas' counts are published or withheld, never small.
    for area in body["areas"]:
        assert area["count"] is None or area["count"] == 0 or area["count"] >= 5, area
    page = c.get("/")
    assert page.status_code == 200
    rows = table_rows(page.text)
    assert rows, "the public page has no table"
    numeric = 0
    for row in rows:
        if len(row) < 2 or row[1] in ("Incidents recorded",):
            continue
        cell = row[1]
        if cell.startswith("withheld"):
            continue
        value = int(cell.replace(",", ""))
        numeric += 1
        assert not 1 <= value <= 4, row
    assert numeric, "the public tables publish no count at all"
    # The LSOA level (small areas) is never published: no LSOA code on the public pages.
    lsoas = {x["id"] for x in p.client("admin").get("/api/dashboard/map").json()["features"]}
    assert not lsoas & tokens_of_codes(page.text + json.dumps(body))


def tokens_of_codes(text: str) -> set[str]:
    return set(re.findall(r"\b[EW]0\d{7}\b", text))
