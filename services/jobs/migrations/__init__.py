"""Alembic migrations of the jobs service's tables (run at start by services.common.db.open_database)."""
