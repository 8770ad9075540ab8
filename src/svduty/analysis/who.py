"""Who serious violence involves: victims and suspects by age band and sex, and the share
under 25 (the Home Office success measures single out victims under 25).

Ages come from the partner feeds: police recorded crime (every victim and suspect, with a
pseudonymous person key), ED attendances (ISTV) and ambulance call-outs (the patient, a victim;
ambulance gives an age band only). police.uk street data names nobody. Counts are involvements:
a person in two crimes counts twice; ``people`` counts distinct person keys where a feed has them.
"""

from __future__ import annotations

import math
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
from scipy import stats

from svduty.analysis.definition import Definition
from svduty.analysis.scope import Scope, month_label
from svduty.analysis.when import ALL, scoped_records
from svduty.datasets.person import AGE_BANDS, SEXES

UNKNOWN = "Unknown"
ROLES = ("Victim", "Suspect")
UNDER_25_BANDS = ("0-9", "10-14", "15-17", "18-24")
# The feeds that name people: source -> (table, role column or None for patients).
PEOPLE = {
    "police-crime": ("feed_police_crime", "role"),
    "istv": ("feed_istv", None),
    "ambulance": ("feed_ambulance", None),
}
_NO_PEOPLE = (
    "police.uk street data carries no age or sex of victims or suspects; ages come from the "
    "police recorded crime, ED (ISTV) and ambulance feeds, and none of them has records in scope."
)


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of the proportion ``k / n`` (``None`` when ``n`` is 0).

    It keeps within 0 and 1 and covers close to its nominal level even for small counts and
    extreme shares, where the usual Wald interval fails.

    Notes:
        Wilson, E. B. (1927) Probable inference, the law of succession, and statistical
        inference. JASA 22(158), 209-212; recommended by Newcombe, R. G. (1998) Two-sided
        confidence intervals for the single proportion. Statistics in Medicine 17, 857-872.

    Examples:
        >>> [round(x, 4) for x in wilson_interval(81, 263)]
        [0.2553, 0.3662]
        >>> wilson_interval(0, 10)[0]
        0.0
    """
    if n <= 0:
        return None
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _involvements(con: Any, recs: ir.Table) -> ir.Table:
    """One row per person in a serious violence record of a feed that names people: ``source,
    record, role, age_band, sex, person_key, age, month``."""
    parts = []
    for source, (table, role) in PEOPLE.items():
        t = con.table(table)
        r = recs.filter(recs.source == source)
        t = t.semi_join(r, t.record_key == r.record)
        age = t.age_at_event if "age_at_event" in t.columns else ibis.null().cast("int64")
        parts.append(
            t.select(
                source=ibis.literal(source),
                record=t.record_key,
                role=t[role] if role else ibis.literal("Victim"),
                age_band=t.age_band.fill_null(UNKNOWN),
                sex=t.sex.fill_null(UNKNOWN),
                person_key=t.person_key,
                age=age,
                month=t.month,
            )
        )
    return ibis.union(*parts, distinct=False)


def _order(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    rank = {
        "source": list(PEOPLE),
        "role": list(ROLES),
        "age_band": [*AGE_BANDS, UNKNOWN],
        "sex": [*sorted(SEXES - {UNKNOWN}), UNKNOWN],
    }
    sort = {
        k: frame[k].map({v: i for i, v in enumerate(rank[k])}).fillna(99) for k in keys if k in rank
    }
    return frame.assign(**{f"_{k}": v for k, v in sort.items()}).sort_values(
        [f"_{k}" if k in sort else k for k in keys]
    )


def _people(count: int, people: Any, keyed: Any) -> int | None:
    """Distinct people, where every involvement has a person key (else unknown before linkage)."""
    return int(people) if int(keyed) == count and count else None


def _header(definition: Definition, scope: Scope, kind: str) -> dict[str, Any]:
    return {"definition_version": definition.version, "kind": kind, "scope": scope.label}


def age_sex(con: Any, definition: Definition, scope: Scope, kind: str = ALL) -> dict[str, Any]:
    """Victims and suspects of serious violence by age band and sex, per source and role.

    Returns:
        ``definition_version, kind, scope, note`` and ``rows``: ``{"source", "role",
        "age_band", "sex", "count", "people"}`` ordered by source, role, age band (10-14,
        15-17, 18-24, 25-34, ..., Unknown) and sex; ``totals``: ``{"source", "role", "count",
        "people"}``. ``count`` is involvements; ``people`` distinct person keys (``None``
        where the feed has no person identifier: ED and ambulance, until records are linked).
        Empty lists, with a note, when no feed in scope names people (police.uk alone).
    """
    recs = scoped_records(con, definition, scope, kind)
    inv = _involvements(con, recs)
    cells = (
        inv.group_by(["source", "role", "age_band", "sex"])
        .aggregate(count=inv.count(), people=inv.person_key.nunique(), keyed=inv.person_key.count())
        .to_pandas()
    )
    totals = (
        inv.group_by(["source", "role"])
        .aggregate(count=inv.count(), people=inv.person_key.nunique(), keyed=inv.person_key.count())
        .to_pandas()
    )
    out = _header(definition, scope, kind)
    if cells.empty:
        return {**out, "rows": [], "totals": [], "note": _NO_PEOPLE}
    rows = [
        {"source": r.source, "role": r.role, "age_band": r.age_band, "sex": r.sex,
         "count": int(r.count), "people": _people(int(r.count), r.people, r.keyed)}
        for r in _order(cells, ["source", "role", "age_band", "sex"]).itertuples()
    ]  # fmt: skip
    total_rows = [
        {"source": r.source, "role": r.role, "count": int(r.count),
         "people": _people(int(r.count), r.people, r.keyed)}
        for r in _order(totals, ["source", "role"]).itertuples()
    ]  # fmt: skip
    note = (
        "Counts are involvements (a person in two records counts twice); people are distinct "
        "person keys within each row, so a person whose age band changed over the period is in "
        "two rows. ED (ISTV) and ambulance patients are victims; those feeds carry no person "
        "identifier, so their people are unknown until records are linked. Police crimes count "
        "every victim and suspect recorded on them."
    )
    return {**out, "rows": rows, "totals": total_rows, "note": note}


def _shares(frame: pd.DataFrame, keys: list[str]) -> list[dict[str, Any]]:
    out = []
    for r in _order(frame, keys).itertuples():
        n, k = int(r.count), int(r.under_25)
        ci = wilson_interval(k, n)
        row = {key: getattr(r, key) for key in keys}
        row.update(count=n, under_25=k, share=k / n if n else None,
                   ci_low=ci[0] if ci else None, ci_high=ci[1] if ci else None,
                   unknown_age=int(r.unknown_age))  # fmt: skip
        out.append(row)
    return out


def under_25(con: Any, definition: Definition, scope: Scope, kind: str = ALL) -> dict[str, Any]:
    """The share of victims and of suspects under 25, per source, with 95% Wilson intervals.

    Age is the age at the event where the feed has it, else the age band (ambulance).

    Returns:
        ``definition_version, kind, scope, note`` and

        - ``shares``: ``{"source", "role", "count" (involvements of known age), "under_25",
          "share", "ci_low", "ci_high", "unknown_age"}``;
        - ``records``: ``{"source", "count" (records naming someone of known age),
          "under_25" (records naming someone under 25), "share", "ci_low", "ci_high",
          "unknown_age"}``: violence affecting under-25s, one count per record;
        - ``by_month``: ``{"month", "source", "role", "count", "under_25"}`` for trends.

        Empty lists, with a note, when no feed in scope names people (police.uk alone).

    Notes:
        The interval is :func:`wilson_interval`'s. Involvements in one record are not
        independent (a fight between young people names several), so the intervals of
        ``shares`` are somewhat narrow; ``records`` counts each record once.
    """
    recs = scoped_records(con, definition, scope, kind)
    inv = _involvements(con, recs)
    known = inv.age.notnull() | inv.age_band.isin(AGE_BANDS)
    young = ibis.ifelse(inv.age.notnull(), inv.age < 25, inv.age_band.isin(UNDER_25_BANDS))
    inv = inv.mutate(known=known.cast("int64"), young=(known & young).cast("int64"))
    agg = {
        "count": inv.known.sum(),
        "under_25": inv.young.sum(),
        "unknown_age": (1 - inv.known).sum(),
    }
    by_role = inv.group_by(["source", "role"]).aggregate(**agg).to_pandas()
    by_month = inv.group_by(["month", "source", "role"]).aggregate(**agg).to_pandas()
    per_record = inv.group_by(["source", "record"]).aggregate(
        known=inv.known.max(), young=inv.young.max()
    )
    by_record = (
        per_record.group_by("source")
        .aggregate(
            count=per_record.known.sum(),
            under_25=per_record.young.sum(),
            unknown_age=(1 - per_record.known).sum(),
        )
        .to_pandas()
    )
    out = _header(definition, scope, kind)
    if by_role.empty:
        return {**out, "shares": [], "records": [], "by_month": [], "note": _NO_PEOPLE}
    by_month["month"] = [month_label(m) for m in by_month["month"]]
    months = [
        {"month": r.month, "source": r.source, "role": r.role, "count": int(r.count),
         "under_25": int(r.under_25)}
        for r in _order(by_month, ["month", "source", "role"]).itertuples()
    ]  # fmt: skip
    note = (
        "Under 25 at the event (age at the event where known, else the age band). Shares are of "
        "involvements of known age, with 95% Wilson intervals; records counts each crime, ED "
        "attendance or call-out once, as naming someone under 25 or not. Patients in ED and "
        "ambulance records are victims."
    )
    return {
        **out,
        "shares": _shares(by_role, ["source", "role"]),
        "records": _shares(by_record, ["source"]),
        "by_month": months,
        "note": note,
    }
