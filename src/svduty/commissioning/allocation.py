"""Funding rounds: proposals, a recommended allocation by need, evidence and cost, and overrides.

The method (:func:`recommend`), in whole pounds, deterministic (ties broken by reference):

1. *Need.* Each area's share of the partnership's young people's serious violence over the last
   months (harm-weighted by default; see :func:`need_measure`). Only area counts are used.
2. *Envelopes.* Each area with eligible proposals is first reserved the minimum per area (or
   what it asks for, if less); what is left of the budget is shared by need:
   ``envelope = reserve + floor((budget - reserves) x share)``.
3. *Within each area* proposals are funded, whole or in part, up to the envelope: first those
   with evidence, by expected value per pound (the band's nominal reduction x a strength factor
   x participants / amount), then those without clear evidence, only as far as the area's
   minimum. Harmful approaches get nothing.
4. *The pool.* What areas cannot use goes to the best remaining evidenced proposals across the
   partnership, then to those without clear evidence (cheapest per participant first).

Examples:
    >>> need = [{"csp24_code": "E1", "csp24_name": "North", "crimes": 30, "harm": 300.0},
    ...         {"csp24_code": "E2", "csp24_name": "South", "crimes": 10, "harm": 100.0}]
    >>> props = [ProposalInput("N-1", "E1", "mentoring", 60000, 40),
    ...          ProposalInput("S-1", "E2", "mentoring", 60000, 40)]
    >>> r = recommend(need, props, budget=80000, minimum_per_area=10000)
    >>> [(p["reference"], p["recommended"]) for p in r["proposals"]]
    [('N-1', 55000), ('S-1', 25000)]
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import select

from svduty.commissioning.evidence import (
    Approach,
    Evidence,
    describe,
    flag,
    flag_reason,
    load_evidence,
)
from svduty.commissioning.register import (
    Column,
    ImportReport,
    Problem,
    _age,
    _text,
    parse_approach,
    parse_areas,
    parse_count,
    parse_money,
    parse_table,
)
from svduty.errors import SvdutyError
from svduty.store import audit
from svduty.store.db import Store
from svduty.store.models import Allocation, AllocationOverride, FundingRound, Proposal, stamp


class AllocationError(ValueError, SvdutyError):
    """An allocation cannot be made as asked (e.g. the minimums exceed the budget)."""


@dataclass(frozen=True)
class ProposalInput:
    """A proposal as the allocation reads it (``requested`` in whole pounds)."""

    reference: str
    area: str
    approach: str
    requested: int
    participants: int
    name: str = ""
    provider: str = ""
    target_age_max: int = 24


def _pounds(n: float) -> str:
    return f"£{n:,.0f}"


def _need_rows(need: Any) -> list[dict[str, Any]]:
    rows = need.to_dict("records") if hasattr(need, "to_dict") else [dict(r) for r in need]
    return sorted(
        (
            {
                "code": str(r["csp24_code"]),
                "name": str(r.get("csp24_name") or r["csp24_code"]),
                "crimes": int(r.get("crimes") or 0),
                "harm": float(r.get("harm") or 0.0),
            }
            for r in rows
        ),
        key=lambda r: r["code"],
    )


def _entry(approach: str, evidence: Evidence) -> Approach:
    return (
        evidence.approaches.get(approach)
        or evidence.lookup(approach)
        or evidence.approaches["other"]
    )


def inputs_hash(
    need: list[dict[str, Any]],
    proposals: list[ProposalInput],
    budget: int,
    minimum: int,
    measure: str,
    evidence: Evidence,
) -> str:
    """SHA-256 of everything the recommendation depends on (the same inputs, the same hash)."""
    body = {
        "need": need,
        "proposals": sorted((asdict(p) for p in proposals), key=lambda p: p["reference"]),
        "budget": budget,
        "minimum": minimum,
        "measure": measure,
        "evidence": {k: asdict(a) for k, a in sorted(evidence.approaches.items())},
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def recommend(
    need: Any,
    proposals: Iterable[ProposalInput],
    budget: int,
    minimum_per_area: int = 0,
    *,
    evidence: Evidence | None = None,
    measure: str = "harm",
) -> dict[str, Any]:
    """Recommend how much of ``budget`` each proposal should get (see the module for the method).

    Args:
        need: one row per partnership area with ``csp24_code``, ``csp24_name``, ``crimes`` and
            ``harm`` (a frame from :func:`svduty.commissioning.outcomes.need_by_area`, or dicts).
        proposals: the round's proposals.
        budget: the money to allocate, whole pounds.
        minimum_per_area: the least each area with eligible proposals gets (if it asks for it).
        evidence: the evidence file (default: svduty's YEF Toolkit ratings).
        measure: ``"harm"`` or ``"crimes"``: which count of need shares the budget.

    Returns:
        The recommendation: ``budget``, ``minimum_per_area``, ``allocated``, ``unallocated``,
        ``need``, ``areas``, ``proposals`` (each with its ``explanation`` lines) and
        ``inputs_hash``. Money in whole pounds.

    Raises:
        AllocationError: a negative budget, or minimums that add up to more than the budget.
    """
    evidence = evidence or load_evidence()
    budget, minimum = int(budget), int(minimum_per_area)
    if budget < 0 or minimum < 0:
        raise AllocationError("the budget and the minimum per area must not be negative")
    if measure not in ("harm", "crimes"):
        raise AllocationError(f"measure must be harm or crimes, not {measure!r}")
    areas = _need_rows(need)
    props = sorted(proposals, key=lambda p: p.reference)
    digest = inputs_hash(areas, props, budget, minimum, measure, evidence)
    by_code = {a["code"]: a for a in areas}

    weights = {a["code"]: Fraction(a[measure]) for a in areas}
    total = sum(weights.values(), Fraction(0))
    equal = total <= 0
    for a in areas:
        share = Fraction(1, len(areas)) if equal else weights[a["code"]] / total
        a["share_exact"] = share
        a["share"] = round(float(share), 4)

    rows: list[dict[str, Any]] = []
    for p in props:
        entry = _entry(p.approach, evidence)
        f = flag(entry)
        requested = max(int(p.requested), 0)
        cpp = round(requested / p.participants, 2) if p.participants > 0 else None
        value = entry.band_midpoint / 100 * entry.strength_factor * max(p.participants, 0)
        score = round(1000 * value / requested, 4) if requested > 0 else 0.0
        if f == "harmful":
            status = "harmful"
        elif p.area not in by_code:
            status = "outside"
        elif requested <= 0:
            status = "nothing-requested"
        else:
            status = "evidenced" if f is None else "unclear"
        rows.append(
            {
                "reference": p.reference,
                "name": p.name,
                "provider": p.provider,
                "area": p.area,
                "area_name": by_code.get(p.area, {}).get("name", p.area),
                "approach": entry.key,
                "evidence": {
                    "name": entry.name,
                    "band": entry.band,
                    "strength": entry.strength,
                    "flag": f,
                },
                "requested": requested,
                "participants": p.participants,
                "cost_per_participant": cpp,
                "score": score,
                "status": status,
                "from_envelope": 0,
                "from_pool": 0,
                "_entry": entry,
            }
        )

    def _rank(r: dict[str, Any]) -> tuple[Any, ...]:
        cpp = r["cost_per_participant"]
        return (-r["score"], math.inf if cpp is None else cpp, r["reference"])

    def _cheap(r: dict[str, Any]) -> tuple[Any, ...]:
        cpp = r["cost_per_participant"]
        return (math.inf if cpp is None else cpp, r["reference"])

    eligible = [r for r in rows if r["status"] in ("evidenced", "unclear")]
    for a in areas:
        asked = sum(r["requested"] for r in eligible if r["area"] == a["code"])
        a["requested"] = asked
        a["reserve"] = min(minimum, asked)
    reserves = sum(a["reserve"] for a in areas)
    if reserves > budget:
        n = sum(1 for a in areas if a["reserve"])
        raise AllocationError(
            f"the minimum per area ({_pounds(minimum)} for each of the {n} areas with eligible "
            f"proposals) needs {_pounds(reserves)}, more than the budget {_pounds(budget)}: "
            "lower --minimum-per-area or raise --budget"
        )
    rest = budget - reserves
    for a in areas:
        a["envelope"] = a["reserve"] + math.floor(rest * a["share_exact"])

    for a in areas:
        mine = [r for r in eligible if r["area"] == a["code"]]
        avail = a["envelope"]
        for r in sorted((r for r in mine if r["status"] == "evidenced"), key=_rank):
            give = min(r["requested"], avail)
            r["from_envelope"], avail = give, avail - give
        given = a["envelope"] - avail
        cap = max(0, a["reserve"] - given)
        for r in sorted((r for r in mine if r["status"] == "unclear"), key=_cheap):
            give = min(r["requested"], avail, cap)
            r["from_envelope"], avail, cap = give, avail - give, cap - give
        a["from_envelope"] = a["envelope"] - avail
        a["returned"] = avail

    pool = budget - sum(r["from_envelope"] for r in rows)
    for status, key in (("evidenced", _rank), ("unclear", _cheap)):
        for r in sorted((r for r in eligible if r["status"] == status), key=key):
            give = min(r["requested"] - r["from_envelope"], pool)
            r["from_pool"], pool = give, pool - give
    for r in rows:
        r["recommended"] = r["from_envelope"] + r["from_pool"]
        r["final"], r["override"] = r["recommended"], None
    allocated = sum(r["recommended"] for r in rows)
    assert allocated <= budget, "the allocation exceeded the budget"  # the method guarantees it

    what = "harm-weighted " if measure == "harm" else ""
    for a in areas:
        a["allocated"] = sum(r["recommended"] for r in rows if r["area"] == a["code"])
        a["from_pool"] = sum(r["from_pool"] for r in rows if r["area"] == a["code"])
        a["explanation"] = _area_lines(a, what, equal, minimum, rest)
    ranks: dict[str, int] = {}
    for a in areas:
        mine = sorted(
            (r for r in eligible if r["area"] == a["code"] and r["status"] == "evidenced"),
            key=_rank,
        )
        ranks.update({r["reference"]: i for i, r in enumerate(mine, 1)})
    for r in rows:
        home = by_code.get(r["area"])
        r["explanation"] = _proposal_lines(r, home, ranks, what, equal, minimum, rest)
        del r["_entry"], r["from_envelope"], r["from_pool"]

    return {
        "budget": budget,
        "minimum_per_area": minimum,
        "measure": measure,
        "allocated": allocated,
        "unallocated": budget - allocated,
        "evidence": {"source": evidence.source, "version": evidence.version, "read": evidence.read},
        "need": [{k: a[k] for k in ("code", "name", "crimes", "harm", "share")} for a in areas],
        "areas": [
            {
                "code": a["code"],
                "name": a["name"],
                "share": a["share"],
                "requested": a["requested"],
                "reserve": a["reserve"],
                "envelope": a["envelope"],
                "allocated": a["allocated"],
                "returned_to_pool": a["returned"],
                "from_pool": a["from_pool"],
                "explanation": a["explanation"],
            }
            for a in areas
        ],
        "proposals": rows,
        "inputs_hash": digest,
    }


def _share_line(a: dict[str, Any], what: str, equal: bool, minimum: int, rest: int) -> str:
    if equal:
        head = f"No {what}youth serious violence was recorded, so the areas share equally"
    else:
        head = (
            f"{a['name']} has {a['share']:.0%} of the partnership's {what}youth serious "
            f"violence ({a['crimes']:,} crimes" + (f", harm {a['harm']:,.0f}" if what else "") + ")"
        )
    if a["reserve"]:
        return (
            f"{head}, so its envelope is {_pounds(a['envelope'])}: the "
            f"{_pounds(a['reserve'])} minimum plus {a['share']:.0%} of the {_pounds(rest)} "
            "left after minimums."
        )
    share = f"{a['share']:.0%} of {_pounds(rest)}"
    return f"{head}, so its envelope is {_pounds(a['envelope'])} ({share})."


def _area_lines(a: dict[str, Any], what: str, equal: bool, minimum: int, rest: int) -> list[str]:
    lines = [_share_line(a, what, equal, minimum, rest)]
    if not a["requested"]:
        lines.append("It has no eligible proposals, so its envelope goes to the pool.")
    elif a["returned"]:
        lines.append(
            f"Its eligible proposals use {_pounds(a['envelope'] - a['returned'])} of it; the "
            f"other {_pounds(a['returned'])} goes to the pool for other areas."
        )
    if a["from_pool"]:
        lines.append(f"It receives {_pounds(a['from_pool'])} from the pool.")
    lines.append(f"Recommended in total: {_pounds(a['allocated'])}.")
    return lines


def _proposal_lines(
    r: dict[str, Any],
    a: dict[str, Any] | None,
    ranks: dict[str, int],
    what: str,
    equal: bool,
    minimum: int,
    rest: int,
) -> list[str]:
    entry: Approach = r["_entry"]
    lines = []
    if a is not None:
        lines.append(_share_line(a, what, equal, minimum, rest))
    lines.append(describe(entry) + ".")
    reason = flag_reason(entry)
    if reason:
        lines.append(reason)
    if r["status"] == "harmful":
        lines.append("Recommended: £0.")
        return lines
    if r["status"] == "outside":
        lines.append(
            "Its area is not one of the partnership's areas in the reference data: not funded."
        )
        return lines
    if r["cost_per_participant"] is not None:
        lines.append(
            f"It costs {_pounds(r['cost_per_participant'])} per participant"
            + (
                f"; its score (expected reduction, in participants, per £1,000) is {r['score']:g}, "
                f"ranked {ranks.get(r['reference'])} among its area's evidenced proposals."
                if r["status"] == "evidenced"
                else "."
            )
        )
    if r["status"] == "unclear":
        lines.append(
            "Without clear evidence it is funded only after every evidenced proposal, except "
            "to bring its area up to the minimum per area."
        )
    got = f"Recommended: {_pounds(r['recommended'])} of {_pounds(r['requested'])} requested"
    parts = []
    if r["from_envelope"]:
        parts.append(f"{_pounds(r['from_envelope'])} from its area's envelope")
    if r["from_pool"]:
        parts.append(f"{_pounds(r['from_pool'])} from the pool")
    lines.append(got + (f" ({' and '.join(parts)})." if parts else "."))
    if 0 < r["recommended"] < r["requested"]:
        lines.append("Part-funded: the money ran out before its full request.")
    return lines


def need_measure(definition: Any = None, weights: Any = None) -> tuple[str, str]:
    """Which measure of need to share the budget by, and why: ``"harm"`` when the harm weights
    weigh every offence code of the local definition, else ``"crimes"`` (a partial weights file
    would count only the weighted offences, e.g. homicide alone)."""
    from svduty.analysis.definition import load_definition
    from svduty.analysis.harm import load_harm_weights

    definition = definition or load_definition()
    weights = weights or load_harm_weights()
    codes = {c for k in definition.kinds for c in k.values("ho_codes")}
    missing = sorted(codes - set(weights.weights))
    if not missing:
        return "harm", f"harm-weighted with {weights.name} ({weights.version})"
    return "crimes", (
        f"crime counts: the harm weights ({weights.version}) weigh only "
        f"{len(codes) - len(missing)} of the definition's {len(codes)} offence codes, so harm "
        "would leave most violence out (give --need harm to use it anyway)"
    )


# -- rounds in the store ------------------------------------------------------------------------


def _round(s: Any, name: str, *, create: bool = False, user: str = "") -> FundingRound:
    row = s.execute(select(FundingRound).where(FundingRound.name == name)).scalar_one_or_none()
    if row is None:
        if not create:
            raise AllocationError(
                f"there is no funding round {name!r}; `svduty funding rounds` lists them"
            )
        row = FundingRound(name=name, created_by=user, minimum_per_area_pence=0, status="open")
        s.add(row)
        s.flush()
    return row


def proposal_columns(areas: Mapping[str, str] | None, evidence: Evidence) -> list[Column]:
    """The columns of a proposals file."""

    def one_area(v: Any) -> str:
        got = parse_areas(v, areas)
        if len(got) != 1:
            raise ValueError("must name one area (a proposal is for one CSP area)")
        return got[0]

    def participants(v: Any) -> int:
        n = parse_count(v)
        if n < 1:
            raise ValueError("must be at least 1")
        return n

    return [
        Column("Reference", "reference", _text(40), aliases=("ID", "Ref")),
        Column("Project", "name", _text(200), aliases=("Name", "Project Name")),
        Column("Provider", "provider", _text(200)),
        Column("Area", "area", one_area, aliases=("CSP",)),
        Column("Approach", "approach", lambda v: parse_approach(v, evidence)),
        Column("Amount Requested", "amount_requested_pence", parse_money, aliases=("Amount",)),
        Column("Participants", "participants_planned", participants),
        Column("Target Age Max", "target_age_max", _age, required=False),
    ]


_PROPOSAL_FIELDS = (
    "name", "provider", "area", "approach", "amount_requested_pence", "participants_planned",
    "target_age_max",
)  # fmt: skip


def import_proposals(
    store: Store,
    path: Path,
    round_name: str,
    *,
    user: str | None = None,
    areas: Mapping[str, str] | None = None,
    evidence: Evidence | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Check a proposals file and upsert its good rows into the round (created if new), by
    Reference, in one transaction; reported as :func:`~svduty.commissioning.register.
    import_register` reports. A flagged approach (harmful, no clear evidence) is a warning."""
    evidence = evidence or load_evidence()
    report = ImportReport(file=str(path), dry_run=dry_run)
    rows, report.rejected = parse_table(path, proposal_columns(areas, evidence))
    with store.sessions() if dry_run else store.session() as s:
        rnd = None
        if not dry_run:
            rnd = _round(s, round_name, create=True, user=user or "")
        else:
            rnd = s.execute(
                select(FundingRound).where(FundingRound.name == round_name)
            ).scalar_one_or_none()
        existing = (
            {
                p.reference: p
                for p in s.execute(select(Proposal).where(Proposal.round_id == rnd.id)).scalars()
            }
            if rnd is not None
            else {}
        )
        seen: set[str] = set()
        for n, values in rows:
            ref = values.pop("reference")
            if ref in seen:
                report.rejected.append(
                    Problem(n, "Reference", "repeats an earlier row's Reference", str(path))
                )
                continue
            seen.add(ref)
            if values.get("target_age_max") is None:
                values["target_age_max"] = 24
            reason = flag_reason(evidence.approaches[values["approach"]])
            if reason:
                report.warnings.append(Problem(n, "Approach", reason, str(path)))
            row = existing.get(ref)
            if row is None:
                report.added.append(ref)
                if not dry_run and rnd is not None:
                    s.add(
                        Proposal(
                            round_id=rnd.id,
                            reference=ref,
                            **values,
                            source_file=Path(path).name,
                            updated_by=user or "",
                        )
                    )
            elif all(getattr(row, k) == values[k] for k in _PROPOSAL_FIELDS):
                report.unchanged.append(ref)
            else:
                report.updated.append(ref)
                if not dry_run:
                    for k in _PROPOSAL_FIELDS:
                        setattr(row, k, values[k])
                    row.source_file, row.updated_by, row.updated_at = (
                        Path(path).name,
                        user or "",
                        stamp(),
                    )
        if report.changed and not dry_run:
            audit.append(
                s,
                actor=user or "cli",
                action="proposals-import",
                resource=f"round:{round_name}",
                detail={"file": Path(path).name, "added": report.added, "updated": report.updated},
            )
    return report


def list_rounds(store: Store) -> list[dict[str, Any]]:
    """Every funding round: name, status, budget, minimum, proposals, when last allocated."""
    with store.sessions() as s:
        out = []
        for r in s.execute(select(FundingRound).order_by(FundingRound.name)).scalars():
            n = len(s.execute(select(Proposal.id).where(Proposal.round_id == r.id)).all())
            out.append(
                {
                    "round": r.name,
                    "status": r.status,
                    "budget": r.budget_pence // 100 if r.budget_pence is not None else None,
                    "minimum_per_area": r.minimum_per_area_pence // 100,
                    "proposals": n,
                    "allocated_at": (r.allocation or {}).get("computed_at"),
                    "created_at": r.created_at,
                    "created_by": r.created_by,
                }
            )
        return out


def round_proposals(store: Store, round_name: str) -> list[ProposalInput]:
    """The round's proposals, as the allocation reads them (amounts rounded down to pounds)."""
    with store.sessions() as s:
        rnd = _round(s, round_name)
        rows = s.execute(
            select(Proposal).where(Proposal.round_id == rnd.id).order_by(Proposal.reference)
        ).scalars()
        return [
            ProposalInput(
                p.reference,
                p.area,
                p.approach,
                p.amount_requested_pence // 100,
                p.participants_planned,
                p.name,
                p.provider,
                p.target_age_max,
            )
            for p in rows
        ]


def allocate_round(
    store: Store,
    round_name: str,
    need: Any,
    budget: int,
    minimum_per_area: int = 0,
    *,
    user: str | None = None,
    measure: str = "harm",
    measure_reason: str = "",
    period: Mapping[str, Any] | None = None,
    evidence: Evidence | None = None,
) -> dict[str, Any]:
    """Recommend the round's allocation (:func:`recommend`), store it, and return it with the
    overrides so far applied (``final``). The same inputs again store nothing new.

    Raises:
        AllocationError: no such round, no proposals, or the minimums exceed the budget.
    """
    proposals = round_proposals(store, round_name)
    if not proposals:
        raise AllocationError(
            f"the round {round_name!r} has no proposals: "
            "`svduty funding proposals import FILE --round NAME` first"
        )
    result = recommend(
        need, proposals, budget, minimum_per_area, evidence=evidence, measure=measure
    )
    result = {"round": round_name, **result}
    result["measure_reason"] = measure_reason
    result["period"] = dict(period or {})
    with store.session() as s:
        rnd = _round(s, round_name)
        ids = {
            p.reference: p.id
            for p in s.execute(select(Proposal).where(Proposal.round_id == rnd.id)).scalars()
        }
        previous = (rnd.allocation or {}).get("inputs_hash")
        if previous != result["inputs_hash"]:
            now = stamp()
            result["computed_at"] = now
            for p in result["proposals"]:
                s.add(
                    Allocation(
                        round_id=rnd.id,
                        proposal_id=ids[p["reference"]],
                        recommended_pence=p["recommended"] * 100,
                        explanation={"lines": p["explanation"], "score": p["score"]},
                        computed_at=now,
                        computed_by=user or "",
                        inputs_hash=result["inputs_hash"],
                    )
                )
            rnd.budget_pence, rnd.minimum_per_area_pence = budget * 100, minimum_per_area * 100
            rnd.allocation = {k: v for k, v in result.items()}
            audit.append(
                s,
                actor=user or "cli",
                action="funding-allocate",
                resource=f"round:{round_name}",
                detail={
                    "budget": budget,
                    "minimum_per_area": minimum_per_area,
                    "allocated": result["allocated"],
                    "inputs_hash": result["inputs_hash"],
                },
            )
        else:
            result["computed_at"] = (rnd.allocation or {}).get("computed_at")
    return show_round(store, round_name)


def override(
    store: Store, round_name: str, reference: str, amount: int, reason: str, *, user: str
) -> dict[str, Any]:
    """Record a commissioner's decision to fund a proposal with ``amount`` (whole pounds)
    instead of the recommendation, and why; audited. Returns the override.

    Raises:
        AllocationError: an empty reason, a negative amount, no such round or proposal, or no
            recommendation yet to override.
    """
    if not reason or not reason.strip():
        raise AllocationError("an override needs a reason (--reason): say why, for the record")
    if amount < 0:
        raise AllocationError("the amount must not be negative")
    if not user or not user.strip():
        raise AllocationError("an override needs the name of who decided it (--user)")
    with store.session() as s:
        rnd = _round(s, round_name)
        prop = s.execute(
            select(Proposal).where(Proposal.round_id == rnd.id, Proposal.reference == reference)
        ).scalar_one_or_none()
        if prop is None:
            raise AllocationError(
                f"the round {round_name!r} has no proposal {reference}; "
                f"`svduty funding show --round {round_name}` lists them"
            )
        latest = (rnd.allocation or {}).get("inputs_hash")
        alloc = s.execute(
            select(Allocation)
            .where(Allocation.proposal_id == prop.id, Allocation.inputs_hash == latest)
            .order_by(Allocation.id.desc())
        ).scalar()
        if alloc is None:
            raise AllocationError(
                f"the round {round_name!r} has no recommendation yet: run "
                f"`svduty funding allocate --round {round_name} --budget AMOUNT` first"
            )
        row = AllocationOverride(
            proposal_id=prop.id,
            allocation_id=alloc.id,
            amount_pence=amount * 100,
            reason=reason.strip(),
            user=user.strip(),
            at=stamp(),
        )
        s.add(row)
        audit.append(
            s,
            actor=user.strip(),
            action="funding-override",
            resource=f"round:{round_name}/proposal:{reference}",
            detail={
                "recommended": alloc.recommended_pence // 100,
                "amount": amount,
                "reason": reason.strip(),
            },
        )
        return {
            "amount": amount,
            "recommended": alloc.recommended_pence // 100,
            "reason": row.reason,
            "user": row.user,
            "at": row.at,
        }


def show_round(store: Store, round_name: str) -> dict[str, Any]:
    """The round's latest recommendation with the overrides applied: each proposal's
    ``final``, the totals and a warning when the final total exceeds the budget.

    Raises:
        AllocationError: no such round, or no recommendation yet.
    """
    with store.sessions() as s:
        rnd = _round(s, round_name)
        if not rnd.allocation:
            raise AllocationError(
                f"the round {round_name!r} has no recommendation yet: run "
                f"`svduty funding allocate --round {round_name} --budget AMOUNT` first"
            )
        result = json.loads(json.dumps(rnd.allocation))
        latest_ids = {
            a.id
            for a in s.execute(
                select(Allocation).where(
                    Allocation.round_id == rnd.id, Allocation.inputs_hash == result["inputs_hash"]
                )
            ).scalars()
        }
        overrides: dict[str, AllocationOverride] = {}
        q = (
            select(AllocationOverride, Proposal.reference)
            .join(Proposal, AllocationOverride.proposal_id == Proposal.id)
            .where(Proposal.round_id == rnd.id)
            .order_by(AllocationOverride.id)
        )
        for row, ref in s.execute(q).all():
            overrides[ref] = row
    for p in result["proposals"]:
        o = overrides.get(p["reference"])
        if o is None:
            p["final"], p["override"] = p["recommended"], None
            continue
        p["final"] = o.amount_pence // 100
        p["override"] = {
            "amount": o.amount_pence // 100,
            "reason": o.reason,
            "user": o.user,
            "at": o.at,
            "of_an_earlier_recommendation": o.allocation_id not in latest_ids,
        }
    final = sum(p["final"] for p in result["proposals"])
    result["final"] = final
    result["overrides"] = sum(1 for p in result["proposals"] if p["override"])
    warnings = []
    if final > result["budget"]:
        warnings.append(
            f"The final total {_pounds(final)} is {_pounds(final - result['budget'])} over the "
            f"budget {_pounds(result['budget'])}."
        )
    for p in result["proposals"]:
        o = p["override"]
        if o and o["of_an_earlier_recommendation"]:
            warnings.append(
                f"The override of {p['reference']} was made against an earlier recommendation: "
                "check it still stands."
            )
        if p["final"] and p["evidence"]["flag"] == "harmful":
            warnings.append(f"{p['reference']} is funded although its approach can cause harm.")
    result["warnings"] = warnings
    return result


def parse_pounds(text: str, what: str) -> int:
    """Whole pounds (rounded down) from ``"£350,000"`` or ``"350000"``; a clear error otherwise."""
    try:
        return parse_money(text) // 100
    except ValueError as e:
        raise AllocationError(f"{what} {e}") from e


__all__ = [
    "AllocationError",
    "ProposalInput",
    "allocate_round",
    "import_proposals",
    "list_rounds",
    "need_measure",
    "override",
    "parse_pounds",
    "recommend",
    "round_proposals",
    "show_round",
]
