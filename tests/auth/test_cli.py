"""The admin CLI, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.auth import domain
from services.auth.models import AuthTable
from services.common.config import BaseServiceSettings
from services.common.db import open_database
from services.common.errors import Unauthenticated
from services.common.identity import TokenSigner

VIDKILN = str(Path(sys.executable).parent / "vidkiln")


def vidkiln(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDKILN_")} | {"VIDKILN_DATA_DIR": str(data_dir)}
    return subprocess.run([VIDKILN, *args], env=env, capture_output=True, text=True, timeout=60, input=stdin)


async def test_keys_create_prints_only_the_raw_key(tmp_path: Path) -> None:
    assert vidkiln(tmp_path, "keys", "create", "--name", "ci").returncode == 1  # no admin account yet
    created = vidkiln(tmp_path, "accounts", "create", "--email", "ops@example.com", "--role", "ADMIN")
    assert created.returncode == 0, created.stderr

    result = vidkiln(tmp_path, "keys", "create", "--name", "ci", "--scopes", "jobs:read,jobs:create")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cvr_")
    raw = lines[0]

    settings = BaseServiceSettings(data_dir=tmp_path)
    async with open_database(settings.database_url_for("auth"), AuthTable.metadata) as sessions:
        deps = domain.Deps(sessions=sessions, signer=TokenSigner(b"k"))
        principal, _, _ = await domain.authenticate(deps, credential=raw)
    assert principal.scopes == {"jobs:read", "jobs:create"}

    listed = vidkiln(tmp_path, "keys", "list")
    assert listed.returncode == 0 and raw[:12] in listed.stdout and raw not in listed.stdout
    accounts = vidkiln(tmp_path, "accounts", "list")
    assert "ops@example.com" in accounts.stdout and "ADMIN" in accounts.stdout


@pytest.mark.parametrize(
    "args",
    [("keys", "create", "--name", "x", "--scopes", "jobs:everything"), ("accounts", "create", "--email", "nope")],
)
def test_bad_input_is_reported_on_stderr(tmp_path: Path, args: tuple[str, ...]) -> None:
    vidkiln(tmp_path, "accounts", "create", "--email", "ops@example.com", "--role", "ADMIN")
    result = vidkiln(tmp_path, *args)
    assert result.returncode == 1 and result.stdout == "" and result.stderr.startswith("vidkiln: ")


async def test_passwords_come_from_stdin_and_keys_can_be_revoked(tmp_path: Path) -> None:
    created = vidkiln(
        tmp_path, "accounts", "create", "--email", "ops@example.com", "--password-stdin", stdin="first pass\n"
    )
    assert created.returncode == 0, created.stderr
    changed = vidkiln(
        tmp_path, "accounts", "password", "--email", "ops@example.com", "--password-stdin", stdin="second pass\n"
    )
    assert changed.returncode == 0, changed.stderr
    raw = vidkiln(tmp_path, "keys", "create", "--name", "ci", "--account", "ops@example.com").stdout.strip()
    listed = vidkiln(tmp_path, "keys", "list", "--account", "ops@example.com").stdout
    key_id = listed.split()[0]
    assert "tokens:write" not in listed and "jobs:create" in listed  # the default: every scope but tokens:write

    settings = BaseServiceSettings(data_dir=tmp_path)
    async with open_database(settings.database_url_for("auth"), AuthTable.metadata) as sessions:
        deps = domain.Deps(sessions=sessions, signer=TokenSigner(b"k"))
        assert (await domain.verify_password(deps, email="ops@example.com", password="second pass")).email
        with pytest.raises(Unauthenticated):
            await domain.verify_password(deps, email="ops@example.com", password="first pass")
        await domain.authenticate(deps, credential=raw)

        revoked = vidkiln(tmp_path, "keys", "revoke", key_id, "--account", "ops@example.com")
        assert revoked.returncode == 0 and "revoked" in revoked.stderr
        with pytest.raises(Unauthenticated):
            await domain.authenticate(deps, credential=raw)
    assert vidkiln(tmp_path, "keys", "revoke", key_id, "--account", "ops@example.com").returncode == 1
    assert "keys only" not in vidkiln(tmp_path, "accounts", "list").stdout
