"""Alembic migrations of the auth service's tables (run at start by services.common.db.open_database)."""
