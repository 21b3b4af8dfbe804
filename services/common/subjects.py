"""NATS streams and subjects: the messaging half of the contracts (payloads are in protos/)."""

from __future__ import annotations

TASKS_STREAM = "TASKS"  # work queue: each task is taken by exactly one worker
EVENTS_STREAM = "EVENTS"  # limits retention: job events any number of consumers read

TASK_ENCODE = "task.encode"  # jobs.v1.EncodeRequested

JOB_RUNNING = "job.running"  # encoder.v1.EncodeStarted
JOB_PROGRESS = "job.progress"  # encoder.v1.EncodeProgressed
JOB_SUCCEEDED = "job.succeeded"  # encoder.v1.EncodeSucceeded
JOB_FAILED = "job.failed"  # encoder.v1.EncodeFailed
JOB_LOG = "job.log"  # encoder.v1.EncodeLogged
JOB_STATE_CHANGED = "job.state_changed"  # jobs.v1.JobStateChanged

ENCODER_EVENTS = (JOB_RUNNING, JOB_PROGRESS, JOB_SUCCEEDED, JOB_FAILED, JOB_LOG)

CANCEL_JOB = "cancel.job"  # core NATS: jobs.v1.CancelRequested
CANCELED_BUCKET = "CANCELED"  # JetStream key-value: job id -> canceled

KEY_REVOKED = "auth.key_revoked"  # core NATS: auth.v1.KeyRevoked
SESSION_REVOKED = "auth.session_revoked"  # core NATS: auth.v1.SessionRevoked
# core NATS: jobs.v1.Job, the whole record after each committed change (feeds the gateway's read model)
JOB_VIEW = "view.job"
