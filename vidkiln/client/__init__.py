"""vidkiln's Python SDK: sync and async clients for the Encode API and the Media API, typed answers,
retries, `wait()`, resumable `download()`, and webhook verification.

    from vidkiln.client import Client
    with Client("http://127.0.0.1:8080", api_key="cvr_...") as client:
        job = client.encode.on_demand_encode(source_url="https://example.com/in.mp4", resolution="720p")
        client.encode.download(client.encode.wait(job.job_id), "out.mp4")
"""

from vidkiln.client import models
from vidkiln.client._client import AsyncClient, Client
from vidkiln.client._download import DownloadResult
from vidkiln.client._http import RetryEvent
from vidkiln.client.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    GoneError,
    InsufficientTokensError,
    Issue,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    UnprocessableError,
    VidkilnError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from vidkiln.client.webhooks import (
    WebhookEvent,
    parse_webhook,
    verify_encode_signature,
    verify_media_signature,
    verify_standard_webhook,
    verify_webhook,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "DownloadResult",
    "GoneError",
    "InsufficientTokensError",
    "Issue",
    "JobFailedError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryEvent",
    "ServerError",
    "ServiceUnavailableError",
    "UnprocessableError",
    "VidkilnError",
    "WaitTimeoutError",
    "WebhookEvent",
    "WebhookVerificationError",
    "models",
    "parse_webhook",
    "verify_encode_signature",
    "verify_media_signature",
    "verify_standard_webhook",
    "verify_webhook",
]
