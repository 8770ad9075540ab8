"""Benchmark: generating the synthetic partnership.

Prints records per second and peak memory for a run at scale 1 and for a run sized to about one
million records (the goal: under a minute on one core), beside a baseline measured in the same
run: Python's csv module writing the same number of rows of constant text, the floor of writing
CSV from Python. Each measurement runs in its own process (peak memory is its own).

Usage: ``python benchmarks/synth.py [--target N]``
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _records(folder: Path) -> int:
    total = 0
    for path in (folder / "feeds").rglob("*.csv"):
        with open(path, "rb") as f:
            total += sum(1 for _ in f) - 1
    return total


def child_generate(scale: float, work: str) -> dict[str, float]:
    from svduty.synth import generate

    start = time.perf_counter()
    generate(Path(work), seed=1, years=2, scale=scale)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "records": _records(Path(work)), "peak_mib": _peak_mib()}


def child_floor(rows: int, work: str) -> dict[str, float]:
    row = ["ABC123", "2024-01-01", "Some text value", "52.1", "-1.0", "E01900001"] * 3
    start = time.perf_counter()
    with open(Path(work) / "floor.csv", "w", newline="") as f:
        w = csv.writer(f)
        for _ in range(rows):
            w.writerow(row)
    return {"seconds": time.perf_counter() - start, "records": rows, "peak_mib": _peak_mib()}


def measure(*args: str) -> dict[str, float]:
    work = tempfile.mkdtemp(prefix="svduty-bench-synth-")
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", *args, work],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=int, default=1_000_000, help="records for the big run")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        which, value, work = args.child
        if which == "generate":
            print(json.dumps(child_generate(float(value), work)))
        else:
            print(json.dumps(child_floor(int(value), work)))
        return
    print(f"svduty synthetic partnership benchmark ({os.cpu_count()} cores; generation uses one)")
    small = measure("generate", "1.0")
    scale = round(args.target / small["records"], 2)
    runs = [
        ("scale 1.0, 2 years", small),
        (f"scale {scale}, 2 years", measure("generate", str(scale))),
    ]
    print(
        f"  {'':28}{'records':>12}{'seconds':>10}{'records/s':>12}{'peak MiB':>10}"
        f"{'vs csv floor':>14}"
    )
    for label, r in runs:
        floor = measure("floor", str(int(r["records"])))
        print(
            f"  {label:28}{int(r['records']):>12,}{r['seconds']:>10.2f}"
            f"{r['records'] / r['seconds']:>12,.0f}{r['peak_mib']:>10.0f}"
            f"{r['seconds'] / floor['seconds']:>13.2f}x"
        )
    big = runs[1][1]
    print(
        f"  goal: {args.target:,} records in under 60 s; measured {big['records']:,} in "
        f"{big['seconds']:.1f} s"
    )


if __name__ == "__main__":
    main()
