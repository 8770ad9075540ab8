"""The audit trail under concurrent writers, and tampering found by verify."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, update

from svduty.store import audit
from svduty.store.db import Store
from svduty.store.models import AuditEvent


def _fill(store: Store, n: int) -> None:
    for i in range(n):
        audit.record(store, actor=f"user{i}", action="export", resource=f"report:{i}")


def test_concurrent_appends_chain_one_after_another(store: Store) -> None:
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(50):
                audit.record(store, actor=f"t{k}", action="export", resource=str(i))
        except BaseException as e:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    count, problems = audit.verify(store)
    assert (count, problems) == (200, [])
    with store.sessions() as s:
        ids = list(s.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars())
    assert ids == list(range(1, 201))


@pytest.mark.parametrize("target", [3, 6])
def test_verify_finds_an_edited_event(store: Store, target: int) -> None:
    _fill(store, 6)
    with store.session() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == target).values(actor="someone else"))
    count, problems = audit.verify(store)
    assert count == 6
    assert any(p.event_id == target and "changed" in p.message for p in problems)


def test_verify_finds_a_deleted_middle_event(store: Store) -> None:
    _fill(store, 6)
    with store.session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == 3))
    count, problems = audit.verify(store)
    assert count == 5 and problems
    assert any("3 to 3 are missing" in p.message for p in problems)


def test_verify_finds_deleted_newest_events(store: Store) -> None:
    _fill(store, 6)
    with store.session() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id >= 5))
    count, problems = audit.verify(store)
    assert count == 4
    assert any("5 to 6 are missing" in p.message for p in problems)


def test_verify_finds_a_recomputed_rewrite_of_the_newest_event(store: Store) -> None:
    _fill(store, 3)
    with store.session() as s:
        e = s.get(AuditEvent, 3)
        assert e is not None
        e.actor = "forger"
        e.hash = audit.event_hash(e.prev_hash, {k: getattr(e, k) for k in audit.FIELDS})
    assert audit.verify(store)[1]
