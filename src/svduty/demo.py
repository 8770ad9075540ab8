"""The demo partnership: a synthetic county generated and loaded through the commands users run.

The synthetic files hold made-up names, dates of birth and NHS numbers, so they are generated in
a temporary folder outside the data folder, loaded (reference data, then every partner feed, the
identifiers sealed on the way), its people linked across the feeds (``svduty link``), and
deleted: nothing in the data folder holds an identifier in
clear. ``<data>/demo.json`` records the seed and settings, from which ``svduty synth`` makes the
same files (and their truth) again, byte for byte.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from svduty.config import Settings
from svduty.datasets.partners import FEEDS
from svduty.ingest.loader import IngestReport
from svduty.ingest.partners import ingest_feed
from svduty.ingest.sources import find_sources
from svduty.linkage.people import link_people
from svduty.reference import load_reference
from svduty.store.agreements import ensure_agreements, ensure_orgs
from svduty.store.db import open_store

#: The demo's funding round, whose proposals the synthetic partnership writes.
DEMO_ROUND = "2026/27"


def load_commissioning(con: Any, store: Any, folder: Path) -> dict[str, Any]:
    """Import the synthetic partnership's register, returns and proposals (as a commissioner
    would with ``svduty interventions import``, ``interventions returns`` and ``funding
    proposals import``)."""
    from svduty.commissioning.allocation import import_proposals
    from svduty.commissioning.register import import_register, import_returns, partnership_areas

    areas = partnership_areas(con)
    out: dict[str, Any] = {}
    register = import_register(store, folder / "register.csv", user="demo", areas=areas)
    returns = import_returns(store, folder / "returns.csv", user="demo")
    proposals = import_proposals(
        store, folder / "proposals-2026-27.csv", DEMO_ROUND, user="demo", areas=areas
    )
    for name, report in (("register", register), ("returns", returns), ("proposals", proposals)):
        if report.rejected:
            raise RuntimeError(f"the synthetic {name} has bad rows: {report.rejected[:3]}")
        out[name] = len(report.added) + len(report.updated) + len(report.unchanged)
    out["round"] = DEMO_ROUND
    return out


def run_demo(
    con: Any,
    settings: Settings,
    seed: int = 1,
    years: int = 2,
    scale: float = 1.0,
    step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Generate the synthetic partnership and load it into the warehouse.

    Returns:
        What was loaded: for each feed its totals, and the generator's summary.
    """
    from svduty.synth import generate

    say = step or (lambda _: None)
    work = Path(tempfile.mkdtemp(prefix="svduty-demo-"))
    try:
        say(f"Generating the synthetic partnership (seed {seed}, {years} years, scale {scale})")
        summary = generate(work, seed=seed, years=years, scale=scale)
        say("Loading its reference data")
        load_reference(con, work / "reference")
        feeds: dict[str, IngestReport] = {}
        for name in FEEDS:
            say(f"Loading {name}")
            feeds[name] = ingest_feed(con, settings, name, *find_sources([work / "feeds" / name]))
        effects = json.loads((work / "truth" / "effects.json").read_text())
        say("Linking people across the partner feeds")
        linked = link_people(con, settings)
        say("Creating the partner organisations and their data-sharing agreements")
        store = open_store(settings)
        try:
            organisations = ensure_orgs(store)
            ensure_agreements(store)
            say("Loading the interventions register, its quarterly returns and the next round")
            commissioning = load_commissioning(con, store, work / "commissioning")
        finally:
            store.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record = {
        "seed": seed,
        "years": years,
        "scale": scale,
        "feeds": {name: report.totals() for name, report in feeds.items()},
        "refused": sum(len(r.refused) for r in feeds.values()),
        "planted": effects,
        "linkage": {k: linked[k] for k in ("records", "clusters", "pairs", "seconds")},
        "organisations": organisations,
        "commissioning": commissioning,
        "summary": summary,
    }
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "demo.json").write_text(json.dumps(record, indent=2, default=str))
    return record
