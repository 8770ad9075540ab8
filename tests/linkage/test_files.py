"""Linking CSV extracts in trusted mode: the FEBRL benchmark, refusals, outputs, no identifiers."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from svduty.errors import FileRefused
from svduty.linkage.files import (
    LinkResult,
    link_files,
    write_clusters,
    write_model,
    write_pairs,
)
from svduty.linkage.model import BlockingRule, count_pairs
from svduty.linkage.quality import pair_quality, read_truth_pairs
from tests.conftest import SHARED, needs_shared

FEBRL = SHARED / "linkage"


def needs_febrl(test):  # type: ignore[no-untyped-def]
    """Real public data: skipped, saying why, where ../shared/data/linkage is absent."""
    marks = [
        needs_shared(),
        pytest.mark.skipif(not FEBRL.is_dir(), reason=f"the FEBRL folder {FEBRL} is absent"),
        pytest.mark.shared,
        pytest.mark.slow,
    ]
    for mark in marks:
        test = mark(test)
    return test


# Six people on each side, one of them (L4, R5) in both with a typo in the surname. The left
# file has the FEBRL layout (a space after each comma), the right one a byte-order mark.
LEFT = """person_ref, First Name, Last Name, Date of Birth, Postcode
L1, Ann, Lee, 1990-01-01, CB1 1AA
L2, Bob, Ray, 1985-05-05, CB2 2BB
L3, Cathy, Ng, 1970-07-07, CB3 3CC
L4, David, Oyelaran, 2001-12-24, PE1 4DD
L5, Emma, Price, 1999-03-15, PE2 5EE
L6, Farid, Qureshi, 1964-08-30, CB4 6FF
"""
RIGHT = """\ufeffperson_ref,First Name,Last Name,Date of Birth,Postcode
R1,George,Smith,1955-02-02,CB5 7GG
R2,Hannah,Taylor,1988-10-10,PE3 8HH
R3,Ian,Umar,1977-04-04,CB6 9JJ
R4,Jade,Vance,2003-06-06,PE4 1KK
R5,David,Oyelaren,2001-12-24,PE1 4DD
R6,Kate,Wong,1992-11-11,CB7 2LL
"""
IDENTIFIERS = ["Oyelaran", "oyelaran", "Qureshi", "qureshi", "2001-12-24", "PE1 4DD", "L4", "R5"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tiny")
    (folder / "left.csv").write_text(LEFT, encoding="utf-8")
    (folder / "right.csv").write_text(RIGHT, encoding="utf-8")
    return folder / "left.csv", folder / "right.csv"


@pytest.fixture(scope="module")
def tiny_result(tiny: tuple[Path, Path]) -> LinkResult:
    return link_files(tiny[0], tiny[1], "person_ref")


def _report(name: str, quality: dict[str, float], seconds: float) -> None:
    print(
        f"\n{name}: precision {quality['precision']:.4f}, recall {quality['recall']:.4f}, "
        f"F1 {quality['f1']:.4f} (TP {quality['true_positives']}, FP {quality['false_positives']},"
        f" FN {quality['false_negatives']}) in {seconds:.1f} s"
    )


def test_tiny_files_link_the_obvious_match(tiny_result: LinkResult) -> None:
    result = tiny_result
    assert list(result.pairs.columns) == ["id_l", "id_r", "match_probability"]
    assert list(zip(result.pairs.id_l, result.pairs.id_r, strict=True)) == [("L4", "R5")]
    assert result.pairs.match_probability.iloc[0] > 0.9
    assert result.link_type == "link_only"
    assert result.columns == {
        "First Name": "forename",
        "Last Name": "surname",
        "Date of Birth": "date",
        "Postcode": "postcode",
    }
    clusters = result.clusters
    assert list(clusters.columns) == ["id", "source", "cluster_id"]
    assert len(clusters) == 12 and clusters.cluster_id.nunique() == 11
    together = clusters[clusters.id.isin(["L4", "R5"])]
    assert set(together.source) == {"left", "right"} and together.cluster_id.nunique() == 1


def test_writers_give_the_exact_headers(tiny_result: LinkResult, tmp_path: Path) -> None:
    pairs = write_pairs(tiny_result, tmp_path / "pairs.csv").read_text().splitlines()
    assert pairs[0] == "id_l,id_r,match_probability"
    assert pairs[1].startswith("L4,R5,0.99")
    clusters = write_clusters(tiny_result, tmp_path / "clusters.csv").read_text().splitlines()
    assert clusters[0] == "id,source,cluster_id" and len(clusters) == 13
    model = json.loads(write_model(tiny_result, tmp_path / "model.json").read_text())
    assert model["columns"]["Last Name"]["kind"] == "surname" and model["pairs"] == 1


def test_dedupe_one_file_and_limit_the_columns(tmp_path: Path) -> None:
    body = LEFT + "L7, Davíd, Oyelaren, 2001-12-24, PE14DD\n"
    (tmp_path / "one.csv").write_text(body, encoding="utf-8")
    result = link_files(tmp_path / "one.csv", None, "person_ref", columns=["Last Name", "Postcode"])
    assert result.link_type == "dedupe_only"
    assert list(result.columns) == ["Last Name", "Postcode"]
    assert list(zip(result.pairs.id_l, result.pairs.id_r, strict=True)) == [("L4", "L7")]
    assert set(result.clusters.source) == {"left"}


def test_nothing_identifying_is_logged(
    tiny: tuple[Path, Path], caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    splink_level = logging.getLogger("splink").level
    link_files(tiny[0], tiny[1], "person_ref")
    out = capsys.readouterr()
    said = caplog.text + out.out + out.err
    assert not [value for value in IDENTIFIERS if value in said]
    assert logging.getLogger("splink").level == splink_level  # restored after the run


def test_missing_id_column_is_refused(tiny: tuple[Path, Path]) -> None:
    with pytest.raises(FileRefused) as e:
        link_files(tiny[0], tiny[1], "nhs_number")
    assert e.value.rule == "id-column"
    assert "left.csv" in str(e.value) and "'nhs_number'" in str(e.value)


def test_duplicate_ids_are_refused_without_their_values(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text(LEFT + "L4, Dave, Oyelaran, 2001-12-24, PE1 4DD\n", encoding="utf-8")
    with pytest.raises(FileRefused) as e:
        link_files(path, None, "person_ref")
    message = str(e.value)
    assert e.value.rule == "id-unique"
    assert "twice.csv" in message and "'person_ref'" in message
    assert "row 5 (the header is row 1)" in message
    assert not [value for value in IDENTIFIERS if value in message]


def test_a_comparison_column_missing_from_one_file_is_refused(tiny: tuple[Path, Path]) -> None:
    with pytest.raises(FileRefused) as e:
        link_files(tiny[0], tiny[1], "person_ref", columns=["Last Name", "NHS number"])
    assert "left.csv" in str(e.value) and "'NHS number'" in str(e.value)


@needs_febrl
def test_febrl4_links_two_files() -> None:
    start = time.perf_counter()
    result = link_files(FEBRL / "febrl_dataset4a.csv", FEBRL / "febrl_dataset4b.csv", "rec_id")
    seconds = time.perf_counter() - start
    truth = read_truth_pairs(FEBRL / "febrl_dataset4_true_links.csv")
    assert len(truth) == 5000
    quality = pair_quality(result.pairs, truth, dedupe=False)
    _report("FEBRL4 (5,000 + 5,000 records, link_only, p >= 0.5)", quality, seconds)
    assert quality["f1"] >= 0.99
    assert result.pairs.id_l.str.endswith("-org").all()  # left ids from febrl_dataset4a
    assert len(result.clusters) == 10_000


@needs_febrl
def test_febrl1_deduplicates_one_file() -> None:
    start = time.perf_counter()
    result = link_files(FEBRL / "febrl_dataset1.csv", None, "rec_id")
    seconds = time.perf_counter() - start
    truth = read_truth_pairs(FEBRL / "febrl_dataset1_true_links.csv")
    quality = pair_quality(result.pairs, truth, dedupe=True)
    _report("FEBRL1 (1,000 records, dedupe_only, p >= 0.5)", quality, seconds)
    assert quality["f1"] >= 0.95


def test_pairs_are_counted_as_splink_blocks_them() -> None:
    """The blocking rules' counts (coarse prefix keys too) are the pairs Splink's SQL joins."""
    rng = np.random.default_rng(3)
    names = np.array(["ann", "anna", "bob", "bo", "lee", "leo", "ray", None], dtype=object)
    dates = np.array(["1990-01-01", "1990-02-03", "1991-01-01", "1985-05-05", None], dtype=object)

    def people(n: int) -> pd.DataFrame:
        frame = pd.DataFrame(
            {"i": range(n), "f": rng.choice(names, n), "s": rng.choice(names, n)}
            | {"dob": rng.choice(dates, n)}
        )
        return frame[frame.f.isna() | (frame.f != frame.s)]  # not its own swapped pair

    one, other = people(300), people(200)
    rules = [
        BlockingRule(("f", "s")),
        BlockingRule(("f", "s"), swapped=True),
        BlockingRule(("dob", "s"), prefixes=(0, 1)),
        BlockingRule(("f", "s", "dob"), prefixes=(0, 0, 4)),
    ]
    con = duckdb.connect(":memory:")
    con.register("one", one)
    con.register("other", other)
    for rule in rules:
        sql = rule.splink_rule()
        sql = sql if isinstance(sql, str) else sql.get_blocking_rule("duckdb").blocking_rule_sql
        linked = con.sql(f"SELECT count(*) FROM one AS l JOIN other AS r ON {sql}").fetchone()
        within = con.sql(f"SELECT count(*) FROM one AS l JOIN one AS r ON ({sql}) AND l.i < r.i")
        assert linked[0] > 0 and count_pairs([one, other], rule) == linked[0], rule.describe()
        assert count_pairs([one], rule) == within.fetchone()[0], rule.describe()
