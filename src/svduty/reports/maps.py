"""Choropleth maps for the needs assessment report as inline SVG, small enough to embed hundreds of
areas (the 516 LSOAs of Cambridgeshire and Peterborough draw in well under 300 KB).

Areas are projected with an equirectangular projection whose longitudes are scaled by the cosine
of the map's middle latitude, which keeps shapes true to within a few per cent across a county;
each polygon is then simplified to a third of a pixel and rounded to a tenth, which the eye
cannot tell from the original at print size.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

from svduty.reports.svg import (
    DIVERGING,
    MUTED,
    SEQUENTIAL,
    WIDTH,
    Swatch,
    box_swatch,
    clean,
    document,
    esc,
    format_number,
    header,
    ident,
    no_data,
    num,
    ramp_classes,
    svg_text,
    wrap,
)

Feature = tuple[str, str, Mapping[str, Any]]

MAP_WIDTH, MAP_HEIGHT, KEY_WIDTH = 520.0, 600.0, 196.0
TOLERANCE = 0.3  # px: simplification below what print can show
HIGHLIGHTS = (("#D55E00", ""), ("#CC79A7", "5 3"), ("#000000", "2 2"))
NO_DATA_LABEL = "No data"
KM_PER_DEGREE = 111.2  # of latitude, near enough for a scale bar


def read_features(collection: Mapping[str, Any], code: str, name: str) -> list[Feature]:
    """(code, name, geometry) for each feature of a GeoJSON FeatureCollection.

    Args:
        collection: The parsed GeoJSON.
        code: Property holding the area code, e.g. "lsoa21_code".
        name: Property holding the area name, e.g. "lsoa21_name".

    Examples:
        >>> square = {"type": "Polygon", "coordinates": [[[0, 52], [1, 52], [1, 53], [0, 52]]]}
        >>> read_features({"features": [{"properties": {"c": "E1", "n": "A"},
        ...                              "geometry": square}]}, "c", "n")[0][:2]
        ('E1', 'A')
    """
    return [
        (str(f["properties"][code]), str(f["properties"][name]), f["geometry"])
        for f in collection["features"]
        if f.get("geometry")
    ]


def class_breaks(
    values: Iterable[float], classes: int = 5, scheme: str = "sequential"
) -> list[float]:
    """Upper bounds of all classes but the last: quantiles, or even steps around zero if diverging.

    Quantile breaks that coincide (many equal values) are merged, so there may be fewer classes
    than asked for; a break at the maximum is dropped so the top class is never empty.

    Examples:
        >>> class_breaks([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], classes=2)
        [5.5]
        >>> class_breaks([0] * 9 + [7])
        [0.0]
        >>> class_breaks([-3, 1, 2], classes=3, scheme="diverging")
        [-1.0, 1.0]
    """
    vals = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if vals.size == 0 or classes < 2:
        return []
    if scheme == "diverging":
        edge = float(np.abs(vals).max()) or 1.0
        return [float(b) for b in np.linspace(-edge, edge, classes + 1)[1:-1]]
    cuts = np.unique(np.quantile(vals, [i / classes for i in range(1, classes)]))
    return [float(b) for b in cuts if b < vals.max()]


def _project(geoms: Sequence[Any]) -> tuple[Any, float, float, float, float]:
    """A function from lon/lat to map units; the map's width and height; the latitude used; and
    map units per degree of latitude."""
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(geoms, dtype=object))
    lat0 = (miny + maxy) / 2
    k = math.cos(math.radians(lat0))
    width, height = max((maxx - minx) * k, 1e-9), max(maxy - miny, 1e-9)
    scale = min(MAP_WIDTH / width, MAP_HEIGHT / height)

    def project(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(((coords[:, 0] - minx) * k * scale, (maxy - coords[:, 1]) * scale))

    return project, width * scale, height * scale, lat0, scale


def _path(geom: Any, ox: float, oy: float) -> str:
    """SVG path data of a (multi)polygon: rings as 'M x y x y ...Z', holes via even-odd fill."""
    polygons = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    rings = []
    for polygon in polygons:
        if not isinstance(polygon, Polygon) or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            points = np.round(np.asarray(ring.coords)[:-1] + (ox, oy), 1)
            keep = np.r_[True, np.any(np.diff(points, axis=0) != 0, axis=1)]
            points = points[keep]
            if len(points) >= 3:
                rings.append("M" + " ".join(f"{num(x)} {num(y)}" for x, y in points) + "Z")
    return "".join(rings)


def choropleth(
    features: Sequence[Feature],
    values: Mapping[str, float | None],
    *,
    title: str,
    value_label: str,
    classes: int = 5,
    breaks: Sequence[float] | None = None,
    scheme: Literal["sequential", "diverging"] = "sequential",
    outline: Sequence[Mapping[str, Any]] | None = None,
    outline_label: str = "Local authority boundary",
    highlight: Mapping[str, str] | None = None,
    source: str = "",
    desc: str | None = None,
) -> str:
    """Areas shaded by value class, with a legend of class ranges and a scale bar.

    Args:
        features: (code, name, GeoJSON Polygon or MultiPolygon in WGS84 lon/lat) per area.
        values: Area code to value; a missing code or None is hatched as "no data".
        title: Visible title and accessible name.
        value_label: What the shade measures with its unit, e.g. "Offences per 1,000 residents".
        classes: How many classes to aim for (at most 9).
        breaks: Upper bounds of all classes but the last, instead of quantiles; e.g.
            ``[-2.58, -1.96, 1.96, 2.58]`` for z-scores.
        scheme: "sequential" (light to dark, for counts and rates) or "diverging" (blue through
            white to red, for values either side of zero such as z-scores).
        outline: GeoJSON geometries drawn on top with a dark thin line (local authorities).
        outline_label: Legend text of the outline.
        highlight: Area code to a label (e.g. "Hotspot"); each label gets its own coloured outline.
        source: A source or licence line under the map.
        desc: Text for screen readers; a summary is written when omitted.

    Examples:
        >>> square = {"type": "Polygon",
        ...           "coordinates": [[[0, 52], [0.1, 52], [0.1, 52.1], [0, 52.1], [0, 52]]]}
        >>> svg = choropleth([("E1", "Ward <A>", square)], {"E1": 4.0}, title="Rate",
        ...                  value_label="Per 1,000")
        >>> svg.count('class="area"'), "Ward &lt;A&gt; (E1): 4" in svg
        (1, True)
    """
    shapes = [(code, name, shape(geom)) for code, name, geom in features if geom]
    shapes = [(code, name, geom) for code, name, geom in shapes if not geom.is_empty]
    if not shapes:
        return no_data(title)
    highlight = highlight or {}
    lines = [g for g in map(shape, outline or ()) if not g.is_empty]
    project, map_w, map_h, lat0, per_degree = _project([g for _, _, g in shapes] + lines)

    def draw(geom: Any) -> Any:
        return shapely.transform(geom, project).simplify(TOLERANCE, preserve_topology=True)

    vals = {code: clean(values.get(code)) for code, _, _ in shapes}
    present = [v for v in vals.values() if v is not None]
    cuts = sorted(breaks) if breaks is not None else class_breaks(present, classes, scheme)
    palette = ramp_classes(DIVERGING if scheme == "diverging" else SEQUENTIAL, len(cuts) + 1)
    members = [0] * len(palette)
    for v in present:
        members[bisect.bisect_left(cuts, v)] += 1

    head, top = header(title)
    top += 4
    ox = (WIDTH - map_w - 24 - KEY_WIDTH) / 2
    hatch = ident(title, value_label, tuple(vals))
    parts = [
        head,
        f'<defs><pattern id="{hatch}" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f2f2f2"/>'
        '<path d="M0 0V6" stroke="#b3b3b3" stroke-width="2"/></pattern></defs>',
        '<g stroke="#ffffff" stroke-width="0.3" stroke-linejoin="round" fill-rule="evenodd">',
    ]
    drawn = {}
    for code, name, geom in shapes:
        d = _path(draw(geom), ox, top)
        drawn[code] = d
        value = vals[code]
        fill = palette[bisect.bisect_left(cuts, value)] if value is not None else f"url(#{hatch})"
        tip = f"{name} ({code}): {format_number(value)}"
        parts.append(f'<path d="{d}" fill="{fill}" class="area"><title>{esc(tip)}</title></path>')
    parts.append("</g>")
    if lines:
        # a white halo keeps the dark line visible over the darkest class
        paths = [_path(draw(g), ox, top) for g in lines]
        for stroke, width, cls in (("#ffffff", 2.4, "halo"), ("#333333", 1, "outline")):
            parts.append(
                f'<g fill="none" stroke="{stroke}" stroke-width="{width}" stroke-linejoin="round">'
            )
            parts += [f'<path d="{d}" class="{cls}"/>' for d in paths]
            parts.append("</g>")
    styles = {
        label: HIGHLIGHTS[i % len(HIGHLIGHTS)]
        for i, label in enumerate(dict.fromkeys(highlight.values()))
    }
    names = {code: name for code, name, _ in shapes}
    for code, label in highlight.items():
        if code in drawn:
            colour, dash = styles[label]
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            tip = f"{names[code]} ({code}): {label}"
            parts.append(
                f'<path d="{drawn[code]}" fill="none" stroke="{colour}" '
                f'stroke-width="2.2" stroke-linejoin="round"{dashed} class="highlight">'
                f"<title>{esc(tip)}</title></path>"
            )

    frame = "#bfbfbf"
    rows: list[tuple[Swatch, str] | None] = [
        (box_swatch(colour, stroke=frame), text)
        for text, colour in _class_labels(present, cuts, members, palette)
    ]
    missing = len(vals) - len(present)
    if missing:
        rows.append((box_swatch(f"url(#{hatch})", stroke=frame), f"{NO_DATA_LABEL} ({missing:,})"))
    rows.append(None)
    for label, (colour, dash) in styles.items():
        count = sum(1 for code, lab in highlight.items() if lab == label and code in drawn)
        rows.append((_outline_swatch(colour, dash, 2.2), f"{label} ({count:,})"))
    if lines:
        rows.append((_outline_swatch("#333333", "", 1), outline_label))
    x = ox + map_w + 24
    key, y = _key(x, top, value_label, rows)
    parts.append(key)
    parts.append(_scale_bar(x, y + 14, per_degree / KM_PER_DEGREE))
    y += 48
    note = f"Equirectangular projection, longitude scaled by cos {lat0:.1f}\u00b0."
    for line in wrap(note, KEY_WIDTH, 11, max_lines=3):
        parts.append(svg_text(x, y, line, size=11, fill=MUTED))
        y += 15
    bottom = max(top + map_h, y) + 8
    if source:
        for line in wrap(source, WIDTH - 24, 11, max_lines=2):
            bottom += 15
            parts.append(svg_text(12, bottom, line, size=11, fill=MUTED))
    summary = desc or (
        f"Map of {value_label} for {len(shapes):,} areas in {len(palette)} classes"
        + (f"; {missing:,} without data" if missing else "")
        + (f"; {len(highlight):,} highlighted" if highlight else "")
        + f". Equirectangular projection, longitude scaled by cos {lat0:.1f}\u00b0."
    )
    return document(bottom + 12, title, summary, "".join(parts))


def _class_labels(
    present: Sequence[float], cuts: Sequence[float], members: Sequence[int], palette: Sequence[str]
) -> list[tuple[str, str]]:
    """Legend rows, highest class first: 'low to high (areas)' at one precision throughout."""
    lowest, highest = min(present, default=0.0), max(present, default=0.0)
    bounds = [lowest, *cuts, highest]
    decimals = max(
        0 if b.is_integer() or abs(b) >= 100 else 1 if abs(b) >= 10 else 2
        for b in map(float, bounds)
    )
    rows = []
    for i, colour in enumerate(palette):
        lo, hi = (format_number(b, decimals) for b in bounds[i : i + 2])
        if i == 0 and cuts and lowest > cuts[0]:
            text = f"up to {hi}"
        elif i == len(palette) - 1 and cuts and highest <= cuts[-1]:
            text = f"over {lo}"
        else:
            text = f"{lo} to {hi}"
        rows.append((f"{text} ({members[i]:,})", colour))
    return rows[::-1]


def _outline_swatch(colour: str, dash: str, width: float) -> Swatch:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return lambda x, y: (
        f'<rect x="{num(x + 1)}" y="{num(y - 6)}" width="20" height="12" fill="none" '
        f'stroke="{colour}" stroke-width="{width}"{dashed}/>'
    )


def _key(x: float, top: float, heading: str, rows: Sequence[tuple[Swatch, str] | None]):
    """The legend column: a heading, then rows of swatch and wrapped text (None: a gap); returns
    the SVG and the next free y."""
    parts, y = [], top + 12
    for line in wrap(heading, KEY_WIDTH, 12, max_lines=3):
        parts.append(svg_text(x, y, line, bold=True))
        y += 17
    y += 2
    for row in rows:
        if row is None:
            y += 6
            continue
        swatch, text = row
        parts.append(swatch(x, y + 8))
        lines = wrap(text, KEY_WIDTH - 30, 12)
        for i, line in enumerate(lines):
            parts.append(svg_text(x + 30, y + 8 + 16 * i, line, middle=True))
        y += 16 * len(lines) + 5
    return "".join(parts), y


def _scale_bar(x: float, y: float, per_km: float) -> str:
    """A scale bar of a round number of kilometres, at most 120 map units long."""
    most = 120 / per_km
    km = max(m * 10.0**e for e in range(-2, 4) for m in (1, 2, 5) if m * 10.0**e <= most)
    length = km * per_km
    return (
        f'<path d="M{num(x)} {num(y - 4)}V{num(y)}H{num(x + length)}V{num(y - 4)}" fill="none" '
        f'stroke="#333333" stroke-width="1.5"/>'
        + svg_text(x + length + 6, y, f"{km:g} km", middle=True)
    )
