"""The synthetic warehouse released for commands: the ``svduty`` command opens the warehouse
itself, and DuckDB lets one process at a time hold it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from svduty.warehouse import connect
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def warehouse(synthetic_warehouse: Any) -> Iterator[Any]:
    """The synthetic warehouse, released by this process so that the command can open it, and
    opened again for the tests that follow."""
    synthetic_warehouse.con.disconnect()
    try:
        yield synthetic_warehouse
    finally:
        synthetic_warehouse.con = connect(synthetic_warehouse.settings)


def run_on(warehouse: Any, *args: str) -> Any:
    """``svduty ARGS`` on the synthetic warehouse (its data folder and key)."""
    return run_cli(
        *args,
        data_dir=warehouse.settings.data_dir,
        env={"SVDUTY_KEY_FILE": str(warehouse.settings.key_file)},
    )
