"""The synthetic partnership the person-linkage modules share, generated, loaded and linked once
per test session (it used to be made again by every module).

- :func:`people_synth`: the generated files and their truth (seed 5, one year, scale 0.05). Read
  them; never write under them.
- :func:`people_first`: February to December loaded and linked (January is held back: its
  records become the earliest of their people once it is loaded).
- :func:`people_second`: a copy of that warehouse with January loaded and linked in full again.
- :func:`demo_warehouse`: the demo (seed 2, one year, scale 0.03), loaded and linked by
  :func:`svduty.demo.run_demo`.

The warehouses are closed and must stay as they are: a module that loads or links more works on
its own copy (:func:`tests.partnership.copy_warehouse`, a copy of a data folder and its key).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from svduty.demo import run_demo
from svduty.linkage.people import link_people, model_path
from svduty.synth import generate
from svduty.warehouse import connect
from tests.partnership import (
    Capture,
    Linked,
    copy_warehouse,
    links,
    load_people,
    warehouse_settings,
)


@pytest.fixture(scope="session")
def people_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic partnership's files: ``feeds/``, ``reference/`` and ``truth/``."""
    synth = tmp_path_factory.mktemp("people-synth")
    generate(synth, seed=5, years=1, scale=0.05)
    return synth


@pytest.fixture(scope="session")
def people_first(tmp_path_factory: pytest.TempPathFactory, people_synth: Path) -> Linked:
    """February to December loaded and linked with ``incremental=True``: with no saved model
    yet, that is a full run (the incremental module checks that it says so)."""
    root = tmp_path_factory.mktemp("people-first")
    settings = warehouse_settings(root)
    con = connect(settings)
    try:
        with Capture() as log:
            load_people(con, settings, people_synth / "feeds", last=False)
            summary = link_people(con, settings, incremental=True)
        rows = links(con)
    finally:
        con.disconnect()
    return Linked(root, summary, rows, model_path(settings).read_bytes(), log.lines)


@pytest.fixture(scope="session")
def people_second(
    tmp_path_factory: pytest.TempPathFactory, people_synth: Path, people_first: Linked
) -> Linked:
    """:func:`people_first`'s warehouse, copied, with January loaded and every record linked
    again in full (keeping the keys of the people already known)."""
    root = tmp_path_factory.mktemp("people-second")
    settings = copy_warehouse(people_first.root, root)
    con = connect(settings)
    try:
        with Capture() as log:
            load_people(con, settings, people_synth / "feeds", last=True)
            summary = link_people(con, settings)
        rows = links(con)
    finally:
        con.disconnect()
    return Linked(root, summary, rows, model_path(settings).read_bytes(), log.lines)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo partnership (seed 2, one year, scale 0.03) as ``svduty demo`` makes it: every
    feed loaded and its people linked in full. Returns the folder holding ``data/`` and ``key``:
    copy it (:func:`tests.partnership.copy_warehouse`) before changing anything."""
    root = tmp_path_factory.mktemp("demo-warehouse")
    settings = warehouse_settings(root)
    con = connect(settings)
    try:
        run_demo(con, settings, seed=2, years=1, scale=0.03)
    finally:
        con.disconnect()
    return root
