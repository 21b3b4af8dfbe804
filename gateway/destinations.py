"""Customer storage in requests (`sourceS3`, `outputS3`, `outputGoogleDrive`, folder sources): JSON checked and
translated into the references ingest resolves (services/ingest/refs.py): it seals the keys, and looks a saved
credential up in the caller's own account. Nothing here opens or seals a credential."""

from __future__ import annotations

import uuid

from pydantic import Field

from gateway.schemas import Body
from protos.common.v1 import storage_pb2
from services.common.errors import FieldViolation, InvalidArgument, R


class S3Connection(Body):
    """A customer bucket and how to reach it (its keys go to ingest, which seals them)."""

    bucket: str = Field(min_length=3, max_length=255)
    region: str | None = Field(None, max_length=64)
    endpoint: str | None = Field(None, max_length=2048)
    access_key_id: str | None = Field(None, max_length=256)
    secret_access_key: str | None = Field(None, max_length=1024)
    force_path_style: bool = True

    def location(
        self, field: str, *, key: str = "", prefix: str = ""
    ) -> tuple[storage_pb2.S3Location, storage_pb2.S3Keys]:
        """The location of key or prefix in this bucket, and its keys (both or neither)."""
        if bool(self.access_key_id) != bool(self.secret_access_key):
            raise InvalidArgument(
                f"{field} needs both accessKeyId and secretAccessKey, or neither.",
                reason=R.BODY_INVALID,
                violations=[FieldViolation(f"{field}.secretAccessKey", "must come with accessKeyId")],
            )
        location = storage_pb2.S3Location(
            bucket=self.bucket,
            key=key,
            prefix=prefix,
            region=self.region or "",
            endpoint=self.endpoint or "",
            force_path_style=self.force_path_style,
        )
        return location, storage_pb2.S3Keys(
            access_key_id=self.access_key_id or "", secret_access_key=self.secret_access_key or ""
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


class S3ObjectSource(S3Connection):
    """POST /jobs sourceS3: one object (no field is marked required in the contract; bucket and key are)."""

    key: str = Field(min_length=1, max_length=1024)


def object_source(s3: S3ObjectSource) -> storage_pb2.SourceRef:
    location, keys = s3.location("sourceS3", key=s3.key)
    return storage_pb2.SourceRef(s3=location, s3_keys=keys)


def drive_access(access: DriveAccess, field: str) -> storage_pb2.DriveAccess:
    """How a Drive object is opened: a saved credential of the caller's, or its OAuth tokens (not both)."""
    if access.credential_id is not None and access.access_token:
        raise InvalidArgument(
            f"{field} takes credentialId or accessToken, not both.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation(f"{field}.accessToken", "not with credentialId")],
        )
    return storage_pb2.DriveAccess(
        credential_id=str(access.credential_id or ""),
        access_token=access.access_token or "",
        refresh_token=access.refresh_token or "",
    )


def folder_source(s3: S3FolderSource | None, drive: GoogleDriveFolderSource | None) -> storage_pb2.SourceRef:
    """The folder to list: an S3 prefix or a Drive folder."""
    if (s3 is None) == (drive is None):
        raise InvalidArgument(
            "Give exactly one of sourceS3 and sourceGoogleDrive.",
            reason=R.BODY_INVALID,
            violations=[FieldViolation("sourceS3", "exactly one source is required")],
        )
    if s3 is not None:
        location, keys = s3.location("sourceS3", prefix=s3.prefix)
        return storage_pb2.SourceRef(s3=location, s3_keys=keys)
    assert drive is not None
    return storage_pb2.SourceRef(
        google_drive=storage_pb2.DriveLocation(folder_id=drive.folder_id),
        drive_access=drive_access(drive, "sourceGoogleDrive"),
    )


def destination(expiry: int, s3: S3Output | None, drive: GoogleDriveOutput | None) -> storage_pb2.DestinationRef:
    """The blob store (always: the download link) and the customer's bucket or folder."""
    found = storage_pb2.DestinationRef(expiry_seconds=expiry)
    if s3 is not None:
        if not s3.key and s3.prefix is None:
            raise InvalidArgument(
                "outputS3 needs a key (or a prefix the output's file name is appended to).",
                reason=R.BODY_INVALID,
                violations=[FieldViolation("outputS3.key", "is required")],
            )
        location, keys = s3.location("outputS3", key=s3.key or "", prefix=s3.prefix or "")
        found.s3.CopyFrom(location)
        found.s3_keys.CopyFrom(keys)
    if drive is not None:
        found.google_drive.CopyFrom(
            storage_pb2.DriveLocation(folder_id=drive.folder_id, file_name=drive.file_name or "")
        )
        found.drive_access.CopyFrom(drive_access(drive, "outputGoogleDrive"))
    return found
