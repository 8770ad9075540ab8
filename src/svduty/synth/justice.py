"""Youth justice and probation: the cases that follow offences.

Some suspects of recorded crime go on to a youth justice case (children aged 10 to 17) or a
period on probation (adults, for violent offences), weeks or months after the offence; others
come from offences before the window. Either way the case starts inside the window, in the
month of its file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from svduty.synth.categorical import pick
from svduty.synth.crime import Crimes, offence
from svduty.synth.people import ADULT, Persons, age_at, random_ids
from svduty.synth.place import Place
from svduty.synth.police import SUSPECT, Involvement
from svduty.synth.recording import View, identity_columns
from svduty.synth.timing import Window, format_times
from svduty.synth.writer import FeedRows

YOUTH_JUSTICE_CHANCE = {"county_lines": 0.7, "cohort": 0.35, "other": 0.08}
PROBATION_CHANCE = {"cohort": 0.2, "other": 0.08}
# Offences before the window that bring cases into it: per cohort member per year, and per
# 1,000 adults in the pool per year.
YOUTH_BACKGROUND_PER_COHORT_MEMBER_PER_YEAR = 0.15
PROBATION_BACKGROUND_PER_1000_ADULTS_PER_YEAR = 6.0
_YOUTH_OFFENCES = {"105/01": 0.3, "008/01": 0.25, "010/01": 0.15, "034/01": 0.1, "092/01": 0.05,
                   "058/01": 0.1, "049/00": 0.05}  # fmt: skip
_ADULT_OFFENCES = {"105/01": 0.25, "008/01": 0.3, "008/06": 0.08, "005/01": 0.05, "034/01": 0.07,
                   "010/01": 0.1, "195/12": 0.1, "017/01": 0.05}  # fmt: skip
_PROBATION_CODES = ("001/00", "005/01", "008/01", "008/06", "019/07", "017/01", "034/01",
                    "034/02", "010/01", "010/02", "195/12", "105/01")  # fmt: skip
_SERIOUS = ("001/00", "005/01", "008/06", "019/07", "034/01")
_DISPOSALS = {
    # disposal: (weight for lesser offences, weight for serious ones, days lasting lo, hi)
    "Community Resolution": (0.25, 0.02, 0, 0),
    "Youth Caution": (0.15, 0.03, 0, 0),
    "Youth Conditional Caution": (0.12, 0.05, 60, 120),
    "Referral Order": (0.25, 0.3, 90, 365),
    "Youth Rehabilitation Order": (0.15, 0.35, 180, 730),
    "Detention and Training Order": (0.05, 0.22, 120, 730),
    "Other": (0.03, 0.03, 30, 180),
}
_SENTENCES = {
    "Community Order": (0.55, 0.25, 365, 1095),
    "Suspended Sentence Order": (0.25, 0.25, 365, 730),
    "Licence after custody": (0.2, 0.5, 180, 1095),
}


@dataclass
class Cases:
    """Cases before rendering: person, start day, offence and its flags."""

    person: np.ndarray
    start: np.ndarray
    code: np.ndarray
    weapon: np.ndarray
    county_lines: np.ndarray


def _from_crimes(
    rng: np.random.Generator,
    crimes: Crimes,
    inv: Involvement,
    sel: np.ndarray,
    chance: np.ndarray,
    delay: tuple[int, int],
    window: Window,
) -> Cases:
    """Cases of the suspects ``sel`` (indices into ``inv``) with the given chances."""
    taken = sel[rng.random(len(sel)) < chance]
    c = inv.crime[taken]
    days = rng.integers(delay[0], delay[1], len(taken)).astype("timedelta64[D]")
    start = crimes.time[c].astype("datetime64[D]") + days
    keep = start < window.end_day
    c = c[keep]
    return Cases(
        person=inv.person[taken][keep],
        start=start[keep],
        code=crimes.code[c],
        weapon=crimes.knife[c] | crimes.firearm[c] | np.isin(crimes.code[c], ["010/01", "010/02"]),
        county_lines=crimes.county_lines[c],
    )


def _background(
    rng: np.random.Generator,
    persons: Persons,
    window: Window,
    weights: np.ndarray,
    n: int,
    ages: tuple[int, int],
    offences: dict[str, float],
) -> Cases:
    """Cases from offences before the window: people drawn by ``weights`` among those within
    ``ages`` at some time in the window, each case starting on a day when they are."""
    # The days each person is within the ages, clipped to the window.
    born = persons.dob
    first = np.maximum(_add_years(born, ages[0]), window.first_day)
    last = np.minimum(_add_years(born, ages[1] + 1), window.end_day)
    span = (last - first).astype(np.int64)
    w = np.where(span > 0, weights, 0.0)
    if n == 0 or w.sum() == 0:
        n = 0
        w = np.ones(len(w))
    person = rng.choice(len(persons), n, p=w / w.sum())
    start = first[person] + (rng.random(n) * span[person]).astype("timedelta64[D]")
    code = pick(rng, offences, n)
    violent = np.isin(code, ["105/01", "008/01", "008/06", "005/01", "034/01"])
    weapon = np.isin(code, ["010/01", "010/02"]) | (violent & (rng.random(n) < 0.1))
    return Cases(person, start, code, weapon, np.zeros(n, dtype=bool))


def _add_years(day: np.ndarray, years: int) -> np.ndarray:
    """The same day of the year ``years`` later (29 February becomes 1 March)."""
    y = day.astype("datetime64[Y]")
    offset = day - y.astype("datetime64[D]")
    return (y + years).astype("datetime64[D]") + offset


def _join(a: Cases, b: Cases) -> Cases:
    return Cases(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in a.__dict__))


def youth_justice_cases(
    rng: np.random.Generator,
    crimes: Crimes,
    inv: Involvement,
    persons: Persons,
    window: Window,
) -> Cases:
    """Youth justice cases: suspects aged 10-17, and cohort members' earlier offences."""
    sel = np.flatnonzero(inv.role == SUSPECT)
    age = age_at(persons.dob[inv.person[sel]], crimes.time[inv.crime[sel]])
    sel = sel[(age >= 10) & (age <= 17)]
    who = inv.person[sel]
    chance = np.where(
        persons.county_lines[who],
        YOUTH_JUSTICE_CHANCE["county_lines"],
        np.where(
            persons.cohort[who], YOUTH_JUSTICE_CHANCE["cohort"], YOUTH_JUSTICE_CHANCE["other"]
        ),
    )
    known = _from_crimes(rng, crimes, inv, sel, chance, (14, 120), window)
    weights = np.where(persons.cohort, persons.suspect_w, 0.0)
    mean = YOUTH_BACKGROUND_PER_COHORT_MEMBER_PER_YEAR * persons.cohort.sum() * window.years
    n = int(rng.poisson(mean))
    earlier = _background(rng, persons, window, weights, n, (10, 17), _YOUTH_OFFENCES)
    cases = _join(known, earlier)
    # Network members' drug cases are county lines cases whatever the offence was recorded as.
    cases.county_lines |= persons.county_lines[cases.person] & (cases.code == "092/01")
    return cases


def probation_cases(
    rng: np.random.Generator,
    crimes: Crimes,
    inv: Involvement,
    persons: Persons,
    window: Window,
) -> Cases:
    """Probation for violent offences: adult suspects, and people sentenced before the window."""
    sel = np.flatnonzero((inv.role == SUSPECT) & np.isin(crimes.code[inv.crime], _PROBATION_CODES))
    age = age_at(persons.dob[inv.person[sel]], crimes.time[inv.crime[sel]])
    sel = sel[age >= 18]
    who = inv.person[sel]
    chance = np.where(persons.cohort[who], PROBATION_CHANCE["cohort"], PROBATION_CHANCE["other"])
    known = _from_crimes(rng, crimes, inv, sel, chance, (60, 300), window)
    adult = persons.pool == ADULT
    mean = PROBATION_BACKGROUND_PER_1000_ADULTS_PER_YEAR * adult.sum() / 1000 * window.years
    weights = np.where(adult, persons.suspect_w, 0.0)
    earlier = _background(
        rng, persons, window, weights, int(rng.poisson(mean)), (25, 75), _ADULT_OFFENCES
    )
    return _join(known, earlier)


def _outcome(
    rng: np.random.Generator,
    options: dict[str, tuple[float, float, int, int]],
    serious: np.ndarray,
    start: np.ndarray,
    window: Window,
) -> tuple[np.ndarray, np.ndarray]:
    """A disposal or sentence, more severe for serious offences, and its end (``NaT`` while
    it runs past the window)."""
    n = len(start)
    keys = list(options)
    lesser = pick(rng, {k: v[0] for k, v in options.items()}, n)
    graver = pick(rng, {k: v[1] for k, v in options.items()}, n)
    chosen = np.where(serious, graver, lesser).astype(object)
    lo = np.array([options[k][2] for k in keys])[[keys.index(k) for k in chosen]]
    hi = np.array([options[k][3] for k in keys])[[keys.index(k) for k in chosen]]
    days = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    end = start + days.astype("timedelta64[D]")
    end = np.where(end < window.end_day, end, np.datetime64("NaT"))
    return chosen, end


def youth_justice_feed(
    rng: np.random.Generator,
    cases: Cases,
    persons: Persons,
    place: Place,
    view: View,
    child_id: np.ndarray,
    window: Window,
) -> FeedRows:
    """The youth-justice feed."""
    p, n = cases.person, len(cases.person)
    yn = np.array(["N", "Y"], dtype=object)
    serious = np.isin(cases.code, _SERIOUS) | cases.weapon | cases.county_lines
    disposal, end = _outcome(rng, _DISPOSALS, serious, cases.start, window)
    exploited = cases.county_lines | (persons.cohort[p] & (rng.random(n) < 0.3))
    cols = {
        "case_id": random_ids(rng, n, "YC", 7),
        "child_id": child_id[p],
        **identity_columns(view, persons, place, p, "%d/%m/%Y"),
        "pnc_id": np.where(rng.random(n) < 0.9, persons.pnc[p], ""),
        "ho_code": cases.code,
        "offence": offence(cases.code),
        "disposal": disposal,
        "start_date": format_times(cases.start, "%d/%m/%Y", "date"),
        "end_date": format_times(end, "%d/%m/%Y", "date"),
        "exploitation_risk": yn[exploited.astype(np.int64)],
        "county_lines": yn[cases.county_lines.astype(np.int64)],
        "weapon": yn[cases.weapon.astype(np.int64)],
    }
    return FeedRows("youth-justice", cols, window.month_of(cases.start), cases.start, p)


def probation_feed(
    rng: np.random.Generator,
    cases: Cases,
    persons: Persons,
    place: Place,
    view: View,
    crn: np.ndarray,
    window: Window,
) -> FeedRows:
    """The probation feed."""
    p, n = cases.person, len(cases.person)
    serious = np.isin(cases.code, _SERIOUS) | cases.weapon
    sentence, end = _outcome(rng, _SENTENCES, serious, cases.start, window)
    cols = {
        "case_ref": random_ids(rng, n, "PR", 8),
        "crn": crn[p],
        **identity_columns(view, persons, place, p, None),
        "pnc_id": np.where(rng.random(n) < 0.98, persons.pnc[p], ""),
        "ho_code": cases.code,
        "offence": offence(cases.code),
        "sentence": sentence,
        "start_date": format_times(cases.start, None, "date"),
        "end_date": format_times(end, None, "date"),
    }
    return FeedRows("probation", cols, window.month_of(cases.start), cases.start, p)
