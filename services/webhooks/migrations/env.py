"""Alembic environment of the webhooks service's tables: run by services.common.migrations, never by `alembic`."""

from services.common.migrations import run_environment
from services.webhooks.models import WebhooksTable

run_environment(WebhooksTable.metadata)
