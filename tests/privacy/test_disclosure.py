"""Disclosure control: small counts are never published, and no published total recovers one,
checked by brute force on small tables and by the linear-programming audit on larger ones."""

from __future__ import annotations

import numpy as np
import pytest

from svduty.privacy.disclosure import audit, primary, protect


def _table(rng: np.random.Generator, rows: int, cols: int) -> tuple[list[int], list]:
    """Cells of a rows x cols table with row totals, column totals and a grand total, all
    themselves cells, and the groups saying which cells add up to which."""
    body = rng.negative_binomial(1, 0.3, size=(rows, cols)).tolist()
    values = [v for row in body for v in row]
    cell = lambda r, c: r * cols + c  # noqa: E731
    row_total = [len(values) + r for r in range(rows)]
    values += [sum(row) for row in body]
    col_total = [len(values) + c for c in range(cols)]
    values += [sum(body[r][c] for r in range(rows)) for c in range(cols)]
    grand = len(values)
    values.append(sum(sum(row) for row in body))
    groups = [([cell(r, c) for c in range(cols)], row_total[r]) for r in range(rows)]
    groups += [([cell(r, c) for r in range(rows)], col_total[c]) for c in range(cols)]
    groups += [(row_total, grand), (col_total, grand)]
    return values, groups


def _spread(values: list[int], rows: int, cols: int, hidden: set[int], cap: int) -> dict:
    """For each hidden cell of a rows x cols table (cells, row totals, column totals, grand
    total, laid out as :func:`_table` does), how many values it takes in any assignment of
    the hidden body cells (1..cap each; a hidden total at least 1) consistent with every
    published cell, found by enumerating them all."""
    n = rows * cols
    body_hidden = sorted(c for c in hidden if c < n)
    grids = np.meshgrid(*[np.arange(1, cap + 1)] * len(body_hidden), indexing="ij")
    trial = np.tile(np.array(values[:n]), (grids[0].size if body_hidden else 1, 1))
    for c, g in zip(body_hidden, grids, strict=True):
        trial[:, c] = g.ravel()
    body = trial.reshape(-1, rows, cols)
    totals = np.concatenate(
        [body.sum(axis=2), body.sum(axis=1), body.sum(axis=(1, 2))[:, None]], axis=1
    )
    ok = np.ones(len(trial), dtype=bool)
    for k in range(totals.shape[1]):
        cell = n + k
        ok &= totals[:, k] >= 1 if cell in hidden else totals[:, k] == values[cell]
    assert ok.any(), "the true values must be a solution"
    full = np.concatenate([trial, totals], axis=1)[ok]
    return {c: len(set(full[:, c].tolist())) for c in hidden}


def test_every_small_count_is_suppressed_and_zeros_are_not() -> None:
    values = [0, 1, 2, 3, 4, 5, 9, 0]
    assert primary(values) == {1, 2, 3, 4}
    hidden = protect(values, [])
    assert {1, 2, 3, 4} <= hidden and 0 not in hidden and 7 not in hidden


@pytest.mark.parametrize("seed", range(8))
def test_no_hidden_cell_of_a_small_table_can_be_narrowed_by_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values, groups = _table(rng, 2, 3)
    hidden = protect(values, groups)
    assert primary(values) <= hidden
    assert len([c for c in hidden if c < 6]) <= 6
    spread = _spread(values, 2, 3, hidden, cap=12)
    for c in hidden:
        assert spread[c] >= 3, f"cell {c} can be narrowed to {spread[c]} value(s)"
    # and the same enumeration catches a table protected by primary suppression alone
    if any(values[c] in range(1, 5) for c in range(6)):
        exposed = _spread(values, 2, 3, primary(values), cap=12)
        assert min(exposed.values()) == 1


@pytest.mark.parametrize("seed", range(4))
def test_larger_tables_pass_the_audit_and_unprotected_ones_fail_it(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    values, groups = _table(rng, 6, 12)
    hidden = protect(values, groups)
    assert primary(values) <= hidden
    assert audit(values, groups, hidden) == []
    # primary suppression alone is not enough when a single small cell sits in a row
    lone = [v if i != 0 else 3 for i, v in enumerate(values)]
    lone_groups = [([0, 1, 2], None)]
    assert audit([3, 40, 50], lone_groups, {0}) == [0]
    assert len(lone) == len(values)
