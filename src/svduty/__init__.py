"""svduty: Serious Violence Duty partnership data platform."""

__version__ = "0.1.0"
