"""The blob store's key layout, in one place; each prefix has one writer.

| prefix                                   | what                                      | written by |
| ---------------------------------------- | ----------------------------------------- | ---------- |
| `uploads/<account>/<job>/source`         | a classic job's uploaded source           | gateway    |
| `uploads/<account>/<job>/parts/<nnnnn>`  | its chunks before they are joined         | gateway    |
| `files/incoming/<hex>`                   | a Media API upload, staged                | gateway    |
| `files/sha256/<digest>`                  | stored content, once per digest           | ingest     |
| `files/thumbs/<digest>/<size>.jpg`       | thumbnails of stored content              | ingest     |
| `outputs/<job>/output.<ext>`             | a job's output                            | encoder    |
| `outputs/<job>/poster-<size>.jpg`        | its poster frames                         | encoder    |

An upload's key names its account, so the owner of sources (ingest) can tell whose it is from
the key alone: a key is a source only for the account it belongs to. Uploads of releases before
that (`uploads/<job>/source`) are still recognised as their job's, never as anyone's source.
"""

from __future__ import annotations

import posixpath
import uuid

UPLOADS = "uploads/"
FILE_CONTENT = "files/sha256/"
FILE_STAGING = "files/incoming/"
FILE_THUMBS = "files/thumbs/"
OUTPUTS = "outputs/"


def upload_source(account_id: uuid.UUID | str, job_id: str) -> str:
    return f"{UPLOADS}{account_id}/{job_id}/source"


def upload_parts(account_id: uuid.UUID | str, job_id: str) -> str:
    """The folder of a chunked upload's parts."""
    return f"{UPLOADS}{account_id}/{job_id}/parts"


def upload_part(account_id: uuid.UUID | str, job_id: str, index: int) -> str:
    return f"{upload_parts(account_id, job_id)}/{index:05d}"


def upload_account(key: str) -> uuid.UUID | None:
    """The account an upload key belongs to; None for any other key (and for uploads of older releases)."""
    parts = key.split("/")
    if len(parts) < 4 or parts[0] != UPLOADS.rstrip("/"):
        return None
    try:
        return uuid.UUID(parts[1])
    except ValueError:
        return None


def is_upload_of(key: str, job_id: str) -> bool:
    """Whether the key is the job's own upload (either layout)."""
    parts = key.split("/")
    return key.startswith(UPLOADS) and job_id in parts[1:3]


def file_content(sha256: str) -> str:
    return f"{FILE_CONTENT}{sha256}"


def content_digest(key: str) -> str | None:
    """The digest a stored-content key addresses; None for any other key."""
    return key.removeprefix(FILE_CONTENT) if key.startswith(FILE_CONTENT) else None


def file_thumbs(sha256: str) -> str:
    return f"{FILE_THUMBS}{sha256}"


def file_thumb(sha256: str, size: str) -> str:
    return f"{file_thumbs(sha256)}/{size}.jpg"


def output(job_id: uuid.UUID | str, extension: str) -> str:
    return f"{OUTPUTS}{job_id}/output.{extension}"


def poster(output_key: str, size: str) -> str:
    """A poster frame beside its output."""
    return posixpath.join(posixpath.dirname(output_key), f"poster-{size}.jpg")
