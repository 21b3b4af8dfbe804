"""Auth use cases: accounts, login sessions, API keys, resolving credentials."""

from services.auth.domain.accounts import (
    create_account,
    find_account,
    get_account,
    list_accounts,
    set_password,
    verify_password,
)
from services.auth.domain.deps import ALL_SCOPES, DEFAULT_SCOPES, ROLES, Deps
from services.auth.domain.keys import (
    IssuedKey,
    authenticate,
    bootstrap_admin,
    create_api_key,
    delete_api_key,
    get_api_key,
    hash_key,
    list_api_keys,
)
from services.auth.domain.sessions import Tokens, login, logout, refresh, session_principal

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_SCOPES",
    "ROLES",
    "Deps",
    "IssuedKey",
    "Tokens",
    "authenticate",
    "bootstrap_admin",
    "create_account",
    "create_api_key",
    "delete_api_key",
    "find_account",
    "get_account",
    "get_api_key",
    "hash_key",
    "list_accounts",
    "list_api_keys",
    "login",
    "logout",
    "refresh",
    "session_principal",
    "set_password",
    "verify_password",
]
