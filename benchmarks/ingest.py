"""Benchmark: police.uk ingestion against DuckDB's plain read_csv of the same files.

Prints rows per second and peak memory for ingesting the 18 real months (street, outcomes and
stop-and-search files of ../shared/data/policeuk) and for a 10x scale-up made by repeating the
files with new crime IDs as ten forces, with the ratio to a plain ``CREATE TABLE AS SELECT * FROM
read_csv(...)`` of the same files into a DuckDB file, measured in the same run: the floor that no
validating loader can beat. Each measurement runs in its own process, so its peak memory (the
maximum resident set size) is its own.

Usage: ``python benchmarks/ingest.py [--repeat N] [--scale K] [--data DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "policeuk"
KINDS = ("street", "outcomes", "stop-and-search")
CRIME_ID = re.compile(rb"[0-9a-f]{64},")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_read_csv(folder: str, work: str) -> dict[str, float]:
    import duckdb

    files = {k: sorted(str(p) for p in Path(folder).rglob(f"*-{k}.csv")) for k in KINDS}
    con = duckdb.connect(str(Path(work) / "plain.duckdb"))
    start = time.perf_counter()
    rows = 0
    for kind, paths in files.items():
        table = kind.replace("-", "_")
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv(?)", [paths])
        rows += con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - start, "rows": rows, "peak_mib": _peak_mib()}


def child_ingest(folder: str, work: str) -> dict[str, float]:
    from svduty.config import Settings
    from svduty.ingest.police_uk import ingest_police_uk
    from svduty.ingest.sources import find_sources
    from svduty.warehouse import connect

    con = connect(Settings(data_dir=Path(work) / "svduty"))
    start = time.perf_counter()
    report = ingest_police_uk(con, *find_sources([Path(folder)]))
    seconds = time.perf_counter() - start
    con.disconnect()
    totals = report.totals()
    return {
        "seconds": seconds,
        "rows": totals["rows_read"],
        "loaded": totals["rows_loaded"],
        "quarantined": totals["rows_quarantined"],
        "peak_mib": _peak_mib(),
    }


def measure(which: str, folder: Path, repeat: int) -> dict[str, float]:
    """Best time of ``repeat`` runs, each in a fresh process and a fresh folder."""
    best: dict[str, float] | None = None
    for _ in range(repeat):
        work = tempfile.mkdtemp(prefix="svduty-bench-")
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", which, str(folder), work],
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    assert best is not None
    return best


def scale_up(src: Path, dest: Path, copies: int) -> None:
    """``copies`` forces' worth of files: each a copy with its IDs' first byte changed."""
    for path in sorted(src.rglob("*.csv")):
        month, rest = path.name[:7], path.name[8:]
        force, kind = rest.split("-", 1)
        lines = path.read_bytes().splitlines(keepends=True)
        for k in range(copies):
            prefix = f"{k:02x}".encode()
            body = [prefix + line[2:] if CRIME_ID.match(line) else line for line in lines[1:]]
            out = dest / month / f"{month}-{force}{k}-{kind}"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(lines[0] + b"".join(body))


def report(label: str, plain: dict[str, float], ours: dict[str, float]) -> None:
    ratio = ours["seconds"] / plain["seconds"]
    print(f"\n{label}")
    print(f"  {'':24}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak MiB':>10}")
    for name, r in (("DuckDB read_csv (floor)", plain), ("svduty ingest", ours)):
        print(
            f"  {name:24}{int(r['rows']):>12,}{r['seconds']:>10.2f}"
            f"{r['rows'] / r['seconds']:>12,.0f}{r['peak_mib']:>10.0f}"
        )
    print(f"  time ratio svduty / read_csv: {ratio:.2f}x (goal: within 3x)")
    print(f"  peak memory: {ours['peak_mib']:.0f} MiB (goal: under 1,024 MiB)")
    if ours["rows"] != plain["rows"]:
        print(f"  WARNING: rows differ: svduty read {ours['rows']:,}, read_csv {plain['rows']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="police.uk folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--scale", type=int, default=10, help="copies for the scale-up")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        which, folder, work = args.child
        fn = child_read_csv if which == "read_csv" else child_ingest
        print(json.dumps(fn(folder, work)))
        return
    if not args.data.is_dir():
        sys.exit(f"no police.uk folder at {args.data}; pass --data DIR")
    print(f"svduty ingestion benchmark: {args.data} ({os.cpu_count()} cores)")
    plain = measure("read_csv", args.data, args.repeat)
    ours = measure("ingest", args.data, args.repeat)
    report("18 months, as published", plain, ours)
    if args.scale > 1:
        with tempfile.TemporaryDirectory(prefix="svduty-bench-x") as tmp:
            scale_up(args.data, Path(tmp), args.scale)
            plain = measure("read_csv", Path(tmp), 1)
            ours = measure("ingest", Path(tmp), 1)
            report(f"{args.scale}x scale-up ({args.scale} forces, new IDs)", plain, ours)


if __name__ == "__main__":
    main()
