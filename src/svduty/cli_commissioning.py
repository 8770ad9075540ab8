"""The commissioners' commands: the interventions register and funding rounds.

They register themselves on :data:`svduty.cli.app` (``cli.py`` imports this module at its end).
Money is given and shown in pounds (``350000``, ``350,000`` or ``£350,000``).
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from svduty.cli import _connect, _print_json, app, err, out, state

interventions_app = typer.Typer(
    help="The interventions register: import it from a spreadsheet, list it, see its evidence."
)
funding_app = typer.Typer(
    help="Funding rounds: proposals, a recommended allocation by need and evidence, overrides."
)
proposals_app = typer.Typer(help="The proposals of a funding round.")
app.add_typer(interventions_app, name="interventions")
app.add_typer(funding_app, name="funding")
funding_app.add_typer(proposals_app, name="proposals")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Check the file and report; change nothing.")
]
UserOpt = Annotated[
    str | None, typer.Option("--user", help="Who does this, for the audit trail (default: you).")
]
EvidenceOpt = Annotated[
    Path | None,
    typer.Option(
        "--evidence", help="The partnership's own evidence file (default: svduty's YEF ratings)."
    ),
]
FileArg = Annotated[Path, typer.Argument(help="A CSV or XLSX file (first sheet), headers first.")]
RoundOpt = Annotated[str, typer.Option("--round", help="The funding round's name.")]


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _user(user: str | None) -> str:
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli"


def _store() -> Any:
    from svduty.cli_platform import _store as platform_store

    return platform_store(ensure=False)


def _areas() -> dict[str, str] | None:
    """The partnership's CSP codes and names when the warehouse has reference data, else None."""
    from svduty.commissioning.register import partnership_areas

    if state.settings.engine != "spark" and not state.settings.duckdb_path.exists():
        return None
    con = _connect()
    try:
        return partnership_areas(con) or None
    finally:
        con.disconnect()


def _pounds(value: float | None) -> str:
    if value is None:
        return ""
    return f"£{value:,.0f}" if float(value).is_integer() else f"£{value:,.2f}"


def _print_report(report: Any, what: str, as_json: bool) -> None:
    if as_json:
        _print_json(report.as_json())
        return
    verb = "Would import" if report.dry_run else "Imported"
    out.print(
        f"{verb} {_e(Path(report.file).name)}: {len(report.added)} {what} added, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len({p.row for p in report.rejected})} rows refused.",
        highlight=False,
    )
    if not report.changed and not report.dry_run:
        out.print("Nothing changed.")
    for title, problems in (("Refused", report.rejected), ("Warnings", report.warnings)):
        if not problems:
            continue
        t = Table("row", "column", "reason", title=title)
        t.columns[2].overflow = "fold"
        for p in problems:
            t.add_row(str(p.row or ""), _e(p.column), _e(p.reason))
        out.print(t)


@interventions_app.command("import")
def interventions_import(
    path: FileArg,
    dry_run: DryRunOpt = False,
    user: UserOpt = None,
    evidence: EvidenceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import the register: each good row is added or updated by its Reference, each bad row is
    listed with its row, column and reason; the same file again changes nothing."""
    from svduty.commissioning.evidence import load_evidence
    from svduty.commissioning.register import import_register

    areas = _areas()
    with _store() as store:
        report = import_register(
            store,
            path,
            user=_user(user),
            areas=areas,
            evidence=load_evidence(evidence),
            dry_run=dry_run,
        )
    _print_report(report, "interventions", as_json)
    if areas is None and not as_json:
        err.print(
            "Areas were checked only for their shape: load the reference data to check them "
            "against the partnership's areas.",
            highlight=False,
        )


@interventions_app.command("returns")
def interventions_returns(
    path: FileArg, dry_run: DryRunOpt = False, user: UserOpt = None, as_json: JsonOpt = False
) -> None:
    """Import quarterly returns (Reference, Quarter, Referrals, Participants, Sessions, Spend)."""
    from svduty.commissioning.register import import_returns

    with _store() as store:
        report = import_returns(store, path, user=_user(user), dry_run=dry_run)
    _print_report(report, "returns", as_json)


@interventions_app.command("list")
def interventions_list(evidence: EvidenceOpt = None, as_json: JsonOpt = False) -> None:
    """List the register with each approach's evidence and flag (harmful, no clear evidence)."""
    from svduty.commissioning.evidence import load_evidence
    from svduty.commissioning.register import list_interventions

    ev = load_evidence(evidence)
    with _store() as store:
        rows = [v.as_json(ev) for v in list_interventions(store)]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("The register is empty: svduty interventions import FILE")
        return
    t = Table("id", "project", "areas", "approach", "evidence", "amount", "spend", "participants")
    t.columns[0].no_wrap = True
    for r in rows:
        e = r["evidence"] or {}
        mark = e.get("band", "")
        if e.get("flag"):
            mark += f" [red]({e['flag']})[/red]"
        t.add_row(
            _e(r["id"]),
            _e(r["name"]),
            _e(", ".join(r["areas"])),
            _e(r["approach"]),
            mark,
            _pounds(r["amount"]),
            _pounds(r["spend"]),
            "" if r["participants"] is None else f"{r['participants']:,}",
        )
    out.print(t)


@interventions_app.command("show")
def interventions_show(
    reference: Annotated[str, typer.Argument(help="The intervention's reference (its id).")],
    evidence: EvidenceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one intervention, its evidence and its quarterly returns."""
    from svduty.commissioning.evidence import load_evidence
    from svduty.commissioning.register import get_intervention, list_returns
    from svduty.errors import SvdutyError

    with _store() as store:
        view = get_intervention(store, reference)
        if view is None:
            raise SvdutyError(
                f"there is no intervention {reference}; `svduty interventions list` shows them"
            )
        returns = [r.as_json() for r in list_returns(store, reference)]
    row = {**view.as_json(load_evidence(evidence)), "returns": returns}
    if as_json:
        _print_json(row)
        return
    for k, v in row.items():
        if k in ("evidence", "returns"):
            continue
        if k in ("amount", "spend"):
            v = _pounds(v)
        out.print(f"[bold]{k}[/bold]: {_e(', '.join(v) if isinstance(v, list) else v)}")
    e = row["evidence"] or {}
    out.print(
        f"[bold]evidence[/bold]: {_e(e.get('name'))}, {_e(e.get('band'))} impact, strength "
        f"{_e(e.get('strength') or 'not rated')}"
    )
    if e.get("flag_reason"):
        out.print(f"[red]{_e(e['flag_reason'])}[/red]")
    if returns:
        t = Table("quarter", "referrals", "participants", "sessions", "spend", title="Returns")
        for r in returns:
            t.add_row(
                r["quarter"],
                *("" if r[k] is None else f"{r[k]:,}" for k in ("referrals", "participants")),
                "" if r["sessions"] is None else f"{r['sessions']:,}",
                _pounds(r["spend"]),
            )
        out.print(t)


@proposals_app.command("import")
def proposals_import(
    path: FileArg,
    round_name: RoundOpt,
    dry_run: DryRunOpt = False,
    user: UserOpt = None,
    evidence: EvidenceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a round's proposals (Reference, Project, Provider, Area, Approach, Amount
    Requested, Participants, Target Age Max); the round is created if new."""
    from svduty.commissioning.allocation import import_proposals
    from svduty.commissioning.evidence import load_evidence

    areas = _areas()
    with _store() as store:
        report = import_proposals(
            store,
            path,
            round_name,
            user=_user(user),
            areas=areas,
            evidence=load_evidence(evidence),
            dry_run=dry_run,
        )
    _print_report(report, "proposals", as_json)
    if areas is None and not as_json:
        err.print(
            "Areas were checked only for their shape: load the reference data to check them "
            "against the partnership's areas.",
            highlight=False,
        )


def _print_round(result: dict[str, Any]) -> None:
    out.print(
        f"[bold]{_e(result['round'])}[/bold]: budget {_pounds(result['budget'])}, minimum per "
        f"area {_pounds(result['minimum_per_area'])}; need measured by {_e(result['measure'])}"
        + (f" ({_e(result['measure_reason'])})" if result.get("measure_reason") else "")
        + ".",
        highlight=False,
    )
    t = Table("area", "share", "envelope", "recommended", "final")
    for a in result["areas"]:
        final = sum(p["final"] for p in result["proposals"] if p["area"] == a["code"])
        t.add_row(
            f"{_e(a['name'])} ({a['code']})",
            f"{a['share']:.0%}",
            _pounds(a["envelope"]),
            _pounds(a["allocated"]),
            _pounds(final),
        )
    out.print(t)
    t = Table("proposal", "area", "approach", "evidence", "requested", "£/participant", "score")
    t.add_column("recommended")
    t.add_column("final")
    for p in result["proposals"]:
        ev = p["evidence"]
        mark = ev["band"] + (f" [red]({ev['flag']})[/red]" if ev["flag"] else "")
        mark = "[red]harmful[/red]" if ev["flag"] == "harmful" else mark
        final = _pounds(p["final"]) + (" *" if p["override"] else "")
        t.add_row(
            _e(p["reference"]),
            _e(p["area_name"]),
            _e(p["approach"]),
            mark,
            _pounds(p["requested"]),
            _pounds(p["cost_per_participant"]),
            f"{p['score']:g}",
            _pounds(p["recommended"]),
            final,
        )
    out.print(t)
    out.print(
        f"Recommended {_pounds(result['allocated'])} of {_pounds(result['budget'])} "
        f"({_pounds(result['unallocated'])} unallocated); final {_pounds(result['final'])} "
        f"after {result['overrides']} override(s) (*).",
        highlight=False,
    )
    for p in result["proposals"]:
        if p["override"]:
            o = p["override"]
            out.print(
                f"  {_e(p['reference'])}: {_pounds(o['amount'])} instead of "
                f"{_pounds(p['recommended'])}, by {_e(o['user'])} at {_e(o['at'])}: "
                f"{_e(o['reason'])}",
                highlight=False,
            )
    for w in result["warnings"]:
        err.print(f"[yellow]warning:[/yellow] {_e(w)}", highlight=False)
    out.print("Why: svduty funding show --round NAME --json (an explanation for each proposal).")


@funding_app.command("allocate")
def funding_allocate(
    round_name: RoundOpt,
    budget: Annotated[str, typer.Option("--budget", help="The money to allocate, in pounds.")],
    minimum_per_area: Annotated[
        str,
        typer.Option(
            "--minimum-per-area",
            help="The least each area with eligible proposals gets (if it asks for that much).",
        ),
    ] = "0",
    months: Annotated[
        int, typer.Option("--months", help="Months of recorded violence to measure need.")
    ] = 12,
    need: Annotated[
        str,
        typer.Option(
            "--need",
            help="auto (harm when the harm weights cover the definition, else crimes), harm "
            "or crimes.",
        ),
    ] = "auto",
    evidence: EvidenceOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recommend an allocation of the budget across areas (by need) and proposals (by evidence
    and cost per participant), explained line by line, and store it."""
    from svduty.commissioning.allocation import (
        AllocationError,
        allocate_round,
        need_measure,
        parse_pounds,
    )
    from svduty.commissioning.evidence import load_evidence
    from svduty.commissioning.outcomes import need_by_area

    if need not in ("auto", "harm", "crimes"):
        raise typer.BadParameter("choose auto, harm or crimes", param_hint="--need")
    if months < 1:
        raise typer.BadParameter("give 1 month or more", param_hint="--months")
    amount = parse_pounds(budget, "--budget")
    minimum = parse_pounds(minimum_per_area, "--minimum-per-area")
    measure, reason = need_measure() if need == "auto" else (need, "chosen with --need")
    con = _connect()
    try:
        frame = need_by_area(con, months=months)
    finally:
        con.disconnect()
    if frame.empty:
        raise AllocationError(
            "the warehouse has no partnership areas: load the reference data first "
            "(svduty reference load DIR, or svduty demo)"
        )
    first, last = frame["first"].iloc[0], frame["last"].iloc[0]
    period = {"months": months, "first": str(first)[:7] if first else None}
    period["last"] = str(last)[:7] if last else None
    with _store() as store:
        result = allocate_round(
            store,
            round_name,
            frame,
            amount,
            minimum,
            user=_user(user),
            measure=measure,
            measure_reason=reason,
            period=period,
            evidence=load_evidence(evidence),
        )
    if as_json:
        _print_json(result)
    else:
        _print_round(result)


@funding_app.command("override")
def funding_override(
    round_name: RoundOpt,
    proposal: Annotated[str, typer.Option("--proposal", help="The proposal's reference.")],
    amount: Annotated[str, typer.Option("--amount", help="The amount decided, in pounds.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required; kept and audited).")],
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a commissioner's decision to fund a proposal differently, and why."""
    from svduty.commissioning.allocation import override, parse_pounds

    pounds = parse_pounds(amount, "--amount")
    with _store() as store:
        got = override(store, round_name, proposal, pounds, reason, user=_user(user))
    if as_json:
        _print_json({"round": round_name, "proposal": proposal, **got})
        return
    out.print(
        f"{_e(proposal)}: {_pounds(got['amount'])} instead of the recommended "
        f"{_pounds(got['recommended'])}, recorded for {_e(got['user'])}.",
        highlight=False,
    )


@funding_app.command("show")
def funding_show(round_name: RoundOpt, as_json: JsonOpt = False) -> None:
    """Show a round's recommendation, overrides and final totals (warns over budget)."""
    from svduty.commissioning.allocation import show_round

    with _store() as store:
        result = show_round(store, round_name)
    if as_json:
        _print_json(result)
    else:
        _print_round(result)


@funding_app.command("rounds")
def funding_rounds(as_json: JsonOpt = False) -> None:
    """List the funding rounds."""
    from svduty.commissioning.allocation import list_rounds

    with _store() as store:
        rows = list_rounds(store)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("No funding rounds yet: svduty funding proposals import FILE --round NAME")
        return
    t = Table("round", "status", "proposals", "budget", "minimum per area", "allocated at")
    for r in rows:
        t.add_row(
            _e(r["round"]),
            _e(r["status"]),
            str(r["proposals"]),
            _pounds(r["budget"]),
            _pounds(r["minimum_per_area"]),
            _e(r["allocated_at"] or ""),
        )
    out.print(t)
