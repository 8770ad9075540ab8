"""The errors svduty raises.

Every error derives from :class:`SvdutyError`. Messages say what was expected, what was found, where
(file, row, column, rule) and how to fix it; they never carry a record's values.
"""

from __future__ import annotations


class SvdutyError(Exception):
    """Root of every error svduty raises on purpose."""


class ConfigError(ValueError, SvdutyError):
    """A setting is missing or wrong."""


class ReferenceDataError(ValueError, SvdutyError):
    """A reference file is missing or not laid out as ONS/MHCLG publish it."""


class FileRefused(ValueError, SvdutyError):
    """A whole input file was refused (wrong header, not CSV, unsafe archive member...).

    Attributes:
        source: the file (or ``archive!member``) that was refused.
        rule: the short name of the rule it broke.
    """

    def __init__(self, source: str, rule: str, message: str) -> None:
        super().__init__(f"{source}: {message} [rule: {rule}]")
        self.source = source
        self.rule = rule
        self.message = message


class WarehouseError(RuntimeError, SvdutyError):
    """The warehouse could not be opened or written."""
