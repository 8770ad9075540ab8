"""The web platform's API and pages: sign-in, tokens, CSRF, uploads, agreements, errors.

Each test runs on SQLite and on the PostgreSQL server that .ci/run starts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from svduty.store import audit as store_audit
from svduty.store.models import AuditEvent, Upload
from tests.web.conftest import PASSWORD, Platform, csrf_of, street_csv


def _events(p: Platform, **filters: Any) -> list[dict[str, Any]]:
    return store_audit.search(p.store, limit=1000, **filters)


def test_health_openapi_and_pages(empty_platform: Platform) -> None:
    c = empty_platform.anonymous()
    health = c.get("/api/health")
    assert health.status_code == 200
    assert health.json()["ok"] is True
    assert health.json()["store"] in ("sqlite", "postgresql")
    spec = c.get("/openapi.json").json()
    for path in ("/api/health", "/api/uploads", "/api/records/{feed}", "/api/audit"):
        assert path in spec["paths"], path
    login = c.get("/login")
    assert login.status_code == 200
    assert 'name="csrf_token"' in login.text
    assert login.headers["content-security-policy"].startswith("default-src 'self'")
    assert login.headers["x-frame-options"] == "DENY"
    # Every asset is served from the package.
    assert "http://" not in login.text.replace("http://www.w3.org", "")
    assert "https://" not in login.text
    for asset in (
        "/static/vendor/govuk-frontend/govuk-frontend.min.css",
        "/static/vendor/govuk-frontend/govuk-frontend.min.js",
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/htmx/htmx.min.js",
    ):
        assert c.get(asset).status_code == 200, asset


def test_sign_in_lockout_and_sign_out(empty_platform: Platform) -> None:
    p = empty_platform
    c = p.anonymous()
    for _ in range(5):
        r = c.post(
            "/login",
            data={
                "name": "police-analyst",
                "password": "wrong",
                "csrf_token": csrf_of(c.get("/login").text),
            },
        )
        assert r.status_code == 400
        assert "not right" in r.text or "locked" in r.text
    r = c.post(
        "/login",
        data={
            "name": "police-analyst",
            "password": PASSWORD,
            "csrf_token": csrf_of(c.get("/login").text),
        },
        follow_redirects=False,
    )
    assert r.status_code == 400 and "locked" in r.text
    refused = _events(p, action="sign-in", outcome="refused", actor="police-analyst")
    assert len(refused) == 6
    assert all("wrong" not in str(e["detail"]) or "password" not in str(e["detail"]).lower()
               or "wrong-password" in str(e["detail"]) for e in refused)  # fmt: skip
    # Another user signs in and out; after sign-out the pages ask for sign-in again.
    d = p.client("dpo")
    assert d.get("/audit").status_code == 200
    r = d.post(
        "/logout", data={"csrf_token": csrf_of(d.get("/audit").text)}, follow_redirects=False
    )
    assert r.status_code == 303
    after = d.get("/audit", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    assert d.get("/api/me").status_code == 401
    assert _events(p, action="sign-out", actor="dpo")


def test_bearer_tokens(empty_platform: Platform) -> None:
    p = empty_platform
    token = p.token("council-analyst")
    c = p.anonymous()
    me = c.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["role"] == "analyst" and me.json()["org"] == "council"
    bad = c.get("/api/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    assert bad.json() == {
        "ok": False,
        "error": "The bearer token is unknown, expired or revoked.",
        "errors": [],
        "status": 401,
    }
    # A token needs no CSRF token (it is not a browser's cookie), and the role still applies.
    up = c.post(
        "/api/uploads",
        headers={"Authorization": f"Bearer {token}"},
        data={"feed": "police-uk"},
        files={"file": ("2024-01-test-street.csv", street_csv(), "text/csv")},
    )
    assert up.status_code == 403


def test_csrf_is_required_and_audited(empty_platform: Platform) -> None:
    p = empty_platform
    c = p.client("police-pdo")
    files = {"file": ("2024-01-test-street.csv", street_csv(), "text/csv")}
    no_token = c.post("/uploads", data={"feed": "police-uk"}, files=files)
    assert no_token.status_code == 403
    other = csrf_of(p.anonymous().get("/login").text)
    wrong = c.post("/api/uploads", data={"feed": "police-uk", "csrf_token": other}, files=files)
    assert wrong.status_code == 403 and wrong.json()["ok"] is False
    assert len(_events(p, action="csrf", outcome="refused")) == 2
    assert c.get("/api/uploads").json()["uploads"] == []
    anon = p.anonymous()
    r = anon.post("/login", data={"name": "dpo", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403


def test_upload_validation_result_and_history(empty_platform: Platform) -> None:
    p = empty_platform
    c = p.client("police-pdo")
    data = street_csv(rows=5, bad=2)
    files = {"file": ("2024-01-test-street.csv", data, "text/csv")}
    r = c.post("/uploads", data={"feed": "police-uk", "csrf_token": p.csrf("police-pdo")},
               files=files)  # fmt: skip
    assert r.status_code == 200 and "/uploads/" in str(r.url)
    assert "5 rows loaded" in r.text
    assert "month-mismatch" in r.text or "format" in r.text
    upload = c.get("/api/uploads").json()["uploads"][0]
    assert (upload["rows_read"], upload["rows_loaded"], upload["rows_quarantined"]) == (7, 5, 2)
    reasons = upload["result"]["quarantine"]
    assert {q["row"] for q in reasons} == {7, 8}
    assert all(q["message"] and q["rule"] for q in reasons)
    # The same file again loads nothing twice.
    again = c.post("/api/uploads", data={"feed": "police-uk"}, files=files,
                   headers={"X-CSRF-Token": p.csrf("police-pdo")})  # fmt: skip
    assert again.status_code == 201
    assert again.json()["upload"]["rows_loaded"] == 0
    history = c.get("/uploads").text
    assert "2024-01-test-street.csv" in history and "Upload history" in history
    events = _events(p, action="upload", outcome="ok")
    assert len(events) == 2 and events[0]["detail"]["rows_loaded"] == 0


def test_partner_feed_upload_seals_identifiers(empty_platform: Platform, tmp_path: Any) -> None:
    from svduty.synth import generate

    p = empty_platform
    generate(tmp_path / "synth", seed=3, years=1, scale=0.02)
    path = sorted((tmp_path / "synth" / "feeds" / "istv").glob("*.csv"))[0]
    c = p.client("health-pdo")
    r = c.post("/api/uploads", data={"feed": "istv"},
               files={"file": (path.name, path.read_bytes(), "text/csv")},
               headers={"X-CSRF-Token": p.csrf("health-pdo")})  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()["upload"]
    assert body["rows_loaded"] > 0 and body["org"] == "health"
    # No file is kept; the store holds no identifier from it.
    assert not list(p.settings.data_dir.rglob(path.name))
    first = path.read_text().splitlines()[1].split(",")
    with p.store.sessions() as s:
        stored = str([(u.result, u.filename) for u in s.execute(select(Upload)).scalars()])
    assert all(v not in stored for v in first if len(v) > 6)


def test_records_follow_the_agreement(platform: Platform) -> None:
    p = platform
    month = {"month": "2024-03", "purpose": "testing the agreement"}
    ok = p.client("health-analyst").get("/api/records/istv", params=month)
    assert ok.status_code == 200 and ok.json()["count"] > 0
    for name in ("police-analyst", "council-analyst", "commissioner", "dpo", "police-pdo"):
        r = p.client(name).get("/api/records/istv", params=month)
        assert r.status_code == 403, name
        assert "rows" not in r.json()
    assert p.anonymous().get("/api/records/istv", params=month).status_code == 401
    reads = _events(p, action="read", resource="records:istv")
    assert {e["outcome"] for e in reads} == {"ok", "refused"}
    assert all(e["detail"]["purpose"] == "testing the agreement" for e in reads)


def test_api_error_shape(empty_platform: Platform) -> None:
    c = empty_platform.client("dpo")
    missing = c.get("/api/no-such-thing")
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "error": "Not Found", "errors": [], "status": 404}
    invalid = c.get("/api/audit", params={"limit": "many"})
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["ok"] is False and body["status"] == 422
    assert body["errors"][0]["location"] == "query.limit"
    assert c.post("/api/health").json()["status"] == 405
    page = c.get("/no-such-page")
    assert page.status_code == 404 and "Page not found" in page.text


def test_audit_verify_finds_edits_and_deletions(empty_platform: Platform) -> None:
    p = empty_platform
    d = p.client("dpo")
    for _ in range(3):
        d.get("/audit")
    assert d.get("/api/audit/verify").json()["intact"] is True
    with p.store.engine.begin() as conn:
        target = conn.execute(select(AuditEvent.id).order_by(AuditEvent.id).limit(1).offset(2))
        event_id = target.scalar_one()
        conn.execute(text("UPDATE audit_events SET actor = 'someone-else' WHERE id = :i"),
                     {"i": event_id})  # fmt: skip
    check = d.get("/api/audit/verify").json()
    assert check["intact"] is False
    assert any(pr["event_id"] == event_id for pr in check["problems"])
    with p.store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'dpo' WHERE id = :i"), {"i": event_id})
    # Put the edit back... the hash of the original does match again, so deletion is next.
    with p.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = :i"), {"i": event_id + 1})
    page = d.get("/audit", params={"verify": "true"})
    assert "tampered with" in page.text
