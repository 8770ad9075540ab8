"""Who was involved in each crime, and the police-crime feed that records them.

Each crime gets its victims and suspects from the synthetic people, by rules per offence and
violence stream: violence in the under-18 stream always involves a child, in the young adult
stream someone aged 18 to 24, and in the adult stream nobody under 25, so that the planted
intervention on under-25 violence is visible in the file. Victims and suspects are mostly local
(the same authority; for domestic abuse the same LSOA). The feed has one row per person per
crime, sharing the Crime Reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from svduty.synth.crime import ADULT, CHILD, GROUPS, YOUNG_ADULT, Crimes, offence
from svduty.synth.people import ADULT as ADULT_POOL
from svduty.synth.people import FEMALE, MALE, YOUTH, Persons, Pool, age_at, choose
from svduty.synth.place import Place
from svduty.synth.recording import View, identity_columns
from svduty.synth.timing import START, format_times
from svduty.synth.writer import FeedRows

VICTIM, SUSPECT = 0, 1
ROLE_TEXT = np.array(["Victim", "Suspect"], dtype=object)
_MIN_VICTIM_AGE = {"019/07": 16, "017/01": 13}  # as the offence descriptions say
_SEXUAL = ("019/07", "017/01")


@dataclass
class Involvement:
    """One entry per person per crime: ``crime`` index, ``person`` index and ``role``."""

    crime: np.ndarray
    person: np.ndarray
    role: np.ndarray


class _Slots:
    """Requests for people, built up rule by rule, then filled pool by pool."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        crime: np.ndarray,
        role: int,
        lo: np.ndarray | int,
        hi: np.ndarray | int,
        sex: np.ndarray | int = -1,
        order: int = 0,
    ) -> None:
        n = len(crime)
        self.parts.append(
            {
                "crime": crime,
                "role": np.full(n, role),
                "lo": np.broadcast_to(lo, n).astype(np.int64),
                "hi": np.broadcast_to(hi, n).astype(np.int64),
                "sex": np.broadcast_to(sex, n).astype(np.int64),
                "order": np.full(n, order),
            }
        )

    def table(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}


def _young(rng: np.random.Generator, share: float, n: int) -> np.ndarray:
    return rng.random(n) < share


def _plan(rng: np.random.Generator, crimes: Crimes) -> dict[str, np.ndarray]:
    """Who each crime needs: role, age range and sex of each victim and suspect."""
    slots = _Slots()
    code, stream, group = crimes.code, crimes.stream, crimes.group
    g = {name: group == i for i, name in enumerate(GROUPS)}
    min_age = np.array([_MIN_VICTIM_AGE.get(c, 0) for c in code])
    sexual = np.isin(code, _SEXUAL)
    victim_sex = np.where(sexual, FEMALE, -1)
    suspect_sex = np.where(sexual, MALE, -1)
    da_female = crimes.da & (rng.random(len(code)) < 0.75)
    victim_sex = np.where(da_female, FEMALE, victim_sex)
    suspect_sex = np.where(da_female, MALE, suspect_sex)

    def victims(sel: np.ndarray, lo: int, hi: int, forced_young_suspect: tuple[int, int] | None):
        """Victims of ``sel`` in [lo, hi]; a second victim sometimes."""
        idx = np.flatnonzero(sel)
        slots.add(idx, VICTIM, np.maximum(lo, min_age[idx]), hi, victim_sex[idx])
        two = idx[rng.random(len(idx)) < 0.05]
        slots.add(two, VICTIM, np.maximum(lo, min_age[two]), hi, victim_sex[two], order=1)
        if forced_young_suspect:
            slots.add(idx, SUSPECT, *forced_young_suspect, suspect_sex[idx])

    def suspects(sel: np.ndarray, p: float | np.ndarray, ranges: list[tuple[float, int, int]]):
        """Identified suspects of ``sel`` (probability ``p``), ages from weighted ranges; a
        second suspect for some."""
        idx = np.flatnonzero(sel & (rng.random(len(code)) < p))
        for order, sub in enumerate((idx, idx[rng.random(len(idx)) < 0.2])):
            pick = rng.choice(len(ranges), len(sub), p=[r[0] for r in ranges])
            lo = np.array([r[1] for r in ranges])[pick]
            hi = np.array([r[2] for r in ranges])[pick]
            slots.add(sub, SUSPECT, lo, hi, suspect_sex[sub], order=order)

    v = g["violence"]
    n = len(code)
    # under-18 stream: a child victim, or an adult victim of a child suspect
    child = v & (stream == CHILD)
    child_victim = child & _young(rng, 0.8, n)
    victims(child_victim, 10, 17, None)
    suspects(child_victim, 0.65, [(0.75, 10, 17), (0.25, 18, 24)])
    victims(child & ~child_victim, 25, 60, (10, 17))
    # young adult stream
    ya = v & (stream == YOUNG_ADULT)
    ya_victim = ya & _young(rng, 0.75, n)
    victims(ya_victim, 18, 24, None)
    suspects(ya_victim, 0.6, [(0.7, 16, 24), (0.3, 25, 45)])
    victims(ya & ~ya_victim, 25, 70, (18, 24))
    # adults only
    ad = v & (stream == ADULT)
    victims(ad, 25, 90, None)
    suspects(ad, np.where(crimes.da, 0.95, 0.5), [(1.0, 25, 75)])
    # other offences
    hom = g["homicide"]
    hy = hom & _young(rng, 0.3, n)
    victims(hy, 16, 24, None)
    victims(hom & ~hy, 25, 85, None)
    suspects(hom, 1.0, [(0.35, 16, 24), (0.65, 25, 70)])
    rob = g["robbery"]
    personal = rob & (code == "034/01")
    ry = personal & _young(rng, 0.6, n)
    victims(ry, 12, 24, None)
    victims(personal & ~ry, 25, 80, None)
    victims(rob & ~personal, 25, 65, None)  # a shop or bank worker
    suspects(rob, 0.35, [(0.8, 14, 24), (0.2, 25, 45)])
    suspects(g["weapons"], 1.0, [(0.65, 13, 24), (0.35, 25, 60)])
    suspects(g["drug_trafficking"] & ~crimes.county_lines, 1.0, [(0.3, 16, 24), (0.7, 25, 55)])
    ars = g["arson"]
    victims(ars, 25, 85, None)
    suspects(ars, 0.3, [(0.5, 12, 24), (0.5, 25, 60)])
    return slots.table()


def involve(
    rng: np.random.Generator, crimes: Crimes, persons: Persons, place: Place
) -> Involvement:
    """Pick the victims and suspects of every crime.

    Args:
        rng: the random generator.
        crimes: the crimes.
        persons: the people to pick from.
        place: the county (to keep people local).
    """
    slots = _plan(rng, crimes)
    crime, role = slots["crime"], slots["role"]
    n = len(crime)
    young = slots["hi"] <= 24
    lsoa = crimes.lsoa[crime]
    first_la, last_la = place.la_bounds()
    la = place.la[lsoa]
    local = rng.random(n) < 0.75
    first = np.where(local, first_la[la], 0)
    last = np.where(local, last_la[la], place.n)
    da = crimes.da[crime]
    first = np.where(da, lsoa, first)
    last = np.where(da, lsoa + 1, last)
    when = crimes.time[crime]
    pools = {
        (VICTIM, True): Pool.of(persons, persons.pool == YOUTH, persons.victim_w, place.n),
        (VICTIM, False): Pool.of(persons, persons.pool == ADULT_POOL, persons.victim_w, place.n),
        (SUSPECT, True): Pool.of(persons, persons.pool == YOUTH, persons.suspect_w, place.n),
        (SUSPECT, False): Pool.of(persons, persons.pool == ADULT_POOL, persons.suspect_w, place.n),
    }
    person = np.full(n, -1, dtype=np.int64)
    # Victims first, so that a suspect is never the victim of the same crime.
    first_victim = np.full(len(crimes), -1, dtype=np.int64)
    for r in (VICTIM, SUSPECT):
        for is_young in (True, False):
            sel = np.flatnonzero((role == r) & (young == is_young))
            person[sel] = choose(
                rng,
                pools[(r, is_young)],
                persons,
                when[sel],
                slots["lo"][sel],
                slots["hi"][sel],
                first[sel],
                last[sel],
                sex=slots["sex"][sel],
                exclude=first_victim[crime[sel]] if r == SUSPECT else None,
            )
        if r == VICTIM:
            v = np.flatnonzero((role == VICTIM) & (slots["order"] == 0))
            first_victim[crime[v]] = person[v]
    # The county lines network's offences: one to three members each, its adults (who run the
    # line) twice as often as the children (who run the drugs).
    cl = np.flatnonzero(crimes.county_lines)
    members = np.flatnonzero(persons.county_lines)
    adult = age_at(persons.dob[members], np.full(len(members), START)) >= 18
    weight = np.where(adult, 2.0, 1.0) * (0.5 + rng.random(len(members)))
    k = rng.choice([1, 2, 3], len(cl), p=[0.5, 0.35, 0.15])
    cl_crime = np.repeat(cl, k)
    cl_person = members[rng.choice(len(members), len(cl_crime), p=weight / weight.sum())]
    crime = np.concatenate([crime, cl_crime])
    person = np.concatenate([person, cl_person])
    role = np.concatenate([role, np.full(len(cl_crime), SUSPECT)])
    # A person is named once per crime, in their first role.
    order = np.lexsort((person, role, crime))
    crime, person, role = crime[order], person[order], role[order]
    _, keep = np.unique(crime * len(persons) + person, return_index=True)
    keep = np.sort(keep)
    return Involvement(crime[keep], person[keep], role[keep])


def first_knife_offence(crimes: Crimes, inv: Involvement, n_persons: int) -> np.ndarray:
    """Each person's first knife crime as a suspect (``NaT`` for none): a knife-flagged crime
    or possession of a bladed article."""
    knife = crimes.knife | (crimes.code == "010/01")
    sel = (inv.role == SUSPECT) & knife[inv.crime]
    first = np.full(n_persons, np.datetime64("NaT"), dtype="datetime64[m]")
    times = crimes.time[inv.crime[sel]]
    people = inv.person[sel]
    order = np.lexsort((times, people))
    people, times = people[order], times[order]
    start = np.flatnonzero(np.r_[True, people[1:] != people[:-1]]) if len(people) else []
    first[people[start]] = times[start]
    return first


def police_feed(
    crimes: Crimes,
    inv: Involvement,
    persons: Persons,
    place: Place,
    view: View,
    urn: np.ndarray,
) -> FeedRows:
    """The police-crime feed: one row per person per crime.

    Args:
        crimes: the crimes.
        inv: who was involved.
        persons: the people (PNC IDs).
        place: the county.
        view: the police's record of each person.
        urn: the police's Person URN of each person.
    """
    c, p = inv.crime, inv.person
    yn = np.array(["N", "Y"], dtype=object)
    suspect = inv.role == SUSPECT
    cols = {
        "crime_ref": crimes.ref[c],
        "ho_code": crimes.code[c],
        "offence": offence(crimes.code[c]),
        "committed": format_times(crimes.time[c], "%d/%m/%Y %H:%M"),
        "longitude": [f"{x:.6f}" for x in crimes.lon[c].tolist()],
        "latitude": [f"{x:.6f}" for x in crimes.lat[c].tolist()],
        "lsoa_code": place.code[crimes.lsoa[c]],
        "knife": yn[crimes.knife[c].astype(np.int64)],
        "firearm": yn[crimes.firearm[c].astype(np.int64)],
        "domestic_abuse": yn[crimes.da[c].astype(np.int64)],
        "alcohol": yn[crimes.alcohol[c].astype(np.int64)],
        "drugs": yn[crimes.drugs[c].astype(np.int64)],
        "county_lines": yn[crimes.county_lines[c].astype(np.int64)],
        "exploitation": yn[crimes.county_lines[c].astype(np.int64)],
        "role": ROLE_TEXT[inv.role],
        "person_urn": urn[p],
        **identity_columns(view, persons, place, p, "%d/%m/%Y"),
        "pnc_id": np.where(suspect, persons.pnc[p], ""),
    }
    return FeedRows("police-crime", cols, crimes.month[c], crimes.time[c], p)
