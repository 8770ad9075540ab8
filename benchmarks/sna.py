"""Benchmark: the full Strategic Needs Assessment, on the real 18 months and on a synthetic
national-scale warehouse.

For each warehouse it prints the time and peak memory of the assessment (every figure of the
report), of drawing the HTML report and of printing the PDF, the share of the assessment's time
spent outside the engine (statistics, maps, Python), and the ratio to a baseline measured in the
same run: DuckDB's plain SQL count of serious violence by kind, month and LSOA on the same
warehouse file, the least any assessment must do. Each measurement runs in its own process, so
its peak memory (maximum resident set size) is its own.

The national warehouse is made here, not by the synthetic partnership's generator (whose 300
LSOAs are one county): police.uk-style street crimes (10 million by default) over 24 months and
a grid of 33,000 square LSOAs in 300 partnership areas, with Census-like residents and random
deprivation scores, written straight into a DuckDB warehouse.

Usage: ``python benchmarks/sna.py [--crimes N] [--lsoas N] [--skip-real] [--skip-national]
[--pdf]``
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

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
GOAL_SECONDS = 30.0

# police.uk categories with roughly Cambridgeshire's shares (data README)
CATEGORIES = {
    "Violence and sexual offences": 0.35, "Anti-social behaviour": 0.17,
    "Other theft": 0.07, "Criminal damage and arson": 0.08, "Shoplifting": 0.09,
    "Vehicle crime": 0.05, "Public order": 0.07, "Burglary": 0.04, "Other crime": 0.02,
    "Drugs": 0.02, "Bicycle theft": 0.015, "Theft from the person": 0.01,
    "Possession of weapons": 0.013, "Robbery": 0.007,
}  # fmt: skip


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class EngineClock:
    """Time spent inside the engine: every call that runs an Ibis expression on DuckDB."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def install(self) -> None:
        from ibis.backends.duckdb import Backend

        for name in ("execute", "to_pyarrow", "to_pyarrow_batches"):
            original = getattr(Backend, name)

            def timed(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return __original(*args, **kwargs)
                finally:
                    self.seconds += time.perf_counter() - start

            setattr(Backend, name, timed)


def baseline_sql(path: Path) -> float:
    """The plain count every assessment needs, in DuckDB SQL on the warehouse file."""
    import duckdb

    categories = ("Violence and sexual offences", "Robbery", "Possession of weapons")
    con = duckdb.connect(str(path), read_only=True)
    start = time.perf_counter()
    con.execute(
        "SELECT crime_type, month, lsoa_code, count(*) FROM policeuk_street "
        "WHERE crime_type IN (?, ?, ?) GROUP BY ALL",
        list(categories),
    ).fetchall()
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def child_sna(data_dir: str, pdf: bool) -> dict[str, Any]:
    from svduty.analysis.assessment import assess
    from svduty.analysis.definition import load_definition
    from svduty.analysis.scope import Scope
    from svduty.config import Settings
    from svduty.reports.pdf import print_pdf
    from svduty.reports.sna import _clean, lsoa_features, render_html
    from svduty.warehouse import connect

    clock = EngineClock()
    clock.install()
    con = connect(Settings(data_dir=Path(data_dir)))
    definition = load_definition()
    start = time.perf_counter()
    figures = _clean(assess(con, definition, Scope()))
    assess_s = time.perf_counter() - start
    engine_s = clock.seconds
    start = time.perf_counter()
    features = lsoa_features(con, {p["lsoa"] for p in figures["places"]})
    html = render_html(figures, features)
    out = Path(data_dir) / "report"
    out.mkdir(exist_ok=True)
    (out / "report.html").write_text(html)
    html_s = time.perf_counter() - start
    pdf_s = None
    if pdf:
        start = time.perf_counter()
        print_pdf(out / "report.html", out / "report.pdf")
        pdf_s = time.perf_counter() - start
    con.disconnect()
    return {
        "assess": assess_s, "engine": engine_s, "html": html_s, "pdf": pdf_s,
        "html_mib": len(html.encode()) / 2**20, "peak_mib": _peak_mib(),
        "lsoas": figures["scope"]["lsoas"], "months": figures["scope"]["months"],
        "records": next(r["count"] for r in figures["trends"]["summary"]
                        if r["kind"] == "all" and r["area"] == "all"),
    }  # fmt: skip


def child_load_real(data_dir: str) -> dict[str, Any]:
    from svduty.config import Settings
    from svduty.ingest.police_uk import ingest_police_uk
    from svduty.ingest.sources import find_sources
    from svduty.reference import load_reference
    from svduty.warehouse import connect

    start = time.perf_counter()
    con = connect(Settings(data_dir=Path(data_dir)))
    load_reference(con, SHARED)
    ingest_police_uk(con, *find_sources([SHARED / "policeuk"]))
    con.disconnect()
    return {"seconds": time.perf_counter() - start, "peak_mib": _peak_mib()}


def child_build_national(data_dir: str, crimes: int, lsoas: int) -> dict[str, Any]:
    import datetime as dt

    import numpy as np
    import pyarrow as pa

    from svduty.config import Settings
    from svduty.warehouse import checkpoint, commit, connect
    from svduty.warehouse.changes import Replace

    start = time.perf_counter()
    rng = np.random.default_rng(2026)
    side = int(np.ceil(np.sqrt(lsoas)))
    codes = [f"E01{i:06d}" for i in range(lsoas)]
    col, row = np.arange(lsoas) % side, np.arange(lsoas) // side
    lon0, lat0, step = -3.0 + col * 0.012, 50.5 + row * 0.008, 0.012
    geometry = [
        json.dumps({"type": "Polygon", "coordinates": [[
            [round(x, 4), round(y, 4)], [round(x + step, 4), round(y, 4)],
            [round(x + step, 4), round(y + 0.008, 4)], [round(x, 4), round(y + 0.008, 4)],
            [round(x, 4), round(y, 4)]]]})
        for x, y in zip(lon0, lat0, strict=True)
    ]  # fmt: skip
    csp = [f"E229{i // (lsoas // 300 + 1):05d}" for i in range(lsoas)]
    residents = rng.integers(1200, 2200, lsoas)
    bands = ("0-15", "16-24", "25-34", "35-49", "50-64", "65+")
    shares = np.array([0.18, 0.11, 0.14, 0.19, 0.19, 0.19])
    deprivation = rng.normal(size=lsoas)
    ref_lsoa = pa.table({
        "lsoa21_code": codes, "lsoa21_name": [f"Area {c[3:]}" for c in codes],
        "centroid_lon": lon0 + step / 2, "centroid_lat": lat0 + 0.004,
        "area_km2": np.full(lsoas, 0.82 * 0.89), "geometry": geometry,
    })  # fmt: skip
    ref_geography = pa.table({
        "lsoa21_code": codes, "lsoa21_name": [f"Area {c[3:]}" for c in codes],
        "ward24_code": csp, "ward24_name": csp, "ltla24_code": csp, "ltla24_name": csp,
        "csp24_code": csp, "csp24_name": [f"Partnership {c[4:]}" for c in csp],
        "pfa24_code": ["E23000000"] * lsoas, "pfa24_name": ["National"] * lsoas,
        "ruc21_code": ["UN1"] * lsoas, "ruc21_class": ["Urban"] * lsoas,
        "urban_rural": np.where(rng.random(lsoas) < 0.2, "Rural", "Urban").tolist(),
    })  # fmt: skip
    ref_population = pa.table({
        "lsoa21_code": np.repeat(codes, len(bands)).tolist(),
        "age_band": list(bands) * lsoas,
        "residents": np.round(np.outer(residents, shares)).astype("int64").ravel(),
    })  # fmt: skip
    domains = ("imd", "income", "employment", "education", "health", "crime",
               "housing_and_services", "environment")  # fmt: skip
    scores = {d: deprivation + rng.normal(scale=0.5, size=lsoas) for d in domains}
    ref_imd = pa.table({
        "edition": ["2025"] * (lsoas * len(domains)),
        "lsoa21_code": codes * len(domains),
        "domain": np.repeat(domains, lsoas).tolist(),
        "score": np.concatenate([scores[d] for d in domains]),
        "rank": np.concatenate([np.argsort(np.argsort(-scores[d])) + 1.0 for d in domains]),
        "decile": np.concatenate([np.argsort(np.argsort(scores[d])) * 10 // lsoas + 1
                                  for d in domains]).astype("int64"),
        "bridged_from": np.zeros(lsoas * len(domains), dtype="int64"),
    })  # fmt: skip
    con = connect(Settings(data_dir=Path(data_dir)))
    commit(con, [Replace(name, {}, t) for name, t in (
        ("ref_lsoa", ref_lsoa), ("ref_geography", ref_geography),
        ("ref_population", ref_population), ("ref_imd", ref_imd))])  # fmt: skip
    weight = residents * rng.gamma(2.0, 0.5, lsoas) * np.exp(0.4 * deprivation)
    weight /= weight.sum()
    names, probs = list(CATEGORIES), np.array(list(CATEGORIES.values()))
    probs /= probs.sum()
    per_month = crimes // 24
    seq = 0
    for m in range(24):
        month = dt.date(2024 + m // 12, m % 12 + 1, 1)
        where = rng.choice(lsoas, per_month, p=weight)
        kind = rng.choice(len(names), per_month, p=probs)
        ids = np.arange(seq, seq + per_month)
        seq += per_month
        asb = kind == names.index("Anti-social behaviour")
        crime_id = pa.array([f"{i:016x}" for i in ids.tolist()]).to_pandas()
        crime_id[asb] = None
        data = pa.table({
            "crime_id": pa.array(crime_id, pa.string()),
            "month": pa.array([month] * per_month, pa.date32()),
            "reported_by": ["National"] * per_month, "falls_within": ["National"] * per_month,
            "longitude": lon0[where] + step / 2, "latitude": lat0[where] + 0.004,
            "location": ["On or near a street"] * per_month,
            "lsoa_code": pa.array(np.array(codes)[where]),
            "lsoa_name": pa.array(np.array(codes)[where]),
            "crime_type": pa.array(np.array(names)[kind]),
            "last_outcome_category": [None] * per_month, "context": [None] * per_month,
            "force": ["national"] * per_month,
            "source_row": np.arange(per_month, dtype="int64") + 2,
            "load_seq": np.full(per_month, m + 1, dtype="int64"),
        })  # fmt: skip
        commit(con, [Replace("policeuk_street", {"force": "national", "month": month}, data)])
    checkpoint(con)
    con.disconnect()
    return {"seconds": time.perf_counter() - start, "crimes": seq, "peak_mib": _peak_mib()}


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit(f"benchmark step {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(label: str, built: dict[str, Any], sna: dict[str, Any], floor: float) -> None:
    outside = 1 - sna["engine"] / sna["assess"]
    print(f"\n{label}: {sna['records']:,} serious violence records, {sna['lsoas']:,} LSOAs, "
          f"{sna['months']} months (warehouse made in {built['seconds']:.1f} s)")  # fmt: skip
    print(f"  {'':34}{'seconds':>10}{'peak MiB':>10}")
    print(f"  {'baseline: plain DuckDB SQL count':34}{floor:>10.2f}")
    print(f"  {'assessment (every figure)':34}{sna['assess']:>10.2f}{sna['peak_mib']:>10.0f}")
    print(f"  {'  of which in the engine':34}{sna['engine']:>10.2f}")
    print(f"  {'HTML report (charts and maps)':34}{sna['html']:>10.2f}"
          f"{'':>4}{sna['html_mib']:.1f} MiB file")  # fmt: skip
    if sna["pdf"] is not None:
        print(f"  {'PDF (Chromium)':34}{sna['pdf']:>10.2f}")
    total = sna["assess"] + sna["html"] + (sna["pdf"] or 0)
    print(f"  full SNA: {total:.1f} s; {100 * outside:.0f}% of the assessment outside the "
          f"engine; {sna['assess'] / floor:,.0f}x the baseline count")  # fmt: skip
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crimes", type=int, default=10_000_000, help="national crimes")
    parser.add_argument("--lsoas", type=int, default=33_000, help="national LSOAs")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-national", action="store_true")
    parser.add_argument("--pdf", action="store_true", help="also print the PDFs")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, *rest = args.child
        if step == "sna":
            print(json.dumps(child_sna(rest[0], rest[1] == "pdf")))
        elif step == "load-real":
            print(json.dumps(child_load_real(rest[0])))
        else:
            print(json.dumps(child_build_national(rest[0], int(rest[1]), int(rest[2]))))
        return
    print(f"svduty SNA benchmark ({os.cpu_count()} cores)")
    pdf = "pdf" if args.pdf else "no-pdf"
    if not args.skip_real:
        if not (SHARED / "policeuk").is_dir():
            print(f"\nreal data: skipped, {SHARED} is absent")
        else:
            work = Path(tempfile.mkdtemp(prefix="svduty-bench-sna-"))
            try:
                built = run_child("load-real", str(work))
                sna = run_child("sna", str(work), pdf)
                floor = baseline_sql(work / "warehouse.duckdb")
                report("Real police.uk, Cambridgeshire", built, sna, floor)
                total = sna["assess"] + sna["html"]
                verdict = "met" if total < GOAL_SECONDS else "NOT met"
                print(f"  goal: the real SNA in under {GOAL_SECONDS:.0f} s: {verdict}")
            finally:
                shutil.rmtree(work, ignore_errors=True)
    if not args.skip_national:
        work = Path(tempfile.mkdtemp(prefix="svduty-bench-national-"))
        try:
            built = run_child("build", str(work), str(args.crimes), str(args.lsoas))
            sna = run_child("sna", str(work), pdf)
            floor = baseline_sql(work / "warehouse.duckdb")
            report(f"Synthetic national ({built['crimes']:,} crimes)", built, sna, floor)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
