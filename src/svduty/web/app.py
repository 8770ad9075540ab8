"""The FastAPI application: ``create_app(settings)``.

Pages are rendered on the server (Jinja2, GOV.UK Frontend components); the REST API is under
``/api`` and documented at ``/openapi.json`` and ``/api/docs``. Every asset is served from the
package (``/static``): nothing is fetched from the internet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from svduty import __version__
from svduty.config import Settings
from svduty.privacy.keys import derive, master_key
from svduty.store import Store, open_store
from svduty.store import audit as store_audit
from svduty.web import errors
from svduty.web.security import COOKIE, SESSION_SECONDS, SessionCodec, TokenCache, new_session
from svduty.web.warehouse import WarehouseAccess

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
#: A signed-in session's cookie is signed again (its 8 hours start again) at most this often.
RESIGN_SECONDS = 300

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
    {"name": "commissioning", "description": "The interventions register and funding rounds."},
]


class SessionMiddleware:
    """Reads the session cookie into ``request.state.session``; writes it back when it changed
    (or, signed in, every few minutes, so that the session slides); adds the security headers.

    A plain ASGI middleware: it costs far less a request than ``@app.middleware("http")``. A
    visitor gets a cookie only when a page needs one (a form's CSRF token, signing in).
    """

    def __init__(self, app: ASGIApp, codec: SessionCodec) -> None:
        self.app = app
        self.codec = codec

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = SimpleCookie(Headers(scope=scope).get("cookie", "")).get(COOKIE)
        data = self.codec.loads(raw.value) if raw is not None else None
        state = scope.setdefault("state", {})
        state["session"] = data or new_session()
        state["session_fresh"] = data is None
        state["session_dirty"] = False
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                session = state["session"]
                now = int(time.time())
                stale = "uid" in session and now - int(session.get("iat", 0)) > RESIGN_SECONDS
                if state["session_dirty"] or stale:
                    session["iat"] = now
                    headers.append("set-cookie", self._cookie(session, scope))
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if ("uid" in session or path.startswith("/api")) and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cookie(self, session: dict[str, Any], scope: Scope) -> str:
        cookie: SimpleCookie = SimpleCookie()
        cookie[COOKIE] = self.codec.dumps(session)
        morsel = cookie[COOKIE]
        morsel["max-age"] = SESSION_SECONDS
        morsel["path"] = "/"
        morsel["httponly"] = True
        morsel["samesite"] = "lax"
        if scope.get("scheme") == "https":
            morsel["secure"] = True
        return morsel.OutputString()


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
    app.state.audit = store_audit.GroupWriter(store)
    app.state.token_cache = TokenCache()
    codec = SessionCodec(derive(master_key(settings), "web-session"))
    errors.install(app)

    app.add_middleware(SessionMiddleware, codec=codec)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    from svduty.web import account_routes, dashboard_routes, data_routes, upload_routes
    from svduty.web import commissioning_routes as commissioning

    for module in (account_routes, upload_routes, data_routes, dashboard_routes, commissioning):
        app.include_router(module.router)
    return app
