"""AuthService over gRPC: proto <-> domain, nothing else."""

from __future__ import annotations

from typing import Any

import grpc

from protos.auth.v1 import auth_pb2, auth_pb2_grpc
from services.auth import domain
from services.auth.models import Account, ApiKey
from services.common.auth_client import principal_to_proto
from services.common.errors import FieldViolation, InvalidArgument, R
from services.common.identity import current_principal
from services.common.timestamps import timestamp

Context = grpc.aio.ServicerContext[Any, Any]


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, deps: domain.Deps) -> None:
        self._deps = deps

    async def Authenticate(
        self, request: auth_pb2.AuthenticateRequest, context: Context
    ) -> auth_pb2.AuthenticateResponse:
        principal, token, expires = await domain.authenticate(self._deps, credential=request.credential)
        return auth_pb2.AuthenticateResponse(
            principal=principal_to_proto(principal), token=token, expires_at=timestamp(expires)
        )

    async def Login(self, request: auth_pb2.LoginRequest, context: Context) -> auth_pb2.TokenPair:
        return _pair(await domain.login(self._deps, email=request.email, password=request.password))

    async def Refresh(self, request: auth_pb2.RefreshRequest, context: Context) -> auth_pb2.TokenPair:
        return _pair(await domain.refresh(self._deps, refresh_token=request.refresh_token))

    async def Logout(self, request: auth_pb2.LogoutRequest, context: Context) -> auth_pb2.LogoutResponse:
        await domain.logout(self._deps, refresh_token=request.refresh_token)
        return auth_pb2.LogoutResponse()

    async def GetAccount(self, request: auth_pb2.GetAccountRequest, context: Context) -> auth_pb2.Account:
        return _account(await domain.get_account(self._deps, account_id=current_principal().account_id))

    async def CreateApiKey(self, request: auth_pb2.CreateApiKeyRequest, context: Context) -> auth_pb2.ApiKey:
        if request.default_scopes and request.scopes:
            raise InvalidArgument(
                "Ask for the default scopes or for a list of scopes, not both.",
                reason=R.BODY_INVALID,
                violations=[FieldViolation("scopes", "must be empty with default_scopes")],
            )
        issued = await domain.create_api_key(
            self._deps,
            account_id=current_principal().account_id,
            name=request.name,
            scopes=domain.DEFAULT_SCOPES if request.default_scopes else list(request.scopes),
            expires_in_days=request.expires_in_days or None,
        )
        answer = _key(issued.key)
        answer.key = issued.raw
        return answer

    async def ListApiKeys(self, request: auth_pb2.ListApiKeysRequest, context: Context) -> auth_pb2.ListApiKeysResponse:
        keys = await domain.list_api_keys(self._deps, account_id=current_principal().account_id)
        return auth_pb2.ListApiKeysResponse(keys=[_key(k) for k in keys])

    async def GetApiKey(self, request: auth_pb2.GetApiKeyRequest, context: Context) -> auth_pb2.ApiKey:
        key = await domain.get_api_key(self._deps, account_id=current_principal().account_id, key_id=request.key_id)
        return _key(key)

    async def DeleteApiKey(
        self, request: auth_pb2.DeleteApiKeyRequest, context: Context
    ) -> auth_pb2.DeleteApiKeyResponse:
        await domain.delete_api_key(self._deps, account_id=current_principal().account_id, key_id=request.key_id)
        return auth_pb2.DeleteApiKeyResponse()


def _pair(tokens: domain.Tokens) -> auth_pb2.TokenPair:
    return auth_pb2.TokenPair(
        access_token=tokens.access,
        refresh_token=tokens.refresh,
        access_expires_at=timestamp(tokens.access_expires),
        refresh_expires_at=timestamp(tokens.refresh_expires),
    )


def _account(account: Account) -> auth_pb2.Account:
    return auth_pb2.Account(
        id=str(account.id),
        email=account.email,
        role=account.role,
        email_verified=account.email_verified,
        created_at=timestamp(account.created_at),
        last_sign_in_at=timestamp(account.last_sign_in_at),
    )


def _key(key: ApiKey) -> auth_pb2.ApiKey:
    return auth_pb2.ApiKey(
        id=str(key.id),
        name=key.name,
        prefix=key.prefix,
        scopes=key.scopes,
        expires_at=timestamp(key.expires_at),
        created_at=timestamp(key.created_at),
        last_used_at=timestamp(key.last_used_at),
    )
