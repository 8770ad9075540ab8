"""The commissioners' commands end to end, through the real ``svduty`` command: the register, a
funding round allocated on a small synthetic warehouse of its own, an override."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest

from svduty.config import Settings
from svduty.ingest.partners import ingest_feed
from svduty.ingest.sources import find_sources
from svduty.reference import load_reference
from svduty.synth import generate
from svduty.warehouse import connect
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "docs" / "commissioning"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A small synthetic partnership: its reference data and police recorded crime only (the
    CLI opens the warehouse itself, so it cannot share the session's)."""
    root = tmp_path_factory.mktemp("commissioning-warehouse")
    settings = Settings(data_dir=root / "data", key_file=root / "key")
    work = root / "synth"
    generate(work, seed=3, years=1, scale=0.1)
    con = connect(settings)
    load_reference(con, work / "reference")
    ingest_feed(con, settings, "police-crime", *find_sources([work / "feeds" / "police-crime"]))
    con.disconnect()
    shutil.rmtree(work)
    yield settings


def test_the_register_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = run_cli("interventions", "import", str(SAMPLES / "sample-register.csv"), data_dir=data)
    assert done.returncode == 0, done.stderr
    assert "7 interventions added" in done.stdout
    again = run_cli(
        "interventions", "import", "--json", str(SAMPLES / "sample-register.csv"), data_dir=data
    )
    assert again.returncode == 0, again.stderr
    assert len(json.loads(again.stdout)["unchanged"]) == 7

    listed = run_cli("interventions", "list", "--json", data_dir=data)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert {r["id"] for r in rows} == {
        line.split(",", 1)[0]
        for line in (SAMPLES / "sample-register.csv").read_text().splitlines()[1:]
    }
    knife = next(r for r in rows if r["approach"] == "knife-crime-education")
    assert knife["evidence"]["flag"] == "no-clear-evidence" and knife["amount"] == 12500.0
    assert {"name", "provider", "areas", "spend", "participants", "start", "end"} <= set(knife)

    shown = run_cli("interventions", "show", "EB-YP-01", data_dir=data)
    assert shown.returncode == 0 and "Mentoring" in shown.stdout
    missing = run_cli("interventions", "show", "NOPE", data_dir=data)
    assert missing.returncode == 1 and "there is no intervention NOPE" in missing.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text("Reference,Project\nA,B\n")
    refused = run_cli("interventions", "import", str(bad), data_dir=data)
    assert refused.returncode == 1 and "lacks Provider" in refused.stderr
    assert refused.stderr.strip().count("\n") == 0


def test_a_funding_round_end_to_end(warehouse: Settings, tmp_path: Path) -> None:
    env = {
        "SVDUTY_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "SVDUTY_KEY_FILE": str(warehouse.key_file),
    }
    data = warehouse.data_dir

    def cli(*args: str) -> str:
        done = run_cli(*args, data_dir=data, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    imported = cli(
        "funding", "proposals", "import", str(SAMPLES / "sample-proposals.csv"),
        "--round", "2026/27", "--json",
    )  # fmt: skip
    assert len(json.loads(imported)["added"]) == 9  # area names resolved from the warehouse
    result = json.loads(
        cli(
            "funding",
            "allocate",
            "--round",
            "2026/27",
            "--budget",
            "£350,000",
            "--minimum-per-area",
            "20000",
            "--json",
        )  # fmt: skip
    )
    assert result["budget"] == 350000 and result["allocated"] <= 350000
    assert {a["code"] for a in result["need"]} == {f"E2290000{i}" for i in range(1, 7)}
    assert abs(sum(a["share"] for a in result["need"]) - 1) < 1e-3
    assert all(a["allocated"] >= 20000 for a in result["areas"])
    props = {p["reference"]: p for p in result["proposals"]}
    assert props["P26-EB-02"]["recommended"] == 0
    assert props["P26-EB-02"]["evidence"]["flag"] == "harmful"
    assert props["P26-AS-01"]["evidence"]["flag"] == "no-clear-evidence"
    assert all(p["explanation"] and p["override"] is None for p in props.values())
    assert set(result) >= {"round", "minimum_per_area", "unallocated", "areas", "inputs_hash"}

    refused = run_cli(
        "funding", "override", "--round", "2026/27", "--proposal", "P26-AS-01",
        "--amount", "18000", "--reason", "", data_dir=data, env=env,
    )  # fmt: skip
    assert refused.returncode == 1 and "needs a reason" in refused.stderr
    cli(
        "funding", "override", "--round", "2026/27", "--proposal", "P26-AS-01",
        "--amount", "£18,000", "--reason", "Pilot with an evaluation", "--user", "kim",
    )  # fmt: skip
    shown = json.loads(cli("funding", "show", "--round", "2026/27", "--json"))
    p = next(p for p in shown["proposals"] if p["reference"] == "P26-AS-01")
    assert p["final"] == 18000 and p["override"]["user"] == "kim"
    text = run_cli("funding", "show", "--round", "2026/27", data_dir=data, env=env)
    assert text.returncode == 0 and "Pilot with an evaluation" in " ".join(text.stdout.split())
    if shown["final"] > 350000:
        assert "over the budget" in text.stderr
    rounds = json.loads(cli("funding", "rounds", "--json"))
    assert [r["round"] for r in rounds] == ["2026/27"] and rounds[0]["budget"] == 350000

    too_much = run_cli(
        "funding", "allocate", "--round", "2026/27", "--budget", "50000",
        "--minimum-per-area", "20000", data_dir=data, env=env,
    )  # fmt: skip
    assert too_much.returncode == 1 and "more than the budget" in too_much.stderr

    # the rest of the walk-through in docs/commissioning.md: the sample register, then the
    # monitoring report a commissioner reads
    cli("interventions", "import", str(SAMPLES / "sample-register.csv"))
    said = cli("monitoring", "report", "--out", str(tmp_path / "reports"), "--no-pdf")
    written = sorted((tmp_path / "reports").glob("monitoring-*.html"))
    assert len(written) == 1 and written[0].name in "".join(said.split())
    html = written[0].read_text(encoding="utf-8")
    projects = [
        line.split(",")[1]
        for line in (SAMPLES / "sample-register.csv").read_text().splitlines()[1:]
    ]
    assert projects and all(escape(name) in html for name in projects)
    assert "<script" not in html.lower()
