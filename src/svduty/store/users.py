"""Users: Argon2 password hashes, sign-in with lockout, API tokens and OIDC subjects.

Every sign-in attempt (including one with an unknown user name) and every change of rights is
an event of the audit trail. Passwords are never stored, logged or shown: only their Argon2id
hashes are kept, and API tokens only as their SHA-256.

Examples:
    >>> h = hash_password("correct horse battery")
    >>> h.startswith("$argon2id$"), check_password(h, "correct horse battery")
    (True, True)
    >>> check_password(h, "wrong password!")
    False
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from svduty.errors import SvdutyError
from svduty.store import audit
from svduty.store.db import Store
from svduty.store.models import ROLES, ApiToken, Organisation, User, stamp, utcnow

#: The shortest password accepted.
MIN_PASSWORD_LENGTH = 12
#: Consecutive failed sign-ins that lock an account.
MAX_FAILED_LOGINS = 5
#: How long a locked account stays locked.
LOCKOUT = dt.timedelta(minutes=15)

_hasher = PasswordHasher()
# Verified against when the user name is unknown, so that the reply takes as long as for a real one.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(24))

Reason = Literal["ok", "unknown", "wrong-password", "locked", "inactive"]


class UserError(ValueError, SvdutyError):
    """A user could not be created or changed (unknown role or organisation, name taken...)."""


class WeakPassword(UserError):
    """A password is too short."""


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password``, refusing one shorter than :data:`MIN_PASSWORD_LENGTH`.

    Raises:
        WeakPassword: the password is too short.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"the password has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH} "
            "(a passphrase of three or four words is easiest to remember)"
        )
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False for no hash or a malformed one)."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _actor_fields(actor: str, actor_role: str, actor_org: str, ip: str) -> dict[str, str]:
    return {"actor": actor, "role": actor_role, "org": actor_org, "ip": ip}


def _find(s: Session, user: str | int, *, lock: bool = False) -> User:
    q = select(User).options(joinedload(User.org))
    q = q.where(User.id == user) if isinstance(user, int) else q.where(User.name == user)
    if lock:
        q = q.with_for_update(of=User)
    found = s.execute(q).scalar()
    if found is None:
        raise UserError(f"there is no user {user!s}; `svduty users list` shows them")
    return found


def _org(s: Session, short_name: str | None) -> Organisation | None:
    if not short_name:
        return None
    org = s.execute(select(Organisation).where(Organisation.short_name == short_name)).scalar()
    if org is None:
        known = ", ".join(s.execute(select(Organisation.short_name)).scalars()) or "none yet"
        raise UserError(
            f"there is no organisation {short_name!r} (known: {known}); "
            "`svduty demo` or `svduty orgs list` shows them"
        )
    return org


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")


def public(user: User) -> dict[str, Any]:
    """A user as shown to administrators: never the password hash."""
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "org": user.org.short_name if user.org else None,
        "active": user.active,
        "sso": user.oidc_subject is not None,
        "failed_logins": user.failed_logins,
        "locked_until": user.locked_until,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


def create_user(
    store: Store,
    name: str,
    role: str,
    org: str | None,
    password: str | None,
    *,
    oidc_subject: str | None = None,
    actor: str = "cli",
    actor_role: str = "",
    actor_org: str = "",
    ip: str = "",
) -> User:
    """Create a user with a role in an organisation (``org`` is its short name).

    ``password`` may be None for a user who signs in only through OIDC (``oidc_subject``).

    Raises:
        UserError: an unknown role or organisation, a taken name, or no way to sign in.
        WeakPassword: the password is too short.

    Examples:
        >>> from svduty.store.db import Store
        >>> store = Store("sqlite://"); store.upgrade()
        >>> create_user(store, "ana", "analyst", None, "a long enough password").role
        'analyst'
    """
    name = name.strip()
    if not name or len(name) > 120:
        raise UserError("a user name has 1 to 120 characters")
    _check_role(role)
    if password is None and oidc_subject is None:
        raise UserError("give a password, or an OIDC subject for single sign-on")
    password_hash = hash_password(password) if password is not None else None
    with store.session() as s:
        org_row = _org(s, org)
        if s.execute(select(User.id).where(User.name == name)).scalar() is not None:
            raise UserError(f"the user name {name!r} is taken")
        user = User(
            name=name,
            role=role,
            org=org_row,
            password_hash=password_hash,
            oidc_subject=oidc_subject,
            active=True,
            failed_logins=0,
        )
        s.add(user)
        s.flush()
        audit.append(
            s,
            **_actor_fields(actor, actor_role, actor_org, ip),
            action="rights",
            resource=f"user:{name}",
            detail={"change": "user-created", "role": role, "org": org, "sso": bool(oidc_subject)},
        )
    return user


def _change(
    store: Store,
    user: str | int,
    change: str,
    apply: Any,
    *,
    actor: str,
    actor_role: str,
    actor_org: str,
    ip: str,
) -> User:
    with store.session() as s:
        row = _find(s, user, lock=True)
        detail = {"change": change, **(apply(row) or {})}
        audit.append(
            s,
            **_actor_fields(actor, actor_role, actor_org, ip),
            action="rights",
            resource=f"user:{row.name}",
            detail=detail,
        )
    return row


def set_role(
    store: Store,
    user: str | int,
    role: str,
    *,
    org: str | None = None,
    actor: str = "cli",
    actor_role: str = "",
    actor_org: str = "",
    ip: str = "",
) -> User:
    """Give a user (by name or id) another role, and optionally move them to another organisation.

    Raises:
        UserError: an unknown user, role or organisation.
    """
    _check_role(role)

    def apply(row: User) -> dict[str, Any]:
        before = {"from_role": row.role, "from_org": row.org.short_name if row.org else None}
        row.role = role
        if org is not None:
            row.org = _org(Session.object_session(row), org)  # type: ignore[arg-type]
        return {**before, "role": role, "org": row.org.short_name if row.org else None}

    return _change(
        store, user, "role", apply, actor=actor, actor_role=actor_role, actor_org=actor_org, ip=ip
    )


def deactivate(
    store: Store,
    user: str | int,
    *,
    actor: str = "cli",
    actor_role: str = "",
    actor_org: str = "",
    ip: str = "",
) -> User:
    """Stop a user (by name or id) signing in, and revoke their API tokens."""

    def apply(row: User) -> dict[str, Any]:
        row.active = False
        s = Session.object_session(row)
        assert s is not None
        tokens = s.execute(
            select(ApiToken).where(ApiToken.user_id == row.id, ApiToken.revoked_at.is_(None))
        ).scalars()
        revoked = 0
        for t in tokens:
            t.revoked_at = stamp()
            revoked += 1
        return {"tokens_revoked": revoked}

    return _change(
        store,
        user,
        "deactivated",
        apply,
        actor=actor,
        actor_role=actor_role,
        actor_org=actor_org,
        ip=ip,
    )


def unlock(
    store: Store,
    user: str | int,
    *,
    actor: str = "cli",
    actor_role: str = "",
    actor_org: str = "",
    ip: str = "",
) -> User:
    """Clear a user's failed sign-ins and lockout (and reactivate them if deactivated)."""

    def apply(row: User) -> dict[str, Any]:
        before = {"was_locked_until": row.locked_until, "was_active": row.active}
        row.failed_logins = 0
        row.locked_until = None
        row.active = True
        return before

    return _change(
        store,
        user,
        "unlocked",
        apply,
        actor=actor,
        actor_role=actor_role,
        actor_org=actor_org,
        ip=ip,
    )


def set_password(
    store: Store,
    user: str | int,
    password: str,
    *,
    actor: str = "cli",
    actor_role: str = "",
    actor_org: str = "",
    ip: str = "",
) -> User:
    """Replace a user's password (by name or id).

    Raises:
        WeakPassword: the password is too short.
    """
    password_hash = hash_password(password)

    def apply(row: User) -> dict[str, Any]:
        row.password_hash = password_hash
        return {}

    return _change(
        store,
        user,
        "password",
        apply,
        actor=actor,
        actor_role=actor_role,
        actor_org=actor_org,
        ip=ip,
    )


def list_users(store: Store) -> list[dict[str, Any]]:
    """Every user, as :func:`public` shows them, by name."""
    with store.sessions() as s:
        rows = s.execute(select(User).options(joinedload(User.org)).order_by(User.name)).scalars()
        return [public(u) for u in rows]


def get_user(store: Store, user_id: int) -> User | None:
    """The user with this id, organisation loaded (usable outside the session), or None."""
    with store.sessions() as s:
        return s.execute(
            select(User).options(joinedload(User.org)).where(User.id == user_id)
        ).scalar()


def get_user_by_name(store: Store, name: str) -> User | None:
    """The user with this name, organisation loaded, or None."""
    with store.sessions() as s:
        return s.execute(
            select(User).options(joinedload(User.org)).where(User.name == name)
        ).scalar()


@dataclass
class AuthResult:
    """The outcome of a sign-in: the user when ``reason`` is ``"ok"``, otherwise None.

    ``reason`` is for the audit trail and for tests; show the person a single generic message
    whatever it is, so that the page does not reveal which user names exist.
    """

    user: User | None
    reason: Reason

    @property
    def ok(self) -> bool:
        """Whether the sign-in succeeded."""
        return self.reason == "ok"


def authenticate(
    store: Store, name: str, password: str, *, ip: str = "", now: dt.datetime | None = None
) -> AuthResult:
    """Check a user name and password, applying the lockout, and audit the attempt.

    :data:`MAX_FAILED_LOGINS` consecutive failures lock the account for :data:`LOCKOUT`; a
    success resets the count. A locked or deactivated account is refused even with the right
    password. ``now`` is for tests.
    """
    moment = now or utcnow()
    at = stamp(moment)
    name = name.strip()
    with store.sessions() as s:
        found = s.execute(select(User).where(User.name == name)).scalar()
        stored_hash = found.password_hash if found is not None else None
    # Verify outside any transaction: Argon2 is slow on purpose and SQLite writers queue.
    matches = check_password(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    reason: Reason
    with store.session() as s:
        user = None
        if found is None:
            reason = "unknown"
        else:
            user = _find(s, found.id, lock=True)
            locked = user.locked_until is not None and user.locked_until > at
            if not user.active:
                reason = "inactive"
            elif locked:
                reason = "locked"
            elif not matches:
                reason = "wrong-password"
                expired = user.locked_until is not None and user.locked_until <= at
                user.failed_logins = (0 if expired else user.failed_logins) + 1
                if expired:
                    user.locked_until = None
                if user.failed_logins >= MAX_FAILED_LOGINS:
                    user.locked_until = stamp(moment + LOCKOUT)
            else:
                reason = "ok"
                user.failed_logins = 0
                user.locked_until = None
                user.last_login_at = at
                if _hasher.check_needs_rehash(user.password_hash or ""):
                    user.password_hash = _hasher.hash(password)
        detail: dict[str, Any] = {"method": "password", "reason": reason}
        if user is not None and user.locked_until and reason == "wrong-password":
            detail["locked_until"] = user.locked_until
        audit.append(
            s,
            actor=name,
            role=user.role if user is not None else "",
            org=user.org.short_name if user is not None and user.org else "",
            ip=ip,
            action="sign-in",
            resource=f"user:{name}",
            outcome="ok" if reason == "ok" else "refused",
            detail=detail,
        )
    return AuthResult(user if reason == "ok" else None, reason)


def oidc_user(store: Store, subject: str, name: str = "", *, ip: str = "") -> User | None:
    """The active user provisioned with this OIDC subject, or None; audits the sign-in.

    Users are never created here: an administrator provisions them (``create_user`` with
    ``oidc_subject``). ``name`` is the identity provider's name claim, recorded in the trail.
    """
    with store.session() as s:
        user = s.execute(
            select(User).options(joinedload(User.org)).where(User.oidc_subject == subject)
        ).scalar()
        ok = user is not None and user.active
        if ok:
            assert user is not None
            user.last_login_at = stamp()
        audit.append(
            s,
            actor=user.name if user is not None else (name or "(unknown)"),
            role=user.role if user is not None else "",
            org=user.org.short_name if user is not None and user.org else "",
            ip=ip,
            action="sign-in",
            resource=f"user:{user.name if user is not None else name}",
            outcome="ok" if ok else "refused",
            detail={
                "method": "oidc",
                "reason": "ok" if ok else ("inactive" if user is not None else "unknown"),
            },
        )
    return user if ok else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    store: Store,
    user_id: int,
    name: str = "",
    days: int = 90,
    *,
    actor: str = "cli",
    actor_role: str = "",
    actor_org: str = "",
    ip: str = "",
) -> str:
    """Issue an API bearer token for a user; the plain token is returned once, never stored.

    Raises:
        UserError: an unknown or deactivated user, or ``days`` below 1.
    """
    if days < 1:
        raise UserError(f"a token lasts at least 1 day (found {days})")
    token = secrets.token_urlsafe(32)
    with store.session() as s:
        user = _find(s, user_id)
        if not user.active:
            raise UserError(f"the user {user.name} is deactivated; `svduty users unlock` first")
        row = ApiToken(
            user_id=user.id,
            name=name[:120],
            token_hash=_token_hash(token),
            expires_at=stamp(utcnow() + dt.timedelta(days=days)),
        )
        s.add(row)
        s.flush()
        audit.append(
            s,
            **_actor_fields(actor, actor_role, actor_org, ip),
            action="rights",
            resource=f"user:{user.name}",
            detail={"change": "token-created", "token_id": row.id, "name": name, "days": days},
        )
    return token


def user_for_token(store: Store, token: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user a bearer token belongs to, or None when it is unknown, revoked or expired."""
    if not token:
        return None
    at = stamp(now)
    with store.sessions() as s:
        row = s.execute(
            select(ApiToken)
            .options(joinedload(ApiToken.user).joinedload(User.org))
            .where(ApiToken.token_hash == _token_hash(token))
        ).scalar()
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= at:
            return None
        return row.user if row.user.active else None


def list_tokens(store: Store, user_id: int) -> list[dict[str, Any]]:
    """A user's tokens (never the token itself), newest first."""
    with store.sessions() as s:
        rows = s.execute(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        ).scalars()
        return [
            {
                "id": t.id,
                "name": t.name,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "revoked_at": t.revoked_at,
            }
            for t in rows
        ]


def revoke_token(
    store: Store,
    token_id: int,
    *,
    actor: str = "cli",
    actor_role: str = "",
    actor_org: str = "",
    ip: str = "",
) -> bool:
    """Revoke a token by its id; False when there is no such live token."""
    with store.session() as s:
        row = s.execute(
            select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.id == token_id)
        ).scalar()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = stamp()
        audit.append(
            s,
            **_actor_fields(actor, actor_role, actor_org, ip),
            action="rights",
            resource=f"user:{row.user.name}",
            detail={"change": "token-revoked", "token_id": row.id},
        )
    return True
