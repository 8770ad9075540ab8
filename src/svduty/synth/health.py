"""Health and ambulance: emergency department assault attendances (ISTV) and ambulance call-outs.

Some victims of police-recorded violence go to an emergency department or are attended by an
ambulance, with a chance that rises with the injury the offence implies. Many assault patients
never report to the police: those attendances are drawn from the same people, at the same times
of day, with no crime behind them, so that the planted share of attendances unknown to the
police (``ED_UNKNOWN_TO_POLICE_SHARE``) holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from svduty.datasets.person import AGE_BANDS
from svduty.synth.categorical import pick
from svduty.synth.crime import Crimes
from svduty.synth.names import LOCATION_TEXT, METHOD_OTHER_TEXT
from svduty.synth.people import ADULT, SEX_TEXT, YOUTH, Persons, Pool, age_at, choose, random_ids
from svduty.synth.place import TOWNS, Place
from svduty.synth.police import VICTIM, Involvement
from svduty.synth.recording import View, identity_columns
from svduty.synth.timing import Window, format_times, sample_times, school_day, seasonality
from svduty.synth.writer import FeedRows

ED_UNKNOWN_TO_POLICE_SHARE = 0.6
AMBULANCE_UNKNOWN_TO_POLICE_SHARE = 0.4
# Chance that a victim attends an emergency department, by offence (a knife or gun raises it
# to 0.4).
ED_CHANCE = {"005/01": 0.5, "008/06": 0.4, "008/01": 0.06, "034/01": 0.04, "019/07": 0.08}
# Chance that an ambulance is called to the crime.
AMBULANCE_CHANCE = {"001/00": 1.0, "005/01": 0.5, "008/06": 0.4, "008/01": 0.08, "034/01": 0.03}
ED_SITES = (("RSY01", 0), ("RSY02", 1), ("RSY03", 3))  # site code, town it serves from
_BAND_EDGES = np.array([10, 15, 18, 25, 35, 50, 65])


def age_bands(age: np.ndarray) -> np.ndarray:
    """The feeds' age band of each age.

    Examples:
        >>> age_bands(np.array([9, 14, 17, 24, 70])).tolist()
        ['0-9', '10-14', '15-17', '18-24', '65+']
    """
    return np.array(AGE_BANDS, dtype=object)[np.searchsorted(_BAND_EDGES, age, side="right")]


@dataclass
class Attendances:
    """ED attendances before rendering: patient, assault time, crime (-1 if none) and kind."""

    person: np.ndarray
    assault: np.ndarray
    crime: np.ndarray
    lsoa: np.ndarray
    knife: np.ndarray
    firearm: np.ndarray
    da: np.ndarray


def ed_attendances(
    rng: np.random.Generator,
    crimes: Crimes,
    inv: Involvement,
    persons: Persons,
    place: Place,
    window: Window,
) -> Attendances:
    """Attendances of police-recorded victims, and the larger number the police never hear of."""
    victims = np.flatnonzero(inv.role == VICTIM)
    c = inv.crime[victims]
    chance = np.array([ED_CHANCE.get(code, 0.0) for code in crimes.code[c]])
    chance = np.where(crimes.knife[c] | crimes.firearm[c], np.maximum(chance, 0.4), chance)
    went = victims[rng.random(len(victims)) < chance]
    known = Attendances(
        person=inv.person[went],
        assault=crimes.time[inv.crime[went]],
        crime=inv.crime[went],
        lsoa=crimes.lsoa[inv.crime[went]],
        knife=crimes.knife[inv.crime[went]],
        firearm=crimes.firearm[inv.crime[went]],
        da=crimes.da[inv.crime[went]],
    )
    share = ED_UNKNOWN_TO_POLICE_SHARE
    n = int(rng.poisson(len(went) * share / (1 - share)))
    amp, peak = 0.12, 7  # the same season as violence
    w = seasonality(np.arange(window.n_months), amp, peak)
    month = rng.choice(window.n_months, n, p=w / w.sum())
    young = rng.random(n) < 0.55
    assault = np.empty(n, dtype="datetime64[m]")
    assault[young] = sample_times(rng, window, month[young], "youth")
    assault[~young] = sample_times(rng, window, month[~young], "night")
    person = np.empty(n, dtype=np.int64)
    for is_young, lo, hi in ((True, 10, 24), (False, 25, 85)):
        sel = np.flatnonzero(young == is_young)
        pool = Pool.of(
            persons, persons.pool == (YOUTH if is_young else ADULT), persons.victim_w, place.n
        )
        person[sel] = choose(
            rng, pool, persons, assault[sel], np.full(len(sel), lo), np.full(len(sel), hi),
            np.zeros(len(sel), dtype=np.int64), np.full(len(sel), place.n),
        )  # fmt: skip
    at_home = rng.random(n) < 0.7
    elsewhere = rng.choice(place.n, n, p=place.population / place.population.sum())
    p_knife = np.where(young, 0.10, 0.03) * np.where(persons.cohort[person], 2.0, 1.0)
    knife = rng.random(n) < p_knife
    unknown = Attendances(
        person=person,
        assault=assault,
        crime=np.full(n, -1),
        lsoa=np.where(at_home, persons.home[person], elsewhere),
        knife=knife,
        firearm=np.zeros(n, dtype=bool),
        da=~young & ~knife & (rng.random(n) < 0.2),
    )
    return Attendances(
        *(np.concatenate([getattr(known, f), getattr(unknown, f)]) for f in known.__dict__)
    )


def _nearest_site(place: Place, lsoa: np.ndarray) -> np.ndarray:
    towns = [TOWNS[t] for _, t in ED_SITES]
    d = np.stack([(place.col[lsoa] - t.col) ** 2 + (place.row[lsoa] - t.row) ** 2 for t in towns])
    return np.array([s for s, _ in ED_SITES], dtype=object)[np.argmin(d, axis=0)]


def _location_types(
    rng: np.random.Generator, place: Place, lsoa: np.ndarray, when: np.ndarray, da: np.ndarray,
    age: np.ndarray,
) -> np.ndarray:  # fmt: skip
    n = len(lsoa)
    hour = (when - when.astype("datetime64[D]")).astype(np.int64) // 60
    late = ((hour >= 20) | (hour < 4)) & (place.urbanity[lsoa] > 0.35)
    usual = {"Street": 0.5, "Other public place": 0.2, "Home": 0.12, "Public transport": 0.05,
             "Workplace": 0.05, "Other": 0.05, "Unknown": 0.03}  # fmt: skip
    out = pick(rng, usual, n)
    night = pick(rng, {"Licensed premises": 0.45, "Street": 0.55}, n)
    out = np.where(late, night, out)
    school = school_day(when) & (age < 17) & (hour >= 8) & (hour < 16)
    out = np.where(school & (rng.random(n) < 0.5), "School", out)
    return np.where(da, "Home", out).astype(object)


def istv_feed(
    rng: np.random.Generator,
    att: Attendances,
    crimes: Crimes,
    persons: Persons,
    place: Place,
    view: View,
    window: Window,
) -> tuple[FeedRows, np.ndarray]:
    """The ISTV feed, and the Crime Reference behind each attendance ('' when none).

    Attendances whose arrival falls after the window are left out.
    """
    n = len(att.person)
    arrival = att.assault + rng.integers(20, 360, n).astype("timedelta64[m]")
    month = window.month_of(arrival)
    keep = np.flatnonzero(month < window.n_months)
    arrival, month = arrival[keep], month[keep]
    p = att.person[keep]
    lsoa, knife, firearm, da = att.lsoa[keep], att.knife[keep], att.firearm[keep], att.da[keep]
    n = len(keep)
    methods = {"Body part": 0.6, "Blunt object": 0.15, "Bite": 0.03, "Strangulation": 0.02,
               "Other": 0.05, "Unknown": 0.15}  # fmt: skip
    method = pick(rng, methods, n)
    method = np.where(da & (rng.random(n) < 0.15), "Strangulation", method)
    method = np.where(knife, "Sharp object", np.where(firearm, "Firearm", method)).astype(object)
    other = np.array(METHOD_OTHER_TEXT, dtype=object)[rng.integers(0, len(METHOD_OTHER_TEXT), n)]
    age = age_at(view.dob[p], arrival)
    place_type = _location_types(rng, place, lsoa, att.assault[keep], da, age)
    described = rng.random(n) < 0.8
    text = np.array(
        [LOCATION_TEXT[t][k % len(LOCATION_TEXT[t])]
         for t, k in zip(place_type, rng.integers(0, 60, n).tolist(), strict=True)],
        dtype=object,
    )  # fmt: skip
    assault = att.assault[keep].copy()
    assault[rng.random(n) < 0.1] = np.datetime64("NaT")  # not always asked or known
    starts = window.starts
    ids = random_ids(rng, n, "ED", 8)
    cols = {
        "site_code": _nearest_site(place, lsoa),
        "period_start": format_times(starts[month], None, "date"),
        "period_end": format_times(starts[month + 1] - np.timedelta64(1, "D"), None, "date"),
        "attendance_id": ids,
        "arrival": format_times(arrival, "%Y-%m-%dT%H:%M"),
        "assault_time": format_times(assault, "%Y-%m-%dT%H:%M"),
        "assault_method": method,
        "assault_method_other": np.where(method == "Other", other, ""),
        "location_type": place_type,
        "location_description": np.where(described, text, ""),
        "age_band": age_bands(age),
        "nhs_number": view.nhs[p],
        **identity_columns(view, persons, place, p, "%Y-%m-%d"),
    }
    crime = att.crime[keep]
    refs = np.where(crime >= 0, crimes.ref[np.maximum(crime, 0)], "")
    return FeedRows("istv", cols, month, arrival, p), refs


def ambulance_feed(
    rng: np.random.Generator,
    crimes: Crimes,
    inv: Involvement,
    persons: Persons,
    place: Place,
    window: Window,
) -> FeedRows:
    """Ambulance call-outs to assaults: to recorded crimes, and to assaults never recorded."""
    victims = np.flatnonzero(inv.role == VICTIM)
    first = victims[np.r_[True, inv.crime[victims][1:] != inv.crime[victims][:-1]]]
    c, who = inv.crime[first], inv.person[first]
    chance = np.array([AMBULANCE_CHANCE.get(code, 0.0) for code in crimes.code[c]])
    chance = np.where(crimes.knife[c] | crimes.firearm[c], np.maximum(chance, 0.35), chance)
    go = rng.random(len(c)) < chance
    c, who = c[go], who[go]
    share = AMBULANCE_UNKNOWN_TO_POLICE_SHARE
    n_extra = int(rng.poisson(len(c) * share / (1 - share)))
    w = seasonality(np.arange(window.n_months), 0.12, 7)
    extra_month = rng.choice(window.n_months, n_extra, p=w / w.sum())
    weight = place.population * 1.5**place.deprivation
    extra_lsoa = rng.choice(place.n, n_extra, p=weight / weight.sum())
    when = np.concatenate([crimes.time[c], sample_times(rng, window, extra_month, "night")])
    when = when + rng.integers(2, 25, len(when)).astype("timedelta64[m]")
    lsoa = np.concatenate([crimes.lsoa[c], extra_lsoa])
    lon, lat = place.points(rng, lsoa)
    lon[: len(c)], lat[: len(c)] = crimes.lon[c], crimes.lat[c]
    knife = np.concatenate([crimes.knife[c], rng.random(n_extra) < 0.05])
    firearm = np.concatenate([crimes.firearm[c], np.zeros(n_extra, dtype=bool)])
    n = len(when)
    injury = pick(rng, {"Head injury": 0.3, "Other injury": 0.5, "No injury recorded": 0.2}, n)
    stab = rng.random(n) < 0.9
    injury = np.where(knife, np.where(stab, "Stab or puncture wound", "Other injury"), injury)
    injury = np.where(firearm, "Gunshot wound", injury).astype(object)
    age = np.concatenate(
        [age_at(persons.dob[who], crimes.time[c]), 16 + rng.exponential(14, n_extra).astype(int)]
    )
    band = np.where(rng.random(n) < 0.9, age_bands(age), "").astype(object)
    sex = np.concatenate([SEX_TEXT[persons.sex[who]], SEX_TEXT[rng.integers(0, 2, n_extra)]])
    sex = np.where(rng.random(n) < 0.05, "Unknown", sex).astype(object)
    month = window.month_of(when)
    keep = month < window.n_months
    cols = {
        "incident_no": random_ids(rng, n, "AM", 8),
        "call_time": format_times(when, "%Y-%m-%d %H:%M:%S"),
        "longitude": [f"{x:.6f}" for x in lon.tolist()],
        "latitude": [f"{x:.6f}" for x in lat.tolist()],
        "lsoa_code": place.code[lsoa],
        "injury": injury,
        "age_band": band,
        "sex": sex,
    }
    cols = {k: np.asarray(v, dtype=object)[keep] for k, v in cols.items()}
    return FeedRows("ambulance", cols, month[keep], when[keep])
