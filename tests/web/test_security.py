"""Attacks on the web platform, each refused (or harmless) and audited: SQL injection in every
filter, script in uploaded file names and values, cross-site request forgery, path traversal in
uploads, guessing another organisation's upload ids, oversized and empty files, the session
cookie's flags and open redirects after sign-in.

Each test runs on SQLite and on the PostgreSQL server that .ci/run starts.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from markupsafe import escape
from sqlalchemy import func, select

from svduty.store import audit as store_audit
from svduty.store.models import Agreement, AuditEvent, Organisation, Upload, User
from svduty.web import upload_routes
from tests.web.conftest import PASSWORD, Platform, csrf_of, street_csv
from tests.web.test_access import flat_routes

INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE users--",
    "E01000001' UNION SELECT name, password_hash FROM users--",
    '" OR ""="',
    "1) OR (1=1",
    "%' OR 1=1 --",
    "all' --",
]
#: A value of the right kind that matches nothing: an injection must do no more than it.
NOT_MATCHING = "zz-nothing"
XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']
MONTH = "2024-03"
#: Which signed-in user may use each route (so the filters are reached, not refused before).
USER_FOR = {"records": "health-analyst", "audit": "dpo", "admin": "dpo", "uploads": "admin"}
#: Pages that read the dashboard's filters straight from the query string.
PAGE_FILTERS = {"/dashboard": ["from", "to", "area", "kind"],
                "/dashboard/area/{code}": ["from", "to", "area", "kind"]}  # fmt: skip


def _events(p: Platform, **filters: Any) -> list[dict[str, Any]]:
    return store_audit.search(p.store, limit=1000, **filters)


def _last(p: Platform) -> int:
    with p.store.sessions() as s:
        return int(s.execute(select(func.max(AuditEvent.id))).scalar() or 0)


def _since(p: Platform, after: int, **where: str) -> list[AuditEvent]:
    q = select(AuditEvent).where(AuditEvent.id > after)
    for k, v in where.items():
        q = q.where(getattr(AuditEvent, k) == v)
    with p.store.sessions() as s:
        return list(s.execute(q).scalars())


def _upload(c: TestClient, p: Platform, who: str, name: str, data: bytes, feed: str = "police-uk",
            api: bool = True) -> Response:  # fmt: skip
    token = p.csrf(who)
    files = {"file": (name, data, "text/csv")}
    if api:
        return c.post("/api/uploads", data={"feed": feed}, files=files,
                      headers={"X-CSRF-Token": token})  # fmt: skip
    return c.post("/uploads", data={"feed": feed, "csrf_token": token}, files=files)


def _assert_no_raw(text: str, where: str) -> None:
    for raw in XSS:
        assert raw not in text, f"{where} shows {raw!r} unescaped"


# --- SQL injection ----------------------------------------------------------------------------


def _filter_slots(p: Platform) -> list[tuple[str, str, str]]:
    """(path, query parameter, user) for every query filter of every GET route."""
    slots = []
    for path, route in flat_routes(p.app.routes):
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        names = _query_names(route.dependant)
        names += [n for n in PAGE_FILTERS.get(path, []) if n not in names]
        kind = next((k for k in USER_FOR if k in path), "")
        user = USER_FOR.get(kind, "health-analyst")
        slots.extend((path, name, user) for name in names)
    return slots


def _query_names(dependant: Any) -> list[str]:
    """The query parameters of a route and its dependencies (the dashboard's filters)."""
    names = [q.alias for q in dependant.query_params]
    for sub in dependant.dependencies:
        names += [n for n in _query_names(sub) if n not in names]
    return names


def _fill(path: str, lsoa: str) -> str:
    return path.format(feed="istv", code=lsoa, upload_id="1")


def _table_counts(p: Platform) -> dict[str, int]:
    with p.store.sessions() as s:
        counts = {m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
                  for m in (User, Organisation, Agreement, Upload)}  # fmt: skip

    def warehouse(con: Any) -> dict[str, int]:
        return {t: con.table(t).count().to_pyarrow().as_py() for t in sorted(con.list_tables())}

    return {**counts, **p.app.state.warehouse.read(warehouse)}


def test_sql_injection_in_every_filter(platform: Platform) -> None:
    p = platform
    lsoa = p.client("admin").get("/api/dashboard/map").json()["features"][0]["id"]
    before = _table_counts(p)
    slots = _filter_slots(p)
    assert {s[1] for s in slots} >= {"from", "to", "area", "kind", "month", "purpose", "actor",
                                     "action", "outcome", "resource", "since", "until", "limit",
                                     "offset", "next"}  # fmt: skip
    for path, name, user in slots:
        c = p.client(user)
        url = _fill(path, lsoa)
        base = {"month": MONTH, "purpose": "checking the filters"} if "records" in path else {}
        plain = c.get(url, params={**base, name: NOT_MATCHING}, follow_redirects=False)
        assert plain.status_code < 500, (url, name)
        for value in INJECTIONS:
            r = c.get(url, params={**base, name: value}, follow_redirects=False)
            label = f"{user} {url}?{name}={value}"
            assert r.status_code in (plain.status_code, 422), f"{label}: {r.status_code}"
            if r.status_code == 422 and url.startswith("/api"):
                body = r.json()
                assert body["ok"] is False and body["status"] == 422, label
                assert body["errors"], label
            if r.status_code == 200:
                # Harmless: the same answer as a value that matches nothing.
                assert plain.status_code == 200, label
                if url.startswith("/api"):
                    assert _comparable(r.json()) == _comparable(plain.json()), label
                assert value not in r.text or html.escape(value) in r.text, label
    # Nothing was dropped or changed; the audit trail is intact.
    assert _table_counts(p) == before
    dpo = p.client("dpo")
    assert dpo.get("/api/audit/verify").json()["intact"] is True
    # The audit search does not turn an injected actor into "everyone".
    assert len(_events(p)) > 10
    assert store_audit.search(p.store, actor="x' OR '1'='1") == []
    assert store_audit.search(p.store, resource="' OR '1'='1") == []
    assert dpo.get("/api/audit", params={"actor": "x' OR '1'='1"}).json()["events"] == []
    page = dpo.get("/audit", params={"actor": "x' OR '1'='1"})
    assert page.status_code == 200 and "x&#39; OR &#39;1&#39;=&#39;1" in page.text


def _comparable(body: Any) -> Any:
    """A response with what is meant to differ between two calls (the echoed filter) removed."""
    if isinstance(body, dict):
        return {k: _comparable(v) for k, v in body.items() if k not in ("filters",)}
    if isinstance(body, list):
        return [_comparable(v) for v in body]
    return body


def test_injection_in_path_parameters(platform: Platform) -> None:
    p = platform
    c = p.client("admin")
    for value in INJECTIONS:
        for path in ("/api/records/{}", "/api/feeds/{}/counts", "/api/dashboard/area/{}",
                     "/api/uploads/{}", "/dashboard/area/{}", "/uploads/{}"):  # fmt: skip
            r = c.get(path.format(value), params={"month": MONTH, "purpose": "testing"})
            assert r.status_code in (404, 422), (path, value, r.status_code)
            if path.startswith("/api"):
                assert r.json()["ok"] is False and r.json()["status"] == r.status_code


def test_numbers_too_large_for_the_database(platform: Platform) -> None:
    """An id or offset beyond a 64-bit integer is refused as invalid, not a server error."""
    p = platform
    huge = str(10**20)
    admin, dpo = p.client("admin"), p.client("dpo")
    for c, path, params in (
        (admin, f"/api/uploads/{huge}", {}),
        (admin, f"/uploads/{huge}", {}),
        (dpo, "/api/audit", {"offset": huge}),
        (p.client("health-analyst"), "/api/records/istv",
         {"month": MONTH, "purpose": "testing", "offset": huge}),
    ):  # fmt: skip
        r = c.get(path, params=params)
        assert r.status_code in (404, 422), (path, r.status_code)


# --- script in uploads --------------------------------------------------------------------


def _hostile_csv() -> bytes:
    """A police.uk street file whose cells hold script: two valid rows (the script in free text)
    and rows that break rules with the script in the cells checked."""
    header = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
              "Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category",
              "Context"]  # fmt: skip
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for i, bad in enumerate(XSS):
        crime = f"{i:064x}"
        w.writerow([crime, "2024-01", bad, bad, "-0.1", "52.2", f"On or near {bad}",
                    "E01000001", bad, "Violence and sexual offences", bad, bad])  # fmt: skip
        w.writerow([f"{i + 10:064x}", bad, bad, bad, bad, bad, bad, bad, bad, bad, bad, bad])
        w.writerow([f"{i + 20:064x}", "2024-01", "X", "X", "-0.1", "52.2", "Here", bad,
                    "Test", bad, "", ""])  # fmt: skip
    return out.getvalue().encode()


def test_script_in_file_names_is_refused_and_audited(empty_platform: Platform) -> None:
    p = empty_platform
    c = p.client("police-pdo")
    names = [f"{XSS[0]}.csv", f"{XSS[1]}.csv", "a<b>.csv", "x.csv<script>", "x\u202egnp.csv"]
    for name in names:
        for api in (True, False):
            before = _last(p)
            r = _upload(c, p, "police-pdo", name, street_csv(), api=api)
            assert r.status_code == 422, (name, api, r.status_code)
            _assert_no_raw(r.text, f"the refusal of {name!r}")
            refused = _since(p, before, action="upload", outcome="refused")
            assert len(refused) == 1 and refused[0].actor == "police-pdo", name
    assert c.get("/api/uploads").json()["uploads"] == []


def test_script_in_values_is_shown_escaped(empty_platform: Platform) -> None:
    p = empty_platform
    c = p.client("police-pdo")
    r = _upload(c, p, "police-pdo", "2024-01-hostile-street.csv", _hostile_csv())
    assert r.status_code == 201, r.text
    upload = r.json()["upload"]
    assert upload["rows_quarantined"] >= 2, upload
    # A zip whose members' names carry script (no folder in them, so they are read).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{XSS[1]}.csv", _hostile_csv())
        z.writestr("2024-02-plain-street.csv", street_csv(month="2024-02"))
    zipped = _upload(c, p, "police-pdo", "2024-hostile.zip", buf.getvalue())
    assert zipped.status_code == 201, zipped.text
    pages = {
        "the upload's page": c.get(f"/uploads/{upload['id']}"),
        "the zip's page": c.get(f"/uploads/{zipped.json()['upload']['id']}"),
        "the upload history": c.get("/uploads"),
        "the audit trail": p.client("dpo").get("/audit"),
        "the admin's upload page": p.client("admin").get(f"/uploads/{upload['id']}"),
    }
    for where, page in pages.items():
        assert page.status_code == 200, where
        _assert_no_raw(page.text, where)
    # The script did reach the pages, as text: the zip's member is listed by its name.
    assert str(escape(f"{XSS[1]}.csv")) in pages["the zip's page"].text
    # Its rows' quarantine names the member by the upload, not the server's temporary folder.
    result = zipped.json()["upload"]["result"]
    assert result["quarantine"] and tempfile.gettempdir() not in json.dumps(result)
    assert all(q["source"].startswith("upload ") for q in result["quarantine"])
    # The quarantine reasons are listed (escaped where they quote a value).
    assert "Quarantined rows" in pages["the upload's page"].text
    assert pages["the upload's page"].text.count('<tr class="govuk-table__row">') >= 3
    # The page tells the browser to run no inline script even if one slipped through.
    csp = pages["the upload's page"].headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    # The JSON API gives the values as data, with a JSON content type (never HTML).
    api = c.get(f"/api/uploads/{upload['id']}")
    assert api.headers["content-type"].startswith("application/json")


def test_script_in_the_audit_trail_is_shown_escaped(empty_platform: Platform) -> None:
    """What an attacker types reaches the audit trail (a user name at sign-in, a path, a feed);
    the data protection officer's page shows it as text."""
    p = empty_platform
    anon = p.anonymous()
    for bad in XSS:
        page = anon.get("/login")
        r = anon.post(
            "/login", data={"name": bad, "password": "x", "csrf_token": csrf_of(page.text)}
        )
        assert r.status_code == 400
        _assert_no_raw(r.text, "the sign-in page")
        if "/" not in bad:  # a refused path is audited as it was asked for
            assert anon.get(f"/dashboard/area/{bad}", follow_redirects=False).status_code == 303
        r = _upload(p.client("police-pdo"), p, "police-pdo", "2024-01-x-street.csv", street_csv(),
                    feed=bad, api=False)  # fmt: skip
        assert r.status_code == 422
        _assert_no_raw(r.text, "the upload form's error")
    events = p.client("dpo").get("/api/audit", params={"limit": 1000}).json()["events"]
    assert any(e["actor"] in XSS for e in events), "the hostile sign-in was not audited"
    assert any(any(x in e["resource"] for x in XSS) for e in events)
    page = p.client("dpo").get("/audit")
    assert page.status_code == 200
    _assert_no_raw(page.text, "the audit trail")
    assert str(escape(XSS[0])) in page.text


# --- CSRF ---------------------------------------------------------------------------------


def test_csrf_on_every_state_changing_form(empty_platform: Platform) -> None:
    p = empty_platform
    pdo = p.client("police-pdo")
    other = p.csrf("health-pdo")  # another session's token
    anon_token = csrf_of(p.anonymous().get("/login").text)  # an anonymous session's token
    files = {"file": ("2024-01-test-street.csv", street_csv(), "text/csv")}
    login = {"name": "dpo", "password": PASSWORD}
    cases: list[tuple[TestClient, str, dict[str, Any]]] = []
    for token in (None, "wrong", other, anon_token):
        tok = {} if token is None else {"csrf_token": token}
        hdr = {} if token is None else {"X-CSRF-Token": token}
        cases += [
            (pdo, "/uploads", {"data": {"feed": "police-uk", **tok}, "files": files}),
            (
                pdo,
                "/api/uploads",
                {"data": {"feed": "police-uk"}, "files": files, "headers": hdr},
            ),  # fmt: skip
            (pdo, "/logout", {"data": tok}),
            (pdo, "/logout", {"headers": hdr}),
        ]
        cases.append((p.anonymous(), "/login", {"data": {**login, **tok}}))
    cases.append((p.anonymous(), "/login", {"json": {**login, "csrf_token": anon_token}}))
    for c, path, kwargs in cases:
        before = _last(p)
        r = c.post(path, follow_redirects=False, **kwargs)
        label = f"{path} {kwargs.get('data') or kwargs.get('headers') or kwargs.get('json')}"
        assert r.status_code == 403, (label, r.status_code)
        if path.startswith("/api"):
            assert r.json()["status"] == 403 and r.json()["ok"] is False
        events = _since(p, before, action="csrf", outcome="refused")
        assert len(events) == 1 and events[0].resource == path, label
    # Nothing was uploaded, and the session was not ended.
    assert pdo.get("/api/uploads").json()["uploads"] == []
    assert pdo.get("/api/me").json()["name"] == "police-pdo"
    assert "svduty_session" not in p.anonymous().cookies
    # A forged bearer token does not stand in for the CSRF token.
    r = p.anonymous().post("/login", data=login, headers={"Authorization": "Bearer forged"},
                           follow_redirects=False)  # fmt: skip
    assert r.status_code in (401, 403)
    assert "location" not in r.headers


def test_cross_site_form_cannot_use_get_to_change_anything(empty_platform: Platform) -> None:
    """The state-changing routes answer only POST: a link or image (GET) does nothing."""
    c = empty_platform.client("police-pdo")
    assert c.get("/logout").status_code == 405
    assert c.get("/api/me").status_code == 200


# --- path traversal -------------------------------------------------------------------------

TRAVERSALS = [
    "../../etc/passwd.csv",
    "..\\..\\x.csv",
    "%2e%2e%2fx.csv",
    "..%2fx.csv",
    "/etc/passwd.csv",
    "/tmp/evil.csv",  # noqa: S108 - the attack, not a file the test writes
    "....//x.csv",
    "..",
    "x/../../y.csv",
    ".hidden.csv",
    "nul\x00.csv",
]


def _files_named(root: Path, names: set[str]) -> list[Path]:
    found = []
    for _dir, _subdirs, files in os.walk(root):
        found += [Path(_dir, f) for f in files if f in names]
    return found


def test_path_traversal_in_uploads_is_refused(empty_platform: Platform, tmp_path: Path) -> None:
    p = empty_platform
    c = p.client("police-pdo")
    tmp = Path(tempfile.gettempdir())
    leftovers = set(tmp.glob("svduty-upload-*"))
    for name in TRAVERSALS:
        before = _last(p)
        r = _upload(c, p, "police-pdo", name, street_csv())
        assert r.status_code == 422, (name, r.status_code, r.text)
        assert r.json()["ok"] is False
        refused = _since(p, before, action="upload", outcome="refused")
        assert len(refused) == 1, name
    # A Windows path is cut to its last part by the form parser, or refused: never a folder.
    r = _upload(c, p, "police-pdo", "C:\\evil\\2024-01-win-street.csv", street_csv())
    assert r.status_code in (201, 422)
    if r.status_code == 201:
        assert r.json()["upload"]["filename"] == "2024-01-win-street.csv"
    # A zip whose members leave their folder: refused, not extracted, and audited.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../evil.csv", street_csv())
        z.writestr("/abs-evil.csv", street_csv())
        z.writestr("a/../../deep-evil.csv", street_csv())
    before = _last(p)
    r = _upload(c, p, "police-pdo", "2024-evil.zip", buf.getvalue())
    assert r.status_code in (201, 422), r.text
    if r.status_code == 201:
        upload = r.json()["upload"]
        assert upload["status"] == "refused", upload
        assert upload["rows_loaded"] == 0 and len(upload["result"]["refused"]) == 3
        # The refusal names no folder of the server.
        assert str(tmp) not in str(upload["result"]), upload["result"]
    assert _since(p, before, action="upload", outcome="refused")
    # Nothing was written outside: no such file anywhere near, no temporary folder left.
    evil = {"passwd.csv", "x.csv", "y.csv", "evil.csv", "abs-evil.csv", "deep-evil.csv"}
    for root in (tmp_path.parent, p.settings.data_dir.parent):
        assert not _files_named(root, evil), root
    assert set(tmp.glob("svduty-upload-*")) <= leftovers
    assert not Path("/etc/passwd.csv").exists()
    assert not (tmp / "evil.csv").exists()
    # Only the plain names were kept.
    kept = {u["filename"] for u in c.get("/api/uploads").json()["uploads"]}
    assert kept <= {"2024-01-win-street.csv", "2024-evil.zip"}, kept


# --- guessing ids ---------------------------------------------------------------------------


def test_guessing_another_organisations_upload_ids(empty_platform: Platform) -> None:
    p = empty_platform
    police = p.client("police-pdo")
    ids = []
    for month in ("2024-01", "2024-02", "2024-03"):
        r = _upload(police, p, "police-pdo", f"{month}-test-street.csv", street_csv(month=month))
        assert r.status_code == 201
        ids.append(r.json()["upload"]["id"])
    health = p.client("health-pdo")
    assert health.get("/api/uploads").json()["uploads"] == []
    guesses = [*range(1, max(ids) + 3), 0, -1]
    bodies = set()
    for upload_id in guesses:
        for path in (f"/api/uploads/{upload_id}", f"/uploads/{upload_id}"):
            before = _last(p)
            r = health.get(path)
            assert r.status_code == 404, (path, r.status_code)
            if path.startswith("/api"):
                bodies.add(r.text)
                assert r.json()["status"] == 404
            else:
                assert "2024-0" not in r.text and "test-street" not in r.text
            events = _since(p, before, outcome="refused")
            assert len(events) == 1, path
            e = events[0]
            assert (e.actor, e.action, e.resource) == (
                "health-pdo", "read", f"upload:{upload_id}"
            )  # fmt: skip
    # An existing upload of another organisation and a missing one look the same.
    assert len(bodies) == 1, bodies
    # Its owner and the administrator still see it; an analyst gets no upload at all.
    assert police.get(f"/api/uploads/{ids[0]}").status_code == 200
    assert p.client("admin").get(f"/api/uploads/{ids[0]}").status_code == 200
    assert p.client("police-analyst").get(f"/api/uploads/{ids[0]}").status_code == 403


# --- sizes ----------------------------------------------------------------------------------


def test_oversized_and_empty_files(
    empty_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = empty_platform
    c = p.client("police-pdo")
    before = _last(p)
    r = _upload(c, p, "police-pdo", "2024-01-empty-street.csv", b"")
    assert r.status_code == 422 and r.json()["ok"] is False
    r = _upload(c, p, "police-pdo", "2024-01-empty-street.csv", b"", api=False)
    assert r.status_code in (422,) and "empty" in r.text
    monkeypatch.setattr(upload_routes, "MAX_UPLOAD_BYTES", 1000)
    big = street_csv(rows=50)
    assert len(big) > 1000
    r = _upload(c, p, "police-pdo", "2024-01-big-street.csv", big)
    assert r.status_code == 413 and r.json()["status"] == 413
    r = _upload(c, p, "police-pdo", "2024-01-big-street.csv", big, api=False)
    assert r.status_code == 413
    reasons = [e.detail for e in _since(p, before, action="upload", outcome="refused")]
    assert len(reasons) == 4
    assert sum("empty" in d for d in reasons) == 2 and sum("too large" in d for d in reasons) == 2
    assert c.get("/api/uploads").json()["uploads"] == []
    # A file of the wrong kind, and a zip that is not one.
    for name, data in (("2024-01-street.exe", b"MZ"), ("2024-01-street.csv.exe", b"x"),
                       ("2024-bad.zip", b"not a zip")):  # fmt: skip
        r = _upload(c, p, "police-pdo", name, data)
        assert r.status_code in (201, 422), name
        if r.status_code == 201:
            assert r.json()["upload"]["status"] == "refused", name


# --- the session cookie and redirects -----------------------------------------------------


def _session_cookie(r: Response) -> str:
    headers = [h for h in r.headers.get_list("set-cookie") if h.startswith("svduty_session=")]
    assert headers, "no session cookie was set"
    return headers[-1].lower()


def test_session_cookie_flags(empty_platform: Platform) -> None:
    p = empty_platform
    c = p.anonymous()
    page = c.get("/login")
    flags = _session_cookie(page)
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    form = {"name": "dpo", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    r = c.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 303
    flags = _session_cookie(r)
    assert "httponly" in flags and "samesite=lax" in flags and "max-age=" in flags
    # The session changes at sign-in (no fixation): the pre-sign-in token no longer works.
    assert csrf_of(c.get("/audit").text) != csrf_of(page.text)
    # Over HTTPS the cookie is Secure.
    s = TestClient(p.app, base_url="https://testserver")
    assert "secure" in _session_cookie(s.get("/login"))
    # A tampered cookie is a fresh anonymous session, not an error.
    t = p.anonymous()
    t.cookies.set("svduty_session", "eyJ1aWQiOjF9.forged.sig")
    assert t.get("/api/me").status_code == 401
    assert t.get("/audit", follow_redirects=False).status_code == 303


def test_no_open_redirect_after_sign_in(empty_platform: Platform) -> None:
    p = empty_platform
    targets = [
        "//evil.example",
        "//evil.example/dashboard",
        "https://evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/%2F/evil.example",
        " //evil.example",
        "javascript:alert(1)",
    ]
    for target in targets:
        c = p.anonymous()
        page = c.get("/login", params={"next": target})
        assert page.status_code == 200
        assert 'value="//evil' not in page.text and "javascript:" not in page.text
        r = c.post("/login", data={"name": "police-pdo", "password": PASSWORD, "next": target,
                                   "csrf_token": csrf_of(page.text)},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, target
        _assert_local(r.headers["location"], target)
        # Signed in, the login page sends on only to this site too.
        again = c.get("/login", params={"next": target}, follow_redirects=False)
        assert again.status_code == 303
        _assert_local(again.headers["location"], target)
    # A page's 401 sends to sign in with the page as next (a local path).
    r = p.anonymous().get("/audit", params={"actor": "x"}, follow_redirects=False)
    assert r.headers["location"] == "/login?next=%2Faudit%3Factor%3Dx"


def _assert_local(location: str, target: str) -> None:
    """A browser would stay on this site: no scheme, no host, however it normalises."""
    browser = location.replace("\\", "/").replace("\t", "").replace("\n", "").strip()
    parts = urlsplit(browser)
    assert not parts.scheme and not parts.netloc, (target, location)
    assert browser.startswith("/") and not browser.startswith("//"), (target, location)
