"""Reference data: boundaries, lookups, population and deprivation, as ONS and MHCLG publish."""

from svduty.reference.loader import REFERENCE_FILES, load_reference

__all__ = ["REFERENCE_FILES", "load_reference"]
