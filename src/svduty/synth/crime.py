"""Police recorded crime: how many crimes happen where and when, and what kind they are.

Counts are drawn per LSOA and month from a negative binomial (a Poisson whose rate is itself
gamma distributed, because real counts vary more than a Poisson allows) with rate

    base rate x residents x deprivation effect x hotspot x season x intervention,

the base rate set so that the county's expected rate per 1,000 residents per year equals the
calibration target. Violence is split into streams by who is involved (adults only, young adults
18 to 24, children under 18) because the streams differ in timing and because the planted
intervention acts only on violence involving someone under 25.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from svduty.datasets.partners.offences import OFFENCES
from svduty.synth.categorical import pick
from svduty.synth.place import INTERVENTION_TOWN, Place
from svduty.synth.timing import Window, sample_times, seasonality

# Targets in crimes per 1,000 residents per year, counted as distinct crimes, and the mix of
# Home Office codes within each group. Source: police.uk Cambridgeshire 2024-01..2025-06 rows /
# Census 2021 population 894,479 (violence and sexual offences, robbery, possession of weapons;
# drug trafficking, arson and homicide at the same order as in that data).
CALIBRATION: dict[str, dict[str, Any]] = {
    "violence": {
        "rate": 32.42,
        "codes": {
            "105/01": 0.36,
            "008/01": 0.25,
            "195/12": 0.22,
            "017/01": 0.07,
            "019/07": 0.04,
            "008/06": 0.04,
            "005/01": 0.02,
        },
    },
    "homicide": {"rate": 0.01, "codes": {"001/00": 1.0}},
    "robbery": {"rate": 0.70, "codes": {"034/01": 0.9, "034/02": 0.1}},
    "weapons": {"rate": 1.15, "codes": {"010/01": 0.65, "010/02": 0.35}},
    "drug_trafficking": {"rate": 0.5, "codes": {"092/01": 1.0}},
    "arson": {"rate": 0.1, "codes": {"056/01": 1.0}},
}
CALIBRATION_SOURCE = (
    "police.uk Cambridgeshire 2024-01..2025-06 rows / Census 2021 population 894,479"
)
GROUPS = tuple(CALIBRATION)
GROUP_OF_CODE = {code: g for g, spec in CALIBRATION.items() for code in spec["codes"]}

# Rate ratio per standard deviation of the income deprivation score (Place.deprivation).
DEPRIVATION_RR_PER_SD = 1.5
HOTSPOT_PERSISTENT = 4.0  # violence multiplier in the town-centre night-time economies
HOTSPOT_EMERGING = 3.0  # from CHANGE_MONTH on
CHANGE_MONTH = 12  # month index of 2025-01 (the 13th month): emerging hotspots, intervention
INTERVENTION_EFFECT = -0.25
YOUTH_SHARE = 0.45  # violence with a victim or suspect under 25, before the intervention
UNDER18_SHARE = 0.40  # of that, violence involving children (timed after school)
KNIFE_SHARE = {"youth": 0.13, "adult": 0.022, "robbery": 0.6, "homicide": 0.4}
KNIFE_CODES = ("005/01", "008/01", "008/06", "105/01")  # offences a knife can be recorded on
COUNTY_LINES_SHARE = 0.35  # of drug trafficking, by the county lines network
NB_SHAPE = 4.0  # gamma shape of the negative binomial: smaller is more overdispersed
SEASON = {  # (amplitude, peak calendar month)
    "violence": (0.12, 7),
    "homicide": (0.12, 7),
    "robbery": (0.10, 11),
    "weapons": (0.08, 7),
    "drug_trafficking": (0.0, 1),
    "arson": (0.15, 4),
}
# Robbery and weapons cluster in town centres beyond what deprivation explains.
URBAN_LEAN = {"robbery": 1.5, "weapons": 1.0}

ADULT, YOUNG_ADULT, CHILD, OTHER = 0, 1, 2, 3  # violence streams; OTHER for other groups
STREAM_NAMES = ("adult", "young adult", "under 18", "other")


@dataclass
class Crimes:
    """Every crime, one entry per array, ordered by time.

    Attributes:
        ref: the Crime Reference.
        group: index into :data:`GROUPS`; ``code`` the Home Office code.
        time: committed, ``datetime64[m]``; ``month`` its index in the window.
        lsoa, lon, lat: where.
        stream: :data:`ADULT`, :data:`YOUNG_ADULT`, :data:`CHILD` or :data:`OTHER`.
        knife, firearm, da, alcohol, drugs, county_lines: the flags.
    """

    ref: np.ndarray
    group: np.ndarray
    code: np.ndarray
    time: np.ndarray
    month: np.ndarray
    lsoa: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    stream: np.ndarray
    knife: np.ndarray
    firearm: np.ndarray
    da: np.ndarray
    alcohol: np.ndarray
    drugs: np.ndarray
    county_lines: np.ndarray

    def __len__(self) -> int:
        return len(self.ref)


def _nb(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    """Negative binomial counts with mean ``lam``."""
    return rng.poisson(rng.gamma(NB_SHAPE, lam / NB_SHAPE))


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(LSOA, month) of each crime from an (LSOA, month) table of counts."""
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    return np.divmod(cell, counts.shape[1])


def multipliers(place: Place, window: Window) -> dict[str, np.ndarray]:
    """The planted (LSOA, month) multipliers of violence: hotspots and the intervention."""
    n, m = place.n, window.n_months
    after = np.arange(m) >= CHANGE_MONTH
    hot = np.ones((n, m))
    hot[place.persistent] *= HOTSPOT_PERSISTENT
    hot[np.ix_(place.emerging, np.flatnonzero(after))] *= HOTSPOT_EMERGING
    treated = np.ones((n, m))
    in_area = place.la == INTERVENTION_TOWN
    treated[np.ix_(np.flatnonzero(in_area), np.flatnonzero(after))] = 1 + INTERVENTION_EFFECT
    return {"hotspot": hot, "intervention": treated}


def expected_counts(place: Place, window: Window, scale: float) -> dict[str, np.ndarray]:
    """Expected crimes per (LSOA, month) for each group, and for violence each stream.

    Returns:
        Arrays of shape (LSOAs, months) keyed ``violence:adult``, ``violence:young adult``,
        ``violence:under 18`` and each other group's name; each group sums to its target.
    """
    pop = place.population.astype(float)
    dep = DEPRIVATION_RR_PER_SD**place.deprivation
    months = np.arange(window.n_months)
    out: dict[str, np.ndarray] = {}
    planted = multipliers(place, window)
    for group, spec in CALIBRATION.items():
        amp, peak = SEASON[group]
        shape = (pop * dep * (1 + URBAN_LEAN.get(group, 0) * place.urbanity))[:, None]
        shape = shape * seasonality(months, amp, peak)[None, :]
        target = spec["rate"] / 1000 * pop.sum() * window.years * scale
        if group == "violence":
            shape = shape * planted["hotspot"]
            youth = shape * YOUTH_SHARE * planted["intervention"]
            adult = shape * (1 - YOUTH_SHARE)
            k = target / (youth.sum() + adult.sum())
            out["violence:adult"] = adult * k
            out["violence:young adult"] = youth * k * (1 - UNDER18_SHARE)
            out["violence:under 18"] = youth * k * UNDER18_SHARE
        else:
            if group == "drug_trafficking":
                target *= 1 - COUNTY_LINES_SHARE  # the rest is the network's, placed apart
            out[group] = shape * target / shape.sum()
    return out


def base_rates(place: Place, window: Window) -> dict[str, float]:
    """Each group's calibrated base rate per 1,000 residents per year: at the county's mean
    income deprivation score, outside hotspots, in an average month, without the intervention
    (and, for robbery and weapons, away from town centres: urbanity 0)."""
    expected = expected_counts(place, window, 1.0)
    pop = place.population.astype(float)
    dep = DEPRIVATION_RR_PER_SD**place.deprivation
    out = {}
    for group in GROUPS:
        keys = [k for k in expected if k.split(":")[0] == group]
        total = sum(expected[k].sum() for k in keys)
        weight = pop * dep * (1 + URBAN_LEAN.get(group, 0) * place.urbanity)
        if group == "violence":
            planted = multipliers(place, window)
            mix = YOUTH_SHARE * planted["intervention"] + (1 - YOUTH_SHARE)
            weight = (weight[:, None] * planted["hotspot"] * mix).mean(axis=1)
        if group == "drug_trafficking":
            total /= 1 - COUNTY_LINES_SHARE
        out[group] = round(float(total / weight.sum() * 1000 / window.years), 4)
    return out


def generate_crimes(rng: np.random.Generator, place: Place, window: Window, scale: float) -> Crimes:
    """Draw every crime of the window.

    Args:
        rng: the random generator.
        place: the county.
        window: the months.
        scale: multiplies every expected count.
    """
    expected = expected_counts(place, window, scale)
    parts: dict[str, list[np.ndarray]] = {"group": [], "stream": [], "lsoa": [], "month": []}
    for key, lam in expected.items():
        group, _, stream_name = key.partition(":")
        lsoa, month = _expand(_nb(rng, lam))
        stream = STREAM_NAMES.index(stream_name) if stream_name else OTHER
        parts["group"].append(np.full(len(lsoa), GROUPS.index(group)))
        parts["stream"].append(np.full(len(lsoa), stream))
        parts["lsoa"].append(lsoa)
        parts["month"].append(month)
    # The county lines network's trafficking: most of it in the few LSOAs it supplies.
    cl_mean = (
        (CALIBRATION["drug_trafficking"]["rate"] / 1000 * place.population.sum() * window.years)
        * scale
        * COUNTY_LINES_SHARE
    )
    n_cl = int(rng.poisson(cl_mean))
    month = rng.integers(0, window.n_months, n_cl)
    elsewhere = rng.choice(place.n, n_cl, p=place.population / place.population.sum())
    local = place.county_lines[rng.choice(len(place.county_lines), n_cl, p=[0.45, 0.35, 0.2])]
    parts["group"].append(np.full(n_cl, GROUPS.index("drug_trafficking")))
    parts["stream"].append(np.full(n_cl, OTHER))
    parts["lsoa"].append(np.where(rng.random(n_cl) < 0.8, local, elsewhere))
    parts["month"].append(month)
    group, stream, lsoa, month = (np.concatenate(parts[k]) for k in parts)
    county_lines = np.zeros(len(group), dtype=bool)
    county_lines[len(group) - n_cl :] = True
    n = len(group)

    code = np.empty(n, dtype=object)
    for g, name in enumerate(GROUPS):
        sel = np.flatnonzero(group == g)
        code[sel] = pick(rng, CALIBRATION[name]["codes"], len(sel))

    time = np.empty(n, dtype="datetime64[m]")
    profile = np.full(n, "night", dtype=object)
    profile[stream == CHILD] = "youth"
    profile[np.isin(code, ["034/02", "092/01"])] = "day"
    profile[code == "056/01"] = "fire"
    for name in ("night", "youth", "day", "fire"):
        sel = np.flatnonzero(profile == name)
        time[sel] = sample_times(rng, window, month[sel], name)

    u = rng.random((5, n))
    is_v = group == GROUPS.index("violence")
    youth_stream = (stream == YOUNG_ADULT) | (stream == CHILD)
    eligible = np.isin(code, KNIFE_CODES)
    knife_mix = sum(CALIBRATION["violence"]["codes"][c] for c in KNIFE_CODES)
    p_knife = np.where(youth_stream, KNIFE_SHARE["youth"], KNIFE_SHARE["adult"]) / knife_mix
    p_knife = np.where(is_v & eligible, p_knife, 0.0)
    p_knife[group == GROUPS.index("robbery")] = KNIFE_SHARE["robbery"]
    p_knife[group == GROUPS.index("homicide")] = KNIFE_SHARE["homicide"]
    p_knife[code == "010/01"] = 1.0  # possession of an article with a blade or point
    p_knife[county_lines] = 0.15
    knife = u[0] < p_knife
    p_gun = np.select(
        [code == "005/01", group == GROUPS.index("robbery"), group == GROUPS.index("homicide")],
        [0.03, 0.02, 0.08],
        0.0,
    )
    firearm = ~knife & (u[1] < p_gun)
    p_da = np.select([stream == ADULT, stream == YOUNG_ADULT, stream == CHILD], [0.33, 0.2, 0.05])
    da = is_v & (u[2] < p_da)
    hour = (time - time.astype("datetime64[D]")).astype(np.int64) // 60
    late = (hour >= 20) | (hour < 4)
    urban = place.urbanity[lsoa] > 0.35
    p_alcohol = np.where(da, 0.3, np.where(late & urban, 0.45, 0.12))
    alcohol = (is_v | (group == GROUPS.index("homicide"))) & (u[3] < p_alcohol)
    drugs = (code == "092/01") | (u[4] < np.where(code == "010/01", 0.1, 0.05))
    drugs &= group != GROUPS.index("arson")
    lon, lat = place.points(rng, lsoa)

    # Crime references number crimes in time order within each calendar year.
    order = np.lexsort((lsoa, group, time))
    fields = {
        "group": group, "code": code, "time": time, "month": month, "lsoa": lsoa, "lon": lon,
        "lat": lat, "stream": stream, "knife": knife, "firearm": firearm, "da": da,
        "alcohol": alcohol, "drugs": drugs, "county_lines": county_lines,
    }  # fmt: skip
    fields = {k: v[order] for k, v in fields.items()}
    year = fields["time"].astype("datetime64[Y]").astype(np.int64) + 1970
    serial = np.arange(n) - np.searchsorted(year, year, side="left") + 1
    ref = np.array(
        [f"SY/{y % 100:02d}/{s:06d}" for y, s in zip(year.tolist(), serial.tolist(), strict=True)],
        dtype=object,
    )
    return Crimes(ref=ref, **fields)


def offence(code: np.ndarray) -> np.ndarray:
    """The Home Office description of each code."""
    return np.array([OFFENCES[c] for c in code], dtype=object)
