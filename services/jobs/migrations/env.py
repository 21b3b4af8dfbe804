"""Alembic environment of the jobs service's tables: run by services.common.migrations, never by `alembic`."""

from services.common.migrations import run_environment
from services.jobs.models import JobsTable

run_environment(JobsTable.metadata)
