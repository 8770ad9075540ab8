"""Finding files among paths, folders and archives."""

from __future__ import annotations

import zipfile
from pathlib import Path

from svduty.ingest.police_uk import ingest_police_uk
from svduty.ingest.sources import find_sources
from svduty.ingest.status import unusual_months
from tests.conftest import MALFORMED


def test_folders_are_searched_recursively_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x").mkdir(parents=True)
    for p in ("b/2.csv", "a/x/1.csv", "a/notes.txt"):
        (tmp_path / p).write_text("h\n")
    sources, refused = find_sources([tmp_path])
    assert [s.name for s in sources] == ["1.csv", "2.csv"]
    assert refused == []


def test_missing_paths_and_broken_archives_are_refused(tmp_path: Path) -> None:
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    (tmp_path / "empty").mkdir()
    sources, refused = find_sources(
        [tmp_path / "nope.csv", tmp_path / "broken.zip", tmp_path / "empty"]
    )
    assert sources == []
    assert [r.rule for r in refused] == ["not-found", "not-zip", "not-found"]


def test_a_police_uk_archive_as_downloaded(tmp_path: Path, con: object) -> None:
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for case in ("bad-lsoa", "formula-payload"):
            src = MALFORMED / case / "2024-01-testforce-street.csv"
            month = "2024-02" if case == "bad-lsoa" else "2024-01"
            data = src.read_text().replace("2024-01,", f"{month},")
            zf.writestr(f"{month}/{month}-testforce-street.csv", data)
        zf.writestr("README.txt", "not data")
    sources, refused = find_sources([archive])
    assert [s.display.split("!")[1] for s in sources] == [
        "2024-01/2024-01-testforce-street.csv",
        "2024-02/2024-02-testforce-street.csv",
    ]
    report = ingest_police_uk(con, sources, refused)
    assert [r.rows_loaded for r in report.results] == [3, 3]


def test_unusual_months_flags_a_collapse_not_noise() -> None:
    counts = {f"2024-{m:02d}": n for m, n in enumerate([6116, 6499, 6993, 6913, 7580, 7290], 1)}
    assert unusual_months(counts) == []
    counts["2024-07"] = 2100
    assert [u["month"] for u in unusual_months(counts)] == ["2024-07"]
