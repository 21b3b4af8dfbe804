"""A data directory made by the release before migrations (tests/data/release_a6ce9e1) is recognised, stamped and
upgraded without losing a row: by each service's open_database, and by `vidkiln up` serving its old data."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import Connection, MetaData, inspect, text

from services.common import migrations
from services.common.db import create_engine, open_database
from tests.e2e.helpers import follow, submit
from tests.harness import free_port
from tests.migrations.previous import SCHEMAS, Previous, another_postgres, lay_out, on_connection, schema_snapshot

VIDKILN = str(Path(sys.executable).parent / "vidkiln")


def _rows(conn: Connection, metadata: MetaData) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the metadata the database has, in a stable order."""
    present = set(inspect(conn).get_table_names())
    return {
        name: sorted((tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
        for name in sorted(metadata.tables)
        if name in present
    }


def _tables(conn: Connection) -> list[str]:
    return [t for t in inspect(conn).get_table_names() if not t.startswith("alembic_version")]


async def test_the_first_revision_makes_the_tables_the_previous_release_made(
    tmp_path: Path, database_url: str | None
) -> None:
    previous = await lay_out(tmp_path, database_url)
    for service, schema in SCHEMAS.items():
        base = migrations.scripts(schema).get_base()
        assert base is not None
        async with _fresh(tmp_path, database_url, service) as url:
            engine = create_engine(url)
            try:
                await migrations.migrate(engine, schema, base)
            finally:
                await engine.dispose()
            made = await on_connection(url, _tables)
            wanted = await on_connection(url, schema_snapshot, made)
        old_tables = [t for t in await on_connection(previous.url_for(service), _tables) if t in set(made)]
        assert sorted(old_tables) == sorted(made)
        assert await on_connection(previous.url_for(service), schema_snapshot, old_tables) == wanted


def _fresh(tmp_path: Path, database_url: str | None, service: str) -> Any:
    if database_url:
        return another_postgres(database_url)

    class _File:
        async def __aenter__(self) -> str:
            return f"sqlite+aiosqlite:///{tmp_path / f'fresh-{service}.sqlite3'}"

        async def __aexit__(self, *_exc: object) -> None:
            return None

    return _File()


async def test_each_service_upgrades_the_previous_release_keeping_every_row(
    tmp_path: Path, database_url: str | None
) -> None:
    previous = await lay_out(tmp_path, database_url)
    for service, schema in SCHEMAS.items():
        url = previous.url_for(service)
        before = await on_connection(url, _rows, schema.metadata)
        # Every table has rows to keep, but the outbox: the release empties it as it publishes.
        assert all(rows for name, rows in before.items() if name != "job_outbox"), f"an empty {service} table"
        assert await on_connection(url, migrations.unversioned, schema)

        async with open_database(url, schema.metadata):
            pass

        after = await on_connection(url, _rows, schema.metadata)
        added: dict[str, list[tuple[Any, ...]]] = {name: [] for name in set(after) - set(before)}
        assert after == before | added
        assert await on_connection(url, migrations.current, schema) == (migrations.scripts(schema).get_current_head(),)
    assert "credit_caller_holds" in await on_connection(previous.url_for("jobs"), _tables)


async def test_vidkiln_up_serves_the_previous_releases_data(
    tmp_path: Path, database_url: str | None, source_server: str
) -> None:
    previous = await lay_out(tmp_path, database_url)
    made = previous.manifest
    process, base = await _up(previous)
    try:
        admin, user = {"X-API-Key": made["admin_key"]}, {"X-API-Key": made["user_key"]}
        async with aiohttp.ClientSession() as http:
            for name, job in made["jobs"].items():  # the old keys authenticate, the old jobs are there
                status = await _json(http, "GET", f"{base}/ondemand/status/{job['id']}", user)
                assert status["status"] == job["status"], name
            listed = await _json(http, "GET", f"{base}/api/v1/jobs", user)
            assert {j["id"] for j in listed["data"]["items"]} == {job["id"] for job in made["jobs"].values()}
            hooks = await _json(http, "GET", f"{base}/webhooks", user)
            assert [h["id"] for h in hooks["webhooks"]] == [made["webhook_id"]]
            deliveries = await _json(http, "GET", f"{base}/webhooks/{made['webhook_id']}/deliveries", user)
            assert len(deliveries["deliveries"]) == made["deliveries"]
            async with http.get(f"{base}/api/v1/files/{made['file_id']}/download", headers=user) as resp:
                assert resp.status == 200 and await resp.read() == b"fixture file\n" * 20
            saved = await _json(http, "GET", f"{base}/ondemand/credentials/google-drive", user)
            assert [c["id"] for c in saved["credentials"]] == [made["drive_credential_id"]]
            login = {"email": made["user_email"], "password": made["password"]}
            assert (await _json(http, "POST", f"{base}/auth/login", {}, json=login))["accessToken"]
            balance = await _json(http, "GET", f"{base}/tokens/balance", admin)
            assert balance["available"] == made["balances"]["admin"]["available"]
            trial = (await _json(http, "GET", f"{base}/tokens/balance", user))["trialExpiresAt"]
            assert trial == made["balances"]["user"]["trialExpiresAt"]

            # And what the release since added works on them: a new job of the old admin, a caller's own hold.
            created = await submit(http, base, made["admin_key"], {"sourceUrl": f"{source_server}/media/silent.mp4"})
            final, _ = await follow(http, base, made["admin_key"], created["jobId"], timeout=90, every=0.2)
            assert final["status"] == "success", final
            classic = await _json(
                http, "POST", f"{base}/jobs", admin, json={"codec": "h264", "resolution": "480p", "fps": 30}
            )
            held = await _json(
                http, "POST", f"{base}/tokens/reserve", admin, json={"jobId": classic["jobId"], "amount": 5}
            )
            assert held["balance"]["reserved"] == 5
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=20) == 0


async def _up(previous: Previous) -> tuple[asyncio.subprocess.Process, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDKILN_")}
    env |= {"VIDKILN_DATA_DIR": str(previous.data_dir), "VIDKILN_HTTP_PORT": str(free_port())}
    env |= {"VIDKILN_URL_ALLOW": "127.0.0.1"}
    if previous.database_url:
        env["VIDKILN_DATABASE_URL"] = previous.database_url
    log = previous.data_dir.with_suffix(".log")
    with open(log, "ab") as stderr:
        process = await asyncio.create_subprocess_exec(
            VIDKILN, "up", env=env, stdout=asyncio.subprocess.PIPE, stderr=stderr
        )
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=deadline - time.monotonic())).decode()
        assert line, f"vidkiln up exited early: {log.read_text()[-3000:]}"
        if match := re.match(r"vidkiln is up: (\S+)", line):
            return process, match.group(1)


async def _json(
    http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], **kwargs: Any
) -> dict[str, Any]:
    async with http.request(method, url, headers=headers, **kwargs) as resp:
        body: dict[str, Any] = await resp.json()
        assert resp.status in (200, 201), (method, url, resp.status, body)
        return body
