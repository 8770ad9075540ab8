"""What a load asks the warehouse to do, as one atomic unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass
class Replace:
    """Replace the rows of ``table`` in the partition ``key`` by ``data`` (all or nothing).

    ``key`` maps each of the table's partition columns to a value; an unpartitioned table has an
    empty key and is replaced whole.
    """

    table: str
    key: dict[str, Any]
    data: pa.Table
    meta: dict[str, Any] = field(default_factory=dict)
