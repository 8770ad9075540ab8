"""The evaluation commands: did an intervention reduce the violence it targeted?

They register themselves on :data:`svduty.cli.app` (``cli.py`` imports this module at its end).
"""

from __future__ import annotations

import typer

from svduty.cli import app

evaluate_app = typer.Typer(
    help="Evaluate an intervention: its area against comparison areas, its participants "
    "against a matched comparison group."
)
app.add_typer(evaluate_app, name="evaluate")
