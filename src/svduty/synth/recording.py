"""How each agency has recorded each person: its own copy of the identifiers, with the errors
that make linking records between agencies hard.

Every agency keeps one version of a person, used on all its records of them, made independently
of other agencies' versions: a mistyped surname, a short form of the forename, day and month of
birth swapped, an old or new address, a missing NHS number. What was changed is kept so that
the truth files can say how often each error was planted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from svduty.synth.names import NICKNAMES
from svduty.synth.people import SEX_TEXT, Persons
from svduty.synth.place import Place
from svduty.synth.timing import format_times, month_day

# Per agency, per person. The NHS number goes missing only where the agency records it at all;
# the rates for the emergency department (ISTV) and social care are set per feed.
ERROR_RATES = {
    "surname_typo": 0.05,
    "nickname": 0.05,
    "dob_day_month_swap": 0.02,
    "moved_address": 0.10,
}
MISSING_NHS = {"istv": 0.20, "social-care": 0.10}
_VOWELS = "aeiou"
_KEYS = "qwertyuiopasdfghjklzxcvbnm"


@dataclass(frozen=True)
class View:
    """One agency's record of every person, and which values it got wrong."""

    forename: np.ndarray
    surname: np.ndarray
    dob: np.ndarray
    postcode: np.ndarray
    home: np.ndarray
    nhs: np.ndarray
    errors: dict[str, np.ndarray]


def typo(name: str, op: int, pos: int, pick: int) -> str:
    """One keying error in a name: swap two letters, drop one, double one or mistype one.

    Args:
        name: the name as registered.
        op: which error (0 swap, 1 drop, 2 double, 3 substitute).
        pos: which letter (taken modulo the number of letters).
        pick: which replacement letter, for a substitution.

    Examples:
        >>> typo("Smith", 0, 1, 0), typo("Smith", 1, 3, 0), typo("Smith", 2, 2, 0)
        ('Simth', 'Smih', 'Smiith')
    """
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    i = letters[pos % len(letters)]
    swappable = i > 0 and i + 1 < len(name) and name[i + 1].isalpha()
    if op == 0 and swappable and name[i].lower() != name[i + 1].lower():
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if op == 1 and len(letters) > 3 and i > 0:
        return name[:i] + name[i + 1 :]
    if op == 2 and i > 0:
        return name[: i + 1] + name[i] + name[i + 1 :]
    # a substitution: a vowel for a vowel, a consonant for another key; same case as before
    pool = _VOWELS if name[i].lower() in _VOWELS else _KEYS
    options = [c for c in pool if c != name[i].lower()]
    new = options[pick % len(options)]
    return name[:i] + (new.upper() if name[i].isupper() else new) + name[i + 1 :]


def _swap_day_month(dob: np.ndarray) -> np.ndarray:
    """The same dates with day and month exchanged (callers pass only days up to 12)."""
    years = dob.astype("datetime64[Y]").astype(np.int64) + 1970
    month, day = month_day(dob)
    text = [f"{y:04d}-{d:02d}-{m:02d}" for y, m, d in zip(years, month, day, strict=True)]
    return np.array(text, dtype="datetime64[D]")


def agency_view(
    rng: np.random.Generator,
    persons: Persons,
    place: Place,
    present: np.ndarray,
    missing_nhs: float = 0.0,
) -> View:
    """Draw one agency's version of every person it has records of.

    Args:
        rng: the random generator.
        persons: the true people.
        place: the county (for a moved address).
        present: the people the agency has records of (others keep their true values; the
            draws are made for everyone, so they do not depend on who is present).
        missing_nhs: share of people whose NHS number the agency does not have.
    """
    n = len(persons)
    here = np.zeros(n, dtype=bool)
    here[present] = True
    draw = rng.random((5, n))

    surname = persons.surname.copy()
    typo_hit = (draw[0] < ERROR_RATES["surname_typo"]) & here
    ops = rng.integers(0, 4, (3, n))
    hit = np.flatnonzero(typo_hit)
    surname[hit] = [
        typo(surname[i], int(o), int(p) + 1, int(k))
        for i, o, p, k in zip(hit, ops[0, hit], ops[1, hit], ops[2, hit], strict=True)
    ]

    # Short forms exist for about half the names; the rate among those is raised so that the
    # planted share of all people is as stated.
    forename = persons.forename.copy()
    has = np.array([f in NICKNAMES for f in forename])
    share = max(has.mean(), 1e-9)
    nick_hit = has & (draw[1] < min(1.0, ERROR_RATES["nickname"] / share)) & here
    nick = np.flatnonzero(nick_hit)
    which = rng.integers(0, 2, n)
    forename[nick] = [
        NICKNAMES[forename[i]][k % len(NICKNAMES[forename[i]])]
        for i, k in zip(nick, which[nick], strict=True)
    ]

    dob = persons.dob.copy()
    month, day = month_day(dob)
    swap = (draw[2] < ERROR_RATES["dob_day_month_swap"]) & (day <= 12) & (day != month) & here
    dob[swap] = _swap_day_month(dob[swap])

    home = persons.home.copy()
    postcode = persons.postcode.copy()
    moved_hit = (draw[3] < ERROR_RATES["moved_address"]) & here
    moved = np.flatnonzero(moved_hit)
    first, last = place.la_bounds()
    la = place.la[home[moved]]
    local = rng.random(len(moved)) < 0.7  # most moves are within the same district
    lo = np.where(local, first[la], 0)
    hi = np.where(local, last[la], place.n)
    new = lo + (rng.random(len(moved)) * (hi - lo)).astype(np.int64)
    new = np.where(new == home[moved], lo + (new - lo + 1) % (hi - lo), new)
    home[moved] = new
    postcode[moved] = place.postcodes[new, rng.integers(0, place.postcodes.shape[1], len(moved))]

    nhs = persons.nhs.copy()
    no_nhs = (draw[4] < missing_nhs) & here
    nhs[no_nhs] = ""
    errors = {
        "surname_typo": typo_hit,
        "nickname": nick_hit,
        "dob_day_month_swap": swap,
        "moved_address": moved_hit,
        "missing_nhs_number": no_nhs,
    }
    return View(forename, surname, dob, postcode, home, nhs, errors)


def identity_columns(
    view: View, persons: Persons, place: Place, p: np.ndarray, dob_format: str | None
) -> dict[str, object]:
    """The identity columns of a person-level feed for the people ``p``, as this agency recorded
    them (its typos, nicknames and old addresses), the date of birth in the agency's format."""
    return {
        "forename": view.forename[p],
        "surname": view.surname[p],
        "date_of_birth": format_times(view.dob[p], dob_format, "date"),
        "sex": SEX_TEXT[persons.sex[p]],
        "postcode": view.postcode[p],
        "home_lsoa": place.code[view.home[p]],
    }
