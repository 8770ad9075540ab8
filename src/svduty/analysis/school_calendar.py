"""The school calendar: which days schools are open, from a data file a partnership can replace
(svduty ships the typical dates of England's school holidays, with the bank holidays), for
comparing school days with the holidays.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from svduty.analysis.tomlfile import read_toml
from svduty.errors import ConfigError

_YEAR = re.compile(r"^(\d{4})/(\d{2})$")
_CALENDAR_KEYS = {"name", "version", "source", "academic_years", "bank_holidays", "holiday"}
_HOLIDAY_KEYS = {"name", "academic_year", "first", "last"}


@dataclass(frozen=True)
class SchoolCalendar:
    """School holidays and bank holidays over whole academic years (1 September to 31 August).

    ``open_days`` holds, for each day from ``first_day`` to ``last_day``, whether schools are open.
    """

    name: str
    version: str
    source: str
    first_day: dt.date
    last_day: dt.date
    holidays: tuple[tuple[str, dt.date, dt.date], ...]
    bank_holidays: tuple[dt.date, ...]
    open_days: np.ndarray = field(repr=False, compare=False)

    def covers(self, dates: Any) -> np.ndarray:
        """Whether each date lies within the calendar's academic years."""
        days = _as_days(dates)
        first, last = np.datetime64(self.first_day, "D"), np.datetime64(self.last_day, "D")
        return ~np.isnat(days) & (days >= first) & (days <= last)


def _as_days(dates: Any) -> np.ndarray:
    if isinstance(dates, pd.Series | pd.Index):
        dates = dates.to_numpy()
    return np.asarray(dates, dtype="datetime64[D]")


def _is_date(v: Any) -> bool:
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


def _parse_calendar(data: dict[str, Any], source: str) -> SchoolCalendar:
    problems = [f"unknown key '{k}'" for k in sorted(set(data) - _CALENDAR_KEYS)]
    for key in ("name", "version"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            problems.append(f"'{key}' must be a non-empty text")
    years = data.get("academic_years")
    starts = []
    for y in years if isinstance(years, list) else []:
        m = _YEAR.match(y) if isinstance(y, str) else None
        if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
            problems.append(f"academic year {y!r} is not written like 2024/25")
        else:
            starts.append(int(m.group(1)))
    if not starts:
        problems.append("'academic_years' must list academic years such as \"2024/25\"")
    elif starts != list(range(starts[0], starts[0] + len(starts))):
        problems.append("'academic_years' must be consecutive, in order")
    first = dt.date(starts[0], 9, 1) if starts else dt.date.min
    last = dt.date(starts[-1] + 1, 8, 31) if starts else dt.date.max
    bank = data.get("bank_holidays", [])
    if not isinstance(bank, list) or not all(_is_date(d) for d in bank):
        problems.append("'bank_holidays' must be a list of dates (2025-05-05)")
        bank = []
    for d in bank:
        if d.weekday() >= 5:
            problems.append(f"bank holiday {d} is a {d:%A}: list the weekday it is moved to")
        if not first <= d <= last:
            problems.append(f"bank holiday {d} is outside the academic years")
    holidays: list[tuple[str, dt.date, dt.date]] = []
    entries = data.get("holiday")
    if not isinstance(entries, list) or not entries:
        problems.append("no [[holiday]] table")
        entries = []
    for i, h in enumerate(entries, 1):
        where = f"holiday {i}"
        if not isinstance(h, dict):
            problems.append(f"{where} must be a table")
            continue
        name: Any = h.get("name")
        year: Any = h.get("academic_year")
        a: Any = h.get("first")
        b: Any = h.get("last")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where} needs a 'name'")
        else:
            where = f"holiday {i} ({name})"
        problems += [f"{where}: unknown key '{k}'" for k in sorted(set(h) - _HOLIDAY_KEYS)]
        if not (_is_date(a) and _is_date(b)):
            problems.append(f"{where}: 'first' and 'last' must be dates (2025-02-17)")
            continue
        if a > b:
            problems.append(f"{where}: 'first' {a} is after 'last' {b}")
        if year not in (years if isinstance(years, list) else []):
            problems.append(f"{where}: academic_year {year!r} is not one of 'academic_years'")
        elif not dt.date(int(year[:4]), 9, 1) <= a <= dt.date(int(year[:4]) + 1, 8, 31):
            problems.append(f"{where}: starts on {a}, outside its academic year {year}")
        if not first <= b <= last:
            problems.append(f"{where}: ends on {b}, outside the academic years")
        holidays.append((str(name), a, b))
    holidays.sort(key=lambda h: h[1])
    for (n1, _, b1), (n2, a2, _) in zip(holidays, holidays[1:], strict=False):
        if a2 <= b1:
            problems.append(f"holidays {n1!r} and {n2!r} overlap")
    if problems:
        raise ConfigError(f"{source}: not a valid school calendar: " + "; ".join(problems))
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    open_ = (days.astype(np.int64) + 3) % 7 < 5  # 1 January 1970 was a Thursday
    for _, a, b in holidays:
        open_[(days >= np.datetime64(a, "D")) & (days <= np.datetime64(b, "D"))] = False
    open_[np.isin(days, np.array(bank, dtype="datetime64[D]"))] = False
    label = str(data.get("source", "")).strip() or source
    return SchoolCalendar(
        str(data["name"]), str(data["version"]), label, first, last, tuple(holidays),
        tuple(sorted(bank)), open_,
    )  # fmt: skip


def load_school_calendar(path: Path | None = None) -> SchoolCalendar:
    """The school calendar in ``path``, or svduty's typical dates for England.

    Raises:
        ConfigError: the file cannot be read or breaks the format; the message names the file
            and every problem found.

    Examples:
        >>> cal = load_school_calendar()
        >>> cal.version, str(cal.first_day), str(cal.last_day)
        ('england-typical-2026.1', '2023-09-01', '2027-08-31')
    """
    data, source = read_toml(path, "definitions/school-holidays-england.toml", "school calendar")
    return _parse_calendar(data, source)


def is_school_day(dates: Any, calendar: SchoolCalendar) -> np.ndarray:
    """Whether schools are open on each date: a weekday outside the holidays and bank holidays.

    Args:
        dates: dates, ISO texts or timestamps (a list, numpy array or pandas Series).
        calendar: from :func:`load_school_calendar`.

    Raises:
        ConfigError: a date (or a missing one) lies outside the calendar's academic years.

    Examples:
        >>> cal = load_school_calendar()
        >>> is_school_day(["2024-03-05", "2024-08-06", "2024-03-09", "2024-05-06"], cal).tolist()
        [True, False, False, False]
    """
    days = _as_days(dates)
    inside = calendar.covers(days)
    if not inside.all():
        raise ConfigError(
            f"{calendar.source}: {int((~inside).sum())} date(s) fall outside the school "
            f"calendar, which covers {calendar.first_day} to {calendar.last_day}; pass a "
            "calendar that covers them"
        )
    start = np.datetime64(calendar.first_day, "D")
    return calendar.open_days[(days - start).astype(np.int64)]
