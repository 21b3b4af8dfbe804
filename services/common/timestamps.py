"""datetime <-> google.protobuf.Timestamp, the one conversion every servicer needs."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(value: datetime | None) -> Timestamp | None:
    """The instant as a Timestamp; None stays None (the field is left unset)."""
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts
