"""Keyed pseudonyms: HMAC-SHA256 of an identifier under a secret key.

The same identifier always gives the same pseudonym under one key, so records can be counted and
joined; without the key the pseudonym cannot be reversed or recomputed from a guess (unlike a plain
hash of an NHS number, which anyone can recompute for all 10-digit numbers).
"""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa

PSEUDONYM_CHARS = 32


def pseudonym(key: bytes, domain: str, value: str) -> str:
    """The pseudonym of ``value`` in ``domain`` (for instance ``police-crime:person``).

    Examples:
        >>> key = b"k" * 32
        >>> pseudonym(key, "feed:person", "A123") == pseudonym(key, "feed:person", "A123")
        True
        >>> pseudonym(key, "feed:person", "A123") == pseudonym(key, "other", "A123")
        False
    """
    mac = hmac.new(key, f"{domain}\x1f{value}".encode(), hashlib.sha256)
    return mac.hexdigest()[:PSEUDONYM_CHARS]


def pseudonymise_array(key: bytes, domain: str, values: pa.Array) -> pa.Array:
    """Pseudonyms of a column (nulls and empty values stay null)."""
    return pa.array(
        [pseudonym(key, domain, v) if v else None for v in values.to_pylist()], pa.string()
    )
