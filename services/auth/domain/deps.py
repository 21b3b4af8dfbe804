"""What the auth use cases need."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from argon2 import PasswordHasher

from services.common.db import Sessions
from services.common.identity import TokenSigner

ALL_SCOPES = (
    "jobs:create",
    "jobs:read",
    "jobs:cancel",
    "tokens:read",
    "tokens:write",
    "webhooks:manage",
    "credentials:manage",
)
# A key made without a scope list: everything but moving credits (POST /tokens/reserve|release|deduct),
# which a leaked CI key should not be able to do unless someone asked for it.
DEFAULT_SCOPES = tuple(scope for scope in ALL_SCOPES if scope != "tokens:write")
ROLES = ("USER", "ADMIN")


async def _nobody_listens(_revoked_id: str) -> None:
    return None


@dataclass(frozen=True)
class Deps:
    sessions: Sessions
    signer: TokenSigner
    hasher: PasswordHasher = field(default_factory=PasswordHasher)  # argon2id, memory-hard
    announce_revoked: Callable[[str], Awaitable[None]] = _nobody_listens  # an API key's id
    announce_session_revoked: Callable[[str], Awaitable[None]] = _nobody_listens  # a login's (chain's) id
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)
