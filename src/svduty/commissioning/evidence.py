"""The evidence of what works: the Youth Endowment Fund Toolkit's approaches, as an editable file.

Each approach has an impact band (high, moderate, low, unclear, harmful), the published estimate
where svduty has one, an evidence strength (1-5) and cost (1-3) where rated. The default file is
``commissioning/data/yef-toolkit.toml``; a partnership may pass its own (same format).

Examples:
    >>> evidence = load_evidence()
    >>> lookup("Mentoring").band, lookup("scared straight").band
    ('moderate', 'harmful')
    >>> flag(lookup("knife crime workshops")), flag(lookup("prison visits")), flag(lookup("FFT"))
    ('no-clear-evidence', 'harmful', None)

Notes:
    Youth Endowment Fund, *Toolkit*, https://youthendowmentfund.org.uk/toolkit/ (ratings as
    summarised in svduty's DOMAIN.md; see the file's header for when they were read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from svduty.analysis.tomlfile import read_toml
from svduty.errors import ConfigError

BANDS = ("high", "moderate", "low", "unclear", "harmful")
DEFAULT = "data/yef-toolkit.toml"


@dataclass(frozen=True)
class Approach:
    """One approach of the Toolkit and its rating."""

    key: str
    name: str
    band: str
    band_range: str
    band_midpoint: float
    aliases: tuple[str, ...] = ()
    estimate: float | None = None
    strength: int | None = None
    cost: int | None = None
    confidence: str | None = None
    note: str = ""
    strength_factor: float = 0.6

    def as_json(self) -> dict[str, Any]:
        """The rating as the CLI and the web show it (``flag`` included)."""
        return {
            "key": self.key,
            "name": self.name,
            "band": self.band,
            "estimate": self.estimate,
            "band_midpoint": self.band_midpoint,
            "strength": self.strength,
            "cost": self.cost,
            "confidence": self.confidence,
            "flag": flag(self),
            "flag_reason": flag_reason(self),
        }


@dataclass(frozen=True)
class Evidence:
    """An evidence file: where its ratings come from, and its approaches by key."""

    source: str
    url: str
    read: str
    version: str
    origin: str
    approaches: dict[str, Approach] = field(default_factory=dict)

    def lookup(self, text: str) -> Approach | None:
        """The approach whose key, name or alias is ``text`` (case, spaces, ``-``/``_`` ignored)."""
        return self._index().get(_norm(text))

    def _index(self) -> dict[str, Approach]:
        index: dict[str, Approach] = {}
        for a in self.approaches.values():
            for name in (a.key, a.name, *a.aliases):
                index.setdefault(_norm(name), a)
        return index

    def keys(self) -> list[str]:
        """Every approach's key, in the file's order."""
        return list(self.approaches)


def _norm(text: Any) -> str:
    return re.sub(r"[\s_\-]+", " ", str(text or "")).strip().casefold()


def _read(path: Path | None) -> tuple[dict[str, Any], str]:
    return read_toml(path, DEFAULT, "evidence file", package="svduty.commissioning")


def _rating(value: Any, low: int, high: int, where: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(f"{where} must be a whole number from {low} to {high}")
        return None
    return value


def _parse(data: dict[str, Any], origin: str) -> Evidence:
    problems: list[str] = []
    for key in ("source", "url", "read", "version"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            problems.append(f"`{key}` (text) is required")
    bands = data.get("bands", {})
    for b in BANDS:
        if not isinstance(bands.get(b, {}).get("band_midpoint"), int | float):
            problems.append(f"[bands.{b}] needs band_midpoint (a number)")
    strength = data.get("strength", {})
    unrated = float(strength.get("unrated_factor", 0.6))
    low_conf = float(strength.get("low_confidence_factor", 0.4))
    approaches: dict[str, Approach] = {}
    for key, a in (data.get("approaches") or {}).items():
        where = f"[approaches.{key}]"
        if not isinstance(a, dict) or not isinstance(a.get("name"), str):
            problems.append(f"{where} needs a name (text)")
            continue
        band = a.get("band")
        if band not in BANDS:
            problems.append(f"{where} band must be one of {', '.join(BANDS)}")
            continue
        s = _rating(a.get("strength"), 1, 5, f"{where} strength", problems)
        c = _rating(a.get("cost"), 1, 3, f"{where} cost", problems)
        est = a.get("estimate")
        if est is not None and not isinstance(est, int | float):
            problems.append(f"{where} estimate must be a number (a % reduction)")
            est = None
        confidence = a.get("confidence")
        factor = s / 5 if s is not None else (low_conf if confidence == "low" else unrated)
        approaches[key] = Approach(
            key=key,
            name=a["name"],
            band=band,
            band_range=str(bands.get(band, {}).get("range", band)),
            band_midpoint=float(bands.get(band, {}).get("band_midpoint", 0.0)),
            aliases=tuple(str(x) for x in a.get("aliases", ())),
            estimate=float(est) if est is not None else None,
            strength=s,
            cost=c,
            confidence=confidence,
            note=str(a.get("note", "")),
            strength_factor=factor,
        )
    if "other" not in approaches:
        problems.append("[approaches.other] is required (for approaches the Toolkit does not rate)")
    if problems:
        raise ConfigError(f"{origin}: " + "; ".join(problems))
    return Evidence(data["source"], data["url"], data["read"], data["version"], origin, approaches)


@lru_cache(maxsize=8)
def _load(path: str | None) -> Evidence:
    data, origin = _read(Path(path) if path else None)
    return _parse(data, origin)


def load_evidence(path: Path | None = None) -> Evidence:
    """The evidence file at ``path``, or svduty's default (the YEF Toolkit ratings).

    Raises:
        ConfigError: the file cannot be read or breaks the format; every problem is named.

    Examples:
        >>> e = load_evidence()
        >>> e.source, e.approaches["focused-deterrence"].estimate
        ('Youth Endowment Fund Toolkit', 33.0)
    """
    return _load(str(path) if path else None)


def lookup(text: str, evidence: Evidence | None = None) -> Approach | None:
    """The approach named ``text`` (a key, name or alias, in any case), or ``None``.

    Examples:
        >>> lookup("A&E Navigators").key
        'ae-navigators'
        >>> lookup("juggling") is None
        True
    """
    return (evidence or load_evidence()).lookup(text)


def flag(entry: Approach | None) -> str | None:
    """``"harmful"``, ``"no-clear-evidence"`` or ``None`` (evidence of some benefit).

    Examples:
        >>> flag(lookup("mentoring")) is None
        True
    """
    if entry is None or entry.band == "unclear":
        return "no-clear-evidence"
    return "harmful" if entry.band == "harmful" else None


def flag_reason(entry: Approach | None) -> str | None:
    """The flag in a sentence, for commissioners (``None`` when there is no flag).

    Examples:
        >>> flag_reason(lookup("scared straight"))[:40]
        'Scared straight and prison awareness can'
    """
    f = flag(entry)
    if f is None:
        return None
    name = entry.name if entry is not None else "This approach"
    if f == "harmful":
        return (
            f"{name} can cause harm: the YEF Toolkit finds it can increase violence, "
            "so svduty recommends no funding for it."
        )
    return (
        f"{name} has no clear evidence of reducing violence in the YEF Toolkit: fund it only "
        "with an evaluation, after approaches with evidence."
    )


def describe(entry: Approach) -> str:
    """One line: the band, its range, the estimate and the strength, saying what is unrated.

    Examples:
        >>> describe(lookup("mentoring"))
        'Mentoring: moderate impact (10-30% less violence), evidence strength not rated'
        >>> describe(lookup("knife crime education"))
        'Knife crime education: no clear evidence of less violence, evidence strength not rated'
    """
    if entry.band in ("unclear", "harmful"):
        text = f"{entry.name}: {entry.band_range}"
    else:
        text = f"{entry.name}: {entry.band} impact ({entry.band_range}"
        if entry.estimate is not None:
            text += f"; about {entry.estimate:g}% on average"
        text += ")"
    if entry.strength is not None:
        text += f", evidence strength {entry.strength}/5"
    elif entry.confidence == "low":
        text += ", low confidence in the estimate"
    else:
        text += ", evidence strength not rated"
    return text


__all__ = [
    "BANDS",
    "Approach",
    "Evidence",
    "describe",
    "flag",
    "flag_reason",
    "load_evidence",
    "lookup",
]
