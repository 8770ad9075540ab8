"""Ingestion: find files, validate them against their contract, quarantine, load with provenance."""
