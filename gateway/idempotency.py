"""The Idempotency-Key header: what the jobs service needs to replay a create."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from protos.jobs.v1 import jobs_pb2
from services.common.errors import FieldViolation, InvalidArgument, R

HEADER = "Idempotency-Key"


def idempotency_of(request: web.Request, route: str, body: Any) -> jobs_pb2.Idempotency | None:
    """The key and a hash of the canonical body (the SDK re-serializes, so bytes may differ)."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return None
    if len(key) > 255:
        raise InvalidArgument(
            "Idempotency-Key must be at most 255 characters.",
            reason=R.REQUEST_INVALID,
            violations=[FieldViolation(HEADER, "must be at most 255 characters")],
        )
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(f"{route}\n{canonical}".encode()).hexdigest()
    return jobs_pb2.Idempotency(key=key, route=route, request_hash=digest)
