"""Keyed Bloom-filter encodings of identifiers, made at a partner's site, so that a hub can link
records on encodings alone and never receive a name, a date of birth or a postcode.

Each identifying field of a record becomes a Bloom filter (Schnell, Bachteler & Reiher 2009): its
normalised value is cut into q-grams, each q-gram sets ``k`` bits chosen by keyed hashing, and two
filters are compared with the Dice coefficient, which tracks the share of q-grams two values have
in common. Exact identifiers used for blocking become keyed HMAC hashes. Every key is derived from
the partnership's secret with HKDF (as :mod:`svduty.privacy.keys`), one key per field and purpose.

Hardening applied (see ``docs/privacy-preserving-linkage.md`` for what it does and does not stop):

- q-grams are prefixed with their field's name and hashed under the field's own key (salting per
  field), so the same bigram in a surname and in a street sets unrelated bits;
- positions come from keyed double hashing (HMAC-SHA256 under two derived keys; Kirsch &
  Mitzenmacher 2006), so no one without the secret can encode a guess;
- ``balance`` (the default): each filter is concatenated with its complement, so that every
  encoding of a field has exactly half its bits set, whatever the length of the value (balanced
  Bloom filters, Schnell & Borgs 2016); ``xor`` folds the filter onto itself instead (Schnell,
  Borgs & Encarnacao 2016);
- a keyed random permutation of the bit positions, per field, which hides which half is the
  complement and the arithmetic pattern of double hashing (Niedermeyer et al. 2014).
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import hmac
import io
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from svduty.errors import ConfigError
from svduty.privacy.keys import derive

#: From this many records, fields and blocking rules are encoded in parallel processes.
PARALLEL_ROWS = 50_000

SCHEME = "svduty-bf1"
MIN_SECRET_BYTES = 32
KINDS = ("name", "text", "date", "postcode", "code")
DEFAULT_K = {"name": 20, "text": 12, "date": 20, "postcode": 20, "code": 20}
Hardening = Literal["balance", "xor", "none"]
BLOCK_CHARS = 32
ENCODING_PREFIX = "bf:"
BLOCK_PREFIX = "block:"

_DATE_FORMATS = (
    (re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})"), (1, 2, 3)),  # 2001-02-03, 20010203
    (re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$"), (3, 2, 1)),  # 03/02/2001 (UK order)
)
_SOUNDEX = {
    c: d
    for letters, d in zip(("bfpv", "cgjkqsxz", "dt", "l", "mn", "r"), "123456", strict=True)
    for c in letters
}


@dataclass(frozen=True)
class FieldSpec:
    """How one column is encoded: its kind (``name``, ``text``, ``date``, ``postcode`` or
    ``code``) and ``k``, the bits each q-gram sets (a larger ``k`` gives the field more weight in a
    single filter; here it sets how full the field's filter is)."""

    kind: str
    k: int

    def describe(self, column: str) -> str:
        return f"{column}:{self.kind}:{self.k}"


def normalise(value: object) -> str:
    """Case-folded, accents and punctuation removed, spaces collapsed.

    Examples:
        >>> normalise("  Zoë  O'Brien-Smith ")
        'zoe o brien smith'
        >>> normalise(None)
        ''
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def qgrams(text: str, q: int = 2) -> list[str]:
    """Padded q-grams of ``text`` (``_`` marks the start and the end), in order, with repeats.

    Examples:
        >>> qgrams("anna")
        ['_a', 'an', 'nn', 'na', 'a_']
        >>> qgrams("")
        []
    """
    if not text:
        return []
    padded = "_" * (q - 1) + text + "_" * (q - 1)
    return [padded[i : i + q] for i in range(len(padded) - q + 1)]


def normalise_date(value: object) -> str:
    """A date as ``YYYYMMDD`` (from ``YYYYMMDD``, ``YYYY-MM-DD`` or the UK's ``DD/MM/YYYY``), or
    its digits when it is none of those.

    Examples:
        >>> normalise_date("1985-07-04"), normalise_date("4/7/1985"), normalise_date("19850704")
        ('19850704', '19850704', '19850704')
    """
    text = "" if value is None else str(value).strip()
    if text.lower() in ("", "nan", "none", "nat"):
        return ""
    for pattern, (y, m, d) in _DATE_FORMATS:
        found = pattern.match(text)
        if found:
            return f"{found[y]}{int(found[m]):02d}{int(found[d]):02d}"
    return re.sub(r"\D", "", text)


@lru_cache(maxsize=1 << 16)
def normalise_field(kind: str, value: object) -> str:
    """The normalised value of one field, as its tokens and blocking keys are computed from it.

    Names lose their spaces (``O'Brien`` and ``OBrien`` agree), postcodes and codes are upper-case
    without spaces, dates are ``YYYYMMDD``.

    Examples:
        >>> normalise_field("name", "O'Brien"), normalise_field("postcode", "cb1 2ab")
        ('obrien', 'CB12AB')
    """
    if kind == "date":
        return normalise_date(value)
    text = normalise(value)
    if kind == "name":
        return text.replace(" ", "")
    if kind in ("postcode", "code"):
        return text.replace(" ", "").upper()
    return text


def tokens(column: str, kind: str, value: object) -> list[str]:
    """The tokens a field's value sets bits for, each prefixed with the column's name.

    Names, postcodes and codes give padded bigrams; free text gives the padded bigrams of each
    word (so word order matters little); a date gives its digits by position and its year, month
    and day, so that a one-digit typo keeps most tokens.

    Examples:
        >>> tokens("surname", "name", "Dent")
        ['surname|_d', 'surname|de', 'surname|en', 'surname|nt', 'surname|t_']
        >>> tokens("dob", "date", "1985-07-04")[-3:]
        ['dob|y1985', 'dob|m07', 'dob|d04']
    """
    text = normalise_field(kind, value)
    if not text:
        return []
    if kind == "date":
        grams = [f"{i}{c}" for i, c in enumerate(text)]
        if len(text) == 8:
            grams += [f"y{text[:4]}", f"m{text[4:6]}", f"d{text[6:]}"]
    elif kind == "text":
        grams = [g for word in text.split() for g in qgrams(word)]
    else:
        grams = qgrams(text)
    return [f"{column}|{g}" for g in grams]


@lru_cache(maxsize=1 << 16)
def soundex(name: str) -> str:
    """The American Soundex code of a name (first letter and three digits).

    Examples:
        >>> soundex("Robert"), soundex("Rupert"), soundex("Tymczak"), soundex("Pfister")
        ('R163', 'R163', 'T522', 'P236')
    """
    letters = [c for c in normalise(name) if "a" <= c <= "z"]
    if not letters:
        return ""
    code, last = [], _SOUNDEX.get(letters[0], "")
    for c in letters[1:]:
        digit = _SOUNDEX.get(c, "")
        if digit and digit != last:
            code.append(digit)
        if c not in "hw":
            last = digit
    return (letters[0].upper() + "".join(code) + "000")[:4]


def postcode_district(postcode: str) -> str:
    """The outward code of a UK postcode (all but the last three characters); other postcodes
    (four-digit Australian ones, for instance) whole.

    Examples:
        >>> postcode_district("CB1 2AB"), postcode_district("pe13 1aa"), postcode_district("4223")
        ('CB1', 'PE13', '4223')
    """
    text = normalise_field("postcode", postcode)
    uk = re.fullmatch(r"([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})", text)
    return uk[1] if uk else text


_TRANSFORMS = {
    "exact": lambda kind, v: normalise_field(kind, v),
    "soundex": lambda kind, v: soundex(normalise_field(kind, v)),
    "first": lambda kind, v: normalise_field(kind, v)[:1],
    "year": lambda kind, v: normalise_date(v)[:4],
    "district": lambda kind, v: postcode_district(v),
}


def default_blocking(fields: Mapping[str, str]) -> list[tuple[str, ...]]:
    """Blocking rules built from the fields' kinds: candidate pairs agree on at least one rule.

    Each rule is a tuple of ``column.transform`` parts (transforms: ``exact``, ``soundex``,
    ``first``, ``year``, ``district``): each code (an NHS number, say) and each full date of
    birth; each name's Soundex code with the year of birth; each name's Soundex code with the
    postcode district; all names' Soundex codes together.

    Examples:
        >>> default_blocking({"forename": "name", "surname": "name", "dob": "date"})
        [('dob.exact',), ('forename.soundex', 'dob.year'), ('surname.soundex', 'dob.year'), \
('forename.soundex', 'surname.soundex')]
        >>> default_blocking({"forename": "name", "surname": "name"})  # no date: names alone
        [('forename.soundex', 'surname.soundex')]
    """
    names = [c for c, kind in fields.items() if kind == "name"]
    dates = [c for c, kind in fields.items() if kind == "date"]
    postcodes = [c for c, kind in fields.items() if kind == "postcode"]
    codes = [c for c, kind in fields.items() if kind == "code"]
    rules: list[tuple[str, ...]] = [(f"{c}.exact",) for c in codes + dates]
    extras = [f"{dates[0]}.year"] if dates else []
    for extra in extras + [f"{p}.district" for p in postcodes[:1]]:
        rules += [(f"{n}.soundex", extra) for n in names]
    if len(names) > 1:
        rules.append(tuple(f"{n}.soundex" for n in names))
    return rules


def read_secret(path: str | Path, data_paths: Sequence[str | Path] = ()) -> bytes:
    """The partnership's secret from its file, refused when short or kept beside the data.

    Raises:
        ConfigError: the file is missing, holds fewer than 32 bytes, or sits inside the folder of
            one of ``data_paths`` (whoever copies the data folder must not get the key with it).
    """
    path = Path(path)
    for data in data_paths:
        folder = Path(data).resolve().parent
        if path.resolve().is_relative_to(folder):
            raise ConfigError(
                f"the secret file {path} is inside the data folder {folder}; keep it elsewhere"
            )
    if not path.is_file():
        raise ConfigError(f"no secret file at {path}; ask the partnership for its linkage secret")
    secret = path.read_bytes()
    if secret.isascii() and secret.strip().isalnum():
        secret = secret.strip()  # a hex or base32 text file, newline or not, on any platform
    return check_secret(secret)


def check_secret(secret: bytes) -> bytes:
    """``secret`` itself, or :class:`ConfigError` when it is not bytes of 32 or more."""
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        found = len(secret) if isinstance(secret, bytes) else type(secret).__name__
        raise ConfigError(
            f"the linkage secret must be at least {MIN_SECRET_BYTES} random bytes, found {found}; "
            "make one with `python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
    return secret


def key_check(secret: bytes) -> str:
    """A short tag of the secret, so that the hub can tell two files were encoded under the same
    one (it reveals nothing of the secret; a 32-byte random secret cannot be guessed from it)."""
    return hmac.new(derive(secret, "bloom:check"), SCHEME.encode(), hashlib.sha256).hexdigest()[:16]


def _positions(k1: bytes, k2: bytes, token: str, k: int, bits: int) -> np.ndarray:
    """The ``k`` bit positions of one token: (h1 + i*h2) mod bits (Kirsch & Mitzenmacher)."""
    data = token.encode()
    h1 = int.from_bytes(hmac.digest(k1, data, "sha256"), "big")
    h2 = int.from_bytes(hmac.digest(k2, data, "sha256"), "big") | 1  # odd: k distinct positions
    return np.fromiter(((h1 + i * h2) % bits for i in range(k)), np.int64, k)


def _permutation(key: bytes, width: int) -> np.ndarray:
    """A keyed random permutation of ``width`` positions: positions sorted by their HMAC."""
    macs = [hmac.digest(key, i.to_bytes(4, "big"), "sha256") for i in range(width)]
    return np.array(sorted(range(width), key=macs.__getitem__), np.int64)


def encode_column(
    values: Sequence[object],
    column: str,
    spec: FieldSpec,
    secret: bytes,
    bits: int = 1024,
    hardening: Hardening = "balance",
) -> list[str | None]:
    """The hex encodings of one column's values (``None`` where the value is empty).

    Examples:
        >>> spec, secret = FieldSpec("name", 20), b"s" * 32
        >>> a, b, c = encode_column(["Smith", "Smyth", ""], "surname", spec, secret)
        >>> len(a) * 4, c
        (2048, None)
        >>> round(float(dice_hex([a], [b])[0]), 2), float(dice_hex([a], [a])[0])
        (0.93, 1.0)
    """
    if bits <= 0 or bits % 64:
        raise ConfigError(f"the filter length must be a positive multiple of 64 bits, found {bits}")
    if hardening not in ("balance", "xor", "none"):
        raise ConfigError(f"hardening must be balance, xor or none, found {hardening!r}")
    k1, k2 = derive(secret, f"bloom:{column}:h1"), derive(secret, f"bloom:{column}:h2")
    # normalised once per distinct raw value, then grouped by normalised value
    raw_codes, raw = pd.factorize(pd.Series(list(values), dtype=object))
    normalised = [normalise_field(spec.kind, v) for v in raw]
    codes, uniques = pd.factorize(pd.Series(normalised, dtype=object))
    codes = (
        np.where(raw_codes < 0, -1, codes[np.maximum(raw_codes, 0)]) if len(codes) else raw_codes
    )
    cache: dict[str, np.ndarray] = {}
    rows, positions = [], []
    empty = np.zeros(len(uniques), bool)
    for u, value in enumerate(uniques):
        grams = tokens(column, spec.kind, value)
        empty[u] = not grams
        for t in grams:
            if t not in cache:
                cache[t] = _positions(k1, k2, t, spec.k, bits)
            positions.append(cache[t])
        rows.append(np.full(len(grams) * spec.k, u))
    filters = np.zeros((len(uniques), bits), bool)
    if positions:
        filters[np.concatenate(rows), np.concatenate(positions)] = True
    if hardening == "balance":
        filters = np.concatenate([filters, ~filters], axis=1)
    elif hardening == "xor":
        filters = filters[:, : bits // 2] ^ filters[:, bits // 2 :]
    filters = filters[:, _permutation(derive(secret, f"bloom:{column}:perm"), filters.shape[1])]
    packed = np.packbits(filters, axis=1)
    encoded = [None if empty[u] else packed[u].tobytes().hex() for u in range(len(uniques))]
    return [None if c < 0 else encoded[c] for c in codes]


def _check_rule(rule: Sequence[str], fields: Mapping[str, str]) -> None:
    for part in rule:
        column, _, transform = part.partition(".")
        if column not in fields or transform not in _TRANSFORMS:
            raise ConfigError(
                f"blocking rule part {part!r} must be an encoded column and one of "
                f"{', '.join(_TRANSFORMS)}"
            )


def blocking_hashes(
    df: pd.DataFrame, fields: Mapping[str, str], rule: Sequence[str], secret: bytes
) -> list[str | None]:
    """Keyed hashes (HMAC-SHA256) of one blocking rule's values, ``None`` where any is empty."""
    key = derive(secret, "bloom:block")
    name = "+".join(rule)
    parts, codes = [], np.zeros(len(df), np.int64)
    _check_rule(rule, fields)
    for part in rule:
        column, _, transform = part.partition(".")
        # each distinct value transformed once
        raw_codes, raw = pd.factorize(pd.Series(df[column].tolist(), dtype=object))
        keys = [_TRANSFORMS[transform](fields[column], v) for v in raw] + [
            _TRANSFORMS[transform](fields[column], None)
        ]
        key_codes, key_values = pd.factorize(pd.Series(keys, dtype=object))
        parts.append(list(key_values))
        column_codes = key_codes[np.where(raw_codes < 0, len(raw), raw_codes)]
        codes = codes * (len(key_values) + 1) + column_codes
    # each distinct combination hashed once
    combo_codes, combos = pd.factorize(codes)
    hashes: list[str | None] = []
    for combo in combos:
        values, rest = [], int(combo)
        for part_values in reversed(parts):
            values.append(part_values[rest % (len(part_values) + 1)])
            rest //= len(part_values) + 1
        values.reverse()
        if all(values):
            msg = "\x1f".join((name, *values)).encode()
            hashes.append(hmac.digest(key, msg, "sha256").hex()[:BLOCK_CHARS])
        else:
            hashes.append(None)
    return [hashes[c] for c in combo_codes]


def encode_table(
    df: pd.DataFrame,
    fields: Mapping[str, str],
    secret: bytes,
    *,
    id_column: str | None = None,
    bits: int = 1024,
    hardening: Hardening = "balance",
    k: Mapping[str, int] | None = None,
    blocking: Sequence[Sequence[str]] | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """Encode a table's identifying fields for linkage at a hub.

    Args:
        df: the partner's records.
        fields: column -> kind (``name``, ``text``, ``date``, ``postcode``, ``code``).
        secret: the partnership's linkage secret (32 bytes or more), shared by the partners and
            never by the hub.
        id_column: the partner's own record reference (pseudonymous: it must mean nothing
            outside the partner); the row index when ``None``.
        bits: the filter length before hardening (``balance`` doubles it, ``xor`` halves it).
        hardening: ``balance``, ``xor`` or ``none`` (see the module's notes).
        k: bits per token by column, overriding :data:`DEFAULT_K` by kind.
        blocking: blocking rules (see :func:`default_blocking`, which gives the default).
        workers: processes that encode fields and blocking rules side by side; by default one
            per core from :data:`PARALLEL_ROWS` records, else one. The output is the same.

    Returns:
        One row per record: ``id``; ``bf:<column>`` the hex encoding of each field (empty where
        the value is); ``block:<rule>`` keyed blocking hashes; ``scheme``, the settings and a
        tag of the secret, which must agree between the files the hub links.

    Examples:
        >>> df = pd.DataFrame({"ref": ["a1"], "surname": ["Dent"], "dob": ["1928-07-22"]})
        >>> out = encode_table(df, {"surname": "name", "dob": "date"}, b"s" * 32, id_column="ref")
        >>> list(out.columns)
        ['id', 'bf:surname', 'bf:dob', 'block:dob.exact', 'block:surname.soundex+dob.year', \
'scheme']
        >>> "Dent" in out.to_csv() or "1928" in out.to_csv()
        False
    """
    secret = check_secret(secret)
    specs = {}
    for column, kind in fields.items():
        if kind not in KINDS:
            raise ConfigError(f"field {column!r}: kind must be one of {', '.join(KINDS)}")
        if column not in df.columns:
            raise ConfigError(f"field {column!r} is not a column of the table")
        specs[column] = FieldSpec(kind, int((k or {}).get(column, DEFAULT_K[kind])))
    if id_column is not None and id_column not in df.columns:
        raise ConfigError(f"the id column {id_column!r} is not a column of the table")
    ids = df[id_column] if id_column is not None else df.index.to_series()
    blank = ids.isna() | (ids.astype(str).str.strip() == "")
    if blank.any():
        rows = ", ".join(str(r + 1) for r in np.flatnonzero(blank.to_numpy())[:5])
        raise ConfigError(
            f"the id column {id_column!r} is empty in row(s) {rows}; every record needs its id"
        )
    out = pd.DataFrame({"id": ids.astype(str).to_numpy()})
    rules = default_blocking(fields) if blocking is None else [tuple(r) for r in blocking]
    for rule in rules:  # refuse a bad rule before any work
        _check_rule(rule, fields)
    tasks: list[tuple[str, tuple[Any, ...]]] = [
        (ENCODING_PREFIX + c, ("column", df[c].tolist(), c, spec, secret, bits, hardening))
        for c, spec in specs.items()
    ]
    for rule in rules:
        used = sorted({part.partition(".")[0] for part in rule})
        task = ("rule", df[used].copy(), dict(fields), rule, secret)
        tasks.append((BLOCK_PREFIX + "+".join(rule), task))
    if workers is None:
        workers = (os.cpu_count() or 1) if len(df) >= PARALLEL_ROWS else 1
    workers = max(1, min(workers, len(tasks)))
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: the workers need no import of the caller's main module (spawn would), and they
        # run only this module's pure Python and NumPy, never a lock another thread may hold
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            results = list(pool.map(_encode_task, [t for _, t in tasks]))
    else:
        results = [_encode_task(t) for _, t in tasks]
    for (name, _), result in zip(tasks, results, strict=True):
        out[name] = result
    described = ",".join(spec.describe(c) for c, spec in specs.items())
    out["scheme"] = (
        f"{SCHEME} bits={bits} hardening={hardening} key={key_check(secret)} fields={described}"
    )
    return out


def _encode_task(task: tuple[Any, ...]) -> list[str | None]:
    """One field's encodings or one rule's blocking hashes (run in a worker process)."""
    if task[0] == "column":
        return encode_column(*task[1:])
    return blocking_hashes(*task[1:])


def write_encodings(encoded: pd.DataFrame, path: str | Path) -> None:
    """Write a table of encodings as CSV (Arrow's writer: every text value quoted).

    Examples:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
        >>> write_encodings(pd.DataFrame({"id": ["a,1"], "bf:x": [None]}), path)
        >>> path.read_text()
        'id,bf:x\\n"a,1",\\n'
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    schema = pa.schema([(str(c), pa.string()) for c in encoded.columns])
    table = pa.Table.from_pandas(encoded.astype(object), schema=schema, preserve_index=False)
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow([str(c) for c in encoded.columns])
    with open(path, "wb") as f:
        f.write(head.getvalue().encode())
        pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=False))


def guess_kind(column: str) -> str:
    """The kind of a column from its name (dates, postcodes, names; free text otherwise).

    Examples:
        >>> [guess_kind(c) for c in ("date_of_birth", "Postcode", "given_name", "suburb")]
        ['date', 'postcode', 'name', 'text']
        >>> [guess_kind(c) for c in ("nhs_number", "soc_sec_id", "street_number")]
        ['code', 'code', 'text']
    """
    name = column.lower()
    if "birth" in name or "dob" in name or "date" in name:
        return "date"
    if "postcode" in name or "post_code" in name or "zip" in name:
        return "postcode"
    if "name" in name or name in ("forename", "forenames"):
        return "name"
    if name.endswith("_id") or any(code in name for code in ("nhs", "pnc", "upn", "soc_sec")):
        return "code"
    return "text"


def encode_file(
    in_csv: str | Path,
    out_csv: str | Path,
    id_column: str,
    secret_file: str | Path,
    columns: Sequence[str] | Mapping[str, str] | None = None,
    **options: Any,
) -> int:
    """Encode a partner's CSV file into a file of encodings for the hub; returns its rows.

    Args:
        in_csv: the partner's file (read as text; a space after each comma is ignored).
        out_csv: where the encodings go.
        id_column: the partner's record reference column.
        secret_file: the partnership's secret, a file outside the data's folder.
        columns: the columns to encode, with their kinds (a mapping) or with kinds guessed from
            their names (a list; see :func:`guess_kind`); every column but the id when ``None``.
        **options: passed to :func:`encode_table` (``bits``, ``hardening``, ``k``, ``blocking``).

    Examples:
        >>> import pathlib, tempfile
        >>> data, keys = pathlib.Path(tempfile.mkdtemp()), pathlib.Path(tempfile.mkdtemp())
        >>> _ = (keys / "linkage.key").write_bytes(b"s" * 32)
        >>> _ = (data / "police.csv").write_text("ref,surname,dob\\na1,Dent,1928-07-22\\n")
        >>> encode_file(data / "police.csv", data / "police.enc.csv", "ref", keys / "linkage.key")
        1
    """
    secret = read_secret(secret_file, [in_csv, out_csv])
    df = pd.read_csv(in_csv, dtype=str, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    if columns is None:
        columns = [c for c in df.columns if c != id_column]
    fields = dict(columns) if isinstance(columns, Mapping) else {c: guess_kind(c) for c in columns}
    encoded = encode_table(df, fields, secret, id_column=id_column, **options)
    write_encodings(encoded, out_csv)
    return len(encoded)


#: The identifier columns of the partner feeds that are encoded, by their column names (the same
#: in every feed, so that the feeds' encodings of a field share its keys and can be compared).
FEED_KINDS = {
    "forename": "name",
    "surname": "name",
    "date_of_birth": "date",
    "postcode": "postcode",
    "nhs_number": "code",
    "pnc_id": "code",
    "upn": "code",
}


def _iso_date(value: str, fmt: str) -> str:
    try:
        return _dt.datetime.strptime(value.strip(), fmt).date().isoformat()
    except ValueError:
        return value  # as written: normalise_date keeps its digits


def encode_feed_file(
    feed: str,
    in_csv: str | Path,
    out_csv: str | Path,
    secret_file: str | Path,
    **options: Any,
) -> int:
    """Encode one file of a person-level partner feed for linkage at the hub; returns its rows.

    The feed's identifier columns (:data:`FEED_KINDS`) are encoded under their column names
    (``bf:forename``, ``bf:date_of_birth``...), dates read in the feed's own format, so that the
    encodings of every feed compare alike. Besides :func:`encode_table`'s columns, the file
    carries what the hub needs to attach each encoding to its warehouse row, none of it a direct
    identifier: ``feed``; ``id``, the partner's record reference; and ``person``, its person
    reference, where the feed has one that is not itself an identifier (a UPN is not sent: the
    hub matches such a feed's rows on the record reference alone). The hub keeps neither
    reference: it turns them into its keyed pseudonyms at once.

    Args:
        feed: the feed's name (see :data:`svduty.datasets.partners.FEEDS`).
        in_csv: the file as the partner sends it for loading (the feed's header).
        out_csv: where the encodings go.
        secret_file: the partnership's linkage secret, a file outside the data's folder.
        **options: passed to :func:`encode_table` (``bits``, ``hardening``, ``k``, ``blocking``).

    Raises:
        ConfigError: not a person-level feed, a column of the feed missing, or an unsafe secret.

    Examples:
        >>> import pathlib, tempfile
        >>> data, keys = pathlib.Path(tempfile.mkdtemp()), pathlib.Path(tempfile.mkdtemp())
        >>> _ = (keys / "linkage.key").write_bytes(b"s" * 32)
        >>> _ = (data / "pc.csv").write_text(
        ...     "Crime Reference,Person URN,Forename,Surname,Date of Birth,Postcode,PNC ID\\n"
        ...     "SY/24/1,PU1,Arthur,Dent,22/07/1928,CB1 2AB,\\n")
        >>> key = keys / "linkage.key"
        >>> encode_feed_file("police-crime", data / "pc.csv", data / "enc.csv", key)
        1
        >>> list(pd.read_csv(data / "enc.csv", dtype=str).columns[:5])
        ['id', 'person', 'feed', 'bf:forename', 'bf:surname']
    """
    from svduty.datasets.partners import FEEDS

    spec = FEEDS.get(feed)
    if spec is None or not spec.person_level:
        known = ", ".join(n for n, f in FEEDS.items() if f.person_level)
        raise ConfigError(f"{feed!r} is not a person-level feed; these are: {known}")
    secret = read_secret(secret_file, [in_csv, out_csv])
    df = pd.read_csv(in_csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    df.columns = [c.strip() for c in df.columns]
    columns = {c.name: c for c in spec.contract.columns}
    wanted = [spec.record_id, *([spec.person_id] if spec.person_id else [])]
    wanted += [c for c in columns if columns[c].identifier and c in FEED_KINDS]
    missing = [columns[c].header for c in wanted if columns[c].header not in df.columns]
    if missing:
        raise ConfigError(f"{in_csv} is not a {feed} file: no column {', '.join(missing)}")
    table, fields = pd.DataFrame(index=df.index), {}
    for name in wanted[1 + bool(spec.person_id) :]:
        column = columns[name]
        values = df[column.header]
        if FEED_KINDS[name] == "date" and column.format:
            values = values.map(lambda v, fmt=column.format: _iso_date(v, fmt) if v else v)
        table[name], fields[name] = values, FEED_KINDS[name]
    # the references exactly as loading reads them, so that the hub's pseudonyms agree
    table["__record"] = df[columns[spec.record_id].header]
    encoded = encode_table(table, fields, secret, id_column="__record", **options)
    if spec.person_id and not columns[spec.person_id].identifier:
        person = df[columns[spec.person_id].header]
        encoded.insert(1, "person", person.where(person != "", None).to_numpy())
    encoded.insert(1 + ("person" in encoded.columns), "feed", feed)
    write_encodings(encoded, out_csv)
    return len(encoded)


def from_hex(values: Sequence[str | None], nbytes: int | None = None) -> np.ndarray:
    """Hex encodings as a uint8 array, one row each (zeros where a value is missing).

    Examples:
        >>> from_hex(["ff00", None])
        array([[255,   0],
               [  0,   0]], dtype=uint8)
    """
    present = [v for v in values if isinstance(v, str) and v]
    if nbytes is None:
        nbytes = len(present[0]) // 2 if present else 0
    blank = "00" * nbytes
    text = "".join(v if isinstance(v, str) and v else blank for v in values)
    return np.frombuffer(bytes.fromhex(text), np.uint8).reshape(len(values), nbytes)


def dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-by-row Dice coefficient 2|a&b| / (|a| + |b|) of two packed bit arrays (0 when both
    are empty).

    Examples:
        >>> a = np.array([[0b1111_0000], [0b1000_0000]], np.uint8)
        >>> b = np.array([[0b1100_0000], [0b0000_0001]], np.uint8)
        >>> dice(a, b).round(3).tolist()
        [0.667, 0.0]
    """
    if a.shape[1] % 8 == 0 and a.flags.c_contiguous and b.flags.c_contiguous:
        a, b = a.view(np.uint64), b.view(np.uint64)
    both = np.bitwise_count(a & b).sum(axis=1, dtype=np.int64)
    total = np.bitwise_count(a).sum(axis=1, dtype=np.int64)
    total += np.bitwise_count(b).sum(axis=1, dtype=np.int64)
    return np.divide(2.0 * both, total, out=np.zeros(len(total)), where=total > 0)


def dice_hex(a: Sequence[str | None], b: Sequence[str | None]) -> np.ndarray:
    """Dice coefficients of two aligned lists of hex encodings."""
    return dice(from_hex(a), from_hex(b))
