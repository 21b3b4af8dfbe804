"""NATS streams and subjects: the messaging half of the contracts (payloads are in protos/)."""

from __future__ import annotations

TASKS_STREAM = "TASKS"  # work queue: each task is taken by exactly one worker
EVENTS_STREAM = "EVENTS"  # limits retention: job events any number of consumers read

TASK_ENCODE = "task.encode"  # jobs.v1.EncodeRequested

# Subjects say who speaks: `encode.*` the workers (what they did), `job.*` jobs alone (what the job is now).
ENCODE_RUNNING = "encode.running"  # encoder.v1.EncodeStarted
ENCODE_PROGRESS = "encode.progress"  # encoder.v1.EncodeProgressed
ENCODE_SUCCEEDED = "encode.succeeded"  # encoder.v1.EncodeSucceeded
ENCODE_FAILED = "encode.failed"  # encoder.v1.EncodeFailed
ENCODE_LOG = "encode.log"  # encoder.v1.EncodeLogged
JOB_STATE_CHANGED = "job.state_changed"  # jobs.v1.JobStateChanged: the only job.* subject

ENCODER_EVENTS = (ENCODE_RUNNING, ENCODE_PROGRESS, ENCODE_SUCCEEDED, ENCODE_FAILED, ENCODE_LOG)
# The workers' subjects of releases before 0.2, still consumed so that events in flight at an upgrade are applied.
LEGACY_ENCODER_EVENTS = {
    "job.running": ENCODE_RUNNING,
    "job.progress": ENCODE_PROGRESS,
    "job.succeeded": ENCODE_SUCCEEDED,
    "job.failed": ENCODE_FAILED,
    "job.log": ENCODE_LOG,
}

CANCEL_JOB = "cancel.job"  # core NATS: jobs.v1.CancelRequested
CANCELED_BUCKET = "CANCELED"  # JetStream key-value: job id -> canceled

KEY_REVOKED = "auth.key_revoked"  # core NATS: auth.v1.KeyRevoked
SESSION_REVOKED = "auth.session_revoked"  # core NATS: auth.v1.SessionRevoked
# core NATS: jobs.v1.Job, the whole record after each committed change (feeds the gateway's read model)
JOB_VIEW = "view.job"
