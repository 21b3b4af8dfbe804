"""No step can wedge a worker: each one wedged on purpose, on real servers, ends its job and frees the worker.

One worker, one task at a time, small deadlines. Every test submits the wedged job and then an ordinary one
behind it; the wedged job ends (redelivered until max_deliver, then failed with a stable code and a message a
person reads) and the one behind it runs. The wedges: a source that stops sending mid-body, an encode child
killed without a word or frozen, a customer S3 bucket and a Drive folder that never answer an upload, and a
NATS that never acknowledges the worker's `encode.succeeded`.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from opentelemetry.sdk.trace import TracerProvider

from services.encoder.__main__ import run as run_encoder
from services.encoder.config import Settings as EncoderSettings
from tests.conftest import start_platform
from tests.e2e.helpers import follow, submit
from tests.e2e.test_crash import LONG_ENCODE, wait_for_progress
from tests.fakes.drive import DriveFake
from tests.harness import NatsServer, Platform, ServiceTask, nats_binary, wait_tcp

# Small deadlines so that a wedge ends within the test; the encode's own stays roomy (a loaded machine).
QUICK: dict[str, Any] = {"task_max_deliver": 2, "encoder_concurrency": 1, "download_deadline": 1.0}


@pytest.fixture
async def idle(tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider) -> AsyncIterator[Platform]:
    """The platform without an encoder: each test adds one with its deadlines."""
    started = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with started.stack:
        yield started


async def job(http: aiohttp.ClientSession, platform: Platform, body: dict[str, Any]) -> str:
    created = await submit(http, platform.base_url, platform.admin_key, body)
    job_id: str = created["jobId"]
    return job_id


async def outcome(http: aiohttp.ClientSession, platform: Platform, job_id: str) -> dict[str, Any]:
    final, _ = await follow(http, platform.base_url, platform.admin_key, job_id, timeout=60, every=0.2)
    return final


def leftovers(platform: Platform) -> list[Path]:
    """Scratch of the worker (downloads, work dirs) and half-written blobs."""
    places = [platform.data_dir / "scratch", platform.data_dir / "blobs" / ".partial"]
    return sorted(p for place in places if place.exists() for p in place.iterdir())


def encode_children() -> list[multiprocessing.process.BaseProcess]:
    """The encode children of the in-process worker."""
    return [p for p in multiprocessing.active_children() if p.name == "vidkiln-encode"]


class Held:
    """Handlers that hang until the test ends (released at teardown, so the servers close at once)."""

    def __init__(self) -> None:
        self.released = asyncio.Event()
        self.calls: list[str] = []

    async def hang(self, what: str) -> None:
        self.calls.append(what)
        await self.released.wait()


@pytest.fixture
async def held() -> AsyncIterator[Held]:
    holder = Held()
    yield holder
    holder.released.set()


@pytest.fixture
async def stalling_source(clips: dict[str, Path], held: Held) -> AsyncIterator[str]:
    """A source whose server answers HEAD and Range requests, and to a plain GET sends half of the body and then
    nothing more."""
    body = clips["silent"].read_bytes()

    async def clip(request: web.Request) -> web.StreamResponse:
        if request.method == "HEAD":  # the checks at submit (HEAD, then ranged reads to probe it)
            return web.Response(body=body, content_type="video/mp4")
        if request.http_range.start is not None:
            part = body[request.http_range]
            first, last = request.http_range.start, request.http_range.start + len(part) - 1
            ranged = {"Content-Range": f"bytes {first}-{last}/{len(body)}"}
            return web.Response(status=206, body=part, content_type="video/mp4", headers=ranged)
        response = web.StreamResponse(headers={"Content-Type": "video/mp4", "Content-Length": str(len(body))})
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        await held.hang("GET")
        return response

    app = web.Application()
    app.router.add_get("/clip.mp4", clip)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/clip.mp4"))
    held.released.set()
    await server.close()


async def test_a_source_that_stops_sending_mid_body_is_given_up_on(
    idle: Platform, stalling_source: str, source_server: str, held: Held
) -> None:
    await idle.add("encoder", run_encoder, EncoderSettings, **QUICK)
    async with aiohttp.ClientSession() as http:
        wedged = await job(http, idle, {"sourceUrl": stalling_source})
        behind = await job(http, idle, {"sourceUrl": f"{source_server}/media/silent.mp4"})
        stalled, ok = await outcome(http, idle, wedged), await outcome(http, idle, behind)
    assert (stalled["status"], stalled["failureCode"]) == ("failed", "source_unreachable"), stalled
    assert stalled["failureMessage"] == "The source sent nothing for 1 second. Gave up after 2 attempts."
    assert held.calls == ["GET", "GET"]  # one download per attempt, each ended
    assert ok["status"] == "success", ok
    assert leftovers(idle) == []


async def test_an_encode_child_killed_without_a_word_is_retried(idle: Platform, source_server: str) -> None:
    await idle.add("encoder", run_encoder, EncoderSettings, **QUICK)
    async with aiohttp.ClientSession() as http:
        killed = await job(http, idle, {"sourceUrl": f"{source_server}/long/long.mp4", **LONG_ENCODE})
        behind = await job(http, idle, {"sourceUrl": f"{source_server}/media/silent.mp4"})
        await wait_for_progress(http, idle, killed)
        [child] = encode_children()
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        again, ok = await outcome(http, idle, killed), await outcome(http, idle, behind)
    assert again["status"] == "success", again  # the second attempt encoded it
    assert ok["status"] == "success", ok
    assert leftovers(idle) == []


async def test_a_frozen_encode_child_is_ended_by_the_watchdog(idle: Platform, source_server: str) -> None:
    await idle.add("encoder", run_encoder, EncoderSettings, **QUICK, encode_watchdog=3.0)
    async with aiohttp.ClientSession() as http:
        frozen = await job(http, idle, {"sourceUrl": f"{source_server}/long/long.mp4", **LONG_ENCODE})
        behind = await job(http, idle, {"sourceUrl": f"{source_server}/media/silent.mp4"})
        await wait_for_progress(http, idle, frozen)
        [child] = encode_children()
        assert child.pid is not None
        os.kill(child.pid, signal.SIGSTOP)  # alive, silent, holding whatever it held
        ended, ok = await outcome(http, idle, frozen), await outcome(http, idle, behind)
    assert (ended["status"], ended["failureCode"]) == ("failed", "encode_timeout"), ended
    assert ended["failureMessage"] == "The encode made no progress for 3 seconds and was stopped."
    assert ok["status"] == "success", ok
    assert encode_children() == []  # the frozen child was killed, not left behind
    assert leftovers(idle) == []


@pytest.fixture
async def silent_bucket(held: Held) -> AsyncIterator[str]:
    """An S3 endpoint that takes the submit-time check (HeadBucket) and never answers an upload."""

    async def head_bucket(_request: web.Request) -> web.Response:
        return web.Response()

    async def put_object(_request: web.Request) -> web.Response:
        await held.hang("PUT")
        return web.Response()

    app = web.Application()
    app.router.add_route("HEAD", "/{bucket}", head_bucket)
    app.router.add_put("/{bucket}/{key:.+}", put_object)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    held.released.set()
    await server.close()


async def test_a_customer_bucket_that_never_answers_fails_the_delivery(
    idle: Platform, silent_bucket: str, source_server: str, held: Held
) -> None:
    await idle.add("encoder", run_encoder, EncoderSettings, **QUICK, deliver_deadline=1.0)
    s3 = {
        "bucket": "out",
        "region": "us-east-1",
        "endpoint": silent_bucket,
        "accessKeyId": "AKIAEXAMPLE",
        "secretAccessKey": "not-a-real-secret",
        "forcePathStyle": True,
        "key": "encoded/clip.mp4",
    }
    async with aiohttp.ClientSession() as http:
        wedged = await job(http, idle, {"sourceUrl": f"{source_server}/media/silent.mp4", "outputS3": s3})
        behind = await job(http, idle, {"sourceUrl": f"{source_server}/media/silent.mp4"})
        stuck, ok = await outcome(http, idle, wedged), await outcome(http, idle, behind)
    assert (stuck["status"], stuck["failureCode"]) == ("failed", "output_write_failed"), stuck
    assert stuck["failureMessage"] == (
        "Delivering the output to customer storage made no progress for 1 second. Gave up after 2 attempts."
    )
    assert held.calls[:2] == ["PUT", "PUT"]  # botocore may have retried within an attempt
    assert ok["status"] == "success", ok
    assert leftovers(idle) == []


class SilentDrive(DriveFake):
    """A Drive that checks folders as Drive does and never answers an upload's chunk."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()
        self.hung = 0

    async def _put_chunk(self, request: web.Request) -> web.Response:
        self.hung += 1
        while not self.released.is_set():
            await asyncio.sleep(0.05)
        return web.Response(status=503)


@pytest.fixture
def silent_drive(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentDrive]:
    drive = SilentDrive()
    drive.start()
    monkeypatch.setenv("VIDKILN_GOOGLE_API_ROOT", drive.root)
    monkeypatch.setenv("VIDKILN_GOOGLE_TOKEN_URI", drive.token_uri)
    yield drive
    drive.released.set()
    drive.stop()


async def test_a_drive_folder_that_never_answers_fails_the_delivery(
    tmp_path: Path, nats: NatsServer, tracer_provider: TracerProvider, silent_drive: SilentDrive, source_server: str
) -> None:
    platform = await start_platform(tmp_path, nats, None, tracer_provider, encoder=False)
    async with platform.stack:
        await platform.add("encoder", run_encoder, EncoderSettings, **QUICK, deliver_deadline=1.0)
        drive = {"folderId": silent_drive.add_folder("encoded"), "accessToken": silent_drive.add_token()}
        async with aiohttp.ClientSession() as http:
            body = {"sourceUrl": f"{source_server}/media/silent.mp4", "outputGoogleDrive": drive}
            wedged = await job(http, platform, body)
            behind = await job(http, platform, {"sourceUrl": f"{source_server}/media/silent.mp4"})
            stuck, ok = await outcome(http, platform, wedged), await outcome(http, platform, behind)
        assert (stuck["status"], stuck["failureCode"]) == ("failed", "output_write_failed"), stuck
        assert stuck["failureMessage"].startswith("Delivering the output to customer storage made no progress")
        assert silent_drive.hung >= 2
        assert ok["status"] == "success", ok
        assert leftovers(platform) == []


class GuardedNats(NatsServer):
    """A nats-server with two users: the platform's (anything) and an encoder's that may not publish
    encode.succeeded. NATS drops such a publish with a permissions error: its acknowledgement never comes."""

    PLATFORM, ENCODER = ("platform", "platform-pass"), ("encoder", "encoder-pass")

    def __init__(self, store: Path) -> None:
        super().__init__(store)
        self.url = self.url_for(*self.PLATFORM)

    def url_for(self, user: str, password: str) -> str:
        return f"nats://{user}:{password}@127.0.0.1:{self.port}"

    def start(self) -> None:
        conf = self.store.parent / "nats.conf"
        conf.write_text(
            f'listen: "127.0.0.1:{self.port}"\n'
            f'jetstream {{ store_dir: "{self.store}" }}\n'
            "authorization { users: [\n"
            f'  {{ user: "{self.PLATFORM[0]}", password: "{self.PLATFORM[1]}" }}\n'
            f'  {{ user: "{self.ENCODER[0]}", password: "{self.ENCODER[1]}",'
            ' permissions: { publish: { deny: ["encode.succeeded"] } } }\n'
            "] }\n"
        )
        self.process = subprocess.Popen(
            [nats_binary(), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_tcp(self.port)


@pytest.fixture
def guarded_nats(tmp_path: Path) -> Iterator[GuardedNats]:
    server = GuardedNats(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


async def test_an_event_nats_never_acknowledges_ends_the_task(
    tmp_path: Path, guarded_nats: GuardedNats, tracer_provider: TracerProvider, source_server: str
) -> None:
    platform = await start_platform(tmp_path, guarded_nats, None, tracer_provider, encoder=False)
    async with platform.stack:
        settings = {**platform.kwargs(), **QUICK, "publish_deadline": 1.0}
        settings["nats_url"] = guarded_nats.url_for(*GuardedNats.ENCODER)
        encoder = await ServiceTask.start("encoder", run_encoder, EncoderSettings(**settings), platform.provider)
        platform.stack.push_async_callback(encoder.stop)
        async with aiohttp.ClientSession() as http:
            first = await job(http, platform, {"sourceUrl": f"{source_server}/media/silent.mp4"})
            behind = await job(http, platform, {"sourceUrl": f"{source_server}/media/silent.mp4"})
            unacked, then = await outcome(http, platform, first), await outcome(http, platform, behind)
        assert (unacked["status"], unacked["failureCode"]) == ("failed", "unavailable"), unacked
        assert unacked["failureMessage"] == (
            "The job's events were not acknowledged within 1 second. Gave up after 2 attempts."
        )
        # The job behind it got the worker, and met the same NATS.
        assert then["status"] == "failed" and then["failureCode"] == "unavailable", then
        assert leftovers(platform) == []
