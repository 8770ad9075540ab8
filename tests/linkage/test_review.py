"""Linkage quality without ground truth: the model's estimates, the clerical review sample and its
reading, checked against FEBRL 4's true pairs; refusals; the commands end to end."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from svduty.errors import FileRefused
from svduty.linkage.files import link_files
from svduty.linkage.quality import pair_quality, read_truth_pairs
from svduty.linkage.review import (
    LABEL,
    estimate_quality,
    read_review,
    review_quality,
    review_sample,
    write_review,
)
from tests.conftest import run_cli
from tests.linkage.test_files import FEBRL, IDENTIFIERS, LEFT, RIGHT, needs_febrl

# Names and address only (no date of birth or social security number): FEBRL 4 is then hard
# enough that pairs spread over every band and the model makes mistakes worth estimating.
HARD = ["given_name", "surname", "postcode", "suburb"]


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _scored(seed: int = 1) -> pd.DataFrame:
    """10,000 near-certain pairs, 2,000 unlikely ones and 200 in the uncertain middle."""
    rng = np.random.default_rng(seed)
    p = np.concatenate(
        [rng.uniform(0.995, 1, 10_000), rng.uniform(0.01, 0.05, 2_000), rng.uniform(0.2, 0.8, 200)]
    )
    ids = [f"a{i}" for i in range(len(p))]
    return pd.DataFrame({"id_l": ids, "id_r": [f"b{i}" for i in range(len(p))], "p": p}).rename(
        columns={"p": "match_probability"}
    )


def test_estimates_follow_the_probabilities() -> None:
    scored = _scored()
    e = estimate_quality(scored["match_probability"], threshold=0.5)
    p = scored["match_probability"].to_numpy()
    accepted = p[p >= 0.5]
    assert e["accepted_pairs"] == len(accepted) and e["candidate_pairs"] == len(p)
    assert e["precision"] == pytest.approx(accepted.mean(), abs=1e-6)
    assert e["recall"] == pytest.approx(accepted.sum() / p.sum(), abs=1e-6)
    assert e["expected_false_matches"] == pytest.approx(len(accepted) - accepted.sum(), abs=1e-5)
    assert sum(b["pairs"] for b in e["bands"]) == len(p)
    assert [b["accepted"] for b in e["bands"]] == [False, False, True, True, True]
    nothing = estimate_quality([0.2, 0.3], threshold=0.5)
    assert nothing["precision"] is None and nothing["recall"] == 0.0 and nothing["f1"] is None


def test_the_sample_oversamples_the_uncertain_middle() -> None:
    scored = _scored()
    sample = review_sample(scored, 300, threshold=0.5, seed=7)
    assert len(sample) == 300 and not sample.duplicated(["id_l", "id_r"]).any()
    by_band = sample.groupby("band").agg(
        drawn=("sampling_weight", "size"), pairs=("sampling_weight", "sum")
    )
    # the weights give back each band's size: 200 middle pairs split at the threshold 0.5
    assert by_band["pairs"].sum() == pytest.approx(len(scored))
    fraction = by_band["drawn"] / by_band["pairs"]
    assert fraction["[0.1, 0.5)"] > 5 * fraction["[0.99, 1]"]
    assert fraction["[0.5, 0.9)"] > 5 * fraction["[0.01, 0.1)"]
    assert set(sample["accepted"]) == {0, 1}
    assert (sample["accepted"] == (sample["match_probability"] >= 0.5)).all()
    again = review_sample(scored, 300, threshold=0.5, seed=7)
    pd.testing.assert_frame_equal(sample, again)  # the same seed, the same sample
    assert len(review_sample(scored.head(50), 300, threshold=0.5)) == 50  # all, when fewer


def _review_file(tmp_path: Path, labels: list[str]) -> Path:
    sample = review_sample(_scored(), len(labels), threshold=0.5)
    path = write_review(sample, tmp_path / "review.csv")
    rows = _read(path)
    for row, label in zip(rows, labels, strict=True):
        row[LABEL] = label
    _write(path, rows)
    return path


@pytest.mark.parametrize(
    ("label", "found"), [("", "an empty cell"), ("maybe-Oyelaran", "something else")]
)
def test_bad_labels_are_refused_naming_row_and_column(
    tmp_path: Path, label: str, found: str
) -> None:
    path = _review_file(tmp_path, ["1", "0", "1", label, "0"])
    with pytest.raises(FileRefused) as e:
        read_review(path)
    message = str(e.value)
    assert e.value.rule == "review-label"
    assert "row 5 (the header is row 1)" in message and "column 'is_match'" in message
    assert found in message and "Oyelaran" not in message


def test_bad_weights_and_missing_columns_are_refused(tmp_path: Path) -> None:
    path = _review_file(tmp_path, ["1", "0", "1"])
    rows = _read(path)
    rows[1]["sampling_weight"] = "0.5"
    _write(path, rows)
    with pytest.raises(FileRefused) as e:
        read_review(path)
    assert e.value.rule == "review-value" and "row 3" in str(e.value)
    assert "'sampling_weight'" in str(e.value) and "0.5" not in str(e.value)
    _write(path, [{k: v for k, v in r.items() if k != "band"} for r in rows])
    with pytest.raises(FileRefused) as e:
        read_review(path)
    assert e.value.rule == "review-header" and "'band'" in str(e.value)


def test_review_estimates_a_known_truth() -> None:
    """Labels drawn at a known rate per band: the weighted estimate finds the overall rate."""
    scored = _scored()
    sample = review_sample(scored, 400, threshold=0.5, seed=3)
    rng = np.random.default_rng(3)
    # every band's pairs are true matches as often as their probability says
    sample[LABEL] = (rng.uniform(size=len(sample)) < sample["match_probability"]).astype(int)
    q = review_quality(sample)
    p = scored["match_probability"].to_numpy()
    assert q["precision"]["low"] <= p[p >= 0.5].mean() <= q["precision"]["high"]
    assert q["recall"]["low"] <= p[p >= 0.5].sum() / p.sum() <= q["recall"]["high"]
    assert q["labelled"] == 400 and len(q["bands"]) == 4  # [0.9, 0.99) is empty
    assert sum(b["pairs"] for b in q["bands"]) == pytest.approx(len(scored))


def _label_from_truth(sample: pd.DataFrame, truth: set[tuple[str, str]]) -> pd.DataFrame:
    pairs = zip(sample["id_l"], sample["id_r"], strict=True)
    return sample.assign(**{LABEL: [int(pair in truth) for pair in pairs]})


@needs_febrl
def test_febrl4_estimates_and_review_against_the_truth(tmp_path: Path) -> None:
    truth = read_truth_pairs(FEBRL / "febrl_dataset4_true_links.csv")
    start = time.perf_counter()
    result = link_files(
        FEBRL / "febrl_dataset4a.csv", FEBRL / "febrl_dataset4b.csv", "rec_id", columns=HARD
    )
    seconds = time.perf_counter() - start
    true = pair_quality(result.pairs, truth, dedupe=False)
    assert result.scored is not None and result.estimates is not None
    scored = _label_from_truth(result.scored, truth)
    # recall among the scored pairs: what the review can see
    scored_recall = true["true_positives"] / scored[LABEL].sum()
    model = result.estimates
    assert 0.97 < true["precision"] < 1  # hard enough to make mistakes
    assert abs(model["precision"] - true["precision"]) <= 0.03
    assert abs(model["recall"] - scored_recall) <= 0.03
    start = time.perf_counter()
    sample = review_sample(result.scored, 300, result.threshold)
    path = write_review(_label_from_truth(sample, truth), tmp_path / "review.csv")
    review = review_quality(read_review(path))
    review_seconds = time.perf_counter() - start
    precision, recall = review["precision"], review["recall"]
    print(
        f"\nFEBRL4 ({', '.join(HARD)}; {seconds:.1f} s): true precision {true['precision']:.4f}, "
        f"recall {true['recall']:.4f} ({scored_recall:.4f} among scored pairs); model estimates "
        f"precision {model['precision']:.4f}, recall {model['recall']:.4f}; review of 300 "
        f"({review_seconds:.1f} s): precision {precision['estimate']:.4f} "
        f"[{precision['low']:.4f}, {precision['high']:.4f}], recall {recall['estimate']:.4f} "
        f"[{recall['low']:.4f}, {recall['high']:.4f}]"
    )
    assert abs(precision["estimate"] - true["precision"]) <= 0.02
    assert precision["low"] <= true["precision"] <= precision["high"]
    assert abs(recall["estimate"] - scored_recall) <= 0.05
    assert review["labelled"] == 300
    summary = result.summary()
    assert summary["model_estimates"]["accepted_pairs"] == len(result.pairs)


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "extracts"  # the secret of encoded mode must be kept elsewhere
    folder.mkdir()
    (folder / "left.csv").write_text(LEFT, encoding="utf-8")
    (folder / "right.csv").write_text(RIGHT, encoding="utf-8")
    return folder / "left.csv", folder / "right.csv"


def test_cli_review_end_to_end(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    review, model = tmp_path / "review.csv", tmp_path / "model.json"
    done = run_cli("link-files", str(tiny[0]), str(tiny[1]), "--id-column", "person_ref",
                   "--out", str(tmp_path / "pairs.csv"), "--review", "5",
                   "--review-out", str(review), "--model", str(model))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Model estimates (no labels): precision" in done.stdout
    assert not [v for v in IDENTIFIERS if v in done.stdout + done.stderr]
    rows = _read(review)
    assert list(rows[0])[:4] == ["row", LABEL, "First Name (left)", "First Name (right)"]
    assert list(rows[0])[-6:] == ["id_l", "id_r", "match_probability", "band", "accepted",
                                  "sampling_weight"]  # fmt: skip
    assert all(r[LABEL] == "" for r in rows)
    found = {(r["id_l"], r["id_r"]): r for r in rows}
    assert found[("L4", "R5")]["Last Name (left)"] == "Oyelaran"
    assert found[("L4", "R5")]["Last Name (right)"] == "Oyelaren"
    assert json.loads(model.read_text())["model_estimates"]["accepted_pairs"] == 1
    for r in rows:
        r[LABEL] = "1" if (r["id_l"], r["id_r"]) == ("L4", "R5") else "0"
    _write(review, rows)
    done = run_cli("link-review", str(review), "--json")
    assert done.returncode == 0, done.stderr
    quality = json.loads(done.stdout)
    assert quality["precision"]["estimate"] == 1.0 and quality["recall"]["estimate"] == 1.0
    done = run_cli("link-review", str(review))
    assert done.returncode == 0 and "Precision: 1.0000 (95% CI" in done.stdout
    rows[0][LABEL] = "yes, Oyelaran"
    _write(review, rows)
    done = run_cli("link-review", str(review))
    assert done.returncode == 1 and "row 2 (the header is row 1), column 'is_match'" in done.stderr
    assert "Oyelaran" not in done.stderr
    done = run_cli("link-files", str(tiny[0]), "--id-column", "person_ref",
                   "--out", str(tmp_path / "p.csv"), "--review", "5")  # fmt: skip
    assert done.returncode != 0 and "--review-out" in done.stderr


def test_cli_review_in_encoded_mode_has_no_values(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    secret = tmp_path / "keys" / "linkage.secret"
    secret.write_bytes(bytes(range(48)))
    for name, path in (("a", tiny[0]), ("b", tiny[1])):
        target = str(tmp_path / "partner" / f"{name}.csv")
        done = run_cli("encode", "csv", str(path), "--id-column", "person_ref",
                       "--secret-file", str(secret), "--out", target)  # fmt: skip
        assert done.returncode == 0, done.stderr
    review = tmp_path / "review.csv"
    done = run_cli("link-files", str(tmp_path / "partner" / "a.csv"),
                   str(tmp_path / "partner" / "b.csv"),
                   "--mode", "encoded", "--out", str(tmp_path / "pairs.csv"),
                   "--review", "10", "--review-out", str(review),
                   "--clusters", str(tmp_path / "clusters.csv"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = _read(review)
    assert rows and list(rows[0]) == ["row", LABEL, "id_l", "id_r", "match_probability", "band",
                                      "accepted", "sampling_weight"]  # fmt: skip
    text = review.read_text()
    assert not [v for v in IDENTIFIERS if v in text and v not in ("L4", "R5")]
    pairs = _read(tmp_path / "pairs.csv")
    assert all(float(p["match_probability"]) >= 0.5 for p in pairs)
