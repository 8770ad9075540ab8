"""The CLI reference (docs/cli.md), generated from the commands' own help.

``python -m svduty.cli_reference > docs/cli.md`` rewrites it; a test fails when it drifts.
"""

from __future__ import annotations

from typing import Any

import typer

from svduty.cli import app


def _walk(cmd: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    out = [(path, cmd)]
    if hasattr(cmd, "commands"):
        for name in sorted(cmd.commands):
            out.extend(_walk(cmd.commands[name], [*path, name]))
    return out


def _param(p: Any) -> str:
    if p.param_type_name == "argument":
        name = p.name.upper()
        many = "..." if p.nargs == -1 else ""
        help_text = getattr(p, "help", "") or ""
        return f"- `{name}{many}` (argument): {help_text}".rstrip()
    flags = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
    default = ""
    if not p.is_flag and p.default not in (None, "", ()) and p.show_default is not False:
        default = f" (default: `{p.default}`)"
    return f"- {flags}: {p.help or ''}{default}".rstrip()


def render() -> str:
    """The whole reference as Markdown."""
    root = typer.main.get_command(app)
    lines = [
        "# CLI reference",
        "",
        "Generated from the commands' help by `python -m svduty.cli_reference > docs/cli.md`;",
        "a test fails when this page and the code drift apart. Run any command with `--help`.",
        "",
    ]
    for path, cmd in _walk(root, ["svduty"]):
        if cmd.hidden:
            continue
        lines += [f"## `{' '.join(path)}`", ""]
        if cmd.help:
            lines += [cmd.help.strip(), ""]
        params = [p for p in cmd.params if p.name != "help"]
        if params:
            lines += [_param(p) for p in params] + [""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
