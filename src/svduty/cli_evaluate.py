"""The evaluation commands: did an intervention reduce the violence it targeted?

They register themselves on :data:`svduty.cli.app` (``cli.py`` imports this module at its end).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from svduty.cli import _connect, _print_json, app, err, out, state

evaluate_app = typer.Typer(
    help="Evaluate an intervention: its area against comparison areas, its participants "
    "against a matched comparison group."
)
app.add_typer(evaluate_app, name="evaluate")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _month_option(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.datetime.strptime(value.strip(), "%Y-%m").date()
    except ValueError as e:
        raise typer.BadParameter(
            f"expected a month as YYYY-MM, got {value!r}", param_hint=name
        ) from e


def _share(value: float) -> str:
    pct = abs(value) * 100
    return f"{pct:.0f}%" if pct >= 1 or pct == 0 else f"{pct:.1f}%"


def _direction(value: float) -> str:
    return "fall" if value < 0 else "rise"


def _sentence(r: dict[str, Any], alpha: float) -> str:
    """'violence fell by 24% (95% CI 15% to 32% fall)' and whether the interval includes 0."""
    est, lo, hi = r["estimate"], r["ci_low"], r["ci_high"]
    verb = "fell" if est < 0 else "rose"
    level = f"{100 * (1 - alpha):g}% CI"
    if hi < 0 or lo > 0:
        near, far = (hi, lo) if hi < 0 else (lo, hi)
        ci = f"{level} {_share(near)} to {_share(far)} {_direction(est)}"
        tail = "the interval excludes no change"
    else:
        ci = f"{level} {_share(lo)} fall to {_share(hi)} rise"
        tail = "the interval includes no change, so chance cannot be ruled out"
    return f"violence {verb} by {_share(est)} ({ci}); {tail}"


def _print_result(r: dict[str, Any]) -> None:
    p = functools.partial(out.print, highlight=False)
    who = f"intervention {r['intervention']}: " if r.get("intervention") else ""
    p(
        f"[bold]{escape(who)}{escape(', '.join(r['treated_areas']))} from {r['start']}[/bold] "
        f"against {escape(', '.join(r['comparison_areas']) or 'no comparison area')}"
    )
    p(f"Outcome: {escape(r['outcome'])}.")
    p(
        f"{r['months_before']} months before the start ({r['events_before']:,.0f} events), "
        f"{r['months_after']} from it to {r['end']} ({r['events_after']:,.0f} events)."
    )
    if r.get("intervention_end") and r["intervention_end"] < r["end"]:
        p(
            f"The intervention ended in {r['intervention_end']}; the months after it are "
            "included, as effects may outlast it (--end stops earlier)."
        )
    if r["reasons"]:
        p("[bold]The data cannot support a conclusion:[/bold]")
        for reason in r["reasons"]:
            p(f"  - {escape(reason)}")
    alpha = r["alpha"]
    if r["did"]:
        d = r["did"]
        p(
            f"Difference-in-differences: {_sentence(d, alpha)} (p = {d['p_value']:.3f}, "
            f"dispersion {d['dispersion']:.2f})."
        )
    es = r["event_study"]
    if es and es["pre_trend_p_value"] is not None:
        p(
            f"Event study: months before the start jointly differ from the reference month "
            f"with p = {es['pre_trend_p_value']:.2f} (a small p casts doubt on parallel trends)."
        )
    if r["synthetic_control"]:
        s = r["synthetic_control"]
        mix = ", ".join(
            f"{w:.0%} {escape(code)}"
            for code, w in sorted(s["weights"].items(), key=lambda kv: -kv[1])
            if w >= 0.005
        )
        p(f"Synthetic control: {_sentence(s, alpha)}.")
        ratio = f"{s['rmspe_ratio']:.1f}" if s["rmspe_ratio"] is not None else "n/a"
        p(
            f"  weights {mix}; pre-period error {s['pre_rmspe']:.0%} a month "
            f"({s['fit_ratio']:.2f} times chance variation), post/pre RMSPE ratio {ratio}, "
            f"placebo rank p = {s['placebo_rank_p_value']:.2f}."
        )
    pl = r["placebos"]
    if pl:
        d, s = pl["did"], pl["synthetic_control"]
        if d["runs"]:
            p(
                f"Placebos: {d['runs']} fake interventions (other areas, other start months); "
                f"difference-in-differences called {d['significant']} significant "
                f"({d['share']:.1%}), synthetic control {s['significant']} ({s['share']:.1%}); "
                f"about {alpha:.0%} is expected by chance."
            )
        else:
            p("Placebos: no fake intervention could be run on these data.")
    if r.get("plot"):
        p(f"Event-study plot: {escape(str(r['plot']))}")


@evaluate_app.command("area")
def evaluate_area_cmd(
    intervention: Annotated[
        str | None,
        typer.Option("--intervention", help="The intervention's reference in the register."),
    ] = None,
    area: Annotated[
        str | None,
        typer.Option(
            "--area", help="Instead of --intervention: treated area code(s), CODE[,CODE]."
        ),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="With --area: first month treated, YYYY-MM.")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end",
            help="Last month to evaluate, YYYY-MM (default: the last month loaded, even when "
            "the intervention ended earlier: effects may outlast it).",
        ),
    ] = None,
    outcome_max_age: Annotated[
        int | None,
        typer.Option(
            help="Count violence naming a victim or suspect this age or under (default: the "
            "intervention's target age, else 24).",
            min=0,
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the event-study SVG (default: "
            "DATA_DIR/evaluations/ID-event-study.svg)."
        ),
    ] = None,
    with_placebos: Annotated[
        bool,
        typer.Option("--placebos/--no-placebos", help="Run fake interventions as a check."),
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Estimate an intervention's effect on the violence it targeted in its area(s).

    Compares the treated area(s) with the other partnership areas by difference-in-differences
    (with an event study) and by synthetic control, each with a 95% confidence interval, and
    checks both on placebo interventions. When the data cannot support a conclusion (too few
    months or events, no comparison area, a poor synthetic fit) it says why and exits 0.
    """
    from svduty.commissioning.area import EvaluationError, evaluate_area, event_study_svg
    from svduty.commissioning.outcomes import MAX_AGE, monthly_by_area

    end_month = _month_option(end, "--end")
    if intervention is not None:
        if area is not None or start is not None:
            raise typer.BadParameter("give --intervention or --area with --start, not both")
        from svduty.commissioning.register import get_intervention
        from svduty.store.db import open_store

        store = open_store(state.settings)
        try:
            found = get_intervention(store, intervention)
        finally:
            store.dispose()
        if found is None:
            raise EvaluationError(
                f"no intervention {intervention!r} in the register: list them with "
                "`svduty interventions list`, or give --area and --start"
            )
        treated, first, ends = list(found.areas), found.start, found.end
        max_age = found.target_age_max if outcome_max_age is None else outcome_max_age
        slug = re.sub(r"[^A-Za-z0-9._+-]+", "-", intervention)
    else:
        if area is None or start is None:
            raise typer.BadParameter("give --intervention ID, or --area CODE and --start YYYY-MM")
        treated = [a.strip() for a in area.split(",") if a.strip()]
        first = _month_option(start, "--start") or dt.date.min
        max_age = MAX_AGE if outcome_max_age is None else outcome_max_age
        ends = None
        slug = f"area-{'+'.join(treated)}-{first:%Y-%m}"
    if not treated:
        raise EvaluationError("the intervention names no partnership area to evaluate")

    con = _connect()
    with err.status("Counting violence by area and month..."):
        panel = monthly_by_area(con, max_age=max_age)
    if panel.empty:
        raise EvaluationError(
            "no police recorded crime in the warehouse: load police-crime extracts first"
        )
    description = (
        f"police recorded serious violence naming a victim or suspect aged {max_age} or under, "
        "crimes per month"
    )
    with err.status("Evaluating..."):
        result = evaluate_area(
            panel, treated, first, end=end_month, description=description,
            with_placebos=with_placebos,
        )  # fmt: skip
    result = {
        "intervention": intervention,
        "intervention_end": f"{ends:%Y-%m}" if ends else None,
        **result,
        "plot": None,
    }
    if result["event_study"]:
        path = plot or state.settings.data_dir / "evaluations" / f"{slug}-event-study.svg"
        path.parent.mkdir(parents=True, exist_ok=True)
        svg = event_study_svg(
            result["event_study"], start=result["start"], outcome="young people's violence"
        )
        path.write_text(svg, encoding="utf-8")
        result["plot"] = str(path)
    if as_json:
        _print_json(result)
    else:
        _print_result(result)


_OUTCOME_WORDS = {"police": "police-recorded crimes", "ed": "ED attendances after assault"}


def _cohort_line(o: dict[str, Any]) -> str:
    """One outcome of a cohort evaluation in plain English."""
    head = (
        f"{_OUTCOME_WORDS.get(o['outcome'], o['outcome'])} within {o['horizon_months']} months "
        f"({o['participants']} participants)"
    )
    if o.get("estimate") is None:
        return f"{head}: {o.get('reason', 'no estimate')}"
    est, lo, hi = o["estimate"], o["ci_low"], o["ci_high"]
    fewer = "fewer" if est < 0 else "more"
    ci = f"95% CI {lo * 100:+.0f}% to {hi * 100:+.0f}%"
    verdict = (
        "the interval includes no change" if lo <= 0 <= hi else "the interval excludes no change"
    )
    return (
        f"{head}: {_share(est)} {fewer} than the matched comparison group "
        f"(mean {o['participant_mean']:.2f} against {o['comparison_mean']:.2f}; {ci}); {verdict}"
    )


@evaluate_app.command("cohort")
def evaluate_cohort_cmd(
    intervention: Annotated[
        str, typer.Option("--intervention", help="The project's reference in the register.")
    ],
    lookback: Annotated[
        int,
        typer.Option(
            "--lookback", min=1, max=36, help="Months of history before referral to match on."
        ),
    ] = 6,
    ratio: Annotated[
        int, typer.Option("--ratio", min=1, max=20, help="Comparison people per participant.")
    ] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Compare a project's participants with similar young people it did not take on.

    Participants come from the providers' lists (the participants feed), linked to the
    partners' records by pseudonymous person keys (run svduty link after loading them). Each is
    matched, on the date of referral, to up to --ratio young people never referred who share
    their sex, area, age (within a year) and number of police records in the --lookback months
    before; the groups' police-recorded crimes and ED attendances after assault in the 6 and 12
    months after are compared (relative change, two-way bootstrap 95% interval). People are
    counted, never scored or named. See docs/evaluation.md.
    """
    from svduty.commissioning.cohort import CohortError, evaluate_cohort
    from svduty.commissioning.register import get_intervention
    from svduty.store.db import open_store

    store = open_store(state.settings)
    try:
        known = get_intervention(store, intervention)
    finally:
        store.dispose()
    if known is None:
        err.print(
            f"[red]No intervention {escape(intervention)} in the register[/] "
            "(svduty interventions list shows it)."
        )
        raise typer.Exit(1)
    con = _connect()
    try:
        result = evaluate_cohort(con, intervention, lookback=lookback, ratio=ratio)
    except CohortError as e:
        err.print(f"[red]Cannot evaluate:[/] {escape(str(e))}")
        raise typer.Exit(1) from e
    finally:
        con.disconnect()
    if as_json:
        _print_json(result)
        return
    p = result["participants"]
    out.print(f"[bold]{escape(intervention)}[/]: cohort evaluation ({escape(result['method'])})")
    out.print(
        f"Participants listed {p['listed']}; known to a partner before referral "
        f"{p.get('known_before_referral', 0)}; matched {p.get('matched', 0)} to "
        f"{result.get('comparison', {}).get('people', 0)} comparison people."
    )
    for reason in result["reasons"]:
        out.print(f"[yellow]Cannot conclude:[/] {escape(reason)}")
    for o in result["outcomes"]:
        out.print("  " + escape(_cohort_line(o)))
    if result["supported"]:
        out.print(
            "An observational comparison: matching removes the differences the records show, "
            "not those they do not."
        )
