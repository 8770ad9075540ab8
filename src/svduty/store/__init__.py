"""The operational store (users, organisations, agreements, uploads, the audit trail).

SQLAlchemy over SQLite in the data folder by default, or PostgreSQL when
``SVDUTY_DATABASE_URL`` names one; Alembic migrations keep the schema.
"""

from svduty.store.db import Store, database_url, open_store

__all__ = ["Store", "database_url", "open_store"]
