"""Checks shared by the security tests: nothing in a data directory open to other users; NATS refusing a client."""

from __future__ import annotations

import stat
from pathlib import Path

import nats.errors
import pytest
from nats.aio.client import Client


async def _quiet(_exc: Exception) -> None:
    """nats-py's default logs each refusal with a traceback; the assertion says enough."""


async def assert_refused(url: str) -> None:
    """A client connecting with url is refused: Authorization Violation (the client closed, no stray socket)."""
    nc = Client()
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        try:
            await nc.connect(url, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False, error_cb=_quiet)
        finally:
            await nc.close()


def loose_modes(root: Path) -> list[str]:
    """Every file or directory under root (root included) that its group or other users may use at all."""
    found = []
    for path in [root, *root.rglob("*")]:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:  # a journal or a scratch file, gone meanwhile
            continue
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{stat.filemode(mode)} {path.relative_to(root)}")
    return found
