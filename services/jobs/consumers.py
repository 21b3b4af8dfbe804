"""jobs-state: the consumer of the workers' events (encode.running/progress/succeeded/failed/log)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC

from google.protobuf import json_format
from google.protobuf.message import Message

from protos.common.v1 import errors_pb2
from protos.encoder.v1 import events_pb2 as encoder_events
from services.common import subjects
from services.common.events import ConsumerSpec, Delivery
from services.jobs import domain, protomap

_TYPES: dict[str, type[Message]] = {
    subjects.ENCODE_RUNNING: encoder_events.EncodeStarted,
    subjects.ENCODE_PROGRESS: encoder_events.EncodeProgressed,
    subjects.ENCODE_SUCCEEDED: encoder_events.EncodeSucceeded,
    subjects.ENCODE_FAILED: encoder_events.EncodeFailed,
    subjects.ENCODE_LOG: encoder_events.EncodeLogged,
}


def decode(subject: str, data: bytes) -> Message:
    """The event proto for a subject, old names included (KeyError for a subject jobs does not consume)."""
    message = _TYPES[subjects.LEGACY_ENCODER_EVENTS.get(subject, subject)]()
    message.ParseFromString(data)
    return message


async def handle_encoder_event(deps: domain.Deps, event: Message, _delivery: Delivery) -> None:
    """Applies one encoder event through the state machine."""
    if isinstance(event, encoder_events.EncodeStarted):
        await domain.apply_started(
            deps, job_id=uuid.UUID(event.job_id), attempt=event.attempt, at=event.at.ToDatetime(tzinfo=UTC)
        )
    elif isinstance(event, encoder_events.EncodeProgressed):
        await domain.apply_progress(
            deps, job_id=uuid.UUID(event.job_id), attempt=event.attempt, progress=event.progress
        )
    elif isinstance(event, encoder_events.EncodeSucceeded):
        await domain.apply_succeeded(
            deps,
            job_id=uuid.UUID(event.job_id),
            attempt=event.attempt,
            output=domain.Output(
                event.output.key,
                event.output.size_bytes,
                event.output.content_type,
                thumbnails=tuple(
                    json_format.MessageToDict(t, preserving_proto_field_name=True) for t in event.thumbnails
                ),
                passes=event.passes or 1,
                warnings=tuple(event.warnings),
            ),
            source_probe=protomap.probe_to_dict(event.source_probe),
            output_probe=protomap.probe_to_dict(event.output_probe),
            encoder=event.encoder,
            at=event.at.ToDatetime(tzinfo=UTC),
        )
    elif isinstance(event, encoder_events.EncodeFailed):
        await domain.apply_failed(
            deps,
            job_id=uuid.UUID(event.job_id),
            attempt=event.attempt,
            reason=errors_pb2.ErrorReason.Name(event.reason),
            message=event.message,
            at=event.at.ToDatetime(tzinfo=UTC),
        )
    elif isinstance(event, encoder_events.EncodeLogged):
        await domain.record_log(
            deps,
            job_id=uuid.UUID(event.job_id),
            attempt=event.attempt,
            level=event.level,
            message=event.message,
            details=json.loads(event.details_json) if event.details_json else None,
            at=event.at.ToDatetime(tzinfo=UTC),
        )


def consumer(deps: domain.Deps) -> ConsumerSpec[Message]:
    """The durable `jobs-state` consumer on EVENTS."""

    async def handler(event: Message, delivery: Delivery) -> None:
        await handle_encoder_event(deps, event, delivery)

    return ConsumerSpec(
        stream=subjects.EVENTS_STREAM,
        durable="jobs-state",
        subjects=(*subjects.ENCODER_EVENTS, *subjects.LEGACY_ENCODER_EVENTS),
        decode=decode,
        handler=handler,
        ack_wait=30.0,
        max_deliver=10,
        batch=32,
    )
