"""Content-addressed storage in the blob store: where a digest's bytes live, moving staged uploads there.

Keys: `files/incoming/<hex>` (an upload the gateway staged), `files/sha256/<digest>` (content, once
per digest), `files/thumbs/<digest>/<size>.jpg` (thumbnails made from it).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common import blobkeys
from services.common.blobstore import BlobStore
from services.common.errors import InvalidArgument, PermissionDenied, R
from services.common.signing import UrlSigner

STAGING_PREFIX = blobkeys.FILE_STAGING
_STAGING = re.compile(r"^files/incoming/[0-9a-f]{32}$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
SEAL_PURPOSE = "file-digest"


content_key = blobkeys.file_content
thumbs_key = blobkeys.file_thumbs
thumb_key = blobkeys.file_thumb


def seal_signer(platform_key: bytes) -> UrlSigner:
    """Signs (and checks) the gateway's claim that a staged upload has a given size and digest."""
    return UrlSigner(platform_key, purpose=SEAL_PURPOSE, prefix="")


@dataclass(frozen=True)
class Staged:
    key: str
    size: int
    sha256: str


def check_staged(
    signer: UrlSigner, *, key: str, size: int, sha256: str, seal: str, expires: int, now: datetime
) -> Staged:
    """The staged upload when its seal holds and it is still there with the size claimed."""
    if not _STAGING.fullmatch(key) or not _DIGEST.fullmatch(sha256) or size <= 0:
        raise InvalidArgument("Not a staged upload.", reason=R.REQUEST_INVALID)
    if not signer.verify(key, expires=expires, sig=seal, sha256=sha256, size=str(size)):
        raise PermissionDenied("The upload's seal is not valid.", reason=R.FORBIDDEN)
    if expires <= now.timestamp():
        raise PermissionDenied("The upload's seal has expired.", reason=R.FORBIDDEN)
    return Staged(key, size, sha256)


def staged_size(blobs: BlobStore, key: str) -> int | None:
    info = blobs.stat(key)
    return info.size if info is not None else None


def adopt(blobs: BlobStore, staged: Staged) -> None:
    """Moves a staged upload to its content address (local: synced, renamed, the directory synced)."""
    blobs.move(staged.key, content_key(staged.sha256))


def retire(blobs: BlobStore, sha256: str) -> str | None:
    """Moves content out of its address (undoable until `purge`); the trash key, or None."""
    trash = f"files/trash/{sha256}.{secrets.token_hex(6)}"
    try:
        blobs.move(content_key(sha256), trash)
    except FileNotFoundError:
        return None
    return trash


def restore(blobs: BlobStore, sha256: str, trash: str) -> None:
    """Undoes `retire` (the transaction that retired the content did not commit)."""
    blobs.move(trash, content_key(sha256))


def purge(blobs: BlobStore, sha256: str, trash: str | None) -> None:
    """Deletes retired content for good, and the thumbnails made from it."""
    if trash is not None:
        blobs.delete(trash)
    blobs.delete(thumbs_key(sha256))


def sweep(blobs: BlobStore, *, older_than: timedelta, now: datetime) -> int:
    """Removes what a crash left behind: staged uploads never recorded, content renamed aside for
    deletion and never purged (both older than `older_than`, so no transaction still uses them)."""
    removed = 0
    for prefix in (STAGING_PREFIX, "files/trash/"):
        for leftover in list(blobs.listing(prefix.rstrip("/"))):
            if now.timestamp() - leftover.mtime > older_than.total_seconds():
                blobs.delete(leftover.key)
                removed += 1
    return removed
