"""Benchmark: the dashboard's API under 50 concurrent clients, on the demo partnership.

The web app runs under uvicorn on 127.0.0.1 in its own process (pinned to ``--cores`` CPUs,
2 by default, as a small server would have); 50 httpx async clients send a bounded number of
requests, each for a bounded time. It prints p50 and p95 latency and requests per second for:

- the baseline, ``/api/health`` (the app's middleware, sessions and headers, no data), measured in
  the same run;
- the dashboard's API (options, trend, map, area, measures, quality, cohorts) over a fixed set
  of filters (periods, partnership areas, kinds), after each has been asked once, as a user
  moving between filters sees it; every request signs in with a bearer token and is audited;

then the ratio of the dashboard's p95 to the baseline's and the goal (p95 under 200 ms). It also
prints how long the first assessment took (once per load of the warehouse) and the slowest first
answer to a new filter.

Usage: ``python benchmarks/web.py [--data-dir DIR] [--scale 0.5] [--requests 3000]
[--seconds 60] [--clients 50] [--cores 2]``; without ``--data-dir`` a demo partnership is made
in a temporary folder first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOAL_P95_MS = 200.0
VIEWS = ("trend", "map", "measures", "quality", "cohorts")


def child_serve(data_dir: str, store_url: str, key_file: str, port: int) -> None:
    """Serve the app (the child process)."""
    import uvicorn

    from svduty.config import Settings
    from svduty.web.app import create_app

    settings = Settings(
        data_dir=Path(data_dir),
        database_url=store_url,
        key_file=Path(key_file) if key_file else None,
    )
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def make_demo(data_dir: Path, scale: float) -> Path:
    """A demo partnership in ``data_dir``; returns its key file."""
    from svduty.config import Settings
    from svduty.demo import run_demo
    from svduty.warehouse import connect

    key = data_dir.parent / "demo.key"
    settings = Settings(data_dir=data_dir, key_file=key)
    con = connect(settings)
    run_demo(con, settings, seed=1, years=2, scale=scale)
    con.disconnect()
    return key


def make_user(data_dir: Path, store_url: str, key_file: Path | None) -> str:
    """An analyst in a fresh store; returns a bearer token."""
    from svduty.config import Settings
    from svduty.store import open_store, users

    settings = Settings(data_dir=data_dir, database_url=store_url, key_file=key_file)
    store = open_store(settings)
    user = users.create_user(store, "bench-analyst", "analyst", None, "benchmark passphrase 1")
    token = users.create_token(store, user.id, name="benchmark")
    store.dispose()
    return token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_until_up(base: str, headers: dict[str, str], limit: float = 900) -> float:
    """Wait for the server, then for the first assessment (the options need it)."""
    import httpx

    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=limit) as client:
        while True:
            try:
                if (await client.get("/api/health")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.perf_counter() - start > limit:
                sys.exit("the server did not start")
            await asyncio.sleep(0.2)
        up = time.perf_counter()
        r = await client.get("/api/dashboard/options", headers=headers)
        r.raise_for_status()
        return time.perf_counter() - up


def paths(options: dict[str, Any]) -> list[str]:
    """A fixed set of dashboard requests: every view for a few periods, areas and kinds."""
    months = options["months"]
    periods = [(months[0], months[-1]), (months[-12], months[-1]), (months[0], months[5])]
    areas = [a["code"] for a in options["areas"]][:4]
    kinds = [k["key"] for k in options["kinds"]][:3]
    out = ["/api/dashboard/options"]
    for start, end in periods:
        for area in areas:
            for kind in kinds:
                q = f"from={start}&to={end}&area={area}&kind={kind}"
                out += [f"/api/dashboard/{view}?{q}" for view in VIEWS]
                out.append(f"/api/dashboard/area/{area}?{q}")
    return out


async def first_answers(base: str, headers: dict[str, str], todo: list[str]) -> float:
    """Ask each request once (one at a time); the slowest first answer, in seconds."""
    import httpx

    slowest = 0.0
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for path in todo:
            start = time.perf_counter()
            (await client.get(path, headers=headers)).raise_for_status()
            slowest = max(slowest, time.perf_counter() - start)
    return slowest


async def load(
    base: str, headers: dict[str, str], todo: list[str], requests: int, seconds: float, clients: int
) -> dict[str, float]:
    """``clients`` concurrent clients cycling through ``todo`` until ``requests`` are answered
    or ``seconds`` have passed."""
    import httpx

    latencies: list[float] = []
    errors = 0
    sent = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sent, errors
        while sent < requests and time.perf_counter() < stop:
            path = todo[sent % len(todo)]
            sent += 1
            start = time.perf_counter()
            r = await client.get(path, headers=headers)
            latencies.append(time.perf_counter() - start)
            errors += r.status_code != 200

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "rps": len(latencies) / elapsed,
    }


WRK_SCRIPT = """
paths = {%s}
token = "%s"
counter = 0
request = function()
  counter = counter + 1
  local headers = {}
  if token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", paths[(counter %% #paths) + 1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%.3f %%.3f %%.3f\\n", summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, summary.duration / 1000000))
end
"""


def load_wrk(
    base: str, token: str, todo: list[str], seconds: float, clients: int, work: Path
) -> dict[str, float]:
    """The same load from ``wrk`` (a C client: on a small machine a Python client spends more
    of the cores than the server does, and so measures itself)."""
    script = work / "load.lua"
    listed = ", ".join(json.dumps(p) for p in todo)
    script.write_text(WRK_SCRIPT % (listed, token))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{max(1, int(seconds))}s", "--timeout", "30s",
         "-s", str(script), base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    n, errors, p50, p95, elapsed = line.split()[1:]
    return {"requests": int(n), "errors": int(errors), "p50_ms": float(p50),
            "p95_ms": float(p95), "rps": int(n) / float(elapsed)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a loaded warehouse (default: a new demo)")
    parser.add_argument("--key-file", type=Path, help="its key file, if not the default")
    parser.add_argument("--scale", type=float, default=0.5, help="size of the new demo")
    parser.add_argument("--requests", type=int, default=3000, help="requests per phase, at most")
    parser.add_argument("--seconds", type=float, default=60, help="seconds per phase, at most")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--cores", type=int, default=2, help="CPUs the server may use (0: all)")
    parser.add_argument(
        "--python-client", action="store_true", help="load from httpx even if wrk is installed"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        data_dir, store_url, key_file, port = args.child
        child_serve(data_dir, store_url, key_file, int(port))
        return
    work = Path(tempfile.mkdtemp(prefix="svduty-bench-web-"))
    server = None
    try:
        data_dir, key_file = args.data_dir, args.key_file
        if data_dir is None:
            data_dir = work / "data"
            start = time.perf_counter()
            key_file = make_demo(data_dir, args.scale)
            print(f"demo partnership made in {time.perf_counter() - start:.0f} s")
        store_url = f"sqlite:///{work / 'store.sqlite'}"
        token = make_user(data_dir, store_url, key_file)
        headers = {"Authorization": f"Bearer {token}"}
        port = free_port()
        cmd = [sys.executable, __file__, "--child", str(data_dir), store_url,
               str(key_file or ""), str(port)]  # fmt: skip
        server = subprocess.Popen(cmd, cwd=ROOT)
        cores = sorted(os.sched_getaffinity(0))[: args.cores] if args.cores else None
        if cores:
            os.sched_setaffinity(server.pid, cores)
        base = f"http://127.0.0.1:{port}"
        print(f"svduty web benchmark: {args.clients} clients, server on "
              f"{len(cores) if cores else os.cpu_count()} cores, data {data_dir}")  # fmt: skip
        assessed = asyncio.run(wait_until_up(base, headers))
        print(f"  first assessment (once per load of the warehouse): {assessed:.1f} s")
        import httpx

        options = httpx.get(f"{base}/api/dashboard/options", headers=headers).json()
        todo = paths(options)
        slowest = asyncio.run(first_answers(base, headers, todo))
        print(f"  {len(todo)} dashboard requests answered once; slowest first answer "
              f"{1000 * slowest:.0f} ms")  # fmt: skip
        if shutil.which("wrk") and not args.python_client:
            print("  load from wrk (apt-get install wrk; --python-client for httpx instead)")
            base_run = load_wrk(base, "", ["/api/health"], args.seconds, args.clients, work)
            dash = load_wrk(base, token, todo, args.seconds, args.clients, work)
        else:
            print("  load from httpx in this process (wrk is faster: apt-get install wrk)")
            base_run = asyncio.run(load(base, {}, ["/api/health"], args.requests, args.seconds,
                                        args.clients))  # fmt: skip
            dash = asyncio.run(load(base, headers, todo, args.requests, args.seconds,
                                    args.clients))  # fmt: skip
        print(f"  {'':36}{'requests':>10}{'p50 ms':>9}{'p95 ms':>9}{'req/s':>9}{'errors':>8}")
        for label, r in (
            ("baseline: /api/health", base_run),
            ("dashboard API (cached filters)", dash),
        ):
            print(f"  {label:36}{r['requests']:>10}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}"
                  f"{r['rps']:>9.0f}{r['errors']:>8}")  # fmt: skip
        ratio = dash["p95_ms"] / base_run["p95_ms"] if base_run["p95_ms"] else float("nan")
        verdict = "met" if dash["p95_ms"] < GOAL_P95_MS and not dash["errors"] else "NOT met"
        print(f"  dashboard p95 / baseline p95: {ratio:.1f}x; goal p95 < {GOAL_P95_MS:.0f} ms: "
              f"{verdict}")  # fmt: skip
        print(json.dumps({"baseline": base_run, "dashboard": dash, "assess_s": assessed,
                          "slowest_first_s": slowest}))  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
