"""``python -m svduty`` runs the CLI."""

from svduty.cli import run

run()
