"""The interventions register: what the partnership funds, where, for whom, and how it is going.

A commissioner keeps it in a spreadsheet (CSV or XLSX, one row per project, headers as in
``docs/commissioning.md``); :func:`import_register` checks every row, reports each bad one with
its row, column and reason, and upserts the good ones by their Reference in one transaction, so
that importing the same file again changes nothing. Quarterly returns (referrals, participants,
sessions, spend) come the same way through :func:`import_returns`. Money is kept in pence.

Examples:
    >>> parse_money("£12,500.50"), parse_money("12500")
    (1250050, 1250000)
    >>> parse_date("31/03/2026"), parse_quarter("2025 q1")
    (datetime.date(2026, 3, 31), '2025-Q1')
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from svduty.commissioning.evidence import Evidence, load_evidence
from svduty.errors import FileRefused, SvdutyError
from svduty.store import audit
from svduty.store.db import Store
from svduty.store.models import Intervention, InterventionReturn, stamp

AREA_CODE = re.compile(r"^[EW]\d{8}$")
DEFAULT_AGE_MAX = 24


class RegisterError(ValueError, SvdutyError):
    """A change to the register (or a proposal) was refused; ``problems`` says why."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class Problem:
    """One refused value: where it is (file, row, column) and why."""

    row: int | None
    column: str
    reason: str
    file: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        where += f"row {self.row}, " if self.row is not None else ""
        return f"{where}{self.column}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    file: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        """Whether the import added or changed anything."""
        return bool(self.added or self.updated)

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "dry_run": self.dry_run,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [p.as_json() for p in self.rejected],
            "warnings": [p.as_json() for p in self.warnings],
        }


@dataclass(frozen=True)
class InterventionView:
    """One intervention as the CLI, the web and the evaluation read it (money in pounds)."""

    id: str
    name: str
    provider: str
    areas: list[str]
    funding_source: str
    financial_year: str
    amount: float
    approach: str
    target_cohort: str
    target_age_max: int
    start: dt.date
    end: dt.date | None
    referrals: int | None
    participants: int | None
    sessions: int | None
    spend: float | None
    source_file: str
    updated_by: str
    updated_at: str

    def as_json(self, evidence: Evidence | None = None) -> dict[str, Any]:
        """The JSON the CLI prints: every field, the evidence rating and flag of its approach."""
        entry = (evidence or load_evidence()).approaches.get(self.approach)
        d = asdict(self)
        d["start"] = self.start.isoformat()
        d["end"] = self.end.isoformat() if self.end else None
        d["evidence"] = {k: v for k, v in entry.as_json().items() if k != "key"} if entry else None
        return d


@dataclass(frozen=True)
class ReturnView:
    """One quarterly return."""

    id: str
    quarter: str
    referrals: int | None
    participants: int | None
    sessions: int | None
    spend: float | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# -- values --------------------------------------------------------------------------------------


def parse_money(value: Any) -> int:
    """Pence from ``"£12,500"``, ``"12500.00"`` or a number; raises ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("is not an amount of money")
    if isinstance(value, int | float):
        pence = round(float(value) * 100)
    else:
        text = re.sub(r"[£,\s]", "", str(value)).removeprefix("GBP")
        if not re.fullmatch(r"-?\d+(\.\d{1,2})?", text):
            raise ValueError("is not an amount of money (write it as 12500, 12,500.00 or £12,500)")
        pence = round(float(text) * 100)
    if pence < 0:
        raise ValueError("must not be negative")
    return pence


def parse_date(value: Any) -> dt.date:
    """A date from ISO ``2025-04-01``, ``01/04/2025`` or a spreadsheet date cell."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise ValueError("is not a date (write it as 2025-04-01 or 01/04/2025)")


def parse_count(value: Any) -> int:
    """A whole number of at least 0 (``"1,200"`` and a spreadsheet's ``12.0`` accepted)."""
    if isinstance(value, bool):
        raise ValueError("is not a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace(",", "").strip()
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError("is not a whole number")
    n = int(text)
    if n < 0:
        raise ValueError("must not be negative")
    return n


def parse_quarter(value: Any) -> str:
    """``2025-Q1`` from ``2025-Q1``, ``2025 Q1`` or ``2025Q1`` (calendar quarters)."""
    m = re.fullmatch(r"(\d{4})\s*[- ]?\s*[Qq]([1-4])", str(value).strip())
    if not m:
        raise ValueError("is not a quarter (write it as 2025-Q1)")
    return f"{m.group(1)}-Q{m.group(2)}"


def parse_financial_year(value: Any) -> str:
    """``2025/26`` from ``2025/26``, ``2025-26`` or ``2025/2026``."""
    m = re.fullmatch(r"(\d{4})\s*[/-]\s*(\d{2}|\d{4})", str(value).strip())
    if not m or int(m.group(2)[-2:]) != (int(m.group(1)) + 1) % 100:
        raise ValueError("is not a financial year (write it as 2025/26)")
    return f"{m.group(1)}/{m.group(2)[-2:]}"


def parse_areas(value: Any, areas: Mapping[str, str] | None) -> list[str]:
    """CSP codes from codes or names separated by ``;`` (``areas``: code -> name, or ``None``
    to accept any code shaped like ``E22000001``)."""
    items = value if isinstance(value, list | tuple) else str(value).split(";")
    items = [str(x).strip() for x in items if str(x).strip()]
    if not items:
        raise ValueError("is empty: give one or more CSP codes or names, separated by ;")
    by_name = {n.casefold(): c for c, n in (areas or {}).items()}
    codes: list[str] = []
    for i, item in enumerate(items, 1):
        code = item.upper()
        if areas is not None:
            code = code if code in areas else by_name.get(item.casefold(), "")
            if not code:
                known = ", ".join(f"{c} {n}" for c, n in sorted(areas.items()))
                raise ValueError(
                    f"item {i} is not a CSP code or name of the partnership's areas ({known})"
                )
        elif not AREA_CODE.fullmatch(code):
            raise ValueError(
                f"item {i} is not a CSP code (E or W and 8 digits); names can be checked only "
                "once the reference data is loaded"
            )
        if code not in codes:
            codes.append(code)
    return codes


def parse_approach(value: Any, evidence: Evidence) -> str:
    """The evidence key of an approach given by key, name or alias."""
    entry = evidence.lookup(str(value))
    if entry is None:
        raise ValueError(
            "is not an approach of the evidence file; use one of: " + ", ".join(evidence.keys())
        )
    return entry.key


def _text(limit: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = str(value).strip()
        if len(text) > limit:
            raise ValueError(f"is longer than {limit} characters")
        return text

    return parse


def _age(value: Any) -> int:
    n = parse_count(value)
    if not 10 <= n <= 120:
        raise ValueError("must be an age from 10 to 120")
    return n


# -- reading spreadsheets ------------------------------------------------------------------------


def _key(header: Any) -> str:
    return re.sub(r"[\s_\-]+", "", str(header or "")).casefold()


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The header and the ``(row number, values)`` of each non-empty row of a CSV or the first
    sheet of an XLSX file (row 1 is the header)."""
    path = Path(path)
    if not path.is_file():
        raise FileRefused(str(path), "file-missing", "there is no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many kinds for a file that is not XLSX
            raise FileRefused(str(path), "not-xlsx", f"cannot be read as XLSX ({e})") from e
        try:
            sheet = book.worksheets[0]
            raw = [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    else:
        try:
            with path.open(encoding="utf-8-sig", newline="") as f:
                raw = [list(r) for r in csv.reader(f)]
        except UnicodeDecodeError as e:
            raise FileRefused(
                str(path), "not-utf8", "is not UTF-8 text: save it as CSV UTF-8 or as XLSX"
            ) from e
        except csv.Error as e:
            raise FileRefused(str(path), "not-csv", f"cannot be read as CSV ({e})") from e
    if not raw:
        raise FileRefused(str(path), "empty", "is empty: the first row must be the headers")
    header = ["" if h is None else str(h).strip() for h in raw[0]]
    rows = [
        (n, r) for n, r in enumerate(raw[1:], 2) if any(v is not None and str(v).strip() for v in r)
    ]
    return header, rows


@dataclass(frozen=True)
class Column:
    """A spreadsheet column: its header, the field it fills and how its text is read."""

    header: str
    field: str
    parse: Callable[[Any], Any]
    required: bool = True
    aliases: tuple[str, ...] = ()


def parse_table(
    path: Path, columns: list[Column]
) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    """Each row's parsed fields, and a problem for each value that could not be read.

    A row with any problem is left out of the rows returned (and reported).

    Raises:
        FileRefused: a required column is missing from the header row.
    """
    header, rows = read_rows(path)
    where = {_key(h): i for i, h in enumerate(header) if h}
    index: dict[str, int] = {}
    missing = []
    for c in columns:
        found = [where[k] for k in (_key(c.header), *map(_key, c.aliases)) if k in where]
        if found:
            index[c.field] = found[0]
        elif c.required:
            missing.append(c.header)
    if missing:
        raise FileRefused(
            str(path),
            "missing-columns",
            f"the header row lacks {', '.join(missing)}; expected the columns "
            + ", ".join(c.header for c in columns)
            + " (see docs/commissioning.md)",
        )
    good: list[tuple[int, dict[str, Any]]] = []
    problems: list[Problem] = []
    for n, values in rows:
        parsed: dict[str, Any] = {}
        bad = False
        for c in columns:
            i = index.get(c.field)
            value = values[i] if i is not None and i < len(values) else None
            if value is None or (isinstance(value, str) and not value.strip()):
                if c.required:
                    problems.append(Problem(n, c.header, "is empty", str(path)))
                    bad = True
                parsed[c.field] = None
                continue
            try:
                parsed[c.field] = c.parse(value)
            except ValueError as e:
                problems.append(Problem(n, c.header, str(e), str(path)))
                bad = True
        if not bad:
            good.append((n, parsed))
    return good, problems


# -- the register --------------------------------------------------------------------------------


def register_columns(areas: Mapping[str, str] | None, evidence: Evidence) -> list[Column]:
    """The register's columns, in the order the template has them."""
    return [
        Column("Reference", "reference", _text(40), aliases=("ID", "Ref")),
        Column("Project", "name", _text(200), aliases=("Name", "Project Name")),
        Column("Provider", "provider", _text(200)),
        Column("Areas", "areas", lambda v: parse_areas(v, areas), aliases=("Area", "CSP")),
        Column("Funding Source", "funding_source", _text(120), required=False),
        Column("Financial Year", "financial_year", parse_financial_year, required=False),
        Column("Amount", "amount_pence", parse_money, aliases=("Amount Awarded", "Award")),
        Column("Approach", "approach", lambda v: parse_approach(v, evidence)),
        Column("Target Cohort", "target_cohort", _text(2000), required=False),
        Column("Target Age Max", "target_age_max", _age, required=False),
        Column("Start", "start", parse_date, aliases=("Start Date",)),
        Column("End", "end", parse_date, required=False, aliases=("End Date",)),
        Column("Referrals", "referrals", parse_count, required=False),
        Column("Participants", "participants", parse_count, required=False),
        Column("Sessions", "sessions", parse_count, required=False),
        Column("Spend", "spend_pence", parse_money, required=False),
    ]


FIELDS = [c.field for c in register_columns(None, load_evidence()) if c.field != "reference"]


def _check(
    row: int | None, values: dict[str, Any], file: str = ""
) -> tuple[list[Problem], list[Problem]]:
    """Rules across columns: errors (end before start) and warnings (spend over the amount)."""
    errors, warnings = [], []
    start, end = values.get("start"), values.get("end")
    if start is not None and end is not None and end < start:
        errors.append(Problem(row, "End", "is before Start", file))
    spend, amount = values.get("spend_pence"), values.get("amount_pence")
    if spend is not None and amount is not None and spend > amount:
        warnings.append(Problem(row, "Spend", "is more than Amount (kept: check it)", file))
    return errors, warnings


def _values(row: Intervention) -> dict[str, Any]:
    return {f: getattr(row, f) for f in FIELDS}


def _view(row: Intervention) -> InterventionView:
    return InterventionView(
        id=row.reference,
        name=row.name,
        provider=row.provider,
        areas=list(row.areas),
        funding_source=row.funding_source,
        financial_year=row.financial_year,
        amount=row.amount_pence / 100,
        approach=row.approach,
        target_cohort=row.target_cohort,
        target_age_max=row.target_age_max,
        start=row.start,
        end=row.end,
        referrals=row.referrals,
        participants=row.participants,
        sessions=row.sessions,
        spend=row.spend_pence / 100 if row.spend_pence is not None else None,
        source_file=row.source_file,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def import_register(
    store: Store,
    path: Path,
    *,
    user: str | None = None,
    areas: Mapping[str, str] | None = None,
    evidence: Evidence | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Check a register spreadsheet and upsert its good rows by Reference, in one transaction.

    Args:
        store: the operational store.
        path: a CSV or XLSX file (first sheet), headers in its first row.
        user: who imports it (for the audit trail).
        areas: the partnership's CSP codes -> names (from the warehouse's reference geography);
            ``None`` accepts any code shaped like ``E22000001``.
        evidence: the evidence file the approaches are checked against (default: svduty's).
        dry_run: check and report, change nothing.

    Returns:
        What was added, updated, unchanged, rejected (row, column, reason) and the warnings.

    Raises:
        FileRefused: the file cannot be read or lacks a required column.

    Examples:
        >>> import tempfile
        >>> from svduty.config import Settings
        >>> from svduty.store.db import open_store
        >>> folder = Path(tempfile.mkdtemp())
        >>> store = open_store(Settings(data_dir=folder))
        >>> _ = (folder / "r.csv").write_text(
        ...     "Reference,Project,Provider,Areas,Amount,Approach,Start\\n"
        ...     "EB-1,Mentors,Trust,E22900002,£20000,mentoring,2025-04-01\\n")
        >>> import_register(store, folder / "r.csv").added
        ['EB-1']
        >>> import_register(store, folder / "r.csv").unchanged
        ['EB-1']
        >>> store.dispose()
    """
    evidence = evidence or load_evidence()
    report = ImportReport(file=str(path), dry_run=dry_run)
    rows, report.rejected = parse_table(path, register_columns(areas, evidence))
    seen: set[str] = set()
    good: list[dict[str, Any]] = []
    for n, values in rows:
        errors, warnings = _check(n, values, str(path))
        if values["reference"] in seen:
            errors.append(Problem(n, "Reference", "repeats an earlier row's Reference", str(path)))
        report.warnings += warnings
        if errors:
            report.rejected += errors
            continue
        seen.add(values["reference"])
        if values.get("target_age_max") is None:
            values["target_age_max"] = DEFAULT_AGE_MAX
        for f in ("provider", "funding_source", "financial_year", "target_cohort"):
            values[f] = values.get(f) or ""
        good.append(values)
    now = stamp()
    with store.sessions() if dry_run else store.session() as s:
        existing = {
            r.reference: r
            for r in s.execute(
                select(Intervention).where(Intervention.reference.in_(list(seen)))
            ).scalars()
        }
        for values in good:
            ref = values.pop("reference")
            row = existing.get(ref)
            if row is None:
                report.added.append(ref)
                if not dry_run:
                    s.add(
                        Intervention(
                            reference=ref,
                            **values,
                            source_file=Path(path).name,
                            imported_at=now,
                            updated_by=user or "",
                            created_at=now,
                            updated_at=now,
                        )
                    )
            elif _values(row) == values:
                report.unchanged.append(ref)
            else:
                report.updated.append(ref)
                if not dry_run:
                    for k, v in values.items():
                        setattr(row, k, v)
                    row.source_file, row.imported_at = Path(path).name, now
                    row.updated_by, row.updated_at = user or "", now
        if report.changed and not dry_run:
            audit.append(
                s,
                actor=user or "cli",
                action="interventions-import",
                resource=f"file:{Path(path).name}",
                detail={
                    "added": report.added,
                    "updated": report.updated,
                    "unchanged": len(report.unchanged),
                    "rejected_rows": sorted({p.row for p in report.rejected if p.row}),
                },
            )
    return report


def list_interventions(store: Store) -> list[InterventionView]:
    """Every intervention of the register, by reference."""
    with store.sessions() as s:
        rows = s.execute(select(Intervention).order_by(Intervention.reference)).scalars().all()
        return [_view(r) for r in rows]


def get_intervention(store: Store, reference: str) -> InterventionView | None:
    """The intervention with this reference, or ``None``."""
    with store.sessions() as s:
        row = s.execute(
            select(Intervention).where(Intervention.reference == reference)
        ).scalar_one_or_none()
        return _view(row) if row is not None else None


_EDITABLE = {
    "name", "provider", "areas", "funding_source", "financial_year", "amount", "approach",
    "target_cohort", "target_age_max", "start", "end", "referrals", "participants", "sessions",
    "spend",
}  # fmt: skip


def update_intervention(
    store: Store,
    reference: str,
    changes: Mapping[str, Any],
    *,
    user: str,
    areas: Mapping[str, str] | None = None,
    evidence: Evidence | None = None,
) -> InterventionView:
    """Change some fields of one intervention (a commissioner's edit on the web), checked as an
    import checks them, and audited.

    ``changes`` maps :class:`InterventionView` field names (``amount`` and ``spend`` in pounds)
    to new values, as text or as typed values.

    Raises:
        RegisterError: no such intervention, or a value is refused (``problems`` lists each).
    """
    evidence = evidence or load_evidence()
    money = {"amount": "amount_pence", "spend": "spend_pence"}
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in _EDITABLE:
            problems.append(Problem(None, name, "cannot be changed here"))
            continue
        field_name = money.get(name, name)
        column = {c.field: c for c in register_columns(areas, evidence)}[field_name]
        if name in ("amount", "spend") and isinstance(value, int | float) and value is not None:
            value = float(value)
        if value is None or (isinstance(value, str) and not value.strip()):
            if column.required:
                problems.append(Problem(None, column.header, "is empty"))
            elif field_name == "target_age_max":
                parsed[field_name] = DEFAULT_AGE_MAX
            else:
                parsed[field_name] = "" if field_name in _TEXTS else None
            continue
        try:
            parsed[field_name] = column.parse(value)
        except ValueError as e:
            problems.append(Problem(None, column.header, str(e)))
    with store.session() as s:
        row = s.execute(
            select(Intervention).where(Intervention.reference == reference).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise RegisterError(
                f"there is no intervention {reference}; `svduty interventions list` shows them"
            )
        merged = {**_values(row), **parsed}
        errors, _ = _check(None, merged)
        problems += errors
        if problems:
            raise RegisterError(
                f"the change to {reference} was refused: " + "; ".join(map(str, problems)),
                problems,
            )
        before = _values(row)
        changed = sorted(k for k in parsed if before[k] != parsed[k])
        for k in changed:
            setattr(row, k, parsed[k])
        if changed:
            row.updated_by, row.updated_at = user, stamp()
            audit.append(
                s,
                actor=user,
                action="interventions-edit",
                resource=f"intervention:{reference}",
                detail={"fields": changed},
            )
        s.flush()
        return _view(row)


_TEXTS = {"provider", "funding_source", "financial_year", "target_cohort"}


# -- quarterly returns ---------------------------------------------------------------------------


def returns_columns() -> list[Column]:
    """The columns of a quarterly returns file."""
    return [
        Column("Reference", "reference", _text(40), aliases=("ID", "Ref")),
        Column("Quarter", "quarter", parse_quarter),
        Column("Referrals", "referrals", parse_count, required=False),
        Column("Participants", "participants", parse_count, required=False),
        Column("Sessions", "sessions", parse_count, required=False),
        Column("Spend", "spend_pence", parse_money, required=False),
    ]


def import_returns(
    store: Store, path: Path, *, user: str | None = None, dry_run: bool = False
) -> ImportReport:
    """Check a quarterly returns file and upsert its good rows by Reference and Quarter.

    A row whose Reference is not in the register is refused. Reported and idempotent as
    :func:`import_register` is; ``added`` etc. name ``REFERENCE QUARTER``.
    """
    report = ImportReport(file=str(path), dry_run=dry_run)
    rows, report.rejected = parse_table(path, returns_columns())
    with store.sessions() if dry_run else store.session() as s:
        by_ref = {r.reference: r for r in s.execute(select(Intervention)).scalars()}
        seen: set[tuple[str, str]] = set()
        for n, values in rows:
            ref, quarter = values.pop("reference"), values.pop("quarter")
            parent = by_ref.get(ref)
            if parent is None:
                report.rejected.append(
                    Problem(n, "Reference", "is not in the interventions register", str(path))
                )
                continue
            if (ref, quarter) in seen:
                report.rejected.append(
                    Problem(
                        n, "Quarter", "repeats an earlier row's Reference and Quarter", str(path)
                    )
                )
                continue
            seen.add((ref, quarter))
            label = f"{ref} {quarter}"
            row = s.execute(
                select(InterventionReturn).where(
                    InterventionReturn.intervention_id == parent.id,
                    InterventionReturn.quarter == quarter,
                )
            ).scalar_one_or_none()
            if row is None:
                report.added.append(label)
                if not dry_run:
                    s.add(
                        InterventionReturn(
                            intervention_id=parent.id,
                            quarter=quarter,
                            **values,
                            source_file=Path(path).name,
                            updated_by=user or "",
                        )
                    )
            elif all(getattr(row, k) == v for k, v in values.items()):
                report.unchanged.append(label)
            else:
                report.updated.append(label)
                if not dry_run:
                    for k, v in values.items():
                        setattr(row, k, v)
                    row.source_file, row.updated_by, row.updated_at = (
                        Path(path).name,
                        user or "",
                        stamp(),
                    )
        if report.changed and not dry_run:
            audit.append(
                s,
                actor=user or "cli",
                action="returns-import",
                resource=f"file:{Path(path).name}",
                detail={"added": report.added, "updated": report.updated},
            )
    return report


def list_returns(store: Store, reference: str | None = None) -> list[ReturnView]:
    """The quarterly returns (of one intervention, or all), by reference and quarter."""
    q = select(InterventionReturn, Intervention.reference).join(Intervention)
    if reference is not None:
        q = q.where(Intervention.reference == reference)
    q = q.order_by(Intervention.reference, InterventionReturn.quarter)
    with store.sessions() as s:
        return [
            ReturnView(
                ref,
                r.quarter,
                r.referrals,
                r.participants,
                r.sessions,
                r.spend_pence / 100 if r.spend_pence is not None else None,
            )
            for r, ref in s.execute(q).all()
        ]


def partnership_areas(con: Any) -> dict[str, str]:
    """The CSP codes and names of the warehouse's reference geography (empty if not loaded)."""
    geo = con.table("ref_geography")
    rows = geo.select("csp24_code", "csp24_name").distinct().to_pyarrow().to_pylist()
    return {r["csp24_code"]: r["csp24_name"] or "" for r in rows if r["csp24_code"]}


def money(pence: float | int | None) -> str:
    """Pounds as a commissioner writes them.

    Examples:
        >>> money(1250000), money(1250050), money(None)
        ('£12,500', '£12,500.50', '')
    """
    if pence is None:
        return ""
    return f"£{pence / 100:,.0f}" if pence % 100 == 0 else f"£{pence / 100:,.2f}"


__all__ = [
    "ImportReport",
    "InterventionView",
    "Problem",
    "RegisterError",
    "ReturnView",
    "get_intervention",
    "import_register",
    "import_returns",
    "list_interventions",
    "list_returns",
    "money",
    "parse_money",
    "partnership_areas",
    "update_intervention",
]
