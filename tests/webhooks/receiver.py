"""A webhook receiver as customers write one: an aiohttp app that checks every signature with its own code."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


def verify_encode(secret: str, body: bytes, signature: str) -> bool:
    """The Encode API's receiver example: hex HMAC-SHA256 of the raw body, compared in constant time."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def verify_media(secret: str, body: bytes, signature: str) -> bool:
    """The Media API's example, verbatim in spirit: `sha256=` + hex digest."""
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", signature)


def verify_standard(secret: str, headers: Any, body: bytes, *, tolerance: float = 300.0) -> bool:
    """Standard Webhooks: v1 HMAC over `id.timestamp.body`, the whsec_ key base64-decoded, a fresh timestamp."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False  # a replay of an old delivery
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    return any(
        hmac.compare_digest(expected, sig.split(",", 1)[1])
        for sig in headers["webhook-signature"].split(" ")
        if sig.startswith("v1,")
    )


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    @property
    def event(self) -> str:
        return str(self.json["event"])


@dataclass
class Receiver:
    """Records what arrives; `answer` decides the status code of each request (200 by default)."""

    secrets: dict[str, str] = field(default_factory=dict)  # webhook id -> secret
    received: list[Received] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)  # answered 2xx
    bad_signatures: int = 0
    answer: Callable[[Received], int] = lambda _r: 200
    gate: asyncio.Event | None = None  # when set to an unset Event, requests wait for it
    server: TestServer | None = None
    port: int = 0

    def app(self) -> web.Application:
        async def hook(request: web.Request) -> web.Response:
            got = Received(dict(request.headers), await request.read())
            self.received.append(got)
            if self.gate is not None:
                await self.gate.wait()
            if not self.verified(got):
                self.bad_signatures += 1
                return web.Response(status=401, text="bad signature")
            status = self.answer(got)
            if 200 <= status < 300:
                self.accepted.append(got)
            return web.Response(status=status, text="ok" if status < 300 else "nope")

        app = web.Application()
        app.router.add_post("/hook", hook)
        return app

    def verified(self, got: Received) -> bool:
        secret = self.secrets.get(got.headers.get("X-Webhook-Id", ""), "")
        if not secret or not verify_standard(secret, got.headers, got.body):
            return False
        if "X-T2M-Signature" in got.headers:
            return verify_media(secret, got.body, got.headers["X-T2M-Signature"])
        return verify_encode(secret, got.body, got.headers.get("X-Webhook-Signature", ""))

    async def start(self) -> None:
        self.server = TestServer(self.app(), host="127.0.0.1", port=self.port or None)
        await self.server.start_server()
        self.port = self.server.port or 0

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def events_of(self, job_id: str) -> list[str]:
        return [r.event for r in self.accepted if r.json["data"].get("jobId", r.json["data"].get("job_id")) == job_id]
