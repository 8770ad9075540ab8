"""Benchmark: record linkage, trusted (Splink on DuckDB) and encoded (Bloom filters at a hub).

For each size N it makes N synthetic people as two files to link: N/2 originals in A and, in B,
their copies with the errors agencies make (typos in names, short forenames, day and month
swapped, a changed postcode, missing values), in shuffled order with their own ids, so that the
true pairs are known. Columns: ``id, forename, surname, date_of_birth, postcode``.

For each mode it prints seconds, records per second, peak memory and precision, recall and F1
against the truth:

* trusted: :func:`svduty.linkage.files.link_files` on the two plain files;
* encoded: :func:`svduty.privacy.bloom.encode_file` of each file (timed apart: the partners'
  share) with a secret kept in a folder of its own, then
  :func:`svduty.linkage.encoded.link_encoded` of the two encodings (the hub's share).

Baselines: Splink's published claim of about a million records linked in a minute on a laptop
(the ratio of svduty's time to 60 s x N / 1,000,000; goal: within 2x on 2 cores), and, measured
in the same run, a plain DuckDB exact join of the same files on (surname, date_of_birth), the
floor no linkage can beat (it misses every pair with an error in either column). Each
measurement runs in its own process, so its peak memory (the maximum resident set size) is its
own (encoding from 50,000 records runs in worker processes: the larger of the process's and its
largest worker's peak is shown); a measurement that fails or runs past ``--timeout`` is reported
and the run goes on.

Usage: ``python benchmarks/linkage.py [--sizes 100000 1000000] [--modes trusted encoded]
[--timeout 900] [--seed 7]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SPLINK_SECONDS_PER_MILLION = 60.0  # "a million records in about a minute on a laptop"
GOAL_RATIO = 2.0
COLUMNS = ("id", "forename", "surname", "date_of_birth", "postcode")
# chance of each error in a copy (independent; a copy may have several)
ERRORS = {
    "forename_typo": 0.10, "forename_short": 0.05, "surname_typo": 0.10,
    "dob_swap": 0.05, "postcode_moved": 0.10,
    "forename_missing": 0.03, "surname_missing": 0.02, "dob_missing": 0.03,
    "postcode_missing": 0.05,
}  # fmt: skip


def _peak_mib() -> float:
    """The peak resident memory of this process or of its largest worker process."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024


# --- synthetic people ---------------------------------------------------------------------


def _postcodes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Postcode-shaped strings (``CB12 3XY``) from 30 areas, vectorised."""
    areas = np.array(["CB", "PE", "SG", "LU", "MK", "NN", "LE", "NG", "B", "CV", "OX", "RG",
                      "SL", "HP", "AL", "CM", "CO", "IP", "NR", "BS", "BA", "GL", "WR", "DY",
                      "WS", "ST", "DE", "S", "LS", "M"])  # fmt: skip
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))  # the inward code's letters
    out = np.char.add(areas[rng.integers(0, len(areas), n)], rng.integers(1, 30, n).astype(str))
    out = np.char.add(out, " ")
    out = np.char.add(out, rng.integers(0, 10, n).astype(str))
    out = np.char.add(out, letters[rng.integers(0, len(letters), n)])
    return np.char.add(out, letters[rng.integers(0, len(letters), n)])


def _typo(word: str, rng: np.random.Generator) -> str:
    """One keying error: a letter replaced, dropped, doubled or two letters swapped."""
    if len(word) < 2:
        return word
    k = int(rng.integers(0, len(word) - 1))
    op = int(rng.integers(0, 4))
    if op == 0:
        return word[:k] + "aeiounrst"[int(rng.integers(0, 9))] + word[k + 1 :]
    if op == 1:
        return word[:k] + word[k + 1 :]
    if op == 2:
        return word[: k + 1] + word[k:]
    return word[:k] + word[k + 1] + word[k] + word[k + 2 :]


def generate(n: int, folder: Path, seed: int) -> dict[str, Any]:
    """Write ``a.csv`` (n//2 people), ``b.csv`` (their copies with errors) and ``truth.csv``."""
    import pandas as pd

    from svduty.synth.names import FEMALE_FORENAMES, MALE_FORENAMES, NICKNAMES, SURNAMES

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    half = n // 2
    forenames = np.array(MALE_FORENAMES + FEMALE_FORENAMES, dtype=object)
    surnames = np.array(SURNAMES, dtype=object)
    # Drawn evenly: the lists hold ~200 names each where England has tens of thousands, so
    # skewed (Zipf-like) draws would make names far less telling than they are in life.
    fore = forenames[rng.integers(0, len(forenames), half)]
    sur = surnames[rng.integers(0, len(surnames), half)]
    born = np.datetime64("1935-01-01") + rng.integers(0, 365 * 90, half).astype("timedelta64[D]")
    dob = np.datetime_as_string(born, unit="D").astype(object)
    postcode = _postcodes(rng, half).astype(object)
    a = pd.DataFrame({"id": [f"a{i}" for i in range(half)], "forename": fore, "surname": sur,
                      "date_of_birth": dob, "postcode": postcode})  # fmt: skip

    b = a.drop(columns="id").copy()
    hit = {e: rng.random(half) < p for e, p in ERRORS.items()}
    for column in ("forename", "surname"):
        rows = np.flatnonzero(hit[f"{column}_typo"])
        b.iloc[rows, b.columns.get_loc(column)] = [
            _typo(w, rng) for w in b[column].to_numpy()[rows]
        ]
    short = hit["forename_short"] & b["forename"].isin(list(NICKNAMES)).to_numpy()
    b.loc[short, "forename"] = b.loc[short, "forename"].map(lambda f: NICKNAMES[f][0])
    day = born.astype("datetime64[D]") - born.astype("datetime64[M]").astype("datetime64[D]")
    day = day.astype(int) + 1
    month = born.astype("datetime64[M]").astype(int) % 12 + 1
    swap = hit["dob_swap"] & (day <= 12) & (day != month)
    b.loc[swap, "date_of_birth"] = [
        f"{d[:4]}-{d[8:10]}-{d[5:7]}" for d in b.loc[swap, "date_of_birth"]
    ]
    moved = hit["postcode_moved"]
    b.loc[moved, "postcode"] = _postcodes(rng, int(moved.sum())).astype(object)
    for column in ("forename", "surname", "dob", "postcode"):
        b.loc[hit[f"{column}_missing"], "date_of_birth" if column == "dob" else column] = None
    order = rng.permutation(half)
    b = b.iloc[order].reset_index(drop=True)
    b.insert(0, "id", [f"b{i}" for i in range(half)])
    truth = pd.DataFrame({"id_l": a["id"].to_numpy()[order], "id_r": b["id"]})
    a.to_csv(folder / "a.csv", index=False)
    b.to_csv(folder / "b.csv", index=False)
    truth.to_csv(folder / "truth.csv", index=False)
    return {"seconds": time.perf_counter() - start, "records": 2 * half}


# --- measurements, each in its own process ------------------------------------------------


def _quality(pairs: Any, folder: Path) -> dict[str, float]:
    import pandas as pd

    from svduty.linkage.quality import pair_quality

    truth = pd.read_csv(folder / "truth.csv", dtype=str)
    truth_pairs = set(zip(truth["id_l"], truth["id_r"], strict=True))
    q = pair_quality(pairs, truth_pairs, dedupe=False)
    return {k: q[k] for k in ("precision", "recall", "f1")} | {"pairs": len(pairs)}


def child_floor(folder: Path) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(":memory:")
    start = time.perf_counter()
    pairs = con.execute(
        "SELECT a.id AS id_l, b.id AS id_r "
        "FROM read_csv(?, all_varchar = true) a JOIN read_csv(?, all_varchar = true) b "
        "USING (surname, date_of_birth)",
        [str(folder / "a.csv"), str(folder / "b.csv")],
    ).df()
    seconds = time.perf_counter() - start
    con.close()
    return {"seconds": seconds, "peak_mib": _peak_mib()} | _quality(pairs, folder)


def child_trusted(folder: Path) -> dict[str, Any]:
    from svduty.linkage.files import link_files

    start = time.perf_counter()
    result = link_files(folder / "a.csv", folder / "b.csv", "id")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_mib": _peak_mib()} | _quality(result.pairs, folder)


def child_encode(folder: Path, secret_file: str) -> dict[str, Any]:
    from svduty.privacy.bloom import encode_file

    start = time.perf_counter()
    for side in ("a", "b"):
        encode_file(folder / f"{side}.csv", folder / f"{side}.enc.csv", "id", secret_file)
    return {"seconds": time.perf_counter() - start, "peak_mib": _peak_mib()}


def child_encoded(folder: Path) -> dict[str, Any]:
    from svduty.linkage.encoded import link_encoded

    start = time.perf_counter()
    pairs, _ = link_encoded(folder / "a.enc.csv", folder / "b.enc.csv")
    seconds = time.perf_counter() - start
    peak = _peak_mib()
    return {"seconds": seconds, "peak_mib": peak, "candidates": pairs.attrs["candidates"]} | (
        _quality(pairs, folder)
    )


def run_child(step: str, folder: Path, timeout: float, *extra: str) -> dict[str, Any] | str:
    """The child's result, or why there is none (a line of text)."""
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", step, str(folder), *extra],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if out.returncode != 0:
        lines = [x for x in out.stderr.strip().splitlines() if x.strip()]
        return f"failed (exit {out.returncode}): {lines[-1] if lines else 'no message'}"
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  ({step} done: {json.dumps(result)})", file=sys.stderr, flush=True)
    return result


def report(n: int, results: dict[str, dict[str, Any] | str]) -> None:
    splink = SPLINK_SECONDS_PER_MILLION * n / 1_000_000
    print(f"  {'':34}{'seconds':>9}{'records/s':>11}{'peak MiB':>9}{'x Splink':>9}"
          f"{'pairs':>10}{'prec.':>7}{'recall':>7}{'F1':>7}")  # fmt: skip
    print(f"  {'Splink claim (1M in ~60 s)':34}{splink:>9.1f}{n / splink:>11,.0f}"
          f"{'':>9}{1:>9.2f}")  # fmt: skip
    labels = {
        "floor": "DuckDB exact join (floor)",
        "trusted": "trusted: link_files",
        "encode": "encoded: encode_file, both files",
        "encoded": "encoded: link_encoded (hub)",
        "encoded_total": "encoded: encoding + linkage",
    }
    for step, label in labels.items():
        if step not in results:
            continue
        r = results[step]
        if isinstance(r, str):
            print(f"  {label:34}{r}")
            continue
        peak = f"{r['peak_mib']:.0f}" if "peak_mib" in r else ""
        line = (f"  {label:34}{r['seconds']:>9.2f}{n / r['seconds']:>11,.0f}"
                f"{peak:>9}{r['seconds'] / splink:>9.2f}")  # fmt: skip
        if "f1" in r:
            line += f"{r['pairs']:>10,}{r['precision']:>7.3f}{r['recall']:>7.3f}{r['f1']:>7.3f}"
        print(line)
    for mode, step in (("trusted", "trusted"), ("encoded", "encoded_total")):
        r = results.get(step)
        if isinstance(r, dict):
            ratio = r["seconds"] / splink
            verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
            goal = f"goal: within {GOAL_RATIO:.0f}x on {os.cpu_count()} cores"
            print(f"  {mode}: {ratio:.2f}x Splink's claim ({goal}): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="records in all, both files together")  # fmt: skip
    parser.add_argument("--modes", nargs="+", choices=("trusted", "encoded"),
                        default=["trusted", "encoded"])  # fmt: skip
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic people")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, folder, *extra = args.child
        folder = Path(folder)
        if step == "floor":
            result = child_floor(folder)
        elif step == "trusted":
            result = child_trusted(folder)
        elif step == "encode":
            result = child_encode(folder, extra[0])
        else:
            result = child_encoded(folder)
        print(json.dumps(result))
        return
    print(f"svduty linkage benchmark ({os.cpu_count()} cores); errors in the copies: "
          + ", ".join(f"{e} {p:.0%}" for e, p in ERRORS.items()))  # fmt: skip
    for n in args.sizes:
        data = Path(tempfile.mkdtemp(prefix="svduty-bench-link-"))
        keys = Path(tempfile.mkdtemp(prefix="svduty-bench-key-"))  # outside the data's folder
        try:
            made = generate(n, data, args.seed)
            print(f"\n{made['records']:,} records ({made['records'] // 2:,} in each file; "
                  f"made in {made['seconds']:.1f} s)")  # fmt: skip
            results: dict[str, dict[str, Any] | str] = {
                "floor": run_child("floor", data, args.timeout)
            }
            if "trusted" in args.modes:
                results["trusted"] = run_child("trusted", data, args.timeout)
            if "encoded" in args.modes:
                secret = keys / "linkage.key"
                secret.write_text(os.urandom(32).hex())
                results["encode"] = run_child("encode", data, args.timeout, str(secret))
                if isinstance(results["encode"], dict):
                    results["encoded"] = run_child("encoded", data, args.timeout)
                    enc, link = results["encode"], results["encoded"]
                    if isinstance(link, dict):
                        results["encoded_total"] = {"seconds": enc["seconds"] + link["seconds"]}
            report(made["records"], results)
            sys.stdout.flush()
        except Exception as e:  # a size that cannot even be made: say so and go on
            print(f"\n{n:,} records: failed ({type(e).__name__}: {e})")
        finally:
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(keys, ignore_errors=True)


if __name__ == "__main__":
    main()
