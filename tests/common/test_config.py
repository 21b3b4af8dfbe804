"""Settings from VIDKILN_* variables, the generated platform key, and the default database URL."""

from __future__ import annotations

import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from services.common.config import BaseServiceSettings, load_or_create_key


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No VIDKILN_* variable of the developer's shell (or CI's) leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("VIDKILN_"):
            monkeypatch.delenv(name)


def test_settings_come_from_vidkiln_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDKILN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIDKILN_NATS_URL", "nats://nats.internal:4222")
    monkeypatch.setenv("VIDKILN_RPC_TIMEOUT", "2.5")
    monkeypatch.setenv("VIDKILN_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("JOBS_ADDR", "10.0.0.1:1")  # no prefix: not ours
    monkeypatch.setenv("VIDKILN_UNKNOWN_SETTING", "ignored")

    settings = BaseServiceSettings()

    assert settings.data_dir == tmp_path
    assert settings.nats_url == "nats://nats.internal:4222"
    assert settings.rpc_timeout == 2.5
    assert settings.jobs_addr == "127.0.0.1:50052"
    assert settings.platform_key() == b"from-the-environment"
    assert "from-the-environment" not in repr(settings)


def test_the_platform_key_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    settings = BaseServiceSettings(data_dir=tmp_path)

    key = settings.platform_key()

    assert len(key) == 64
    assert (tmp_path / "secret.key").read_bytes().strip() == key
    assert BaseServiceSettings(data_dir=tmp_path).platform_key() == key


def test_load_or_create_key_creates_a_private_file_once(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secret.key"

    first = load_or_create_key(path)
    second = load_or_create_key(path)

    assert first == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret.key"]  # no temporary files left


def test_concurrent_first_uses_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    workers = 16
    start = threading.Barrier(workers)

    def first_use() -> bytes:
        start.wait()
        return load_or_create_key(path)

    with ThreadPoolExecutor(workers) as pool:
        keys = list(pool.map(lambda _: first_use(), range(workers)))

    assert len(set(keys)) == 1
    assert keys[0] == path.read_bytes().strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]


def test_the_default_database_is_a_sqlite_file_per_service_under_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = BaseServiceSettings(data_dir=Path("relative-data"))

    url = settings.database_url_for("jobs")

    expected = tmp_path / "relative-data" / "db" / "jobs.sqlite3"
    assert url == f"sqlite+aiosqlite:///{expected}"
    assert expected.parent.is_dir()
    assert settings.database_url_for("auth").endswith("/db/auth.sqlite3")


def test_a_configured_database_url_is_shared_by_every_service(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://vidkiln@db.internal/vidkiln"
    settings = BaseServiceSettings(data_dir=tmp_path, database_url=url)

    assert settings.database_url_for("jobs") == settings.database_url_for("auth") == url
    assert not (tmp_path / "db").exists()
