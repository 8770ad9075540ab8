"""The quarterly monitoring report for the Police and Crime Commissioner: spend, reach, evidence
and outcomes of every funded project, by project, by area and by financial year.

:func:`monitoring_figures` reads the register and the quarterly returns (and, where given, the
outcome evaluations); :func:`render_monitoring_html` draws one self-contained HTML file (inline
SVG chart, no script, nothing fetched); :func:`write_monitoring` writes it and prints the PDF.
A project that serves several areas is shared equally between them in the tables by area, so
that the areas add up to the partnership's totals.

Examples:
    >>> quarter_end("2025-Q3"), quarter_words("2025-Q3")
    (datetime.date(2025, 9, 30), 'July to September 2025')
    >>> split(10, 3)
    [4, 3, 3]
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from svduty.commissioning.evidence import Evidence, flag, flag_reason, load_evidence
from svduty.commissioning.register import list_interventions, list_returns
from svduty.errors import SvdutyError
from svduty.reports.charts import grouped_bar_chart
from svduty.reports.html import esc, figure, number, percent, table
from svduty.reports.pdf import print_pdf
from svduty.store.db import Store

#: A project is behind when it has spent under this share of what it would have spent pro rata.
BEHIND = 0.5
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTHS = ("January", "April", "July", "October")
_LAST = ("March", "June", "September", "December")
_OUTCOME_WORDS = {
    "police": "police-recorded violence involving participants",
    "ed": "emergency department attendances for assault by participants",
}


class MonitoringError(ValueError, SvdutyError):
    """The monitoring report cannot be made as asked (e.g. a quarter written wrongly)."""


def _parts(quarter: str) -> tuple[int, int]:
    m = _QUARTER.fullmatch(quarter)
    if not m:
        raise MonitoringError(f"the quarter {quarter[:20]!r} is not written as 2025-Q3")
    return int(m.group(1)), int(m.group(2))


def quarter_end(quarter: str) -> dt.date:
    """The last day of a calendar quarter such as ``2025-Q3``."""
    year, q = _parts(quarter)
    if q == 4:
        return dt.date(year, 12, 31)
    return dt.date(year, 3 * q + 1, 1) - dt.timedelta(days=1)


def quarter_words(quarter: str) -> str:
    """``2025-Q3`` as a reader says it."""
    year, q = _parts(quarter)
    return f"{_MONTHS[q - 1]} to {_LAST[q - 1]} {year}"


def split(total: int, n: int) -> list[int]:
    """``total`` in ``n`` whole parts that add up to it (the remainder to the first parts)."""
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def _expected_share(start: dt.date, end: dt.date | None, at: dt.date) -> float:
    """The share of a project's duration past at ``at`` (a year when it has no end date)."""
    end = end or start.replace(year=start.year + 1) - dt.timedelta(days=1)
    days = (end - start).days + 1
    done = (min(at, end) - start).days + 1
    return max(0.0, min(1.0, done / days)) if days > 0 else 1.0


def _sum(values: list[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _pct(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return part / whole


def _funding_by_year(store: Store) -> dict[str, int]:
    """A funding round's budget for each financial year named in the round's name."""
    from svduty.commissioning.allocation import list_rounds

    found: dict[str, int] = {}
    for r in list_rounds(store):
        m = re.search(r"(\d{4})\s*[/-]\s*(\d{2}|\d{4})", r["round"])
        if m and r["budget"] is not None:
            year = f"{m.group(1)}/{m.group(2)[-2:]}"
            found[year] = found.get(year, 0) + int(r["budget"])
    return found


def describe_outcomes(evaluation: dict[str, Any] | None) -> list[str]:
    """What a project's evaluations show, in plain English (one line each).

    Examples:
        >>> describe_outcomes(None)
        ['Not yet evaluated.']
        >>> describe_outcomes({"area": {"supported": False, "reasons": ["too few months"]},
        ...                    "cohort": None})[0]
        'Area evaluation not supported: too few months.'
    """
    if not evaluation or (not evaluation.get("area") and not evaluation.get("cohort")):
        return ["Not yet evaluated."]
    lines = []
    area = evaluation.get("area")
    if not area:
        lines.append("Area evaluation: not yet evaluated.")
    elif not area.get("supported"):
        lines.append(f"Area evaluation not supported: {_reasons(area)}.")
    else:
        for key, label in (
            ("did", "difference-in-differences"),
            ("synthetic_control", "synthetic control"),
        ):
            r = area.get(key)
            if r and r.get("estimate") is not None:
                lines.append(
                    f"In the areas it serves, youth serious violence was {_change(r)} than "
                    f"expected ({label}; {_interval(r)})."
                )
    cohort = evaluation.get("cohort")
    if not cohort:
        lines.append("Participants' outcomes: not yet evaluated.")
    elif not cohort.get("supported"):
        lines.append(f"Participants' outcomes not supported: {_reasons(cohort)}.")
    else:
        for o in cohort.get("outcomes") or []:
            what = _OUTCOME_WORDS.get(o.get("outcome"), str(o.get("outcome")))
            who = f"{o['participants']:,} participants" if o.get("participants") else "participants"
            if o.get("estimate") is None:
                lines.append(
                    f"Within {o.get('horizon_months')} months, {what}: no estimate "
                    f"({o.get('reason') or 'too few events'})."
                )
                continue
            lines.append(
                f"Within {o.get('horizon_months')} months, {what} was {_change(o)} than for "
                f"comparable young people ({who}; {_interval(o)})."
            )
    return lines


def _reasons(d: dict[str, Any]) -> str:
    return "; ".join(str(r) for r in d.get("reasons") or []) or "no reason given"


def _change(r: dict[str, Any]) -> str:
    e = float(r["estimate"])
    return (
        "no different" if round(e * 100) == 0 else f"{abs(e):.0%} {'lower' if e < 0 else 'higher'}"
    )


def _interval(r: dict[str, Any]) -> str:
    lo, hi = r.get("ci_low"), r.get("ci_high")
    if lo is None or hi is None:
        return "no interval"
    verdict = "unlikely to be chance" if hi < 0 or lo > 0 else "cannot be told apart from no change"
    return f"95% interval {lo:+.0%} to {hi:+.0%}, {verdict}"


def monitoring_figures(
    store: Store,
    quarter: str | None = None,
    *,
    areas: dict[str, str] | None = None,
    evaluations: dict[str, dict[str, Any]] | None = None,
    funding: dict[str, int] | None = None,
    evidence: Evidence | None = None,
) -> dict[str, Any]:
    """The figures of the quarterly monitoring report.

    Args:
        store: the operational store (the register and its returns).
        quarter: the quarter, e.g. ``"2025-Q3"``; default the latest quarter with a return.
        areas: CSP codes -> names (from :func:`svduty.commissioning.register.partnership_areas`).
        evaluations: a project's reference -> ``{"area": ..., "cohort": ...}`` evaluations.
        funding: financial year (``"2025/26"``) -> the funding available, whole pounds; default
            the budgets of funding rounds whose names carry the year.
        evidence: the evidence file (default: svduty's YEF Toolkit ratings).

    Returns:
        ``quarter``, ``quarters``, ``projects``, ``areas``, ``years``, ``totals``, ``behind``,
        ``outcomes`` and ``notes``; money in pounds, shares from 0 to 1.

    Raises:
        MonitoringError: the quarter is written wrongly.

    Examples:
        >>> import tempfile
        >>> from svduty.config import Settings
        >>> from svduty.store.db import open_store
        >>> store = open_store(Settings(data_dir=Path(tempfile.mkdtemp())))
        >>> monitoring_figures(store)["projects"]
        []
        >>> store.dispose()
    """
    evidence = evidence or load_evidence()
    areas = areas or {}
    evaluations = evaluations or {}
    interventions = list_interventions(store)
    returns = list_returns(store)
    quarters = sorted({r.quarter for r in returns})
    notes: list[str] = []
    if quarter is None:
        quarter = quarters[-1] if quarters else None
    elif quarter not in quarters:
        _parts(quarter)
        notes.append(f"No project has a return for {quarter}.")
    if quarter is None:
        notes.append("No quarterly return has been imported yet: the figures are the register's.")
    at = quarter_end(quarter) if quarter else dt.date.today()
    by_ref: dict[str, list[Any]] = defaultdict(list)
    for r in returns:
        if quarter is None or r.quarter <= quarter:
            by_ref[r.id].append(r)

    projects: list[dict[str, Any]] = []
    missing, from_register = [], []
    for v in interventions:
        mine = by_ref.get(v.id, [])
        this = [r for r in mine if r.quarter == quarter]
        award = round(v.amount * 100)
        p: dict[str, Any] = {
            "reference": v.id,
            "name": v.name,
            "provider": v.provider,
            "areas": list(v.areas),
            "area_names": [areas.get(a, a) for a in v.areas],
            "financial_year": v.financial_year,
            "funding_source": v.funding_source,
            "start": v.start.isoformat(),
            "end": v.end.isoformat() if v.end else None,
            "returned": bool(this),
            "source": "returns" if mine else "register",
        }
        spend_q = _sum([None if r.spend is None else round(r.spend * 100) for r in this])
        if mine:
            spend_td = _sum([None if r.spend is None else round(r.spend * 100) for r in mine])
            reach_td = {k: _sum([getattr(r, k) for r in mine]) for k in _REACH}
        else:
            spend_td = None if v.spend is None else round(v.spend * 100)
            reach_td = {k: getattr(v, k) for k in _REACH}
            from_register.append(v.id)
        if quarter and not this and v.start <= at:
            missing.append(v.id)
        for k in _REACH:
            p[f"{k}_quarter"] = _sum([getattr(r, k) for r in this])
            p[f"{k}_to_date"] = reach_td[k]
        p["_award"], p["_spend_q"], p["_spend_td"] = award, spend_q, spend_td
        p["award"] = award / 100
        p["spend_quarter"] = None if spend_q is None else spend_q / 100
        p["spend_to_date"] = None if spend_td is None else spend_td / 100
        p["spent_share"] = _pct(spend_td, award)
        p["expected_share"] = round(_expected_share(v.start, v.end, at), 4)
        p["behind"] = bool(
            v.start <= at
            and p["expected_share"] > 0
            and (p["spent_share"] or 0) < BEHIND * p["expected_share"]
        )
        p["cost_per_participant"] = (
            round(spend_td / 100 / reach_td["participants"], 2)
            if spend_td is not None and reach_td["participants"]
            else None
        )
        entry = evidence.approaches.get(v.approach)
        p["approach"] = v.approach
        p["evidence"] = {
            "name": entry.name if entry else v.approach,
            "band": entry.band if entry else "unrated",
            "flag": flag(entry),
            "flag_reason": flag_reason(entry),
        }
        p["outcomes"] = describe_outcomes(evaluations.get(v.id))
        p["evaluated"] = v.id in evaluations
        projects.append(p)

    area_rows = _by_area(projects, areas)
    totals = _totals(projects)
    for p in projects:
        del p["_award"], p["_spend_q"], p["_spend_td"]
    years = _by_year(projects, _funding_by_year(store) if funding is None else funding)
    if missing:
        notes.append(f"No return for {quarter} from: {', '.join(missing)}.")
    if from_register:
        notes.append(
            "No quarterly return yet from "
            + ", ".join(from_register)
            + ": their spend and reach to date are the register's own figures."
        )
    notes += [
        "A project serving several areas is shared equally between them in the tables by area, "
        "so the areas add up to the partnership's totals.",
        "Reach to date adds up each quarter's return: someone counted in two quarters' returns is "
        "counted twice unless providers return new participants only.",
        f"A project is behind on spend when it has spent under {BEHIND:.0%} of what it would "
        "have spent pro rata by the end of the quarter (a project with no end date is taken to "
        "run for a year).",
        f"Evidence ratings: {evidence.source}, {evidence.version} (read {evidence.read}).",
    ]
    return {
        "title": "Serious Violence Duty: quarterly monitoring",
        "quarter": quarter,
        "quarter_words": quarter_words(quarter) if quarter else "no returns yet",
        "quarters": quarters,
        "as_at": at.isoformat(),
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "projects": projects,
        "areas": area_rows,
        "years": years,
        "totals": totals,
        "behind": [p["reference"] for p in projects if p["behind"]],
        "outcomes": [
            {
                "reference": p["reference"],
                "name": p["name"],
                "evaluated": p["evaluated"],
                "lines": p["outcomes"],
            }
            for p in projects
        ],  # fmt: skip
        "notes": notes,
    }


_REACH = ("referrals", "participants", "sessions")
_COUNTS = [f"{k}_{w}" for k in _REACH for w in ("quarter", "to_date")]


def _shares(value: int | None, n: int) -> list[int | None]:
    return [None] * n if value is None else list(split(value, n))


def _by_area(projects: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    acc: dict[str, dict[str, Any]] = {}
    for p in projects:
        codes = p["areas"] or ["unknown"]
        n = len(codes)
        parts = {k: _shares(p[k], n) for k in ("_award", "_spend_q", "_spend_td", *_COUNTS)}
        for i, code in enumerate(codes):
            a = acc.setdefault(
                code,
                {"code": code, "name": names.get(code, code), "projects": [],
                 **{k: None for k in ("_award", "_spend_q", "_spend_td", *_COUNTS)}},
            )  # fmt: skip
            a["projects"].append(p["reference"])
            for k, values in parts.items():
                value = values[i]
                if value is not None:
                    a[k] = (a[k] or 0) + value
    out = []
    for code in sorted(acc, key=lambda c: (acc[c]["name"], c)):
        a = acc[code]
        out.append(_money_fields(a))
    return out


def _money_fields(a: dict[str, Any]) -> dict[str, Any]:
    award, spend_q, spend_td = a.pop("_award") or 0, a.pop("_spend_q"), a.pop("_spend_td")
    a["award"] = award / 100
    a["spend_quarter"] = None if spend_q is None else spend_q / 100
    a["spend_to_date"] = None if spend_td is None else spend_td / 100
    a["spent_share"] = _pct(spend_td, award)
    people = a.get("participants_to_date")
    a["cost_per_participant"] = round(spend_td / 100 / people, 2) if spend_td and people else None
    return a


def _totals(projects: list[dict[str, Any]]) -> dict[str, Any]:
    t: dict[str, Any] = {"projects": len(projects)}
    t["_award"] = sum(p["_award"] for p in projects)
    for k in ("_spend_q", "_spend_td", *_COUNTS):
        t[k] = _sum([p[k] for p in projects])
    return _money_fields(t)


def _by_year(projects: list[dict[str, Any]], funding: dict[str, int]) -> list[dict[str, Any]]:
    years: dict[str, dict[str, Any]] = {}
    for p in projects:
        y = years.setdefault(
            p["financial_year"] or "not given",
            {"financial_year": p["financial_year"] or "not given", "projects": 0, "award": 0.0,
             "spend_to_date": 0.0, "sources": defaultdict(float)},
        )  # fmt: skip
        y["projects"] += 1
        y["award"] += p["award"]
        y["spend_to_date"] += p["spend_to_date"] or 0
        y["sources"][p["funding_source"] or "not given"] += p["award"]
    out = []
    for key in sorted(set(years) | set(funding)):
        y = years.get(key) or {"financial_year": key, "projects": 0, "award": 0.0,
                               "spend_to_date": 0.0, "sources": {}}  # fmt: skip
        f = funding.get(key)
        y["award"], y["spend_to_date"] = round(y["award"], 2), round(y["spend_to_date"], 2)
        y["sources"] = [
            {"source": s, "award": round(a, 2)} for s, a in sorted(y["sources"].items())
        ]
        y["funding"] = f
        y["unawarded"] = None if f is None else round(f - y["award"], 2)
        y["spent_share"] = _pct(y["spend_to_date"], y["award"])
        out.append(y)
    return out


# -- the report ----------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
html { font-family: "Segoe UI", "DejaVu Sans", Arial, sans-serif; color: #1b1b1b;
       font-size: 15px; line-height: 1.45; }
body { max-width: 880px; margin: 0 auto; padding: 24px 20px 60px; }
h1 { font-size: 1.8rem; line-height: 1.2; margin: 0 0 .3rem; color: #0b4f8a; }
h2 { font-size: 1.3rem; margin: 2rem 0 .6rem; padding-top: .4rem; border-top: 3px solid #0b4f8a;
     break-after: avoid; }
.meta, .note, figcaption { color: #555; }
.note, figcaption { font-size: .85rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0 1rem; font-size: .85rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0 .4rem; }
th, td { border-bottom: 1px solid #c8c8c8; padding: .28rem .4rem; text-align: left;
         vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
tr { break-inside: avoid; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure.chart { margin: .8rem 0 1.2rem; break-inside: avoid; }
figure.chart svg { width: 100%; height: auto; display: block; }
.summary { background: #f3f5f8; border-left: 5px solid #0b4f8a; padding: .6rem 1rem; }
.flag { font-weight: 700; color: #942514; }
footer { margin-top: 3rem; color: #555; font-size: .8rem; border-top: 1px solid #c8c8c8; }
"""


def _money(value: float | None) -> str:
    return "&ndash;" if value is None else f"£{value:,.0f}"


def _count(value: int | None) -> str:
    return "&ndash;" if value is None else number(value)


def _share(value: float | None) -> str:
    return "&ndash;" if value is None else percent(value)


def evidence_text(e: dict[str, Any]) -> str:
    """An approach's rating as HTML, with a visible flag for no clear evidence or harm."""
    text = f"{esc(e['name'])}: {esc(e['band'])}"
    if e["flag"] == "harmful":
        return f'{text} <strong class="flag">Harmful</strong>'
    if e["flag"]:
        return f'{text} <strong class="flag">No clear evidence</strong>'
    return text


def summary_lines(f: dict[str, Any]) -> list[str]:
    """The report's summary in a few sentences (HTML: the text is escaped)."""
    t = f["totals"]
    lines = [
        f"{t['projects']} projects with {_money(t['award'])} awarded have spent "
        f"{_money(t['spend_to_date'] or 0)} to the end of {f['quarter_words']} "
        f"({_share(t['spent_share'])} of the awards).",
    ]
    if f["quarter"]:
        lines.append(
            f"In the quarter they spent {_money(t['spend_quarter'] or 0)} and reached "
            f"{_count(t['participants_quarter'] or 0)} participants from "
            f"{_count(t['referrals_quarter'] or 0)} referrals."
        )
    for y in f["years"]:
        if y["funding"] is not None:
            lines.append(
                f"{y['financial_year']}: {_money(y['award'])} awarded of {_money(y['funding'])} "
                "funding."
            )
    if f["behind"]:
        lines.append(f"Behind on spend: {esc(', '.join(f['behind']))}.")
    flagged = [p["reference"] for p in f["projects"] if p["evidence"]["flag"]]
    if flagged:
        lines.append(f"Approaches without clear evidence, or harmful: {esc(', '.join(flagged))}.")
    return lines


def render_monitoring_html(figures: dict[str, Any]) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG, no script)."""
    f = figures
    ps = f["projects"]
    items = "".join(f"<li>{line}</li>" for line in summary_lines(f))
    parts = [f'<h2>Summary</h2><div class="summary"><ul>{items}</ul></div>']
    chart = grouped_bar_chart(
        [p["reference"] for p in ps],
        {"Award (£)": [p["award"] for p in ps],
         "Spent to date (£)": [p["spend_to_date"] for p in ps]},
        title="Spend to date against the award, by project",
        y_label="Pounds",
        desc="Each project's award and spend to date; the table below gives the same figures.",
    ) if ps else ""  # fmt: skip
    parts.append("<h2>Spend by project</h2>")
    if chart:
        parts.append(figure(chart, f"Award and spend to date, to the end of {f['quarter_words']}."))
    parts.append(table(
        ["Project", "Areas", "Award", "Spent in quarter", "Spent to date", "% spent",
         "Expected % (pro rata)", "Cost per participant"],
        [[f"{esc(p['reference'])} {esc(p['name'])}", esc(", ".join(p["area_names"])),
          _money(p["award"]), _money(p["spend_quarter"]), _money(p["spend_to_date"]),
          _share(p["spent_share"]) + (' <strong class="flag">behind</strong>' if p["behind"]
                                       else ""),
          _share(p["expected_share"]), _money(p["cost_per_participant"])] for p in ps],
        numeric=[2, 3, 4, 5, 6, 7], caption="Spend by project", raw=True,
    ))  # fmt: skip
    parts.append("<h2>Reach by project</h2>")
    parts.append(table(
        ["Project", "Referrals (quarter)", "Referrals (to date)", "Participants (quarter)",
         "Participants (to date)", "Sessions (quarter)", "Sessions (to date)"],
        [[esc(p["reference"]), *(_count(p[k]) for k in _COUNTS)] for p in ps],
        numeric=[1, 2, 3, 4, 5, 6], caption="Referrals, participants and sessions", raw=True,
    ))  # fmt: skip
    parts.append("<h2>By area</h2>")
    parts.append(table(
        ["Area", "Projects", "Award", "Spent in quarter", "Spent to date", "% spent",
         "Participants (quarter)", "Participants (to date)", "Cost per participant"],
        [[esc(a["name"]), esc(", ".join(a["projects"])), _money(a["award"]),
          _money(a["spend_quarter"]), _money(a["spend_to_date"]), _share(a["spent_share"]),
          _count(a["participants_quarter"]), _count(a["participants_to_date"]),
          _money(a["cost_per_participant"])] for a in f["areas"]],
        numeric=[2, 3, 4, 5, 6, 7, 8], caption="Spend and reach by partnership area", raw=True,
    ))  # fmt: skip
    parts.append("<h2>By financial year</h2>")
    parts.append(table(
        ["Financial year", "Projects", "Funding", "Awarded", "Not awarded", "Spent to date",
         "% spent", "Awarded by source"],
        [[esc(y["financial_year"]), _count(y["projects"]), _money(y["funding"]),
          _money(y["award"]), _money(y["unawarded"]), _money(y["spend_to_date"]),
          _share(y["spent_share"]),
          esc("; ".join(f"{s['source']} £{s['award']:,.0f}" for s in y["sources"]))]
         for y in f["years"]],
        numeric=[1, 2, 3, 4, 5, 6], caption="Awards against the funding", raw=True,
    ))  # fmt: skip
    parts.append("<h2>Evidence</h2>")
    parts.append(table(
        ["Project", "Provider", "Year", "Approach and YEF Toolkit rating", "Why it is flagged"],
        [[esc(p["reference"]), esc(p["provider"]), esc(p["financial_year"]),
          evidence_text(p["evidence"]), esc(p["evidence"]["flag_reason"] or "")] for p in ps],
        caption="The evidence for each project's approach", raw=True,
    ))  # fmt: skip
    parts.append("<h2>Outcomes</h2>")
    parts.append(
        "<dl>"
        + "".join(
            f"<dt><b>{esc(o['reference'])} {esc(o['name'])}</b></dt>"
            + "".join(f"<dd>{esc(line)}</dd>" for line in o["lines"])
            for o in f["outcomes"]
        )
        + "</dl>"
    )
    parts.append("<h2>Data notes</h2><ul>"
                 + "".join(f"<li>{esc(n)}</li>" for n in f["notes"]) + "</ul>")  # fmt: skip
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(f['title'])}: {esc(f['quarter_words'])}</title>\n<style>{_CSS}</style>\n"
        f"</head>\n<body>\n<header><h1>{esc(f['title'])}</h1>\n"
        f'<p class="meta">{esc(f["quarter_words"])} ({esc(f["quarter"] or "no returns")}) '
        f"&middot; produced {esc(f['generated_at'])} &middot; Official, for the partnership and "
        "the Police and Crime Commissioner</p></header>\n<main>\n"
        + "\n".join(parts)
        + "\n</main>\n<footer><p>Produced by svduty from the partnership's interventions "
        "register and providers' quarterly returns.</p></footer>\n</body>\n</html>\n"
    )


def write_monitoring(figures: dict[str, Any], out_dir: Path, pdf: bool = True) -> dict[str, Path]:
    """Write ``monitoring-<quarter>.html`` (and ``.pdf``) into ``out_dir``.

    Raises:
        PdfError: the PDF was asked for and Chromium is missing or failed (the HTML is written).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"monitoring-{figures['quarter'] or 'no-returns'}"
    written = {"html": out_dir / f"{stem}.html"}
    written["html"].write_text(render_monitoring_html(figures), encoding="utf-8")
    if pdf:
        written["pdf"] = print_pdf(written["html"], out_dir / f"{stem}.pdf")
    return written


__all__ = [
    "MonitoringError",
    "describe_outcomes",
    "monitoring_figures",
    "quarter_end",
    "quarter_words",
    "render_monitoring_html",
    "write_monitoring",
]
