"""Alembic migrations of the webhooks service's tables (run at start by services.common.db.open_database)."""
