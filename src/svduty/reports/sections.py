"""The sections of the assessment report, each built from the figures as HTML with inline SVG
charts, and the plain-English summary that opens it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from svduty.analysis.counts import ALL
from svduty.reports import charts
from svduty.reports.html import esc, figure, note, number, p_value, percent, ratio, table

Features = list[tuple[str, str, dict[str, Any]]]


def _labels(f: dict[str, Any]) -> dict[str, str]:
    return f.get("kind_labels", {})


def _whole(f: dict[str, Any], kind: str = ALL) -> dict[str, Any] | None:
    for r in f["trends"]["summary"]:
        if r["kind"] == kind and r["area"] == ALL:
            return r
    return None


def _series(f: dict[str, Any], kind: str, area: str = ALL) -> dict[str, Any] | None:
    for s in f["trends"]["series"]:
        if s["kind"] == kind and s["area"] == area:
            return s
    return None


def _change_words(change: dict[str, Any] | None) -> str:
    if not change or change.get("ratio") is None:
        return ""
    pct = abs(change["ratio"] - 1) * 100
    way = "higher" if change["ratio"] > 1 else "lower"
    sure = (
        "a change unlikely to be chance"
        if change["p_value"] is not None and change["p_value"] < 0.05
        else "within what chance alone could give"
    )
    return (
        f"{pct:.0f}% {way} in {change['later']} than in {change['earlier']} (rate ratio "
        f"{change['ratio']:.2f}, 95% interval {change['ci_low']:.2f} to {change['ci_high']:.2f}: "
        f"{sure})"
    )


# --- the summary ---------------------------------------------------------------------------


def summary(f: dict[str, Any]) -> list[str]:
    """The main findings in plain English, one sentence each."""
    out: list[str] = []
    whole = _whole(f)
    sc = f["scope"]
    if whole:
        rate = whole.get("rate_per_1000")
        rate_text = f", {rate:.1f} a year per 1,000 residents" if rate is not None else ""
        out.append(
            f"From {sc['from']} to {sc['to']} the partnership's data hold "
            f"{number(whole['count'])} serious violence records for "
            f"{'the whole partnership' if sc['area'] == ALL else sc['area_name']}"
            f"{rate_text} (definition {f['definition_version']})."
        )
        words = _change_words(whole.get("change"))
        if words:
            out.append(f"Serious violence was {words}.")
    kinds = sorted(
        (k for k in f.get("kinds", []) if k["kind"] != ALL and k.get("count")),
        key=lambda k: -(k["count"] or 0),
    )
    if kinds:
        top = ", ".join(f"{k['label'].lower()} ({number(k['count'])})" for k in kinds[:3])
        out.append(f"The most frequent kinds were {top}; kinds overlap.")
    harm = f.get("harm") or {}
    coverage = harm.get("coverage")
    if coverage is not None and coverage < 0.9:
        out.append(
            f"Harm weighting is partial: published weights ({harm.get('weights_version')}) "
            f"cover {percent(coverage, 2)} of police-recorded serious violence, so harm shares "
            "are not yet meaningful (section 2)."
        )
    elif coverage is not None:
        weighted = [r for r in harm.get("rows", []) if r.get("harm_share") is not None
                    and r.get("kind") != ALL]  # fmt: skip
        if weighted:
            top = max(weighted, key=lambda r: r["harm_share"])
            out.append(
                f"Weighted by harm ({harm.get('weights_version')}), {top['label'].lower()} "
                f"accounts for {percent(top['harm_share'])} of the harm but "
                f"{percent(top.get('count_share'))} of the records."
            )
    flagged = [
        (r["label"], m["month"], m["flag"])
        for r in f["trends"]["summary"]
        if r["area"] == ALL
        for m in r.get("flagged", [])
    ]
    if flagged:
        listed = "; ".join(f"{lab.lower()} in {m} ({flag})" for lab, m, flag in flagged[:4])
        out.append(f"Months outside the control limits: {listed}.")
    out += _where_summary(f)
    out += _section_summaries(f)
    return out


def _where_summary(f: dict[str, Any]) -> list[str]:
    out = []
    where = f.get("where") or {}
    conc = where.get("concentration") or {}
    tops = {round(t["share_of_areas"], 2): t for t in conc.get("top", [])}
    if 0.1 in tops and conc.get("gini") is not None and tops[0.1].get("share_of_records"):
        out.append(
            f"Serious violence is concentrated: the 10% of neighbourhoods (LSOAs) with most "
            f"hold {percent(tops[0.1]['share_of_records'])} of it (Gini {conc['gini']:.2f})."
        )
    change = where.get("hotspot_change") or {}
    if change.get("split"):
        split = change["split"]
        out.append(
            f"Hotspots (Getis-Ord Gi*, false discovery rate 5%): "
            f"{len(change.get('persistent', []))} persistent, {len(change.get('new', []))} new "
            f"and {len(change.get('fading', []))} fading, comparing {split['earlier']['first']} "
            f"to {split['earlier']['last']} with {split['later']['first']} to "
            f"{split['later']['last']}."
        )
    return out


def _section_summaries(f: dict[str, Any]) -> list[str]:
    out = []
    who = (f.get("who") or {}).get("under_25") or {}
    for r in who.get("shares", []):
        if r.get("share") is not None and r["source"] in ("police-crime", "istv"):
            whom = "patients" if r["source"] == "istv" else f"{r['role'].lower()}s"
            where = "emergency department" if r["source"] == "istv" else "police-recorded"
            out.append(
                f"{percent(r['share'])} of {where} {whom} of serious violence were under 25 "
                f"(95% interval {percent(r['ci_low'])} to {percent(r['ci_high'])})."
            )
    when = (f.get("when") or {}).get("school_days") or {}
    for a in when.get("after_school", []):
        if a["ages"] != "all" and a.get("share_ratio") and (a.get("share_p_value") or 1) < 0.05:
            out.append(
                f"For young people aged {a['ages']} ({a['source']}), the after-school hours "
                f"15:00-18:59 hold {percent(a['share_school_days'])} of school-day serious "
                f"violence against {percent(a['share_holiday_weekdays'])} on holiday weekdays."
            )
            break
    why = f.get("why") or {}
    if why.get("sentences"):
        out.append(why["sentences"][0] + " Association is not cause.")
    for m in (f.get("measures") or {}).get("measures", []):
        c = m.get("change")
        shown = m.get("available") and m.get("cohort") == "all" and c
        if shown and c.get("p_value") is not None and c["p_value"] < 0.05:
            way = "rose" if c["rate_ratio"] > 1 else "fell"
            out.append(
                f"Success measure: {m['label'].lower()} {way} (rate ratio "
                f"{c['rate_ratio']:.2f}, 95% interval {c['ci_low']:.2f} to {c['ci_high']:.2f})."
            )
    red = [
        f"{q['feed']} ({q['org']})"
        for q in (f.get("quality") or {}).get("feeds", [])
        if (q.get("status") or {}).get("overall") == "red"
    ]
    if red:
        out.append(f"Data quality needs attention for: {', '.join(red)} (section 9).")
    return out


# --- sections ------------------------------------------------------------------------------


def _about(f: dict[str, Any], features: Features) -> str:
    sc = f["scope"]
    areas = ", ".join(f"{a['area_name']} ({a['area']})" for a in sc["partnership_areas"])
    unplaced = f.get("unplaced", {})
    rows = [
        ["Area", f"{sc['area_name']}: {sc['lsoas']} LSOAs, {number(sc['residents'])} residents "
                 "(Census 2021)"],
        ["Partnership areas", areas or "none"],
        ["Months", f"{sc['from']} to {sc['to']} ({sc['months']})"],
        ["Definition", f"{f['definition_name']} (version {f['definition_version']})"],
        ["Records without a place", number(unplaced.get("no_location"))],
        ["Records outside the reference LSOAs", number(unplaced.get("outside_area"))],
    ]  # fmt: skip
    return (
        "<p>This assessment describes which kinds of serious violence happen in the area, "
        "where, when, to whom and with which risk factors, from the data the partners share. "
        "It counts records and places; it never scores people.</p>"
        + table(["", ""], rows)
        + note(f.get("counts_note"))
    )


def _kinds(f: dict[str, Any], features: Features) -> str:
    kinds = [k for k in f.get("kinds", []) if k["kind"] != ALL]
    rows = [
        [k["label"], number(k["count"]), percent(k.get("share")),
         number(k.get("rate_per_1000"), 2)]
        for k in sorted(kinds, key=lambda k: -(k["count"] or 0))
    ]  # fmt: skip
    chart = charts.bar_chart(
        [
            (k["label"], k["count"])
            for k in sorted(kinds, key=lambda k: -(k["count"] or 0))
            if k["count"]
        ],
        title="Serious violence by kind",
        x_label="Records in the period",
    )
    html = figure(chart, "Kinds overlap: a record can count under several kinds.")
    html += table(["Kind", "Records", "Share of all", "Per 1,000 a year"], rows, numeric=[1, 2, 3])
    harm = f.get("harm")
    if harm:
        html += "<h3>Weighted by harm</h3>"
        hrows = [r for r in harm.get("rows", []) if r.get("kind") != ALL]
        if any(r.get("harm") for r in hrows):
            html += figure(
                charts.grouped_bar_chart(
                    [r["label"] for r in hrows],
                    {
                        "Share of records": [100 * (r.get("count_share") or 0) for r in hrows],
                        "Share of harm": [100 * (r.get("harm_share") or 0) for r in hrows],
                    },
                    title="Share of records and share of harm, by kind",
                    y_label="Per cent",
                ),
                f"Harm weights: {harm.get('weights_version', '')}.",
            )
            html += table(
                ["Kind", "Records", "Harm", "Share of records", "Share of harm", "No weight"],
                [[r["label"], number(r.get("count")), number(r.get("harm")),
                  percent(r.get("count_share")), percent(r.get("harm_share")),
                  number(r.get("unweighted"))] for r in hrows],
                numeric=[1, 2, 3, 4, 5],
            )  # fmt: skip
        html += note(harm.get("note"))
    return html


def _trends(f: dict[str, Any], features: Features) -> str:
    t = f["trends"]
    labels = _labels(f)
    months = t["months"]
    html = ""
    s = _series(f, ALL)
    if s:
        counts = {"Records a month": list(zip(months, s["counts"], strict=True))}
        band = None
        if s.get("low") and any(v is not None for v in s["low"]):
            band = {
                "Records a month": [
                    (m, lo, hi)
                    for m, lo, hi in zip(months, s["low"], s["high"], strict=True)
                    if lo is not None
                ]
            }
        flagged = [m for m, fl in zip(months, s.get("flags") or [], strict=False) if fl]
        html += figure(
            charts.line_chart(
                counts,
                title="All serious violence, by month" + (", with control limits" if band else ""),
                y_label="Records a month",
                band=band,
                band_label="Expected range (3 sigma, previous 12 months)",
                markers={"Records a month": flagged} if flagged else None,
            ),
            "The shaded band is the range expected from the 12 months before each month."
            if band
            else "Suppressed months are gaps."
            if None in s["counts"]
            else "",
        )
        if s.get("rolling_12") and any(v is not None for v in s["rolling_12"]):
            html += figure(
                charts.line_chart(
                    {"Rolling 12 months": list(zip(months, s["rolling_12"], strict=True))},
                    title="All serious violence, rolling 12-month total",
                    y_label="Records in 12 months",
                ),
                "Each point is the total of that month and the 11 before it.",
            )
    top = [k for k in _top_kinds(f, 5)]
    if top:
        html += figure(
            charts.line_chart(
                {labels.get(k, k): list(zip(months, _series(f, k)["counts"], strict=True))
                 for k in top if _series(f, k)},
                title="The most frequent kinds, by month",
                y_label="Records a month",
            ),
            "Kinds overlap.",
        )  # fmt: skip
    rows = []
    for r in t["summary"]:
        if r["area"] != ALL:
            continue
        c = r.get("change")
        season = r.get("seasonality")
        rows.append([
            esc(r["label"]), number(r["count"]), number(r.get("rate_per_1000"), 2), ratio(c),
            p_value(c["p_value"]) if c else "&ndash;",
            f"{esc(season['peak_month_name'])} (p {p_value(season['p_value'])})"
            if season and season.get("p_value") is not None and season["p_value"] < 0.05
            else "&ndash;",
        ])  # fmt: skip
    html += table(
        ["Kind", "Records", "Per 1,000 a year", "Change on last year (95% CI)", "p",
         "Seasonal peak"],
        rows, numeric=[1, 2, 3, 4], raw=True,
        caption="Whole partnership, by kind",
    )  # fmt: skip
    area_rows = [
        [esc(r["area_name"]), number(r["count"]), number(r.get("rate_per_1000"), 2),
         ratio(r.get("change")), p_value((r.get("change") or {}).get("p_value"))]
        for r in t["summary"] if r["kind"] == ALL and r["area"] != ALL
    ]  # fmt: skip
    if area_rows:
        html += table(
            ["Partnership area", "Records", "Per 1,000 a year", "Change on last year (95% CI)",
             "p"],
            area_rows, numeric=[1, 2, 3, 4], raw=True,
            caption="All serious violence, by partnership area",
        )  # fmt: skip
    return html + note(t.get("note"))


def _top_kinds(f: dict[str, Any], n: int) -> list[str]:
    kinds = [k for k in f.get("kinds", []) if k["kind"] != ALL and (k.get("count") or 0) > 0]
    return [k["kind"] for k in sorted(kinds, key=lambda k: -(k["count"] or 0))[:n]]


def _missing(name: str) -> Callable[[dict[str, Any], Features], str]:
    def render(f: dict[str, Any], features: Features) -> str:
        return f"<p>{esc(name)} was not computed for this report.</p>"

    return render


def build(f: dict[str, Any], features: Features) -> list[dict[str, str]]:
    """The report's sections in order: ``{id, title, html}``."""
    from svduty.reports import section_cohorts
    from svduty.reports import sections_more as more

    parts: list[tuple[str, str, Callable[[dict[str, Any], Features], str]]] = [
        ("about", "About this assessment", _about),
        ("kinds", "Which kinds of serious violence", _kinds),
        ("trends", "Trends", _trends),
        ("where", "Where", more.where),
        ("when", "When", more.when),
        ("who", "Who", more.who),
        ("cohorts", "People across agencies: cohorts and pathways", section_cohorts.cohorts),
        ("why", "Why: risk factors", more.why),
        ("measures", "Home Office success measures", more.measures),
        ("quality", "Data quality by partner", more.quality),
        ("forecast", "Where next: forecast and its backtest", more.forecast),
    ]
    out = []
    for key, title, render in parts:
        if key in ("about", "kinds", "trends") or f.get(key) is not None:
            out.append({"id": key, "title": title, "html": render(f, features)})
        else:
            out.append({"id": key, "title": title, "html": _missing(title)(f, features)})
    return out
