"""Request bodies of the Encode API, validated strictly (unknown fields and wrong types refused)."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from gateway.options import option_model
from services.common import jsontext
from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, R

Model = TypeVar("Model", bound=BaseModel)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, alias_generator=to_camel, validate_by_name=False)


# Documented fields whose features arrive with later work: refused by name, never silently ignored.
_NOT_YET = (
    "optimize",
    "vmaf_target",
    "job_mode",
    "package_type",
    "hls",
)


# The encode options, one field each (gateway/options.py), with the Encode API's defaults (30 fps, forced; a
# superset of the contract's enums: vp9 and 4320p too); or each optional, for the routes that change some.
_WithDefaults = option_model("EncodeOptionsWithDefaults", Body, with_defaults=True)


class EncodeSettings(_WithDefaults):  # type: ignore[misc, valid-type]  # a base built from the rules
    """The encode settings POST /ondemand/encode and folder ingest share."""

    metadata: dict[str, Any] | None = None
    priority: Literal["normal", "high"] = "normal"
    output_expiry: int = Field(86400, ge=3600, le=604800)
    output_dropbox: Any = None
    optimize: Any = None
    vmaf_target: Any = None
    job_mode: Any = None
    package_type: Any = None
    hls: Any = None
    # Validated and sealed by gateway.destinations (kept raw here, so no model holds the secrets long).
    output_s3: dict[str, Any] | None = None
    output_google_drive: dict[str, Any] | None = None

    def check_supported(self) -> None:
        """410 for Dropbox; 400 naming each documented field this server cannot honour yet."""
        if self.output_dropbox is not None:
            raise FailedPrecondition(
                "Dropbox is no longer supported; deliver to S3, Google Drive or the CDN.",
                reason=R.DROPBOX_DEPRECATED,
            )
        unsupported = [name for name in _NOT_YET if getattr(self, name) is not None]
        if unsupported:
            raise InvalidArgument(
                "Some requested features are not supported by this server yet.",
                reason=R.BODY_INVALID,
                violations=[FieldViolation(to_camel(n), "is not supported by this server yet") for n in unsupported],
            )


class OnDemandEncodeRequest(EncodeSettings):
    source_url: str | None = Field(None, min_length=1, max_length=8192)
    # vidkiln's own: a file uploaded through POST /api/v1/files/upload (its id) as the source.
    source_file_id: str | None = Field(None, min_length=1, max_length=64)
    external_id: str | None = Field(None, max_length=255)
    # One unsigned callback when the job ends (job.completed, job.failed or job.canceled).
    webhook: str | None = Field(None, min_length=1, max_length=2048)

    def check_supported(self) -> None:
        if (self.source_url is None) == (self.source_file_id is None):
            raise InvalidArgument(
                "Give sourceUrl, or sourceFileId for an uploaded file.",
                reason=R.BODY_INVALID,
                violations=[FieldViolation("sourceUrl", "Field required")],
            )
        super().check_supported()


class FolderIngestRequest(EncodeSettings):
    """POST /ondemand/ingest/folder: one job per video in a customer's S3 prefix or Drive folder."""

    source_s3: dict[str, Any] | None = None
    source_google_drive: dict[str, Any] | None = None
    source_google_drive_files: list[dict[str, Any]] | None = Field(None, min_length=1, max_length=1000)
    source_dropbox: Any = None
    output_destination: Literal["cdn", "s3", "google-drive"] = "cdn"
    max_files: int | None = Field(None, ge=1, le=1000)
    external_id_prefix: str | None = Field(None, max_length=200)

    def check_supported(self) -> None:
        if self.source_dropbox is not None:
            raise FailedPrecondition(
                "Dropbox is no longer supported; read from S3 or Google Drive.", reason=R.DROPBOX_DEPRECATED
            )
        super().check_supported()


async def read_json(request: web.Request, model: type[Model], *, optional: bool = False) -> Model:
    """Parses and validates a JSON body; 400 invalid_body with per-field issues when it is wrong.

    `optional`: an empty body (the SDK sends none for several POSTs) means an empty object."""
    return validate(model, await read_raw(request, optional=optional))


async def read_raw(request: web.Request, *, optional: bool = False) -> Any:
    """The JSON body as parsed (for hashing an Idempotency-Key before validation)."""
    raw = await request.read()
    if optional and not raw.strip():
        return {}
    if request.content_type != "application/json":
        raise InvalidArgument(
            "Send the body as JSON with Content-Type: application/json.", reason=R.CONTENT_TYPE_UNSUPPORTED
        )
    try:
        return jsontext.loads(raw or b"null")
    except jsontext.JsonTextError as exc:
        raise InvalidArgument(f"The body is not valid JSON: {exc}.", reason=R.BODY_INVALID) from None


def validate(model: type[Model], data: Any, *, prefix: str = "") -> Model:
    """The model for already-parsed JSON; 400 invalid_body with per-field issues (paths under `prefix`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        violations = [
            FieldViolation(".".join(str(p) for p in (prefix, *error["loc"]) if p != "") or "body", error["msg"])
            for error in exc.errors()
        ]
        raise InvalidArgument("The request body is not valid.", reason=R.BODY_INVALID, violations=violations) from exc


class LoginRequest(Body):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=8, max_length=1024)


class RefreshRequest(Body):
    refresh_token: str = Field(min_length=1, max_length=512)


class ApiKeyCreateRequest(Body):
    name: str = Field(min_length=1, max_length=255)
    scopes: (
        list[
            Literal[
                "jobs:create",
                "jobs:read",
                "jobs:cancel",
                "tokens:read",
                "tokens:write",
                "webhooks:manage",
                "credentials:manage",
            ]
        ]
        | None
    ) = None  # left out: the default (every scope but tokens:write); [] : none
    expires_in_days: int | None = Field(None, ge=1, le=365)


class _NotYet(Body):
    """Documented options whose features arrive with later work: refused by name, never ignored."""

    optimize: Literal["none"] | None = None  # vmaf is not offered (yet): refused by its enum
    vmaf_target: Any = None

    def check_supported(self) -> None:
        if self.vmaf_target is not None:
            raise InvalidArgument(
                "VMAF targeting is not supported by this server yet.",
                reason=R.BODY_INVALID,
                violations=[FieldViolation("vmafTarget", "is not supported by this server yet")],
            )


# Encode settings a later step may change (approve, confirm, bulk settings): any option, each optional.
_Overrides = option_model("EncodeOptionOverrides", _NotYet, with_defaults=False)
# POST /jobs: the contract requires codec, resolution and fps; the rest default as the Encode API documents.
_ClassicOptions = option_model(
    "ClassicEncodeOptions", _NotYet, with_defaults=False, required=("codec", "resolution", "fps")
)


class JobCreateRequest(_ClassicOptions):  # type: ignore[misc, valid-type]  # a base built from the rules
    """POST /jobs: the classic flow (codec, resolution and fps are required by the contract)."""

    external_id: str | None = Field(None, max_length=255)
    metadata: dict[str, Any] | None = None
    policy: Literal["fastest", "gpu_first", "gpu_only"] = "gpu_first"
    source_url: str | None = Field(None, min_length=1, max_length=8192)
    original_filename: str | None = Field(None, max_length=255)
    source_s3: dict[str, Any] | None = None  # validated and sealed by gateway.destinations
    confirm: bool = False
    priority: Literal["normal", "high"] = "normal"

    def check_supported(self) -> None:
        super().check_supported()
        if self.policy == "gpu_only":
            raise InvalidArgument(
                "This platform encodes on CPUs: gpu_only cannot be honoured.",
                reason=R.OPTIONS_INCOMPATIBLE,
                violations=[FieldViolation("policy", "no GPU encoders on this platform")],
            )


class BulkSettings(_Overrides):  # type: ignore[misc, valid-type]  # a base built from the rules
    fail_fast: bool = False
    dry_run: bool = False
    confirm: bool = False


class BulkCreateRequest(Body):
    jobs: list[JobCreateRequest] = Field(min_length=1, max_length=1000)
    settings: BulkSettings = Field(default_factory=BulkSettings)


class ApproveRequest(_Overrides):  # type: ignore[misc, valid-type]  # a base built from the rules
    """POST /jobs/{id}/approve-unified: the create's settings may still change here."""

    policy: Literal["fastest", "gpu_first", "gpu_only"] | None = None


class ConfirmRequest(_Overrides):  # type: ignore[misc, valid-type]  # a base built from the rules
    """POST /jobs/{id}/confirm."""


class BulkConfirmRequest(Body):
    job_ids: list[str] = Field(min_length=1, max_length=1000)
    settings: ConfirmRequest = Field(default_factory=ConfirmRequest)


class CreditRequest(Body):
    """POST /tokens/reserve | release | deduct."""

    job_id: str = Field(min_length=1, max_length=64)
    amount: int = Field(ge=1, le=10**9)


class StreamPart(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    PartNumber: int = Field(ge=1, le=10000)  # noqa: N815 - the contract's PascalCase
    ETag: str = Field(min_length=1, max_length=128)  # noqa: N815


class StreamFinalizeRequest(Body):
    parts: list[StreamPart] | None = None


class WebhookCreateRequest(Body):
    url: str = Field(min_length=1, max_length=2048)
    events: list[str] = Field(min_length=1, max_length=16)


class WebhookUpdateRequest(Body):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    events: list[str] | None = Field(default=None, min_length=1, max_length=16)
    is_active: bool | None = None


class MediaWebhookCreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    url: str = Field(min_length=1, max_length=2048)
    events: list[str] = Field(min_length=1, max_length=16)
    secret: str | None = Field(default=None, min_length=8, max_length=256)
