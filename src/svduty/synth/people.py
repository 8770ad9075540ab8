"""The synthetic people: who they are, where they live, and how agencies pick them out.

People come in two pools by their age on 1 January 2024: the young (0 to 24, including the
cross-agency cohort of 10 to 24 year olds and the county lines network) and adults (25 and
over). Each person carries two weights, for becoming a victim and for becoming a suspect, drawn
from heavy-tailed gamma distributions, so repeat victims and prolific suspects arise as they do in
real recorded crime; a person with both weights high is sometimes victim, sometimes suspect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from svduty.synth.names import FEMALE_FORENAMES, MALE_FORENAMES, SURNAMES
from svduty.synth.place import Place
from svduty.synth.timing import Window, month_day

MALE, FEMALE = 0, 1
SEX_TEXT = np.array(["Male", "Female"], dtype=object)
YOUTH, ADULT = 0, 1
COUNTY_LINES_SIZE = 30
MAX_PROPENSITY = 5.0  # times the mean
_PNC_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"  # the check character of a PNC or CRO number


@dataclass
class Persons:
    """Every synthetic person, one entry per array; the index is the person.

    Attributes:
        person_id: the true identity (``P0000001``...), never written to a feed.
        sex: :data:`MALE` or :data:`FEMALE`.
        dob: date of birth, ``datetime64[D]``.
        home: LSOA index of the home; ``postcode`` one of its postcodes.
        nhs: a valid NHS number.
        pool: :data:`YOUTH` or :data:`ADULT` (age on the window's first day).
        cohort: in the cross-agency cohort; ``county_lines``: in the county lines network.
        victim_w, suspect_w: relative chance of being picked as victim or suspect.
        pnc: PNC ID, empty until the person has had contact with the police as a suspect.
    """

    person_id: np.ndarray
    sex: np.ndarray
    forename: np.ndarray
    surname: np.ndarray
    dob: np.ndarray
    home: np.ndarray
    postcode: np.ndarray
    nhs: np.ndarray
    pool: np.ndarray
    cohort: np.ndarray
    county_lines: np.ndarray
    victim_w: np.ndarray
    suspect_w: np.ndarray
    pnc: np.ndarray

    def __len__(self) -> int:
        return len(self.person_id)


def age_at(dob: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Whole years of age on each date.

    Examples:
        >>> d = np.array(["2008-06-15", "2008-06-15"], dtype="datetime64[D]")
        >>> age_at(d, np.array(["2024-06-14", "2024-06-15"], dtype="datetime64[D]")).tolist()
        [15, 16]
    """
    d = dob.astype("datetime64[D]")
    w = when.astype("datetime64[D]")
    years = w.astype("datetime64[Y]").astype(np.int64) - d.astype("datetime64[Y]").astype(np.int64)
    md, dd = month_day(d)
    mw, dw = month_day(w)
    return years - ((mw * 100 + dw) < (md * 100 + dd)).astype(np.int64)


def nhs_check_digit(body: np.ndarray) -> np.ndarray:
    """The modulus 11 check digit of nine-digit NHS number bodies; 10 means no valid number.

    Examples:
        >>> nhs_check_digit(np.array([943476591])).tolist()
        [9]
    """
    total = np.zeros(len(body), dtype=np.int64)
    rest = body.astype(np.int64)
    for weight in range(2, 11):  # the last digit has weight 2, the first weight 10
        total += (rest % 10) * weight
        rest //= 10
    check = 11 - total % 11
    return np.where(check == 11, 0, check)


def nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct valid NHS numbers (bodies from 400000000, the range issued in England)."""
    body = rng.choice(400_000_000, int(n * 1.2) + 20, replace=False) + 400_000_000
    check = nhs_check_digit(body)
    body, check = body[check != 10][:n], check[check != 10][:n]
    return np.array([f"{b}{c}" for b, c in zip(body.tolist(), check.tolist(), strict=True)])


def pnc_id(year: int, serial: int) -> str:
    """A PNC ID: two-digit year, serial number and its check letter (modulus 23).

    Examples:
        >>> pnc_id(2024, 123456)
        '24/123456F'
    """
    yy = year % 100
    return f"{yy:02d}/{serial}{_PNC_LETTERS[(yy * 10_000_000 + serial) % 23]}"


def random_ids(rng: np.random.Generator, n: int, prefix: str, digits: int) -> np.ndarray:
    """``n`` distinct identifiers: ``prefix`` and a random zero-padded number."""
    top = 10**digits
    numbers = rng.choice(top - top // 10, n, replace=False) + top // 10
    return np.array([f"{prefix}{v}" for v in numbers.tolist()], dtype=object)


def _age_factor(age: np.ndarray, table: tuple[float, ...]) -> np.ndarray:
    """Look up an adult's factor by age band: 25-34, 35-49, 50-64, 65+."""
    return np.asarray(table)[np.searchsorted(np.array([35, 50, 65]), age, side="right")]


_VICTIM_BY_AGE = (1.2, 0.9, 0.5, 0.2)
_SUSPECT_BY_AGE = (1.3, 0.8, 0.3, 0.05)


def build_persons(
    rng: np.random.Generator, place: Place, window: Window, scale: float
) -> tuple[Persons, dict[str, int]]:
    """Draw the people.

    Args:
        rng: the random generator.
        place: the county (homes are drawn from its LSOAs).
        window: the months (ages are reckoned on its first day).
        scale: multiplies every pool's size.

    Returns:
        The persons and the size of each pool.
    """
    sizes = {
        "youth": max(400, round(16_000 * scale)),
        "cohort": max(150, round(2_000 * scale)),
        "adult": max(600, round(30_000 * scale)),
    }
    n_y, n_c, n_a = sizes["youth"], sizes["cohort"], sizes["adult"]
    n = n_y + n_c + n_a
    pool = np.repeat([YOUTH, YOUTH, ADULT], [n_y, n_c, n_a])
    cohort = np.repeat([False, True, False], [n_y, n_c, n_a])
    age = np.concatenate(
        [
            rng.integers(0, 25, n_y),
            rng.integers(10, 25, n_c),
            # adults: fewer at older ages, as among people in contact with services
            25 + np.minimum(rng.exponential(18.0, n_a).astype(np.int64), 64),
        ]
    )
    sex = np.where(rng.random(n) < np.where(cohort, 0.8, 0.5), MALE, FEMALE)
    days = (age * 365.2425 + rng.random(n) * 365).astype(np.int64) + 1
    dob = window.first_day - days.astype("timedelta64[D]")

    # Homes: people who meet these services live more often in deprived places.
    young = place.residents[:, :2].sum(axis=1)
    older = place.residents[:, 2:].sum(axis=1)
    home = np.empty(n, dtype=np.int64)
    groups = (
        ((pool == YOUTH) & ~cohort, young, 1.4),
        (cohort, young, 2.2),
        (pool == ADULT, older, 1.4),
    )
    for mask, base, lean in groups:
        w = base * lean**place.deprivation
        home[mask] = rng.choice(place.n, int(mask.sum()), p=w / w.sum())

    forename = np.where(
        sex == MALE,
        np.array(MALE_FORENAMES, dtype=object)[rng.integers(0, len(MALE_FORENAMES), n)],
        np.array(FEMALE_FORENAMES, dtype=object)[rng.integers(0, len(FEMALE_FORENAMES), n)],
    )
    surname = np.array(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
    postcode = place.postcodes[home, rng.integers(0, place.postcodes.shape[1], n)]

    # Heavy-tailed propensities, capped so that no one person dominates the recorded crime.
    victim_w = np.minimum(rng.gamma(0.9, 1 / 0.9, n), MAX_PROPENSITY)
    suspect_w = np.minimum(rng.gamma(0.5, 1 / 0.5, n), MAX_PROPENSITY)
    # Adults' propensities fall with age. The young are picked by their age at each event (a
    # child now is a suspect in later years), so their weights do not depend on age.
    adult = pool == ADULT
    victim_w[adult] *= _age_factor(age[adult], _VICTIM_BY_AGE)
    suspect_w[adult] *= _age_factor(age[adult], _SUSPECT_BY_AGE)
    suspect_w *= np.where(sex == MALE, 2.5, 0.6)
    victim_w[cohort] *= 2.0
    suspect_w[cohort] *= 3.0

    county_lines = np.zeros(n, dtype=bool)
    members = _county_lines_members(rng, age, sex, cohort)
    county_lines[members] = True
    lines = place.county_lines
    home[members] = lines[rng.choice(len(lines), len(members), p=[0.45, 0.35, 0.2])]
    postcode[members] = place.postcodes[home[members], rng.integers(0, 12, len(members))]

    persons = Persons(
        person_id=np.array([f"P{i + 1:07d}" for i in range(n)], dtype=object),
        sex=sex,
        forename=forename,
        surname=surname,
        dob=dob,
        home=home,
        postcode=postcode,
        nhs=nhs_numbers(rng, n).astype(object),
        pool=pool,
        cohort=cohort,
        county_lines=county_lines,
        victim_w=victim_w,
        suspect_w=suspect_w,
        pnc=np.full(n, "", dtype=object),
    )
    return persons, sizes


def _county_lines_members(
    rng: np.random.Generator, age: np.ndarray, sex: np.ndarray, cohort: np.ndarray
) -> np.ndarray:
    """Thirty members of the cohort: twelve aged 14-17 (children, exploited as runners) and
    eighteen aged 18-22, nearly all male."""
    chosen = []
    for lo, hi, k in ((14, 17, 12), (18, 22, COUNTY_LINES_SIZE - 12)):
        eligible = np.flatnonzero(cohort & (age >= lo) & (age <= hi))
        w = np.where(sex[eligible] == MALE, 9.0, 1.0)
        chosen.append(rng.choice(eligible, k, replace=False, p=w / w.sum()))
    return np.sort(np.concatenate(chosen))


def assign_pnc(rng: np.random.Generator, persons: Persons, holders: np.ndarray) -> None:
    """Give a PNC ID to everyone in ``holders`` (people the police have dealt with as
    suspects); the year is that of their first arrest, some before the window."""
    holders = np.unique(holders)
    years = rng.integers(2012, 2025, len(holders))
    serials = rng.choice(900_000, len(holders), replace=False) + 100_000
    persons.pnc[holders] = [
        pnc_id(int(y), int(s)) for y, s in zip(years.tolist(), serials.tolist(), strict=True)
    ]


@dataclass(frozen=True)
class Pool:
    """People eligible for one role, sorted by home LSOA with their cumulative weights, so
    that a weighted draw restricted to any run of LSOAs (one LSOA, an authority, the county)
    is one binary search."""

    members: np.ndarray
    cum: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def of(cls, persons: Persons, mask: np.ndarray, weights: np.ndarray, n_lsoa: int) -> Pool:
        """The pool of ``persons[mask]`` with positive weight."""
        idx = np.flatnonzero(mask & (weights > 0))
        order = idx[np.argsort(persons.home[idx], kind="stable")]
        homes = persons.home[order]
        areas = np.arange(n_lsoa)
        return cls(
            members=order,
            cum=np.cumsum(weights[order]),
            lo=np.searchsorted(homes, areas, side="left"),
            hi=np.searchsorted(homes, areas, side="right"),
        )

    def draw(self, rng: np.random.Generator, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """One person per request, weighted, living in LSOAs ``first`` to ``last - 1`` (the
        whole county where that run has nobody)."""
        lo, hi = self.lo[first], self.hi[last - 1]
        empty = hi <= lo
        lo = np.where(empty, 0, lo)
        hi = np.where(empty, len(self.members), hi)
        base = np.where(lo > 0, self.cum[np.maximum(lo - 1, 0)], 0.0)
        u = base + rng.random(len(lo)) * (self.cum[hi - 1] - base)
        pos = np.clip(np.searchsorted(self.cum, u, side="right"), lo, hi - 1)
        return self.members[pos]


def choose(
    rng: np.random.Generator,
    pool: Pool,
    persons: Persons,
    when: np.ndarray,
    age_lo: np.ndarray,
    age_hi: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    sex: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """Pick one person per request, meeting its age range (at ``when``), sex (-1 for any) and
    differing from ``exclude``; redrawn until every request is met. Requests that the area
    cannot meet after a few tries are widened to the whole county.

    Raises:
        RuntimeError: the pool has nobody who fits (a bug in the caller's ranges).
    """
    n = len(when)
    out = np.full(n, -1, dtype=np.int64)
    first, last = first.copy(), last.copy()
    n_lsoa = len(pool.lo)
    todo = np.arange(n)
    for attempt in range(500):
        if not len(todo):
            return out
        if attempt == 8:
            first[todo], last[todo] = 0, n_lsoa
        cand = pool.draw(rng, first[todo], last[todo])
        age = age_at(persons.dob[cand], when[todo])
        ok = (age >= age_lo[todo]) & (age <= age_hi[todo])
        if sex is not None:
            ok &= (sex[todo] < 0) | (persons.sex[cand] == sex[todo])
        if exclude is not None:
            ok &= cand != exclude[todo]
        out[todo[ok]] = cand[ok]
        todo = todo[~ok]
    raise RuntimeError(f"no person fits {len(todo)} request(s)")


def person_ids(
    rng: np.random.Generator, n_persons: int, people: np.ndarray, prefix: str, digits: int
) -> np.ndarray:
    """An agency's own reference for each person it has a record of ('' for the others)."""
    out = np.full(n_persons, "", dtype=object)
    seen = np.unique(people)
    out[seen] = random_ids(rng, len(seen), prefix, digits)
    return out
