"""The gateway's aiohttp application."""

from __future__ import annotations

from aiohttp import web
from opentelemetry.sdk.trace import TracerProvider

from gateway import downloads, files, uploads
from gateway.auth import RESOLVER, auth_middleware, public
from gateway.clients import CLIENTS, Clients
from gateway.errors import error_middleware
from gateway.jobview import JOB_VIEW, JobView
from gateway.limiter import RateLimiter
from gateway.ratelimit import LIMITER, LIMITS, Limits, add_headers, rate_limit_middleware
from gateway.routes import (
    account_api,
    classic_api,
    credentials_api,
    encode_api,
    files_api,
    folder_api,
    media_api,
    media_auth,
    tokens_api,
    upload_api,
    webhooks_api,
)
from gateway.tracing import tracing_middleware
from services.common.blobstore import BlobStore
from services.common.credentials import CredentialResolver
from services.common.identity import TokenSigner
from services.common.signing import UrlSigner


@public
async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(
    *,
    clients: Clients,
    resolver: CredentialResolver,
    tracer_provider: TracerProvider,
    blobs: BlobStore,
    signer: UrlSigner,
    upload_signer: UrlSigner,
    file_signer: UrlSigner,
    seal_signer: UrlSigner,
    tokens: TokenSigner,
    public_url: str | None,
    max_body_bytes: int,
    max_upload_bytes: int,
    limiter: RateLimiter,
    limits: Limits,
    job_view: JobView,
) -> web.Application:
    """Middlewares run tracing -> errors -> auth -> rate limits, so every error is traced, every route
    guarded, and only known callers spend a budget."""
    app = web.Application(
        middlewares=[tracing_middleware(tracer_provider), error_middleware, auth_middleware, rate_limit_middleware],
        client_max_size=max_body_bytes,
    )
    app[LIMITER] = limiter
    app[LIMITS] = limits
    app.on_response_prepare.append(add_headers)
    app[CLIENTS] = clients
    app[JOB_VIEW] = job_view
    app[RESOLVER] = resolver
    app[downloads.SIGNER] = signer
    app[downloads.BLOBS] = blobs
    app[downloads.PUBLIC_URL] = public_url or ""
    app[uploads.UPLOAD_SIGNER] = upload_signer
    app[uploads.TOKENS] = tokens
    app[uploads.MAX_UPLOAD] = max_upload_bytes
    app[files.FILE_SIGNER] = file_signer
    app[files.SEALER] = seal_signer
    app.router.add_get("/health", health)
    app.router.add_get("/cdn/{key:.+}", public(downloads.serve))  # and HEAD
    for routes in (
        encode_api.routes,
        folder_api.routes,
        classic_api.routes,  # before uploads: /jobs/bulk/... is not a job id
        upload_api.routes,
        tokens_api.routes,
        account_api.routes,
        media_api.routes,
        files_api.routes,
        media_auth.routes,
        webhooks_api.routes,
        credentials_api.routes,
    ):
        app.add_routes(routes)
    return app
