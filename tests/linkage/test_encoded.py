"""Linkage on encodings only: the FEBRL benchmarks, whose true pairs are known, linked at F1 within
0.02 of the trusted mode's 0.99 with no identifier leaving the partner; files encoded under
different secrets or settings refused."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pytest

from svduty.errors import ConfigError
from svduty.linkage.encoded import link_encoded, read_encoded
from svduty.privacy.bloom import encode_file, encode_table
from tests.conftest import SHARED

LINKAGE = SHARED / "linkage"
SECRET = bytes(range(32))
TARGET_F1 = 0.97

pytestmark = pytest.mark.skipif(
    not LINKAGE.is_dir(), reason=f"the FEBRL files are absent from {LINKAGE}"
)


def _quality(predicted: Iterable[tuple[str, str]], truth: Iterable[tuple[str, str]]) -> dict:
    """Precision, recall and F1 of predicted pairs against true pairs (order within a pair
    ignored, as a deduplication's pairs have none)."""
    found = {frozenset(p) for p in predicted}
    true = {frozenset(p) for p in truth}
    hits = len(found & true)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(true)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def _pairs(pairs: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(pairs["id_l"], pairs["id_r"], strict=True))


def _truth(name: str) -> list[tuple[str, str]]:
    links = pd.read_csv(LINKAGE / name, dtype=str)
    return list(zip(links.iloc[:, 0], links.iloc[:, 1], strict=True))


@pytest.fixture(scope="module")
def febrl4(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """FEBRL dataset 4 encoded by each "partner" as the CLI would: from its CSV, with the secret
    in a folder of its own and the kinds guessed from the column names."""
    keys, hub = tmp_path_factory.mktemp("keys"), tmp_path_factory.mktemp("hub")
    (keys / "linkage.key").write_bytes(SECRET)
    start = time.perf_counter()
    for part in ("a", "b"):
        encode_file(
            LINKAGE / f"febrl_dataset4{part}.csv",
            hub / f"4{part}.csv",
            "rec_id",
            keys / "linkage.key",
        )
    return hub / "4a.csv", hub / "4b.csv", time.perf_counter() - start


def _without(path: Path, fields: list[str]) -> pd.DataFrame:
    """A file of encodings as the hub would link it with some fields left out."""
    df = read_encoded(path)
    gone = [c for c in df.columns if any(c.startswith(f"bf:{f}") or f"{f}." in c for f in fields)]
    return df.drop(columns=gone)


@pytest.mark.parametrize(
    "left_out",
    [[], ["soc_sec_id"], ["soc_sec_id", "street_number", "address_1", "address_2", "state"]],
    ids=["all-fields", "no-id-number", "names-dob-postcode-suburb"],
)
def test_febrl4_encoded_linkage_is_within_two_points_of_trusted(
    febrl4: tuple[Path, Path, float], left_out: list[str]
) -> None:
    left, right, encode_seconds = febrl4
    start = time.perf_counter()
    pairs, clusters = link_encoded(_without(left, left_out), _without(right, left_out))
    link_seconds = time.perf_counter() - start

    quality = _quality(_pairs(pairs), _truth("febrl_dataset4_true_links.csv"))
    print(
        f"FEBRL4 encoded, fields left out: {', '.join(left_out) or 'none'}; "
        f"precision {quality['precision']:.4f} recall {quality['recall']:.4f} "
        f"F1 {quality['f1']:.4f}; {pairs.attrs['candidates']:,} candidate pairs; "
        f"encoding {encode_seconds:.1f} s, linkage {link_seconds:.1f} s"
    )
    assert quality["f1"] >= TARGET_F1
    assert len(clusters) == 10_000
    assert pairs["match_probability"].between(0.5, 1.0).all()
    assert pairs.attrs["model"]["prior"] == pytest.approx(5_000 / 5_000**2, rel=0.1)


def test_febrl3_deduplication_and_clusters(tmp_path: Path) -> None:
    records = pd.read_csv(
        LINKAGE / "febrl_dataset3.csv", dtype=str, skipinitialspace=True, keep_default_na=False
    )
    fields = {
        "given_name": "name",
        "surname": "name",
        "street_number": "text",
        "address_1": "text",
        "address_2": "text",
        "suburb": "text",
        "postcode": "postcode",
        "state": "text",
        "date_of_birth": "date",
        "soc_sec_id": "code",
    }
    encoded = encode_table(records, fields, SECRET, id_column="rec_id")

    pairs, clusters = link_encoded(encoded)

    quality = _quality(_pairs(pairs), _truth("febrl_dataset3_true_links.csv"))
    print(f"FEBRL3 encoded deduplication: {quality}")
    assert quality["f1"] >= TARGET_F1
    # 2,000 people; a cluster is a person when its records share the rec-<N>- number
    entity = clusters["id"].str.extract(r"rec-(\d+)-")[0]
    assert abs(clusters["cluster"].nunique() - 2_000) / 2_000 < 0.05
    pure = clusters.assign(entity=entity).groupby("cluster")["entity"].nunique() == 1
    assert pure.mean() > 0.99
    linked = clusters.set_index("id")["cluster"]
    assert (linked[pairs["id_l"]].to_numpy() == linked[pairs["id_r"]].to_numpy()).all()


def _small(secret: bytes = SECRET, **options: object) -> pd.DataFrame:
    people = pd.DataFrame(
        {"ref": ["1", "2"], "surname": ["Dent", "Prefect"], "dob": ["1950-01-02", "1960-03-04"]}
    )
    return encode_table(
        people, {"surname": "name", "dob": "date"}, secret, id_column="ref", **options
    )


def test_files_encoded_under_different_secrets_or_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="different key"):
        link_encoded(_small(), _small(bytes(range(1, 33))))
    with pytest.raises(ConfigError, match="different bits"):
        link_encoded(_small(), _small(bits=512))
    with pytest.raises(ConfigError, match="different hardening"):
        link_encoded(_small(), _small(hardening="xor"))
    with pytest.raises(ConfigError, match="different kinds or k"):
        link_encoded(_small(), _small(k={"surname": 10}))
    with pytest.raises(ConfigError, match="not a file of encodings"):
        link_encoded(pd.DataFrame({"id": ["1"], "surname": ["Dent"]}))
    with pytest.raises(ConfigError, match="threshold"):
        link_encoded(_small(), _small(), threshold=0)


def test_a_higher_threshold_keeps_fewer_pairs(febrl4: tuple[Path, Path, float]) -> None:
    left, right, _ = febrl4
    names_only = ["soc_sec_id", "street_number", "address_1", "address_2", "suburb", "state"]
    lhs, rhs = _without(left, names_only), _without(right, names_only)
    loose, _ = link_encoded(lhs, rhs, threshold=0.5)
    strict, _ = link_encoded(lhs, rhs, threshold=0.99)
    assert set(_pairs(strict)) < set(_pairs(loose))


def test_an_altered_encoding_is_refused() -> None:
    altered = _small()
    altered.loc[0, "bf:surname"] = altered.loc[0, "bf:surname"][:-2]
    with pytest.raises(ConfigError, match="not hex of 256 bytes"):
        link_encoded(_small(), altered)
