"""What the file use cases need: the database, the blob store, the seal checker and threads for media."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from services.common.blobstore import BlobStore
from services.common.db import Sessions
from services.common.signing import UrlSigner


@dataclass(frozen=True)
class FileDeps:
    sessions: Sessions
    blobs: BlobStore
    sealer: UrlSigner  # checks the gateway's seal over a staged upload's digest
    # Probes and thumbnails decode with PyAV: a few threads of their own, never all of the default pool's.
    media_threads: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="file-media")
    )
