"""Internal tokens: what they carry, how long they live, and what verify refuses."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from services.common.errors import R, Unauthenticated
from services.common.identity import (
    Principal,
    TokenSigner,
    bearer_metadata,
    caller_metadata,
    current_principal,
    set_caller,
)
from services.common.keys import derive_key

_KEY = b"identity-test-platform-key"
_NOW = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)

Claims = dict[str, Any]


def _principal() -> Principal:
    return Principal(
        account_id=uuid.uuid4(),
        scopes=frozenset({"jobs:read", "jobs:write", "webhooks:write"}),
        role="ADMIN",
        key_id=uuid.uuid4(),
    )


def _refusal(signer: TokenSigner, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        signer.verify(token)
    return caught.value.reason_name


@pytest.mark.parametrize("key_id", [uuid.uuid4(), None], ids=["with-key", "without-key"])
def test_a_token_carries_its_principal(key_id: uuid.UUID | None) -> None:
    signer = TokenSigner(_KEY)
    principal = replace(_principal(), key_id=key_id)

    token, _ = signer.issue(principal)

    assert signer.verify(token) == principal


def test_scopes_survive_exactly() -> None:
    signer = TokenSigner(_KEY)
    empty = replace(_principal(), scopes=frozenset())

    assert signer.verify(signer.issue(empty)[0]).scopes == frozenset()
    claims = jwt.decode(signer.issue(_principal())[0], options={"verify_signature": False})
    assert claims["scp"] == ["jobs:read", "jobs:write", "webhooks:write"]


def test_a_token_lives_for_the_ttl() -> None:
    signer = TokenSigner(_KEY, ttl=timedelta(minutes=5))

    token, expires = signer.issue(_principal(), now=_NOW)

    assert expires == _NOW + timedelta(minutes=5)
    assert jwt.decode(token, options={"verify_signature": False})["exp"] == int(expires.timestamp())


def test_not_after_caps_the_expiry_but_never_extends_it() -> None:
    signer = TokenSigner(_KEY, ttl=timedelta(minutes=5))

    assert signer.issue(_principal(), now=_NOW, not_after=_NOW + timedelta(minutes=1))[1] == _NOW + timedelta(minutes=1)
    assert signer.issue(_principal(), now=_NOW, not_after=_NOW + timedelta(hours=1))[1] == _NOW + timedelta(minutes=5)


def test_a_token_capped_by_a_past_not_after_is_already_expired() -> None:
    signer = TokenSigner(_KEY)
    now = datetime.now(UTC)

    token, _ = signer.issue(_principal(), now=now, not_after=now - timedelta(seconds=5))

    assert _refusal(signer, token) == "TOKEN_EXPIRED"


def test_an_expired_token_is_refused() -> None:
    signer = TokenSigner(_KEY)

    token, _ = signer.issue(_principal(), now=datetime.now(UTC) - timedelta(minutes=6))

    assert _refusal(signer, token) == "TOKEN_EXPIRED"


def test_a_token_of_another_platform_key_is_invalid() -> None:
    token, _ = TokenSigner(b"another-platform-key").issue(_principal())

    assert _refusal(TokenSigner(_KEY), token) == "TOKEN_INVALID"


def test_a_key_derived_for_another_purpose_cannot_sign_tokens() -> None:
    signer = TokenSigner(_KEY)
    claims = jwt.decode(signer.issue(_principal())[0], options={"verify_signature": False})

    token = jwt.encode(claims, derive_key(_KEY, "download-url"), algorithm="HS256")

    assert _refusal(signer, token) == "TOKEN_INVALID"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda claims: claims | {"aud": "someone-else"},
        lambda claims: claims | {"iss": "someone-else"},
        lambda claims: claims | {"sub": "not-a-uuid"},
        lambda claims: {k: v for k, v in claims.items() if k != "exp"},
    ],
    ids=["audience", "issuer", "subject", "no-expiry"],
)
def test_a_well_signed_token_with_wrong_claims_is_invalid(tamper: Callable[[Claims], Claims]) -> None:
    signer = TokenSigner(_KEY)
    claims = jwt.decode(signer.issue(_principal())[0], options={"verify_signature": False})

    token = jwt.encode(tamper(claims), derive_key(_KEY, "internal-token"), algorithm="HS256")

    assert _refusal(signer, token) == "TOKEN_INVALID"


def test_garbage_is_an_invalid_token() -> None:
    assert _refusal(TokenSigner(_KEY), "not.a.token") == "TOKEN_INVALID"


def test_the_caller_is_bound_to_the_current_context_only() -> None:
    principal = _principal()

    def inside_a_call() -> tuple[Principal, tuple[tuple[str, str], ...]]:
        set_caller(principal, "the-token")
        return current_principal(), caller_metadata()

    seen, forwarded = contextvars.copy_context().run(inside_a_call)

    assert seen == principal
    assert forwarded == bearer_metadata("the-token") == (("authorization", "Bearer the-token"),)
    assert caller_metadata() == ()
    with pytest.raises(Unauthenticated) as caught:
        current_principal()
    assert caught.value.reason == R.CREDENTIALS_MISSING
