"""Quoting of SQL identifiers: the one place that does it."""

from __future__ import annotations

import re

_SAFE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote(name: str) -> str:
    """Quote an identifier for SQL, refusing anything but plain names.

    Examples:
        >>> quote("policeuk_street")
        '"policeuk_street"'
    """
    if not _SAFE.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'
