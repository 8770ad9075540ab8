"""Sign-in and sign-out, the signed-in user, the service's health and accessibility statement."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
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
    session_of,
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


@router.get("/login/oidc", include_in_schema=False)
def login_oidc(request: Request, next: str | None = None) -> Response:
    """Send the person to the organisation's identity provider."""
    from svduty.web import oidc

    settings = request.app.state.settings
    if not oidc.enabled(settings):
        raise HTTPException(404, "Single sign-on is not set up for this service.")
    try:
        url, kept = oidc.start(settings, str(request.url_for("login_oidc_callback")))
    except oidc.OidcError as e:
        return render(request, "login.html", {"next": "", "errors": {"name": str(e)}}, 502)
    request.state.session = {**session_of(request), "oidc": {**kept, "next": next or ""}}
    request.state.session_dirty = True
    return RedirectResponse(url, status_code=303)


@router.get("/login/oidc/callback", include_in_schema=False)
def login_oidc_callback(
    request: Request,
    code: Annotated[str, Query(max_length=4000)] = "",
    state: Annotated[str, Query(max_length=200)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Back from the identity provider: check its answer, then sign in the user it names."""
    from svduty.store import users
    from svduty.web import oidc

    settings = request.app.state.settings
    if not oidc.enabled(settings):
        raise HTTPException(404, "Single sign-on is not set up for this service.")
    kept = session_of(request).get("oidc") or {}
    problem = ""
    if error:
        problem = "The identity provider did not sign you in."
    elif not kept or not state or not hmac.compare_digest(state, kept.get("state", "")):
        problem = "The sign-in had expired or did not start here; try again."
    claims: dict[str, Any] = {}
    if not problem:
        try:
            claims = oidc.finish(settings, code, kept)
        except oidc.OidcError as e:
            problem = str(e)
    user = None
    if not problem:
        user = users.oidc_user(
            request.app.state.store,
            str(claims["sub"]),
            str(claims.get("preferred_username") or claims.get("email") or ""),
            ip=client_ip(request),
        )
        if user is None:
            problem = "Your account is not set up in svduty: ask your partnership's administrator."
    if user is None:
        audit(request, "sign-in", "/login/oidc", "refused", method="oidc", reason=problem)
        context = {"next": "", "errors": {"name": problem}}
        return render(request, "login.html", context, status_code=403)
    sign_in(request, user.id)
    request.state.principal = None
    home = HOME.get(user.role, "/dashboard")
    return RedirectResponse(_safe_next(kept.get("next"), home), status_code=303)


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
