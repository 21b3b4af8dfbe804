"""`vidkiln db` as an operator runs it, on a data directory the release before migrations left."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.common import migrations
from tests.migrations.previous import SCHEMAS, lay_out

VIDKILN = str(Path(sys.executable).parent / "vidkiln")


def _db(data_dir: Path, *args: str, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDKILN_")} | {"VIDKILN_DATA_DIR": str(data_dir)}
    if database_url:
        env["VIDKILN_DATABASE_URL"] = database_url
    return subprocess.run([VIDKILN, "db", *args], env=env, capture_output=True, text=True, timeout=120)


async def test_current_upgrade_and_history(tmp_path: Path, database_url: str | None) -> None:
    previous = await lay_out(tmp_path, database_url)
    heads = {name: str(migrations.scripts(schema).get_current_head()) for name, schema in SCHEMAS.items()}

    before = _db(previous.data_dir, "current", database_url=database_url)
    assert before.returncode == 1, before.stderr  # behind: a script can wait for the upgrade
    for name in SCHEMAS:
        assert f"{name:<9} none (tables made before migrations" in before.stdout

    one = _db(previous.data_dir, "upgrade", "--service", "jobs", database_url=database_url)
    assert one.returncode == 0, one.stderr
    assert one.stdout == f"jobs      none -> {heads['jobs']}\n"

    rest = _db(previous.data_dir, "upgrade", database_url=database_url)
    assert rest.returncode == 0, rest.stderr
    assert f"jobs      {heads['jobs']} -> {heads['jobs']}" in rest.stdout
    assert f"auth      none -> {heads['auth']}" in rest.stdout

    after = _db(previous.data_dir, "current", database_url=database_url)
    assert after.returncode == 0, after.stderr
    assert after.stdout.splitlines() == [f"{name:<9} {heads[name]} (head)" for name in SCHEMAS]

    history = _db(previous.data_dir, "history", "--service", "jobs")
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines[0].split()[1] == heads["jobs"] and lines[0].endswith("(head)") and lines[-1].split()[1] == "0001"
