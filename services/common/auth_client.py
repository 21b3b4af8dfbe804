"""The auth service as other processes use it: principals over the wire, API key and session lookups."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

import grpc
from nats.aio.client import Client as NATS
from opentelemetry.sdk.trace import TracerProvider

from protos.auth.v1 import auth_pb2, auth_pb2_grpc
from services.common.credentials import CredentialResolver, KeyLookup
from services.common.grpc_client import open_channel
from services.common.identity import Principal, TokenSigner


def principal_to_proto(principal: Principal) -> auth_pb2.Principal:
    return auth_pb2.Principal(
        account_id=str(principal.account_id),
        scopes=sorted(principal.scopes),
        role=principal.role,
        key_id=str(principal.key_id) if principal.key_id else "",
        session=principal.session,
        session_id=str(principal.session_id) if principal.session_id else "",
    )


def principal_from_proto(p: auth_pb2.Principal) -> Principal:
    return Principal(
        account_id=uuid.UUID(p.account_id),
        scopes=frozenset(p.scopes),
        role=p.role,
        key_id=uuid.UUID(p.key_id) if p.key_id else None,
        session=p.session,
        session_id=uuid.UUID(p.session_id) if p.session_id else None,
    )


def remote_key_lookup(channel: grpc.aio.Channel, *, timeout: float) -> KeyLookup:
    """Resolves raw API keys and access tokens by asking the auth service (errors come back as its gRPC status)."""
    stub = auth_pb2_grpc.AuthServiceStub(channel)

    async def lookup(credential: str) -> tuple[Principal, str, float]:
        answer = await stub.Authenticate(auth_pb2.AuthenticateRequest(credential=credential), timeout=timeout)
        return principal_from_proto(answer.principal), answer.token, float(answer.expires_at.seconds)

    return lookup


async def open_resolver(
    stack: AsyncExitStack,
    *,
    auth_addr: str,
    platform_key: bytes,
    tracer_provider: TracerProvider,
    timeout: float,
    nc: NATS | None = None,
) -> CredentialResolver:
    """A resolver that asks the auth service about API keys and logins (and hears its revocations on nc;
    without nc, a revocation reaches it within the resolver's cache time)."""
    channel = open_channel(auth_addr, tracer_provider)
    stack.push_async_callback(channel.close)
    resolver = CredentialResolver(TokenSigner(platform_key), remote_key_lookup(channel, timeout=timeout))
    if nc is not None:
        await resolver.listen(nc)
    return resolver
