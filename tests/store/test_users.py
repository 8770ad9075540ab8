"""Users: Argon2 hashes, sign-in with lockout, tokens, rights changes audited."""

from __future__ import annotations

import datetime as dt

import pytest

from svduty.store import audit
from svduty.store.agreements import ensure_orgs
from svduty.store.db import Store
from svduty.store.models import User
from svduty.store.users import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    UserError,
    WeakPassword,
    authenticate,
    create_token,
    create_user,
    deactivate,
    get_user,
    hash_password,
    list_users,
    oidc_user,
    revoke_token,
    set_role,
    unlock,
    user_for_token,
)

PASSWORD = "correct horse battery staple"  # noqa: S105 (a test fixture)


@pytest.fixture
def ana(store: Store) -> User:
    ensure_orgs(store)
    return create_user(store, "ana", "analyst", "health", PASSWORD)


def test_password_is_kept_only_as_an_argon2id_hash(store: Store, ana: User) -> None:
    with store.sessions() as s:
        row = s.get(User, ana.id)
        assert row is not None and row.password_hash is not None
        assert row.password_hash.startswith("$argon2id$")
        assert PASSWORD not in row.password_hash
    assert all("password_hash" not in u and PASSWORD not in str(u) for u in list_users(store))


def test_short_password_refused_with_a_clear_message() -> None:
    with pytest.raises(WeakPassword, match="at least 12"):
        hash_password("short")


def test_create_user_checks_role_org_and_name(store: Store, ana: User) -> None:
    with pytest.raises(UserError, match="unknown role"):
        create_user(store, "bob", "superuser", "police", PASSWORD)
    with pytest.raises(UserError, match="no organisation 'nowhere'"):
        create_user(store, "bob", "analyst", "nowhere", PASSWORD)
    with pytest.raises(UserError, match="taken"):
        create_user(store, "ana", "analyst", "police", PASSWORD)
    user = get_user(store, ana.id)
    assert user is not None and user.org is not None and user.org.short_name == "health"


def test_sign_in_outcomes_are_audited_without_the_password(store: Store, ana: User) -> None:
    assert authenticate(store, "ana", PASSWORD, ip="10.0.0.1").reason == "ok"
    assert authenticate(store, "ana", "not the password at all").reason == "wrong-password"
    result = authenticate(store, "nobody", PASSWORD)
    assert (result.user, result.reason) == (None, "unknown")
    events = audit.search(store, action="sign-in")
    assert [(e["actor"], e["outcome"]) for e in events] == [
        ("nobody", "refused"),
        ("ana", "refused"),
        ("ana", "ok"),
    ]
    assert events[-1]["ip"] == "10.0.0.1" and events[-1]["org"] == "health"
    assert all(PASSWORD not in str(e) for e in audit.search(store))
    assert audit.verify(store) == (4, [])


def test_lockout_after_five_failures_then_released(store: Store, ana: User) -> None:
    t0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    for _ in range(MAX_FAILED_LOGINS):
        assert authenticate(store, "ana", "wrong password!!", now=t0).reason == "wrong-password"
    # locked: even the right password is refused until the period ends
    assert authenticate(store, "ana", PASSWORD, now=t0).reason == "locked"
    almost = t0 + LOCKOUT - dt.timedelta(seconds=1)
    assert authenticate(store, "ana", PASSWORD, now=almost).reason == "locked"
    after = authenticate(store, "ana", PASSWORD, now=t0 + LOCKOUT + dt.timedelta(seconds=1))
    assert after.reason == "ok" and after.user is not None and after.user.failed_logins == 0


def test_success_resets_the_failure_count(store: Store, ana: User) -> None:
    t0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    for _ in range(MAX_FAILED_LOGINS - 1):
        authenticate(store, "ana", "wrong password!!", now=t0)
    assert authenticate(store, "ana", PASSWORD, now=t0).ok
    for _ in range(MAX_FAILED_LOGINS - 1):
        authenticate(store, "ana", "wrong password!!", now=t0)
    assert authenticate(store, "ana", PASSWORD, now=t0).ok


def test_unlock_and_deactivate_are_rights_changes(store: Store, ana: User) -> None:
    t0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    for _ in range(MAX_FAILED_LOGINS):
        authenticate(store, "ana", "wrong password!!", now=t0)
    unlock(store, "ana", actor="admin1")
    assert authenticate(store, "ana", PASSWORD, now=t0).ok
    token = create_token(store, ana.id, "script")
    deactivate(store, "ana", actor="admin1")
    assert authenticate(store, "ana", PASSWORD).reason == "inactive"
    assert user_for_token(store, token) is None
    set_role(store, "ana", "commissioner", org="police", actor="admin1")
    user = get_user(store, ana.id)
    assert user is not None and user.role == "commissioner" and user.org is not None
    assert user.org.short_name == "police"
    changes = [e["detail"]["change"] for e in audit.search(store, action="rights")]
    assert changes == ["role", "deactivated", "token-created", "unlocked", "user-created"]
    assert audit.verify(store)[1] == []


def test_tokens_are_stored_hashed_and_expire(store: Store, ana: User) -> None:
    token = create_token(store, ana.id, "nightly export", days=1)
    user = user_for_token(store, token)
    assert user is not None and user.name == "ana" and user.org is not None
    assert user.org.short_name == "health"
    assert user_for_token(store, token + "x") is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    assert user_for_token(store, token, now=later) is None
    from sqlalchemy import select

    from svduty.store.models import ApiToken

    with store.sessions() as s:
        row = s.execute(select(ApiToken)).scalar_one()
        assert row.token_hash != token and len(row.token_hash) == 64
    assert revoke_token(store, row.id)
    assert user_for_token(store, token) is None
    assert not revoke_token(store, row.id)


def test_oidc_users_are_provisioned_not_created(store: Store) -> None:
    ensure_orgs(store)
    assert oidc_user(store, "sub-123", "Ana") is None
    create_user(store, "ana", "dpo", "council", None, oidc_subject="sub-123")
    user = oidc_user(store, "sub-123", "Ana")
    assert user is not None and user.name == "ana" and user.org is not None
    # no password: password sign-in is impossible
    assert authenticate(store, "ana", "").reason == "wrong-password"
    assert [e["outcome"] for e in audit.search(store, action="sign-in")][-2:] == ["ok", "refused"]
