"""Deleting a finished job's objects from the blob store, for jobs (the one service that knows whose job is whose).

jobs names the keys of a job of the caller's it has checked; the call needs an internal scope no API key can
carry (services.common.identity.DELETE_OBJECTS). The keys are still checked here: outputs, or an upload of
the caller's own account, never stored content (its references are counted by the files use cases).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from services.common import blobkeys
from services.common.blobstore import BlobStore, check_key
from services.common.errors import FieldViolation, InvalidArgument, R
from services.common.identity import Principal


def _deletable(key: str, principal: Principal) -> bool:
    try:
        check_key(key)
    except ValueError:
        return False
    if key.startswith(blobkeys.OUTPUTS):
        return True
    owner = blobkeys.upload_account(key)
    legacy = key.startswith(blobkeys.UPLOADS) and len(key.split("/")) == 3  # uploads/<job>/source of old releases
    return owner == principal.account_id or legacy


async def delete_job_objects(blobs: BlobStore, principal: Principal, keys: Sequence[str]) -> int:
    """Removes the keys (and what lies under them); how many objects went."""
    refused = [key for key in keys if not _deletable(key, principal)]
    if refused:
        raise InvalidArgument(
            "Only a job's outputs and uploads can be deleted this way.",
            reason=R.REQUEST_INVALID,
            violations=[FieldViolation("keys", "must be outputs or the caller's uploads")],
        )
    return await asyncio.to_thread(blobs.delete_many, list(keys))
