"""The commissioners' commands: the interventions register and funding rounds.

They register themselves on :data:`svduty.cli.app` (``cli.py`` imports this module at its end).
"""

from __future__ import annotations

import typer

from svduty.cli import app

interventions_app = typer.Typer(
    help="The interventions register: import it from a spreadsheet, list it, see its evidence."
)
funding_app = typer.Typer(
    help="Funding rounds: proposals, a recommended allocation by need and evidence, overrides."
)
app.add_typer(interventions_app, name="interventions")
app.add_typer(funding_app, name="funding")
