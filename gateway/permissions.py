"""Scopes (the Encode API's) -> the permission names the Media API reports, one table for both."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from services.common.identity import Principal

PERMISSIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "jobs:create": ("create_jobs", "generate_videos", "upload_files"),
        "jobs:read": ("read_jobs", "read_videos", "read_files"),
        "jobs:cancel": ("cancel_jobs", "delete_jobs", "delete_files"),
        "tokens:read": ("read_tokens",),
        "tokens:write": ("manage_tokens",),
        "webhooks:manage": ("manage_webhooks",),
        "credentials:manage": ("manage_credentials",),
    }
)
SESSION_PERMISSIONS = ("manage_api_keys",)  # a login session, not an API key
ADMIN_PERMISSIONS = ("admin",)


def permissions_of(principal: Principal) -> list[str]:
    """What the caller may do, in the Media API's words."""
    names = [name for scope in sorted(principal.scopes) for name in PERMISSIONS.get(scope, ())]
    if principal.session:
        names += SESSION_PERMISSIONS
    if principal.role == "ADMIN":
        names += ADMIN_PERMISSIONS
    return names
