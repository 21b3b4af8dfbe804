"""docker-compose.yml: valid Compose, wired to the settings the code reads, JetStream fsyncing every write.

No Docker engine is needed. The file is validated against the official Compose Specification JSON
schema, stored in tests/data/compose-spec.json: a copy of `schema/compose-spec.json` from the
public repository compose-spec/compose-spec (commit 00655e2222608fa6eaecdf12ac5195889ca2244a),
licensed Apache-2.0.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import nats
import pytest
import yaml
from pydantic_settings import BaseSettings

from gateway.config import Settings as GatewaySettings
from services.auth.config import Settings as AuthSettings
from services.cli.natsd import nats_binary
from services.cli.up import free_port
from services.encoder.config import Settings as EncoderSettings
from services.ingest.config import Settings as IngestSettings
from services.jobs.config import Settings as JobsSettings
from services.webhooks.config import Settings as WebhooksSettings
from tests.security import assert_refused

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = Path(__file__).resolve().parent / "data" / "compose-spec.json"

# The module each vidkiln process runs, and the settings class it reads.
SETTINGS: dict[str, type[BaseSettings]] = {
    "services.auth": AuthSettings,
    "services.jobs": JobsSettings,
    "services.ingest": IngestSettings,
    "services.encoder": EncoderSettings,
    "services.webhooks": WebhooksSettings,
    "gateway": GatewaySettings,
}
GRPC_SERVICES = ("auth", "jobs", "ingest", "encoder", "webhooks")
# What every vidkiln process must be given in the scaled-out layout.
COMMON_ENV = (
    "VIDKILN_NATS_URL",
    "VIDKILN_DATABASE_URL",
    "VIDKILN_SECRET_KEY",
    "VIDKILN_OTLP_ENDPOINT",
    "VIDKILN_DATA_DIR",
    *(f"VIDKILN_{name.upper()}_ADDR" for name in GRPC_SERVICES),
)

_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())  # resolves the anchors and `<<` merge keys
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    data = json.loads(SCHEMA.read_text())
    assert isinstance(data, dict)
    return data


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def module_of(service: dict[str, Any]) -> str | None:
    """The module a `python -m <module>` service runs, else None."""
    match command_of(service):
        case ["python", "-m", module]:
            return module
        case _:
            return None


def vidkiln_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items() if module_of(svc) in SETTINGS}


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def interpolate(value: str, given: dict[str, str] | None = None) -> str:
    """Compose interpolation with only `given` set: `${VAR:-default}` gives the default, `${VAR:?error}` a stand-in."""

    def substitute(match: re.Match[str]) -> str:
        op, arg = match["op"], match["arg"]
        if given and match["name"] in given:
            return given[match["name"]]
        if op is None:
            return ""
        if op.endswith("-"):
            return str(arg)
        return f"required-{match['name'].lower()}"

    return _INTERPOLATION.sub(substitute, value)


def replicas_of(service: dict[str, Any]) -> int:
    deploy = service.get("deploy") or {}
    return int(deploy.get("replicas", service.get("scale", 1)))


def config_content(compose: dict[str, Any], service: str) -> str:
    """The inline content of the one config mounted into `service`."""
    mounted = compose["services"][service]["configs"]
    assert len(mounted) == 1
    source = mounted[0] if isinstance(mounted[0], str) else mounted[0]["source"]
    content = compose["configs"][source]["content"]
    assert isinstance(content, str)
    return content


def test_valid_against_the_compose_specification(compose: dict[str, Any], schema: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_check_is_not_vacuous(compose: dict[str, Any], schema: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["encoder"]["replica"] = 2  # a typo of deploy.replicas
    broken["services"]["gateway"]["depends_on"]["auth"] = {"condition": "healthy"}
    validator = jsonschema.Draft7Validator(schema)
    paths = {tuple(error.absolute_path) for error in validator.iter_errors(broken)}
    assert paths == {("services", "encoder"), ("services", "gateway", "depends_on")}


def test_every_service_and_the_gateway_run_from_the_one_image(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in GRPC_SERVICES:
        assert module_of(services[name]) == f"services.{name}"
    assert module_of(services["gateway"]) == "gateway"
    ours = vidkiln_services(compose)
    assert {svc["image"] for svc in ours.values()} == {"vidkiln:local"}
    assert {svc["build"]["context"] for svc in ours.values()} == {"."}
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_two_encoder_workers(compose: dict[str, Any]) -> None:
    encoders = [svc for svc in compose["services"].values() if module_of(svc) == "services.encoder"]
    assert sum(replicas_of(svc) for svc in encoders) == 2
    for svc in encoders:
        assert "container_name" not in svc  # a fixed name would stop a second replica


def test_infrastructure_is_present(compose: dict[str, Any]) -> None:
    images = {name: str(svc.get("image", "")) for name, svc in compose["services"].items()}
    assert images["nats"].startswith("nats:")
    assert images["postgres"].startswith("postgres:")
    assert images["minio"].startswith("minio/minio")
    assert images["otel-collector"].startswith("otel/opentelemetry-collector")
    for name in ("nats", "postgres", "minio"):
        assert "healthcheck" in compose["services"][name]
        assert compose["services"][name]["volumes"]


def test_every_vidkiln_variable_is_a_settings_field() -> None:
    used = set(re.findall(r"\bVIDKILN_[A-Z0-9_]+\b", COMPOSE.read_text()))
    fields = {name for cls in SETTINGS.values() for name in cls.model_fields}
    unknown = sorted(name for name in used if name.removeprefix("VIDKILN_").lower() not in fields)
    assert unknown == []
    assert used >= {*COMMON_ENV, "VIDKILN_GRPC_LISTEN", "VIDKILN_HTTP_HOST", "VIDKILN_HTTP_PORT"}


def test_each_process_gets_its_settings(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    services = vidkiln_services(compose)
    assert len(services) == len(SETTINGS)
    for name, svc in services.items():
        module = module_of(svc)
        assert module is not None
        env = environment_of(svc)
        assert set(COMMON_ENV) <= env.keys(), name
        if module != "gateway":
            assert env["VIDKILN_GRPC_LISTEN"].startswith("0.0.0.0:"), name
        # The settings class parses what compose passes (types included), and nothing else leaks in.
        with monkeypatch.context() as patch:
            for key in [key for key in os.environ if key.startswith("VIDKILN_")]:
                patch.delenv(key)
            for key, value in env.items():
                patch.setenv(key, interpolate(value))
            settings: Any = SETTINGS[module]()
        nats_url = urlsplit(settings.nats_url)
        assert (nats_url.scheme, nats_url.hostname, nats_url.port) == ("nats", "nats", 4222)
        assert nats_url.username == "required-nats_token" and nats_url.password is None  # the token, required
        assert settings.database_url.startswith("postgresql+asyncpg://")
        assert settings.database_url.endswith("@postgres:5432/vidkiln")
        assert settings.secret_key is not None
        assert settings.otlp_endpoint == "http://otel-collector:4317"
        # The data directory is the shared volume, mounted where the setting points.
        assert f"vidkiln-data:{settings.data_dir}" in svc["volumes"], name
    env = environment_of(compose["services"]["gateway"])
    assert (env["VIDKILN_HTTP_HOST"], env["VIDKILN_HTTP_PORT"]) == ("0.0.0.0", "8080")
    assert "8080:8080" in compose["services"]["gateway"]["ports"]


def test_peer_addresses_reach_the_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for svc in vidkiln_services(compose).values():
        env = environment_of(svc)
        for name in GRPC_SERVICES:
            host, port = env[f"VIDKILN_{name.upper()}_ADDR"].rsplit(":", 1)
            assert host == name
            assert environment_of(services[name])["VIDKILN_GRPC_LISTEN"] == f"0.0.0.0:{port}"
        assert urlsplit(interpolate(env["VIDKILN_NATS_URL"])).hostname in services
        assert urlsplit(env["VIDKILN_OTLP_ENDPOINT"]).hostname in services


def test_dependencies_wait_for_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, svc in vidkiln_services(compose).items():
        depends = svc["depends_on"]
        assert depends["nats"]["condition"] == "service_healthy", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert "healthcheck" in svc, name
        for target, rule in depends.items():
            assert target in services, name
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}, which has no healthcheck"


def test_nats_config_fsyncs_every_write(compose: dict[str, Any]) -> None:
    nats = compose["services"]["nats"]
    content = config_content(compose, "nats")
    jetstream = re.search(r"^jetstream\s*\{(?P<body>[^}]*)\}", content, re.MULTILINE)
    assert jetstream is not None
    assert re.search(r"^\s*sync_interval\s*:\s*always\s*$", jetstream["body"], re.MULTILINE)
    store = re.search(r"^\s*store_dir\s*:\s*(\S+)\s*$", jetstream["body"], re.MULTILINE)
    assert store is not None
    assert any(volume.endswith(f":{store[1]}") for volume in nats["volumes"])  # persistent
    target = nats["configs"][0]["target"]
    assert command_of(nats) in (["--config", target], ["-c", target])


@contextmanager
def compose_nats(compose: dict[str, Any], tmp_path: Path, given: dict[str, str]) -> Iterator[tuple[int, int]]:
    """The nats-server the project depends on, running the compose config (interpolated with `given`) on free
    loopback ports: yields the client and the monitoring port."""
    content = interpolate(config_content(compose, "nats"), given)
    port, http = free_port(), free_port()
    for pattern, repl in (
        (r"^listen:.*$", f"listen: 127.0.0.1:{port}"),
        (r"^http:.*$", f"http: 127.0.0.1:{http}"),
        (r"^(\s*store_dir:).*$", rf'\g<1> "{tmp_path / "js"}"'),
    ):
        content, count = re.subn(pattern, repl, content, flags=re.MULTILINE)
        assert count == 1, pattern
    config = tmp_path / "nats.conf"
    config.write_text(content)
    checked = subprocess.run([nats_binary(), "-t", "-c", str(config)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    with subprocess.Popen([nats_binary(), "-c", str(config)], stderr=subprocess.DEVNULL) as server:
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=2):
                        break
                except OSError:
                    assert time.monotonic() < deadline, "nats-server did not answer"
                    time.sleep(0.1)
            yield port, http
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_nats_server_runs_the_config_with_fsync_always(compose: dict[str, Any], tmp_path: Path) -> None:
    """The nats-server the project depends on loads the compose config and reports sync_always."""
    with compose_nats(compose, tmp_path, {}) as (_port, http):
        with urllib.request.urlopen(f"http://127.0.0.1:{http}/varz", timeout=2) as resp:
            varz = json.load(resp)
    assert varz["jetstream"]["config"]["sync_always"] is True


def test_nats_wants_the_token_every_service_is_given(compose: dict[str, Any]) -> None:
    """One required variable, NATS_TOKEN: in the server's authorization and in every process's NATS URL."""
    content = config_content(compose, "nats")
    # The whole block: the token and nothing else, from the variable, which compose refuses to leave unset (`:?`).
    assert re.search(r'^authorization\s*\{\s*token:\s*"\$\{NATS_TOKEN:\?[^}]+\}"\s*\}', content, re.MULTILINE)
    for name, svc in vidkiln_services(compose).items():
        assert environment_of(svc)["VIDKILN_NATS_URL"].startswith("nats://${NATS_TOKEN:?"), name


async def test_the_compose_nats_refuses_clients_without_the_token(compose: dict[str, Any], tmp_path: Path) -> None:
    token = "c0ffee" * 8
    with compose_nats(compose, tmp_path, {"NATS_TOKEN": token}) as (port, _http):
        for refused in (f"nats://127.0.0.1:{port}", f"nats://{'0' * len(token)}@127.0.0.1:{port}"):
            await assert_refused(refused)
        # What the gateway is given, aimed at this server instead of the `nats` host.
        given = urlsplit(
            interpolate(environment_of(compose["services"]["gateway"])["VIDKILN_NATS_URL"], {"NATS_TOKEN": token})
        )
        nc = await nats.connect(
            given._replace(netloc=f"{given.username}@127.0.0.1:{port}").geturl(),
            connect_timeout=2,
            max_reconnect_attempts=0,
            allow_reconnect=False,
        )
        try:
            await nc.jetstream().account_info()
        finally:
            await nc.close()


def test_otel_collector_receives_otlp_grpc(compose: dict[str, Any]) -> None:
    config = yaml.safe_load(config_content(compose, "otel-collector"))
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:4317"
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert "debug" in traces["exporters"]
    assert set(traces["exporters"]) <= config["exporters"].keys()
