"""Encoder workers: take task.encode from JetStream, transcode with PyAV, report events."""
