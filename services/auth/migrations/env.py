"""Alembic environment of the auth service's tables: run by services.common.migrations, never by `alembic`."""

from services.auth.models import AuthTable
from services.common.migrations import run_environment

run_environment(AuthTable.metadata)
