"""The commissioners' pages: the interventions register, funding rounds and quarterly monitoring
(``/commissioning``), and their API under ``/api/commissioning``.

Commissioners, analysts, the data protection officer and administrators see them; commissioners
and administrators may also edit a project of the register and override a round's
recommendation. Every edit goes through the same checks as an import and is audited (by
:func:`svduty.commissioning.register.update_intervention` and
:func:`svduty.commissioning.allocation.override`); every read is audited here.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from svduty.commissioning import allocation, monitoring, register
from svduty.commissioning.evaluation import summaries
from svduty.commissioning.evidence import flag, flag_reason, load_evidence
from svduty.web.security import Principal, audit, check_csrf, require
from svduty.web.templating import render

log = logging.getLogger(__name__)
router = APIRouter()

VIEWERS = ("commissioner", "analyst", "dpo", "admin")
EDITORS = ("commissioner", "admin")
Viewer = Annotated[Principal, Depends(require(*VIEWERS))]
Editor = Annotated[Principal, Depends(require(*EDITORS))]
QUARTER = r"^\d{4}-Q[1-4]$"

#: The edit form's fields: (field of the register, label, hint).
FIELDS: list[tuple[str, str, str]] = [
    ("name", "Project", ""),
    ("provider", "Provider", ""),
    ("areas", "Areas", "CSP codes or names, separated by ;"),
    ("funding_source", "Funding source", ""),
    ("financial_year", "Financial year", "For example 2025/26"),
    ("amount", "Amount awarded (£)", "For example 42,000"),
    ("approach", "Approach", "An approach of the YEF Toolkit, e.g. mentoring"),
    ("target_cohort", "Target cohort", ""),
    ("target_age_max", "Oldest age served", ""),
    ("start", "Start", "For example 2025-04-01"),
    ("end", "End", "For example 2026-03-31"),
    ("referrals", "Referrals", ""),
    ("participants", "Participants", ""),
    ("sessions", "Sessions", ""),
    ("spend", "Spend to date (£)", ""),
]
#: A refused value's column (as the register's checks name it) -> the form's field.
_COLUMN_FIELD = {"project": "name"}


def pounds(value: float | None) -> str:
    """Pounds for a table cell.

    >>> pounds(42000.0), pounds(None)
    ('£42,000', '–')
    """
    return "–" if value is None else f"£{value:,.0f}"


def share(value: float | None) -> str:
    """A share as a percentage (``–`` when unknown)."""
    return "–" if value is None else f"{value:.0%}"


def count(value: int | None) -> str:
    """A count with separators (``–`` when not returned)."""
    return "–" if value is None else f"{value:,}"


HELPERS = {"pounds": pounds, "share": share, "count": count}


def area_names(request: Request) -> dict[str, str]:
    """The partnership's CSP codes and names (empty before the reference data is loaded)."""

    def read(con: Any) -> dict[str, str]:
        try:
            return register.partnership_areas(con)
        except Exception:  # noqa: BLE001 - no reference geography yet: codes are shown instead
            return {}

    return request.app.state.warehouse.read(read)


def evaluations(request: Request, references: list[str]) -> dict[str, Any] | None:
    """Each project's outcome evaluations, computed once per state of the warehouse and of the
    projects' areas, start and target ages (a page load must not rerun ten evaluations)."""
    if not references:
        return None
    store = request.app.state.store
    views = {v.id: v for v in register.list_interventions(store)}
    key = (
        request.app.state.warehouse.version(),
        tuple(
            (r, tuple(views[r].areas), views[r].start, views[r].target_age_max)
            for r in sorted(references)
            if r in views
        ),
    )
    cached = getattr(request.app.state, "commissioning_evaluations", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        result = request.app.state.warehouse.read(lambda con: summaries(con, store, references))
    except Exception:  # noqa: BLE001 - the monitoring figures stand without the outcomes
        log.exception("The outcome evaluations could not be computed")
        return None
    request.app.state.commissioning_evaluations = (key, result)
    return result


def _evidence(approach: str) -> dict[str, Any]:
    entry = load_evidence().approaches.get(approach)
    return {
        "name": entry.name if entry else approach,
        "band": entry.band if entry else "unrated",
        "flag": flag(entry),
        "flag_reason": flag_reason(entry),
    }


def _figures(request: Request, quarter: str | None, *, outcomes: bool) -> dict[str, Any]:
    store = request.app.state.store
    names = area_names(request)
    evals = None
    if outcomes:
        evals = evaluations(request, [v.id for v in register.list_interventions(store)])
    return monitoring.monitoring_figures(store, quarter, areas=names, evaluations=evals)


def _intervention(request: Request, ref: str) -> register.InterventionView:
    view = register.get_intervention(request.app.state.store, ref)
    if view is None:
        audit(request, "read", f"intervention:{ref[:40]}", "refused", reason="not found")
        raise HTTPException(404, "There is no project with that reference in the register.")
    return view


def _round(request: Request, name: str) -> tuple[dict[str, Any], dict[str, Any] | None, str]:
    """The round's summary, its recommendation (None when there is none yet) and why not."""
    store = request.app.state.store
    rounds = {r["round"]: r for r in allocation.list_rounds(store)}
    if name not in rounds:
        audit(request, "read", f"round:{name[:120]}", "refused", reason="not found")
        raise HTTPException(404, "There is no funding round with that name.")
    try:
        return rounds[name], allocation.show_round(store, name), ""
    except allocation.AllocationError as e:
        return rounds[name], None, str(e)


# -- pages ---------------------------------------------------------------------------------------


@router.get("/commissioning", response_class=HTMLResponse, include_in_schema=False)
def register_page(request: Request, who: Viewer) -> Response:
    store = request.app.state.store
    names = area_names(request)
    rows = [
        {"view": v, "areas": [names.get(a, a) for a in v.areas], "evidence": _evidence(v.approach)}
        for v in register.list_interventions(store)
    ]
    figures = monitoring.monitoring_figures(store, areas=names)
    audit(request, "read", "commissioning/register")
    return render(
        request,
        "commissioning.html",
        {"rows": rows, "rounds": allocation.list_rounds(store), "f": figures, **HELPERS},
    )


def _detail(
    request: Request,
    who: Principal,
    view: register.InterventionView,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    names = area_names(request)
    current = {
        "name": view.name,
        "provider": view.provider,
        "areas": "; ".join(view.areas),
        "funding_source": view.funding_source,
        "financial_year": view.financial_year,
        "amount": f"{view.amount:.2f}".removesuffix(".00"),
        "approach": view.approach,
        "target_cohort": view.target_cohort,
        "target_age_max": str(view.target_age_max),
        "start": view.start.isoformat(),
        "end": view.end.isoformat() if view.end else "",
        "referrals": "" if view.referrals is None else str(view.referrals),
        "participants": "" if view.participants is None else str(view.participants),
        "sessions": "" if view.sessions is None else str(view.sessions),
        "spend": "" if view.spend is None else f"{view.spend:.2f}".removesuffix(".00"),
    }
    return render(
        request,
        "commissioning_intervention.html",
        {
            "v": view,
            "areas": [names.get(a, a) for a in view.areas],
            "evidence": _evidence(view.approach),
            "returns": register.list_returns(request.app.state.store, view.id),
            "can_edit": who.role in EDITORS,
            "fields": FIELDS,
            "values": {**current, **(values or {})},
            "errors": errors or {},
            "saved": request.query_params.get("saved") == "1",
            **HELPERS,
        },
        status_code=status_code,
    )


@router.get(
    "/commissioning/interventions/{ref}", response_class=HTMLResponse, include_in_schema=False
)
def intervention_page(request: Request, who: Viewer, ref: str) -> Response:
    view = _intervention(request, ref)
    audit(request, "read", f"intervention:{view.id}")
    return _detail(request, who, view)


@router.post("/commissioning/interventions/{ref}", include_in_schema=False)
async def intervention_edit(
    request: Request, who: Editor, _: Annotated[None, Depends(check_csrf)], ref: str
) -> Response:
    view = await run_in_threadpool(_intervention, request, ref)
    form = await request.form()
    sent = {f: str(form[f]) for f, _, _ in FIELDS if isinstance(form.get(f), str)}
    if not sent:
        return await run_in_threadpool(
            lambda: _detail(
                request, who, view, errors={"field-name": "Nothing was sent to change"},
                status_code=422,
            )
        )  # fmt: skip
    names = await run_in_threadpool(area_names, request)
    try:
        await run_in_threadpool(
            lambda: register.update_intervention(
                request.app.state.store, view.id, sent, user=who.name, areas=names or None
            )
        )
    except register.RegisterError as e:
        labels = {f: label for f, label, _ in FIELDS}
        errors: dict[str, str] = {}
        for p in e.problems:
            key = p.column.casefold().replace(" ", "_")
            field = _COLUMN_FIELD.get(key, key if key in labels else "name")
            errors.setdefault(f"field-{field}", f"{labels[field]}: {p.reason}")
        if not errors:
            errors["field-name"] = str(e)
        audit(request, "interventions-edit", f"intervention:{view.id}", "refused",
              fields=sorted(sent))  # fmt: skip
        return await run_in_threadpool(
            lambda: _detail(request, who, view, values=sent, errors=errors, status_code=422)
        )
    return RedirectResponse(
        f"/commissioning/interventions/{quote(view.id, safe='')}?saved=1", status_code=303
    )


def _round_page(
    request: Request,
    who: Principal,
    name: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    summary, result, missing = _round(request, name)
    return render(
        request,
        "commissioning_round.html",
        {
            "name": name,
            "summary": summary,
            "r": result,
            "missing": missing,
            "can_edit": who.role in EDITORS and result is not None,
            "values": values or {},
            "errors": errors or {},
            "overridden": request.query_params.get("overridden", ""),
            **HELPERS,
        },
        status_code=status_code,
    )


@router.post("/commissioning/rounds/{name:path}/override", include_in_schema=False)
async def override_post(
    request: Request, who: Editor, _: Annotated[None, Depends(check_csrf)], name: str
) -> Response:
    await run_in_threadpool(_round, request, name)
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("proposal", "amount", "reason")}
    errors: dict[str, str] = {}
    if not values["proposal"]:
        errors["override-proposal"] = "Choose the proposal to override"
    amount = 0
    if not values["amount"]:
        errors["override-amount"] = "Enter the amount to fund, in pounds"
    else:
        try:
            amount = allocation.parse_pounds(values["amount"], "The amount")
        except allocation.AllocationError as e:
            errors["override-amount"] = str(e)
    if not values["reason"]:
        errors["override-reason"] = "Give the reason for the override, for the record"
    if not errors:
        try:
            await run_in_threadpool(
                allocation.override, request.app.state.store, name, values["proposal"], amount,
                values["reason"], user=who.name,
            )  # fmt: skip
        except allocation.AllocationError as e:
            errors["override-proposal"] = str(e)
    if errors:
        audit(request, "funding-override", f"round:{name[:120]}", "refused",
              fields=sorted(errors))  # fmt: skip
        return await run_in_threadpool(
            lambda: _round_page(request, who, name, values=values, errors=errors, status_code=422)
        )
    target = f"/commissioning/rounds/{quote(name)}?overridden={quote(values['proposal'])}"
    return RedirectResponse(target, status_code=303)


@router.get(
    "/commissioning/rounds/{name:path}", response_class=HTMLResponse, include_in_schema=False
)
def round_page(request: Request, who: Viewer, name: str) -> Response:
    response = _round_page(request, who, name)
    audit(request, "read", f"round:{name}")
    return response


@router.get("/commissioning/monitoring", response_class=HTMLResponse, include_in_schema=False)
def monitoring_page(
    request: Request,
    who: Viewer,
    quarter: Annotated[str | None, Query(pattern=QUARTER)] = None,
) -> Response:
    figures = _figures(request, quarter, outcomes=True)
    audit(request, "read", "commissioning/monitoring", quarter=figures["quarter"])
    return render(request, "commissioning_monitoring.html", {"f": figures, **HELPERS})


@router.get("/commissioning/monitoring/report", include_in_schema=False)
def monitoring_report(
    request: Request,
    who: Viewer,
    quarter: Annotated[str | None, Query(pattern=QUARTER)] = None,
) -> Response:
    figures = _figures(request, quarter, outcomes=True)
    name = f"monitoring-{figures['quarter'] or 'no-returns'}.html"
    audit(request, "read", "commissioning/monitoring/report", quarter=figures["quarter"])
    return Response(
        monitoring.render_monitoring_html(figures),
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- the API -------------------------------------------------------------------------------------


@router.get(
    "/api/commissioning/interventions",
    tags=["commissioning"],
    summary="The interventions register",
)
def interventions_api(request: Request, who: Viewer) -> dict[str, Any]:
    """Every project of the register (``id`` is its reference) with its evidence rating."""
    evidence = load_evidence()
    rows = register.list_interventions(request.app.state.store)
    audit(request, "read", "commissioning/register")
    return {"ok": True, "interventions": [v.as_json(evidence) for v in rows]}


@router.get(
    "/api/commissioning/rounds/{name:path}",
    tags=["commissioning"],
    summary="A funding round's recommendation",
)
def round_api(request: Request, who: Viewer, name: str) -> dict[str, Any]:
    """The round's latest recommendation with the overrides applied (``final``); 404 when the
    round does not exist or has no recommendation yet."""
    summary, result, missing = _round(request, name)
    if result is None:
        audit(request, "read", f"round:{name[:120]}", "refused", reason="no recommendation")
        raise HTTPException(404, missing)
    audit(request, "read", f"round:{name}")
    return {"ok": True, "round": result}
