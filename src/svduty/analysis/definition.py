"""The local definition of serious violence: a versioned, editable file mapping offence codes,
flags, police.uk categories, ED assault methods, ambulance injuries and fire incident types to
the partnership's kinds of serious violence.

The Duty leaves the definition to each partnership (London and Norfolk, for instance, draw it
differently), so it is data, not code: the default ships with svduty, a partnership edits a copy,
and every output names the ``version`` it used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from svduty.analysis.tomlfile import read_toml
from svduty.datasets.partners import FEEDS
from svduty.datasets.partners.offences import OFFENCES
from svduty.datasets.police_uk import CRIME_TYPES
from svduty.errors import ConfigError

CONDITIONS = {
    "ho_codes": set(OFFENCES),
    "flags": {"knife", "firearm", "domestic_abuse", "alcohol", "drugs", "county_lines",
              "exploitation"},
    "police_uk": set(CRIME_TYPES),
    "istv_methods": set(FEEDS["istv"].contract.column("assault_method").allowed or ()),
    "ambulance_injuries": set(FEEDS["ambulance"].contract.column("injury").allowed or ()),
    "fire_types": set(FEEDS["fire"].contract.column("incident_type").allowed or ()),
}  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """One kind of serious violence and the conditions that put a record in it."""

    key: str
    label: str
    conditions: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def values(self, condition: str) -> list[str]:
        """The values of one condition (empty if the kind does not use it)."""
        return list(self.conditions.get(condition, ()))


@dataclass(frozen=True)
class Definition:
    """A versioned local definition."""

    name: str
    version: str
    kinds: tuple[Kind, ...]
    source: str

    def kind(self, key: str) -> Kind:
        """The kind called ``key``."""
        for k in self.kinds:
            if k.key == key:
                return k
        raise KeyError(key)


def _parse(data: dict[str, Any], source: str) -> Definition:
    problems = []
    for key in ("name", "version"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            problems.append(f"'{key}' must be a non-empty text")
    kinds = []
    for key, spec in (data.get("kinds") or {}).items():
        if not isinstance(spec, dict):
            problems.append(f"kinds.{key} must be a table")
            continue
        conditions: dict[str, tuple[str, ...]] = {}
        for cond, values in spec.items():
            if cond == "label":
                continue
            if cond not in CONDITIONS:
                problems.append(
                    f"kinds.{key}.{cond} is not a condition; use one of {', '.join(CONDITIONS)}"
                )
                continue
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                problems.append(f"kinds.{key}.{cond} must be a list of texts")
                continue
            unknown = sorted(set(values) - CONDITIONS[cond])
            if unknown:
                problems.append(f"kinds.{key}.{cond}: unknown value(s) {', '.join(unknown)}")
            conditions[cond] = tuple(values)
        if not conditions:
            problems.append(f"kinds.{key} has no condition, so nothing would count as it")
        kinds.append(Kind(key, str(spec.get("label", key)), conditions))
    if not kinds:
        problems.append("no [kinds.*] table")
    if problems:
        raise ConfigError(f"{source}: not a valid definition: " + "; ".join(problems))
    return Definition(str(data["name"]), str(data["version"]), tuple(kinds), source)


def load_definition(path: Path | None = None) -> Definition:
    """The definition in ``path``, or svduty's default.

    Raises:
        ConfigError: the file cannot be read or breaks the format; the message says where.

    Examples:
        >>> load_definition().version
        'svduty-default-2026.1'
    """
    data, source = read_toml(path, "definitions/home-office-default.toml", "definition")
    return _parse(data, source)
