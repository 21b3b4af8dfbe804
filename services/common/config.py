"""Settings every process reads from `VIDKILN_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.blobstore import BlobStore, LocalBlobStore
from services.common.netguard import TRUSTED, AddressPolicy

if TYPE_CHECKING:
    from services.common.destinations import Opener

logger = logging.getLogger(__name__)

PRIVATE_DIR = 0o700  # the data directory and what vidkiln makes in it: the owner's alone
PRIVATE_FILE = 0o600


class BaseServiceSettings(BaseSettings):
    """What every service needs: where its data lives, how to reach NATS, the DB and its peers."""

    model_config = SettingsConfigDict(env_prefix="VIDKILN_", extra="ignore")

    data_dir: Path = Field(Path(".vidkiln"), description="SQLite files, blob store, secret key, embedded NATS store.")
    grpc_listen: str = Field("127.0.0.1:0", description="host:port this service's gRPC server binds.")
    nats_url: str = Field("nats://127.0.0.1:4222", description="NATS server with JetStream.")
    database_url: str | None = Field(
        None, description="SQLAlchemy async URL (postgresql+asyncpg://...); default: SQLite in data_dir."
    )
    secret_key: SecretStr | None = Field(
        None, description="Platform key for signing and encryption; default: generated into data_dir."
    )
    otlp_endpoint: str | None = Field(None, description="OTLP/gRPC collector; no export when unset.")
    log_level: str = Field("INFO", description="Python logging level.")
    url_allow: str = Field(
        "",
        description="Comma-separated addresses, networks and host names customer URLs may reach although "
        "private (e.g. 127.0.0.1,10.0.0.0/8,minio.internal); default none.",
    )
    auth_addr: str = Field("127.0.0.1:50051", description="gRPC address of the auth service.")
    jobs_addr: str = Field("127.0.0.1:50052", description="gRPC address of the jobs service.")
    ingest_addr: str = Field("127.0.0.1:50053", description="gRPC address of the ingest service.")
    encoder_addr: str = Field("127.0.0.1:50054", description="gRPC address of an encoder.")
    webhooks_addr: str = Field("127.0.0.1:50055", description="gRPC address of the webhooks service.")
    rpc_timeout: float = Field(10.0, description="Deadline in seconds of every internal RPC.")

    google_api_root: str = Field(
        "https://www.googleapis.com/", description="Google Drive API root (a test server's in tests)."
    )
    google_token_uri: str = Field("https://oauth2.googleapis.com/token", description="Google OAuth token endpoint.")
    google_client_id: str | None = Field(None, description="OAuth client that may refresh customers' Drive tokens.")
    google_client_secret: str | None = Field(None, description="Its secret.")

    blob_s3_bucket: str | None = Field(
        None,
        description="The platform's own S3 bucket for uploads and outputs; unset: the local directory data_dir/blobs.",
    )
    blob_s3_prefix: str = Field("", description="Key prefix of every blob in that bucket (e.g. vidkiln/).")
    blob_s3_endpoint: str | None = Field(
        None,
        description="S3-compatible endpoint URL (MinIO, Ceph, ...); unset: AWS. Trusted: private addresses are fine.",
    )
    blob_s3_region: str = Field("us-east-1", description="The bucket's region.")
    blob_s3_access_key_id: str | None = Field(
        None, description="Access key id for the bucket; with the secret unset too, boto3's default credential chain."
    )
    blob_s3_secret_access_key: SecretStr | None = Field(None, description="Its secret access key.")
    blob_s3_force_path_style: bool = Field(
        False, description="Path-style requests (endpoint/bucket/key), as most S3-compatible stores need."
    )

    def blob_store(self) -> BlobStore:
        """The platform's blob store: the S3 bucket when one is configured (checked now: it exists and takes the
        credentials), else the local directory."""
        if not self.blob_s3_bucket:
            return LocalBlobStore(self.blob_dir)
        from services.common.s3blobs import S3BlobStore  # boto3: only where used
        from services.common.s3store import S3Config, S3Store

        secret = self.blob_s3_secret_access_key
        config = S3Config(
            bucket=self.blob_s3_bucket,
            region=self.blob_s3_region,
            endpoint=self.blob_s3_endpoint or None,
            access_key_id=self.blob_s3_access_key_id or None,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
            force_path_style=self.blob_s3_force_path_style,
        )
        store = S3Store(config, policy=TRUSTED, credential_chain=True)
        store.check_writable()
        return S3BlobStore(store, scratch=self.blob_dir / ".partial", prefix=self.blob_s3_prefix)

    def destination_opener(self) -> Opener:
        """Opens customer destinations: the platform key, the address policy, the Drive settings."""
        from services.common.destinations import GoogleApp, Opener  # boto3 and the Drive client: only where used
        from services.common.secretbox import SecretBox

        google = GoogleApp(
            self.google_api_root, self.google_token_uri, self.google_client_id, self.google_client_secret
        )
        return Opener(SecretBox(self.platform_key()), self.address_policy(), google)

    def address_policy(self) -> AddressPolicy:
        """Which otherwise refused addresses customer URLs may reach (VIDKILN_URL_ALLOW)."""
        return AddressPolicy.from_setting(self.url_allow)

    def database_url_for(self, service: str) -> str:
        """The configured URL, or this service's own SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        path = (self.data_dir / "db" / f"{service}.sqlite3").resolve()
        private_dirs(path.parent)
        return f"sqlite+aiosqlite:///{path}"

    @property
    def blob_dir(self) -> Path:
        """Root of the local blob store."""
        return self.data_dir / "blobs"

    def platform_key(self) -> bytes:
        """The platform secret: VIDKILN_SECRET_KEY, else the data directory's generated key."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        return load_or_create_key(self.data_dir / "secret.key")


def load_or_create_key(path: Path) -> bytes:
    """Reads the key file, creating it atomically (0600) on first use by any process."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)  # fails if another process won the race; then its key is the key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes().strip()


def private_dirs(path: Path) -> None:
    """Creates path and whichever of its parents are missing, each owner-only (0700).

    Not `mkdir(parents=True)`: that gives the parents the umask's mode, and a first command run under umask 022
    would leave the data directory open to other users."""
    missing = []
    for directory in (path, *path.parents):
        if directory.is_dir():
            break
        missing.append(directory)
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)


def secure_data_dir(path: Path) -> Path:
    """The data directory, resolved: created owner-only (0700) when missing, else tightened when others may use it.

    Tightening is the directory itself, which alone closes everything below it to other users, and its direct
    entries (db/, blobs/, nats/, the key and runtime files): never a walk of every blob at every start. What this
    user may not chmod (not its own) is logged as an error, and the process goes on."""
    path = path.resolve()
    private_dirs(path)
    tightened, failed = [], []
    for entry in (path, *sorted(path.iterdir())):
        try:
            mode = entry.lstat().st_mode
            if stat.S_ISLNK(mode) or not mode & 0o077:
                continue
            entry.chmod(stat.S_IMODE(mode) & 0o700)  # the owner keeps what it had; group and others lose all
        except FileNotFoundError:  # removed meanwhile (another process's scratch file)
            continue
        except PermissionError:
            failed.append(entry.name if entry != path else ".")
            continue
        tightened.append(entry.name if entry != path else ".")
    if tightened:
        logger.warning("the data directory %s was open to other users; made owner-only: %s", path, ", ".join(tightened))
    if failed:
        logger.error(
            "the data directory %s is open to other users and this user may not change %s: run chmod -R go= %s",
            path,
            ", ".join(failed),
            path,
        )
    return path


def write_private(path: Path, text: str) -> None:
    """Replaces the file with text, owner-only (0600) whatever the umask or the mode of the file it replaces."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
