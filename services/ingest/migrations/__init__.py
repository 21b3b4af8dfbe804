"""Alembic migrations of the ingest service's tables (run at start by services.common.db.open_database)."""
