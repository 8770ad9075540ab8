"""Server-rendered pages: Jinja2 templates with the principal, CSRF token and navigation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from svduty import __version__
from svduty.web.security import STAFF, csrf_token, principal

TEMPLATES = Path(__file__).with_name("templates")
templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.globals["svduty_version"] = __version__

#: The navigation: (path, label, roles that see it; None for everyone).
NAV: list[tuple[str, str, tuple[str, ...] | None]] = [
    ("/", "Public figures", None),
    ("/dashboard", "Dashboard", STAFF),
    ("/commissioning", "Commissioning", ("commissioner", "analyst", "dpo", "admin")),
    ("/uploads", "Uploads", ("partner_data_officer", "admin")),
    ("/audit", "Audit trail", ("dpo", "admin")),
    ("/admin", "Users and agreements", ("admin", "dpo")),
]


def nav_for(request: Request) -> list[dict[str, Any]]:
    """The navigation items this principal may use, the current one marked."""
    who = principal(request)
    path = request.url.path
    items = []
    for href, label, roles in NAV:
        if roles is not None and who.role not in roles:
            continue
        current = path == href if href == "/" else path.startswith(href)
        items.append({"href": href, "label": label, "current": current})
    return items


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page with the principal, the CSRF token and the navigation in its context."""
    settings = request.app.state.settings
    ctx = {
        "principal": principal(request),
        "csrf_token": csrf_token(request),
        "nav": nav_for(request),
        "oidc_enabled": bool(settings.oidc_issuer and settings.oidc_client_id),
        "oidc_label": settings.oidc_label,
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
