"""Helpers for the tests that load and link the synthetic partnership's people: loading the
person-level feeds month by month, reading ``person_links`` back, capturing the log, and copying a
built warehouse (its data folder and key) so that a test module can change its own copy of a
warehouse another module also reads."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from svduty.config import Settings
from svduty.ingest.partners import ingest_feed
from svduty.ingest.sources import find_sources
from svduty.synth import PERSON_FEEDS

ROOT = Path(__file__).resolve().parents[1]
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


def encode_feeds(feeds: str | Path, out: str | Path, secret: str | Path) -> None:
    """Encode, as each partner would, every file of every person-level feed under ``feeds``
    into ``out`` (one file of encodings per file, under the same name) with the secret file."""
    from svduty.privacy.bloom import encode_feed_file

    for feed in PERSON_FEEDS:
        for path in sorted((Path(feeds) / feed).glob("*.csv")):
            encode_feed_file(feed, path, Path(out) / f"{path.stem}.csv", secret)


@contextmanager
def encoding_beside(feeds: Path, out: Path, secret: Path) -> Iterator[Callable[[], None]]:
    """:func:`encode_feeds` in a process of its own, so that the encoding (CPU-bound Python)
    runs beside what the caller does meanwhile (loading, linking). Yields the function that waits
    for it (and fails, with what it said, where it failed); the process is killed if the block
    is left before."""
    script = "import sys; from tests.partnership import encode_feeds; encode_feeds(*sys.argv[1:])"
    path = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    encoder = subprocess.Popen(
        [sys.executable, "-c", script, str(feeds), str(out), str(secret)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def wait() -> None:
        said, err = encoder.communicate(timeout=900)
        assert encoder.returncode == 0, f"encoding failed:\n{said}\n{err}"

    try:
        yield wait
    finally:
        if encoder.poll() is None:
            encoder.kill()
            encoder.communicate()
