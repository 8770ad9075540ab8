"""The audit trail: append-only events, each chained to the one before by a SHA-256 hash.

Every event's hash covers its own fields and the previous event's hash, and the ``audit_head``
row holds the last id and hash, so :func:`verify` finds an edited event (its hash no longer
matches), a deleted one (a gap in the ids, or a broken link) and deleted newest events (the head
points past the end).

Examples:
    >>> event_hash("0" * 64, {"id": 1, "at": "2026-01-01T00:00:00.000000Z"})[:12]
    '687d16cfcfdb'
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from svduty.store.db import Store
from svduty.store.models import AuditEvent, AuditHead, stamp

GENESIS = "0" * 64
FIELDS = ("id", "at", "actor", "role", "org", "action", "resource", "outcome", "ip", "detail")


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash of an event: SHA-256 of the previous hash and the event's canonical JSON."""
    body = json.dumps({k: fields.get(k) for k in FIELDS}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _clean(text: Any, limit: int) -> str:
    return str(text if text is not None else "")[:limit]


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    resource: str = "",
    outcome: str = "ok",
    role: str = "",
    org: str = "",
    ip: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in ``session``'s transaction (which must commit for it to count).

    The head row is locked for the rest of the transaction (``SELECT ... FOR UPDATE`` on
    PostgreSQL; SQLite transactions here begin with the write lock), so concurrent writers
    chain one after another.
    """
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
    fields: dict[str, Any] = {
        "id": head.last_id + 1,
        "at": stamp(),
        "actor": _clean(actor, 120),
        "role": _clean(role, 40),
        "org": _clean(org, 40),
        "action": _clean(action, 40),
        "resource": _clean(resource, 500),
        "outcome": _clean(outcome, 20),
        "ip": _clean(ip, 64),
        "detail": json.dumps(detail or {}, sort_keys=True, default=str),
    }
    digest = event_hash(head.last_hash, fields)
    event = AuditEvent(**fields, prev_hash=head.last_hash, hash=digest)
    session.add(event)
    head.last_id = fields["id"]
    head.last_hash = digest
    session.flush()
    return event


def record(store: Store, **kwargs: Any) -> AuditEvent:
    """Append one event in a transaction of its own (see :func:`append` for the fields)."""
    with store.session() as s:
        return append(s, **kwargs)


class GroupWriter:
    """Appends events from many threads, several to a transaction (a "group commit").

    :meth:`record` returns only once its event is committed, as :func:`record` does; but while
    one thread writes, the events other threads bring meanwhile wait and are then written
    together, in one transaction, by that same thread. Under load this turns one commit a
    request into one commit a batch.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._pending: list[list[Any]] = []
        self._writing = False

    def record(self, **kwargs: Any) -> None:
        """Append one event (see :func:`append` for the fields); raises if it was not written."""
        item: list[Any] = [kwargs, threading.Event(), None]
        with self._lock:
            self._pending.append(item)
            lead = not self._writing
            self._writing = True
        if lead:
            self._write_all()
        item[1].wait()
        if item[2] is not None:
            raise item[2]

    def _write_all(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    self._writing = False
                    return
            error: Exception | None = None
            try:
                with self.store.session() as s:
                    for fields, _, _ in batch:
                        append(s, **fields)
            except Exception as e:  # every waiting request learns of it
                error = e
            for entry in batch:
                entry[2] = error
                entry[1].set()


@dataclass
class Problem:
    """One break in the chain."""

    event_id: int | None
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"event_id": self.event_id, "message": self.message}


def verify(store: Store, batch: int = 5000) -> tuple[int, list[Problem]]:
    """Check the whole chain. Returns the number of events read and the problems found."""
    problems: list[Problem] = []
    prev_hash, expected_id, count = GENESIS, 1, 0
    with store.sessions() as s:
        last = 0
        while True:
            rows = (
                s.execute(
                    select(AuditEvent)
                    .where(AuditEvent.id > last)
                    .order_by(AuditEvent.id)
                    .limit(batch)
                )
                .scalars()
                .all()
            )
            if not rows:
                break
            for e in rows:
                count += 1
                if e.id != expected_id:
                    problems.append(
                        Problem(e.id, f"events {expected_id} to {e.id - 1} are missing")
                    )
                if e.prev_hash != prev_hash:
                    problems.append(Problem(e.id, "does not follow the event before it"))
                fields = {k: getattr(e, k) for k in FIELDS}
                if event_hash(e.prev_hash, fields) != e.hash:
                    problems.append(Problem(e.id, "was changed after it was recorded"))
                prev_hash, expected_id, last = e.hash, e.id + 1, e.id
        head = s.get(AuditHead, 1)
    if head is None:
        if count:
            problems.append(Problem(None, "the chain's head record is missing"))
    else:
        if head.last_id != expected_id - 1:
            problems.append(
                Problem(head.last_id, f"events {expected_id} to {head.last_id} are missing")
                if head.last_id >= expected_id
                else Problem(head.last_id, "the chain's head record was changed")
            )
        elif head.last_hash != prev_hash:
            problems.append(Problem(head.last_id, "the last event was changed or replaced"))
    return count, problems


def search(
    store: Store,
    *,
    actor: str | None = None,
    action: str | None = None,
    resource: str | None = None,
    outcome: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Events matching every filter given, newest first (``since``/``until`` are ISO dates)."""
    q = select(AuditEvent)
    if actor:
        q = q.where(AuditEvent.actor == actor)
    if action:
        q = q.where(AuditEvent.action == action)
    if resource:
        q = q.where(AuditEvent.resource.contains(resource, autoescape=True))
    if outcome:
        q = q.where(AuditEvent.outcome == outcome)
    if since:
        q = q.where(AuditEvent.at >= since)
    if until:
        q = q.where(AuditEvent.at < until + "\uffff")
    q = q.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    with store.sessions() as s:
        return [
            {**{k: getattr(e, k) for k in FIELDS}, "detail": json.loads(e.detail)}
            for e in s.execute(q).scalars()
        ]
