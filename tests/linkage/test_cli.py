"""The linkage commands end to end: `svduty encode` at a partner's site, `svduty link-files` at
the hub, in trusted and encoded mode, on the FEBRL benchmark and on a synthetic partner feed."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from svduty.linkage.quality import pair_quality, read_truth_pairs
from svduty.synth import generate
from tests.conftest import SHARED, needs_shared, run_cli

LINKAGE = SHARED / "linkage"


def _pairs(path: Path) -> tuple[list[str], set[tuple[str, str]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], {(r[0], r[1]) for r in rows[1:]}


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "linkage.secret").write_bytes(bytes(range(48)))
    return keys / "linkage.secret"


@needs_shared()
@pytest.mark.slow
def test_febrl4_in_both_modes(tmp_path: Path, secret: Path) -> None:
    a, b = LINKAGE / "febrl_dataset4a.csv", LINKAGE / "febrl_dataset4b.csv"
    truth = read_truth_pairs(LINKAGE / "febrl_dataset4_true_links.csv")
    done = run_cli("link-files", str(a), str(b), "--id-column", "rec_id",
                   "--out", str(tmp_path / "trusted.csv"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    header, pairs = _pairs(tmp_path / "trusted.csv")
    assert header == ["id_l", "id_r", "match_probability"]
    trusted = pair_quality(pairs, truth, dedupe=False)["f1"]
    assert trusted >= 0.99
    work = tmp_path / "partner"
    for name, path in (("a", a), ("b", b)):
        target = str(work / f"{name}.csv")
        done = run_cli("encode", "csv", str(path), "--id-column", "rec_id",
                       "--secret-file", str(secret), "--out", target)  # fmt: skip
        assert done.returncode == 0, done.stderr
    encoded_text = (work / "a.csv").read_text()
    assert "michaela" not in encoded_text and "neumann" not in encoded_text
    done = run_cli("link-files", str(work / "a.csv"), str(work / "b.csv"), "--mode", "encoded",
                   "--out", str(tmp_path / "encoded.csv"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    header, pairs = _pairs(tmp_path / "encoded.csv")
    assert header == ["id_l", "id_r", "match_probability"]
    encoded = pair_quality(pairs, truth, dedupe=False)["f1"]
    assert encoded >= trusted - 0.02


def test_a_partner_feed_is_encoded_without_its_identifiers(tmp_path: Path, secret: Path) -> None:
    generate(tmp_path / "synth", seed=3, years=1, scale=0.05)
    path = sorted((tmp_path / "synth" / "feeds" / "istv").glob("*.csv"))[0]
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = tmp_path / "encoded" / "istv.csv"
    done = run_cli("encode", "istv", str(path), "--secret-file", str(secret), "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    for row in rows[:50]:
        for column in ("Surname", "Forename", "NHS Number", "Postcode", "Date of Birth"):
            if len(row[column]) > 3:
                assert row[column] not in text, column
    assert len(text.splitlines()) == len(rows) + 1
    bad = run_cli("encode", "fire", str(path), "--secret-file", str(secret), "--out", str(out))
    assert bad.returncode != 0 and "person-level" in bad.stderr


def test_link_files_needs_an_id_column_in_trusted_mode(tmp_path: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_text("ref,surname\n1,Smith\n2,Smyth\n")
    done = run_cli("link-files", str(one), "--out", str(tmp_path / "p.csv"))
    assert done.returncode != 0 and "--id-column" in done.stderr


def test_link_command_writes_person_keys(tmp_path: Path) -> None:
    import json

    import duckdb

    from svduty.config import Settings
    from svduty.demo import run_demo
    from svduty.warehouse import connect

    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "key")
    con = connect(settings)
    run_demo(con, settings, seed=2, years=1, scale=0.03)
    con.disconnect()
    env = {"SVDUTY_KEY_FILE": str(tmp_path / "key")}
    done = run_cli("link", "--json", data_dir=settings.data_dir, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert 0 < summary["clusters"] < summary["records"]
    db = duckdb.connect(str(settings.data_dir / "warehouse.duckdb"), read_only=True)
    rows, keys = db.execute(
        "SELECT count(*), count(DISTINCT linked_key) FROM person_links"
    ).fetchone()
    db.close()
    assert (rows, keys) == (summary["records"], summary["clusters"])
