"""Every project's evaluations at once, for the monitoring report.

For each project of the register: its area evaluation (:mod:`svduty.commissioning.area`,
without placebo runs, which only the full ``svduty evaluate area`` does) and, where its
provider sent a participant list, its cohort evaluation (:mod:`svduty.commissioning.cohort`).
A project the data cannot yet support gets the evaluation's reasons, not an estimate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from svduty.commissioning.area import EvaluationError, evaluate_area
from svduty.commissioning.cohort import CohortError, evaluate_cohort
from svduty.commissioning.outcomes import monthly_by_area
from svduty.commissioning.register import list_interventions
from svduty.store.db import Store


def summaries(
    con: Any, store: Store, references: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """``{reference: {"area": dict | None, "cohort": dict | None}}`` for the projects named
    (default: the whole register). ``area`` is None for a project without an area; ``cohort``
    is None when no participant list has been loaded for it."""
    wanted = set(references) if references is not None else None
    projects = [p for p in list_interventions(store) if wanted is None or p.id in wanted]
    panels: dict[int, Any] = {}
    listed: set[str] = set()
    if "feed_participants" in con.list_tables():
        t = con.table("feed_participants")
        listed = set(t.select("project_ref").distinct().to_pandas()["project_ref"])
    out: dict[str, dict[str, Any]] = {}
    for p in projects:
        entry: dict[str, Any] = {"area": None, "cohort": None}
        if p.areas and "feed_police_crime" in con.list_tables():
            if p.target_age_max not in panels:
                panels[p.target_age_max] = monthly_by_area(con, max_age=p.target_age_max)
            panel = panels[p.target_age_max]
            try:
                entry["area"] = evaluate_area(panel, list(p.areas), p.start, with_placebos=False)
            except EvaluationError as e:
                entry["area"] = {"supported": False, "reasons": [str(e)]}
        if p.id in listed:
            try:
                entry["cohort"] = evaluate_cohort(con, p.id)
            except CohortError as e:
                entry["cohort"] = {"supported": False, "reasons": [str(e)], "outcomes": []}
        out[p.id] = entry
    return out
