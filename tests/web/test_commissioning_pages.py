"""The commissioners' pages: the register, a project and its edit form, a funding round and its
override form, quarterly monitoring and its report, and their API (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from svduty.commissioning.allocation import allocate_round, import_proposals
from svduty.commissioning.register import (
    get_intervention,
    import_register,
    import_returns,
    partnership_areas,
)
from svduty.store.models import AuditEvent
from tests.web.conftest import Platform, csrf_of

DOCS = Path(__file__).parents[2] / "docs" / "commissioning"
ROUND = "2026/27"
REF = "EB-YP-01"
RETURNS = """Reference,Quarter,Referrals,Participants,Sessions,Spend
EB-YP-01,2025-Q2,20,15,150,"£16,000"
EB-YP-01,2025-Q3,18,14,140,"£15,000"
NH-YP-01,2025-Q3,40,30,33,"£12,000"
"""


def fill_commissioning(p: Platform, tmp: Path) -> tuple[str, str]:
    """The sample register, some returns and an allocated round in the platform's store; the
    reference of a project and the round's name."""
    areas = p.app.state.warehouse.read(partnership_areas)
    report = import_register(p.store, DOCS / "sample-register.csv", areas=areas, user="tests")
    assert not report.rejected, report.rejected
    returns = tmp / "returns.csv"
    returns.write_text(RETURNS)
    import_returns(p.store, returns, user="tests")
    imported = import_proposals(
        p.store, DOCS / "sample-proposals.csv", ROUND, areas=areas, user="tests"
    )
    assert not imported.rejected, imported.rejected
    need = [
        {"csp24_code": code, "csp24_name": name, "crimes": 10 + i, "harm": 100.0 + 10 * i}
        for i, (code, name) in enumerate(sorted(areas.items()))
    ]
    allocate_round(p.store, ROUND, need, 300_000, 10_000, user="tests")
    return REF, ROUND


def events(p: Platform, action: str) -> list[AuditEvent]:
    with p.store.sessions() as s:
        q = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(s.execute(q).scalars())


def form_of(p: Platform, name: str, path: str, **changes: str) -> dict[str, Any]:
    html = p.client(name).get(path).text
    return {"csrf_token": csrf_of(html), **changes}


def test_the_pages_render_for_each_role(platform: Platform, tmp_path: Path) -> None:
    p = platform
    ref, rnd = fill_commissioning(p, tmp_path)
    for name in ("commissioner", "police-analyst", "dpo", "admin"):
        c = p.client(name)
        home = c.get("/commissioning")
        assert home.status_code == 200, name
        assert "Eastbrook Youth Mentoring" in home.text and "Eastbrook" in home.text
        assert "No clear evidence" in home.text  # knife crime workshops are flagged
        assert 'href="/commissioning/rounds/2026/27"' in home.text
        assert 'href="/commissioning"' in c.get("/dashboard").text  # in the navigation
        detail = c.get(f"/commissioning/interventions/{ref}")
        assert detail.status_code == 200 and "2025-Q3" in detail.text
        assert ("Save the changes" in detail.text) == (name in ("commissioner", "admin"))
        page = c.get(f"/commissioning/rounds/{rnd}")
        assert page.status_code == 200 and "P26-NH-01" in page.text
        assert ("Record the override" in page.text) == (name in ("commissioner", "admin"))
        mon = c.get("/commissioning/monitoring")
        assert mon.status_code == 200 and "July to September 2025" in mon.text
        assert "Not yet evaluated." in mon.text or "evaluat" in mon.text
        earlier = c.get("/commissioning/monitoring", params={"quarter": "2025-Q2"})
        assert earlier.status_code == 200 and "April to June 2025" in earlier.text
    # The partner data officer has no commissioning pages.
    pdo = p.client("police-pdo")
    assert pdo.get("/commissioning").status_code == 403
    assert 'href="/commissioning"' not in pdo.get("/dashboard").text
    assert p.client("admin").get("/commissioning/monitoring?quarter=2025-9").status_code == 422
    assert p.client("admin").get("/commissioning/interventions/NOPE").status_code == 404


def test_the_report_downloads_and_the_api_answers(platform: Platform, tmp_path: Path) -> None:
    p = platform
    ref, rnd = fill_commissioning(p, tmp_path)
    c = p.client("police-analyst")
    r = c.get("/commissioning/monitoring/report", params={"quarter": "2025-Q3"})
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="monitoring-2025-Q3.html"'
    assert r.text.startswith("<!DOCTYPE html>") and "<script" not in r.text and ref in r.text
    body = c.get("/api/commissioning/interventions").json()
    assert body["ok"] and {i["id"] for i in body["interventions"]} >= {ref, "NH-YP-01"}
    one = next(i for i in body["interventions"] if i["id"] == "AS-KC-01")
    assert one["evidence"]["flag"] == "no-clear-evidence"
    rr = c.get(f"/api/commissioning/rounds/{rnd}").json()
    assert rr["ok"] and rr["round"]["budget"] == 300_000
    assert all("final" in x for x in rr["round"]["proposals"])
    missing = c.get("/api/commissioning/rounds/nothing")
    assert missing.status_code == 404 and missing.json()["ok"] is False


def test_a_commissioner_edits_a_project(platform: Platform, tmp_path: Path) -> None:
    p = platform
    ref, _ = fill_commissioning(p, tmp_path)
    path = f"/commissioning/interventions/{ref}"
    c = p.client("commissioner")
    r = c.post(path, data=form_of(p, "commissioner", path, amount="70,000", participants="50"),
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == f"{path}?saved=1"
    assert "were saved" in c.get(r.headers["location"]).text
    view = get_intervention(p.store, ref)
    assert view is not None and (view.amount, view.participants) == (70_000, 50)
    assert view.updated_by == "commissioner"
    edits = events(p, "interventions-edit")
    assert edits[-1].actor == "commissioner" and edits[-1].resource == f"intervention:{ref}"
    assert json.loads(edits[-1].detail)["fields"] == ["amount_pence", "participants"]
    # A bad value: an error message by the field, and nothing changed.
    before = len(events(p, "interventions-edit"))
    bad = c.post(path, data=form_of(p, "commissioner", path, amount="lots", end="2020-01-01"))
    assert bad.status_code == 422
    assert "govuk-error-summary" in bad.text and 'href="#field-amount"' in bad.text
    assert "is not an amount of money" in bad.text
    assert 'value="lots"' in bad.text  # what was typed is shown back to correct
    after = get_intervention(p.store, ref)
    assert after is not None and after.amount == 70_000 and after.end == view.end
    assert [e.outcome for e in events(p, "interventions-edit")[before:]] == ["refused"]


def test_an_analyst_cannot_edit(platform: Platform, tmp_path: Path) -> None:
    p = platform
    ref, rnd = fill_commissioning(p, tmp_path)
    c = p.client("police-analyst")
    token = p.csrf("police-analyst", "/commissioning")
    path = f"/commissioning/interventions/{ref}"
    r = c.post(path, data={"csrf_token": token, "amount": "1"})
    assert r.status_code == 403
    data = {"csrf_token": token, "proposal": "P26-NH-01", "amount": "1", "reason": "x"}
    r = c.post(f"/commissioning/rounds/{rnd}/override", data=data)
    assert r.status_code == 403
    view = get_intervention(p.store, ref)
    assert view is not None and view.amount == 65_000
    assert not events(p, "funding-override")
    # And a commissioner's form without its CSRF token is refused.
    assert p.client("commissioner").post(path, data={"amount": "1"}).status_code == 403


def test_an_override_needs_a_reason(platform: Platform, tmp_path: Path) -> None:
    p = platform
    _, rnd = fill_commissioning(p, tmp_path)
    path = f"/commissioning/rounds/{rnd}"
    c = p.client("commissioner")
    data = form_of(p, "commissioner", path, proposal="P26-NH-01", amount="12,345")
    r = c.post(f"{path}/override", data=data)
    assert r.status_code == 422 and 'href="#override-reason"' in r.text
    assert "Give the reason" in r.text
    assert [e.outcome for e in events(p, "funding-override")] == ["refused"]
    r = c.post(f"{path}/override",
               data=form_of(p, "commissioner", path, proposal="P26-NH-01", amount="12,345",
                            reason="The provider can start only in the autumn"),
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "The override of P26-NH-01 was recorded" in page and "only in the autumn" in page
    done = [e for e in events(p, "funding-override") if e.outcome != "refused"]
    assert done[-1].actor == "commissioner" and json.loads(done[-1].detail)["amount"] == 12_345
    final = c.get(f"/api/commissioning/rounds/{rnd}").json()["round"]
    assert next(x for x in final["proposals"] if x["reference"] == "P26-NH-01")["final"] == 12_345
