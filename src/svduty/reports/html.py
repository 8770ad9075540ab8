"""Small HTML building blocks for the report: escaped text, tables and number formats."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any


def esc(value: object) -> str:
    """Text made safe for HTML.

    Examples:
        >>> esc("<b> & co")
        '&lt;b&gt; &amp; co'
    """
    return escape("" if value is None else str(value))


def number(value: float | None, decimals: int = 0, suppressed: str = "*") -> str:
    """A number with thousands separators; ``None`` as the suppression mark.

    Examples:
        >>> number(12345), number(2.345, 2), number(None)
        ('12,345', '2.35', '*')
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return suppressed
    return f"{value:,.{decimals}f}"


def percent(value: float | None, decimals: int = 0) -> str:
    """A share as a percentage.

    Examples:
        >>> percent(0.1234, 1), percent(None)
        ('12.3%', '*')
    """
    return "*" if value is None else f"{100 * value:.{decimals}f}%"


def ratio(r: dict[str, Any] | None, key: str = "ratio") -> str:
    """A rate ratio with its 95% interval.

    Examples:
        >>> ratio({"ratio": 0.8512, "ci_low": 0.7, "ci_high": 1.03})
        '0.85 (0.70 to 1.03)'
        >>> ratio(None)
        '&ndash;'
    """
    if not r or r.get(key) is None:
        return "&ndash;"
    return f"{r[key]:.2f} ({r['ci_low']:.2f} to {r['ci_high']:.2f})"


def p_value(p: float | None) -> str:
    """A p-value as readers expect it.

    Examples:
        >>> p_value(0.0001), p_value(0.0342), p_value(None)
        ('&lt;0.001', '0.034', '&ndash;')
    """
    if p is None:
        return "&ndash;"
    return "&lt;0.001" if p < 0.001 else f"{p:.3f}"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: Sequence[int] = (),
    caption: str = "",
    raw: bool = False,
) -> str:
    """An HTML table; cells are escaped unless ``raw`` (already formatted HTML).

    Examples:
        >>> table(["Kind", "Count"], [["Knife", "12"]], numeric=[1]).count("<td")
        2
    """
    head = "".join(
        f'<th{" class=num" if i in numeric else ""} scope="col">{esc(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f"<td{' class=num' if i in numeric else ''}>{c if raw else esc(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def figure(svg: str, caption: str = "") -> str:
    """A chart with its caption, kept on one page when printed."""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure class="chart">{svg}{cap}</figure>'


def note(text: str | None) -> str:
    """A method note under a section."""
    return f'<p class="note">{esc(text)}</p>' if text else ""
