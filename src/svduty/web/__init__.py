"""The partnership's web platform: ``svduty serve`` (FastAPI, server-rendered pages, a REST API)."""
