"""Sign-in and sign-out, the signed-in user, the service's health and accessibility statement."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from svduty import __version__
from svduty.web.security import (
    STAFF,
    Principal,
    audit,
    check_csrf,
    client_ip,
    principal,
    require,
    sign_in,
    sign_out,
)
from svduty.web.templating import render

router = APIRouter()

LOCKED_MESSAGE = (
    "Too many wrong passwords: this account is locked for 15 minutes. "
    "Your administrator can unlock it sooner."
)
#: Where each role lands after signing in.
HOME = {"partner_data_officer": "/uploads", "dpo": "/audit"}


class Health(BaseModel):
    ok: bool
    version: str
    store: str


class Me(BaseModel):
    ok: bool = True
    name: str
    role: str
    role_label: str
    org: str
    auth: str


def _safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site: never another host (``//evil`` or ``https://...``).

    >>> _safe_next("//evil.example/x", "/dashboard")
    '/dashboard'
    >>> _safe_next("/dashboard?area=E1", "/")
    '/dashboard?area=E1'
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return fallback
    return target


@router.get("/api/health", tags=["health"], response_model=Health, summary="Is the service up?")
def health(request: Request) -> Health:
    """200 once the service is ready; says which store it uses (``sqlite`` or ``postgresql``)."""
    return Health(ok=True, version=__version__, store=request.app.state.store.dialect)


@router.get("/api/me", tags=["account"], response_model=Me, summary="The signed-in user")
def me(who: Annotated[Principal, Depends(require(*STAFF))]) -> Me:
    """Who the session or bearer token belongs to: name, role and organisation."""
    return Me(name=who.name, role=who.role, role_label=who.role_label, org=who.org, auth=who.auth)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    who = principal(request)
    if not who.is_public:
        return RedirectResponse(_safe_next(next, HOME.get(who.role, "/dashboard")), 303)
    return render(request, "login.html", {"next": _safe_next(next, ""), "errors": {}})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login(
    request: Request,
    _: Annotated[None, Depends(check_csrf)],
    name: Annotated[str, Form(max_length=120)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    from svduty.store import users

    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Enter your user name"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105
    if not errors:
        result = users.authenticate(
            request.app.state.store, name.strip(), password, ip=client_ip(request)
        )
        if result.user is not None:
            sign_in(request, result.user.id)
            request.state.principal = None
            home = HOME.get(result.user.role, "/dashboard")
            return RedirectResponse(_safe_next(next, home), status_code=303)
        if result.reason == "locked":
            errors["password"] = LOCKED_MESSAGE
        else:
            errors["password"] = "The user name or password is not right"  # noqa: S105
    context: dict[str, Any] = {"next": _safe_next(next, ""), "errors": errors, "name": name}
    return render(request, "login.html", context, status_code=400 if errors else 200)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, _: Annotated[None, Depends(check_csrf)]) -> Response:
    who = principal(request)
    if not who.is_public:
        audit(request, "sign-out", "/logout")
    sign_out(request)
    request.state.principal = None
    return RedirectResponse("/login?signed_out=1", status_code=303)


@router.get("/accessibility", response_class=HTMLResponse, include_in_schema=False)
def accessibility(request: Request) -> Response:
    return render(request, "accessibility.html")
