"""Categorical draws: one label per record from a table of labels and relative weights.

Partner feeds are full of coded values (disposals, injuries, reasons, locations) whose mix is
declared as ``{label: weight}`` beside the code that uses it; this draws them all at once.
"""

from __future__ import annotations

import numpy as np


def pick(rng: np.random.Generator, options: dict[str, float], n: int) -> np.ndarray:
    """``n`` labels drawn with the given relative weights (need not sum to one).

    Examples:
        >>> pick(np.random.default_rng(0), {"Y": 1.0, "N": 0.0}, 3).tolist()
        ['Y', 'Y', 'Y']
    """
    keys = np.array(list(options), dtype=object)
    p = np.array(list(options.values()), dtype=float)
    return keys[rng.choice(len(keys), n, p=p / p.sum())]
