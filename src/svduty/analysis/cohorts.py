"""Cohorts and pathways across agencies, counted on linked person keys.

No agency sees a whole path into serious violence: the school sees the suspension, children's
social care the exploitation, the emergency department the stab wound, the police the arrest.
Once :mod:`svduty.linkage` has given every person record a pseudonymous ``linked_key`` (the
warehouse table ``person_links``), these figures count the people behind the records:

- **repeat victims and repeat suspects**: people involved in two or more serious violence crimes
  of the scope, as victim or as suspect, and people seen twice or more in an emergency
  department after an assault;
- **victims who are also suspects** of serious violence, at all ages and under 25;
- **under-25s in knife crime**: people whose first knife offence as a suspect (in all the data
  loaded) falls in the scope, aged under 25 at the time, and what the agencies knew of them in
  the ``lookback`` months before it: known to youth justice, suspended or excluded from school,
  known to children's social care, flagged for exploitation, seen in an ED after an assault, a
  victim of crime, a suspect of another offence, supervised by probation; how many agencies; the
  order in which agencies first met them (the pathway); and the months from each first contact to
  the knife offence.

Only people are counted, never scored: svduty does not predict who will offend. Everything here
is a count of people or a share; the public version passes it through the disclosure control of
:mod:`svduty.reports.public`. How linkage error biases these counts is in docs/linkage-quality.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from svduty.analysis.definition import Definition
from svduty.analysis.kinds import classified
from svduty.analysis.scope import Scope, areas
from svduty.errors import ConfigError

KNIFE = "knife"  # the kind of the local definition that marks a knife offence
LOOKBACK_MONTHS = 12
UNDER = 25
TOP_PATHWAYS = 8
# The person-level feeds: table, the column dating a record, and the place of the event.
_FEEDS = {
    "police-crime": ("feed_police_crime", "committed", "lsoa_code"),
    "istv": ("feed_istv", "arrival", "home_lsoa"),
    "youth-justice": ("feed_youth_justice", "start_date", "home_lsoa"),
    "education": ("feed_education", "exclusion_date", "home_lsoa"),
    "social-care": ("feed_social_care", "episode_start", "home_lsoa"),
    "probation": ("feed_probation", "start_date", "home_lsoa"),
}
#: What the agencies may have known before a first knife offence, in report order.
CONTACTS = {
    "youth-justice": "Known to youth justice",
    "education": "Suspended or excluded from school",
    "social-care": "Known to children's social care",
    "exploitation": "Flagged for exploitation (CCE, CSE or youth justice risk)",
    "ed-assault": "Seen in an emergency department after an assault",
    "police-victim": "A victim of a recorded crime",
    "police-suspect": "A suspect of another offence",
    "probation": "Supervised by probation",
}
#: The contacts in a few words, for charts.
SHORT = {
    "youth-justice": "Youth justice",
    "education": "School suspension",
    "social-care": "Social care",
    "exploitation": "Exploitation flag",
    "ed-assault": "ED after assault",
    "police-victim": "Crime victim",
    "police-suspect": "Other offence",
    "probation": "Probation",
}
#: The agencies of a pathway (a contact each), as they are named in it.
AGENCIES = {
    "education": "school",
    "social-care": "social care",
    "youth-justice": "youth justice",
    "ed-assault": "ED",
    "police-victim": "police (victim)",
    "police-suspect": "police (suspect)",
    "probation": "probation",
}
NOTE = (
    "People are counted by the pseudonymous person key that record linkage (svduty link) gave "
    "their records across the partner feeds; no name is used. Linkage errors bias these counts: "
    "a false match joins two people (more repeat victims and more agency overlap than there "
    "are), a missed match splits one (fewer); see docs/linkage-quality.md. A first knife offence "
    "is the first in the data loaded, with at least {lookback} months of data before it, so "
    "some people counted had knife offences before the data begins. Contacts are those recorded "
    "by the feeds loaded in the {lookback} months before the knife offence."
)


def linkage_keys(con: Any) -> ir.Table | None:
    """The warehouse's person keys (``feed, record_key, person_key, linked_key``), or ``None``
    when no linkage has been run."""
    if "person_links" not in con.list_tables():
        return None
    t = con.table("person_links")
    if t.count().execute() == 0:
        return None
    return t.select("feed", "record_key", "person_key", "linked_key")


def events(con: Any, definition: Definition, keys: ir.Table) -> pd.DataFrame:
    """Every person-level record with the person it is about.

    Args:
        con: the warehouse.
        definition: the local definition (which police crimes are serious violence, which knife).
        keys: ``feed, record_key, person_key, linked_key`` for each record (``person_links``, or
            any other key of people, such as the truth of a synthetic partnership).

    Returns:
        ``person, feed, record, date, role (victim/suspect/None), sv, knife, exploitation, age,
        lsoa``; records without a person key are left out.
    """
    tables = set(con.list_tables())
    parts: list[ir.Table] = []
    police_kinds = None
    if "feed_police_crime" in tables:
        c = classified(con, definition)
        c = c.filter(c.source == "police-crime")
        police_kinds = c.group_by(_record=c.record).aggregate(
            _sv=ibis.literal(True), _knife=(c.kind == KNIFE).any()
        )
    for feed, (table, when, place) in _FEEDS.items():
        if table not in tables:
            continue
        t = con.table(table)
        cols: dict[str, Any] = {
            "feed": ibis.literal(feed),
            "record": t.record_key,
            "pk": t.person_key.fill_null(""),
            "date": t[when].cast("date"),
            "role": ibis.null("string"),
            "sv": ibis.literal(False),
            "knife": ibis.literal(False),
            "exploitation": ibis.literal(False),
            "age": t.age_at_event.cast("float64"),
            "lsoa": t[place],
        }
        if feed == "police-crime":
            assert police_kinds is not None
            t = t.left_join(police_kinds, t.record_key == police_kinds._record)
            cols |= {
                "record": t.record_key,
                "pk": t.person_key.fill_null(""),
                "date": t[when].cast("date"),
                "role": t.role.lower(),
                "sv": t._sv.fill_null(False),
                "knife": t._knife.fill_null(False),
                "exploitation": t.exploitation.fill_null(False),
                "age": t.age_at_event.cast("float64"),
                "lsoa": t[place],
            }
        elif feed == "istv":
            cols["role"] = ibis.literal("victim")
        elif feed == "social-care":
            cols["exploitation"] = t.cce.fill_null(False) | t.cse.fill_null(False)
        elif feed == "youth-justice":
            cols["exploitation"] = t.exploitation_risk.fill_null(False) | t.county_lines.fill_null(
                False
            )
        parts.append(t.select(**cols))
    if not parts:
        return pd.DataFrame(
            columns=["person", "feed", "record", "date", "role", "sv", "knife", "exploitation",
                     "age", "lsoa"]
        )  # fmt: skip
    union = ibis.union(*parts, distinct=False)
    k = keys.select(
        k_feed=keys.feed,
        k_record=keys.record_key,
        k_pk=keys.person_key.fill_null(""),
        person=keys.linked_key,
    )
    joined = union.inner_join(
        k, (union.feed == k.k_feed) & (union.record == k.k_record) & (union.pk == k.k_pk)
    )
    out = joined.select(
        "person", "feed", "record", "date", "role", "sv", "knife", "exploitation", "age", "lsoa"
    ).to_pandas()
    out["date"] = pd.to_datetime(out["date"])
    return out


def _window(ev: pd.DataFrame, scope: Scope) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The scope's first day and the day after its last month (open ends: the data's)."""
    first = pd.Timestamp(scope.start) if scope.start else ev["date"].min().replace(day=1)
    last = pd.Timestamp(scope.end) if scope.end else ev["date"].max().replace(day=1)
    return first, last + pd.offsets.MonthBegin(1)


def _in_scope(ev: pd.DataFrame, first: Any, stop: Any, lsoas: set | None) -> Any:
    inside = (ev["date"] >= first) & (ev["date"] < stop)
    if lsoas is not None:
        inside &= ev["lsoa"].isin(lsoas)
    return inside


def _share(k: int, n: int) -> float | None:
    return round(k / n, 4) if n else None


def repeats(ev: pd.DataFrame) -> list[dict[str, Any]]:
    """People involved in serious violence crimes of the scope, and those in two or more.

    Examples:
        >>> ev = pd.DataFrame({"person": ["a", "a", "b", "c"], "feed": ["police-crime"] * 4,
        ...     "record": ["1", "2", "3", "3"], "role": ["victim", "victim", "victim", "suspect"],
        ...     "sv": [True] * 4})
        >>> [(r["group"], r["people"], r["people_repeat"]) for r in repeats(ev)[:2]]
        [('victim', 2, 1), ('suspect', 1, 0)]
    """
    rows = []
    police = ev[(ev["feed"] == "police-crime") & ev["sv"]]
    ed = ev[ev["feed"] == "istv"]
    for group, sel, label in (
        ("victim", police[police["role"] == "victim"], "Victims of serious violence"),
        ("suspect", police[police["role"] == "suspect"], "Suspects of serious violence"),
        ("ed-assault", ed, "Seen in an emergency department after an assault"),
    ):
        per = sel.groupby("person")["record"].nunique()
        repeat = int((per >= 2).sum())
        rows.append(
            {
                "group": group,
                "label": label,
                "people": int(len(per)),
                "people_repeat": repeat,
                "share_repeat": _share(repeat, len(per)),
                "records": int(per.sum()),
                "share_records_repeat": _share(int(per[per >= 2].sum()), int(per.sum())),
            }
        )
    return rows


def victim_suspects(ev: pd.DataFrame) -> list[dict[str, Any]]:
    """Victims of serious violence who are also suspects of it, all ages and under 25.

    Examples:
        >>> ev = pd.DataFrame({"person": ["a", "a", "b", "c"], "feed": ["police-crime"] * 4,
        ...     "role": ["victim", "suspect", "victim", "suspect"], "sv": [True] * 4,
        ...     "age": [19.0, 20.0, 30.0, 40.0]})
        >>> [(r["group"], r["victims"], r["suspects"], r["people"]) for r in victim_suspects(ev)]
        [('all ages', 2, 2, 1), ('under 25', 1, 1, 1)]
    """
    police = ev[(ev["feed"] == "police-crime") & ev["sv"]]
    rows = []
    for group, sel in (("all ages", police), ("under 25", police[police["age"] < UNDER])):
        victims = set(sel.loc[sel["role"] == "victim", "person"])
        suspects = set(sel.loc[sel["role"] == "suspect", "person"])
        both = len(victims & suspects)
        rows.append(
            {
                "group": group,
                "victims": len(victims),
                "suspects": len(suspects),
                "people": both,
                "share_of_victims": _share(both, len(victims)),
                "share_of_suspects": _share(both, len(suspects)),
            }
        )
    return rows


def _contacts(ev: pd.DataFrame) -> pd.DataFrame:
    """Each record as the contact it is (``contact`` in :data:`CONTACTS`); a record can be two
    (a social care episode flagged for exploitation)."""
    parts = []
    police = ev["feed"] == "police-crime"
    parts.append(ev[police & (ev["role"] == "victim")].assign(contact="police-victim"))
    parts.append(ev[police & (ev["role"] == "suspect")].assign(contact="police-suspect"))
    parts.append(ev[ev["feed"] == "istv"].assign(contact="ed-assault"))
    for feed in ("youth-justice", "education", "social-care", "probation"):
        parts.append(ev[ev["feed"] == feed].assign(contact=feed))
    parts.append(ev[(~police) & ev["exploitation"]].assign(contact="exploitation"))
    return pd.concat(parts, ignore_index=True)


def knife_pathways(
    ev: pd.DataFrame,
    first: pd.Timestamp,
    stop: pd.Timestamp,
    lsoas: set | None,
    lookback: int = LOOKBACK_MONTHS,
) -> dict[str, Any]:
    """Under-25s whose first knife offence (as a suspect) falls in the scope, and what agencies
    knew of them in the ``lookback`` months before it (see the module's description)."""
    knife = ev[(ev["feed"] == "police-crime") & ev["knife"] & (ev["role"] == "suspect")]
    knife = knife.sort_values(["date", "record"], kind="stable")
    index = knife.drop_duplicates("person", keep="first").set_index("person")
    data_start = ev["date"].min()
    earliest = max(first, data_start + pd.DateOffset(months=lookback)) if len(ev) else first
    cohort = index[(index["date"] >= earliest) & (index["date"] < stop) & (index["age"] < UNDER)]
    if lsoas is not None:
        cohort = cohort[cohort["lsoa"].isin(lsoas)]
    n = len(cohort)
    out: dict[str, Any] = {
        "people": n,
        "lookback_months": lookback,
        "first_offence_from": str(earliest.date()),
    }
    contacts = _contacts(ev[ev["person"].isin(cohort.index)])
    contacts = contacts.join(cohort["date"].rename("knife_date"), on="person")
    contacts = contacts[
        (contacts["date"] < contacts["knife_date"])
        & (contacts["date"] >= contacts["knife_date"] - pd.DateOffset(months=lookback))
    ]
    # another offence as a suspect: not the knife offence itself
    contacts = contacts[~((contacts["contact"] == "police-suspect") & contacts["knife"])]
    firsts = contacts.groupby(["person", "contact"])["date"].min().reset_index()
    firsts = firsts.join(cohort["date"].rename("knife_date"), on="person")
    firsts["months"] = (firsts["knife_date"] - firsts["date"]).dt.days / (365.25 / 12)
    rows = []
    for contact, label in CONTACTS.items():
        sel = firsts[firsts["contact"] == contact]
        people = int(sel["person"].nunique())
        months = sel["months"]
        rows.append(
            {
                "contact": contact,
                "label": label,
                "short": SHORT[contact],
                "people": people,
                "share": _share(people, n),
                "median_months": round(float(months.median()), 1) if people else None,
                "quartile_months": (
                    [round(float(months.quantile(0.25)), 1), round(float(months.quantile(0.75)), 1)]
                    if people
                    else None
                ),
            }
        )
    out["known_before"] = rows
    agencies = firsts[firsts["contact"].isin(AGENCIES)].groupby("person")["contact"].nunique()
    agencies = agencies.reindex(cohort.index, fill_value=0)
    out["agencies_before"] = [
        {"agencies": label, "people": int(sel.sum())}
        for label, sel in (
            ("none", agencies == 0),
            ("one", agencies == 1),
            ("two", agencies == 2),
            ("three or more", agencies >= 3),
        )
    ]
    out["people_any_before"] = int((agencies > 0).sum())
    out["share_any_before"] = _share(out["people_any_before"], n)
    paths = firsts[firsts["contact"].isin(AGENCIES)].sort_values(
        ["person", "date", "contact"], kind="stable"
    )
    named = paths.groupby("person")["contact"].agg(
        lambda cs: " > ".join(AGENCIES[c] for c in cs) + " > knife offence"
    )
    named = named.reindex(cohort.index, fill_value="knife offence (no agency before)")
    counts = named.value_counts()
    top = counts.head(TOP_PATHWAYS)
    out["pathways"] = [{"pathway": str(p), "people": int(c)} for p, c in top.items()]
    rest = int(counts.iloc[TOP_PATHWAYS:].sum())
    if rest:
        out["pathways"].append({"pathway": "other pathways", "people": rest})
    return out


def cohorts(
    con: Any,
    definition: Definition,
    scope: Scope,
    keys: ir.Table | None = None,
    lookback: int = LOOKBACK_MONTHS,
) -> dict[str, Any]:
    """The cohort figures of the scope (see the module's description).

    Args:
        con: the warehouse.
        definition: the local definition; it must have a ``knife`` kind.
        scope: the months and area; events count when dated in its months and, for an area,
            placed in its LSOAs (the crime's LSOA, or the person's home LSOA).
        keys: person keys per record; the warehouse's ``person_links`` by default.
        lookback: months of contacts counted before a first knife offence.

    Returns:
        ``available``, ``people`` (linked people with a record in scope), ``repeats``,
        ``victim_suspects``, ``knife_under_25`` and a ``note``; ``available`` is false, with a
        note saying why, when no linkage has been run.
    """
    if lookback < 1:
        raise ConfigError(f"the lookback is a number of months from 1; got {lookback}")
    if not any(k.key == KNIFE for k in definition.kinds):
        raise ConfigError(
            f"the definition {definition.name!r} has no {KNIFE!r} kind, which marks knife "
            "offences for the cohort figures"
        )
    if keys is None:
        keys = linkage_keys(con)
    if keys is None:
        return {
            "available": False,
            "note": "No person linkage has been run, so people cannot be counted across agencies "
            "(run svduty link after loading the partner feeds).",
        }
    ev = events(con, definition, keys)
    if ev.empty:
        return {"available": False, "note": "No linked person records are in the warehouse."}
    first, stop = _window(ev, scope)
    lsoas = set(areas(con, scope)["lsoa21_code"]) if scope.area else None
    inside = ev[_in_scope(ev, first, stop, lsoas)]
    return {
        "available": True,
        "people": int(inside["person"].nunique()),
        "records": int(len(inside)),
        "period": [str(first.date()), str((stop - dt.timedelta(days=1)).date())],
        "repeats": repeats(inside),
        "victim_suspects": victim_suspects(inside),
        "knife_under_25": knife_pathways(ev, first, stop, lsoas, lookback),
        "note": NOTE.format(lookback=lookback),
    }
