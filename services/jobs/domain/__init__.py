"""Jobs use cases: create, read and cancel jobs, the classic flow, credits, scheduling, events."""

from services.jobs.domain.cancel import cancel_job
from services.jobs.domain.classic import (
    approve_job,
    attach_upload,
    confirm_job,
    confirm_jobs,
    delete_job,
    probe_job,
)
from services.jobs.domain.create import create_job, create_jobs
from services.jobs.domain.credits_api import account_balance, adjust, get_balance, grant_credits
from services.jobs.domain.deps import Deps, Policy, SourceInfo
from services.jobs.domain.dispatch import schedule, sweep
from services.jobs.domain.events import (
    Output,
    apply_failed,
    apply_progress,
    apply_started,
    apply_succeeded,
    record_log,
)
from services.jobs.domain.idempotency import Idem
from services.jobs.domain.queries import Filters, get_job, get_logs, list_jobs
from services.jobs.domain.requests import NewJob, new_job

__all__ = [
    "Deps",
    "Filters",
    "Idem",
    "NewJob",
    "Output",
    "Policy",
    "SourceInfo",
    "account_balance",
    "adjust",
    "apply_failed",
    "apply_progress",
    "apply_started",
    "apply_succeeded",
    "approve_job",
    "attach_upload",
    "cancel_job",
    "confirm_job",
    "confirm_jobs",
    "create_job",
    "create_jobs",
    "delete_job",
    "get_balance",
    "get_job",
    "get_logs",
    "grant_credits",
    "list_jobs",
    "new_job",
    "probe_job",
    "record_log",
    "schedule",
    "sweep",
]
