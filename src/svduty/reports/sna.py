"""The Strategic Needs Assessment report: one self-contained HTML file (inline SVG charts and
maps, no script, nothing fetched), printed to PDF, and ``figures.json`` with every figure.

:func:`write_sna` is what ``svduty sna`` runs. The public version (``public=True``) passes the
figures through :func:`svduty.reports.public.public_figures` first, so that the HTML, the PDF
and ``figures.json`` all show only what disclosure control allows.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from svduty.analysis.assessment import assess
from svduty.analysis.definition import Definition
from svduty.analysis.scope import Scope
from svduty.reports import sections
from svduty.reports.pdf import print_pdf
from svduty.reports.public import public_figures

REPORT = "report.html"
PDF = "report.pdf"
FIGURES = "figures.json"


def lsoa_features(con: Any, codes: set[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """The boundaries of the given LSOAs as ``(code, name, GeoJSON geometry)``."""
    t = con.table("ref_lsoa").select("lsoa21_code", "lsoa21_name", "geometry").to_pandas()
    t = t[t["lsoa21_code"].isin(codes)].sort_values("lsoa21_code")
    return [
        (str(c), str(n), json.loads(g))
        for c, n, g in t.itertuples(index=False)
        if isinstance(g, str) and g
    ]


def _clean(value: Any) -> Any:
    """Plain JSON: no NaN or infinity, dates as ISO text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def render_html(figures: dict[str, Any], features: list[tuple[str, str, dict[str, Any]]]) -> str:
    """The report as one HTML document."""
    env = Environment(autoescape=select_autoescape(["html", "j2"]))
    template = env.from_string(
        resources.files("svduty.reports").joinpath("templates/sna.html.j2").read_text("utf-8")
    )
    return template.render(
        f=figures,
        public=figures.get("public", False),
        summary=sections.summary(figures),
        sections=sections.build(figures, features),
        generated=figures.get("generated_at", ""),
    )


def write_sna(
    con: Any,
    definition: Definition,
    scope: Scope,
    out: Path,
    *,
    public: bool = False,
    pdf: bool = True,
    step: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Assess, then write ``report.html``, ``report.pdf`` and ``figures.json`` into ``out``.

    Returns:
        The paths written, by kind (``html``, ``pdf``, ``json``).
    """
    say = step or (lambda _: None)
    figures = _clean(assess(con, definition, scope, step=say))
    figures["generated_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if public:
        say("Disclosure control for the public version")
        figures = public_figures(figures)
    say("Drawing the charts and maps")
    features = lsoa_features(con, {p["lsoa"] for p in figures["places"]})
    html = render_html(figures, features)
    out.mkdir(parents=True, exist_ok=True)
    written = {"html": out / REPORT, "json": out / FIGURES}
    written["html"].write_text(html, encoding="utf-8")
    written["json"].write_text(json.dumps(figures, indent=1, allow_nan=False), encoding="utf-8")
    if pdf:
        say("Printing the PDF")
        written["pdf"] = print_pdf(written["html"], out / PDF)
    return written
