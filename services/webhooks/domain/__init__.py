"""Webhooks use cases: subscriptions, the intake of job events, the event feed."""

from services.webhooks.domain.deps import DEFAULT_SCHEDULE, Deps, Policy
from services.webhooks.domain.feed import list_events
from services.webhooks.domain.intake import record_job_event, record_job_events
from services.webhooks.domain.subscriptions import (
    check_target,
    create_webhook,
    delete_webhook,
    list_attempts,
    list_webhooks,
    redeliver,
    send_test_event,
    update_webhook,
)

__all__ = [
    "DEFAULT_SCHEDULE",
    "Deps",
    "Policy",
    "check_target",
    "create_webhook",
    "delete_webhook",
    "list_attempts",
    "list_events",
    "list_webhooks",
    "record_job_event",
    "record_job_events",
    "redeliver",
    "send_test_event",
    "update_webhook",
]
