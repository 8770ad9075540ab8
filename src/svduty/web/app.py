"""The FastAPI application: ``create_app(settings)``.

Pages are rendered on the server (Jinja2, GOV.UK Frontend components); the REST API is under
``/api`` and documented at ``/openapi.json`` and ``/api/docs``. Every asset is served from the
package (``/static``): nothing is fetched from the internet.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from svduty import __version__
from svduty.config import Settings
from svduty.privacy.keys import derive, master_key
from svduty.store import Store, open_store
from svduty.web import errors
from svduty.web.security import COOKIE, SESSION_SECONDS, SessionCodec, new_session
from svduty.web.warehouse import WarehouseAccess

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")

#: Sent with every response: only our own scripts run; no framing; no sniffing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

TAGS = [
    {"name": "health", "description": "Whether the service is up."},
    {"name": "account", "description": "Sign-in and the signed-in user."},
    {"name": "dashboard", "description": "The needs assessment's figures, filtered."},
    {"name": "public", "description": "The published, disclosure-controlled figures."},
    {"name": "uploads", "description": "Partner extracts uploaded and their validation."},
    {"name": "data", "description": "Feeds, their agreements, and record-level rows."},
    {"name": "audit", "description": "The audit trail (data protection officer)."},
]


def create_app(
    settings: Settings, *, store: Store | None = None, warehouse_con: Any | None = None
) -> FastAPI:
    """The web application over the data folder in ``settings``.

    Args:
        settings: the data folder, key and store settings.
        store: an operational store already open (default: ``open_store(settings)``).
        warehouse_con: a warehouse connection to share (default: opened on first use).
    """
    store = store or open_store(settings)
    warehouse = WarehouseAccess(settings, warehouse_con)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        warehouse.close()

    app = FastAPI(
        title="svduty",
        version=__version__,
        summary="Serious Violence Duty partnership platform: the REST API.",
        description=(
            "Sign in with a session (the pages) or a bearer token (`svduty users token NAME`). "
            "Errors always have the shape "
            '`{"ok": false, "error": "...", "errors": [...], "status": N}`.'
        ),
        openapi_tags=TAGS,
        docs_url="/api/docs",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.warehouse = warehouse
    codec = SessionCodec(derive(master_key(settings), "web-session"))
    errors.install(app)

    @app.middleware("http")
    async def session_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        raw = request.cookies.get(COOKIE)
        data = codec.loads(raw) if raw else None
        request.state.session = data or new_session()
        request.state.session_dirty = data is None
        response = await call_next(request)
        if request.state.session_dirty or "uid" in request.state.session:
            response.set_cookie(
                COOKIE,
                codec.dumps(request.state.session),
                max_age=SESSION_SECONDS,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
                path="/",
            )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if "uid" in request.state.session or request.url.path.startswith("/api"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    from svduty.web import account_routes, dashboard_routes, data_routes, upload_routes

    for module in (account_routes, upload_routes, data_routes, dashboard_routes):
        app.include_router(module.router)
    return app
