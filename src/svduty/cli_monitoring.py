"""``svduty monitoring report``: the quarterly monitoring report for the Police and Crime
Commissioner (HTML and PDF) from the interventions register and the providers' returns.

It registers itself on :data:`svduty.cli.app` (``cli.py`` imports this module at its end).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from svduty.cli import _connect, _print_json, app, err, out, state

monitoring_app = typer.Typer(
    help="Quarterly monitoring of the funded projects: spend, reach, evidence and outcomes."
)
app.add_typer(monitoring_app, name="monitoring")


def _warehouse_figures(references: list[str]) -> tuple[dict[str, str], dict[str, Any] | None]:
    """The partnership's area names and each project's evaluations; neither when the warehouse
    has not been built."""
    from svduty.cli_platform import _store
    from svduty.commissioning.evaluation import summaries
    from svduty.commissioning.register import partnership_areas

    if state.settings.engine != "spark" and not state.settings.duckdb_path.exists():
        return {}, None
    con = _connect()
    try:
        areas = partnership_areas(con)
        evaluations = None
        if references:
            with _store(ensure=False) as store, err.status("Evaluating each project..."):
                evaluations = summaries(con, store, references)
        return areas, evaluations
    finally:
        con.disconnect()


@monitoring_app.command("report")
def monitoring_report(
    quarter: Annotated[
        str | None,
        typer.Option(
            "--quarter", help="The quarter, e.g. 2025-Q3 (default: the latest with a return)."
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the report (default: <data>/reports)."),
    ] = None,
    no_pdf: Annotated[bool, typer.Option("--no-pdf", help="Write the HTML only.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the figures as JSON; write no file.")
    ] = False,
) -> None:
    """Write monitoring-<quarter>.html and .pdf: spend and reach by project, area and year."""
    from svduty.cli_platform import _store
    from svduty.commissioning.monitoring import monitoring_figures, write_monitoring
    from svduty.commissioning.register import list_interventions, parse_quarter

    if quarter is not None:
        try:
            quarter = parse_quarter(quarter)
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--quarter") from e
    with _store(ensure=False) as store:
        references = [v.id for v in list_interventions(store)]
    areas, evaluations = _warehouse_figures(references)
    with _store(ensure=False) as store:
        figures = monitoring_figures(store, quarter, areas=areas, evaluations=evaluations)
    if as_json:
        _print_json(figures)
        return
    written = write_monitoring(figures, out_dir or state.settings.data_dir / "reports", not no_pdf)
    for kind, path in written.items():
        out.print(f"{kind.upper()}: {path}")
    if figures["behind"]:
        out.print(f"Behind on spend: {', '.join(figures['behind'])}")
