"""A synthetic Serious Violence Duty partnership: the fictional county of Synthshire.

:func:`generate` writes reference files laid out as ONS and MHCLG publish them, one CSV file per
month for each of the eight partner feeds (each valid against its declared contract), and the
truth behind them: which person each record is about and every planted effect (calibrated
crime rates, deprivation, hotspots, an intervention, knife crime, a county lines network, a
cross-agency cohort and the recording errors that make linkage hard).

The output is deterministic: one seed gives byte-identical files.

Examples:
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     summary = generate(pathlib.Path(d), seed=3, years=1, scale=0.02)
    >>> summary["files"]["feeds"] <= 8 * 12, summary["rows"]["police-crime"] > 0
    (True, True)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from svduty.datasets.partners import FEEDS
from svduty.synth.council import education_feed, episodes, exclusions, social_care_feed, upns
from svduty.synth.crime import CALIBRATION, generate_crimes
from svduty.synth.fire import fire_feed
from svduty.synth.health import ambulance_feed, ed_attendances, istv_feed
from svduty.synth.justice import (
    probation_cases,
    probation_feed,
    youth_justice_cases,
    youth_justice_feed,
)
from svduty.synth.people import assign_pnc, build_persons, person_ids
from svduty.synth.place import build_place
from svduty.synth.police import SUSPECT, first_knife_offence, involve, police_feed
from svduty.synth.programmes import participants_feed, prevent, refer, write_commissioning
from svduty.synth.programmes import truth as programme_truth
from svduty.synth.recording import MISSING_NHS, agency_view
from svduty.synth.reference import write_reference
from svduty.synth.timing import Window
from svduty.synth.truth import effects, write_effects, write_links, write_people, write_persons
from svduty.synth.writer import FeedRows, write_feed

__all__ = ["CALIBRATION", "generate"]

# The feeds that name people (their contracts mark identifier columns).
PERSON_FEEDS = tuple(name for name, feed in FEEDS.items() if feed.person_level)
# One random stream per stage, in a fixed order: a change to one stage leaves the others' draws
# as they were.
_STAGES = (
    "place", "people", "crime", "involve", "youth-justice", "probation", "pnc", "education",
    "social-care", "istv", "ambulance", "fire", "ids", "render",
    *(f"view:{f}" for f in PERSON_FEEDS),
    "participants",
)  # fmt: skip


def generate(out: Path, seed: int = 1, years: int = 2, scale: float = 1.0) -> dict[str, Any]:
    """Generate the synthetic partnership's files under ``out``.

    Args:
        out: the output folder (created if need be); ``reference/``, ``feeds/`` and ``truth/``
            are written in it, and stale monthly feed files of an earlier run are removed.
            A month in which a feed has no records (school exclusions in August) has no file.
        seed: the random seed; the same seed gives byte-identical files.
        years: whole years of data from January 2024.
        scale: multiplies every volume (people, crimes, records); rates per 1,000 residents
            are the calibrated ones times ``scale``.

    Returns:
        A summary: the arguments, records per feed, people and files written.

    Raises:
        ValueError: ``years`` is not a positive whole number or ``scale`` is not positive.
    """
    if not isinstance(years, int) or years < 1:
        raise ValueError(f"years must be a positive whole number, not {years!r}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, not {scale!r}")
    out = Path(out)
    rng = dict(zip(_STAGES, np.random.default_rng(seed).spawn(len(_STAGES)), strict=True))
    window = Window(years)

    place = build_place(rng["place"])
    persons, pool_sizes = build_persons(rng["people"], place, window, scale)
    crimes = generate_crimes(rng["crime"], place, window, scale)
    inv = involve(rng["involve"], crimes, persons, place)
    # The funded projects' referrals, and the effect of the one that works on its participants.
    refs = refer(rng["participants"], persons, place, window, crimes, inv, scale)
    inv, prevented = prevent(rng["participants"], refs, inv, crimes, persons, place)
    yj = youth_justice_cases(rng["youth-justice"], crimes, inv, persons, window)
    prob = probation_cases(rng["probation"], crimes, inv, persons, window)
    suspects = inv.person[inv.role == SUSPECT]
    assign_pnc(rng["pnc"], persons, np.concatenate([suspects, yj.person, prob.person]))
    first_knife = first_knife_offence(crimes, inv, len(persons))
    excl = exclusions(rng["education"], persons, place, window, first_knife, scale)
    care = episodes(rng["social-care"], persons, place, window, first_knife, scale)
    att = ed_attendances(rng["istv"], crimes, inv, persons, place, window)
    present = {
        "police-crime": inv.person,
        "istv": att.person,
        "youth-justice": yj.person,
        "probation": prob.person,
        "education": excl.person,
        "social-care": care.person,
        "participants": refs.person,
    }
    views = {
        f: agency_view(rng[f"view:{f}"], persons, place, present[f], MISSING_NHS.get(f, 0.0))
        for f in PERSON_FEEDS
    }

    ids = rng["ids"]
    n = len(persons)
    urn = person_ids(ids, n, inv.person, "PU", 8)
    child_yj = person_ids(ids, n, yj.person, "YJ", 6)
    crn = person_ids(ids, n, prob.person, "X", 6)
    child_sc = person_ids(ids, n, care.person, "SC", 6)
    upn_of = upns(ids, place, persons, excl.person)
    mentee = person_ids(ids, n, refs.person, "MP", 6)

    r = rng["render"]
    istv, istv_refs = istv_feed(r, att, crimes, persons, place, views["istv"], window)
    rendered: dict[str, FeedRows] = {
        "police-crime": police_feed(crimes, inv, persons, place, views["police-crime"], urn),
        "istv": istv,
        "ambulance": ambulance_feed(rng["ambulance"], crimes, inv, persons, place, window),
        "youth-justice": youth_justice_feed(
            r, yj, persons, place, views["youth-justice"], child_yj, window
        ),
        "probation": probation_feed(r, prob, persons, place, views["probation"], crn, window),
        "education": education_feed(r, excl, persons, place, views["education"], upn_of, window),
        "social-care": social_care_feed(
            r, care, persons, place, views["social-care"], child_sc, window
        ),
        "fire": fire_feed(rng["fire"], crimes, place, window, scale),
        "participants": participants_feed(
            rng["participants"], refs, persons, place, views["participants"], mentee, window
        ),
    }

    reference = write_reference(out, place)
    written = []
    files = 0
    for name in FEEDS:
        order, names = write_feed(out, rendered[name], window)
        written.append((rendered[name], order))
        _remove_stale(out / "feeds" / name, name, set(names))
        files += len(names)
    people_rows = write_people(out, written, persons)
    write_persons(out, persons, place)
    orders = {rows.feed: order for rows, order in written}
    write_links(out, istv, orders["istv"], istv_refs)
    data = effects(
        seed=seed,
        scale=scale,
        place=place,
        window=window,
        persons=persons,
        crimes=crimes,
        inv=inv,
        istv_refs=istv_refs,
        first_knife=first_knife,
        council={"education": (excl.person, excl.day), "social-care": (care.person, care.day)},
        views=views,
        written=written,
    )
    data["people"]["pools"] = pool_sizes
    data["commissioning"] = {
        **programme_truth(refs, prevented, place),
        **write_commissioning(out, rng["participants"], refs, place, window),
    }
    write_effects(out, data)
    rows = {rows.feed: len(rows) for rows, _ in written}
    return {
        "out": str(out),
        "seed": seed,
        "years": years,
        "scale": scale,
        "months": window.labels,
        "rows": rows,
        "total_rows": sum(rows.values()),
        "persons": len(persons),
        "truth_people_rows": people_rows,
        "files": {"reference": len(reference), "feeds": files},
    }


def _remove_stale(folder: Path, feed: str, keep: set[str]) -> None:
    """Remove this feed's monthly files that an earlier run left and this one did not write."""
    pattern = re.compile(rf"{re.escape(feed)}-\d{{4}}-\d{{2}}\.csv")
    for path in sorted(folder.iterdir()):
        if pattern.fullmatch(path.name) and path.name not in keep:
            path.unlink()
