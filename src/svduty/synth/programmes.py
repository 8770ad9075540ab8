"""The synthetic partnership's funded projects: the register, the participants and their effect.

The partnership spent £350,000 of Home Office money in 2024/25 and £590,000 in 2025/26 on
projects in its community safety partnership areas (:data:`REGISTER`). Two projects send lists
of the young people they took on (the ``participants`` feed):

- the Northam mentoring programme, which takes referrals from July to December 2024 and
  **works**: each police-recorded crime that would have involved a participant (as victim or
  suspect) after their referral is prevented with probability ``-effect`` (40%);
- the Ashby sports programme, over the same months, which has **no effect** on its participants.

Providers refer young people who are known to be at risk: among the 10 to 19 year olds living in
the project's area, the chance of being referred in a month depends only on how many crimes
involved them in the six months before (none, one, two or more; :data:`REFERRAL_WEIGHT`), so that
a comparison group matched on that history (and on age, sex and area) is comparable, as the
cohort evaluation (``svduty evaluate cohort``) assumes. A prevented involvement is not simply
removed: the crime still happens, to or by a young adult of the area (21 to 24: older than any
comparison the evaluation could draw, and still under 25), so the project changes participants'
outcomes without changing the area's count of young people's violence. The area effect of the
Eastbrook youth violence programme is planted in :mod:`svduty.synth.crime`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from svduty.synth.categorical import pick
from svduty.synth.crime import CHANGE_MONTH, Crimes
from svduty.synth.people import YOUTH, Persons, Pool, age_at, choose, random_ids
from svduty.synth.place import INTERVENTION_TOWN, TOWNS, Place
from svduty.synth.police import VICTIM, Involvement
from svduty.synth.recording import View, identity_columns
from svduty.synth.timing import Window, format_times
from svduty.synth.writer import FeedRows

FUNDING = "Home Office Serious Violence Duty grant"


@dataclass(frozen=True)
class Project:
    """A funded project of the register.

    Attributes:
        ref: its reference in the register (and in the participants feed).
        town: index into :data:`TOWNS` of the area it serves.
        size: participants at scale 1 (0: the project sends no participant list).
        months: first and one-past-last month index of its referrals.
        effect: relative change in the participants' involvement in crime after referral.
    """

    ref: str
    name: str
    provider: str
    town: int
    year: str
    amount: int
    approach: str
    cohort: str
    start: str
    end: str
    size: int = 0
    months: tuple[int, int] = (0, 0)
    effect: float = 0.0
    participants: int = 0  # planned or reported, for projects without a list


REGISTER: tuple[Project, ...] = (
    Project("NM-MEN-24", "Northam mentoring programme", "Northam Mentors CIC", 0, "2024/25",
            110_000, "Mentoring", "10-19 year olds known to police, school or youth justice",
            "2024-07-01", "2025-06-30", size=400, months=(6, 12), effect=-0.4),
    Project("AY-SPT-24", "Ashby sports programme", "Ashby Community Sports Trust", 5, "2024/25",
            70_000, "Sports programmes", "10-19 year olds at risk of involvement in violence",
            "2024-07-01", "2025-03-31", size=200, months=(6, 12), effect=0.0),
    Project("WY-ASP-24", "Westmere after-school clubs", "Westmere Youth Service", 2, "2024/25",
            60_000, "After-school programmes", "11-16 year olds in the town's three estates",
            "2024-09-02", "2025-07-18", participants=240),
    Project("SQ-KCE-24", "Southfield knife crime workshops", "Blades Off Education Ltd", 3,
            "2024/25", 30_000, "Knife crime education", "Year 8 and 9 pupils",
            "2024-10-01", "2025-03-31", participants=900),
    Project("EB-YVP-25", "Eastbrook youth violence programme", "Eastbrook Youth Partnership",
            INTERVENTION_TOWN, "2024/25", 80_000, "Focused deterrence",
            "young people under 25 involved in group-related violence, with youth workers for "
            "their peers", "2025-01-01", "2025-03-31", participants=60),
    Project("EB-YVP-26", "Eastbrook youth violence programme (year 2)",
            "Eastbrook Youth Partnership", INTERVENTION_TOWN, "2025/26", 320_000,
            "Focused deterrence", "young people under 25 involved in group-related violence",
            "2025-04-01", "2026-03-31", participants=180),
    Project("KF-NAV-25", "Kingsford A&E navigators", "Kingsford Hospital Youth Work Team", 4,
            "2025/26", 150_000, "A&E navigators", "10-24 year olds attending the emergency "
            "department after violence", "2025-04-01", "2026-03-31", participants=150),
    Project("NM-MEN-25", "Northam mentoring programme (year 2)", "Northam Mentors CIC", 0,
            "2025/26", 120_000, "Mentoring", "10-19 year olds known to police, school or youth "
            "justice", "2025-07-01", "2026-06-30", participants=200),
)  # fmt: skip
#: Proposals for the next round (2026/27): area town, approach, amount, participants planned.
PROPOSALS: tuple[tuple[str, str, str, int, str, int, int], ...] = (
    ("P26-01", "Northam mentoring programme (year 3)", "Northam Mentors CIC", 0, "Mentoring",
     130_000, 220),
    ("P26-02", "Eastbrook youth violence programme (year 3)", "Eastbrook Youth Partnership",
     INTERVENTION_TOWN, "Focused deterrence", 300_000, 180),
    ("P26-03", "Westmere prison awareness visits", "Inside Out Awareness Ltd", 2,
     "Scared straight", 25_000, 300),
    ("P26-04", "Westmere after-school clubs", "Westmere Youth Service", 2,
     "After-school programmes", 65_000, 250),
    ("P26-05", "Southfield knife crime workshops", "Blades Off Education Ltd", 3,
     "Knife crime education", 30_000, 900),
    ("P26-06", "Southfield social skills groups", "Southfield Family Centre", 3,
     "Social skills training", 55_000, 120),
    ("P26-07", "Kingsford A&E navigators", "Kingsford Hospital Youth Work Team", 4,
     "A&E navigators", 160_000, 160),
    ("P26-08", "Ashby sports programme", "Ashby Community Sports Trust", 5,
     "Sports programmes", 75_000, 200),
    ("P26-09", "Ashby mentoring", "Northam Mentors CIC", 5, "Mentoring", 60_000, 80),
)  # fmt: skip
#: Relative chance of referral by crimes involving the person in the six months before.
REFERRAL_WEIGHT = (0.01, 1.0, 2.0)
LOOKBACK_MONTHS = 6
AGES = (10, 19)
DISPLACED_AGES = (21, 24)  # who is involved instead, when a participant's involvement is prevented
STATUS = {"Completed": 0.55, "Engaged": 0.15, "Withdrawn": 0.2, "Referred": 0.1}
SOURCE_KNOWN = {"Police": 0.45, "Youth Justice": 0.2, "School": 0.2, "Children's Social Care": 0.15}
SOURCE_OTHER = {"School": 0.5, "Community": 0.2, "Self or Family": 0.2, "Health": 0.1}


@dataclass
class Referrals:
    """One entry per referral: ``project`` index into :data:`REGISTER`, ``person``, ``day``
    (``datetime64[D]``) and the person's crimes in the six months before (``prior``)."""

    project: np.ndarray
    person: np.ndarray
    day: np.ndarray
    prior: np.ndarray

    def __len__(self) -> int:
        return len(self.person)


def _prior_counts(inv: Involvement, crimes: Crimes, n: int, start: np.datetime64) -> np.ndarray:
    """Crimes involving each person in the six months before ``start`` (a day)."""
    day = crimes.time[inv.crime].astype("datetime64[D]")
    lo = (start.astype("datetime64[M]") - LOOKBACK_MONTHS).astype("datetime64[D]")
    sel = (day >= lo) & (day < start)
    return np.bincount(inv.person[sel], minlength=n)


def refer(
    rng: np.random.Generator,
    persons: Persons,
    place: Place,
    window: Window,
    crimes: Crimes,
    inv: Involvement,
    scale: float,
) -> Referrals:
    """Draw each listed project's referrals, month by month (nobody is referred twice)."""
    n = len(persons)
    taken = np.zeros(n, dtype=bool)
    parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    home_la = place.la[persons.home]
    for k, project in enumerate(REGISTER):
        first, last = project.months
        if not project.size or first >= window.n_months:
            continue
        last = min(last, window.n_months)
        per_month = np.diff(np.linspace(0, round(project.size * scale), last - first + 1).round())
        for m, count in zip(range(first, last), per_month.astype(int), strict=True):
            start = window.starts[m]
            age = age_at(persons.dob, np.full(n, start))
            ok = (
                (persons.pool == YOUTH)
                & (home_la == project.town)
                & (age >= AGES[0])
                & (age <= AGES[1])
                & ~taken
            )
            prior = _prior_counts(inv, crimes, n, start)
            weight = np.asarray(REFERRAL_WEIGHT)[np.minimum(prior, 2)] * ok
            idx = np.flatnonzero(weight)
            count = min(count, len(idx))
            chosen = rng.choice(idx, count, replace=False, p=weight[idx] / weight[idx].sum())
            days = window.starts[m + 1] - start
            day = start + rng.integers(0, days.astype(int), count)
            taken[chosen] = True
            parts.append((k, chosen, day, prior[chosen]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Referrals(empty, empty, np.zeros(0, dtype="datetime64[D]"), empty)
    return Referrals(
        project=np.concatenate([np.full(len(p[1]), p[0]) for p in parts]),
        person=np.concatenate([p[1] for p in parts]),
        day=np.concatenate([p[2] for p in parts]).astype("datetime64[D]"),
        prior=np.concatenate([p[3] for p in parts]),
    )


def prevent(
    rng: np.random.Generator,
    refs: Referrals,
    inv: Involvement,
    crimes: Crimes,
    persons: Persons,
    place: Place,
) -> tuple[Involvement, dict[str, dict[str, int]]]:
    """Apply each project's effect: a participant's involvement in a crime after their referral
    is passed, with probability ``-effect``, to a young adult (21 to 24) of the same sex living in
    the project's area (never a participant).

    Returns:
        The new involvement and, by project, the participants' involvements after referral that
        were kept and that were prevented.
    """
    n = len(persons)
    project_of = np.full(n, -1, dtype=np.int64)
    project_of[refs.person] = refs.project
    day_of = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    day_of[refs.person] = refs.day
    effect = np.array([p.effect for p in REGISTER])
    k = project_of[inv.person]
    when = crimes.time[inv.crime]
    after = (k >= 0) & (when.astype("datetime64[D]") >= day_of[inv.person])
    drop = after & (rng.random(len(k)) < -np.where(k >= 0, effect[k], 0.0))
    stats = {
        p.ref: {
            "kept": int((after & ~drop & (k == i)).sum()),
            "prevented": int((drop & (k == i)).sum()),
        }
        for i, p in enumerate(REGISTER)
        if p.size
    }
    person = inv.person.copy()
    home_la = place.la[persons.home]
    first_la, last_la = place.la_bounds()
    for i, project in enumerate(REGISTER):
        sel = np.flatnonzero(drop & (k == i))
        if not len(sel):
            continue
        # A young adult of the project's own area (21 to 24: older than anyone its comparison
        # group could hold, so that group is untouched, and still under 25, so the area's count
        # of young people's violence is unchanged).
        others = (persons.pool == YOUTH) & (project_of < 0) & (home_la == project.town)
        m = len(sel)
        lo, hi = np.full(m, DISPLACED_AGES[0]), np.full(m, DISPLACED_AGES[1])
        town = np.full(m, first_la[project.town]), np.full(m, last_la[project.town])
        for role, weights in ((VICTIM, persons.victim_w), (1 - VICTIM, persons.suspect_w)):
            part = inv.role[sel] == role
            if not part.any():
                continue
            pool = Pool.of(persons, others, weights, place.n)
            s = sel[part]
            person[s] = choose(
                rng, pool, persons, when[s], lo[part], hi[part], town[0][part], town[1][part],
                sex=persons.sex[inv.person[s]],
            )  # fmt: skip
    # A person is named once per crime: where a replacement was already named in the crime, the
    # later row goes. The rows keep their order, so the draws that later stages make row by row
    # (ED attendances, youth justice, probation) fall as they did; only the people differ.
    _, keep = np.unique(inv.crime * n + person, return_index=True)
    keep = np.sort(keep)
    return Involvement(inv.crime[keep], person[keep], inv.role[keep]), stats


def participants_feed(
    rng: np.random.Generator,
    refs: Referrals,
    persons: Persons,
    place: Place,
    view: View,
    participant_id: np.ndarray,
    window: Window,
) -> FeedRows:
    """The participants feed: the providers' lists of referrals."""
    n, p = len(refs), refs.person
    known = refs.prior > 0
    source = np.where(known, pick(rng, SOURCE_KNOWN, n), pick(rng, SOURCE_OTHER, n)).astype(object)
    status = pick(rng, STATUS, n).astype(object)
    began = refs.day + rng.integers(7, 29, n)
    ended = began + rng.integers(90, 181, n)
    started = status != "Referred"
    finished = (status == "Completed") | (status == "Withdrawn")
    ended = np.where(status == "Withdrawn", began + rng.integers(14, 60, n), ended)
    over = ended >= window.end_day
    status = np.where(finished & over, "Engaged", status)
    finished &= ~over
    started &= began < window.end_day
    sessions = np.select(
        [status == "Completed", status == "Engaged", status == "Withdrawn"],
        [rng.integers(10, 31, n), rng.integers(3, 20, n), rng.integers(1, 7, n)],
        0,
    )
    refs_text = np.array([REGISTER[k].ref for k in refs.project], dtype=object)
    serial = random_ids(rng, n, "", 6)
    cols = {
        "referral_id": np.char.add(np.char.replace(refs_text.astype(str), "-", ""), "-").astype(
            object
        )
        + serial,
        "participant_id": participant_id[p],
        "project_ref": refs_text,
        **identity_columns(view, persons, place, p, "%d/%m/%Y"),
        "referral_date": format_times(refs.day, "%d/%m/%Y", "date"),
        "referral_source": source,
        "start_date": np.where(started, format_times(began, "%d/%m/%Y", "date"), ""),
        "end_date": np.where(finished, format_times(ended, "%d/%m/%Y", "date"), ""),
        "status": status,
        "sessions": sessions.astype(str).astype(object),
    }
    return FeedRows("participants", cols, window.month_of(refs.day), refs.day, p)


def _quarters(start: str, end: str, last_day: np.datetime64) -> list[str]:
    """The calendar quarters a project ran in, up to the data's last day."""
    first = np.datetime64(start, "M")
    stop = min(np.datetime64(end, "M"), last_day.astype("datetime64[M]"))
    out: list[str] = []
    for m in np.arange(first, stop + 1):
        year, month = int(str(m)[:4]), int(str(m)[5:7])
        label = f"{year}-Q{(month - 1) // 3 + 1}"
        if label not in out:
            out.append(label)
    return out


def write_commissioning(
    out: Path, rng: np.random.Generator, refs: Referrals, place: Place, window: Window,
) -> dict[str, Any]:  # fmt: skip
    """Write ``commissioning/register.csv``, ``returns.csv`` (quarterly returns) and
    ``proposals-2026-27.csv`` as the commissioner keeps them.

    Returns the register's projects with the participants each list holds.
    """
    folder = out / "commissioning"
    folder.mkdir(parents=True, exist_ok=True)
    listed = {p.ref: int((refs.project == i).sum()) for i, p in enumerate(REGISTER)}
    last_day = window.end_day - 1
    register, returns = [], []
    for p in REGISTER:
        people = listed[p.ref] or p.participants
        quarters = _quarters(p.start, p.end, last_day)
        running = np.datetime64(p.start) <= last_day
        share = rng.uniform(0.85, 1.0) if running else 0.0
        spend = round(p.amount * share * min(1.0, len(quarters) / max(1, _span(p))))
        register.append({
            "Reference": p.ref, "Project": p.name, "Provider": p.provider,
            "Areas": place.csp_code[p.town], "Funding Source": FUNDING,
            "Financial Year": p.year, "Amount": p.amount, "Approach": p.approach,
            "Target Cohort": p.cohort, "Target Age Max": 19 if p.size else 24,
            "Start": p.start, "End": p.end, "Referrals": round(people * 1.2) if running else 0,
            "Participants": people if running else 0,
            "Sessions": people * 12 if running else 0, "Spend": spend,
        })  # fmt: skip
        if quarters:
            cut = np.sort(rng.uniform(0, 1, len(quarters) - 1))
            parts = np.diff(np.r_[0.0, cut, 1.0])
            for q, part in zip(quarters, parts, strict=True):
                returns.append({
                    "Reference": p.ref, "Quarter": q,
                    "Referrals": round(people * 1.2 * part), "Participants": round(people * part),
                    "Sessions": round(people * 12 * part), "Spend": round(spend * part),
                })  # fmt: skip
    _write_csv(folder / "register.csv", register)
    _write_csv(folder / "returns.csv", returns)
    _write_csv(
        folder / "proposals-2026-27.csv",
        [
            {"Reference": ref, "Project": name, "Provider": provider,
             "Area": place.csp_code[town], "Approach": approach, "Amount Requested": amount,
             "Participants": people}
            for ref, name, provider, town, approach, amount, people in PROPOSALS
        ],
    )  # fmt: skip
    return {"register": [p.ref for p in REGISTER], "listed": listed}


def _span(p: Project) -> int:
    """How many calendar quarters the project runs for."""
    return len(_quarters(p.start, p.end, np.datetime64("2100-01-01")))


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def truth(refs: Referrals, stats: dict[str, dict[str, int]], place: Place) -> dict[str, Any]:
    """The planted participant effects, for ``effects.json``."""
    out = {}
    for i, p in enumerate(REGISTER):
        if not p.size:
            continue
        mine = refs.project == i
        out[p.ref] = {
            "name": p.name,
            "csp24_code": place.csp_code[p.town],
            "csp24_name": TOWNS[p.town].name,
            "participants": int(mine.sum()),
            "referral_months": [p.months[0] + 1, p.months[1]],
            "ages": list(AGES),
            "effect": p.effect,
            "applies_to": "police recorded crime naming the participant (victim or suspect) "
            "after the referral date, and so their ED attendances after those crimes; the "
            "prevented crime happens to or by a young adult (21 to 24) of the area",
            "selection": "chance of referral by crimes involving the person in the six months "
            f"before: none/one/two or more = {list(REFERRAL_WEIGHT)}",
            "with_prior_involvement": int((refs.prior[mine] > 0).sum()),
            "involvements_after_referral": stats.get(p.ref, {}),
        }
    return {"participants": out, "area_programme": {"reference": "EB-YVP-25",
            "start_month": CHANGE_MONTH + 1}}  # fmt: skip
