"""The dashboard and the public figures: pages (``/``, ``/dashboard``, its htmx panels and the
drill-down to an area) and their API under ``/api/dashboard`` and ``/api/public``.

The routes are thin: :mod:`svduty.web.dashboard` computes and memoises every figure; here the
filters are read from the query, each read of restricted figures is audited, and the charts are
drawn on the server as SVG with a table of the same figures beside them.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from svduty.analysis.counts import ALL
from svduty.reports.charts import line_chart
from svduty.web.dashboard import DASHBOARDS, FilterError, Filters, Snapshot
from svduty.web.public_view import month_words
from svduty.web.security import STAFF, Principal, audit, require
from svduty.web.templating import render, templates


def _version(app: FastAPI) -> str:
    """The warehouse's version: the web app's own count of loads, and the warehouse file's
    modification time (a load by the command line in another process changes it too)."""
    path = app.state.settings.duckdb_path
    stamps = [str(app.state.warehouse.version())]
    for p in (path, path.with_name(path.name + ".wal")):
        stamps.append(str(p.stat().st_mtime_ns) if p.exists() else "-")
    return ":".join(stamps)


def _snapshot_of(app: FastAPI) -> Snapshot:
    key = str(app.state.settings.data_dir.resolve())
    return DASHBOARDS.snapshot(key, _version(app), app.state.warehouse.read)


def snapshot(request: Request) -> Snapshot:
    """The assessed warehouse of this app (built on first use, rebuilt after a load)."""
    return _snapshot_of(request.app)


@asynccontextmanager
async def _warm_up(app: FastAPI) -> AsyncIterator[None]:
    """Assess the warehouse while the server starts, so the first visitor does not wait."""

    def build() -> None:
        settings = app.state.settings
        if settings.engine == "duckdb" and not settings.duckdb_path.exists():
            return
        try:
            _snapshot_of(app).public_view()
        except Exception:  # noqa: BLE001 - the first request will raise it again, visibly
            return

    worker = threading.Thread(target=build, name="svduty-dashboard-warm-up", daemon=True)
    worker.start()
    yield
    worker.join()


router = APIRouter(lifespan=_warm_up)

Staff = Annotated[Principal, Depends(require(*STAFF))]
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
CODE_PATTERN = r"^[A-Za-z0-9]{1,12}$"


def filters(
    request: Request,
    start: Annotated[
        str | None,
        Query(alias="from", pattern=MONTH_PATTERN, description="First month, YYYY-MM."),
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", pattern=MONTH_PATTERN, description="Last month, YYYY-MM.")
    ] = None,
    area: Annotated[
        str | None,
        Query(pattern=r"^(all|[A-Za-z0-9]{1,12})$", description="all or a partnership area code."),
    ] = None,
    kind: Annotated[
        str | None,
        Query(pattern=r"^[a-z0-9_]{1,40}$", description="all or a kind of serious violence."),
    ] = None,
) -> Filters:
    """The dashboard's filters, validated against the data (422 when one is unknown)."""
    try:
        return snapshot(request).filters(start, end, area, kind)
    except FilterError as e:
        raise HTTPException(422, detail=e.errors) from e


Chosen = Annotated[Filters, Depends(filters)]


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


def _read(request: Request, resource: str, f: Filters | None = None, **detail: Any) -> None:
    audit(request, "read", resource, **(f.query() if f else {}), **detail)


# --- API ------------------------------------------------------------------------------------

_FILTERS_DOC = (
    " Filters: `from` and `to` (months, YYYY-MM), `area` (`all` or a partnership area's code) "
    "and `kind` (`all` or a kind's key); see `/api/dashboard/options`. An unknown value is a "
    "422 error naming the field."
)


@router.get(
    "/api/dashboard/options",
    tags=["dashboard"],
    summary="What the dashboard can be filtered by",
    description="The months with data, the partnership areas (codes and names) and the kinds "
    "of serious violence of the local definition.",
)
def api_options(request: Request, who: Staff) -> Response:
    snap = snapshot(request)
    _read(request, "dashboard/options")
    return _json(snap.json("options"))


@router.get(
    "/api/dashboard/trend",
    tags=["dashboard"],
    summary="Monthly counts and rates, with control limits and the change on last year",
    description="Counts by month for the kind and area over the period, the rate per 1,000 "
    "residents per year, negative binomial control limits and flags, the change on the "
    "previous year (rate ratio with its 95% interval), and totals by kind and by area."
    + _FILTERS_DOC,
)
def api_trend(request: Request, who: Staff, f: Chosen) -> Response:
    body = snapshot(request).json("trend", f)
    _read(request, "dashboard/trend", f)
    return _json(body)


@router.get(
    "/api/dashboard/map",
    tags=["dashboard"],
    summary="LSOAs as GeoJSON with counts, rates and hotspots",
    description="A GeoJSON FeatureCollection of the area's LSOAs: count, rate per 1,000 "
    "residents per year, its class and colour on the map, and the Getis-Ord Gi* hotspot "
    "class (hot, cold or not significant at a 5% false discovery rate)." + _FILTERS_DOC,
)
def api_map(request: Request, who: Staff, f: Chosen) -> Response:
    body = snapshot(request).json("map", f)
    _read(request, "dashboard/map", f)
    return Response(content=body, media_type="application/geo+json")


@router.get(
    "/api/dashboard/area/{code}",
    tags=["dashboard"],
    summary="One LSOA or partnership area: series, kinds and deprivation",
    description="Drill-down to an LSOA or a partnership area (`area` is ignored: the code "
    "chooses it): monthly counts, counts by kind, rate, hotspot class, IMD deprivation and, "
    "for a partnership area, its busiest LSOAs." + _FILTERS_DOC,
)
def api_area(
    request: Request,
    who: Staff,
    code: Annotated[str, Path(pattern=CODE_PATTERN, description="LSOA or area code.")],
    f: Chosen,
) -> Response:
    snap = snapshot(request)
    try:
        body = snap.json("area", code, f)
    except FilterError as e:
        audit(request, "read", f"dashboard/area/{code}", "refused", reason="unknown area")
        raise HTTPException(404, detail=str(e)) from e
    _read(request, f"dashboard/area/{code}", f)
    return _json(body)


@router.get(
    "/api/dashboard/measures",
    tags=["dashboard"],
    summary="The Home Office success measures",
    description="Each measure's monthly series over the period, its total, and the latest 12 "
    "months against the first 12 as a negative binomial rate ratio (`kind` does not apply)."
    + _FILTERS_DOC,
)
def api_measures(request: Request, who: Staff, f: Chosen) -> Response:
    body = snapshot(request).json("measures", f)
    _read(request, "dashboard/measures", f)
    return _json(body)


@router.get(
    "/api/dashboard/quality",
    tags=["dashboard"],
    summary="Data quality by partner feed",
    description="Completeness, validity, timeliness and coverage of each partner's feed over "
    "the period, rated green, amber or red (`area` and `kind` do not apply)." + _FILTERS_DOC,
)
def api_quality(request: Request, who: Staff, f: Chosen) -> Response:
    body = snapshot(request).json("quality", f)
    _read(request, "dashboard/quality", f)
    return _json(body)


@router.get(
    "/api/dashboard/cohorts",
    tags=["dashboard"],
    summary="Cohorts: people counted across agencies",
    description="Repeat victims and suspects, victims who are also suspects, and under-25s' "
    "first knife offences with what agencies knew before, on linked person keys (counts of "
    "people only; `kind` does not apply)." + _FILTERS_DOC,
)
def api_cohorts(request: Request, who: Staff, f: Chosen) -> Response:
    body = snapshot(request).json("cohorts", f)
    _read(request, "dashboard/cohorts", f)
    return _json(body)


@router.get(
    "/api/public/figures",
    tags=["public"],
    summary="The published figures, in plain English",
    description="The assessment's figures after statistical disclosure control (no count from "
    "1 to 4 for any area, month or group, nor a total that gives one back): headline "
    "sentences, kinds and partnership areas. No sign-in needed.",
)
def api_public(request: Request) -> Response:
    return _json(snapshot(request).json("public_view"))


# --- pages ----------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def public_page(request: Request) -> HTMLResponse:
    return render(request, "public.html", {"view": snapshot(request).public_view()})


def _page_filters(request: Request, snap: Snapshot) -> tuple[Filters, list[dict[str, str]]]:
    """The page's filters from its query; bad ones are reported and the defaults used."""
    q = request.query_params
    try:
        return snap.filters(q.get("from"), q.get("to"), q.get("area"), q.get("kind")), []
    except FilterError as e:
        return snap.everything, e.errors


def _panels(snap: Snapshot, f: Filters) -> dict[str, Any]:
    trend = snap.trend(f)
    return {
        "f": f,
        "query": urlencode(f.query()),
        "trend": trend,
        "trend_chart": trend_chart(trend),
        "map": snap.map(f),
        "measures": snap.measures(f),
        "quality": snap.quality(f),
        "cohorts": snap.cohorts(f),
        "options": snap.options(),
        "month_words": month_words,
    }


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, who: Staff) -> HTMLResponse:
    snap = snapshot(request)
    f, errors = _page_filters(request, snap)
    _read(request, "dashboard", f)
    context = {**_panels(snap, f), "errors": errors}
    return render(request, "dashboard.html", context, status_code=422 if errors else 200)


@router.get("/dashboard/panels", response_class=HTMLResponse, include_in_schema=False)
def dashboard_panels(request: Request, who: Staff, f: Chosen) -> HTMLResponse:
    snap = snapshot(request)
    _read(request, "dashboard/panels", f)
    response = templates.TemplateResponse(request, "dashboard_panels.html", _panels(snap, f))
    response.headers["HX-Push-Url"] = "/dashboard?" + urlencode(f.query())
    return response


@router.get("/dashboard/area/{code}", response_class=HTMLResponse, include_in_schema=False)
def area_page(
    request: Request, who: Staff, code: Annotated[str, Path(pattern=CODE_PATTERN)]
) -> HTMLResponse:
    snap = snapshot(request)
    f, errors = _page_filters(request, snap)
    try:
        area = snap.area(code, f)
    except FilterError as e:
        audit(request, "read", f"dashboard/area/{code}", "refused", reason="unknown area")
        raise HTTPException(404, detail="There is no LSOA or partnership area " + code) from e
    _read(request, f"dashboard/area/{code}", f)
    chart = line_chart(
        {"Records": [(p["month"], p["count"]) for p in area["points"]]},
        title=f"{area['kind_label']} in {area['name']}, by month",
        y_label="Records per month",
    )
    return render(
        request,
        "area.html",
        {"area": area, "f": f, "errors": errors, "chart": chart, "options": snap.options(),
         "query": urlencode(f.query()), "month_words": month_words},
        status_code=422 if errors else 200,
    )  # fmt: skip


def trend_chart(trend: dict[str, Any]) -> str:
    """The monthly counts as an accessible SVG line chart, with the control limits as a band
    and flagged months marked."""
    points = trend["points"]
    name = "Records"
    flagged = [p["month"] for p in points if p["flag"]]
    where = trend["area_name"] if trend["filters"]["area"] != ALL else "the whole partnership"
    return line_chart(
        {name: [(p["month"], p["count"]) for p in points]},
        title=f"{trend['kind_label']} in {where}, by month",
        y_label="Records per month",
        band={name: [(p["month"], p["low"], p["high"]) for p in points if p["low"] is not None]},
        band_label="Control limits (from the 12 months before)",
        markers={name: flagged},
        marker_label="Month outside the control limits",
    )
