"""Helpers for the tests that load and link the synthetic partnership's people: loading the
person-level feeds month by month, reading ``person_links`` back, capturing the log, and copying a
built warehouse (its data folder and key) so that a test module can change its own copy of a
warehouse another module also reads."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svduty.config import Settings
from svduty.ingest.partners import ingest_feed
from svduty.ingest.sources import find_sources
from svduty.synth import PERSON_FEEDS

HELD_BACK = "2024-01"  # loaded last: its records become the earliest of their people


@dataclass(frozen=True)
class Linked:
    """A closed warehouse kept under ``root`` (``root/data``, ``root/key``) and its last linkage:
    the summary, the ``person_links`` rows, the sealed model's bytes and what was logged while it
    was loaded and linked."""

    root: Path
    summary: dict[str, Any]
    rows: list[dict[str, Any]]
    sealed: bytes
    log: list[str]


def load_people(con: Any, settings: Settings, feeds: Path, last: bool) -> None:
    """Load every person-level feed's files but the held-back month's, or only those."""
    for feed in PERSON_FEEDS:
        files = sorted((feeds / feed).glob("*.csv"))
        files = [f for f in files if f.stem.endswith(HELD_BACK) == last]
        if files:
            ingest_feed(con, settings, feed, *find_sources(files))


def links(con: Any) -> list[dict[str, Any]]:
    """``person_links`` as a list of rows."""
    return con.table("person_links").to_pyarrow().to_pylist()


def warehouse_settings(root: Path) -> Settings:
    """The settings of the warehouse kept under ``root``: ``root/data`` and its key ``root/key``."""
    return Settings(data_dir=root / "data", key_file=root / "key")


def copy_warehouse(source: Path, dest: Path) -> Settings:
    """Copy the (closed) warehouse under ``source`` (data folder and key) to ``dest``; returns
    the copy's settings. The key travels with it, so the copy's pseudonyms are the original's."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "data", dest / "data")
    shutil.copy2(source / "key", dest / "key")
    return warehouse_settings(dest)


class Capture(logging.Handler):
    """Every message logged (any logger, any level) while it is attached to the root logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def __enter__(self) -> Capture:
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self)
