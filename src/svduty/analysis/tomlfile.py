"""svduty's editable files (the definition, the school calendar, the harm weights, the evidence of
what works): TOML, read from a partnership's own path or from svduty's default, with one error
shape."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from svduty.errors import ConfigError


def read_toml(
    path: Path | None, default: str, what: str, package: str = "svduty.analysis"
) -> tuple[dict[str, Any], str]:
    """The parsed file and a name for it in messages: ``path``, or the packaged ``default``
    (a path under the ``package``'s folder) when ``path`` is ``None``.

    Raises:
        ConfigError: the file cannot be read, is not UTF-8 text or is not valid TOML; the
            message names the file.

    Examples:
        >>> data, source = read_toml(None, "definitions/home-office-default.toml", "definition")
        >>> data["version"]
        'svduty-default-2026.1'
        >>> source
        'svduty default definition (definitions/home-office-default.toml)'

    """
    if path is None:
        text = resources.files(package).joinpath(default).read_text("utf-8")
        source = f"svduty default {what} ({default})"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the {what} ({e.strerror})") from e
        except UnicodeDecodeError as e:
            raise ConfigError(f"{path}: the {what} file is not UTF-8 text") from e
        source = str(path)
    try:
        return tomllib.loads(text), source
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML ({e})") from e
