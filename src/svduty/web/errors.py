"""One error shape for the API, and error pages for people.

Every API error is ``{"ok": false, "error": "...", "errors": [...], "status": N}``; a page
request (not under ``/api``) gets an error page instead, or is sent to sign in on 401.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

TITLES = {
    400: "The request could not be read",
    401: "Sign in to see this page",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That cannot be done here",
    413: "The file is too large",
    422: "Some of what was sent is not valid",
    500: "Sorry, there is a problem with the service",
}


def error_body(status: int, error: str, errors: list[Any] | None = None) -> dict[str, Any]:
    """The API's error object.

    >>> error_body(404, "Not found")
    {'ok': False, 'error': 'Not found', 'errors': [], 'status': 404}
    """
    return {"ok": False, "error": error, "errors": errors or [], "status": status}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path == "/openapi.json"


def _respond(request: Request, status: int, error: str, errors: list[Any]) -> Response:
    if _is_api(request) or request.headers.get("hx-request"):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(status, error, errors), status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    from svduty.web.security import PUBLIC, principal
    from svduty.web.templating import render

    try:
        principal(request)
    except StarletteHTTPException:
        # The principal is what failed (an unknown bearer token): show the page as the public's,
        # rather than failing again while rendering the error.
        request.state.principal = PUBLIC
    return render(
        request,
        "error.html",
        {"status": status, "title": TITLES.get(status, "Something went wrong"), "error": error,
         "errors": errors},
        status_code=status,
    )  # fmt: skip


def install(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        errors = exc.detail if isinstance(exc.detail, list) else []
        return _respond(request, exc.status_code, detail or TITLES.get(exc.status_code, ""), errors)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "location": ".".join(str(p) for p in e.get("loc", ())),
                "message": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        return _respond(request, 422, TITLES[422], errors)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("Unhandled error on %s %s", request.method, request.url.path)
        return _respond(request, 500, TITLES[500], [])
