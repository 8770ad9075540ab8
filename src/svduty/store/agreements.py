"""Partner organisations and the data-sharing agreement of each feed.

An agreement says why a feed is shared (purpose), on what legal basis, for how long (retention
in months), who may see its record-level rows (roles, and optionally only users of certain
organisations) and who may see its aggregates. The web API checks it on every request through
:func:`can_see_records` and :func:`can_see_aggregates`; what neither allows is refused.

Section 16 of the Police, Crime, Sentencing and Courts Act 2022 lets the specified authorities
share information for the Serious Violence Duty, but it does not authorise disclosing patient
information or personal information held by a health or social care authority: those feeds
(``istv``, ``ambulance``, ``social-care``) rest on UK GDPR and DPA 2018 bases of their own and
the common law duty of confidentiality, and by default only users of the organisation that sends
them see their record-level rows.

Examples:
    >>> rules = {"record_roles": ["analyst"], "record_orgs": ["health"],
    ...          "aggregate_roles": ["analyst", "commissioner"]}
    >>> can_see_records(rules, "analyst", "health"), can_see_records(rules, "analyst", "police")
    (True, False)
    >>> can_see_aggregates(rules, "commissioner", "police"), can_see_aggregates(rules, None, None)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from svduty.errors import SvdutyError
from svduty.store import audit
from svduty.store.db import Store
from svduty.store.models import ROLES, Agreement, Organisation, stamp

#: The partner agencies of a partnership: short name -> (name, kind).
PARTNER_ORGS: dict[str, tuple[str, str]] = {
    "police": ("Police force", "police"),
    "health": ("Integrated Care Board and hospital trusts", "health"),
    "ambulance": ("Ambulance service", "health"),
    "council": ("Local authority (education and children's social care)", "local-authority"),
    "youth-justice": ("Youth justice service", "youth-justice"),
    "probation": ("Probation Service", "probation"),
    "fire": ("Fire and rescue service", "fire"),
}

#: Every signed-in role sees aggregates by default; the anonymous public sees only the summary.
STAFF_ROLES: list[str] = list(ROLES)

_PURPOSE = (
    "Serious Violence Duty: the strategic needs assessment, the strategy and the evaluation of "
    "interventions (PCSC Act 2022 Part 2 Chapter 1)"
)
_S16 = "Police, Crime, Sentencing and Courts Act 2022 s.16 (sharing for the Serious Violence Duty)"
_PUBLIC_TASK = "UK GDPR Art. 6(1)(e) (public task)"
_OFFENCE_DATA = (
    "criminal offence data: UK GDPR Art. 10 with DPA 2018 s.10(5) and Sch. 1 Part 2 para. 6 "
    "(statutory purposes) and para. 10 (preventing or detecting unlawful acts)"
)
_HEALTH = (
    "s.16 PCSC Act 2022 does not cover patient information; UK GDPR Art. 6(1)(e) (public task) "
    "and Art. 9(2)(g) with DPA 2018 Sch. 1 Part 2 para. 6 (statutory purposes); the common law "
    "duty of confidentiality is met by pseudonymisation at source or, for identifiable data, "
    "support under s.251 NHS Act 2006 or consent"
)

#: The default agreement of each feed (police.uk and the partner feeds), by feed name.
DEFAULT_AGREEMENTS: dict[str, dict[str, Any]] = {
    "police-uk": {
        "owner": "police",
        "purpose": _PURPOSE + "; context from published open data",
        "legal_basis": (
            "Open Government Licence v3.0: police.uk street-level data is published and "
            "anonymised by the Home Office; no personal data"
        ),
        "retention_months": 120,
        "record_roles": STAFF_ROLES,
        "record_orgs": [],
    },
    "police-crime": {
        "owner": "police",
        "purpose": _PURPOSE,
        "legal_basis": (
            f"{_S16}; Crime and Disorder Act 1998 s.115; {_PUBLIC_TASK}; {_OFFENCE_DATA}"
        ),
        "retention_months": 72,
        "record_roles": ["analyst"],
        "record_orgs": [],
    },
    "istv": {
        "owner": "health",
        "purpose": _PURPOSE + "; the Cardiff Model (ED information sharing to tackle violence)",
        "legal_basis": _HEALTH + "; ISTV minimum dataset (SCCI 1594)",
        "retention_months": 36,
        "record_roles": ["analyst"],
        "record_orgs": ["health"],
    },
    "ambulance": {
        "owner": "ambulance",
        "purpose": _PURPOSE + "; ambulance call-outs to assaults",
        "legal_basis": _HEALTH,
        "retention_months": 36,
        "record_roles": ["analyst"],
        "record_orgs": ["ambulance"],
    },
    "youth-justice": {
        "owner": "youth-justice",
        "purpose": _PURPOSE,
        "legal_basis": (
            f"{_S16}; Crime and Disorder Act 1998 s.115; {_PUBLIC_TASK}; {_OFFENCE_DATA}; "
            "children's data: the best interests of the child (Children Act 2004 s.10)"
        ),
        "retention_months": 36,
        "record_roles": ["analyst"],
        "record_orgs": [],
    },
    "probation": {
        "owner": "probation",
        "purpose": _PURPOSE,
        "legal_basis": (
            f"{_S16}; Crime and Disorder Act 1998 s.115; Offender Management Act 2007 s.14; "
            f"{_PUBLIC_TASK}; {_OFFENCE_DATA}"
        ),
        "retention_months": 72,
        "record_roles": ["analyst"],
        "record_orgs": [],
    },
    "education": {
        "owner": "council",
        "purpose": _PURPOSE + "; exclusions and suspensions as risk factors",
        "legal_basis": (
            f"{_S16} (educational authorities are relevant authorities under s.14); "
            f"{_PUBLIC_TASK}; children's data: Children Act 2004 s.10"
        ),
        "retention_months": 36,
        "record_roles": ["analyst"],
        "record_orgs": [],
    },
    "social-care": {
        "owner": "council",
        "purpose": _PURPOSE + "; children's social care as a risk factor",
        "legal_basis": (
            "s.16 PCSC Act 2022 does not cover personal information held by a social care "
            f"authority; {_PUBLIC_TASK} and Art. 9(2)(g) with DPA 2018 Sch. 1 Part 2 para. 18 "
            "(safeguarding of children and individuals at risk); Children Act 2004 s.10"
        ),
        "retention_months": 36,
        "record_roles": ["analyst"],
        "record_orgs": ["council"],
    },
    "participants": {
        "owner": "council",
        "purpose": (
            "Serious Violence Duty: the evaluation of funded interventions (participants' later "
            "police and ED involvement against a matched comparison group, counted, never scored)"
        ),
        "legal_basis": (
            f"{_S16} (providers share as the commissioning authority's processors under their "
            f"grant agreements); {_PUBLIC_TASK}; children's data: Children Act 2004 s.10; "
            "participants are told in the project's privacy notice"
        ),
        "retention_months": 36,
        "record_roles": ["analyst"],
        "record_orgs": ["council"],
    },
    "fire": {
        "owner": "fire",
        "purpose": _PURPOSE + "; deliberate fires and arson endangering life",
        "legal_basis": f"{_S16}; Fire and Rescue Services Act 2004; {_PUBLIC_TASK}",
        "retention_months": 72,
        "record_roles": ["analyst"],
        "record_orgs": [],
    },
}

_EDITABLE = (
    "purpose",
    "legal_basis",
    "retention_months",
    "record_roles",
    "record_orgs",
    "aggregate_roles",
)


class AgreementError(ValueError, SvdutyError):
    """An agreement could not be found or changed as asked."""


def ensure_orgs(store: Store) -> list[str]:
    """Create the partner organisations of :data:`PARTNER_ORGS` that are missing.

    Returns the short names of every organisation, existing ones included.
    """
    with store.session() as s:
        have = set(s.execute(select(Organisation.short_name)).scalars())
        for short, (name, kind) in PARTNER_ORGS.items():
            if short not in have:
                s.add(Organisation(short_name=short, name=name, kind=kind))
        s.flush()
        return list(s.execute(select(Organisation.short_name).order_by(Organisation.id)).scalars())


def list_orgs(store: Store) -> list[dict[str, Any]]:
    """Every organisation, in the order created."""
    with store.sessions() as s:
        return [
            {"short_name": o.short_name, "name": o.name, "kind": o.kind, "users": len(o.users)}
            for o in s.execute(
                select(Organisation)
                .options(joinedload(Organisation.users))
                .order_by(Organisation.id)
            )
            .unique()
            .scalars()
        ]


def ensure_agreements(store: Store) -> list[str]:
    """Create the default agreement of each feed that has none (and the organisations).

    Existing agreements are left as they are. Returns the feeds whose agreement was created.
    """
    ensure_orgs(store)
    created: list[str] = []
    with store.session() as s:
        have = set(s.execute(select(Agreement.feed)).scalars())
        orgs = {o.short_name: o for o in s.execute(select(Organisation)).scalars()}
        for feed, d in DEFAULT_AGREEMENTS.items():
            if feed in have:
                continue
            s.add(
                Agreement(
                    feed=feed,
                    owner=orgs.get(d["owner"]),
                    purpose=d["purpose"],
                    legal_basis=d["legal_basis"],
                    retention_months=d["retention_months"],
                    record_roles=list(d["record_roles"]),
                    record_orgs=list(d["record_orgs"]),
                    aggregate_roles=list(d.get("aggregate_roles", STAFF_ROLES)),
                )
            )
            created.append(feed)
        if created:
            audit.append(
                s,
                actor="system",
                action="rights",
                resource="agreements",
                detail={"change": "default-agreements", "feeds": created},
            )
    return created


def as_dict(a: Agreement) -> dict[str, Any]:
    """An agreement as plain data."""
    return {
        "feed": a.feed,
        "owner": a.owner.short_name if a.owner else None,
        "purpose": a.purpose,
        "legal_basis": a.legal_basis,
        "retention_months": a.retention_months,
        "record_roles": list(a.record_roles or []),
        "record_orgs": list(a.record_orgs or []),
        "aggregate_roles": list(a.aggregate_roles or []),
        "updated_at": a.updated_at,
    }


def agreement(store: Store, feed: str) -> Agreement | None:
    """The agreement of ``feed`` (its owner loaded), or None when it has none."""
    with store.sessions() as s:
        return s.execute(
            select(Agreement).options(joinedload(Agreement.owner)).where(Agreement.feed == feed)
        ).scalar()


def list_agreements(store: Store) -> list[dict[str, Any]]:
    """Every agreement as plain data, by feed."""
    with store.sessions() as s:
        rows = s.execute(
            select(Agreement).options(joinedload(Agreement.owner)).order_by(Agreement.feed)
        ).scalars()
        return [as_dict(a) for a in rows]


AgreementLike = Agreement | Mapping[str, Any] | str


def _rules(agreement_or_feed: AgreementLike, store: Store | None) -> Mapping[str, Any] | None:
    if isinstance(agreement_or_feed, Agreement):
        return as_dict(agreement_or_feed)
    if isinstance(agreement_or_feed, str):
        if store is not None:
            row = agreement(store, agreement_or_feed)
            return as_dict(row) if row is not None else None
        d = DEFAULT_AGREEMENTS.get(agreement_or_feed)
        return {"aggregate_roles": STAFF_ROLES, **d} if d is not None else None
    return agreement_or_feed


def can_see_records(
    agreement_or_feed: AgreementLike,
    role: str | None,
    org: str | None,
    *,
    store: Store | None = None,
) -> bool:
    """Whether a user with ``role`` in organisation ``org`` may see the feed's record-level rows.

    ``agreement_or_feed`` is an :class:`Agreement`, its :func:`as_dict`, or a feed name (looked
    up in ``store`` when given, otherwise in :data:`DEFAULT_AGREEMENTS`). A feed without an
    agreement, and the anonymous public (``role`` None), see nothing.
    """
    rules = _rules(agreement_or_feed, store)
    if rules is None or not role:
        return False
    if role not in (rules.get("record_roles") or []):
        return False
    orgs = rules.get("record_orgs") or []
    return not orgs or (org is not None and org in orgs)


def can_see_aggregates(
    agreement_or_feed: AgreementLike,
    role: str | None,
    org: str | None = None,
    *,
    store: Store | None = None,
) -> bool:
    """Whether ``role`` may see the feed's aggregates (anyone who may see its records may too)."""
    rules = _rules(agreement_or_feed, store)
    if rules is None or not role:
        return False
    if role in (rules.get("aggregate_roles") or []):
        return True
    return can_see_records(rules, role, org)


def _check_roles(field: str, roles: Any) -> list[str]:
    if isinstance(roles, str):
        roles = [r.strip() for r in roles.split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise AgreementError(f"{field}: unknown role(s) {unknown}; choose from {', '.join(ROLES)}")
    return list(roles)


def _check_orgs(s: Session, orgs: Any) -> list[str]:
    if isinstance(orgs, str):
        orgs = [o.strip() for o in orgs.split(",") if o.strip()]
    have = set(s.execute(select(Organisation.short_name)).scalars())
    unknown = [o for o in orgs if o not in have]
    if unknown:
        raise AgreementError(
            f"record_orgs: unknown organisation(s) {unknown}; known: {', '.join(sorted(have))}"
        )
    return list(orgs)


def set_agreement(
    store: Store,
    feed: str,
    *,
    actor: str = "cli",
    actor_role: str = "",
    actor_org: str = "",
    ip: str = "",
    **changes: Any,
) -> dict[str, Any]:
    """Change a feed's agreement (fields of ``_EDITABLE``), audited as a change of rights.

    Returns the agreement as it now is.

    Raises:
        AgreementError: no such agreement, an unknown field, role or organisation, or a
            retention period below one month.
    """
    changes = {k: v for k, v in changes.items() if v is not None}
    unknown = sorted(set(changes) - set(_EDITABLE))
    if unknown:
        raise AgreementError(f"cannot change {unknown}; the fields are {', '.join(_EDITABLE)}")
    with store.session() as s:
        row = s.execute(
            select(Agreement)
            .options(joinedload(Agreement.owner))
            .where(Agreement.feed == feed)
            .with_for_update(of=Agreement)
        ).scalar()
        if row is None:
            raise AgreementError(
                f"there is no agreement for the feed {feed!r}; `svduty agreements list` shows them"
            )
        for field in ("record_roles", "aggregate_roles"):
            if field in changes:
                changes[field] = _check_roles(field, changes[field])
        if "record_orgs" in changes:
            changes["record_orgs"] = _check_orgs(s, changes["record_orgs"])
        if "retention_months" in changes:
            months = int(changes["retention_months"])
            if months < 1:
                raise AgreementError(f"retention_months must be at least 1 (found {months})")
            changes["retention_months"] = months
        for text in ("purpose", "legal_basis"):
            if text in changes and not str(changes[text]).strip():
                raise AgreementError(f"{text} cannot be empty")
        before = as_dict(row)
        diff = {k: {"from": before[k], "to": v} for k, v in changes.items() if before[k] != v}
        for k, v in changes.items():
            setattr(row, k, v)
        if diff:
            row.updated_at = stamp()
            audit.append(
                s,
                actor=actor,
                role=actor_role,
                org=actor_org,
                ip=ip,
                action="rights",
                resource=f"agreement:{feed}",
                detail={"change": "agreement", "fields": diff},
            )
        s.flush()
        return as_dict(row)
