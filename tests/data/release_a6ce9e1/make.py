"""Makes this fixture: a data directory the release before migrations (a6ce9e1) wrote through its own API.

    git worktree add /tmp/prev a6ce9e1
    PYTHONPATH=. .venv/bin/python tests/data/release_a6ce9e1/make.py /tmp/prev sqlite
    PYTHONPATH=. .venv/bin/python tests/data/release_a6ce9e1/make.py /tmp/prev postgres postgresql+asyncpg://...
    git worktree remove /tmp/prev

It runs that release's `vidkiln up` (its code first on PYTHONPATH, this virtualenv's packages), creates accounts,
keys, a login, a webhook, a file, a saved Drive key and two jobs, stops it, and keeps what an upgrade needs: the
SQLite files (or a pg_dump), the secret key, the small blobs, and manifest.json naming what was made.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.e2e.helpers import follow
from tests.fakes.drive_accounts import ServiceAccounts
from tests.harness import free_port
from tests.media import synthesize

logger = logging.getLogger("make-fixture")
HERE = Path(__file__).resolve().parent
USER_EMAIL, PASSWORD = "user@fixture.test", "fixture-password-1"


def _vidkiln(old: Path, env: dict[str, str], *args: str, stdin: str = "") -> str:
    argv = [sys.executable, "-c", "from services.cli.main import main; main()", *args]
    done = subprocess.run(argv, cwd=old, env=env, input=stdin, capture_output=True, text=True, check=True)
    return done.stdout.strip()


async def _receiver() -> tuple[TestServer, list[bytes], str]:
    """A webhook receiver and a source server in one: a clip, text labelled as a video (it fails), POST /hook."""
    got: list[bytes] = []
    root = Path(tempfile.mkdtemp())
    synthesize(root / "clip.mp4", width=64, height=64, seconds=0.5, audio=False)

    async def disguised(_request: web.Request) -> web.Response:
        return web.Response(body=b"not a video\n" * 50, content_type="application/octet-stream")

    async def hook(request: web.Request) -> web.Response:
        got.append(await request.read())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/media/disguised.mp4", disguised)
    app.router.add_static("/media/", root)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, got, str(server.make_url("")).rstrip("/")


async def _call(http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], **kw: Any) -> Any:
    async with http.request(method, url, headers=headers, **kw) as resp:
        assert resp.status in (200, 201), (method, url, resp.status, await resp.text())
        return await resp.json()


async def _populate(old: Path, env: dict[str, str], base: str, admin: str, sources: str) -> dict[str, Any]:
    _vidkiln(old, env, "accounts", "create", "--email", USER_EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
    user = _vidkiln(old, env, "keys", "create", "--name", "fixture-user", "--account", USER_EMAIL)
    async with aiohttp.ClientSession() as http:
        login = await _call(http, "POST", f"{base}/auth/login", {}, json={"email": USER_EMAIL, "password": PASSWORD})
        hook = await _call(
            http,
            "POST",
            f"{base}/webhooks",
            {"X-API-Key": user},
            json={"url": f"{sources}/hook", "events": ["job.completed", "job.failed"]},
        )
        form = aiohttp.FormData()
        form.add_field("file", io.BytesIO(b"fixture file\n" * 20), filename="notes.txt", content_type="text/plain")
        file = (await _call(http, "POST", f"{base}/api/v1/files/upload", {"X-API-Key": user}, data=form))["data"]
        robot = {"name": "robot", "serviceAccount": ServiceAccounts().create()}
        drive = await _call(http, "POST", f"{base}/ondemand/credentials/google-drive", {"X-API-Key": user}, json=robot)
        jobs = {}
        for name, source in (("succeeded", "clip.mp4"), ("failed", "disguised.mp4")):
            body = {"sourceUrl": f"{sources}/media/{source}"}
            created = await _call(  # an Idempotency-Key: the replay record is a row too
                http, "POST", f"{base}/ondemand/encode", {"X-API-Key": user, "Idempotency-Key": name}, json=body
            )
            final, _ = await follow(http, base, user, created["jobId"], timeout=120, every=0.2)
            jobs[name] = {"id": created["jobId"], "status": final["status"]}
        balances = {
            who: await _call(http, "GET", f"{base}/tokens/balance", {"X-API-Key": key})
            for who, key in (("admin", admin), ("user", user))
        }
    return {
        "admin_key": admin,
        "user_key": user,
        "user_email": USER_EMAIL,
        "password": PASSWORD,
        "refresh_token": login["refreshToken"],
        "webhook_id": hook["id"],
        "file_id": file["id"],
        "drive_credential_id": drive["id"],
        "jobs": jobs,
        "balances": balances,
    }


async def _run(old: Path, backend: str, database_url: str | None) -> None:
    out = HERE / backend
    data = Path(tempfile.mkdtemp()) / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDKILN_")}
    env |= {"PYTHONPATH": str(old), "VIDKILN_DATA_DIR": str(data), "VIDKILN_URL_ALLOW": "127.0.0.1"}
    env |= {"VIDKILN_HTTP_PORT": str(free_port())} | ({"VIDKILN_DATABASE_URL": database_url} if database_url else {})
    server, hooks, sources = await _receiver()
    up = subprocess.Popen(
        [sys.executable, "-c", "from services.cli.main import main; main()", "up"],
        cwd=old,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert up.stdout is not None
    try:
        while not (base := re.search(r"vidkiln is up: (\S+)", line := up.stdout.readline())):
            assert line, "the old release did not start"
        admin = re.search(r"(cvr_\S+)", up.stdout.readline())
        assert admin, "the old release printed no admin key (not a new data directory?)"
        manifest = await _populate(old, env, base.group(1), admin.group(1), sources)
        deadline = time.monotonic() + 30
        while len(hooks) < 2 and time.monotonic() < deadline:  # both jobs' events delivered and recorded
            await asyncio.sleep(0.2)
        manifest["deliveries"] = len(hooks)
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=30)
        await server.close()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    shutil.copy(data / "secret.key", out / "secret.key")
    blobs = [p for p in (data / "blobs").rglob("*") if p.is_file()]
    assert all(p.stat().st_size < 16_384 for p in blobs), "blobs are kept only while they are small"
    for path in blobs:
        (out / path.relative_to(data)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, out / path.relative_to(data))
    if database_url is None:
        (out / "db").mkdir()
        for db in sorted((data / "db").glob("*.sqlite3")):
            with sqlite3.connect(db) as conn:  # everything in the main file, no -wal beside it
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copy(db, out / "db" / db.name)
    else:
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        dump = subprocess.run(
            ["pg_dump", "--inserts", "--no-owner", "--no-privileges", dsn], capture_output=True, text=True, check=True
        ).stdout
        # Without psql's meta-commands (\restrict): the test runs the statements through asyncpg.
        kept = [line for line in dump.splitlines(keepends=True) if not line.startswith(("\\restrict", "\\unrestrict"))]
        (out / "dump.sql").write_text("".join(kept))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    logger.info("fixture written to %s", out)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(_run(Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
