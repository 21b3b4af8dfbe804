"""Real parts for tests: nats-server, services in-process or as processes, a whole platform."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from services.auth import domain as auth_domain
from services.auth.models import AuthTable
from services.common.config import BaseServiceSettings
from services.common.db import open_database
from services.common.identity import Principal, TokenSigner

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-platform-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_tcp(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def nats_binary() -> str:
    return str(Path(sys.executable).parent / "nats-server")


class NatsServer:
    """A nats-server with JetStream on a free port and its own store (restartable, same port)."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [nats_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_tcp(self.port)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)
        self.process = None


class Runner(Protocol):
    def __call__(
        self,
        settings: Any,
        *,
        tracer_provider: TracerProvider,
        stop: asyncio.Event,
        on_ready: Callable[[int], None],
    ) -> Coroutine[Any, Any, None]: ...


class ServiceTask:
    """A service's `run()` on the test's event loop (shares the test's tracer provider)."""

    def __init__(self, name: str, task: asyncio.Task[None], stop: asyncio.Event, port: int) -> None:
        self.name, self.task, self.stop_event, self.port = name, task, stop, port

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    async def start(cls, name: str, run: Runner, settings: Any, provider: TracerProvider) -> ServiceTask:
        stop = asyncio.Event()
        ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(
            run(settings, tracer_provider=provider, stop=stop, on_ready=ready.set_result), name=name
        )
        waiting: set[asyncio.Future[Any]] = {ready, task}
        done, _ = await asyncio.wait(waiting, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises the startup error
        if ready not in done:
            raise TimeoutError(f"{name} did not start")
        return cls(name, task, stop, ready.result())

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.wait_for(self.task, timeout=20)


class ServiceProcess:
    """A service as its own OS process (`python -m services.<name>`), for crash tests."""

    def __init__(self, name: str, env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.env = dict(env) | {"VIDKILN_GRPC_LISTEN": f"127.0.0.1:{self.port}"}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        module = "gateway" if self.name == "gateway" else f"services.{self.name}"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
            )
        await wait_serving(self.addr, process=self.process)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait, 15)


async def wait_serving(addr: str, *, process: subprocess.Popen[bytes] | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"process for {addr} exited with {process.returncode}")
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{addr} not serving")
            await asyncio.sleep(0.1)


def settings_kwargs(data_dir: Path, nats_url: str, database_url: str | None) -> dict[str, Any]:
    """What every service's Settings gets in tests (no reliance on the environment)."""
    return {
        "data_dir": data_dir,
        "nats_url": nats_url,
        "database_url": database_url,
        "secret_key": SECRET,
        "grpc_listen": "127.0.0.1:0",
        "url_allow": "127.0.0.1",  # the tests' own source servers
    }


def service_env(data_dir: Path, nats_url: str, database_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a service process in tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDKILN_")}
    env |= {
        "VIDKILN_DATA_DIR": str(data_dir),
        "VIDKILN_NATS_URL": nats_url,
        "VIDKILN_SECRET_KEY": SECRET,
        "VIDKILN_URL_ALLOW": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }
    if database_url:
        env["VIDKILN_DATABASE_URL"] = database_url
    return env | extra


@dataclass
class Platform:
    """Every service and the gateway, wired to one NATS, one data dir and one database."""

    data_dir: Path
    nats: NatsServer
    database_url: str | None
    provider: TracerProvider
    admin_key: str = ""
    base_url: str = ""
    services: dict[str, ServiceTask | ServiceProcess] = field(default_factory=dict)
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def auth_db_url(self) -> str:
        settings = BaseServiceSettings(**settings_kwargs(self.data_dir, self.nats.url, self.database_url))
        return settings.database_url_for("auth")

    def kwargs(self) -> dict[str, Any]:
        kw = settings_kwargs(self.data_dir, self.nats.url, self.database_url)
        kw.update({f"{name}_addr": svc.addr for name, svc in self.services.items() if name != "gateway"})
        return kw

    async def add(self, name: str, run: Runner, settings_cls: type[Any], **extra: Any) -> ServiceTask:
        service = await ServiceTask.start(name, run, settings_cls(**self.kwargs(), **extra), self.provider)
        self.services[name] = service
        self.stack.push_async_callback(service.stop)
        return service

    async def add_process(self, name: str, **extra_env: str) -> ServiceProcess:
        env = service_env(self.data_dir, self.nats.url, self.database_url, **extra_env)
        env |= {f"VIDKILN_{n.upper()}_ADDR": s.addr for n, s in self.services.items() if n != "gateway"}
        service = ServiceProcess(name, env, self.data_dir / f"{name}-{uuid.uuid4().hex[:6]}.log")
        await service.start()
        self.services[name] = service
        self.stack.push_async_callback(service.stop)
        return service

    async def new_key(self, *, email: str, scopes: tuple[str, ...] = auth_domain.ALL_SCOPES) -> str:
        """A key of a (new) USER account, created through the auth use cases."""
        async with open_database(self.auth_db_url, AuthTable.metadata) as sessions:
            deps = auth_domain.Deps(sessions=sessions, signer=TokenSigner(SECRET.encode()))
            try:
                account = await auth_domain.find_account(sessions, email=email)
            except Exception:
                account = await auth_domain.create_account(deps, email=email)
            issued = await auth_domain.create_api_key(deps, account_id=account.id, name="test", scopes=scopes)
        return issued.raw

    async def password_account(self, *, email: str, password: str, role: str = "USER", verified: bool = True) -> None:
        """An account that can log in (POST /auth/login), or a password for an existing one."""
        async with open_database(self.auth_db_url, AuthTable.metadata) as sessions:
            deps = auth_domain.Deps(sessions=sessions, signer=TokenSigner(SECRET.encode()))
            try:
                await auth_domain.find_account(sessions, email=email)
            except Exception:
                await auth_domain.create_account(deps, email=email, role=role, email_verified=verified)
            await auth_domain.set_password(deps, email=email, password=password)

    def token_for(self, principal: Principal) -> str:
        return TokenSigner(SECRET.encode()).issue(principal)[0]
