"""The operational store's tables: organisations, users, agreements, uploads, audit events.

These are SQLAlchemy models; the schema itself is created and changed by the Alembic migrations
in :mod:`svduty.store.migrations` (``open_store`` applies them), never by ``create_all``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: The roles of the platform, most to least privileged in practice. The anonymous public has no row.
ROLES: dict[str, str] = {
    "admin": "Administrator: manages organisations, users and agreements",
    "dpo": "Data protection officer: reads the audit trail and agreements",
    "analyst": "Analyst: explores the assessment, record-level where an agreement allows",
    "commissioner": "Commissioner: reads aggregates, manages interventions and funding",
    "partner_data_officer": "Partner data officer: uploads the organisation's extracts",
}


def utcnow() -> dt.datetime:
    """Now, in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime | None = None) -> str:
    """An ISO 8601 UTC timestamp with microseconds, as stored (sortable as text).

    >>> stamp(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    '2026-01-02T03:04:05.000000Z'
    """
    return (moment or utcnow()).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Base(DeclarativeBase):
    """The declarative base of every store table."""

    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Organisation(Base):
    """A partner agency of the partnership (``police``, ``health``, ``council``...)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    short_name: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="other")
    created_at: Mapped[str] = mapped_column(String(32), default=stamp)

    users: Mapped[list[User]] = relationship(back_populates="org")


class User(Base):
    """A person who signs in. Passwords are kept only as Argon2 hashes."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True, nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[str] = mapped_column(String(32), default=stamp)
    last_login_at: Mapped[str | None] = mapped_column(String(32), nullable=True)

    org: Mapped[Organisation | None] = relationship(back_populates="users")


class ApiToken(Base):
    """A bearer token for the API; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[str] = mapped_column(String(32), default=stamp)
    expires_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    revoked_at: Mapped[str | None] = mapped_column(String(32), nullable=True)

    user: Mapped[User] = relationship()


class Agreement(Base):
    """The data-sharing agreement of one feed: why it is shared, on what basis, for how long,
    and who may see its record-level rows (everyone else with access sees aggregates only)."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed: Mapped[str] = mapped_column(String(60), unique=True)
    owner_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    retention_months: Mapped[int] = mapped_column(Integer)
    record_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    record_orgs: Mapped[list[str]] = mapped_column(JSON, default=list)
    aggregate_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[str] = mapped_column(String(32), default=stamp)

    owner: Mapped[Organisation | None] = relationship()


class Upload(Base):
    """One file a partner uploaded in the portal, and what its validation found.

    The file itself is not kept (it may name people): only its name, size, SHA-256 and results.
    """

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    feed: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(20), default="received")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_loaded: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    rows_already_present: Mapped[int] = mapped_column(Integer, default=0)
    months: Mapped[list[str]] = mapped_column(JSON, default=list)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[str] = mapped_column(String(32), default=stamp)
    finished_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    removed_at: Mapped[str | None] = mapped_column(String(32), nullable=True)

    org: Mapped[Organisation] = relationship()
    user: Mapped[User | None] = relationship()


class AuditEvent(Base):
    """One event of the append-only audit trail, chained to the one before by its hash."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    role: Mapped[str] = mapped_column(String(40), default="")
    org: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    resource: Mapped[str] = mapped_column(String(500), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last event of the chain (one row), so that deleting the newest events is detected."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class RetentionRecord(Base):
    """What one ``svduty retention apply`` removed from one feed."""

    __tablename__ = "retention_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(32), default=stamp)
    feed: Mapped[str] = mapped_column(String(60))
    before_month: Mapped[str] = mapped_column(String(7))
    rows_removed: Mapped[int] = mapped_column(Integer, default=0)
    files_removed: Mapped[int] = mapped_column(Integer, default=0)
    uploads_removed: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# Commissioning: the interventions register, quarterly returns, funding rounds and allocations.
# Money is kept in whole pence (integers), shown in pounds.


class Intervention(Base):
    """One funded project of the interventions register, keyed by the partnership's reference."""

    __tablename__ = "interventions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200), default="")
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    funding_source: Mapped[str] = mapped_column(String(120), default="")
    financial_year: Mapped[str] = mapped_column(String(7), default="")
    amount_pence: Mapped[int] = mapped_column(Integer, default=0)
    approach: Mapped[str] = mapped_column(String(60))
    target_cohort: Mapped[str] = mapped_column(Text, default="")
    target_age_max: Mapped[int] = mapped_column(Integer, default=24)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    referrals: Mapped[int | None] = mapped_column(Integer, nullable=True)
    participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sessions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    spend_pence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_file: Mapped[str] = mapped_column(String(255), default="")
    imported_at: Mapped[str | None] = mapped_column(String(32), nullable=True)
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[str] = mapped_column(String(32), default=stamp)
    updated_at: Mapped[str] = mapped_column(String(32), default=stamp)


class InterventionReturn(Base):
    """A provider's quarterly return for one intervention (one per quarter)."""

    __tablename__ = "intervention_returns"
    __table_args__ = (UniqueConstraint("intervention_id", "quarter"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("interventions.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(7))
    referrals: Mapped[int | None] = mapped_column(Integer, nullable=True)
    participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sessions: Mapped[int | None] = mapped_column(Integer, nullable=True)
    spend_pence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_file: Mapped[str] = mapped_column(String(255), default="")
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[str] = mapped_column(String(32), default=stamp)

    intervention: Mapped[Intervention] = relationship()


class FundingRound(Base):
    """A funding round: its budget, the minimum each area is guaranteed, and its latest
    recommended allocation (``allocation``: the whole recommendation, as computed)."""

    __tablename__ = "funding_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    budget_pence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    minimum_per_area_pence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")
    allocation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[str] = mapped_column(String(32), default=stamp)
    created_by: Mapped[str] = mapped_column(String(120), default="")


class Proposal(Base):
    """A proposal put to a funding round, for one area."""

    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("round_id", "reference"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("funding_rounds.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200), default="")
    area: Mapped[str] = mapped_column(String(9))
    approach: Mapped[str] = mapped_column(String(60))
    amount_requested_pence: Mapped[int] = mapped_column(Integer)
    participants_planned: Mapped[int] = mapped_column(Integer)
    target_age_max: Mapped[int] = mapped_column(Integer, default=24)
    source_file: Mapped[str] = mapped_column(String(255), default="")
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[str] = mapped_column(String(32), default=stamp)

    round: Mapped[FundingRound] = relationship()


class Allocation(Base):
    """The recommended amount for one proposal by one computation (``inputs_hash`` names it)."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("funding_rounds.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    recommended_pence: Mapped[int] = mapped_column(Integer)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[str] = mapped_column(String(32), default=stamp)
    computed_by: Mapped[str] = mapped_column(String(120), default="")
    inputs_hash: Mapped[str] = mapped_column(String(64), index=True)


class AllocationOverride(Base):
    """A commissioner's decision to fund a proposal differently from the recommendation, and why.

    Kept as history: the newest override of a proposal is the one that counts.
    """

    __tablename__ = "allocation_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    allocation_id: Mapped[int | None] = mapped_column(ForeignKey("allocations.id"), nullable=True)
    amount_pence: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    user: Mapped[str] = mapped_column(String(120))
    at: Mapped[str] = mapped_column(String(32), default=stamp)
