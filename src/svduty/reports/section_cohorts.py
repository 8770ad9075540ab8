"""The report section on people across agencies: repeat victims and suspects, victims who are
also suspects, and the agencies that knew under-25s before their first knife offence."""

from __future__ import annotations

from typing import Any

from svduty.reports import charts
from svduty.reports.html import esc, figure, note, number, percent, table

Features = list[tuple[str, str, dict[str, Any]]]


def _months(row: dict[str, Any]) -> str:
    median, quartiles = row.get("median_months"), row.get("quartile_months")
    if median is None:
        return "&ndash;"
    if not quartiles:
        return number(median, 1)
    return f"{number(median, 1)} ({number(quartiles[0], 1)} to {number(quartiles[1], 1)})"


def cohorts(f: dict[str, Any], features: Features) -> str:
    """The section's HTML (a note only when no linkage has been run)."""
    c = f["cohorts"]
    if not c.get("available"):
        return note(c.get("note"))
    html = (
        f"<p>{number(c.get('people'))} people were linked across the partner feeds in the "
        "period. Each is counted once, whatever the number of their records and agencies.</p>"
    )
    html += table(
        ["Group", "People", "In two or more", "Share", "Records", "Share of records"],
        [[esc(r["label"]), number(r.get("people")), number(r.get("people_repeat")),
          percent(r.get("share_repeat")), number(r.get("records")),
          percent(r.get("share_records_repeat"))] for r in c.get("repeats", [])],
        numeric=[1, 2, 3, 4, 5], raw=True,
        caption="Repeat victims and repeat suspects of serious violence",
    )  # fmt: skip
    html += table(
        ["Age", "Victims", "Suspects", "Both", "Share of victims", "Share of suspects"],
        [[esc(r["group"]), number(r.get("victims")), number(r.get("suspects")),
          number(r.get("people")), percent(r.get("share_of_victims")),
          percent(r.get("share_of_suspects"))] for r in c.get("victim_suspects", [])],
        numeric=[1, 2, 3, 4, 5], raw=True,
        caption="Victims of serious violence who are also suspects of it",
    )  # fmt: skip
    k = c.get("knife_under_25") or {}
    n = k.get("people")
    known = k.get("known_before", [])
    lookback = k.get("lookback_months")
    html += (
        f"<h3>Under-25s and their first knife offence</h3><p>{number(n)} people under 25 "
        f"committed their first knife offence as a suspect from {esc(k.get('first_offence_from'))}"
        f" to the end of the period. {percent(k.get('share_any_before'))} of them were known to "
        f"at least one agency in the {esc(lookback)} months before it.</p>"
    )
    if known and any(r.get("share") is not None for r in known):
        html += figure(
            charts.bar_chart(
                [(r.get("short", r["label"]), None if r.get("share") is None else 100 * r["share"])
                 for r in known],
                title=f"What agencies knew in the {lookback} months before a first knife offence",
                x_label="Share of the under-25s (%)",
            )
        )  # fmt: skip
    html += table(
        ["Known before", "People", "Share", "Months before (median, quartiles)"],
        [[esc(r["label"]), number(r.get("people")), percent(r.get("share")), _months(r)]
         for r in known],
        numeric=[1, 2, 3], raw=True,
        caption=f"Contacts in the {lookback} months before the first knife offence",
    )  # fmt: skip
    html += table(
        ["Agencies before", "People"],
        [[esc(r["agencies"]), number(r.get("people"))] for r in k.get("agencies_before", [])],
        numeric=[1], raw=True, caption="How many agencies met them before",
    )  # fmt: skip
    html += table(
        ["Pathway (first contact with each agency, in order)", "People"],
        [[esc(r["pathway"]), number(r.get("people"))] for r in k.get("pathways", [])],
        numeric=[1], raw=True, caption="The order in which agencies met them",
    )  # fmt: skip
    return html + note(c.get("note"))
