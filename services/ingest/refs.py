"""Source and destination references resolved by their owner: checked against the caller's account, sealed.

A caller (the gateway translating JSON, or an internal team over gRPC) names a source or destination
the way the REST API takes it: a URL, a stored file's id, an object of its own bucket with its keys,
a Drive file with a saved credential's id or its OAuth tokens. Here each becomes the one `Source` or
`Destination` the platform carries: a file id another account owns is not found, a credential id
likewise, and keys are sealed at once (they travel no further in clear).
"""

from __future__ import annotations

from dataclasses import dataclass

from protos.common.v1 import storage_pb2
from services.common import blobkeys
from services.common.blobstore import check_key
from services.common.errors import FieldViolation, InvalidArgument, NotFound, R
from services.common.identity import Principal
from services.common.videofiles import is_video
from services.ingest import domain
from services.ingest.credentials import domain as credentials
from services.ingest.credentials.domain import CredentialDeps
from services.ingest.files import repository as files
from services.ingest.files.deps import FileDeps


@dataclass(frozen=True)
class Owners:
    """Where references are looked up: the sources' checks, stored files, saved credentials."""

    sources: domain.Deps
    files: FileDeps
    credentials: CredentialDeps


def _invalid(field: str, problem: str) -> InvalidArgument:
    return InvalidArgument(f"{field} {problem}.", reason=R.BODY_INVALID, violations=[FieldViolation(field, problem)])


def _no_sealed(credentials: str, field: str) -> None:
    if credentials:  # only the platform seals: a caller sends keys, never a token of its own making
        raise _invalid(f"{field}.credentials", "must be empty: send the keys in clear, the platform seals them")


def _s3_keys(owners: Owners, keys: storage_pb2.S3Keys) -> str:
    if bool(keys.access_key_id) != bool(keys.secret_access_key):
        raise _invalid("s3Keys.secretAccessKey", "must come with accessKeyId (both, or neither)")
    opener = domain.opener_of(owners.sources)
    return opener.seal({"accessKeyId": keys.access_key_id, "secretAccessKey": keys.secret_access_key})


async def _drive_access(owners: Owners, principal: Principal, access: storage_pb2.DriveAccess) -> str:
    """The sealed credentials a Drive location carries: the caller's saved credential, or its tokens."""
    if access.credential_id and access.access_token:
        raise _invalid("driveAccess.accessToken", "not with credentialId")
    if access.credential_id:
        return (await credentials.use(owners.credentials, principal, access.credential_id)).token
    if not access.access_token:
        raise InvalidArgument(
            "Google Drive needs a credentialId (POST /ondemand/credentials/google-drive) or a current accessToken "
            "from your Google OAuth flow.",
            reason=R.GOOGLE_DRIVE_NOT_CONNECTED,
        )
    opener = domain.opener_of(owners.sources)
    return opener.seal({"accessToken": access.access_token, "refreshToken": access.refresh_token})


async def source_of(owners: Owners, principal: Principal, ref: storage_pb2.SourceRef) -> tuple[storage_pb2.Source, str]:
    """The Source a reference names, and the file name it is known by ('' when the source tells)."""
    kind = ref.WhichOneof("kind")
    if kind == "url":
        return storage_pb2.Source(url=ref.url), ""
    if kind == "file_id":
        async with owners.files.sessions() as session:
            stored = await files.account_file(session, principal.account_id, ref.file_id)  # another's: not found
        return storage_pb2.Source(blob_key=blobkeys.file_content(stored.sha256)), stored.filename
    if kind == "s3":
        _no_sealed(ref.s3.credentials, "s3")
        if not ref.s3.bucket or not ref.s3.key:
            raise _invalid("s3.key", "is required (with the bucket)")
        location = storage_pb2.S3Location()
        location.CopyFrom(ref.s3)
        location.credentials = _s3_keys(owners, ref.s3_keys)
        return storage_pb2.Source(s3=location), ""
    if kind == "google_drive":
        _no_sealed(ref.google_drive.credentials, "googleDrive")
        if not ref.google_drive.file_id:
            raise _invalid("googleDrive.fileId", "is required")
        drive = storage_pb2.DriveLocation()
        drive.CopyFrom(ref.google_drive)
        drive.credentials = await _drive_access(owners, principal, ref.drive_access)
        return storage_pb2.Source(google_drive=drive), ""
    raise _invalid("source", "is required")


async def folder_of(owners: Owners, principal: Principal, ref: storage_pb2.SourceRef) -> storage_pb2.Source:
    """A folder as the caller names it (an S3 prefix, a Drive folder), its credentials sealed."""
    kind = ref.WhichOneof("kind")
    if kind == "s3":
        _no_sealed(ref.s3.credentials, "s3")
        location = storage_pb2.S3Location()
        location.CopyFrom(ref.s3)
        location.credentials = _s3_keys(owners, ref.s3_keys)
        return storage_pb2.Source(s3=location)
    if kind == "google_drive":
        _no_sealed(ref.google_drive.credentials, "googleDrive")
        drive = storage_pb2.DriveLocation(folder_id=ref.google_drive.folder_id)
        drive.credentials = await _drive_access(owners, principal, ref.drive_access)
        return storage_pb2.Source(google_drive=drive)
    raise _invalid("folder", "is an S3 prefix or a Google Drive folder")


async def selected_files(
    owners: Owners, principal: Principal, refs: list[storage_pb2.SourceRef], max_files: int
) -> list[tuple[storage_pb2.Source, str]]:
    """Drive files picked one by one, each a job's source: videos only (by name), the first `max_files`; files
    sharing credentials share one sealed copy. The first is opened now (the credentials work, the file is there);
    the others when their jobs run."""
    videos = [ref for ref in refs if is_video(ref.google_drive.listed_name, ref.google_drive.listed_type)]
    if max_files:
        videos = videos[:max_files]
    if not videos:
        raise NotFound("None of the selected files is a video.", reason=R.NO_VIDEO_FILES_FOUND)
    sealed: dict[bytes, str] = {}
    picked = []
    for ref in videos:
        if ref.WhichOneof("kind") != "google_drive" or not ref.google_drive.file_id:
            raise _invalid("files.googleDrive.fileId", "is required")
        _no_sealed(ref.google_drive.credentials, "googleDrive")
        access = ref.drive_access.SerializeToString(deterministic=True)
        if access not in sealed:
            sealed[access] = await _drive_access(owners, principal, ref.drive_access)
        location = storage_pb2.DriveLocation(
            file_id=ref.google_drive.file_id, credentials=sealed[access], listed_name=ref.google_drive.listed_name
        )  # listed_name: named by the caller, so the job need not look again
        picked.append((storage_pb2.Source(google_drive=location), ref.google_drive.listed_name))
    first = storage_pb2.Source()
    first.CopyFrom(picked[0][0])
    first.google_drive.listed_name = ""  # looked at now: the name the caller gave is checked against Drive
    await domain.validate_source(owners.sources, source=first)
    return picked


async def owns_blob(owners: Owners, principal: Principal, key: str) -> bool:
    """Whether a blob key is a source of the caller's: one of its stored files (content is stored once for every
    account that uploads it, so knowing a digest is not enough), or one of its classic jobs' uploads (the key
    names its account). Any other key (another account's upload, any output) is not."""
    try:
        check_key(key)  # no `..`, no absolute paths: the key is what it says it is
    except ValueError:
        return False
    digest = blobkeys.content_digest(key)
    if digest is not None:
        async with owners.files.sessions() as session:
            return await files.account_has(session, principal.account_id, digest)
    return blobkeys.upload_account(key) == principal.account_id


async def destination_of(
    owners: Owners, principal: Principal, ref: storage_pb2.DestinationRef
) -> storage_pb2.Destination:
    """The blob store (the download link) and the caller's bucket or folder, sealed and checked."""
    found = storage_pb2.Destination(cdn=storage_pb2.CdnDestination(expiry_seconds=ref.expiry_seconds))
    if ref.HasField("s3"):
        _no_sealed(ref.s3.credentials, "s3")
        if not ref.s3.bucket:
            raise _invalid("s3.bucket", "is required")
        found.s3.CopyFrom(ref.s3)
        found.s3.credentials = _s3_keys(owners, ref.s3_keys)
    if ref.HasField("google_drive"):
        _no_sealed(ref.google_drive.credentials, "googleDrive")
        if not ref.google_drive.folder_id:
            raise _invalid("googleDrive.folderId", "is required")
        found.google_drive.CopyFrom(ref.google_drive)
        found.google_drive.credentials = await _drive_access(owners, principal, ref.drive_access)
    await domain.check_destination(owners.sources, found)
    return found
