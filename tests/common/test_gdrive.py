"""The Google Drive client against a local Drive (tests/fakes/drive.py) over real HTTP, and videofiles."""

from __future__ import annotations

import random
import socket
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.common.errors import DomainError, InvalidArgument, NotFound, PermissionDenied, R
from services.common.gdrive import CHUNK_GRANULE, DriveAuth, DriveClient, DriveFile
from services.common.gdrive_errors import NOT_CONNECTED
from services.common.http_source import SourceError
from tests.fakes.drive import DriveFake, running_drive
from tests.fakes.drive_wire import DOC, FOLDER

CHUNK = CHUNK_GRANULE  # 256 KiB: a 700 KiB file moves in three pieces
CLIENT_ID, CLIENT_SECRET = "vidkiln-test.apps.googleusercontent.com", "GOCSPX-test-secret"


def _bytes(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture
def drive() -> Iterator[DriveFake]:
    with running_drive() as fake:
        yield fake


@pytest.fixture
def connect(drive: DriveFake) -> Iterator[Callable[..., DriveClient]]:
    """Makes clients aimed at the fake (closed at the end of the test)."""
    made: list[DriveClient] = []

    def make(auth: DriveAuth, **kwargs: Any) -> DriveClient:
        settings: dict[str, Any] = {"api_root": drive.root, "token_uri": drive.token_uri, "chunk_size": CHUNK}
        client = DriveClient(auth, **{**settings, "retries": 0, **kwargs})
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(drive: DriveFake, connect: Callable[..., DriveClient]) -> DriveClient:
    return connect(DriveAuth(drive.add_token()))


def _chain(exc: BaseException) -> str:
    """Everything an error could put in a log: message, repr and the whole traceback with causes."""
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


# -- metadata ------------------------------------------------------------------------------------------


def test_get_returns_metadata(drive: DriveFake, client: DriveClient) -> None:
    folder = drive.add_folder("In")
    file_id = drive.add_file("a.mp4", folder, b"0123456789")

    got = client.get(file_id)

    assert got == DriveFile(file_id, "a.mp4", "video/mp4", 10, "781e5e245d69b566979b86e28d23f2c7")
    assert client.get(folder) == DriveFile(folder, "In", FOLDER, None, None)
    assert client.get(folder).is_folder


def test_get_unknown_and_forbidden(drive: DriveFake, client: DriveClient) -> None:
    secret = drive.add_file("b.mp4", "root", b"x", readers=frozenset({"bob"}))

    with pytest.raises(NotFound) as missing:
        client.get("1nope")
    with pytest.raises(PermissionDenied) as denied:
        client.get(secret)
    with pytest.raises(InvalidArgument) as malformed:
        client.get("x' or name contains '")

    assert missing.value.reason == R.STORAGE_NOT_FOUND
    assert "1nope" in missing.value.message
    assert denied.value.reason == R.STORAGE_ACCESS_DENIED
    assert malformed.value.reason == R.REQUEST_INVALID


def test_check_folder(drive: DriveFake, client: DriveClient) -> None:
    folder = drive.add_folder("Uploads")
    file_id = drive.add_file("a.mp4", folder, b"x")
    binned = drive.add_folder("Old")
    drive.files[binned].trashed = True

    assert client.check_folder(folder) == DriveFile(folder, "Uploads", FOLDER, None, None)
    for bad, words in [("1missing", "does not exist"), (file_id, "not a folder"), (binned, "trash")]:
        with pytest.raises(NotFound) as caught:
            client.check_folder(bad)
        assert caught.value.reason == R.STORAGE_NOT_FOUND
        assert words in caught.value.message


# -- listing -------------------------------------------------------------------------------------------


@pytest.fixture
def big_folder(drive: DriveFake) -> tuple[str, list[str]]:
    """250 items: 200 videos (by MIME type or by extension), the rest things that are not; the video names."""
    folder = drive.add_folder("Shoot")
    videos: list[str] = []
    for i in range(250):
        kind = i % 25
        if kind < 20:
            name = f"v{i:03d}.mov" if kind % 2 else f"v{i:03d}.mp4"
            mime = "application/octet-stream" if kind % 4 == 1 else "video/quicktime"
            drive.add_file(name, folder, b"v", mime_type=mime)
            videos.append(name)
        elif kind == 20:
            drive.add_file(f"n{i:03d}.txt", folder, b"t", mime_type="text/plain")
        elif kind == 21:
            drive.add_file(f"d{i:03d}.mp4", folder, None, mime_type=DOC)  # a Google Doc, despite its name
        elif kind == 22:
            drive.add_folder(f"f{i:03d}.mp4", folder)
        elif kind == 23:
            drive.add_file(f"t{i:03d}.mp4", folder, b"v", trashed=True)
        else:
            drive.add_file(f"p{i:03d}.jpg", folder, b"j", mime_type="image/jpeg")
    drive.add_file("elsewhere.mp4", drive.add_folder("Other"), b"v")
    return folder, sorted(videos)


def test_list_videos_reads_every_page(
    drive: DriveFake, connect: Callable[..., DriveClient], big_folder: tuple[str, list[str]]
) -> None:
    folder, videos = big_folder
    client = connect(DriveAuth(drive.add_token()), page_size=100)

    found = client.list_videos(folder)

    assert [f.name for f in found] == videos
    pages = [s for s in drive.seen if s.path == "/drive/v3/files"]
    assert len(pages) == 3  # 240 non-folder, non-trashed items at 100 a page
    assert pages[0].query["q"] == f"'{folder}' in parents and trashed = false and mimeType != '{FOLDER}'"
    assert "pageToken" not in pages[0].query and all("pageToken" in s.query for s in pages[1:])


def test_list_videos_stops_at_max_files(
    drive: DriveFake, connect: Callable[..., DriveClient], big_folder: tuple[str, list[str]]
) -> None:
    folder, videos = big_folder
    client = connect(DriveAuth(drive.add_token()), page_size=100)

    found = client.list_videos(folder, max_files=5)

    assert [f.name for f in found] == videos[:5]
    assert len([s for s in drive.seen if s.path == "/drive/v3/files"]) == 1


def test_list_videos_of_a_missing_folder(client: DriveClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.list_videos("1gone")
    assert caught.value.reason == R.STORAGE_NOT_FOUND


# -- download ------------------------------------------------------------------------------------------


def test_download_round_trip_in_ranges(drive: DriveFake, client: DriveClient, tmp_path: Path) -> None:
    body = _bytes(700 * 1024)
    file_id = drive.add_file("clip.mp4", drive.add_folder("In"), body)
    dest = tmp_path / "clip.mp4"

    got = client.download(file_id, dest, max_bytes=len(body))

    assert dest.read_bytes() == body
    assert got.size == len(body) and got.name == "clip.mp4"
    ranges = [s.range for s in drive.seen if s.query.get("alt") == "media"]
    assert ranges == ["bytes=0-262143", "bytes=262144-524287", "bytes=524288-786431"]


def test_download_of_an_empty_file(drive: DriveFake, client: DriveClient, tmp_path: Path) -> None:
    file_id = drive.add_file("empty.mp4", "root", b"")

    client.download(file_id, tmp_path / "empty.mp4", max_bytes=10)

    assert (tmp_path / "empty.mp4").read_bytes() == b""


def test_download_refuses_a_file_too_large(drive: DriveFake, client: DriveClient, tmp_path: Path) -> None:
    file_id = drive.add_file("big.mp4", "root", _bytes(2048))
    dest = tmp_path / "big.mp4"

    with pytest.raises(SourceError) as caught:
        client.download(file_id, dest, max_bytes=2047)

    assert caught.value.reason == R.FILE_TOO_LARGE
    assert not dest.exists()
    assert not [s for s in drive.seen if s.query.get("alt") == "media"]


def test_download_of_a_google_doc(drive: DriveFake, client: DriveClient, tmp_path: Path) -> None:
    doc = drive.add_file("script.mp4", "root", None, mime_type=DOC)

    with pytest.raises(InvalidArgument) as caught:
        client.download(doc, tmp_path / "x", max_bytes=100)

    assert caught.value.reason == R.CONTENT_TYPE_UNSUPPORTED
    assert not (tmp_path / "x").exists()


def test_download_failure_leaves_no_partial_file(drive: DriveFake, client: DriveClient, tmp_path: Path) -> None:
    file_id = drive.add_file("clip.mp4", "root", _bytes(600 * 1024))
    dest = tmp_path / "clip.mp4"
    drive.fail_next(503, after=2)  # the metadata and the first range pass, the second range fails

    with pytest.raises(SourceError) as caught:
        client.download(file_id, dest, max_bytes=1 << 20)

    assert caught.value.reason == R.SOURCE_UNREACHABLE and caught.value.transient
    assert len([s for s in drive.seen if s.query.get("alt") == "media"]) == 2
    assert not dest.exists()


# -- upload --------------------------------------------------------------------------------------------


def test_resumable_upload_in_several_chunks(drive: DriveFake, client: DriveClient, tmp_path: Path) -> None:
    folder = drive.add_folder("Out")
    body = _bytes(700 * 1024, seed=3)
    source = tmp_path / "out.mp4"
    source.write_bytes(body)

    got = client.upload(source, folder, "rendition 720p.mp4", "video/mp4")

    assert got.name == "rendition 720p.mp4" and got.mime_type == "video/mp4" and got.size == len(body)
    stored = drive.files[got.id]
    assert stored.content == body and stored.parents == [folder]
    (session,) = drive.uploads.values()
    assert session.chunks == [CHUNK, CHUNK, len(body) - 2 * CHUNK]
    assert session.metadata["name"] == "rendition 720p.mp4"
    started = drive.requests("POST", "/upload/drive/v3/files")
    assert len(started) == 1 and started[0].query["uploadType"] == "resumable"
    assert len(drive.requests("PUT", "/upload/drive/v3/files")) == 3


def test_upload_of_an_empty_file(drive: DriveFake, client: DriveClient, tmp_path: Path) -> None:
    folder = drive.add_folder("Out")
    (tmp_path / "empty.mp4").write_bytes(b"")

    got = client.upload(tmp_path / "empty.mp4", folder, "empty.mp4", "video/mp4")

    assert got.size == 0 and drive.files[got.id].content == b""


def test_upload_into_a_missing_or_forbidden_folder(drive: DriveFake, client: DriveClient, tmp_path: Path) -> None:
    closed = drive.add_folder("Bob's", readers=frozenset({"bob"}))
    (tmp_path / "a.mp4").write_bytes(b"abc")

    with pytest.raises(NotFound) as missing:
        client.upload(tmp_path / "a.mp4", "1gone", "a.mp4", "video/mp4")
    with pytest.raises(PermissionDenied) as denied:
        client.upload(tmp_path / "a.mp4", closed, "a.mp4", "video/mp4")

    assert missing.value.reason == R.STORAGE_NOT_FOUND
    assert denied.value.reason == R.STORAGE_ACCESS_DENIED
    assert not drive.children(closed)


# -- tokens --------------------------------------------------------------------------------------------


def test_a_bad_or_missing_token_is_not_connected(drive: DriveFake, connect: Callable[..., DriveClient]) -> None:
    folder = drive.add_folder("In")
    revoked = drive.add_token()
    drive.revoke(revoked)
    refresh = drive.add_refresh_token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    cases = [
        DriveAuth("ya29.made-up"),
        DriveAuth(revoked),
        DriveAuth(None),
        DriveAuth("ya29.expired", refresh),  # a refresh token without the OAuth client cannot be used
    ]
    for auth in cases:
        with pytest.raises(InvalidArgument) as caught:
            connect(auth).check_folder(folder)
        assert caught.value.reason == R.GOOGLE_DRIVE_NOT_CONNECTED
        assert caught.value.message == NOT_CONNECTED
    assert drive.token_grants == 0


def test_an_expired_token_is_refreshed(drive: DriveFake, connect: Callable[..., DriveClient]) -> None:
    folder = drive.add_folder("In")
    refresh = drive.add_refresh_token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    client = connect(DriveAuth("ya29.expired", refresh), client_id=CLIENT_ID, client_secret=CLIENT_SECRET)

    assert client.check_folder(folder).id == folder
    client.get(folder)

    assert drive.token_grants == 1  # refreshed once, then the new token is used
    renewed = client.auth
    assert renewed.access_token not in (None, "ya29.expired") and renewed.refresh_token == refresh
    assert renewed.access_token is not None and drive.valid(renewed.access_token)


def test_a_refused_refresh_is_not_connected(drive: DriveFake, connect: Callable[..., DriveClient]) -> None:
    folder = drive.add_folder("In")
    refresh = drive.add_refresh_token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    wrong_client = connect(DriveAuth("ya29.expired", refresh), client_id=CLIENT_ID, client_secret="wrong")
    drive.revoke(refresh)
    revoked = connect(DriveAuth("ya29.expired", refresh), client_id=CLIENT_ID, client_secret=CLIENT_SECRET)

    for client in (wrong_client, revoked):
        with pytest.raises(InvalidArgument) as caught:
            client.check_folder(folder)
        assert caught.value.reason == R.GOOGLE_DRIVE_NOT_CONNECTED
    assert drive.token_grants == 0


def test_tokens_never_show(drive: DriveFake, connect: Callable[..., DriveClient], tmp_path: Path) -> None:
    folder = drive.add_folder("In")
    refresh = drive.add_refresh_token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    good = drive.add_token()
    secrets = ["ya29.super-secret-access", refresh, good, CLIENT_SECRET]
    auth = DriveAuth("ya29.super-secret-access", refresh)
    assert not any(s in repr(auth) for s in secrets)

    errors: list[BaseException] = []
    clients = [
        connect(auth),
        connect(DriveAuth(good)),
        connect(auth, client_id=CLIENT_ID, client_secret="wrong"),
    ]
    assert not any(s in repr(c) for c in clients for s in secrets)
    calls: list[tuple[DriveClient, Callable[[DriveClient], object]]] = [
        (clients[0], lambda c: c.check_folder(folder)),
        (clients[1], lambda c: c.get("1nope")),
        (
            clients[1],
            lambda c: c.download(drive.add_file("d", "root", None, mime_type=DOC), tmp_path / "d", max_bytes=1),
        ),
        (clients[2], lambda c: c.list_videos(folder)),
    ]
    for client, call in calls:
        with pytest.raises(DomainError) as caught:
            call(client)
        errors.append(caught.value)
    assert len(errors) == 4
    for error in errors:
        text = _chain(error)
        assert not [s for s in secrets if s in text], text


# -- transport -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [(503, "backendError"), (500, "internalError"), (429, "rateLimitExceeded"), (403, "userRateLimitExceeded")],
)
def test_server_trouble_is_transient(drive: DriveFake, client: DriveClient, status: int, reason: str) -> None:
    folder = drive.add_folder("In")
    drive.fail_next(status, reason)

    with pytest.raises(SourceError) as caught:
        client.check_folder(folder)

    assert caught.value.reason == R.SOURCE_UNREACHABLE and caught.value.transient
    assert client.check_folder(folder).id == folder  # the fault was one response


def test_an_unreachable_drive_is_transient(drive: DriveFake) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with DriveClient(
        DriveAuth(drive.add_token()), api_root=f"http://127.0.0.1:{port}/", retries=0, timeout=2
    ) as client:
        with pytest.raises(SourceError) as caught:
            client.get("1abc")
    assert caught.value.reason == R.SOURCE_UNREACHABLE and caught.value.transient


def test_client_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="multiple"):
        DriveClient(DriveAuth("t"), chunk_size=CHUNK + 1)
    with pytest.raises(ValueError, match="API root"):
        DriveClient(DriveAuth("t"), api_root="ftp://example.com/")
