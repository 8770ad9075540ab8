"""Feeds and their agreements, record-level rows where an agreement allows them, the audit
trail for the data protection officer, and the administrator's view of users and agreements.

Every read of record-level rows, and every refusal, is audited with the feed and the purpose.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from svduty.datasets.partners import FEEDS
from svduty.store import agreements as store_agreements
from svduty.store import audit as store_audit
from svduty.store.models import Organisation, User
from svduty.web.security import STAFF, Principal, audit, require
from svduty.web.templating import render

router = APIRouter()

#: The warehouse table and month column of each feed's records.
RECORD_TABLES: dict[str, tuple[str, str]] = {
    "police-uk": ("policeuk_street", "month"),
    **{f.name: (f.table, f.event) for f in FEEDS.values()},
}
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
Staff = Annotated[Principal, Depends(require(*STAFF))]
Auditor = Annotated[Principal, Depends(require("dpo", "admin"))]


def _agreement(request: Request, feed: str) -> Any:
    if feed not in RECORD_TABLES:
        audit(request, "read", f"feed:{feed[:60]}", "refused", reason="no such feed")
        raise HTTPException(404, f"There is no feed called {feed[:60]!r}.")
    found = store_agreements.agreement(request.app.state.store, feed)
    if found is None:
        audit(request, "read", f"feed:{feed}", "refused", reason="no agreement")
        raise HTTPException(404, f"The feed {feed} has no data-sharing agreement, so no access.")
    return found


def access_of(agreement: Any, who: Principal) -> str:
    """``records``, ``aggregates`` or ``none``: what ``who`` may see of a feed."""
    if store_agreements.can_see_records(agreement, who.role, who.org):
        return "records"
    if store_agreements.can_see_aggregates(agreement, who.role, who.org):
        return "aggregates"
    return "none"


@router.get("/api/feeds", tags=["data"], summary="Feeds, their agreements, and your access")
def feeds(request: Request, who: Staff) -> dict[str, Any]:
    """Every feed's data-sharing agreement, and whether you may see its records or aggregates."""
    out = []
    for item in store_agreements.list_agreements(request.app.state.store):
        agreement = store_agreements.agreement(request.app.state.store, item["feed"])
        out.append({**item, "your_access": access_of(agreement, who)})
    return {"ok": True, "feeds": out}


def _month_start(month: str) -> dt.date:
    return dt.date.fromisoformat(month + "-01")


@router.get("/api/feeds/{feed}/counts", tags=["data"], summary="Rows of a feed by month")
def feed_counts(request: Request, who: Staff, feed: str) -> dict[str, Any]:
    """How many rows of the feed the warehouse holds for each month (an aggregate)."""
    agreement = _agreement(request, feed)
    if access_of(agreement, who) == "none":
        audit(request, "read", f"feed:{feed}:counts", "refused", reason="no agreement access")
        raise HTTPException(403, f"The agreement for {feed} gives your role no access.")
    table, column = RECORD_TABLES[feed]

    def count(con: Any) -> list[dict[str, Any]]:
        if table not in con.list_tables():
            return []
        t = con.table(table)
        month = t[column].truncate("M").name("month")
        rows = t.group_by(month).aggregate(rows=t.count()).order_by("month").to_pyarrow()
        return [
            {"month": r["month"].strftime("%Y-%m") if r["month"] else None, "rows": r["rows"]}
            for r in rows.to_pylist()
        ]

    result = request.app.state.warehouse.read(count)
    audit(request, "read", f"feed:{feed}:counts")
    return {"ok": True, "feed": feed, "counts": result}


@router.get("/api/records/{feed}", tags=["data"], summary="Record-level rows of a feed")
def records(
    request: Request,
    who: Staff,
    feed: str,
    month: Annotated[str, Query(pattern=MONTH, description="The month, YYYY-MM")],
    purpose: Annotated[
        str, Query(min_length=3, max_length=200, description="Why you need the rows (audited)")
    ],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Rows of one month of a feed, pseudonymised as stored, for a stated purpose.

    Only the roles and organisations that the feed's data-sharing agreement names see
    record-level rows (health records, for example, only health staff); everyone else gets 403
    and may use the aggregates. Every read and refusal is audited with the purpose given.
    """
    agreement = _agreement(request, feed)
    if access_of(agreement, who) != "records":
        audit(request, "read", f"records:{feed}:{month}", "refused",
              reason="agreement allows aggregates only", purpose=purpose)  # fmt: skip
        raise HTTPException(
            403,
            f"The data-sharing agreement for {feed} does not let your role and organisation see "
            "record-level rows; use the aggregates.",
        )
    table, column = RECORD_TABLES[feed]
    start = _month_start(month)
    end = (start + dt.timedelta(days=32)).replace(day=1)

    def read(con: Any) -> list[dict[str, Any]]:
        if table not in con.list_tables():
            return []
        t = con.table(table)
        when = t[column].cast("date")
        q = (
            t.filter((when >= start) & (when < end))
            .order_by(list(t.columns))
            .limit(limit, offset=offset)
        )
        return q.to_pyarrow().to_pylist()

    rows = request.app.state.warehouse.read(read)
    audit(request, "read", f"records:{feed}:{month}", rows=len(rows), purpose=purpose)
    return {"ok": True, "feed": feed, "month": month, "rows": rows, "count": len(rows)}


@router.get("/api/audit", tags=["audit"], summary="Search the audit trail")
def audit_api(
    request: Request,
    who: Auditor,
    actor: Annotated[str | None, Query(max_length=120)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    outcome: Annotated[str | None, Query(max_length=20)] = None,
    resource: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    until: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Audit events matching every filter, newest first (data protection officer, administrator)."""
    events = store_audit.search(
        request.app.state.store, actor=actor, action=action, outcome=outcome, resource=resource,
        since=since, until=until, limit=limit, offset=offset,
    )  # fmt: skip
    audit(request, "read", "audit", filters={"actor": actor, "action": action}, rows=len(events))
    return {"ok": True, "events": events}


@router.get("/api/audit/verify", tags=["audit"], summary="Check the audit trail's hash chain")
def audit_verify_api(request: Request, who: Auditor) -> dict[str, Any]:
    """Whether the chain is intact: every event unchanged, none missing."""
    count, problems = store_audit.verify(request.app.state.store)
    audit(request, "verify", "audit", events=count, problems=len(problems))
    return {"ok": True, "intact": not problems, "events": count,
            "problems": [p.as_json() for p in problems]}  # fmt: skip


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(
    request: Request,
    who: Auditor,
    actor: Annotated[str | None, Query(max_length=120)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    outcome: Annotated[str | None, Query(max_length=20)] = None,
    since: Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = None,
    until: Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = None,
    verify: bool = False,
) -> Response:
    store = request.app.state.store
    filters = {"actor": actor or "", "action": action or "", "outcome": outcome or "",
               "since": since or "", "until": until or ""}  # fmt: skip
    events = store_audit.search(
        store, actor=actor or None, action=action or None, outcome=outcome or None,
        since=since or None, until=until or None, limit=200,
    )  # fmt: skip
    checked = None
    if verify:
        count, problems = store_audit.verify(store)
        checked = {"events": count, "problems": [p.as_json() for p in problems]}
    audit(request, "read", "audit", filters={k: v for k, v in filters.items() if v})
    return render(request, "audit.html", {"events": events, "filters": filters,
                                          "checked": checked})  # fmt: skip


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
def admin_page(request: Request, who: Auditor) -> Response:
    store = request.app.state.store
    with store.sessions() as s:
        people = [
            {"name": u.name, "role": u.role, "org": org or "", "active": u.active,
             "locked": bool(u.locked_until), "last_login_at": u.last_login_at}
            for u, org in s.execute(
                select(User, Organisation.short_name)
                .join(Organisation, User.org_id == Organisation.id, isouter=True)
                .order_by(User.name)
            ).all()
        ]  # fmt: skip
        orgs = [
            {"short_name": o.short_name, "name": o.name, "kind": o.kind}
            for o in s.execute(select(Organisation).order_by(Organisation.short_name)).scalars()
        ]
    audit(request, "read", "admin")
    return render(
        request,
        "admin.html",
        {"users": people, "orgs": orgs, "agreements": store_agreements.list_agreements(store)},
    )
