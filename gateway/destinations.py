"""Customer storage in requests (`outputS3`, `outputGoogleDrive`, folder sources): validated, their credentials
sealed here before any RPC carries them, or a saved credential's sealed copy fetched from ingest."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import Field

from gateway.clients import CLIENTS, call_options
from gateway.schemas import Body
from protos.common.v1 import storage_pb2
from protos.ingest.v1 import credentials_pb2
from services.common.errors import FieldViolation, InvalidArgument, R
from services.common.secretbox import CUSTOMER_CREDENTIALS, SecretBox

SEALER = web.AppKey("sealer", SecretBox)


class S3Connection(Body):
    """A customer bucket and how to reach it; its keys are sealed the moment it becomes a location."""

    bucket: str = Field(min_length=3, max_length=255)
    region: str | None = Field(None, max_length=64)
    endpoint: str | None = Field(None, max_length=2048)
    access_key_id: str | None = Field(None, max_length=256)
    secret_access_key: str | None = Field(None, max_length=1024)
    force_path_style: bool = True

    def location(self, request: web.Request, field: str, *, key: str = "", prefix: str = "") -> storage_pb2.S3Location:
        """The location of key or prefix in this bucket, credentials sealed (both keys or neither)."""
        if bool(self.access_key_id) != bool(self.secret_access_key):
            raise InvalidArgument(
                f"{field} needs both accessKeyId and secretAccessKey, or neither.",
                reason=R.BODY_INVALID,
                violations=[FieldViolation(f"{field}.secretAccessKey", "must come with accessKeyId")],
            )
        keys = {"accessKeyId": self.access_key_id, "secretAccessKey": self.secret_access_key}
        return storage_pb2.S3Location(
            bucket=self.bucket,
            key=key,
            prefix=prefix,
            region=self.region or "",
            endpoint=self.endpoint or "",
            force_path_style=self.force_path_style,
            credentials=_seal(request.app[SEALER], keys),
        )


class S3Output(S3Connection):
    """The contract's S3Output (key or prefix: the SDK's CLI allows a prefix too)."""

    key: str | None = Field(None, min_length=1, max_length=1024)
    prefix: str | None = Field(None, max_length=1024)
    force_path_style: bool = False


class S3FolderOutput(S3Output):
    """Folder ingest's outputS3: a prefix (default outputs/) the source's name goes under."""

    prefix: str | None = Field("outputs/", max_length=1024)
    force_path_style: bool = True


class S3FolderSource(S3Connection):
    prefix: str = Field("", max_length=1024)


class DriveAccess(Body):
    """How a Drive object is opened: a saved service account (credentialId, the contract's 0.2.8 shape)
    or the caller's own OAuth tokens (the 53k shape); a compatible server takes both."""

    credential_id: uuid.UUID | None = Field(None, strict=False)  # a JSON string in uuid form
    access_token: str | None = Field(None, max_length=4096)
    refresh_token: str | None = Field(None, max_length=4096)


class GoogleDriveFolderSource(DriveAccess):
    folder_id: str = Field(min_length=1, max_length=256)


class GoogleDriveOutput(DriveAccess):
    folder_id: str = Field(min_length=1, max_length=256)
    file_name: str | None = Field(None, min_length=1, max_length=255)


class GoogleDriveSelectedFile(DriveAccess):
    """One item of sourceGoogleDriveFiles (the credential fields are this server's extension: without
    them the contract falls back to a dashboard Drive connection, which vidkiln does not have)."""

    file_id: str = Field(min_length=1, max_length=256)
    file_name: str = Field(min_length=1, max_length=255)
    mime_type: str | None = Field(None, max_length=255)


def _seal(box: SecretBox, values: dict[str, str | None]) -> str:
    kept = {k: v for k, v in values.items() if v}
    return box.seal_json(kept, context=CUSTOMER_CREDENTIALS) if kept else ""


class S3ObjectSource(S3Connection):
    """POST /jobs sourceS3: one object (no field is marked required in the contract; bucket and key are)."""

    key: str = Field(min_length=1, max_length=1024)


def object_source(request: web.Request, s3: S3ObjectSource) -> storage_pb2.Source:
    return storage_pb2.Source(s3=s3.location(request, "sourceS3", key=s3.key))


async def drive_credentials(request: web.Request, access: DriveAccess, field: str) -> str:
    """The sealed credentials a Drive location carries: a saved credential's (the account's own, else
    404 credential_not_found) or the caller's tokens; neither is 401 google_drive_not_connected."""
    if access.credential_id is not None and access.access_token:
        raise InvalidArgument(
            f"{field} takes credentialId or accessToken, not both.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation(f"{field}.accessToken", "not with credentialId")],
        )
    if access.credential_id is not None:
        used = await request.app[CLIENTS].credentials.UseDriveCredential(
            credentials_pb2.UseDriveCredentialRequest(id=str(access.credential_id)), **call_options(request)
        )
        return used.sealed
    if not access.access_token:
        raise InvalidArgument(
            f"{field} needs a credentialId (POST /ondemand/credentials/google-drive) or a current accessToken "
            "from your Google OAuth flow.",
            reason=R.GOOGLE_DRIVE_NOT_CONNECTED,
        )
    return _seal(request.app[SEALER], {"accessToken": access.access_token, "refreshToken": access.refresh_token})


async def folder_source(
    request: web.Request, s3: S3FolderSource | None, drive: GoogleDriveFolderSource | None
) -> storage_pb2.Source:
    """The folder to list: an S3 prefix or a Drive folder, credentials sealed."""
    if (s3 is None) == (drive is None):
        raise InvalidArgument(
            "Give exactly one of sourceS3 and sourceGoogleDrive.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation("sourceS3", "exactly one source is required")],
        )
    if s3 is not None:
        return storage_pb2.Source(s3=s3.location(request, "sourceS3", prefix=s3.prefix))
    assert drive is not None
    return storage_pb2.Source(
        google_drive=storage_pb2.DriveLocation(
            folder_id=drive.folder_id, credentials=await drive_credentials(request, drive, "sourceGoogleDrive")
        )
    )


async def destination(
    request: web.Request, expiry: int, s3: S3Output | None, drive: GoogleDriveOutput | None
) -> storage_pb2.Destination:
    """The blob store (always: the download link) and the customer's bucket or folder, sealed."""
    found = storage_pb2.Destination(cdn=storage_pb2.CdnDestination(expiry_seconds=expiry))
    if s3 is not None:
        if not s3.key and s3.prefix is None:
            raise InvalidArgument(
                "outputS3 needs a key (or a prefix the output's file name is appended to).",
                reason=R.BODY_INVALID,
                violations=[FieldViolation("outputS3.key", "is required")],
            )
        found.s3.CopyFrom(s3.location(request, "outputS3", key=s3.key or "", prefix=s3.prefix or ""))
    if drive is not None:
        found.google_drive.CopyFrom(
            storage_pb2.DriveLocation(
                folder_id=drive.folder_id,
                file_name=drive.file_name or "",
                credentials=await drive_credentials(request, drive, "outputGoogleDrive"),
            )
        )
    return found
