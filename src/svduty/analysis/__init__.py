"""Analyses for the Strategic Needs Assessment: Ibis expressions over the warehouse, so each runs
unchanged on DuckDB and Spark; statistics in Python on the aggregates they return."""
