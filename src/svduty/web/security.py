"""Who is asking, and may they: sessions, CSRF, bearer tokens, roles, and the audit helper.

- **Pages** use a signed session cookie (``svduty_session``: HttpOnly, SameSite=Lax, Secure over
  HTTPS), which carries the user's id and a CSRF token; every form that changes something posts
  the token back (``csrf_token`` field or ``X-CSRF-Token`` header) and is refused without it.
- **The API** also accepts ``Authorization: Bearer <token>`` (``svduty users token``); a request
  that carries a bearer token is not a browser's, so it needs no CSRF token.
- :func:`require` guards an endpoint by role: 401 for the anonymous public, 403 for a role that
  is not allowed. Both are audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "svduty_session"
SESSION_SECONDS = 8 * 3600
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"

ROLE_LABELS = {
    "partner_data_officer": "Partner data officer",
    "analyst": "Analyst",
    "commissioner": "Commissioner",
    "dpo": "Data protection officer",
    "admin": "Administrator",
}
#: Every signed-in role.
STAFF = tuple(ROLE_LABELS)


@dataclass(frozen=True)
class Principal:
    """The person (or the anonymous public) behind a request."""

    user_id: int | None = None
    name: str = "anonymous"
    role: str = "public"
    org: str = ""
    auth: str = "anonymous"  # anonymous | session | token

    @property
    def is_public(self) -> bool:
        return self.user_id is None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, "Public")


PUBLIC = Principal()


class SessionCodec:
    """Signs and reads the session cookie's contents."""

    def __init__(self, secret: bytes) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="svduty-session")

    def dumps(self, data: dict[str, Any]) -> str:
        return self._s.dumps(data)

    def loads(self, value: str) -> dict[str, Any] | None:
        try:
            data = self._s.loads(value, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None


def new_session() -> dict[str, Any]:
    """A fresh anonymous session with its own CSRF token."""
    return {"csrf": secrets.token_urlsafe(32)}


def session_of(request: Request) -> dict[str, Any]:
    """The request's session (set up by the app's middleware)."""
    return request.state.session


def csrf_token(request: Request) -> str:
    """The session's CSRF token, for forms (a new visitor's session is kept from now on)."""
    if getattr(request.state, "session_fresh", False):
        request.state.session_dirty = True
    return str(session_of(request)["csrf"])


def sign_in(request: Request, user_id: int) -> None:
    """Start a signed-in session (a new CSRF token, so none from before sign-in survives)."""
    request.state.session = {**new_session(), "uid": user_id}
    request.state.session_dirty = True


def sign_out(request: Request) -> None:
    """End the session."""
    request.state.session = new_session()
    request.state.session_dirty = True


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def principal(request: Request) -> Principal:
    """The request's principal: from a bearer token, the session cookie, or the public."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    from svduty.store import users

    store = request.app.state.store
    who = PUBLIC
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
        cached_token = _token_cache(request).get(token)
        if cached_token is not None:
            request.state.principal = cached_token
            return cached_token
        user = users.user_for_token(store, token)
        if user is None:
            audit(request, "sign-in", request.url.path, "refused", method="bearer")
            # The rest of the request (its error page) is the public's, and audited once.
            request.state.principal = PUBLIC
            raise HTTPException(401, "The bearer token is unknown, expired or revoked.")
        who = _principal_of(user, "token")
        _token_cache(request).put(token, who)
    else:
        uid = session_of(request).get("uid")
        if uid is not None:
            user = users.get_user(store, int(uid))
            if user is not None and user.active:
                who = _principal_of(user, "session")
            else:
                sign_out(request)
    request.state.principal = who
    return who


class TokenCache:
    """Who each recently seen bearer token belongs to, for :data:`TOKEN_CACHE_SECONDS`, so that
    a script's burst of requests looks its token up once (a revoked token stops working within
    that time). Keys are the tokens' SHA-256, never the tokens."""

    def __init__(self, seconds: float = 10.0, size: int = 10_000) -> None:
        self.seconds = seconds
        self.size = size
        self._items: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> Principal | None:
        with self._lock:
            hit = self._items.get(self._key(token))
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def put(self, token: str, who: Principal) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[self._key(token)] = (time.monotonic() + self.seconds, who)


def _token_cache(request: Request) -> TokenCache:
    return request.app.state.token_cache


def _principal_of(user: Any, auth: str) -> Principal:
    return Principal(
        user_id=user.id,
        name=user.name,
        role=user.role,
        org=user.org.short_name if user.org is not None else "",
        auth=auth,
    )


def require(*roles: str) -> Callable[[Request], Principal]:
    """A dependency that lets through only the given roles (401 for the public, 403 others)."""
    allowed = frozenset(roles)

    def dependency(request: Request) -> Principal:
        who = principal(request)
        if who.is_public:
            audit(request, "access", request.url.path, "refused", reason="not signed in")
            raise HTTPException(401, "Sign in to see this.")
        if who.role not in allowed:
            audit(request, "access", request.url.path, "refused", reason="role not allowed")
            raise HTTPException(403, "Your role does not give access to this.")
        return who

    dependency.__name__ = "require_" + "_".join(sorted(allowed))
    return dependency


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing browser request without the session's CSRF token.

    A request with a bearer token needs none, but only once the token is known to be valid:
    ``Authorization: Bearer anything`` must not switch the check off (401, audited).
    """
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        principal(request)  # raises 401 for an unknown, expired or revoked token
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    expected = csrf_token(request)
    if not sent or not hmac.compare_digest(sent, expected):
        principal(request)  # so the audit trail names the session's user, if signed in
        audit(request, "csrf", request.url.path, "refused")
        raise HTTPException(403, "The form had expired or did not come from svduty; try again.")


def audit(request: Request, action: str, resource: str, outcome: str = "ok", **detail: Any) -> None:
    """Record an audit event for this request, as its principal."""
    who = getattr(request.state, "principal", None) or PUBLIC
    request.app.state.audit.record(
        actor=who.name,
        role=who.role,
        org=who.org,
        action=action,
        resource=resource,
        outcome=outcome,
        ip=client_ip(request),
        detail=detail,
    )
