"""The platform's commands, run as a user runs them (SQLite store in the data folder)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import run_cli

PASSWORD = "a perfectly long passphrase"  # noqa: S105 (a test fixture)


def test_users_create_from_stdin_and_list_without_hashes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = run_cli(
        "users", "create", "ana", "--role", "analyst", "--org", "police",
        data_dir=data, input=PASSWORD + "\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "Created ana (analyst, police)" in made.stdout and PASSWORD not in made.stdout
    short = run_cli(
        "users", "create", "bob", "--role", "analyst", "--org", "police",
        data_dir=data, input="short\n",
    )  # fmt: skip
    assert short.returncode == 1 and "at least 12" in short.stderr
    unknown = run_cli(
        "users", "create", "cy", "--role", "analyst", "--org", "nowhere",
        data_dir=data, input=PASSWORD + "\n",
    )  # fmt: skip
    assert unknown.returncode == 1 and "no organisation" in unknown.stderr
    listed = run_cli("users", "list", "--json", data_dir=data)
    rows = json.loads(listed.stdout)
    assert [(u["name"], u["role"], u["org"]) for u in rows] == [("ana", "analyst", "police")]
    assert "argon2" not in listed.stdout and "hash" not in listed.stdout
    token = run_cli("users", "token", "ana", "--days", "7", data_dir=data)
    assert token.returncode == 0 and len(token.stdout.strip()) >= 40


def test_agreements_list_show_and_set(tmp_path: Path) -> None:
    data = tmp_path / "data"
    listed = run_cli("agreements", "--json", data_dir=data)
    assert listed.returncode == 0, listed.stderr
    feeds = {a["feed"]: a for a in json.loads(listed.stdout)}
    assert feeds["istv"]["record_orgs"] == ["health"]
    changed = run_cli(
        "agreements", "set", "istv", "--retention-months", "24", "--json", data_dir=data
    )
    assert changed.returncode == 0 and json.loads(changed.stdout)[0]["retention_months"] == 24
    bad = run_cli("agreements", "set", "istv", "--record-roles", "root", data_dir=data)
    assert bad.returncode == 1 and "unknown role" in bad.stderr
    shown = run_cli("agreements", "show", "social-care", data_dir=data)
    assert "Sch. 1 Part 2 para. 18" in shown.stdout.replace("\n", " ")
    search = run_cli("audit", "search", "--action", "rights", "--json", data_dir=data)
    assert {e["resource"] for e in json.loads(search.stdout)} == {"agreements", "agreement:istv"}


def test_audit_verify_exit_codes_after_tampering(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for name in ("ana", "bob", "cy"):
        made = run_cli(
            "users", "create", name, "--role", "dpo", "--org", "council",
            data_dir=data, input=PASSWORD + "\n",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    ok = run_cli("audit", "verify", data_dir=data)
    assert ok.returncode == 0 and "Audit trail intact: 4 events" in ok.stdout
    with sqlite3.connect(data / "svduty.sqlite") as db:
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE id = 2")
    edited = run_cli("audit", "verify", data_dir=data)
    assert edited.returncode == 1 and "event 2 was changed" in edited.stderr
    with sqlite3.connect(data / "svduty.sqlite") as db:
        db.execute("DELETE FROM audit_events WHERE id IN (2, 4)")
    deleted = run_cli("audit", "verify", "--json", data_dir=data)
    result = json.loads(deleted.stdout)
    assert deleted.returncode == 1 and not result["ok"] and result["events"] == 2
    messages = " ".join(p["message"] for p in result["problems"])
    assert "2 to 2 are missing" in messages and "4 to 4 are missing" in messages
