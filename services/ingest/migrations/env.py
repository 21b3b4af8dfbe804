"""Alembic environment of the ingest service's tables: run by services.common.migrations, never by `alembic`."""

from services.common.migrations import run_environment
from services.ingest.models import IngestTable

run_environment(IngestTable.metadata)
