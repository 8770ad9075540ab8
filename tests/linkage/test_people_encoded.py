"""Cross-agency person linkage in encoded mode on the synthetic partnership: every partner encodes
its feed's files at its own site, the hub links the encodings and writes ``person_links``; quality
against the truth, every warehouse record once, no identifier in the encodings or the warehouse,
and files encoded under another secret refused."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from svduty.config import Settings
from svduty.datasets.partners import FEEDS
from svduty.errors import ConfigError
from svduty.ingest.partners import ingest_feed
from svduty.ingest.sources import find_sources
from svduty.linkage.people_encoded import link_people_encoded
from svduty.privacy.bloom import encode_feed_file
from svduty.synth import PERSON_FEEDS
from svduty.warehouse import connect
from tests.conftest import run_cli
from tests.linkage.test_people import _ident, _quality, _truth
from tests.partnership import Capture

F1_TARGET = 0.95
THRESHOLD = 0.9
SCHEME = (
    r"svduty-bf1 bits=1024 hardening=balance key=[0-9a-f]{16} "
    r"fields=[a-z_]+:[a-z]+:20(,[a-z_]+:[a-z]+:20)*"
)
HEX = re.compile(r"[0-9a-f]+")
IDENTIFIERS = ("forename", "surname", "date_of_birth", "postcode", "nhs_number", "pnc_id")


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory, people_synth: Path) -> dict[str, Any]:
    """The partnership (the session's generated files) loaded at the hub; each feed's files
    encoded by its partner (one through the command line) under a secret the hub does not hold;
    the encodings linked at the hub."""
    tmp = tmp_path_factory.mktemp("people-encoded")
    feeds = people_synth / "feeds"
    settings = Settings(data_dir=tmp / "hub" / "data", key_file=tmp / "hub" / "key")
    secret = tmp / "partners" / "keys" / "linkage.key"  # the partners', outside their data
    secret.parent.mkdir(parents=True)
    secret.write_bytes(bytes(range(7, 55)))
    encodings = tmp / "hub" / "encodings"  # what the partners send the hub
    encodings.mkdir(parents=True)

    started = time.perf_counter()
    files = {feed: sorted((feeds / feed).glob("*.csv")) for feed in PERSON_FEEDS}
    first = files["police-crime"][0]
    done = run_cli(
        "encode", "police-crime", str(first), "--secret-file", str(secret),
        "--out", str(encodings / f"{first.stem}.csv"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for feed, paths in files.items():
        for path in paths:
            if path != first:
                encode_feed_file(feed, path, encodings / f"{path.stem}.csv", secret)
    encode_seconds = time.perf_counter() - started

    con = connect(settings)
    handler = Capture()
    logging.getLogger().addHandler(handler)
    try:
        for feed, paths in files.items():
            ingest_feed(con, settings, feed, *find_sources(paths))
        started = time.perf_counter()
        summary = link_people_encoded(con, settings, [encodings], threshold=THRESHOLD)
        link_seconds = time.perf_counter() - started
        rows = con.table("person_links").to_pyarrow().to_pylist()
        con.disconnect()
        # linked again through the command line: the keys must stay
        relinked = run_cli(
            "link", "--mode", "encoded", "--encodings", str(encodings), "--json",
            "--threshold", str(THRESHOLD), data_dir=settings.data_dir,
            env={"SVDUTY_KEY_FILE": str(settings.key_file)},
        )  # fmt: skip
        assert relinked.returncode == 0, relinked.stderr
        again = json.loads(relinked.stdout)
        con = connect(settings)
        rows_again = con.table("person_links").to_pyarrow().to_pylist()
        warehouse = sum(
            con.table(FEEDS[f].table).count().execute() for f in PERSON_FEEDS
        )  # the person records the warehouse holds
    finally:
        logging.getLogger().removeHandler(handler)
        con.disconnect()

    truth = _truth(people_synth, settings)
    with open(people_synth / "truth" / "persons.csv", encoding="utf-8") as f:
        persons = list(csv.DictReader(f))
    return {
        "tmp": tmp,
        "settings": settings,
        "secret": secret,
        "feeds": files,
        "encodings": encodings,
        "cli_file": (first, encodings / f"{first.stem}.csv"),
        "summary": summary,
        "again": again,
        "rows": rows,
        "rows_again": rows_again,
        "warehouse": warehouse,
        "truth": truth,
        "persons": persons,
        "log": handler.lines,
        "timings": {"encode": encode_seconds, "link": link_seconds},
    }


def test_quality_against_the_truth(linked: dict[str, Any]) -> None:
    overall, across = _quality(linked["rows"], linked["truth"])
    summary = {k: v for k, v in linked["summary"].items() if k != "model"}
    print("\nencoded person linkage, all pairs:", overall, "\nacross feeds:", across)
    print("summary:", summary, "timings:", linked["timings"])
    assert overall["f1"] >= F1_TARGET
    assert across["f1"] >= F1_TARGET
    assert across["true_positives"] > 100  # the feeds do share people
    model = linked["summary"]["model"]
    assert {"forename", "surname", "date_of_birth", "nhs_number", "pnc_id"} <= set(model["fields"])
    assert "pnc_id.exact" in model["blocking_rules"]
    assert model["scheme"]["hardening"] == "balance" and "key" not in model["scheme"]


def test_every_warehouse_record_once_with_its_cluster(linked: dict[str, Any]) -> None:
    rows, summary = linked["rows"], linked["summary"]
    assert len(rows) == linked["warehouse"] == summary["records"] == len(linked["truth"])
    assert {_ident(r) for r in rows} == set(linked["truth"])
    assert summary["encodings"] == summary["records"]
    assert summary["unmatched_encodings"] == summary["records_without_encoding"] == 0
    assert summary["files"] == sum(len(paths) for paths in linked["feeds"].values())
    assert set(summary["feeds"]) == set(PERSON_FEEDS)
    sizes: dict[str, int] = defaultdict(int)
    for r in rows:
        sizes[r["linked_key"]] += 1
    assert len(sizes) == summary["clusters"]
    for r in rows:
        assert r["cluster_size"] == sizes[r["linked_key"]]
        if r["cluster_size"] == 1:
            assert r["match_probability"] is None
        else:
            assert r["match_probability"] >= THRESHOLD
        assert r["linked_at"].tzinfo is not None
    # linking the same encodings again keeps every key
    again = {_ident(r): r["linked_key"] for r in linked["rows_again"]}
    assert again == {_ident(r): r["linked_key"] for r in rows}
    assert linked["again"]["kept_keys"] == summary["clusters"]


def _identifier_values(persons: list[dict[str, str]]) -> set[str]:
    """Every name, date of birth (as ISO, UK and compact dates), postcode (with and without its
    space), NHS number and PNC id of the synthetic people, case-folded."""
    values = set()
    for p in persons:
        for column in IDENTIFIERS:
            if p[column]:
                values.add(p[column].casefold())
        born = dt.date.fromisoformat(p["date_of_birth"])
        values |= {born.strftime("%d/%m/%Y"), born.strftime("%Y%m%d")}
        values.add(p["postcode"].replace(" ", "").casefold())
    return {v for v in values if len(v) > 3}


def test_no_identifier_in_the_encodings_or_the_warehouse(linked: dict[str, Any]) -> None:
    values = _identifier_values(linked["persons"])
    upns = set()
    for path in linked["feeds"]["education"]:
        with open(path, encoding="utf-8") as f:
            upns |= {row["UPN"].casefold() for row in csv.DictReader(f)}
    assert upns
    # what the partners send: hex encodings and hashes, the feed and their own references
    for path in sorted(linked["encodings"].glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert not {"forename", "surname", "date_of_birth", "upn"} & set(frame.columns)
        # the scheme is the settings and the fields' names (names such as "alan" are in them)
        assert frame["scheme"].str.fullmatch(SCHEME).all(), path.name
        cells = {str(v).casefold() for v in frame.drop(columns="scheme").to_numpy().ravel()}
        assert not cells & (values | upns), path.name
        # inside a cell too: only a cell that is not hex can hold a value that is not hex (and a
        # value that is, a postcode such as AB1 2CD compacted, is found by chance in megabytes of
        # hex encodings, so it is looked for as a whole cell only)
        text = "\n".join(c for c in cells if not HEX.fullmatch(c))
        assert not any(v in text for v in values | upns if not HEX.fullmatch(v)), path.name
    # the warehouse's person_links, read back from its file
    settings = linked["settings"]
    con = connect(Settings(data_dir=settings.data_dir))
    try:
        rows = con.table("person_links").to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    assert len(rows) == linked["summary"]["records"]
    cells = {str(v).casefold() for r in rows for v in r.values() if v is not None}
    assert not cells & (values | upns)
    text = "\n".join(c for c in cells if not HEX.fullmatch(c))  # the feeds' names, times
    assert not any(v in text for v in values | upns if not HEX.fullmatch(v))
    # and anywhere in the warehouse file: dates of birth, postcodes and NHS numbers as text
    raw = settings.duckdb_path.read_bytes()
    dates = set(re.findall(rb"\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}", raw))
    assert not {d.decode() for d in dates} & values
    postcodes = re.findall(rb"[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}", raw)
    found = {p.decode().casefold() for p in postcodes}  # pseudonyms are hex: AB12CD is chance
    assert not {f for f in found if not HEX.fullmatch(f)} & values
    runs = re.findall(rb"\d{10,}", raw)
    numbers = {p["nhs_number"].encode() for p in linked["persons"] if p["nhs_number"]}
    assert not any(n in r for r in runs for n in numbers)
    # nor in the summaries or the log
    summary = json.dumps([linked["summary"], linked["again"]]).casefold()
    assert not any(f'"{v}"' in summary for v in values)
    surnames = {p["surname"].casefold() for p in linked["persons"] if len(p["surname"]) > 3}
    logged = "\n".join(linked["log"]).casefold()
    assert not any(s in logged for s in surnames)


def test_the_command_line_encodes_as_the_function_does(linked: dict[str, Any]) -> None:
    source, by_cli = linked["cli_file"]
    again = linked["tmp"] / "again" / "police.csv"
    again.parent.mkdir()
    encode_feed_file("police-crime", source, again, linked["secret"])
    assert by_cli.read_bytes() == again.read_bytes()
    frame = pd.read_csv(by_cli, dtype=str, keep_default_na=False)
    assert list(frame.columns[:3]) == ["id", "person", "feed"]
    assert (frame["feed"] == "police-crime").all()
    # a crime names several people: the record and person references together identify a row
    assert frame["id"].duplicated().any() and not frame[["id", "person"]].duplicated().any()


def test_files_the_hub_cannot_use_are_refused(linked: dict[str, Any]) -> None:
    tmp, settings = linked["tmp"], linked["settings"]
    source = linked["feeds"]["istv"][0]
    other = tmp / "elsewhere" / "keys" / "other.key"
    other.parent.mkdir(parents=True)
    other.write_bytes(bytes(range(100, 148)))
    stray = tmp / "elsewhere" / "out" / "istv-other-secret.csv"
    stray.parent.mkdir()
    encode_feed_file("istv", source, stray, other)
    plain = stray.parent / "istv-plain.csv"  # `svduty encode csv`: no feed, no references
    done = run_cli(
        "encode", "csv", str(source), "--id-column", "Attendance ID", "--columns",
        "Forename,Surname", "--secret-file", str(linked["secret"]), "--out", str(plain),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    narrow = stray.parent / "istv-512.csv"
    encode_feed_file("istv", source, narrow, linked["secret"], bits=512)

    con = connect(settings)
    try:
        before = con.table("person_links").to_pyarrow().to_pylist()
        with pytest.raises(ConfigError, match=r"istv-other-secret\.csv.*different secret"):
            link_people_encoded(con, settings, [linked["encodings"], stray])
        with pytest.raises(ConfigError, match=r"istv-512\.csv.*different bits"):
            link_people_encoded(con, settings, [linked["encodings"], narrow])
        with pytest.raises(ConfigError, match=r"istv-plain\.csv.*no feed column"):
            link_people_encoded(con, settings, [plain])
        with pytest.raises(ConfigError, match="threshold"):
            link_people_encoded(con, settings, [linked["encodings"]], threshold=0)
        with pytest.raises(ConfigError, match="no file or folder"):
            link_people_encoded(con, settings, [tmp / "nowhere"])
        # nothing written by a refused run
        assert con.table("person_links").to_pyarrow().to_pylist() == before
    finally:
        con.disconnect()


def test_encodings_of_records_the_warehouse_lacks_are_counted(linked: dict[str, Any]) -> None:
    """A file the hub never loaded, and one feed's encodings missing: both reported, and every
    warehouse record still gets its row."""
    tmp, settings = linked["tmp"], linked["settings"]
    folder = tmp / "partial"
    folder.mkdir()
    for path in linked["encodings"].glob("*.csv"):
        if not path.name.startswith("probation-"):
            (folder / path.name).write_bytes(path.read_bytes())
    stray = folder / "police-crime-unloaded.csv"
    frame = pd.read_csv(linked["cli_file"][1], dtype=str, keep_default_na=False).head(5)
    frame.assign(id=[f"XX/99/{n:06d}" for n in range(5)]).to_csv(stray, index=False)
    con = connect(settings)
    try:
        summary = link_people_encoded(con, settings, [folder])
        rows = con.table("person_links").to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    assert summary["unmatched_encodings"] == 5
    assert summary["records_without_encoding"] == summary["feeds"]["probation"] > 0
    assert len(rows) == summary["records"] == linked["summary"]["records"]
    probation = [r for r in rows if r["feed"] == "probation"]
    assert all(r["cluster_size"] == 1 and r["match_probability"] is None for r in probation)
