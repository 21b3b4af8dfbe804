"""`vidkiln up`: embedded NATS, every service and the gateway as supervised child processes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import Field

from services.auth.domain import Deps, bootstrap_admin
from services.auth.models import AuthTable
from services.cli.admin import RUNTIME_FILE
from services.cli.natsd import nats_binary, write_nats_config
from services.common.config import BaseServiceSettings, write_private
from services.common.db import open_database
from services.common.identity import TokenSigner
from services.common.lifecycle import prepare_process
from services.jobs.domain import grant_credits
from services.jobs.domain.credits import TrialPolicy
from services.jobs.models import JobsTable

logger = logging.getLogger("vidkiln.up")

SERVICES = ("auth", "ingest", "webhooks", "encoder", "jobs")
_STOP_GRACE = 7.0  # services, then NATS, all within 10 s of the signal
_READY_TIMEOUT = 60.0


class UpSettings(BaseServiceSettings):
    http_host: str = Field("127.0.0.1", description="Address the REST API listens on.")
    http_port: int = Field(8080, description="Port the REST API listens on.")
    nats_port: int | None = Field(None, description="Port of the embedded NATS server; default any free port.")
    admin_grant_neu: int = Field(1_000_000, description="Credits (NEU) the first run grants the admin account.")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Child:
    """One supervised process; restarted with backoff when it exits unexpectedly."""

    name: str
    argv: list[str]
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None
    failures: int = 0
    started: float = 0.0
    relays: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops children in order
        )
        self.started = time.monotonic()
        assert self.process.stdout is not None
        self.relays = [asyncio.create_task(_relay(self.name, self.process.stdout))]

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(sig)


async def _relay(name: str, stream: asyncio.StreamReader) -> None:
    while line := await stream.readline():
        sys.stderr.write(f"[{name}] {line.decode(errors='replace')}")


class Supervisor:
    def __init__(self) -> None:
        self.children: list[Child] = []
        self.stopping = False
        self._watchers: list[asyncio.Task[None]] = []

    async def spawn(self, child: Child) -> None:
        await child.start()
        self.children.append(child)
        self._watchers.append(asyncio.create_task(self._watch(child)))

    async def _watch(self, child: Child) -> None:
        while True:
            assert child.process is not None
            code = await child.process.wait()
            await asyncio.gather(*child.relays)
            if self.stopping:
                return
            ran = time.monotonic() - child.started
            child.failures = 0 if ran > 30 else child.failures + 1
            delay = min(30.0, 0.5 * 2**child.failures)
            logger.warning("%s exited with %s; restarting in %.1fs", child.name, code, delay)
            await asyncio.sleep(delay)
            if self.stopping:
                return
            await child.start()

    async def stop(self) -> None:
        """SIGTERM to every service at once, NATS last; SIGKILL for anything still running."""
        self.stopping = True
        services = [c for c in self.children if c.name != "nats"]
        nats = [c for c in self.children if c.name == "nats"]
        for group, grace in ((services, _STOP_GRACE), (nats, 2.0)):
            for child in group:
                child.signal(signal.SIGTERM)
            await self._wait(group, grace)
        for watcher in self._watchers:
            watcher.cancel()

    @staticmethod
    async def _wait(group: list[Child], grace: float) -> None:
        procs = [c.process for c in group if c.process is not None and c.process.returncode is None]
        if not procs:
            return
        _, pending = await asyncio.wait([asyncio.create_task(p.wait()) for p in procs], timeout=grace)
        if pending:
            for child in group:
                child.signal(signal.SIGKILL)
            await asyncio.gather(*pending)


async def wait_grpc_healthy(addr: str, deadline: float) -> None:
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{addr} did not become healthy")
            await asyncio.sleep(0.2)


async def wait_http_healthy(url: str, deadline: float) -> None:
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer")
            await asyncio.sleep(0.2)


def _address(settings: UpSettings, name: str) -> str:
    field_name = f"{name}_addr"
    if field_name in settings.model_fields_set:
        return str(getattr(settings, field_name))
    return f"127.0.0.1:{free_port()}"


async def up(stop: asyncio.Event) -> int:
    settings = UpSettings()
    # Before anything is created: the children inherit the umask, and the data dir is made or tightened 0700.
    data_dir = prepare_process(settings.data_dir)
    key = settings.platform_key()  # generated once, here, before any child reads it
    async with open_database(settings.database_url_for("auth"), AuthTable.metadata) as sessions:
        admin = await bootstrap_admin(Deps(sessions=sessions, signer=TokenSigner(key)))
    if admin is not None and settings.admin_grant_neu > 0:
        async with open_database(settings.database_url_for("jobs"), JobsTable.metadata) as sessions:
            await grant_credits(
                sessions,
                account_id=admin.key.account_id,
                amount=settings.admin_grant_neu,
                trial_days=None,
                note="first run: the admin account",
                trial=TrialPolicy(grant=0),
            )

    supervisor = Supervisor()
    env = dict(os.environ)
    env["VIDKILN_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    try:
        if "nats_url" not in settings.model_fields_set:
            embedded = write_nats_config(data_dir, settings.nats_port or free_port())
            await supervisor.spawn(Child("nats", [nats_binary(), "-c", str(embedded.config)], env))
            # Its token is in the URL every child gets (the environment: never on a command line, where `ps`
            # shows it to every user); no log line prints a NATS URL.
            env["VIDKILN_NATS_URL"] = embedded.url
        # Lets `vidkiln keys revoke` reach the running platform: owner-only, as it holds the token.
        runtime = {"nats_url": env.get("VIDKILN_NATS_URL", settings.nats_url), "pid": os.getpid()}
        write_private(data_dir / RUNTIME_FILE, json.dumps(runtime))
        addrs = {name: _address(settings, name) for name in SERVICES}
        env.update({f"VIDKILN_{name.upper()}_ADDR": addr for name, addr in addrs.items()})
        for name in SERVICES:
            child_env = env | {"VIDKILN_GRPC_LISTEN": addrs[name]}
            if name == "webhooks":  # links in webhook payloads: the gateway, unless a public URL is set
                child_env.setdefault("VIDKILN_PUBLIC_URL", f"http://{settings.http_host}:{settings.http_port}")
            await supervisor.spawn(Child(name, [sys.executable, "-m", f"services.{name}"], child_env))
        gateway_env = env | {
            "VIDKILN_HTTP_HOST": settings.http_host,
            "VIDKILN_HTTP_PORT": str(settings.http_port),
        }
        await supervisor.spawn(Child("gateway", [sys.executable, "-m", "gateway"], gateway_env))

        deadline = time.monotonic() + _READY_TIMEOUT
        url = f"http://{settings.http_host}:{settings.http_port}"
        ready = asyncio.gather(
            *(wait_grpc_healthy(addr, deadline) for addr in addrs.values()),
            wait_http_healthy(f"{url}/health", deadline),
        )
        stopper = asyncio.create_task(stop.wait())
        waiting: set[asyncio.Future[Any]] = {ready, stopper}
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if ready in done:
            ready.result()
            print(f"vidkiln is up: {url}", flush=True)
            if admin is not None:
                print(f"Admin API key (shown once, stored hashed): {admin.raw}", flush=True)
            print("Press Ctrl-C to stop.", flush=True)
            await stop.wait()
        else:
            ready.cancel()
        return 0
    finally:
        await supervisor.stop()
        (data_dir / RUNTIME_FILE).unlink(missing_ok=True)
        print("vidkiln stopped.", flush=True)


def run_up() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s vidkiln %(message)s")

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await up(stop)

    return asyncio.run(main())
