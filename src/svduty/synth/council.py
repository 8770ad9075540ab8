"""Council services: school suspensions and exclusions, and children's social care.

Most records are background: pupils suspended for the usual reasons, children in need. The
cross-agency cohort adds the pattern a violence needs assessment looks for: for most cohort
members with a knife offence, a suspension or a social care episode comes first, in the months
before it (when that is still inside the window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from svduty.synth.categorical import pick
from svduty.synth.people import YOUTH, Persons, Pool, age_at, choose, random_ids
from svduty.synth.place import Place
from svduty.synth.recording import View, identity_columns
from svduty.synth.timing import Window, format_times, sample_days, school_day, school_days_per_month
from svduty.synth.writer import FeedRows

SUSPENSIONS_PER_PUPIL_PER_YEAR = 0.086  # about England's rate (DfE, 2022/23)
EPISODES_PER_CHILD_PER_YEAR = 0.03
PRECURSOR_SHARE = {"education": 0.7, "social-care": 0.5}
PERMANENT_SHARE = {"background": 0.01, "cohort": 0.06}
_BACKGROUND_REASONS = {
    "Persistent disruptive behaviour": 0.45,
    "Verbal abuse or threatening behaviour against an adult": 0.15,
    "Physical assault against a pupil": 0.12,
    "Physical assault against an adult": 0.05,
    "Verbal abuse or threatening behaviour against a pupil": 0.06,
    "Damage": 0.03,
    "Drug and alcohol related": 0.04,
    "Bullying": 0.02,
    "Theft": 0.01,
    "Use or threat of use of an offensive weapon or prohibited item": 0.02,
    "Other": 0.05,
}
_COHORT_REASONS = {
    "Physical assault against a pupil": 0.3,
    "Use or threat of use of an offensive weapon or prohibited item": 0.15,
    "Verbal abuse or threatening behaviour against an adult": 0.15,
    "Persistent disruptive behaviour": 0.2,
    "Drug and alcohol related": 0.1,
    "Other": 0.1,
}
_EPISODE_TYPES = {
    # type: (background weight, cohort weight, days lasting lo, hi)
    "Child in Need": (0.72, 0.55, 60, 300),
    "Child Protection Plan": (0.2, 0.25, 120, 540),
    "Looked After Child": (0.08, 0.2, 180, 1000),
}
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_CARE_WEEKDAYS = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.2, 0.1])


def upn(digits: str) -> str:
    """A Unique Pupil Number: a modulus 23 check letter before twelve digits (weights 2-13).

    Examples:
        >>> upn("990123456789")
        'E990123456789'
    """
    total = sum(int(d) * w for d, w in zip(digits, range(2, 14), strict=True))
    return _UPN_LETTERS[total % 23] + digits


def upns(
    rng: np.random.Generator, place: Place, persons: Persons, pupils: np.ndarray
) -> np.ndarray:
    """The UPN of each pupil ('' for everyone else): the home authority's (fictional) number
    and nine random digits, with the check letter of :func:`upn`, computed for all at once."""
    out = np.full(len(persons), "", dtype=object)
    seen = np.unique(pupils)
    number = (990 + place.la[persons.home[seen]]) * 10**9
    number += rng.choice(10**9, len(seen), replace=False)
    rest = number.copy()
    total = np.zeros(len(seen), dtype=np.int64)
    for weight in range(13, 1, -1):  # the last digit has weight 13, the first weight 2
        total += (rest % 10) * weight
        rest //= 10
    letters = np.array(list(_UPN_LETTERS), dtype=object)[total % 23]
    out[seen] = [f"{c}{n:012d}" for c, n in zip(letters, number.tolist(), strict=True)]
    return out


def _before(
    rng: np.random.Generator, when: np.ndarray, days: tuple[int, int], school: bool
) -> np.ndarray:
    """A day some ``days`` before each time; moved back to a school day if asked."""
    gap = rng.integers(days[0], days[1], len(when)).astype("timedelta64[D]")
    day = when.astype("datetime64[D]") - gap
    for _ in range(60):  # the summer holiday is the longest stretch without school
        if not school:
            break
        closed = ~school_day(day)
        if not closed.any():
            break
        day[closed] -= np.timedelta64(1, "D")
    return day


@dataclass
class Events:
    """Council records before rendering: person, day, and whether a cohort precursor."""

    person: np.ndarray
    day: np.ndarray
    cohort: np.ndarray


def _join(parts: list[Events]) -> Events:
    return Events(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in Events.__dataclass_fields__)
    )


def _in_window(ev: Events, persons: Persons, window: Window, ages: tuple[int, int]) -> Events:
    age = age_at(persons.dob[ev.person], ev.day)
    ok = (ev.day >= window.first_day) & (ev.day < window.end_day)
    ok &= (age >= ages[0]) & (age <= ages[1])
    return Events(ev.person[ok], ev.day[ok], ev.cohort[ok])


def _cohort_events(
    rng: np.random.Generator,
    persons: Persons,
    window: Window,
    first_knife: np.ndarray,
    feed: str,
    gap: tuple[int, int],
    others_share: float,
    ages: tuple[int, int],
) -> Events:
    """Cohort records: before a first knife offence for many, at random for some others."""
    school = feed == "education"
    with_knife = np.flatnonzero(persons.cohort & ~np.isnat(first_knife))
    lead = with_knife[rng.random(len(with_knife)) < PRECURSOR_SHARE[feed]]
    k = rng.integers(1, 4 if school else 2, len(lead))
    who = np.repeat(lead, k)
    day = _before(rng, first_knife[who], gap, school)
    others = np.flatnonzero(persons.cohort & np.isnat(first_knife))
    others = others[rng.random(len(others)) < others_share]
    span = int((window.end_day - window.first_day).astype(np.int64))
    other_day = window.first_day + rng.integers(0, span, len(others)).astype("timedelta64[D]")
    other_day = _before(rng, other_day.astype("datetime64[m]"), (0, 1), school)
    ev = Events(
        np.concatenate([who, others]),
        np.concatenate([day, other_day]),
        np.ones(len(who) + len(others), dtype=bool),
    )
    return _in_window(ev, persons, window, ages)


def exclusions(
    rng: np.random.Generator,
    persons: Persons,
    place: Place,
    window: Window,
    first_knife: np.ndarray,
    scale: float,
) -> Events:
    """Suspensions and exclusions: background pupils and the cohort."""
    r = place.residents
    pupils = r[:, 0].sum() * 11 / 16 + r[:, 1].sum() / 9  # ages 5 to 15
    n = int(rng.poisson(SUSPENSIONS_PER_PUPIL_PER_YEAR * pupils * window.years * scale))
    days = school_days_per_month(window)
    month = rng.choice(window.n_months, n, p=days / days.sum())
    day = sample_days(rng, window, month, np.ones(7), school_only=True)
    weight = rng.gamma(0.5, 2.0, len(persons)) * np.where(persons.sex == 0, 2.0, 1.0)
    weight *= 1.5 ** place.deprivation[persons.home]
    pool = Pool.of(persons, (persons.pool == YOUTH) & ~persons.cohort, weight, place.n)
    who = choose(rng, pool, persons, day, np.full(n, 5), np.full(n, 15),
                 np.zeros(n, dtype=np.int64), np.full(n, place.n))  # fmt: skip
    background = Events(who, day, np.zeros(n, dtype=bool))
    cohort = _cohort_events(rng, persons, window, first_knife, "education", (30, 270), 0.5, (5, 15))
    return _join([background, cohort])


def episodes(
    rng: np.random.Generator,
    persons: Persons,
    place: Place,
    window: Window,
    first_knife: np.ndarray,
    scale: float,
) -> Events:
    """Social care episodes: background children, the cohort and the county lines network."""
    r = place.residents
    children = r[:, 0].sum() + r[:, 1].sum() * 2 / 9  # ages 0 to 17
    n = int(rng.poisson(EPISODES_PER_CHILD_PER_YEAR * children * window.years * scale))
    month = rng.integers(0, window.n_months, n)
    day = sample_days(rng, window, month, _CARE_WEEKDAYS)
    weight = rng.gamma(0.7, 1 / 0.7, len(persons)) * 1.6 ** place.deprivation[persons.home]
    pool = Pool.of(persons, (persons.pool == YOUTH) & ~persons.cohort, weight, place.n)
    who = choose(rng, pool, persons, day, np.zeros(n, dtype=np.int64), np.full(n, 17),
                 np.zeros(n, dtype=np.int64), np.full(n, place.n))  # fmt: skip
    background = Events(who, day, np.zeros(n, dtype=bool))
    cohort = _cohort_events(
        rng, persons, window, first_knife, "social-care", (60, 400), 0.35, (0, 17)
    )
    # Every network member who is still a child in the window has an episode.
    members = np.flatnonzero(
        persons.county_lines & ~np.isin(np.arange(len(persons)), cohort.person)
    )
    span = int((window.end_day - window.first_day).astype(np.int64))
    day = window.first_day + rng.integers(0, span // 2, len(members)).astype("timedelta64[D]")
    network = _in_window(Events(members, day, np.ones(len(members), dtype=bool)), persons,
                         window, (0, 17))  # fmt: skip
    return _join([background, cohort, network])


def education_feed(
    rng: np.random.Generator,
    ev: Events,
    persons: Persons,
    place: Place,
    view: View,
    upn_of: np.ndarray,
    window: Window,
) -> FeedRows:
    """The education feed."""
    p, n = ev.person, len(ev.person)
    reason = np.where(
        ev.cohort, pick(rng, _COHORT_REASONS, n), pick(rng, _BACKGROUND_REASONS, n)
    ).astype(object)
    share = np.where(ev.cohort, PERMANENT_SHARE["cohort"], PERMANENT_SHARE["background"])
    kind = np.where(rng.random(n) < share, "Permanent exclusion", "Suspension").astype(object)
    age = age_at(persons.dob[p], ev.day)
    secondary = age >= 11
    # Each authority has four primary and two secondary schools; a pupil stays at one of each.
    school = np.where(secondary, 10 + p % 2, p % 4)
    urn = 900_000 + place.la[persons.home[p]] * 100 + school
    cols = {
        "record_id": random_ids(rng, n, "EX", 8),
        "upn": upn_of[p],
        **identity_columns(view, persons, place, p, "%d/%m/%Y"),
        "school_urn": [str(u) for u in urn.tolist()],
        "exclusion_date": format_times(ev.day, "%d/%m/%Y", "date"),
        "exclusion_type": kind,
        "reason": reason,
    }
    return FeedRows("education", cols, window.month_of(ev.day), ev.day, p)


def social_care_feed(
    rng: np.random.Generator,
    ev: Events,
    persons: Persons,
    place: Place,
    view: View,
    child_id: np.ndarray,
    window: Window,
) -> FeedRows:
    """The social-care feed."""
    p, n = ev.person, len(ev.person)
    yn = np.array(["N", "Y"], dtype=object)
    bg = pick(rng, {k: v[0] for k, v in _EPISODE_TYPES.items()}, n)
    co = pick(rng, {k: v[1] for k, v in _EPISODE_TYPES.items()}, n)
    kind = np.where(ev.cohort, co, bg).astype(object)
    lo = np.array([_EPISODE_TYPES[k][2] for k in kind], dtype=np.int64)
    hi = np.array([_EPISODE_TYPES[k][3] for k in kind], dtype=np.int64)
    end = ev.day + (lo + rng.random(n) * (hi - lo)).astype("timedelta64[D]")
    end = np.where(end < window.end_day, end, np.datetime64("NaT"))
    age = age_at(persons.dob[p], ev.day)
    older = age >= 10
    network = persons.county_lines[p]
    cce = network | (older & (rng.random(n) < np.where(ev.cohort, 0.3, 0.01)))
    girl = persons.sex[p] == 1
    cse = older & (rng.random(n) < np.where(ev.cohort, np.where(girl, 0.25, 0.02),
                                           np.where(girl, 0.01, 0.0)))  # fmt: skip
    missing = np.where(rng.random(n) < 0.95, 0, rng.integers(1, 4, n))
    missing = np.where(ev.cohort, rng.integers(0, 4, n) * (rng.random(n) < 0.4), missing)
    missing = np.where(cce | cse, rng.integers(1, 11, n), missing)
    missing = np.where(network, rng.integers(3, 21, n), missing)
    missing_text = np.array([str(m) for m in missing.tolist()], dtype=object)
    missing_text[rng.random(n) < 0.05] = ""  # not recorded
    cols = {
        "episode_id": random_ids(rng, n, "SE", 8),
        "child_id": child_id[p],
        "nhs_number": view.nhs[p],
        **identity_columns(view, persons, place, p, "%d/%m/%Y"),
        "episode_start": format_times(ev.day, "%d/%m/%Y", "date"),
        "episode_end": format_times(end, "%d/%m/%Y", "date"),
        "episode_type": kind,
        "cce": yn[cce.astype(np.int64)],
        "cse": yn[cse.astype(np.int64)],
        "missing_episodes": missing_text,
    }
    return FeedRows("social-care", cols, window.month_of(ev.day), ev.day, p)
