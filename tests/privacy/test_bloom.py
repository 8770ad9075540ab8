"""Keyed Bloom-filter encodings: no identifier in what leaves the partner, the same input and
secret always give the same encoding, another secret an unrelated one, and the Dice coefficient
of encodings tracks the Dice coefficient of the plain bigram sets (computed here independently)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from svduty.errors import ConfigError
from svduty.privacy.bloom import (
    FieldSpec,
    dice,
    dice_hex,
    encode_column,
    encode_file,
    encode_table,
    from_hex,
    read_secret,
)
from svduty.synth.names import FEMALE_FORENAMES, MALE_FORENAMES, SURNAMES

SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(100, 132))
FIELDS = {"forename": "name", "surname": "name", "dob": "date", "postcode": "postcode"}
NAME = FieldSpec("name", 20)


def _people(n: int = 40, seed: int = 7) -> pd.DataFrame:
    """A small partner extract with English names, dates written two ways and UK postcodes."""
    rng = np.random.default_rng(seed)
    forenames = list(MALE_FORENAMES + FEMALE_FORENAMES)
    days = pd.Timestamp("1990-01-01") + pd.to_timedelta(rng.integers(0, 10_000, n), unit="D")
    return pd.DataFrame(
        {
            "ref": [f"P{i:04d}" for i in range(n)],
            "forename": [forenames[i] for i in rng.integers(0, len(forenames), n)],
            "surname": [SURNAMES[i] for i in rng.integers(0, len(SURNAMES), n)],
            "dob": [d.strftime("%d/%m/%Y" if i % 2 else "%Y-%m-%d") for i, d in enumerate(days)],
            "postcode": [
                f"PE{rng.integers(1, 30)} {rng.integers(1, 9)}{'ABDEFGHJ'[i % 8]}Z"
                for i in range(n)
            ],
        }
    )


def _plain_forms(value: str, kind: str) -> set[str]:
    """The ways a value could show in clear: as written, case-folded, and as normalised."""
    forms = {value, value.lower(), value.upper(), re.sub(r"\W", "", value).lower()}
    if kind == "date":
        day = pd.to_datetime(value, dayfirst="/" in value)
        forms |= {day.strftime("%Y%m%d"), day.strftime("%Y-%m-%d"), day.strftime("%d/%m/%Y")}
    return {f for f in forms if len(f) >= 3}


def _bigram_dice(a: str, b: str) -> float:
    """Dice coefficient of the padded bigram sets of two lower-case names, by hand."""
    grams = lambda s: {f"_{s}_"[i : i + 2] for i in range(len(s) + 1)}  # noqa: E731
    x, y = grams(a.lower()), grams(b.lower())
    return 2 * len(x & y) / (len(x) + len(y))


def test_encoded_file_holds_no_identifier(tmp_path: Path) -> None:
    people = _people()
    data, keys = tmp_path / "data", tmp_path / "keys"
    data.mkdir()
    keys.mkdir()
    people.to_csv(data / "extract.csv", index=False)
    (keys / "linkage.key").write_bytes(SECRET)

    rows = encode_file(data / "extract.csv", data / "encoded.csv", "ref", keys / "linkage.key")

    text = (data / "encoded.csv").read_text()
    assert rows == len(people)
    lowered = text.lower()
    for column, kind in FIELDS.items():
        for value in people[column]:
            for form in _plain_forms(value, kind):
                assert form.lower() not in lowered, f"{column} value found in the encoded file"
    # every encoding and blocking key is hex, so no value with a letter past f can hide in them
    encoded = pd.read_csv(data / "encoded.csv", dtype=str, keep_default_na=False)
    for column in encoded.columns:
        if column.startswith(("bf:", "block:")):
            assert encoded[column].str.fullmatch(r"[0-9a-f]*").all()
    assert encoded["id"].tolist() == people["ref"].tolist()


def test_blocking_keys_are_keyed_not_plain_hashes() -> None:
    people = _people()
    a = encode_table(people, FIELDS, SECRET, id_column="ref")
    b = encode_table(people, FIELDS, OTHER_SECRET, id_column="ref")
    blocks = [c for c in a.columns if c.startswith("block:")]
    assert blocks
    for column in blocks:
        assert not set(a[column].dropna()) & set(b[column].dropna())
    plain = {hashlib.sha256(d.encode()).hexdigest()[:32] for d in people["dob"]}
    plain |= {hashlib.sha256(s.encode()).hexdigest()[:32] for s in ["D530", "19900101"]}
    assert not plain & set(a.filter(like="block:").stack())


def test_same_input_and_secret_give_identical_encodings() -> None:
    people = _people()
    first = encode_table(people, FIELDS, SECRET, id_column="ref")
    again = encode_table(people.copy(), FIELDS, bytes(SECRET), id_column="ref")
    pd.testing.assert_frame_equal(first, again)


def test_parallel_workers_give_the_same_encodings() -> None:
    people = _people(300)
    alone = encode_table(people, FIELDS, SECRET, id_column="ref", workers=1)
    side_by_side = encode_table(people, FIELDS, SECRET, id_column="ref", workers=2)
    pd.testing.assert_frame_equal(alone, side_by_side)
    assert alone["bf:surname"].notna().all()


@pytest.mark.parametrize("hardening", ["balance", "xor", "none"])
def test_another_secret_gives_unrelated_encodings(hardening: str) -> None:
    names = list(SURNAMES)
    a = from_hex(encode_column(names, "surname", NAME, SECRET, hardening=hardening))
    b = from_hex(encode_column(names, "surname", NAME, OTHER_SECRET, hardening=hardening))
    observed = dice(a, b)
    # chance level: independent filters of these weights share |a||b|/width bits on average
    width = a.shape[1] * 8
    wa, wb = np.bitwise_count(a).sum(1), np.bitwise_count(b).sum(1)
    chance = 2 * wa * wb / width / (wa + wb)
    assert abs(observed.mean() - chance.mean()) < 0.02
    assert observed.max() < chance.mean() + 0.2
    if hardening == "balance":
        assert abs(observed.mean() - 0.5) < 0.01  # half the bits set in every encoding


def test_dice_identical_is_one_and_unrelated_is_low() -> None:
    encodings = encode_column(
        ["Smith", "Smith", "Smyth", "Okonkwo"], "surname", NAME, SECRET, hardening="none"
    )
    same, typo, unrelated = dice_hex(encodings[:1] * 3, encodings[1:])
    assert same == 1.0
    assert 0.5 < typo < 0.9
    assert unrelated < 0.15


def _variants(name: str, rng: np.random.Generator) -> list[str]:
    """A name with one letter changed, one dropped, two swapped, and an unrelated name."""
    i = int(rng.integers(1, len(name) - 1))
    return [
        name[:i] + "xq"[i % 2] + name[i + 1 :],
        name[:i] + name[i + 1 :],
        name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :],
        SURNAMES[int(rng.integers(0, len(SURNAMES)))],
    ]


@pytest.mark.parametrize("hardening", ["balance", "xor", "none"])
def test_dice_of_encodings_tracks_dice_of_bigrams(hardening: str) -> None:
    rng = np.random.default_rng(5)
    pairs = [(a, b) for a in SURNAMES[:80] if len(a) > 3 for b in _variants(a, rng)]
    names = sorted({n for pair in pairs for n in pair})
    encodings = encode_column(names, "surname", NAME, SECRET, hardening=hardening)
    encoded = dict(zip(names, encodings, strict=True))
    got = dice_hex([encoded[a] for a, _ in pairs], [encoded[b] for _, b in pairs])
    expected = np.array([_bigram_dice(a, b) for a, b in pairs])
    assert spearmanr(got, expected).statistic > 0.85
    if hardening == "none":  # bits shared by chance lift the filter's Dice a little, no more
        assert np.median(got - expected) == pytest.approx(0.05, abs=0.05)
        assert (got >= expected - 0.1).all()


def test_dice_agrees_with_a_bit_by_bit_count() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (50, 128), dtype=np.uint8)
    b = rng.integers(0, 256, (50, 128), dtype=np.uint8)
    bits = lambda x: [bin(v).count("1") for v in x]  # noqa: E731
    expected = [
        2 * sum(bits(x & y)) / (sum(bits(x)) + sum(bits(y))) for x, y in zip(a, b, strict=True)
    ]
    assert np.allclose(dice(a, b), expected)
    assert dice(np.zeros((1, 8), np.uint8), np.zeros((1, 8), np.uint8)).tolist() == [0.0]


def test_balanced_encodings_hide_the_length_of_a_name() -> None:
    names = ["Al", "Li", "Montgomery-Smythe", "Vanderbilt"]
    a = from_hex(encode_column(names, "surname", NAME, SECRET, bits=512))
    assert a.shape[1] * 8 == 1024
    assert (np.bitwise_count(a).sum(1) == 512).all()


def test_the_same_value_in_two_fields_is_salted_apart() -> None:
    names = list(SURNAMES[:50])
    as_surname = from_hex(encode_column(names, "surname", NAME, SECRET, hardening="none"))
    as_forename = from_hex(encode_column(names, "forename", NAME, SECRET, hardening="none"))
    wa, wb = np.bitwise_count(as_surname).sum(1), np.bitwise_count(as_forename).sum(1)
    chance = 2 * wa * wb / (as_surname.shape[1] * 8) / (wa + wb)
    assert abs(dice(as_surname, as_forename).mean() - chance.mean()) < 0.02


def test_hardening_sets_the_length() -> None:
    lengths = {
        h: len(encode_column(["Dent"], "surname", NAME, SECRET, bits=256, hardening=h)[0]) * 4
        for h in ("balance", "xor", "none")
    }
    assert lengths == {"balance": 512, "xor": 128, "none": 256}
    with pytest.raises(ConfigError, match="multiple of 64"):
        encode_column(["Dent"], "surname", NAME, SECRET, bits=100)


def test_a_bad_secret_is_refused(tmp_path: Path) -> None:
    people = _people(3)
    for bad in (b"too short", b"", "a text secret of more than thirty-two chars"):
        with pytest.raises(ConfigError, match="at least 32"):
            encode_table(people, FIELDS, bad, id_column="ref")  # type: ignore[arg-type]

    keys, data = tmp_path / "keys", tmp_path / "data"
    keys.mkdir()
    data.mkdir()
    (keys / "short.key").write_bytes(b"x" * 31)
    with pytest.raises(ConfigError, match="at least 32"):
        read_secret(keys / "short.key")
    with pytest.raises(ConfigError, match="no secret file"):
        read_secret(keys / "missing.key")
    (data / "linkage.key").write_bytes(SECRET)
    people.to_csv(data / "extract.csv", index=False)
    with pytest.raises(ConfigError, match="inside the data folder"):
        encode_file(data / "extract.csv", tmp_path / "out.csv", "ref", data / "linkage.key")
    assert not (tmp_path / "out.csv").exists()

    (keys / "hex.key").write_text(SECRET.hex() + "\r\n")  # a text secret, Windows line end
    assert read_secret(keys / "hex.key") == SECRET.hex().encode()


def test_unknown_kinds_and_columns_are_refused() -> None:
    people = _people(3)
    with pytest.raises(ConfigError, match="kind must be one of"):
        encode_table(people, {"surname": "surname"}, SECRET)
    with pytest.raises(ConfigError, match="not a column"):
        encode_table(people, {"nhs_number": "code"}, SECRET)
    with pytest.raises(ConfigError, match="empty in row"):
        encode_table(people.assign(ref=["a", "", None]), FIELDS, SECRET, id_column="ref")
    with pytest.raises(ConfigError, match="blocking rule part"):
        encode_table(people, FIELDS, SECRET, blocking=[("surname.metaphone",)])
