"""Report sections for where, when, who, why, the success measures, data quality and the
forecast, each drawn from its part of the figures."""

from __future__ import annotations

from typing import Any

from svduty.reports import charts, maps
from svduty.reports.html import esc, figure, note, number, p_value, percent, ratio, table

Features = list[tuple[str, str, dict[str, Any]]]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SOURCE_NAMES = {
    "police-uk": "police.uk street crime",
    "police-crime": "Police recorded crime",
    "istv": "Emergency department (ISTV)",
    "ambulance": "Ambulance",
    "fire": "Fire and rescue",
}


def _source(s: str) -> str:
    return SOURCE_NAMES.get(s, s)


def where(f: dict[str, Any], features: Features) -> str:
    w = f["where"]
    html = ""
    rates = w.get("rates") or {}
    lsoas = rates.get("lsoas", [])
    if lsoas:
        values = {r["lsoa"]: r.get("rate_per_1000") for r in lsoas}
        html += figure(
            maps.choropleth(
                features, values,
                title="Serious violence per 1,000 residents a year, by LSOA",
                value_label="Records per 1,000 residents a year",
                source="Contains OS data © Crown copyright and database right; ONS (OGL v3).",
            ),
            "Rates for the period"
            + ("; LSOAs with a suppressed count show as no data." if f.get("public") else "."),
        )  # fmt: skip
        youth = {r["lsoa"]: r.get("rate_per_1000_10_24") for r in lsoas}
        if any(v is not None for v in youth.values()):
            html += figure(
                maps.choropleth(
                    features, youth,
                    title="Youth violence: records naming someone aged 10-24, per 1,000 aged 10-24",
                    value_label="Per 1,000 residents aged 10-24 a year",
                ),
                "Residents aged 10-24 are estimated from the Census 2021 bands (see the note).",
            )  # fmt: skip
        areas = rates.get("areas", [])
        youth_known = any(a.get("rate_per_1000_10_24") is not None for a in areas)
        html += table(
            ["Partnership area", "Records", "Residents", "Per 1,000 a year"]
            + (["Per 1,000 aged 10-24"] if youth_known else []),
            [[a.get("area_name", a.get("area")), number(a.get("count")),
              number(a.get("residents")), number(a.get("rate_per_1000"), 2)]
             + ([number(a.get("rate_per_1000_10_24"), 2)] if youth_known else [])
             for a in areas],
            numeric=[1, 2, 3, 4], caption="Rates by partnership area",
        )  # fmt: skip
        top = sorted(
            (r for r in lsoas if r.get("count") is not None),
            key=lambda r: -(r.get("rate_per_1000") or 0),
        )[:10]
        html += table(
            ["LSOA", "Name", "Area", "Records", "Per 1,000 a year"],
            [[r["lsoa"], r.get("lsoa_name", ""), r.get("area_name", ""), number(r.get("count")),
              number(r.get("rate_per_1000"), 1)] for r in top],
            numeric=[3, 4], caption="The ten LSOAs with the highest rates",
        )  # fmt: skip
        html += note(rates.get("note"))
    conc = w.get("concentration") or {}
    if conc.get("lorenz"):
        html += "<h3>Concentration</h3>"
        html += figure(
            charts.lorenz_curve(
                [tuple(p) for p in conc["lorenz"]],
                title="How concentrated serious violence is among LSOAs",
                gini=conc.get("gini") or 0.0,
            )
        )
        html += table(
            ["Share of LSOAs (most violence first)", "LSOAs", "Share of serious violence"],
            [[percent(t["share_of_areas"]), number(t.get("areas")),
              percent(t.get("share_of_records"))] for t in conc.get("top", [])],
            numeric=[1, 2],
        )  # fmt: skip
        html += note(conc.get("note"))
    hot = w.get("hotspots") or {}
    change = w.get("hotspot_change") or {}
    status = {
        r["lsoa"]: f"{r['status'].capitalize()} hotspot"
        for r in change.get("lsoas", [])
        if r.get("status") in ("persistent", "new", "fading")
    }
    if hot.get("lsoas"):
        html += "<h3>Hotspots</h3>"
        z = {r["lsoa"]: r.get("z") for r in hot["lsoas"]}
        if any(v is not None for v in z.values()):
            values, title, label, breaks = (
                z, "Getis-Ord Gi* z-scores, with hotspots that persist, are new or fade",
                "Gi* z-score (90/95/99% at 1.65/1.96/2.58)",
                [-2.58, -1.96, -1.65, 1.65, 1.96, 2.58],
            )  # fmt: skip
        else:  # the public version keeps only each LSOA's class
            classes = {"hot": 1.0, "cold": -1.0}
            values = {r["lsoa"]: classes.get(r.get("class", ""), 0.0) for r in hot["lsoas"]}
            title, label, breaks = (
                "Getis-Ord Gi* hotspots (1) and cold spots (-1), 5% false discovery rate",
                "Class", [-0.5, 0.5],
            )  # fmt: skip
        html += figure(
            maps.choropleth(
                features, values, title=title, value_label=label, scheme="diverging",
                breaks=breaks, highlight=status,
            ),
            "Red: more serious violence around the LSOA than across the area; blue: less. "
            "Outlines: hotspots after a Benjamini-Hochberg false discovery rate correction, by "
            "whether they persist from the earlier to the later period, are new or fade.",
        )  # fmt: skip
        html += note(hot.get("note"))
    if change.get("lsoas"):
        split = change.get("split") or {}
        rows = [r for r in change["lsoas"] if r.get("status") in ("persistent", "new", "fading")]
        rows.sort(key=lambda r: (("persistent", "new", "fading").index(r["status"]), r["lsoa"]))
        html += (
            table(
                ["LSOA", "Name", "Area", "Hotspot", "Earlier", "Later"],
                [
                    [
                        r["lsoa"],
                        r.get("lsoa_name", ""),
                        r.get("area_name", ""),
                        r["status"],
                        r.get("earlier", ""),
                        r.get("later", ""),
                    ]
                    for r in rows
                ],
                caption=f"Hotspots, {split.get('rule', '')}",
            )
            if rows
            else "<p>No hotspot persists, appears or fades between the two periods.</p>"
        )
        html += note(change.get("note"))
    return html or "<p>No place-based figures: the reference area has no LSOAs loaded.</p>"


def when(f: dict[str, Any], features: Features) -> str:
    w = f["when"]
    html = ""
    grid = (w.get("hour_by_weekday") or {}).get("rows", [])
    for source in dict.fromkeys(r["source"] for r in grid):
        cells: list[list[float | None]] = [[None] * 24 for _ in range(7)]
        for r in grid:
            if r["source"] == source and r.get("count") is not None:
                cells[r["weekday"]][r["hour"]] = float(r["count"])
        html += figure(
            charts.heatmap(
                list(WEEKDAYS), [f"{h:02d}" for h in range(24)], cells,
                title=f"{_source(source)}: serious violence by hour and day of the week",
                x_label="Hour of the day", y_label="Day of the week", value_label="Records",
            )
        )  # fmt: skip
    html += note((w.get("hour_by_weekday") or {}).get("note"))
    school = w.get("school_days") or {}
    rows = school.get("rows", [])
    # every source's young people, and all ages for police recorded crime
    groups = [
        g
        for g in dict.fromkeys((r["source"], r["ages"]) for r in rows)
        if g[1] != "all" or g[0] == "police-crime"
    ]
    for source, ages in groups:
        sel = [r for r in rows if r["source"] == source and r["ages"] == ages]
        hours = [f"{r['hour']:02d}" for r in sel]
        html += figure(
            charts.line_chart(
                {
                    "School days": list(zip(hours, [r.get("per_school_day") for r in sel],
                                            strict=True)),
                    "Holiday weekdays": list(zip(hours, [r.get("per_holiday_weekday")
                                                         for r in sel], strict=True)),
                },
                title=f"{_source(source)}, ages {ages}: records per day by hour",
                y_label="Records per day", x_label="Hour of the day",
            )
        )  # fmt: skip
    after = school.get("after_school", [])
    if after:
        html += table(
            ["Source", "Ages", "Share 15:00-18:59, school days", "Share, holiday weekdays",
             "Share ratio (95% CI)", "p"],
            [[esc(_source(a["source"])), esc(a["ages"]), percent(a.get("share_school_days")),
              percent(a.get("share_holiday_weekdays")),
              ratio({"ratio": a.get("share_ratio"), "ci_low": a.get("share_ci_low"),
                     "ci_high": a.get("share_ci_high")}),
              p_value(a.get("share_p_value"))] for a in after],
            numeric=[2, 3, 4, 5], raw=True, caption="The after-school hours",
        )  # fmt: skip
    html += note(school.get("note"))
    return html


def who(f: dict[str, Any], features: Features) -> str:
    w = f["who"]
    html = ""
    age = w.get("age_sex") or {}
    rows = age.get("rows", [])
    for source, role in dict.fromkeys((r["source"], r["role"]) for r in rows):
        sel = [r for r in rows if r["source"] == source and r["role"] == role]
        bands = list(dict.fromkeys(r["age_band"] for r in sel))
        sexes = sorted({r["sex"] for r in sel if r.get("sex")})
        groups = {
            s: [float(sum((r.get("count") or 0) for r in sel
                          if r["age_band"] == b and r["sex"] == s)) for b in bands]
            for s in sexes
        }  # fmt: skip
        html += figure(
            charts.grouped_bar_chart(
                bands, groups,
                title=f"{_source(source)}: {role.lower()}s by age and sex",
                y_label="Involvements",
            )
        )  # fmt: skip
    html += note(age.get("note"))
    under = w.get("under_25") or {}
    shares = under.get("shares", [])
    if shares:
        html += table(
            ["Source", "Role", "People counted", "Under 25", "Share (95% CI)"],
            [[esc(_source(s["source"])), esc(s["role"]), number(s.get("count")),
              number(s.get("under_25")),
              f"{percent(s.get('share'))} ({percent(s.get('ci_low'))} to "
              f"{percent(s.get('ci_high'))})" if s.get("share") is not None else "*"]
             for s in shares],
            numeric=[2, 3, 4], raw=True, caption="The share under 25",
        )  # fmt: skip
    html += note(under.get("note"))
    return html


def why(f: dict[str, Any], features: Features) -> str:
    w = f["why"]
    rows = [r for r in w.get("rows", []) if r.get("rate_ratio") is not None]
    html = ""
    for model in dict.fromkeys(r.get("model", "") for r in rows):
        sel = [r for r in rows if r.get("model", "") == model]
        html += figure(
            charts.forest_plot(
                [(_short(r), r["rate_ratio"], r["ci_low"], r["ci_high"]) for r in sel],
                title=f"Risk factors of area rates ({model} negative binomial models)",
                x_label="Rate ratio (log scale)",
            )
        )  # fmt: skip
    html += table(
        ["Factor", "Unit", "Model", "Rate ratio (95% CI)", "p"],
        [[esc(r["label"]), esc(r.get("unit", "")), esc(r.get("model", "")),
          ratio({"ratio": r["rate_ratio"], "ci_low": r["ci_low"], "ci_high": r["ci_high"]}),
          p_value(r.get("p_value"))] for r in rows],
        numeric=[3, 4], raw=True,
    )  # fmt: skip
    for line in w.get("sentences", []):
        html += f"<p>{esc(line)}</p>"
    return html + note(w.get("note"))


def _short(row: dict[str, Any]) -> str:
    """A risk factor's label with its unit in a few words, for a chart."""
    unit = row.get("unit", "")
    if "standard deviation" in unit:
        return f"{row['label']}, per SD"
    if "doubling" in unit:
        return f"{row['label']}, per doubling"
    return str(row["label"])


def measures(f: dict[str, Any], features: Features) -> str:
    m = f["measures"]
    html = ""
    items = m.get("measures", [])
    by_measure: dict[str, dict[str, Any]] = {}
    for item in items:
        by_measure.setdefault(item["measure"], {})[item.get("cohort", "all")] = item
    for cohorts in by_measure.values():
        base = cohorts.get("all") or next(iter(cohorts.values()))
        if not base.get("available") or not base.get("series"):
            continue
        lines = {
            ("Total" if c == "all" else "Under 25"): [(s["month"], s.get("count"))
                                                      for s in item["series"]]
            for c, item in cohorts.items()
        }  # fmt: skip
        html += figure(charts.line_chart(lines, title=base["label"], y_label="A month"))
    rows = []
    for i in items:
        c = i.get("change")
        rows.append([
            esc(i["label"]),
            esc("yes" if i.get("available") else "no"),
            number((i.get("baseline") or {}).get("count")),
            number((i.get("latest") or {}).get("count")),
            ratio({"ratio": c["rate_ratio"], "ci_low": c["ci_low"], "ci_high": c["ci_high"]}
                  if c else None),
            p_value((c or {}).get("p_value")),
            esc(i.get("note", "")),
        ])  # fmt: skip
    html += table(
        ["Measure", "Available", "Baseline", "Latest", "Change (95% CI)", "p", "Note"],
        rows, numeric=[2, 3, 4, 5], raw=True,
    )  # fmt: skip
    return html + note(m.get("note"))


def quality(f: dict[str, Any], features: Features) -> str:
    q = f["quality"]
    rows = []
    for r in q.get("feeds", []):
        st = r.get("status") or {}
        comp = r.get("completeness") or {}
        missing = (r.get("coverage") or {}).get("missing_months", [])
        rows.append([
            esc(r.get("feed")), esc(r.get("org")), esc(st.get("overall", "")),
            f"{percent(comp.get('lowest'))} ({esc(st.get('completeness', ''))})",
            f"{percent((r.get('validity') or {}).get('invalid_share'), 2)} "
            f"({esc(st.get('validity', ''))})",
            f"{number((r.get('timeliness') or {}).get('median_days'))} "
            f"({esc(st.get('timeliness', ''))})",
            f"{percent((r.get('coverage') or {}).get('share'))} ({esc(st.get('coverage', ''))})"
            + (f": missing {esc(', '.join(missing[:4]))}{' ...' if len(missing) > 4 else ''}"
               if missing else ""),
        ])  # fmt: skip
    html = table(
        ["Feed", "Organisation", "Overall", "Completeness", "Quarantined", "Days to load",
         "Months loaded"],
        rows, numeric=[3, 4, 5], raw=True,
        caption="Red, amber or green against the thresholds below",
    )  # fmt: skip
    th = q.get("thresholds") or {}
    html += table(
        ["Dimension", "Measure", "Green", "Amber"],
        [[k, v.get("measure", ""), str(v.get("green")), str(v.get("amber"))]
         for k, v in th.items()],
    )  # fmt: skip
    return html + note(q.get("note"))


def forecast(f: dict[str, Any], features: Features) -> str:
    fc = f["forecast"]
    html = ""
    scores = {r["lsoa"]: r["score"] for r in fc.get("lsoas", [])}
    if scores:
        html += figure(
            maps.choropleth(
                features, scores,
                title=f"Expected serious violence in {fc.get('month', 'the next month')}",
                value_label="Expected records",
            ),
            "A place forecast from past months only; it never scores people.",
        )  # fmt: skip
    test = fc.get("backtest") or {}
    rows = test.get("summary", [])
    if rows:
        html += table(
            ["Method", "Area", "PAI", "PEI", "Share of crimes", "Share of area"],
            [[esc(r["method"].replace("_", " ")), percent(r["coverage"]),
              number(r.get("pai"), 1), number(r.get("pei"), 2), percent(r.get("crimes_share")),
              percent(r.get("area_share"), 1)] for r in rows],
            numeric=[1, 2, 3, 4, 5], raw=True,
            caption=f"Backtest over {len(test.get('months', []))} months: Predictive Accuracy "
            "Index and Predictive Efficiency Index",
        )  # fmt: skip
        html += note(test.get("note"))
    return html + note(fc.get("note"))
