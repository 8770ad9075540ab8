"""The interventions register: CSV and XLSX import, refused rows, idempotence, edits, returns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from svduty.commissioning.register import (
    RegisterError,
    get_intervention,
    import_register,
    import_returns,
    list_interventions,
    list_returns,
    update_intervention,
)
from svduty.config import Settings
from svduty.errors import FileRefused
from svduty.store import audit
from svduty.store.db import Store, open_store
from svduty.store.models import Base

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "commissioning" / "sample-register.csv"
AREAS = {
    "E22900001": "Northam",
    "E22900002": "Eastbrook",
    "E22900003": "Westmere",
    "E22900004": "Southfield",
    "E22900005": "Kingsford",
    "E22900006": "Ashby",
}
HEADER = "Reference,Project,Provider,Areas,Amount,Approach,Start,End,Participants,Spend\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(Settings(data_dir=tmp_path / "data"))
    yield s
    s.dispose()


def write(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_the_migrations_create_what_the_models_declare(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_the_sample_register_imports(store: Store) -> None:
    report = import_register(store, SAMPLE, user="commissioner", areas=AREAS)
    assert report.rejected == [] and report.warnings == []
    refs = [v.id for v in list_interventions(store)]
    assert sorted(report.added) == refs and len(refs) == 7
    fft = get_intervention(store, "NH-FT-01")
    assert fft is not None
    assert fft.areas == ["E22900001", "E22900002"] and fft.approach == "functional-family-therapy"
    assert fft.amount == 42500.0 and fft.spend == 30100.0 and fft.participants == 19
    assert fft.start == dt.date(2025, 4, 1) and fft.financial_year == "2025/26"
    after_school = get_intervention(store, "SF-AS-01")
    assert after_school is not None and after_school.start == dt.date(2025, 9, 5)  # dd/mm/yyyy
    assert get_intervention(store, "NOPE") is None


def test_bad_rows_are_refused_with_row_column_and_reason_and_good_rows_kept(
    store: Store, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "register.csv",
        "OK-1,Mentors,Trust,E22900002,£20000,mentoring,2025-04-01,2026-03-31,10,£5000",
        "BAD-AREA,Mentors,Trust,E22900002;Atlantis,12500,mentoring,2025-04-01,,,",
        "BAD-APPROACH,Juggling,Trust,E22900001,12500,juggling,2025-04-01,,,",
        "BAD-DATES,Mentors,Trust,Northam,12500,mentoring,2025-04-01,2025-03-01,,",
        "BAD-MONEY,Mentors,Trust,E22900001,-50,mentoring,2025-04-01,,-3,",
        "OVERSPENT,Football,Club,eastbrook,£1000.00,sports,01/04/2025,,,£1500",
        "OK-1,Duplicate,Trust,E22900002,£20000,mentoring,2025-04-01,,,",
        ",No reference,Trust,E22900002,£20000,mentoring,2025-04-01,,,",
    )
    report = import_register(store, path, areas=AREAS)
    assert report.added == ["OK-1", "OVERSPENT"]
    got = {(p.row, p.column) for p in report.rejected}
    assert got == {
        (3, "Areas"),
        (4, "Approach"),
        (5, "End"),
        (6, "Amount"),
        (6, "Participants"),
        (8, "Reference"),
        (9, "Reference"),
    }
    reasons = {(p.row, p.column): p.reason for p in report.rejected}
    assert "item 2 is not a CSP code or name" in reasons[(3, "Areas")]
    assert "mentoring" in reasons[(4, "Approach")]  # says which approaches exist
    assert reasons[(5, "End")] == "is before Start"
    assert reasons[(6, "Amount")] == "must not be negative"
    assert "repeats" in reasons[(8, "Reference")] and reasons[(9, "Reference")] == "is empty"
    assert all(p.file == str(path) for p in report.rejected)
    # the overspend is a warning, and the row is kept
    assert [(w.row, w.column) for w in report.warnings] == [(7, "Spend")]
    assert get_intervention(store, "OVERSPENT").areas == ["E22900002"]  # type: ignore[union-attr]
    assert {v.id for v in list_interventions(store)} == {"OK-1", "OVERSPENT"}


def test_without_reference_data_only_code_shapes_are_checked(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.csv",
        "A,Mentors,Trust,W12345678,£1,mentoring,2025-04-01,,,",
        "B,Mentors,Trust,Northam,£1,mentoring,2025-04-01,,,",
    )
    report = import_register(store, path)
    assert report.added == ["A"]
    assert [(p.row, p.column) for p in report.rejected] == [(3, "Areas")]
    assert "once the reference data is loaded" in report.rejected[0].reason


def test_importing_the_same_file_again_changes_nothing(store: Store, tmp_path: Path) -> None:
    first = import_register(store, SAMPLE, areas=AREAS)
    events = len(audit.search(store, action="interventions-import"))
    again = import_register(store, SAMPLE, areas=AREAS)
    assert first.changed and not again.changed
    assert sorted(again.unchanged) == sorted(first.added)
    assert len(audit.search(store, action="interventions-import")) == events == 1

    changed = tmp_path / "changed.csv"
    changed.write_text(SAMPLE.read_text().replace('"£42,500"', '"£45,000"'))
    third = import_register(store, changed, areas=AREAS, user="kim")
    assert third.updated == ["NH-FT-01"] and len(third.unchanged) == 6
    assert get_intervention(store, "NH-FT-01").amount == 45000.0  # type: ignore[union-attr]
    event = audit.search(store, action="interventions-import")[0]
    assert event["actor"] == "kim" and event["detail"]["updated"] == ["NH-FT-01"]


def test_a_dry_run_changes_nothing(store: Store) -> None:
    report = import_register(store, SAMPLE, areas=AREAS, dry_run=True)
    assert len(report.added) == 7 and report.dry_run
    assert list_interventions(store) == []
    assert audit.search(store, action="interventions-import") == []


def test_the_import_is_atomic(store: Store, tmp_path: Path) -> None:
    # the audit event is written last, in the same transaction: when it fails, no row stays
    import sqlalchemy.exc

    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_head RENAME TO audit_head_away")
    with pytest.raises(sqlalchemy.exc.OperationalError):
        import_register(store, SAMPLE, areas=AREAS)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_head_away RENAME TO audit_head")
    assert list_interventions(store) == []
    assert len(import_register(store, SAMPLE, areas=AREAS).added) == 7


def test_xlsx_import(store: Store, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["reference", "PROJECT", "Provider", "areas", "Amount", "approach", "Start Date",
                  "End", "Target Age Max", "Participants", "Spend", "Financial Year"])  # fmt: skip
    sheet.append(["X-1", "Navigators", "NHS Trust", "Westmere; Southfield", 88000,
                  "A&E navigators", dt.datetime(2025, 4, 1), dt.date(2026, 3, 31), 24, 97.0,
                  66200.5, "2025-26"])  # fmt: skip
    sheet.append(["X-2", "Scared straight", "Prison", "E22900001", "£5,000", "prison awareness",
                  "01/05/2025", None, 17, None, None, "2025/2026"])  # fmt: skip
    sheet.append([None] * 12)
    sheet.append(["X-3", "Bad year", "Club", "E22900001", 10, "mentoring", "2025-04-01", None,
                  None, 1.5, None, "2025/27"])  # fmt: skip
    book.create_sheet("Notes").append(["ignored"])
    path = tmp_path / "register.xlsx"
    book.save(path)

    report = import_register(store, path, areas=AREAS)
    assert report.added == ["X-1", "X-2"]
    assert {(p.row, p.column) for p in report.rejected} == {
        (5, "Participants"),
        (5, "Financial Year"),
    }
    x1 = get_intervention(store, "X-1")
    assert x1 is not None
    assert x1.areas == ["E22900003", "E22900004"] and x1.approach == "ae-navigators"
    assert x1.start == dt.date(2025, 4, 1) and x1.end == dt.date(2026, 3, 31)
    assert x1.spend == 66200.5 and x1.participants == 97 and x1.financial_year == "2025/26"
    x2 = get_intervention(store, "X-2")
    assert x2 is not None and x2.approach == "scared-straight" and x2.target_age_max == 17
    assert x2.as_json()["evidence"]["flag"] == "harmful"
    assert import_register(store, path, areas=AREAS).unchanged == ["X-1", "X-2"]


def test_a_file_without_the_required_columns_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("Reference,Project\nA,B\n")
    with pytest.raises(FileRefused, match="lacks Provider, Areas, Amount, Approach, Start"):
        import_register(store, path)
    with pytest.raises(FileRefused, match="no such file"):
        import_register(store, tmp_path / "missing.csv")


def test_update_intervention_is_checked_and_audited(store: Store) -> None:
    import_register(store, SAMPLE, areas=AREAS)
    view = update_intervention(
        store,
        "EB-YP-01",
        {"spend": 50000, "participants": "48", "end": "30/06/2026", "areas": ["Eastbrook"]},
        user="commissioner",
        areas=AREAS,
    )
    assert view.spend == 50000.0 and view.participants == 48 and view.end == dt.date(2026, 6, 30)
    assert get_intervention(store, "EB-YP-01") == view and view.updated_by == "commissioner"
    event = audit.search(store, action="interventions-edit")[0]
    assert event["actor"] == "commissioner" and event["resource"] == "intervention:EB-YP-01"
    assert event["detail"]["fields"] == ["end", "participants", "spend_pence"]

    with pytest.raises(RegisterError) as refused:
        update_intervention(
            store, "EB-YP-01", {"end": "2020-01-01", "approach": "juggling"}, user="c"
        )
    assert {p.column for p in refused.value.problems} == {"Approach", "End"}
    with pytest.raises(RegisterError, match="cannot be changed"):
        update_intervention(store, "EB-YP-01", {"reference": "X"}, user="c")
    with pytest.raises(RegisterError, match="there is no intervention"):
        update_intervention(store, "NOPE", {"name": "X"}, user="c")
    assert get_intervention(store, "EB-YP-01") == view
    assert len(audit.search(store, action="interventions-edit")) == 1


def test_quarterly_returns(store: Store, tmp_path: Path) -> None:
    import_register(store, SAMPLE, areas=AREAS)
    path = tmp_path / "returns.csv"
    path.write_text(
        "Reference,Quarter,Referrals,Participants,Sessions,Spend\n"
        "EB-YP-01,2025-Q2,20,15,120,£16000\n"
        "EB-YP-01,2025 Q3,18,14,140,16500\n"
        "NOPE-01,2025-Q2,1,1,1,1\n"
        "EB-YP-01,2025-Q5,1,1,1,1\n"
        "EB-YP-01,2025Q2,1,1,1,1\n"
    )
    report = import_returns(store, path, user="provider")
    assert report.added == ["EB-YP-01 2025-Q2", "EB-YP-01 2025-Q3"]
    assert [(p.row, p.column) for p in report.rejected] == [
        (5, "Quarter"),
        (4, "Reference"),
        (6, "Quarter"),
    ]
    got = list_returns(store, "EB-YP-01")
    assert [(r.quarter, r.participants, r.spend) for r in got] == [
        ("2025-Q2", 15, 16000.0),
        ("2025-Q3", 14, 16500.0),
    ]
    assert not import_returns(store, path).changed
    assert list_returns(store, "NH-FT-01") == [] and len(list_returns(store)) == 2
