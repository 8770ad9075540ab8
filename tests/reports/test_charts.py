"""Charts and maps: well-formed SVG, one mark per input, escaping, colour classes and projection,
checked against coordinates worked out independently of the drawing code."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable

import pytest

from svduty.reports import charts, maps
from svduty.reports.svg import DIVERGING, SEQUENTIAL, format_number, ramp_classes
from tests.conftest import SHARED

NS = "{http://www.w3.org/2000/svg}"
MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
LSOA = SHARED / "geography" / "lsoa21_bsc_cambs_pboro.geojson"
LTLA = SHARED / "geography" / "ltla24_cambs_pboro.geojson"
NASTY = 'Sexual offences <&> "exploitation"'


def square(lon: float, lat: float, half: float = 0.1) -> dict:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def parse(svg: str) -> ET.Element:
    """The SVG parsed, after the checks every chart must pass."""
    root = ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img" and root.get("aria-label")
    assert root.get("viewBox", "").startswith("0 0 760 ") and root.get("width") == "100%"
    assert root.find(f"{NS}title") is not None and root.find(f"{NS}desc") is not None
    sizes = [float(e.get("font-size", 12)) for e in root.iter(f"{NS}text")]
    assert min(sizes) >= 11, "text must stay readable when printed"
    assert not re.search(r"\b(nan|inf)\b", svg)
    return root


def marks(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return root.findall(f".//{NS}{tag}[@class='{cls}']")


def shown(root: ET.Element) -> list[str]:
    """The visible text of each text element (a cut label's tooltip is not shown)."""
    return [(t.text or "") + "".join(c.tail or "" for c in t) for t in root.iter(f"{NS}text")]


def points(d: str) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


SAMPLES: dict[str, Callable[[], str]] = {
    "line": lambda: charts.line_chart(
        {"All": [(m, 10 + i) for i, m in enumerate(MONTHS)], NASTY: [(m, 5) for m in MONTHS]},
        title="Offences",
        y_label="Records a month",
        band={"All": [(m, 5 + i, 15 + i) for i, m in enumerate(MONTHS)]},
        markers={"All": MONTHS[:2]},
    ),
    "bar": lambda: charts.bar_chart(
        [("Robbery", 5), (NASTY, 1234.5)],
        title="By kind",
        x_label="Records",
        errors=[(4, 6), (1000, 1500)],
        reference_line=100,
    ),
    "column": lambda: charts.bar_chart(
        [("0-9", 5), ("10-17", 0)], title="By age", x_label="Victims", horizontal=False
    ),
    "log bar": lambda: charts.bar_chart(
        [("A", 0.5), ("B", 30)], title="Log", x_label="Ratio", log_scale=True
    ),
    "forest": lambda: charts.forest_plot([("A", 1.2, 1.0, 1.5)], title="Change", x_label="RR"),
    "grouped": lambda: charts.grouped_bar_chart(
        ["A", NASTY], {"x": [1, 2], "y": [3, None]}, title="Groups", y_label="Per cent"
    ),
    "heatmap": lambda: charts.heatmap(
        ["Mon", "Tue"],
        [f"{h:02d}" for h in range(24)],
        [list(range(24)), [None] * 24],
        title="When",
        x_label="Hour",
        y_label="Day",
        value_label="Records",
    ),
    "lorenz": lambda: charts.lorenz_curve([(0.5, 0.9), (1, 1)], title="Spread", gini=0.4),
    "map": lambda: maps.choropleth(
        [("E1", NASTY, square(0, 52)), ("E2", "B", square(0.3, 52))],
        {"E1": 1.0},
        title="Map",
        value_label="Rate",
        outline=[square(0.15, 52, 0.3)],
        highlight={"E1": "Hotspot"},
    ),
}


@pytest.mark.parametrize("kind", SAMPLES)
def test_every_chart_is_well_formed_accessible_svg(kind: str) -> None:
    parse(SAMPLES[kind]())


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.line_chart({}, title="T", y_label="Y"),
        lambda: charts.line_chart({"A": [("2024-01", None)]}, title="T", y_label="Y"),
        lambda: charts.bar_chart([], title="T", x_label="X"),
        lambda: charts.bar_chart([("A", None)], title="T", x_label="X", horizontal=False),
        lambda: charts.forest_plot([("A", None, None, None)], title="T", x_label="X"),
        lambda: charts.grouped_bar_chart([], {}, title="T", y_label="Y"),
        lambda: charts.heatmap([], [], [], title="T", x_label="X", y_label="Y", value_label="V"),
        lambda: charts.lorenz_curve([], title="T", gini=0.0),
        lambda: maps.choropleth([], {}, title="T", value_label="V"),
    ],
)
def test_empty_data_draws_a_no_data_figure(draw: Callable[[], str]) -> None:
    root = parse(draw())
    assert "No data" in shown(root)


def test_one_mark_per_input() -> None:
    bars = parse(charts.bar_chart([("A", 1), ("B", None), ("C", 3)], title="T", x_label="X"))
    assert len(marks(bars, "rect", "bar")) == 2 and "no data" in shown(bars)
    grouped = parse(
        charts.grouped_bar_chart(
            ["a", "b", "c"], {"x": [1, 2, 3], "y": [4, None, 6]}, title="T", y_label="Y"
        )
    )
    assert len(marks(grouped, "rect", "bar")) == 5
    cells = parse(
        charts.heatmap(
            list("abcdefg"),
            [str(h) for h in range(24)],
            [[h * d for h in range(24)] for d in range(7)],
            title="T",
            x_label="X",
            y_label="Y",
            value_label="V",
        )
    )
    assert len(marks(cells, "rect", "cell")) == 7 * 24
    forest = parse(
        charts.forest_plot(
            [("a", 1, 0.5, 2), ("b", 2, 1, 3), ("c", 0, -1, 1)], title="T", x_label="X"
        )
    )
    assert len(marks(forest, "rect", "estimate")) == 2 and "n/a" in shown(forest)
    features = [(f"E{i}", f"Area {i}", square(i * 0.3, 52)) for i in range(6)]
    areas = parse(maps.choropleth(features, {}, title="T", value_label="V"))
    assert len(marks(areas, "path", "area")) == 6


def test_labels_are_escaped_and_long_ones_cut_with_the_full_text_as_tooltip() -> None:
    long = "Violence with injury involving a knife or sharp instrument in a public place " + NASTY
    root = parse(charts.bar_chart([(long, 3), (NASTY, 2)], title=NASTY, x_label=NASTY))
    visible = shown(root)
    assert NASTY in visible and root.get("aria-label") == NASTY
    cut = next(t for t in root.iter(f"{NS}text") if t.find(f"{NS}title") is not None)
    assert cut.find(f"{NS}title").text == long  # type: ignore[union-attr]
    assert (cut.find(f"{NS}title").tail or "").endswith("\u2026")  # type: ignore[union-attr]


def test_line_chart_puts_higher_values_higher_and_leaves_gaps_for_none() -> None:
    series = {
        "A": [("2024-01", 10), ("2024-02", 20), ("2024-03", None), ("2024-04", 20), ("2024-05", 5)]
    }
    root = parse(charts.line_chart(series, title="T", y_label="Y"))
    (line,) = marks(root, "path", "series")
    d = line.get("d", "")
    assert d.count("M") == 2, "a None splits the line"
    (jan, feb), (apr, may) = (points(run) for run in d.split("M")[1:])
    assert feb[1] < jan[1] and may[1] > apr[1]
    assert feb[1] == pytest.approx(apr[1]) and jan[0] < feb[0] < apr[0] < may[0]


def test_line_chart_thins_month_labels_and_shows_a_legend_only_for_several_entries() -> None:
    months = [f"{y}-{m:02d}" for y in range(2019, 2024) for m in range(1, 13)]
    root = parse(charts.line_chart({"A": [(m, 1) for m in months]}, title="T", y_label="Y"))
    labels = [t for t in shown(root) if re.fullmatch(r"[A-Z][a-z]{2} \d{2}", t)]
    assert 2 <= len(labels) <= 12 and labels[0] == "Jan 19"
    assert "A" not in shown(root)
    both = parse(
        charts.line_chart({"A": [("2024-01", 1)], "B": [("2024-01", 2)]}, title="T", y_label="Y")
    )
    assert {"A", "B"} <= set(shown(both))


def test_line_chart_draws_bands_and_flagged_months_listed_in_the_legend() -> None:
    root = parse(SAMPLES["line"]())
    assert len(marks(root, "path", "band")) == 1
    assert len(marks(root, "path", "marker")) == 2
    assert {"All: Interval", "All: Flagged month", NASTY} <= set(shown(root))


def test_single_point_and_all_zeros_still_draw() -> None:
    one = parse(charts.line_chart({"A": [("2024-01", 3.2)]}, title="T", y_label="Y"))
    assert one.find(f".//{NS}circle") is not None and "Jan 24" in shown(one)
    zeros = parse(charts.line_chart({"A": [(m, 0) for m in MONTHS]}, title="T", y_label="Y"))
    assert marks(zeros, "path", "series")
    parse(charts.bar_chart([("A", 0), ("B", 0)], title="T", x_label="X"))
    parse(charts.heatmap(["a"], ["b"], [[0]], title="T", x_label="X", y_label="Y", value_label="V"))


def test_forest_plot_is_on_a_log_scale_around_the_reference() -> None:
    root = parse(
        charts.forest_plot(
            [("half", 0.5, 0.4, 0.6), ("double", 2, 1.8, 2.2)], title="T", x_label="Rate ratio"
        )
    )
    (ref,) = marks(root, "line", "reference")
    half, double = (float(r.get("x", 0)) + 5 for r in marks(root, "rect", "estimate"))
    assert float(ref.get("x1", 0)) - half == pytest.approx(
        double - float(ref.get("x1", 0)), abs=0.2
    )


def test_choropleth_classes_follow_the_values() -> None:
    features = [(f"E{i}", f"Area {i}", square(i * 0.3, 52)) for i in range(11)]
    values: dict[str, float | None] = {f"E{i}": float(i + 1) for i in range(10)} | {"E10": None}
    root = parse(maps.choropleth(features, values, title="T", value_label="V", classes=5))
    fills = {
        re.search(r"\((E\d+)\)", "".join(p.itertext()))[1]: p.get("fill")  # type: ignore[index]
        for p in marks(root, "path", "area")
    }
    palette = ramp_classes(SEQUENTIAL, 5)
    assert fills["E9"] == palette[-1] and fills["E0"] == palette[0]
    assert fills["E10"].startswith("url(#")  # type: ignore[union-attr]
    assert Counter(fills.values()) == Counter({c: 2 for c in palette} | {fills["E10"]: 1})
    assert "No data (1)" in shown(root)


def test_diverging_map_with_given_breaks() -> None:
    features = [(f"E{i}", f"Area {i}", square(i * 0.3, 52)) for i in range(3)]
    values = {"E0": -3.0, "E1": 0.2, "E2": 3.0}
    root = parse(
        maps.choropleth(
            features,
            values,
            title="T",
            value_label="z-score",
            scheme="diverging",
            breaks=[-2.58, -1.96, 1.96, 2.58],
        )
    )
    fills = [p.get("fill") for p in marks(root, "path", "area")]
    assert fills == [DIVERGING[0], DIVERGING[4], DIVERGING[-1]]


def test_map_keeps_its_aspect_ratio() -> None:
    """A degree of longitude at 52 degrees north is cos 52 of a degree of latitude on the ground,
    so a square in lon/lat draws cos 52 = 0.62 times as wide as it is tall."""
    root = parse(
        maps.choropleth([("E1", "A", square(0, 52))], {"E1": 1}, title="T", value_label="V")
    )
    (area,) = marks(root, "path", "area")
    xs, ys = zip(*points(area.get("d", "")), strict=True)
    ratio = (max(xs) - min(xs)) / (max(ys) - min(ys))
    assert ratio == pytest.approx(math.cos(math.radians(52)), rel=0.01)


def test_map_outlines_and_highlights() -> None:
    root = parse(SAMPLES["map"]())
    assert len(marks(root, "path", "outline")) == 1
    (hot,) = marks(root, "path", "highlight")
    assert hot.find(f"{NS}title").text == f"{NASTY} (E1): Hotspot"  # type: ignore[union-attr]
    assert any(t.startswith("Hotspot (1)") for t in shown(root))


def test_number_formats() -> None:
    assert format_number(1234567) == "1,234,567"
    assert format_number(-0.001) == "0.00"
    assert charts.month_label("2024-12") == "Dec 24"


def test_lorenz_curve_reports_the_share_held_by_the_top_areas() -> None:
    even = parse(charts.lorenz_curve([(i / 10, i / 10) for i in range(11)], title="T", gini=0))
    text = " ".join(shown(even))
    assert "The 10% of areas with the most violence hold 10% of it." in text
    assert "Gini coefficient 0.00" in text


@pytest.mark.shared
@pytest.mark.skipif(not LSOA.is_file(), reason=f"the LSOA boundaries {LSOA} are absent")
def test_real_lsoa_map_stays_small() -> None:
    lsoas = maps.read_features(json.loads(LSOA.read_text()), "lsoa21_code", "lsoa21_name")
    councils = [f["geometry"] for f in json.loads(LTLA.read_text())["features"]]
    values = {code: (i % 37) / 3 for i, (code, _, _) in enumerate(lsoas)}
    svg = maps.choropleth(
        lsoas,
        values,
        title="Rate",
        value_label="Per 1,000",
        outline=councils,
        highlight={lsoas[0][0]: "Hotspot"},
    )
    root = parse(svg)
    assert len(marks(root, "path", "area")) == len(lsoas) == 516
    assert len(svg.encode()) < 300_000
