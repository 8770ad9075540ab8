"""The calendar of the synthetic window: months, seasons, school days and the hour of events.

Times are numpy ``datetime64[m]`` (local clock time, no zone), as partners export them. Days are
drawn by rejection against weekday weights and hours from 24-hour profiles, all vectorised, so a
million events cost a fraction of a second.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

START = np.datetime64("2024-01", "M")

# Relative weight of each hour of the day (0..23), read from left to right. Violence in the
# night-time economy peaks on Friday and Saturday evenings and spills past midnight into the early
# hours of Saturday and Sunday; on weekdays it climbs steadily to a late-evening peak.
_NIGHT_WEEKDAY = (3, 2, 1.4, 1, .6, .5, .6, 1, 1.5, 2, 2.4, 2.8, 3.2, 3.4, 3.5, 3.9, 4.4, 4.9, 5.4,
                  5.8, 6, 5.9, 5.3, 4.2)  # fmt: skip
_NIGHT_FRIDAY = (3, 2, 1.4, 1, .6, .5, .6, 1, 1.5, 2, 2.4, 2.8, 3.2, 3.4, 3.5, 3.9, 4.4, 5, 5.8,
                 6.8, 7.8, 8.8, 9.4, 9.2)  # fmt: skip
_NIGHT_SATURDAY = (9, 8, 6.2, 3.8, 1.6, .8, .6, .8, 1.2, 1.8, 2.4, 3, 3.4, 3.6, 3.8, 4, 4.6, 5.2,
                   6, 7, 8, 9, 9.6, 9.4)  # fmt: skip
_NIGHT_SUNDAY = (9, 8, 6.2, 3.8, 1.6, .8, .6, .8, 1.1, 1.5, 2, 2.6, 3, 3.2, 3.4, 3.6, 3.8, 4,
                 4.2, 4.3, 4.2, 3.8, 3.2, 2.5)  # fmt: skip
# Under-18s: on school days violence concentrates in the hours after school (15:00-18:00); on
# weekends and in the holidays it spreads over the afternoon and evening.
_YOUTH_SCHOOL = (.3, .2, .1, .1, .1, .1, .2, .6, 1.6, 1, 1, 1.2, 2, 1.5, 1.6, 7, 7.5, 6.5, 4,
                 3, 2, 1.2, .8, .5)  # fmt: skip
_YOUTH_FREE = (.8, .5, .3, .2, .1, .1, .2, .3, .6, 1, 1.5, 2, 2.5, 3, 3.4, 3.8, 4, 4, 4, 4, 3.6,
               3, 2, 1.2)  # fmt: skip
# Deliberate fires: evenings, when refuse and grass fires are set.
_FIRE = (2, 1.5, 1, .7, .5, .4, .4, .5, .7, 1, 1.2, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 6.5, 6, 5, 4,
         3)  # fmt: skip
# Daytime activity (stop and search finds, business robbery, trafficking arrests).
_DAY = (.6, .4, .3, .2, .2, .3, .5, 1, 2, 3, 3.5, 4, 4, 4, 4, 4.2, 4.5, 4.8, 5, 4.6, 4, 3,
        2, 1.2)  # fmt: skip


def _table(
    weekday: tuple[tuple[float, ...], ...], free: tuple[tuple[float, ...], ...]
) -> np.ndarray:
    """Hour weights as a (school day?, weekday Monday=0, hour) array, normalised to sum 1."""
    t = np.array([free, weekday], dtype=float)
    return t / t.sum(axis=2, keepdims=True)


_NIGHT_WEEK = (_NIGHT_WEEKDAY,) * 4 + (_NIGHT_FRIDAY, _NIGHT_SATURDAY, _NIGHT_SUNDAY)

PROFILES: dict[str, tuple[np.ndarray, np.ndarray]] = {
    # name: (weekday weights Monday..Sunday, hour table [school day][weekday][hour])
    "night": (np.array([0.85, 0.85, 0.9, 0.95, 1.2, 1.35, 1.15]), _table(_NIGHT_WEEK, _NIGHT_WEEK)),
    "youth": (np.array([1.0, 1.0, 1.0, 1.0, 1.05, 0.95, 0.8]), _table((_YOUTH_SCHOOL,) * 7,
                                                                      (_YOUTH_FREE,) * 7)),
    "fire": (np.ones(7), _table((_FIRE,) * 7, (_FIRE,) * 7)),
    "day": (np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.5]), _table((_DAY,) * 7, (_DAY,) * 7)),
}  # fmt: skip

# School holidays in England, approximately (month, first day, last day): the timing of youth
# violence and every exclusion depend on whether schools are open.
HOLIDAYS = (
    (1, 1, 3), (2, 12, 16), (4, 1, 12), (5, 27, 31), (7, 22, 31), (8, 1, 31), (10, 28, 31),
    (11, 1, 1), (12, 20, 31),
)  # fmt: skip


@dataclass(frozen=True)
class Window:
    """The months covered: ``years`` whole years from January 2024."""

    years: int

    @property
    def n_months(self) -> int:
        """How many months."""
        return 12 * self.years

    @property
    def months(self) -> np.ndarray:
        """The months, ``datetime64[M]``."""
        return START + np.arange(self.n_months)

    @property
    def labels(self) -> list[str]:
        """The months as ``YYYY-MM``."""
        return [str(m) for m in self.months]

    @property
    def starts(self) -> np.ndarray:
        """First day of each month and of the month after the window, ``datetime64[D]``."""
        return (START + np.arange(self.n_months + 1)).astype("datetime64[D]")

    @property
    def first_day(self) -> np.datetime64:
        """The window's first day."""
        return self.starts[0]

    @property
    def end_day(self) -> np.datetime64:
        """The day after the window's last day."""
        return self.starts[-1]

    def month_of(self, when: np.ndarray) -> np.ndarray:
        """Index of the month (0-based) of each date or time; may fall outside the window."""
        return (when.astype("datetime64[M]") - START).astype(np.int64)


def seasonality(month_index: np.ndarray, amplitude: float, peak: int) -> np.ndarray:
    """A yearly cycle: ``1 + amplitude * cos`` with its top in calendar month ``peak`` (1-12).

    Examples:
        >>> seasonality(np.array([6, 0]), 0.1, 7).round(3).tolist()
        [1.1, 0.9]
    """
    moy = month_index % 12 + 1
    return 1.0 + amplitude * np.cos(2 * np.pi * (moy - peak) / 12)


def weekday(days: np.ndarray) -> np.ndarray:
    """Day of the week, Monday = 0 (1 January 1970 was a Thursday).

    Examples:
        >>> weekday(np.array(["2024-01-01", "2024-01-07"], dtype="datetime64[D]")).tolist()
        [0, 6]
    """
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7


def month_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar month (1-12) and day of the month of each date."""
    d = days.astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    return m.astype(np.int64) % 12 + 1, (d - m.astype("datetime64[D]")).astype(np.int64) + 1


def school_day(days: np.ndarray) -> np.ndarray:
    """Whether schools are open: a weekday outside the holidays.

    Examples:
        >>> school_day(np.array(["2024-03-05", "2024-08-06", "2024-03-09"], "datetime64[D]"))
        array([ True, False, False])
    """
    month, day = month_day(days)
    open_ = weekday(days) < 5
    for m, first, last in HOLIDAYS:
        open_ &= ~((month == m) & (day >= first) & (day <= last))
    return open_


def school_days_per_month(window: Window) -> np.ndarray:
    """How many school days each month of the window has."""
    days = np.arange(window.first_day, window.end_day)
    return np.bincount(window.month_of(days)[school_day(days)], minlength=window.n_months)


def sample_days(
    rng: np.random.Generator,
    window: Window,
    month: np.ndarray,
    weekday_weights: np.ndarray,
    school_only: bool = False,
) -> np.ndarray:
    """A day within each event's month, weighted by weekday (rejection sampling).

    Args:
        rng: the random generator.
        window: the months.
        month: each event's month index.
        weekday_weights: relative weight of Monday..Sunday.
        school_only: draw only school days (every month given must have some).

    Returns:
        ``datetime64[D]`` dates.
    """
    starts = window.starts
    length = (starts[1:] - starts[:-1]).astype(np.int64)
    accept = weekday_weights / weekday_weights.max()
    out = np.empty(len(month), dtype="datetime64[D]")
    todo = np.arange(len(month))
    while len(todo):
        m = month[todo]
        day = starts[m] + (rng.random(len(todo)) * length[m]).astype(np.int64)
        ok = rng.random(len(todo)) < accept[weekday(day)]
        if school_only:
            ok &= school_day(day)
        out[todo[ok]] = day[ok]
        todo = todo[~ok]
    return out


def sample_times(
    rng: np.random.Generator, window: Window, month: np.ndarray, profile: str
) -> np.ndarray:
    """An event time in each given month, following a named profile of weekday and hour.

    Returns:
        ``datetime64[m]`` times.
    """
    weekday_weights, hours = PROFILES[profile]
    days = sample_days(rng, window, month, weekday_weights)
    cum = hours.cumsum(axis=2)
    rows = cum[school_day(days).astype(np.int64), weekday(days)]
    u = rng.random(len(days))
    hour = np.minimum((rows < u[:, None]).sum(axis=1), 23)
    minute = rng.integers(0, 60, len(days))
    return days.astype("datetime64[m]") + (hour * 60 + minute).astype("timedelta64[m]")


def format_times(when: np.ndarray, fmt: str | None, kind: str = "datetime") -> list[str]:
    """Format dates or times as text, fast: each distinct day and each distinct clock time is
    formatted once and the two are joined.

    Args:
        when: ``datetime64`` values (``NaT`` gives an empty string).
        fmt: a strftime format whose time part (if any) follows its date part; ISO when None.
        kind: ``date`` or ``datetime``, for the ISO default.

    Examples:
        >>> t = np.array(["2024-03-05T18:07", "NaT"], dtype="datetime64[m]")
        >>> format_times(t, "%d/%m/%Y %H:%M")
        ['05/03/2024 18:07', '']
    """
    if fmt is None:
        fmt = "%Y-%m-%d" if kind == "date" else "%Y-%m-%dT%H:%M:%S"
    cut = fmt.find("%H")
    date_fmt, time_fmt = (fmt, "") if cut < 0 else (fmt[:cut], fmt[cut:])
    missing = np.isnat(when)
    minutes = when.astype("datetime64[m]")
    days = minutes.astype("datetime64[D]")
    filled = np.where(missing, np.datetime64("2000-01-01", "D"), days)
    uniq, inverse = np.unique(filled, return_inverse=True)
    day_text = np.array([d.item().strftime(date_fmt) for d in uniq], dtype=object)
    text = day_text[inverse]
    if time_fmt:
        clock = (minutes - days).astype(np.int64)
        clock = np.where(missing, 0, clock)
        base = _dt.datetime(2000, 1, 1)
        table = np.array(
            [(base + _dt.timedelta(minutes=int(i))).strftime(time_fmt) for i in range(1440)],
            dtype=object,
        )
        text = text + table[clock]
    text[missing] = ""
    return text.tolist()
