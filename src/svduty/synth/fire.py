"""Fire and rescue: deliberate fires, and the arson endangering life that police also record.

Deliberate fires follow deprivation and peak in spring (grass and refuse fires) and in the
evening. Each police-recorded arson endangering life that the fire service attended appears in
both feeds at the same place, minutes apart, so the two can be matched.
"""

from __future__ import annotations

import numpy as np

from svduty.synth.categorical import pick
from svduty.synth.crime import DEPRIVATION_RR_PER_SD, Crimes
from svduty.synth.people import random_ids
from svduty.synth.place import Place
from svduty.synth.timing import Window, format_times, sample_times, seasonality
from svduty.synth.writer import FeedRows

DELIBERATE_FIRES_PER_1000_PER_YEAR = 1.8
FIRE_ATTENDS_ARSON_ENDANGERING_LIFE = 0.6
_TYPES = {
    # incident type: (share, property types and their weights)
    "Deliberate secondary fire": (0.55, {"Outdoor": 0.6, "Refuse": 0.4}),
    "Deliberate primary fire": (0.2, {"Dwelling": 0.4, "Other building": 0.6}),
    "Vehicle arson": (0.2, {"Vehicle": 1.0}),
    "Other": (0.05, {"Outdoor": 0.5, "": 0.5}),
}


def fire_feed(
    rng: np.random.Generator, crimes: Crimes, place: Place, window: Window, scale: float
) -> FeedRows:
    """The fire feed."""
    pop = place.population.astype(float)
    weight = pop * DEPRIVATION_RR_PER_SD**place.deprivation
    lam = weight[:, None] * seasonality(np.arange(window.n_months), 0.25, 4)[None, :]
    lam *= DELIBERATE_FIRES_PER_1000_PER_YEAR / 1000 * pop.sum() * window.years * scale / lam.sum()
    counts = rng.poisson(lam)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    lsoa, month = np.divmod(cell, counts.shape[1])
    when = sample_times(rng, window, month, "fire")
    n = len(lsoa)
    kind = pick(rng, {name: v[0] for name, v in _TYPES.items()}, n)
    prop = np.empty(n, dtype=object)
    for name, (_, props) in _TYPES.items():
        sel = np.flatnonzero(kind == name)
        prop[sel] = pick(rng, props, len(sel))
    lon, lat = place.points(rng, lsoa)

    arson = np.flatnonzero(crimes.code == "056/01")
    arson = arson[rng.random(len(arson)) < FIRE_ATTENDS_ARSON_ENDANGERING_LIFE]
    a_when = crimes.time[arson] + rng.integers(5, 30, len(arson)).astype("timedelta64[m]")
    when = np.concatenate([when, a_when])
    lsoa = np.concatenate([lsoa, crimes.lsoa[arson]])
    lon = np.concatenate([lon, crimes.lon[arson]])
    lat = np.concatenate([lat, crimes.lat[arson]])
    kind = np.concatenate([kind, np.full(len(arson), "Arson endangering life", dtype=object)])
    prop = np.concatenate([prop, np.full(len(arson), "Dwelling", dtype=object)])
    month = window.month_of(when)
    keep = month < window.n_months
    cols = {
        "incident_no": random_ids(rng, len(when), "FR", 8),
        "incident_time": format_times(when, "%Y-%m-%dT%H:%M:%S"),
        "longitude": [f"{x:.6f}" for x in lon.tolist()],
        "latitude": [f"{x:.6f}" for x in lat.tolist()],
        "lsoa_code": place.code[lsoa],
        "incident_type": kind,
        "property_type": prop,
    }
    cols = {k: np.asarray(v, dtype=object)[keep] for k, v in cols.items()}
    return FeedRows("fire", cols, month[keep], when[keep])
