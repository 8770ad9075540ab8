"""Statistical disclosure control for published counts: small counts are suppressed, and more
cells are suppressed where a published total would let a reader work a small count back out.

The rule (ONS-based guidance used by public health intelligence teams, DOMAIN.md): counts of 1
to 4 are unsafe for small areas and sensitive data, so no count from 1 to 4 is published (a
suppressed count reads as "fewer than 5, or suppressed to protect one that is"). Zeros are
published. A published total that is the sum of cells (an area's months, the LSOAs of a
partnership area) is a linear equation a reader can solve: the cells suppressed in it must be
at least two, and loose enough that none of them can be narrowed to fewer than
:data:`PROTECTION` possible values.

:func:`protect` chooses the cells to suppress; :func:`audit` attacks the result as a reader
would, with linear programming over every published total, and reports any suppressed cell
the reader can narrow down that far.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linprog

SMALL = range(1, 5)  # counts never published: 1, 2, 3 and 4
PROTECTION = 3  # a suppressed cell must keep at least this many possible values


def primary(values: Sequence[int]) -> set[int]:
    """The cells whose counts are 1 to 4.

    Examples:
        >>> sorted(primary([0, 1, 4, 5, 12]))
        [1, 2]
    """
    return {i for i, v in enumerate(values) if v in SMALL}


Group = tuple[Sequence[int], int | None]  # cells whose sum is published, or equals a total cell


def _group_ok(values: Sequence[int], group: Group, hidden: set[int]) -> bool:
    members, total = group
    cells = [i for i in members if i in hidden]
    if total is not None and total in hidden:
        # the total is hidden too: with fewer than two hidden cells it can be solved for
        return len(cells) >= 2
    if not cells:
        return True
    size = sum(values[i] for i in cells)
    # each hidden cell is at least 1, so each lies between 1 and size - (hidden - 1)
    return len(cells) >= 2 and size - len(cells) + 1 >= PROTECTION


def _hide_one(values: Sequence[int], group: Group, hidden: set[int]) -> bool:
    """Suppress one more cell of the group: its smallest published non-zero member, else its
    total. Zeros are never suppressed (a reader knows a suppressed cell is not zero)."""
    members, total = group
    free = [i for i in members if i not in hidden and values[i] > 0]
    if not free and total is not None and total not in hidden and values[total] > 0:
        free = [total]
    if not free:
        return False
    hidden.add(min(free, key=lambda i: (values[i], i)))
    return True


def protect(values: Sequence[int], groups: Sequence[Group], max_rounds: int = 50) -> set[int]:
    """The cells to suppress: every count from 1 to 4, and enough others that no published
    total reveals a suppressed count.

    Args:
        values: the cells' true counts.
        groups: ``(members, total)`` pairs: the cells ``members`` add up to the cell ``total``
            (itself published or suppressed; it may also hold records in no member), or, with
            ``total`` ``None``, to a published sum.
        max_rounds: passes of the secondary suppression and the linear-programming audit.

    Returns:
        The indices of the cells to suppress.

    Notes:
        Secondary suppression by the usual heuristic (Hundepool et al. 2012, Statistical
        Disclosure Control, 4.4): in each total with suppressed cells, suppress the smallest
        published non-zero cells until at least two are hidden and none can be narrowed to
        fewer than :data:`PROTECTION` values; then :func:`audit` solves the linear programme
        over all totals together and suppresses more where totals intersect.

    Examples:
        >>> values = [2, 7, 9, 30, 48]
        >>> sorted(protect(values, [([0, 1, 2, 3], 4)]))
        [0, 1]
    """
    hidden = primary(values)
    for _ in range(max_rounds):
        changed = False
        for group in groups:
            while not _group_ok(values, group, hidden):
                if not _hide_one(values, group, hidden):
                    break
                changed = True
        exposed = audit(values, groups, hidden)
        for i in exposed:
            for group in groups:
                if (i in group[0] or i == group[1]) and _hide_one(values, group, hidden):
                    changed = True
                    break
        if not changed:
            if exposed:
                raise RuntimeError(
                    f"disclosure control cannot protect {len(exposed)} cell(s): every cell "
                    "of their totals is already suppressed or zero; publish fewer totals"
                )
            return hidden
    raise RuntimeError("disclosure control did not settle; publish fewer totals")


def audit(values: Sequence[int], groups: Sequence[Group], hidden: set[int]) -> list[int]:
    """The suppressed cells that a reader can prove to be a small count.

    The reader knows every published cell, every total, that counts are whole numbers of at
    least 0, and that a suppressed cell is not 0 (zeros are published). For each suppressed
    cell the smallest and largest values consistent with all that are found by linear
    programming (scipy's HiGHS); a cell that lies in fewer than :data:`PROTECTION` possible
    values is exposed.

    Examples:
        >>> audit([2, 7, 9, 18], [([0, 1, 2], 3)], {0})
        [0]
        >>> audit([2, 7, 9, 18], [([0, 1, 2], 3)], {0, 1})
        []
        >>> audit([1, 1, 9, 11], [([0, 1, 2], 3)], {0, 1})
        [0, 1]
    """
    cells = sorted(hidden)
    if not cells:
        return []
    index = {c: k for k, c in enumerate(cells)}
    rows, rhs = [], []
    for members, total in groups:
        row = np.zeros(len(cells))
        for i in members:
            if i in index:
                row[index[i]] += 1
        if total is not None and total in index:
            row[index[total]] -= 1
        if row.any():
            rows.append(row)
            # what the reader can compute from the published cells of this total: the same
            # combination of the hidden cells' true values (a total that also holds records
            # counted nowhere else, like those without a place, is read as if the reader knew
            # that part too, which is the cautious assumption)
            rhs.append(sum(row[index[c]] * values[c] for c in cells))
    a_eq = np.array(rows) if rows else None
    b_eq = np.array(rhs, dtype=float) if rows else None
    exposed = []
    bounds = [(1, None)] * len(cells)
    for c in cells:
        goal = np.zeros(len(cells))
        goal[index[c]] = 1
        low = linprog(goal, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-goal, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        for res in (low, high):
            if res.status not in (0, 3):  # 3: unbounded, which is safe
                raise RuntimeError(f"the disclosure audit failed: {res.message}")
        if high.status == 0 and (-high.fun) - low.fun < PROTECTION - 1 - 1e-9:
            exposed.append(c)
    return exposed
