"""Charts for the needs assessment report, each a pure function returning an inline ``<svg>``.

Lines over months (with bands and flagged months), bars (with intervals and a reference line),
forest plots on a log scale, grouped bars, weekday-by-hour heatmaps and Lorenz curves. Series
differ by dash as well as colour so they survive greyscale printing; empty input draws a small
"No data" figure instead of failing, so a report section never breaks on a quiet area.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TypeVar

import numpy as np

from svduty.reports.svg import (
    AXIS,
    CATEGORICAL,
    DASHES,
    MONTH,
    MUTED,
    SEQUENTIAL,
    WIDTH,
    Scale,
    box_swatch,
    clean,
    diamond,
    diamond_swatch,
    document,
    esc,
    format_number,
    header,
    ident,
    legend,
    line_swatch,
    linear_scale,
    log_scale,
    month_label,
    no_data,
    num,
    ramp_colour,
    svg_text,
    text_width,
    wrap,
    x_axis,
    y_axis,
)

T = TypeVar("T")


def _categories(values: Iterable[str]) -> list[str]:
    seen = list(dict.fromkeys(values))
    return sorted(seen) if all(MONTH.match(v) for v in seen) else seen


def _label_step(categories: Sequence[str], spacing: float) -> tuple[int, int]:
    """Show every ``step``-th label (at most 12, never overlapping), starting from ``offset``."""
    widest = max(text_width(month_label(c)) for c in categories) + 12
    step = max(1, math.ceil(len(categories) / 12), math.ceil(widest / spacing))
    months = [MONTH.match(c) for c in categories]
    if not all(months):
        return step, 0
    step = next(s for s in (1, 2, 3, 4, 6, 12, 24, 36, 60, 120, step) if s >= step)
    first = int(months[0][1]) * 12 + int(months[0][2]) - 1  # type: ignore[index]
    return step, (-first) % step


def _runs(items: Iterable[tuple[int, T]]) -> list[list[T]]:
    """Items split where their indices (in order) skip: the unbroken stretches of a line."""
    runs: list[list[T]] = []
    previous = -2
    for i, item in items:
        if i != previous + 1:
            runs.append([])
        runs[-1].append(item)
        previous = i
    return runs


def line_chart(
    series: dict[str, Sequence[tuple[str, float | None]]],
    *,
    title: str,
    y_label: str,
    x_label: str = "Month",
    band: dict[str, Sequence[tuple[str, float, float]]] | None = None,
    band_label: str = "Interval",
    markers: dict[str, Sequence[str]] | None = None,
    marker_label: str = "Flagged month",
    zero: bool = True,
    desc: str | None = None,
) -> str:
    """Lines over ordered categories, usually months ('YYYY-MM', shown as 'Jan 24').

    Args:
        series: Series name to (x, value) pairs; None values (or missing months) leave a gap.
        title: Visible title and accessible name.
        y_label: Axis title with its unit, e.g. "Offences per month".
        x_label: Axis title of the x-axis.
        band: Series name to (x, low, high): a shaded band, e.g. control limits or an interval.
        band_label: Legend text of the band.
        markers: Series name to the x values to highlight (e.g. months a control chart flags).
        marker_label: Legend text of the markers.
        zero: Start the y-axis at zero.
        desc: Text for screen readers; a summary is written when omitted.

    Examples:
        >>> svg = line_chart({"Offences": [("2024-01", 12), ("2024-02", None), ("2024-03", 15)]},
        ...                  title="Knife crime", y_label="Offences per month")
        >>> svg.startswith("<svg") and "Jan 24" in svg
        True
    """
    markers = markers or {}
    data = {
        name: {x: clean(v) for x, v in points}
        for name, points in series.items()
        if any(clean(v) is not None for _, v in points)
    }
    if not data:
        return no_data(title)
    bands = {
        name: [
            (x, lo, hi)
            for x, lo, hi in ((x, clean(a), clean(b)) for x, a, b in rows)
            if lo is not None and hi is not None
        ]
        for name, rows in (band or {}).items()
        if name in data
    }
    xs = _categories(
        [x for points in data.values() for x in points]
        + [x for rows in bands.values() for x, _, _ in rows]
    )
    index = {x: i for i, x in enumerate(xs)}
    values = [v for points in data.values() for v in points.values() if v is not None]
    values += [v for rows in bands.values() for _, lo, hi in rows for v in (lo, hi)]
    scale = linear_scale(values, zero=zero)
    colours = {name: CATEGORICAL[i % len(CATEGORICAL)] for i, name in enumerate(data)}
    dashes = {name: DASHES[i % len(DASHES)] for i, name in enumerate(data)}
    single = len(data) == 1
    flag = {name: "#D55E00" if single else colours[name] for name in data}

    entries = [(line_swatch(colours[n], dashes[n]), n) for n in data]
    entries += [
        (box_swatch(colours[n], 0.2), band_label if single else f"{n}: {band_label}")
        for n in data
        if bands.get(n)
    ]
    entries += [
        (diamond_swatch(flag[n]), marker_label if single else f"{n}: {marker_label}")
        for n in data
        if markers.get(n)
    ]
    head, top = header(title)
    if len(entries) > 1:
        key, height = legend(entries, 12, top, WIDTH - 24)
        head, top = head + key, top + height + 6
    top += 6
    left = 36 + scale.label_width
    right, bottom = WIDTH - 28, top + 260
    inner = 10 if len(xs) > 1 else (right - left) / 2
    spacing = (right - left - 2 * inner) / max(len(xs) - 1, 1)

    def xy(x: str, v: float) -> str:
        """Screen coordinates of a value, as 'x y'."""
        y = bottom - scale.frac(v) * (bottom - top)
        return f"{num(left + inner + index[x] * spacing)} {num(y)}"

    parts = [head, y_axis(scale, left, right, top, bottom, y_label)]
    for name, rows in bands.items():
        colour = colours[name]
        for stretch in _runs(sorted((index[x], (x, lo, hi)) for x, lo, hi in rows)):
            upper = [xy(x, hi) for x, _, hi in stretch]
            lower = [xy(x, lo) for x, lo, _ in reversed(stretch)]
            parts.append(
                f'<path d="M{"L".join(upper + lower)}Z" fill="{colour}" '
                f'fill-opacity="0.15" stroke="{colour}" stroke-opacity="0.25" '
                f'stroke-width="{6 if len(stretch) == 1 else 0}" class="band"/>'
            )
            parts += [
                f'<path d="M{"L".join(edge)}" fill="none" stroke="{colour}" '
                'stroke-opacity="0.6" stroke-dasharray="4 3"/>'
                for edge in (upper, lower)
                if len(stretch) > 1
            ]
    for name, points in data.items():
        runs = _runs((index[x], xy(x, v)) for x in xs if (v := points.get(x)) is not None)
        dash = f' stroke-dasharray="{dashes[name]}"' if dashes[name] else ""
        parts.append(
            f'<path d="{"".join("M" + "L".join(run) for run in runs)}" fill="none" '
            f'stroke="{colours[name]}" stroke-width="2.2" stroke-linejoin="round" '
            f'class="series"{dash}><title>{esc(name)}</title></path>'
        )
        for run in (r for r in runs if len(r) == 1):
            cx, cy = run[0].split()
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="3.5" fill="{colours[name]}"/>')
        for x in markers.get(name, ()):
            if (v := points.get(x)) is not None:
                mx, my = (float(c) for c in xy(x, v).split())
                tip = f"{name}, {month_label(x)}: {format_number(v)} ({marker_label.lower()})"
                parts.append(diamond(mx, my, 6, flag[name], tip))

    room = spacing if len(xs) > 1 else right - left
    step, offset = _label_step(xs, room)
    for i, x in enumerate(xs):
        if i % step == offset:
            at = num(left + inner + i * spacing)
            parts.append(f'<path d="M{at} {num(bottom)}v4" stroke="{AXIS}"/>')
            parts.append(
                svg_text(
                    left + inner + i * spacing,
                    bottom + 17,
                    month_label(x),
                    anchor="middle",
                    width=max(room * step - 6, 24),
                )
            )
    parts.append(svg_text((left + right) / 2, bottom + 40, x_label, size=13, anchor="middle"))
    summary = desc or (
        f"Line chart of {y_label} by {x_label.lower()}, {month_label(xs[0])} to "
        f"{month_label(xs[-1])}. Series: {', '.join(data)}."
    )
    return document(bottom + 52, title, summary, "".join(parts))


def _category_labels(labels: Sequence[str], centres: Sequence[float], band: float, y: float):
    """Labels under columns: level when they fit, else slanted and cut; returns SVG and height."""
    widest = max(text_width(label) for label in labels)
    if widest <= band - 6:
        parts = [
            svg_text(c, y + 16, lab, anchor="middle")
            for c, lab in zip(centres, labels, strict=True)
        ]
        return "".join(parts), 22
    step = max(1, math.ceil(16 / band))
    parts = [
        svg_text(c + 4, y + 12, lab, anchor="end", rotate=-40, width=150)
        for i, (c, lab) in enumerate(zip(centres, labels, strict=True))
        if i % step == 0
    ]
    return "".join(parts), math.sin(math.radians(40)) * min(widest, 150) + 24


Interval = tuple[float, float] | None


def _intervals(errors: Sequence[tuple[float, float]] | None, n: int) -> list[Interval] | None:
    """Error bars checked against the rows; an interval with a missing bound is left out."""
    if errors is None:
        return None
    if len(errors) != n:
        raise ValueError(f"one (low, high) per row is needed: {n} rows, {len(errors)} intervals")
    pairs = [(clean(lo), clean(hi)) for lo, hi in errors]
    return [(lo, hi) if lo is not None and hi is not None else None for lo, hi in pairs]


def _extent(values: list[float], errors: list[Interval] | None, reference: float | None):
    """Everything a value axis must show."""
    return (
        values
        + [v for pair in errors or () if pair for v in pair]
        + ([reference] if reference is not None else [])
    )


def _columns(
    categories: Sequence[str],
    groups: dict[str, Sequence[float | None]],
    *,
    title: str,
    y_label: str,
    x_label: str,
    errors: list[Interval] | None,
    reference: float | None,
    reference_label: str,
    log: bool,
    desc: str,
) -> str:
    data = {g: [clean(v) for v in vals] for g, vals in groups.items()}
    values = _extent(
        [v for vals in data.values() for v in vals if v is not None], errors, reference
    )
    scale = log_scale(values) if log else linear_scale(values)
    head, top = header(title)
    colours = {g: CATEGORICAL[i % len(CATEGORICAL)] for i, g in enumerate(data)}
    if len(data) > 1:
        key, height = legend([(box_swatch(colours[g]), g) for g in data], 12, top, WIDTH - 24)
        head, top = head + key, top + height + 6
    top += 18
    left, right, bottom = 36 + scale.label_width, WIDTH - 16, top + 250
    # a slanted first label reaches left of its column by cos 40 degrees of its length
    slant = math.cos(math.radians(40)) * min(max(text_width(c) for c in categories), 150)
    left = max(left, slant + 16 - (right - left) / len(categories) / 2)
    band = (right - left) / len(categories)
    width = band * 0.76 / len(data)

    def y_of(v: float) -> float:
        return bottom - scale.frac(v) * (bottom - top)

    parts = [head, y_axis(scale, left, right, top, bottom, y_label)]
    for j, (group, vals) in enumerate(data.items()):
        for i, (category, v) in enumerate(zip(categories, vals, strict=True)):
            if v is None:
                continue
            x = left + i * band + band * 0.12 + j * width
            y0, y1 = sorted((y_of(scale.base), y_of(v)))
            tip = (
                f"{category}, {group}: {format_number(v)}"
                if len(data) > 1
                else (f"{category}: {format_number(v)}")
            )
            parts.append(
                f'<rect x="{num(x)}" y="{num(y0)}" width="{num(width)}" '
                f'height="{num(max(y1 - y0, 0.5))}" fill="{colours[group]}" class="bar">'
                f"<title>{esc(tip)}</title></rect>"
            )
            label = format_number(v)
            if not errors and text_width(label, 11) <= band * 0.98 / len(data) + 4:
                parts.append(
                    svg_text(
                        x + width / 2,
                        (y0 - 5) if v >= 0 else (y1 + 13),
                        label,
                        size=11,
                        anchor="middle",
                        fill=MUTED,
                    )
                )
    for i, pair in enumerate(errors or ()):
        if pair is None:
            continue
        x, ya, yb = left + (i + 0.5) * band, y_of(pair[0]), y_of(pair[1])
        parts.append(
            f'<path d="M{num(x)} {num(ya)}V{num(yb)}M{num(x - 5)} {num(ya)}H{num(x + 5)}'
            f'M{num(x - 5)} {num(yb)}H{num(x + 5)}" stroke="#000000" stroke-width="1.4" '
            'class="error"/>'
        )
    if reference is not None:
        y = y_of(reference)
        parts.append(
            f'<line x1="{num(left)}" y1="{num(y)}" x2="{num(right)}" y2="{num(y)}" '
            'stroke="#333333" stroke-width="1.5" stroke-dasharray="6 4" class="reference"/>'
        )
        parts.append(
            svg_text(
                right,
                y - 5,
                reference_label or format_number(reference),
                anchor="end",
                fill="#333333",
            )
        )
    centres = [left + (i + 0.5) * band for i in range(len(categories))]
    labels, height = _category_labels(categories, centres, band, bottom)
    parts.append(labels)
    if x_label:
        parts.append(
            svg_text((left + right) / 2, bottom + height + 16, x_label, size=13, anchor="middle")
        )
        height += 22
    return document(bottom + height + 10, title, desc, "".join(parts))


def _bars(
    rows: Sequence[tuple[str, float | None]],
    *,
    title: str,
    x_label: str,
    errors: list[Interval] | None,
    reference: float | None,
    reference_label: str,
    log: bool,
    colour: str,
    desc: str,
) -> str:
    values = _extent([v for _, v in rows if v is not None], errors, reference)
    scale = log_scale(values) if log else linear_scale(values)
    label_width = min(max(text_width(label) for label, _ in rows), 230)
    shown = [] if errors else [format_number(v) for _, v in rows]
    left = 22 + label_width
    right = WIDTH - 16 - (max(text_width(t) for t in shown) + 6 if shown else 0)
    head, top = header(title)
    top += 18 if reference is not None else 4
    pitch = 26 if len(rows) <= 16 else 20
    bottom = top + len(rows) * pitch

    def x_of(v: float) -> float:
        return left + scale.frac(v) * (right - left)

    parts = [head, x_axis(scale, left, right, top, bottom, x_label)]
    for i, (label, v) in enumerate(rows):
        cy = top + (i + 0.5) * pitch
        parts.append(svg_text(left - 8, cy, label, anchor="end", middle=True, width=label_width))
        if v is None:
            parts.append(svg_text(left + 4, cy, "no data", middle=True, fill=MUTED))
            continue
        x0, x1 = sorted((x_of(scale.base), x_of(v)))
        parts.append(
            f'<rect x="{num(x0)}" y="{num(cy - pitch * 0.34)}" width="{num(max(x1 - x0, 0.5))}" '
            f'height="{num(pitch * 0.68)}" fill="{colour}" class="bar">'
            f"<title>{esc(label)}: {esc(format_number(v))}</title></rect>"
        )
        if shown:
            parts.append(svg_text(max(x1, x_of(scale.base)) + 5, cy, shown[i], middle=True))
    for i, pair in enumerate(errors or ()):
        if pair is None:
            continue
        cy, xa, xb = top + (i + 0.5) * pitch, x_of(pair[0]), x_of(pair[1])
        parts.append(
            f'<path d="M{num(xa)} {num(cy)}H{num(xb)}M{num(xa)} {num(cy - 5)}V{num(cy + 5)}'
            f'M{num(xb)} {num(cy - 5)}V{num(cy + 5)}" stroke="#000000" stroke-width="1.4" '
            'class="error"/>'
        )
    if reference is not None:
        x = x_of(reference)
        parts.append(
            f'<line x1="{num(x)}" y1="{num(top - 4)}" x2="{num(x)}" y2="{num(bottom)}" '
            'stroke="#333333" stroke-width="1.5" stroke-dasharray="6 4" class="reference"/>'
        )
        parts.append(
            svg_text(
                x,
                top - 9,
                reference_label or format_number(reference),
                anchor="middle",
                fill="#333333",
            )
        )
    return document(bottom + 50, title, desc, "".join(parts))


def bar_chart(
    rows: Sequence[tuple[str, float | None]],
    *,
    title: str,
    x_label: str,
    horizontal: bool = True,
    errors: Sequence[tuple[float, float]] | None = None,
    reference_line: float | None = None,
    reference_label: str = "",
    log_scale: bool = False,
    colour: str = CATEGORICAL[0],
    desc: str | None = None,
) -> str:
    """Bars for categories (kinds of violence, age bands), in the order given.

    Args:
        rows: (label, value) pairs; a None value shows "no data" in place of its bar.
        title: Visible title and accessible name.
        x_label: Title of the value axis with its unit (the x-axis when horizontal).
        horizontal: Bars left to right with labels on the left (suits long labels).
        errors: (low, high) bounds per row, e.g. a 95% interval, drawn as error bars.
        reference_line: A value marked by a dashed line (a target, a national rate).
        reference_label: Text by the reference line; its value when empty.
        log_scale: A logarithmic value axis (positive values only; bars start at its minimum).
        colour: Bar colour.
        desc: Text for screen readers; a summary is written when omitted.

    Examples:
        >>> svg = bar_chart([("Knife crime", 120), ("Robbery", 80)], title="Offences by kind",
        ...                 x_label="Offences, 2024")
        >>> svg.count('class="bar"')
        2
    """
    rows = [(str(label), clean(v)) for label, v in rows]
    present = [(label, v) for label, v in rows if v is not None]
    if not present:
        return no_data(title)
    intervals = _intervals(errors, len(rows))
    best = max(present, key=lambda row: row[1])
    summary = desc or (
        f"Bar chart of {x_label} for {len(rows)} categories; highest: {best[0]} "
        f"({format_number(best[1])})."
    )
    if horizontal:
        return _bars(
            rows,
            title=title,
            x_label=x_label,
            errors=intervals,
            reference=reference_line,
            reference_label=reference_label,
            log=log_scale,
            colour=colour,
            desc=summary,
        )
    return _columns(
        [label for label, _ in rows],
        {x_label: [v for _, v in rows]},
        title=title,
        y_label=x_label,
        x_label="",
        errors=intervals,
        reference=reference_line,
        reference_label=reference_label,
        log=log_scale,
        desc=summary,
    )


def grouped_bar_chart(
    categories: Sequence[str],
    groups: dict[str, Sequence[float | None]],
    *,
    title: str,
    y_label: str,
    x_label: str = "",
    desc: str | None = None,
) -> str:
    """Side-by-side columns: one group of bars per category, one colour per group.

    Args:
        categories: Labels along the x-axis (kinds, age bands).
        groups: Group name (shown in the legend) to one value per category; None leaves a gap.
        title: Visible title and accessible name.
        y_label: Title of the value axis with its unit, e.g. "Share of all (%)".
        x_label: Title of the category axis, if any.
        desc: Text for screen readers; a summary is written when omitted.

    Examples:
        >>> svg = grouped_bar_chart(["10-17", "18-24"], {"Victims": [30, 45], "Suspects": [25, 60]},
        ...                         title="People by age band", y_label="People")
        >>> svg.count('class="bar"')
        4
    """
    for name, vals in groups.items():
        if len(vals) != len(categories):
            raise ValueError(
                f"group {name!r} has {len(vals)} values for {len(categories)} categories"
            )
    if not categories or all(clean(v) is None for vals in groups.values() for v in vals):
        return no_data(title)
    summary = desc or (
        f"Grouped bar chart of {y_label} for {len(categories)} categories: "
        f"{', '.join(categories)}; groups: {', '.join(groups)}."
    )
    return _columns(
        categories,
        groups,
        title=title,
        y_label=y_label,
        x_label=x_label,
        errors=None,
        reference=None,
        reference_label="",
        log=False,
        desc=summary,
    )


def forest_plot(
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    title: str,
    x_label: str,
    reference: float = 1.0,
    interval_label: str = "95% interval",
    desc: str | None = None,
) -> str:
    """Estimates with intervals on a log scale, e.g. rate ratios against a reference of 1.

    Args:
        rows: (label, estimate, low, high); a row missing any of them, or not positive, reads
            "n/a".
        title: Visible title and accessible name.
        x_label: Title of the x-axis, e.g. "Rate ratio (log scale)".
        reference: Where "no difference" lies, drawn as a solid line.
        interval_label: What the interval is, for the column heading.
        desc: Text for screen readers; a summary is written when omitted.

    Examples:
        >>> svg = forest_plot([("Knife crime", 1.3, 1.1, 1.6), ("Robbery", 0.8, 0.6, 1.05)],
        ...                   title="Change since last year", x_label="Rate ratio (log scale)")
        >>> svg.count('class="estimate"')
        2
    """
    labels = [str(row[0]) for row in rows]
    numbers = [
        tuple(v if v is not None and v > 0 else None for v in map(clean, row[1:])) for row in rows
    ]
    valid = {
        i: (e, lo, hi)
        for i, (e, lo, hi) in enumerate(numbers)
        if e is not None and lo is not None and hi is not None
    }
    if not valid:
        return no_data(title)
    scale = log_scale([v for triple in valid.values() for v in triple] + [reference])
    texts = [
        f"{format_number(valid[i][0], 2)} ({format_number(valid[i][1], 2)}\u2013"
        f"{format_number(valid[i][2], 2)})"
        if i in valid
        else "n/a"
        for i in range(len(rows))
    ]
    heading = f"Estimate ({interval_label})"
    column = max(max(text_width(t) for t in texts), text_width(heading))
    label_width = min(max(text_width(label) for label in labels), 200)
    left, right = 22 + label_width, WIDTH - 28 - column
    head, top = header(title)
    top += 20
    pitch = 26 if len(rows) <= 16 else 20
    bottom = top + len(rows) * pitch

    def x_of(v: float) -> float:
        return left + scale.frac(v) * (right - left)

    parts = [
        head,
        x_axis(scale, left, right, top, bottom, x_label),
        svg_text(WIDTH - 16, top - 8, heading, anchor="end", bold=True),
    ]
    x = x_of(reference)
    parts.append(
        f'<line x1="{num(x)}" y1="{num(top - 4)}" x2="{num(x)}" y2="{num(bottom)}" '
        'stroke="#333333" stroke-width="1.5" class="reference"/>'
    )
    for i, (label, text) in enumerate(zip(labels, texts, strict=True)):
        cy = top + (i + 0.5) * pitch
        parts.append(svg_text(left - 8, cy, label, anchor="end", middle=True, width=label_width))
        parts.append(svg_text(WIDTH - 16, cy, text, anchor="end", middle=True))
        if i not in valid:
            continue
        xe, xa, xb = (x_of(v) for v in valid[i])
        parts.append(
            f'<path d="M{num(xa)} {num(cy)}H{num(xb)}" stroke="#000000" '
            'stroke-width="1.6" class="interval"/>'
        )
        parts.append(
            f'<rect x="{num(xe - 5)}" y="{num(cy - 5)}" width="10" height="10" '
            f'fill="{CATEGORICAL[0]}" stroke="#000000" class="estimate">'
            f"<title>{esc(label)}: {esc(text)}</title></rect>"
        )
    summary = desc or (
        f"Forest plot of {x_label} for {len(rows)} rows, with {interval_label}s; "
        f"reference line at {format_number(reference)}."
    )
    return document(bottom + 50, title, summary, "".join(parts))


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    value_label: str,
    show_values: bool | None = None,
    desc: str | None = None,
) -> str:
    """A grid of shaded cells, e.g. offences by weekday (rows) and hour (columns).

    Args:
        rows: Row labels, top to bottom.
        columns: Column labels, left to right (thinned when crowded).
        values: One list per row, one value per column; None shades the cell as "no data".
        title: Visible title and accessible name.
        x_label: Title of the column axis, e.g. "Hour of day".
        y_label: Title of the row axis, e.g. "Day of week".
        value_label: What the shade measures, e.g. "Offences", for the colour legend.
        show_values: Print each value in its cell; by default only when the numbers fit.
        desc: Text for screen readers; a summary is written when omitted.

    Examples:
        >>> svg = heatmap(["Sat", "Sun"], ["22", "23"], [[5, 9], [7, None]], title="When",
        ...               x_label="Hour", y_label="Day", value_label="Offences")
        >>> svg.count('class="cell"')
        4
    """
    if len(values) != len(rows) or any(len(r) != len(columns) for r in values):
        raise ValueError(f"heatmap needs {len(rows)} rows of {len(columns)} values")
    cells = [[clean(v) for v in row] for row in values]
    finite = [v for row in cells for v in row if v is not None]
    if not finite:
        return no_data(title)
    scale = linear_scale(finite, count=4)
    head, top = header(title)
    top += 6
    label_width = min(max(text_width(r) for r in rows), 160)
    left, right = 44 + label_width, WIDTH - 16
    cell_w = (right - left) / len(columns)
    cell_h = 26.0 if len(rows) <= 12 else max(12.0, 320 / len(rows))
    bottom = top + len(rows) * cell_h
    widest = max(text_width(format_number(v), 11) for v in finite)
    if show_values is None:
        show_values = widest + 4 <= cell_w and cell_h >= 16

    parts = [head]
    for i, (row, vals) in enumerate(zip(rows, cells, strict=True)):
        y = top + i * cell_h
        parts.append(
            svg_text(left - 8, y + cell_h / 2, row, anchor="end", middle=True, width=label_width)
        )
        for j, (column, v) in enumerate(zip(columns, vals, strict=True)):
            t = scale.frac(v) if v is not None else 0.0
            fill = ramp_colour(SEQUENTIAL, t) if v is not None else "#d9d9d9"
            x = left + j * cell_w
            parts.append(
                f'<rect x="{num(x)}" y="{num(y)}" width="{num(cell_w)}" '
                f'height="{num(cell_h)}" fill="{fill}" stroke="#ffffff" class="cell">'
                f"<title>{esc(row)}, {esc(column)}: {esc(format_number(v))}</title>"
                "</rect>"
            )
            if show_values and v is not None:
                parts.append(
                    svg_text(
                        x + cell_w / 2,
                        y + cell_h / 2,
                        format_number(v),
                        size=11,
                        anchor="middle",
                        middle=True,
                        fill="#ffffff" if t > 0.55 else "#000000",
                    )
                )
    step = max(1, math.ceil((max(text_width(c) for c in columns) + 6) / cell_w))
    for j, column in enumerate(columns):
        if j % step == 0:
            parts.append(
                svg_text(
                    left + (j + 0.5) * cell_w,
                    bottom + 16,
                    column,
                    anchor="middle",
                    width=cell_w * step,
                )
            )
    parts.append(svg_text((left + right) / 2, bottom + 38, x_label, size=13, anchor="middle"))
    parts.append(
        svg_text(
            16,
            (top + bottom) / 2,
            y_label,
            size=13,
            anchor="middle",
            rotate=-90,
            middle=True,
            width=bottom - top + 40,
        )
    )

    key_y, key_x, key_w = bottom + 62, left, 260
    gradient = ident(title, tuple(rows), tuple(columns))
    stops = "".join(
        f'<stop offset="{i / (len(SEQUENTIAL) - 1):.3f}" stop-color="{c}"/>'
        for i, c in enumerate(SEQUENTIAL)
    )
    parts.append(f'<defs><linearGradient id="{gradient}">{stops}</linearGradient></defs>')
    parts.append(svg_text(key_x, key_y + 6, value_label, middle=True, bold=True, width=200))
    bar_x = key_x + min(text_width(value_label), 200) + 14
    parts.append(
        f'<rect x="{num(bar_x)}" y="{num(key_y)}" width="{key_w}" height="12" '
        f'fill="url(#{gradient})" stroke="{AXIS}" stroke-width="0.5"/>'
    )
    for tick, text in zip(scale.ticks, scale.labels, strict=True):
        x = bar_x + scale.frac(tick) * key_w
        parts.append(
            f'<line x1="{num(x)}" y1="{num(key_y + 12)}" x2="{num(x)}" '
            f'y2="{num(key_y + 16)}" stroke="{AXIS}"/>'
        )
        parts.append(svg_text(x, key_y + 28, text, anchor="middle"))
    if len(finite) < len(rows) * len(columns):
        parts.append(box_swatch("#d9d9d9")(bar_x + key_w + 30, key_y + 6))
        parts.append(svg_text(bar_x + key_w + 58, key_y + 6, "No data", middle=True))
    top_cell = max(
        (
            (r, c, v)
            for r, vals in zip(rows, cells, strict=True)
            for c, v in zip(columns, vals, strict=True)
            if v is not None
        ),
        key=lambda cell: cell[2],
    )
    summary = desc or (
        f"Heatmap of {value_label} by {y_label.lower()} and {x_label.lower()}; "
        f"highest: {top_cell[0]}, {top_cell[1]} ({format_number(top_cell[2])})."
    )
    return document(key_y + 40, title, summary, "".join(parts))


def _top_share(xs: np.ndarray, ys: np.ndarray, share: float) -> float:
    """The share of violence in the ``share`` of areas with the most, whichever way it is sorted."""
    if np.mean(ys - xs) >= 0:
        return float(np.interp(share, xs, ys))
    return float(1 - np.interp(1 - share, xs, ys))


def lorenz_curve(
    points: Sequence[tuple[float, float]],
    *,
    title: str,
    gini: float,
    x_label: str = "Cumulative share of areas",
    y_label: str = "Cumulative share of violence",
    desc: str | None = None,
) -> str:
    """How concentrated violence is: cumulative share of areas against share of violence.

    Args:
        points: (share of areas, share of violence), both from 0 to 1, areas sorted by their
            violence (either way); (0, 0) is added when missing.
        title: Visible title and accessible name.
        gini: The Gini coefficient, printed in the caption.
        x_label: Title of the x-axis.
        y_label: Title of the y-axis.
        desc: Text for screen readers; a summary is written when omitted.

    Examples:
        >>> svg = lorenz_curve([(0.1, 0.4), (0.5, 0.8), (1, 1)], title="Concentration", gini=0.45)
        >>> "0.45" in svg
        True
    """
    pts = sorted(
        (x, y)
        for x, y in ((clean(a), clean(b)) for a, b in points)
        if x is not None and y is not None
    )
    if not pts:
        return no_data(title)
    if pts[0] != (0.0, 0.0):
        pts.insert(0, (0.0, 0.0))
    xs, ys = np.array(pts).T
    caption = (
        f"Gini coefficient {gini:.2f} (0: violence spread evenly across areas; "
        "1: all of it in one area)"
    )
    head, top = header(title, caption)
    top += 8
    side = 330
    left, bottom = 84, top + side
    right = left + side
    ticks = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    scale = Scale(0.0, 1.0, ticks, tuple(f"{t:.0%}" for t in ticks))

    def xy(x: float, y: float) -> str:
        return f"{num(left + x * side)} {num(bottom - y * side)}"

    curve = "L".join(xy(x, y) for x, y in pts)
    parts = [
        head,
        y_axis(scale, left, right, top, bottom, y_label),
        x_axis(scale, left, right, top, bottom, x_label),
        f'<path d="M{curve}L{xy(pts[-1][0], pts[-1][0])}Z" fill="{CATEGORICAL[0]}" '
        'fill-opacity="0.12"/>',
        f'<path d="M{xy(0, 0)}L{xy(1, 1)}" stroke="#333333" stroke-width="1.5" '
        'stroke-dasharray="6 4" class="equality"/>',
        f'<path d="M{curve}" fill="none" stroke="{CATEGORICAL[0]}" stroke-width="2.5" '
        'stroke-linejoin="round" class="lorenz"/>',
    ]
    panel = right + 36
    key, height = legend(
        [
            (line_swatch(CATEGORICAL[0]), "Lorenz curve"),
            (line_swatch("#333333", "6 4"), "Line of equality"),
        ],
        panel,
        top + 4,
        WIDTH - panel - 16,
    )
    parts.append(key)
    facts = []
    if pts[-1][0] >= 0.999:
        for share in (0.05, 0.1, 0.2):
            facts.append(
                f"The {share:.0%} of areas with the most violence hold "
                f"{_top_share(xs, ys, share):.0%} of it."
            )
    y = top + height + 24
    for fact in facts:
        for line in wrap(fact, WIDTH - panel - 16, 12, max_lines=3):
            parts.append(svg_text(panel, y, line))
            y += 17
        y += 6
    summary = desc or (
        f"Lorenz curve of {y_label.lower()} against {x_label.lower()}. {caption}. "
        + " ".join(facts)
    )
    return document(bottom + 52, title, summary, "".join(parts))
