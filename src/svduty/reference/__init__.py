"""Reference data: boundaries, geography lookups, population and deprivation, as ONS/MHCLG publish them."""

from svduty.reference.loader import REFERENCE_FILES, load_reference

__all__ = ["REFERENCE_FILES", "load_reference"]
