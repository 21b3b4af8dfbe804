"""Who is calling: principals, the signed internal tokens that carry them, and their context."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from services.common.clock import utcnow
from services.common.errors import R, Unauthenticated
from services.common.keys import derive_key

_AUDIENCE = "vidkiln-internal"
# Scopes only services mint for each other (no API key or session can carry one: auth knows none of them).
DELETE_OBJECTS = "internal:delete-objects"
_ISSUER = "vidkiln-auth"
# No token lives longer (auth refuses settings beyond it): a process that remembers a revoked key or
# session this long has outlived every token naming it.
MAX_TOKEN_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its account, role, scopes and the key (or login session) it used."""

    account_id: uuid.UUID
    scopes: frozenset[str]
    role: str = "USER"
    key_id: uuid.UUID | None = None
    session: bool = False  # a login session (access token), not an API key
    session_id: uuid.UUID | None = None  # that login (its refresh-token chain): revoked by logout


class TokenSigner:
    """Issues and verifies the short-lived HS256 tokens services accept as credentials."""

    def __init__(self, platform_key: bytes, *, ttl: timedelta = timedelta(minutes=5)) -> None:
        self._key = derive_key(platform_key, "internal-token")
        self.ttl = ttl

    def issue(
        self,
        principal: Principal,
        *,
        now: datetime | None = None,
        not_after: datetime | None = None,
        ttl: timedelta | None = None,
    ) -> tuple[str, datetime]:
        """A token for the principal and the moment it expires (never later than not_after)."""
        issued = now or utcnow()
        lifetime = ttl or self.ttl
        expires = issued + lifetime if not_after is None else min(issued + lifetime, not_after)
        claims = {
            "sub": str(principal.account_id),
            "scp": sorted(principal.scopes),
            "rol": principal.role,
            "kid": str(principal.key_id) if principal.key_id else None,
            "ses": principal.session,
            "sid": str(principal.session_id) if principal.session_id else None,
            "aud": _AUDIENCE,
            "iss": _ISSUER,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm="HS256"), expires

    def verify(self, token: str) -> Principal:
        """The principal a token carries; Unauthenticated when it is forged, malformed or expired."""
        return self.verify_expiring(token)[0]

    def verify_expiring(self, token: str) -> tuple[Principal, datetime]:
        """The principal a token carries and the moment the token expires."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=_AUDIENCE,
                issuer=_ISSUER,
                options={"require": ["exp", "sub", "aud", "iss"]},
            )
            principal = Principal(
                account_id=uuid.UUID(claims["sub"]),
                scopes=frozenset(claims.get("scp") or ()),
                role=str(claims.get("rol") or "USER"),
                key_id=uuid.UUID(claims["kid"]) if claims.get("kid") else None,
                session=bool(claims.get("ses")),
                session_id=uuid.UUID(claims["sid"]) if claims.get("sid") else None,
            )
            return principal, datetime.fromtimestamp(int(claims["exp"]), UTC)
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The credentials have expired.", reason=R.TOKEN_EXPIRED) from exc
        except (jwt.InvalidTokenError, ValueError, KeyError, TypeError, OverflowError, OSError) as exc:
            raise Unauthenticated("The credentials are not valid.", reason=R.TOKEN_INVALID) from exc


_principal: ContextVar[Principal | None] = ContextVar("vidkiln_principal", default=None)
_token: ContextVar[str | None] = ContextVar("vidkiln_token", default=None)


def set_caller(principal: Principal, token: str) -> None:
    """Binds the verified caller to the current task (done once, by the server interceptor)."""
    _principal.set(principal)
    _token.set(token)


def current_principal() -> Principal:
    """The caller of the RPC being served; Unauthenticated outside an authenticated call."""
    principal = _principal.get()
    if principal is None:
        raise Unauthenticated("This call needs credentials.")
    return principal


def caller_metadata() -> tuple[tuple[str, str], ...]:
    """gRPC metadata that forwards the current caller's token to another service."""
    token = _token.get()
    return bearer_metadata(token) if token else ()


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """gRPC metadata carrying a token."""
    return (("authorization", f"Bearer {token}"),)
