"""SVG building blocks shared by the report's charts and maps: text, scales, axes, legends, colours.

The report is one HTML file printed to PDF offline, so charts carry no JavaScript, fonts or files.
Every figure is 760 units wide (the report's content width, so 12-unit text prints at about 12 px
on A4), scales with ``width="100%"``, and has a ``<title>`` and ``<desc>`` for screen readers.
Colours are colour-blind safe: Okabe-Ito for categories, ColorBrewer YlGnBu for sequential and
RdBu for diverging scales.
"""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

WIDTH = 760
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"
MUTED = "#555555"
GRID = "#e4e4e4"
AXIS = "#8c8c8c"
CATEGORICAL = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
SEQUENTIAL = (
    "#ffffd9",
    "#edf8b1",
    "#c7e9b4",
    "#7fcdbb",
    "#41b6c4",
    "#1d91c0",
    "#225ea8",
    "#253494",
    "#081d58",
)
DIVERGING = (
    "#2166ac",
    "#4393c3",
    "#92c5de",
    "#d1e5f0",
    "#f7f7f7",
    "#fddbc7",
    "#f4a582",
    "#d6604d",
    "#b2182b",
)
DASHES = ("", "7 4", "2 3", "10 3 2 3")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CHAR = 0.6  # average glyph width in ems, generous so estimated labels never collide

Swatch = Callable[[float, float], str]


def format_number(value: float | None, decimals: int | None = None) -> str:
    """A number with thousands separators, or "no data".

    Args:
        value: The number; None or NaN reads "no data".
        decimals: Decimal places; by default none from 100 up or for whole numbers, one from 10,
            else two.

    Examples:
        >>> format_number(12345.678), format_number(0.456), format_number(3.0)
        ('12,346', '0.46', '3')
        >>> format_number(None)
        'no data'
    """
    if value is None or not math.isfinite(value):
        return "no data"
    if decimals is None:
        size = abs(value)
        decimals = 0 if size >= 100 or float(value).is_integer() else 1 if size >= 10 else 2
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text) else text


def month_label(value: str) -> str:
    """'2024-01' as 'Jan 24'; anything else unchanged.

    Examples:
        >>> month_label("2024-01"), month_label("Q1")
        ('Jan 24', 'Q1')
    """
    match = MONTH.match(value)
    if not match or not 1 <= int(match[2]) <= 12:
        return value
    return f"{_MONTHS[int(match[2]) - 1]} {match[1][2:]}"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def num(value: float) -> str:
    text = f"{value:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def clean(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def ident(*parts: object) -> str:
    """A stable id, so two charts on one page never share a gradient or pattern by accident."""
    return "svd" + hashlib.blake2s(repr(parts).encode(), digest_size=4).hexdigest()


def text_width(text: str, size: float = 12) -> float:
    return len(text) * size * _CHAR


def fit(text: str, width: float, size: float = 12) -> str:
    limit = max(2, int(width / (size * _CHAR)))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def svg_text(
    x: float,
    y: float,
    content: object,
    *,
    size: float = 12,
    anchor: str = "start",
    bold: bool = False,
    fill: str = "",
    rotate: float = 0,
    width: float | None = None,
    middle: bool = False,
) -> str:
    """A text element; cut to ``width`` with an ellipsis and the full text as a tooltip."""
    full = str(content)
    shown = fit(full, width, size) if width else full
    attrs = f'x="{num(x)}" y="{num(y)}" font-size="{num(size)}"'
    attrs += f' text-anchor="{anchor}"' if anchor != "start" else ""
    attrs += ' font-weight="bold"' if bold else ""
    attrs += f' fill="{fill}"' if fill else ""
    attrs += ' dy="0.35em"' if middle else ""
    attrs += f' transform="rotate({num(rotate)} {num(x)} {num(y)})"' if rotate else ""
    tip = f"<title>{esc(full)}</title>" if shown != full else ""
    return f"<text {attrs}>{tip}{esc(shown)}</text>"


def wrap(text: str, width: float, size: float, max_lines: int = 2) -> list[str]:
    limit = max(4, int(width / (size * _CHAR)))
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [fit(" ".join(lines[max_lines - 1 :]), width, size)]
    return [fit(line, width, size) for line in lines] or [""]


def document(height: float, title: str, desc: str, body: str, width: int = WIDTH) -> str:
    height = math.ceil(height)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{esc(title)}" font-family="{FONT}" '
        'style="max-width:100%;height:auto;display:block">'
        f"<title>{esc(title)}</title><desc>{esc(desc)}</desc>"
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>{body}</svg>'
    )


def header(title: str, subtitle: str = "") -> tuple[str, float]:
    """The visible title (wrapped to two lines) and an optional caption; returns the next free y."""
    lines = wrap(title, WIDTH - 24, 16)
    parts = [svg_text(12, 22 + 20 * i, line, size=16, bold=True) for i, line in enumerate(lines)]
    y = 22 + 20 * (len(lines) - 1)
    for line in wrap(subtitle, WIDTH - 24, 12) if subtitle else []:
        y += 18
        parts.append(svg_text(12, y, line, fill=MUTED))
    return "".join(parts), y + 14


def no_data(title: str, message: str = "No data") -> str:
    """A small chart that says there is nothing to show.

    Examples:
        >>> "No data" in no_data("Knife crime by month")
        True
    """
    head, y = header(title)
    body = head + svg_text(WIDTH / 2, y + 34, message, size=14, anchor="middle", fill=MUTED)
    return document(y + 64, title, f"{title}: {message.lower()}.", body)


def legend(entries: Sequence[tuple[Swatch, str]], x: float, y: float, width: float):
    """Legend items in rows that wrap at ``width``; returns the SVG and its height."""
    parts, cx, cy = [], x, y + 9
    for swatch, label in entries:
        item = 28 + min(text_width(label), width - 28) + 18
        if cx > x and cx + item > x + width:
            cx, cy = x, cy + 20
        parts += [swatch(cx, cy), svg_text(cx + 28, cy, label, middle=True, width=width - 28)]
        cx += item
    return "".join(parts), cy - y + 11


def line_swatch(colour: str, dash: str = "") -> Swatch:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return lambda x, y: (
        f'<line x1="{num(x)}" y1="{num(y)}" x2="{num(x + 22)}" y2="{num(y)}" stroke="{colour}" '
        f'stroke-width="2.5"{dashed}/>'
    )


def box_swatch(fill: str, opacity: float = 1, stroke: str = "") -> Swatch:
    extra = (f' fill-opacity="{opacity}"' if opacity < 1 else "") + (
        f' stroke="{stroke}"' if stroke else ""
    )
    return lambda x, y: (
        f'<rect x="{num(x)}" y="{num(y - 6)}" width="22" height="12" fill="{fill}"{extra}/>'
    )


def diamond_swatch(fill: str) -> Swatch:
    return lambda x, y: diamond(x + 11, y, 5.5, fill)


def diamond(x: float, y: float, r: float, fill: str, tip: str = "") -> str:
    """A diamond marker (class "marker" when it carries a tooltip, i.e. marks data)."""
    d = f"M{num(x)} {num(y - r)}L{num(x + r)} {num(y)}L{num(x)} {num(y + r)}L{num(x - r)} {num(y)}Z"
    start = f'<path d="{d}" fill="{fill}" stroke="#000000" stroke-width="1.2"'
    return f'{start} class="marker"><title>{esc(tip)}</title></path>' if tip else start + "/>"


def ramp_colour(ramp: Sequence[str], t: float) -> str:
    """The colour at ``t`` (0 to 1) along a ramp, interpolated in RGB.

    Examples:
        >>> ramp_colour(("#000000", "#ffffff"), 0.5)
        '#808080'
    """
    t = min(max(t, 0.0), 1.0) * (len(ramp) - 1)
    i = min(int(t), len(ramp) - 2)
    a, b = (tuple(int(c[k : k + 2], 16) for k in (1, 3, 5)) for c in (ramp[i], ramp[i + 1]))
    return "#" + "".join(f"{round(x + (y - x) * (t - i)):02x}" for x, y in zip(a, b, strict=True))


def ramp_classes(ramp: Sequence[str], k: int) -> list[str]:
    """``k`` colours spread evenly along a ramp, lightest (or bluest) first.

    Examples:
        >>> ramp_classes(DIVERGING, 3)
        ['#2166ac', '#f7f7f7', '#b2182b']
    """
    if k == 1:
        return [ramp[len(ramp) // 2]]
    if k > len(ramp):
        return [ramp_colour(ramp, i / (k - 1)) for i in range(k)]
    return [ramp[int(i * (len(ramp) - 1) / (k - 1) + 0.5)] for i in range(k)]


# --- value scales -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    lo: float
    hi: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]
    log: bool = False

    def frac(self, value: float) -> float:
        if self.log:
            value = max(value, self.lo)
            return math.log(value / self.lo) / math.log(self.hi / self.lo)
        return (value - self.lo) / (self.hi - self.lo)

    @property
    def base(self) -> float:
        return self.lo if self.log else min(max(0.0, self.lo), self.hi)

    @property
    def label_width(self) -> float:
        return max(text_width(label) for label in self.labels)


def linear_scale(values: Iterable[float], zero: bool = True, count: int = 5) -> Scale:
    values = list(values) or [0.0]
    lo, hi = min(values), max(values)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-12:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = (lo, hi + pad) if zero and lo >= 0 else (lo - pad, hi + pad)
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    decimals = next(d for d in range(12) if abs(step * 10**d - round(step * 10**d)) < 1e-6)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    ticks = tuple(round(i * step, decimals) for i in range(first, last + 1))
    return Scale(ticks[0], ticks[-1], ticks, tuple(format_number(t, decimals) for t in ticks))


def log_scale(values: Iterable[float]) -> Scale:
    positive = [v for v in values if v > 0] or [1.0]
    lo, hi = min(positive), max(positive)
    if hi / lo < 2:
        lo, hi = min(lo, 1 / 1.5 * hi), max(hi, 1.5 * lo)
    nice = sorted(
        float(f"{m * 10.0**e:.12g}")
        for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
        for m in (1, 2, 5)
    )
    low = max(c for c in nice if c <= lo * (1 + 1e-9))
    high = min(c for c in nice if c >= hi * (1 - 1e-9))
    ticks = [c for c in nice if low <= c <= high]
    if len(ticks) > 9:
        ticks = [t for t in ticks if t in (low, high) or f"{t:e}".startswith("1.")]
    labels = tuple(format_number(t, max(0, -math.floor(math.log10(t)))) for t in ticks)
    return Scale(low, high, tuple(ticks), labels, log=True)


def y_axis(scale: Scale, left: float, right: float, top: float, bottom: float, label: str):
    """Horizontal gridlines with tick labels on the left and the rotated axis title."""
    parts = []
    for tick, text in zip(scale.ticks, scale.labels, strict=True):
        y = bottom - scale.frac(tick) * (bottom - top)
        colour = AXIS if tick == scale.base else GRID
        parts.append(
            f'<line x1="{num(left)}" y1="{num(y)}" x2="{num(right)}" y2="{num(y)}" '
            f'stroke="{colour}"/>'
        )
        parts.append(svg_text(left - 6, y, text, anchor="end", middle=True))
    mid = (top + bottom) / 2
    parts.append(
        svg_text(
            16,
            mid,
            label,
            size=13,
            anchor="middle",
            rotate=-90,
            middle=True,
            width=bottom - top + 40,
        )
    )
    return "".join(parts)


def x_axis(scale: Scale, left: float, right: float, top: float, bottom: float, label: str):
    """Vertical gridlines with tick labels below and the axis title under them."""
    parts = []
    for tick, text in zip(scale.ticks, scale.labels, strict=True):
        x = left + scale.frac(tick) * (right - left)
        colour = AXIS if tick == scale.base and not scale.log else GRID
        parts.append(
            f'<line x1="{num(x)}" y1="{num(top)}" x2="{num(x)}" y2="{num(bottom)}" '
            f'stroke="{colour}"/>'
        )
        parts.append(svg_text(x, bottom + 16, text, anchor="middle"))
    parts.append(
        svg_text(
            (left + right) / 2, bottom + 38, label, size=13, anchor="middle", width=right - left
        )
    )
    return "".join(parts)
