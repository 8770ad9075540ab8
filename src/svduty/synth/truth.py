"""The truth behind the synthetic feeds, for scoring linkage and analysis against it.

``truth/people.csv`` says which true person each person-level record is about; ``persons.csv``
lists the true people; ``ed_police_links.csv`` pairs each emergency department attendance with
the crime behind it, where there is one; ``effects.json`` describes every planted effect with
its parameters and what was realised.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from svduty.datasets.partners import FEEDS
from svduty.synth.council import PRECURSOR_SHARE
from svduty.synth.crime import (
    CALIBRATION,
    CALIBRATION_SOURCE,
    CHANGE_MONTH,
    CHILD,
    COUNTY_LINES_SHARE,
    DEPRIVATION_RR_PER_SD,
    GROUPS,
    HOTSPOT_EMERGING,
    HOTSPOT_PERSISTENT,
    INTERVENTION_EFFECT,
    KNIFE_SHARE,
    NB_SHAPE,
    SEASON,
    UNDER18_SHARE,
    YOUNG_ADULT,
    YOUTH_SHARE,
    Crimes,
    base_rates,
)
from svduty.synth.health import ED_UNKNOWN_TO_POLICE_SHARE
from svduty.synth.people import SEX_TEXT, Persons, age_at
from svduty.synth.place import INTERVENTION_TOWN, TOWNS, Place
from svduty.synth.police import SUSPECT, VICTIM, Involvement
from svduty.synth.recording import ERROR_RATES, MISSING_NHS, View
from svduty.synth.timing import Window, format_times
from svduty.synth.writer import FeedRows


def _write(path: Path, header: list[str], columns: list[Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*(list(c) for c in columns), strict=True))


def write_people(out: Path, written: list[tuple[FeedRows, np.ndarray]], persons: Persons) -> int:
    """``truth/people.csv``: feed, record_id, person_id (true), partner_person_id, role; one row
    per person-level record, in the order of the feed files."""
    parts: list[list[Any]] = [[], [], [], [], []]
    for rows, order in written:
        if rows.person is None:
            continue
        feed = FEEDS[rows.feed]
        n = len(order)
        parts[0].append(np.full(n, rows.feed, dtype=object))
        parts[1].append(np.asarray(rows.columns[feed.record_id], dtype=object)[order])
        parts[2].append(persons.person_id[rows.person[order]])
        partner = rows.columns[feed.person_id] if feed.person_id else np.full(n, "", dtype=object)
        parts[3].append(np.asarray(partner, dtype=object)[order])
        role = rows.columns.get("role", np.full(n, "", dtype=object))
        parts[4].append(np.asarray(role, dtype=object)[order])
    columns = [np.concatenate(p) for p in parts]
    _write(
        out / "truth" / "people.csv",
        ["feed", "record_id", "person_id", "partner_person_id", "role"],
        columns,
    )
    return len(columns[0])


def write_persons(out: Path, persons: Persons, place: Place) -> int:
    """``truth/persons.csv``: the true people."""
    flag = np.array(["0", "1"], dtype=object)
    _write(
        out / "truth" / "persons.csv",
        [
            "person_id",
            "forename",
            "surname",
            "date_of_birth",
            "sex",
            "home_lsoa",
            "postcode",
            "nhs_number",
            "pnc_id",
            "cohort",
            "county_lines",
        ],  # fmt: skip
        [
            persons.person_id,
            persons.forename,
            persons.surname,
            format_times(persons.dob, None, "date"),
            SEX_TEXT[persons.sex],
            place.code[persons.home],
            persons.postcode,
            persons.nhs,
            persons.pnc,
            flag[persons.cohort.astype(np.int64)],
            flag[persons.county_lines.astype(np.int64)],
        ],
    )
    return len(persons)


def write_links(out: Path, istv: FeedRows, order: np.ndarray, refs: np.ndarray) -> None:
    """``truth/ed_police_links.csv``: each attendance and the Crime Reference behind it."""
    ids = np.asarray(istv.columns["attendance_id"], dtype=object)[order]
    _write(out / "truth" / "ed_police_links.csv", ["attendance_id", "crime_ref"],
           [ids, np.asarray(refs, dtype=object)[order]])  # fmt: skip


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _share(mask: np.ndarray) -> float | None:
    return round(float(mask.mean()), 4) if len(mask) else None


def _crime_effects(place: Place, window: Window, crimes: Crimes, scale: float) -> dict[str, Any]:
    """Calibration, deprivation, hotspots and the intervention, planted and realised."""
    pop = int(place.population.sum())
    per_1000_year = pop / 1000 * window.years * scale
    labels = window.labels
    change = labels[CHANGE_MONTH] if len(labels) > CHANGE_MONTH else None
    violence = crimes.group == GROUPS.index("violence")
    after = crimes.month >= CHANGE_MONTH
    youth = (crimes.stream == YOUNG_ADULT) | (crimes.stream == CHILD)
    treated = place.la[crimes.lsoa] == INTERVENTION_TOWN
    emerging = violence & np.isin(crimes.lsoa, place.emerging)

    def count(mask: np.ndarray) -> int:
        return int(mask.sum())

    return {
        "calibration": {
            "source": CALIBRATION_SOURCE,
            "targets_per_1000_per_year": {g: s["rate"] for g, s in CALIBRATION.items()},
            "codes": {g: s["codes"] for g, s in CALIBRATION.items()},
            "base_rates_per_1000_per_year": base_rates(place, window),
            "realised_per_1000_per_year": {
                g: round(count(crimes.group == i) / per_1000_year, 4) for i, g in enumerate(GROUPS)
            },
            "negative_binomial_shape": NB_SHAPE,
        },
        "deprivation_rate_ratio_per_sd": DEPRIVATION_RR_PER_SD,
        "deprivation_measure": "IoD 2025 income deprivation domain score (imd2025 Income_score), "
        "standardised over the county's LSOAs (mean 0, SD 1); applies to every police crime group "
        "and to deliberate fires (not the overall IMD score, which includes the crime domain)",
        "hotspots": {
            "persistent": {
                "lsoa21_codes": place.code[place.persistent].tolist(),
                "multiplier": HOTSPOT_PERSISTENT,
                "applies_to": "violence",
                "from": labels[0],
                "violence": count(violence & np.isin(crimes.lsoa, place.persistent)),
            },
            "emerging": {
                "lsoa21_codes": place.code[place.emerging].tolist(),
                "multiplier": HOTSPOT_EMERGING,
                "applies_to": "violence",
                "start_month": CHANGE_MONTH + 1,
                "start": change,
                "violence_before": count(emerging & ~after),
                "violence_after": count(emerging & after),
            },
        },
        "intervention": {
            "csp24_code": place.csp_code[INTERVENTION_TOWN],
            "csp24_name": TOWNS[INTERVENTION_TOWN].name,
            "ltla24_code": place.la_code[INTERVENTION_TOWN],
            "start_month": CHANGE_MONTH + 1,
            "start": change,
            "effect": INTERVENTION_EFFECT,
            "applies_to": "violence, victims or suspects under 25",
            "under25_violence": {
                "treated_before": count(violence & youth & treated & ~after),
                "treated_after": count(violence & youth & treated & after),
                "others_before": count(violence & youth & ~treated & ~after),
                "others_after": count(violence & youth & ~treated & after),
            },
        },
        "violence_streams": {
            "under25_share": YOUTH_SHARE,
            "under18_share_of_under25": UNDER18_SHARE,
            "note": "a crime in an under-25 stream always names a victim or suspect under 25 "
            "(under 18 in the under-18 stream); an adult-stream crime names nobody under 25",
        },
        "seasonality": {g: {"amplitude": a, "peak_month": m} for g, (a, m) in SEASON.items()},
        "time_of_day": "violence peaks in the evening and on Friday and Saturday nights, into "
        "the early hours of Saturday and Sunday; under-18 violence peaks 15:00-18:00 on school "
        "days (see svduty.synth.timing.PROFILES)",
    }


def _people_effects(
    window: Window,
    persons: Persons,
    place: Place,
    crimes: Crimes,
    inv: Involvement,
    first_knife: np.ndarray,
    council: dict[str, tuple[np.ndarray, np.ndarray]],
) -> dict[str, Any]:
    """Knife crime, the county lines network and the cohort, planted and realised."""
    violence = crimes.group == GROUPS.index("violence")
    robbery = crimes.group == GROUPS.index("robbery")
    serious = np.isin(crimes.group, [GROUPS.index(g) for g in ("violence", "homicide", "robbery")])
    knife_rows = (crimes.knife & serious)[inv.crime]
    ages = age_at(persons.dob[inv.person], crimes.time[inv.crime])
    members = np.flatnonzero(persons.county_lines)
    start = np.full(len(members), window.first_day)
    # The cohort's order of events: a council record before the first knife offence, for those
    # still children then (adults' school and care records predate the window).
    knife_age = age_at(persons.dob, first_knife.astype("datetime64[D]"))
    with_knife = np.flatnonzero(persons.cohort & ~np.isnat(first_knife))
    children = with_knife[knife_age[with_knife] < 18]
    earlier = np.zeros(len(persons), dtype=bool)
    for people, days in council.values():
        before = days < first_knife.astype("datetime64[D]")[people]
        earlier[people[before]] = True
    return {
        "knife": {
            "planted": KNIFE_SHARE,
            "violence_share": _share(crimes.knife[violence]),
            "robbery_share": _share(crimes.knife[robbery]),
            "under25_share_of_people_in_knife_crime": _share(ages[knife_rows] < 25),
        },
        "county_lines": {
            "person_ids": persons.person_id[members].tolist(),
            "under18_at_start": int((age_at(persons.dob[members], start) < 18).sum()),
            "lsoa21_codes": place.code[place.county_lines].tolist(),
            "share_of_drug_trafficking": COUNTY_LINES_SHARE,
            "offences": int(crimes.county_lines.sum()),
            "flags": "County Lines Flag = Y and Exploitation Flag = Y on the network's 092/01 "
            "offences; County Lines = Y in youth justice; CCE Flag = Y in social care",
        },
        "cohort": {
            "size": int(persons.cohort.sum()),
            "age_range_at_start": [10, 24],
            "precursor_share_planted": PRECURSOR_SHARE,
            "with_knife_offence": len(with_knife),
            "with_knife_offence_under18": len(children),
            "under18_with_earlier_exclusion_or_social_care": int(earlier[children].sum()),
        },
        "people": {
            "persons": len(persons),
            "repeat_victims": int((np.bincount(inv.person[inv.role == VICTIM]) > 1).sum()),
            "repeat_suspects": int((np.bincount(inv.person[inv.role == SUSPECT]) > 1).sum()),
            "victims_also_suspects": len(
                np.intersect1d(inv.person[inv.role == VICTIM], inv.person[inv.role == SUSPECT])
            ),
        },
    }


def effects(
    *,
    seed: int,
    scale: float,
    place: Place,
    window: Window,
    persons: Persons,
    crimes: Crimes,
    inv: Involvement,
    istv_refs: np.ndarray,
    first_knife: np.ndarray,
    council: dict[str, tuple[np.ndarray, np.ndarray]],
    views: dict[str, View],
    written: list[tuple[FeedRows, np.ndarray]],
) -> dict[str, Any]:
    """Every planted effect, with its parameters and what the draw realised.

    Args:
        council: (people, days) of the education and social-care records, by feed.
    """
    errors: dict[str, dict[str, int]] = {}
    for rows, _ in written:
        if rows.person is not None:
            seen = np.unique(rows.person)
            found = {k: int(v[seen].sum()) for k, v in views[rows.feed].errors.items()}
            errors[rows.feed] = {"people": len(seen), **found}
    known = int((istv_refs != "").sum())
    return {
        "generator": "svduty.synth",
        "seed": seed,
        "years": window.years,
        "scale": scale,
        "months": [window.labels[0], window.labels[-1]],
        "population": int(place.population.sum()),
        "note": "volumes scale with `scale`; realised rates are per 1,000 residents per year "
        "divided by scale, comparable with the calibration targets",
        **_crime_effects(place, window, crimes, scale),
        **_people_effects(window, persons, place, crimes, inv, first_knife, council),
        "recording_errors": {
            "rates_per_agency_person": ERROR_RATES,
            "missing_nhs_number": MISSING_NHS,
            "realised_people": errors,
        },
        "ed_unknown_to_police_share": ED_UNKNOWN_TO_POLICE_SHARE,
        "ed_unknown_to_police_share_realised": _ratio(len(istv_refs) - known, len(istv_refs)),
        "rows": {rows.feed: len(rows) for rows, _ in written},
    }


def write_effects(out: Path, data: dict[str, Any]) -> None:
    """``truth/effects.json``."""
    path = out / "truth" / "effects.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
