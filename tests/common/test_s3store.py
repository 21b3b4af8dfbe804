"""The customer S3 store against a real S3 endpoint: moto in server mode over HTTP, IAM authentication on."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from collections.abc import Callable
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

import pytest

from services.common.errors import DomainError, R
from services.common.http_source import SourceError
from services.common.netguard import AddressPolicy, GuardError
from services.common.s3store import MiB, S3Config, S3Store, check_endpoint
from tests.fakes.s3 import FakeS3, S3Keys, fake_s3_fixture  # noqa: F401 (fake_s3_fixture is the fixture)
from tests.harness import free_port

_LOCAL = AddressPolicy(allow=(ip_network("127.0.0.1/32"),))
_WRONG_SECRET = "wR0ng/Secret+KeyThatMotoMustRefuse0000000"


def _store(fake: FakeS3, bucket: str, keys: S3Keys | None = None, **kwargs: Any) -> S3Store:
    return S3Store(fake.config(bucket, keys), policy=_LOCAL, **kwargs)


def _refusal(call: Callable[[], object]) -> DomainError:
    with pytest.raises(DomainError) as info:
        call()
    return info.value


@pytest.fixture
def bucket(fake_s3: FakeS3) -> str:
    return fake_s3.create_bucket()


@pytest.fixture
def store(fake_s3: FakeS3, bucket: str) -> S3Store:
    return _store(fake_s3, bucket)


def test_head_and_download_round_trip(fake_s3: FakeS3, bucket: str, store: S3Store, tmp_path: Path) -> None:
    data = os.urandom(3 * MiB + 17)
    fake_s3.client().put_object(Bucket=bucket, Key="in/clip.mp4", Body=data, ContentType="video/mp4")

    info = store.head("in/clip.mp4")
    assert (info.key, info.size, info.content_type) == ("in/clip.mp4", len(data), "video/mp4")
    assert info.etag == hashlib.md5(data).hexdigest()
    assert info.last_modified is not None

    dest = tmp_path / "clip.mp4"
    got = store.download("in/clip.mp4", dest, max_bytes=len(data))
    assert dest.read_bytes() == data
    assert (got.size, got.content_type, got.etag) == (len(data), "video/mp4", info.etag)
    assert list(tmp_path.iterdir()) == [dest]


def test_read_range_reads_only_the_bytes_asked_for(fake_s3: FakeS3, bucket: str, store: S3Store) -> None:
    data = bytes(range(256)) * 4
    fake_s3.client().put_object(Bucket=bucket, Key="clip.mp4", Body=data)

    assert store.read_range("clip.mp4", 0, 8) == data[:8]
    assert store.read_range("clip.mp4", 1000, 100) == data[1000:]
    assert store.read_range("clip.mp4", 5000, 10) == b""
    with pytest.raises(ValueError):
        store.read_range("clip.mp4", 0, 0)


def test_listing_pages_past_a_thousand_keys(fake_s3: FakeS3, bucket: str, store: S3Store) -> None:
    inside = [f"batch/{i:04d}.mp4" for i in range(1500)]
    outside = ["batch-other/0.mp4", "elsewhere/1.mp4", "batc.mp4"]
    fake_s3.seed(bucket, [*inside, *outside])
    fake_s3.client().put_object(Bucket=bucket, Key="batch/sub/", Body=b"")  # a console-made "folder"

    listed = list(store.list("batch/"))
    assert sorted(info.key for info in listed) == inside
    assert {info.size for info in listed} == {1}
    assert len(list(store.list(""))) == len(inside) + len(outside)
    store.check_readable(prefix="batch/")


def test_a_large_upload_goes_multipart_and_round_trips(fake_s3: FakeS3, bucket: str, tmp_path: Path) -> None:
    store = _store(fake_s3, bucket, multipart_threshold=5 * MiB, part_size=5 * MiB)
    src = tmp_path / "out.mp4"
    src.write_bytes(os.urandom(11 * MiB))

    info = store.upload(src, "out/encoded.mp4", "video/mp4")
    assert info.etag is not None and info.etag.endswith("-3")  # three parts: 5 + 5 + 1 MiB
    assert (info.size, info.content_type) == (11 * MiB, "video/mp4")
    store.download("out/encoded.mp4", tmp_path / "back.mp4", max_bytes=11 * MiB)
    assert (tmp_path / "back.mp4").read_bytes() == src.read_bytes()

    small = tmp_path / "thumb.jpg"
    small.write_bytes(b"jpeg" * 1000)
    thumb = store.upload(small, "out/thumb.jpg", "image/jpeg")
    assert thumb.etag == hashlib.md5(small.read_bytes()).hexdigest()


def test_a_failed_multipart_upload_is_aborted(fake_s3: FakeS3, bucket: str, tmp_path: Path) -> None:
    # moto authorizes CreateMultipartUpload, UploadPart and CompleteMultipartUpload all as s3:PutObject, and
    # AbortMultipartUpload apart: revoking PutObject once the first bytes are sent fails the upload at the latest
    # at CompleteMultipartUpload, while the abort is still allowed.
    keys = fake_s3.create_user(["s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"])
    store = _store(fake_s3, bucket, keys, multipart_threshold=5 * MiB, part_size=5 * MiB)
    src = tmp_path / "out.mp4"
    src.write_bytes(os.urandom(11 * MiB))
    revoked = threading.Event()

    def progress(_sent: int) -> None:
        if not revoked.is_set():
            revoked.set()
            fake_s3.grant(keys, ["s3:AbortMultipartUpload"])

    error = _refusal(lambda: store.upload(src, "out/encoded.mp4", "video/mp4", progress=progress))
    assert revoked.is_set()
    assert error.reason == R.STORAGE_ACCESS_DENIED
    assert "Uploads" not in fake_s3.client().list_multipart_uploads(Bucket=bucket)
    assert _refusal(lambda: _store(fake_s3, bucket).head("out/encoded.mp4")).reason == R.STORAGE_NOT_FOUND


def test_a_failing_progress_callback_does_not_stop_the_upload(fake_s3: FakeS3, bucket: str, tmp_path: Path) -> None:
    store = _store(fake_s3, bucket, multipart_threshold=5 * MiB, part_size=5 * MiB)
    src = tmp_path / "out.mp4"
    src.write_bytes(os.urandom(6 * MiB))

    def progress(_sent: int) -> None:
        raise RuntimeError("progress channel down")

    assert store.upload(src, "out/encoded.mp4", "video/mp4", progress=progress).size == 6 * MiB


def test_delete_removes_the_object(fake_s3: FakeS3, bucket: str, store: S3Store) -> None:
    fake_s3.client().put_object(Bucket=bucket, Key="gone.mp4", Body=b"x")
    store.delete("gone.mp4")
    assert _refusal(lambda: store.head("gone.mp4")).reason == R.STORAGE_NOT_FOUND
    store.delete("gone.mp4")  # already gone: fine


@pytest.mark.parametrize("wrong", ["secret", "key id"])
def test_refused_credentials_are_access_denied(fake_s3: FakeS3, bucket: str, wrong: str) -> None:
    fake_s3.client().put_object(Bucket=bucket, Key="clip.mp4", Body=b"x")
    keys = S3Keys(fake_s3.admin.access_key_id, _WRONG_SECRET)
    if wrong == "key id":
        keys = S3Keys("AKIA" + "Z" * 16, fake_s3.admin.secret_access_key)
    store = _store(fake_s3, bucket, keys)

    errors = [
        _refusal(lambda: store.check_readable(key="clip.mp4")),
        _refusal(lambda: store.check_readable(prefix="")),
        _refusal(store.check_writable),
    ]
    for error in errors:
        assert error.reason == R.STORAGE_ACCESS_DENIED
        assert bucket in error.message and "refused the credentials" in error.message
        for secret in (keys.secret_access_key, keys.access_key_id):
            assert secret not in error.message and secret not in str(error)
    assert "clip.mp4" in errors[0].message


def test_an_action_the_policy_does_not_grant_is_access_denied(fake_s3: FakeS3, bucket: str, tmp_path: Path) -> None:
    store = _store(fake_s3, bucket, fake_s3.create_user(["s3:GetObject"]))
    src = tmp_path / "out.mp4"
    src.write_bytes(b"x" * 100)

    assert _refusal(store.check_writable).reason == R.STORAGE_ACCESS_DENIED
    refused = _refusal(lambda: store.upload(src, "out.mp4", "video/mp4"))
    assert refused.reason == R.STORAGE_ACCESS_DENIED
    assert str(src) not in refused.message


def test_a_store_without_keys_is_anonymous_whatever_the_environment(
    fake_s3: FakeS3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # vidkiln's own credentials (here: keys moto accepts) must never reach a customer's bucket. moto 5.2 answers
    # an unsigned request under IAM authentication with a 500 (it looks for an Authorization header); a real
    # S3 would answer 403. Either way the request is refused, where the environment's keys would have passed.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", fake_s3.admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", fake_s3.admin.secret_access_key)
    store = S3Store(S3Config(bucket=bucket, endpoint=fake_s3.endpoint), policy=_LOCAL)
    assert _refusal(store.check_writable).reason in (R.STORAGE_ACCESS_DENIED, R.SOURCE_UNREACHABLE)
    _store(fake_s3, bucket).check_writable()


def test_an_unknown_bucket_is_not_found(fake_s3: FakeS3, tmp_path: Path) -> None:
    store = _store(fake_s3, "vk-test-no-such-bucket")
    calls: list[Callable[[], object]] = [
        store.check_writable,
        lambda: store.check_readable(key="clip.mp4"),
        lambda: store.check_readable(prefix="in/"),
        lambda: list(store.list("in/")),
        lambda: store.download("clip.mp4", tmp_path / "clip.mp4", max_bytes=MiB),
    ]
    for call in calls:
        error = _refusal(call)
        assert error.reason == R.STORAGE_NOT_FOUND
        assert "vk-test-no-such-bucket" in error.message
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_key_or_empty_prefix_is_not_found(store: S3Store, tmp_path: Path) -> None:
    for call in (
        lambda: store.head("missing.mp4"),
        lambda: store.check_readable(key="missing.mp4"),
        lambda: store.download("missing.mp4", tmp_path / "missing.mp4", max_bytes=MiB),
    ):
        error = _refusal(call)
        assert error.reason == R.STORAGE_NOT_FOUND and "missing.mp4" in error.message
    assert _refusal(lambda: store.check_readable(prefix="nothing/")).reason == R.STORAGE_NOT_FOUND
    assert list(tmp_path.iterdir()) == []


def test_an_object_over_the_limit_is_refused_and_leaves_no_file(
    fake_s3: FakeS3, bucket: str, store: S3Store, tmp_path: Path
) -> None:
    fake_s3.client().put_object(Bucket=bucket, Key="big.mp4", Body=b"x" * 4096)
    error = _refusal(lambda: store.download("big.mp4", tmp_path / "big.mp4", max_bytes=4095))
    assert error.reason == R.FILE_TOO_LARGE
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_endpoint_is_a_transient_source_error() -> None:
    cfg = S3Config(
        bucket="vk-test", endpoint=f"http://127.0.0.1:{free_port()}", access_key_id="AK", secret_access_key="s"
    )
    store = S3Store(cfg, policy=_LOCAL, connect_timeout=1, read_timeout=1)
    with pytest.raises(SourceError) as info:
        store.check_writable()
    assert info.value.reason == R.SOURCE_UNREACHABLE and info.value.transient


def test_an_endpoint_on_a_private_address_is_refused_unless_allowed(fake_s3: FakeS3, bucket: str) -> None:
    cfg = S3Config(bucket=bucket, endpoint=fake_s3.endpoint, access_key_id="AK", secret_access_key="s")
    with pytest.raises(GuardError) as info:
        S3Store(cfg, policy=AddressPolicy())
    assert info.value.reason == R.PRIVATE_IP_BLOCKED
    check_endpoint(cfg, _LOCAL)

    port = fake_s3.endpoint.rpartition(":")[2]
    for endpoint, reason in [
        (f"http://localhost:{port}", R.URL_HOST_BLOCKED),
        (f"http://2130706433:{port}", R.PRIVATE_IP_BLOCKED),  # 127.0.0.1 as one number
        (f"http://169.254.169.254:{port}", R.PRIVATE_IP_BLOCKED),
        ("http://nonexistent.invalid", R.HOST_NOT_RESOLVABLE),
        ("ftp://s3.example.com", R.URL_INVALID),
    ]:
        with pytest.raises(GuardError) as info:
            check_endpoint(S3Config(bucket=bucket, endpoint=endpoint), AddressPolicy())
        assert info.value.reason == reason, endpoint
    check_endpoint(S3Config(bucket=bucket), AddressPolicy())  # AWS itself: nothing to check


def test_a_host_name_is_judged_by_the_addresses_it_resolves_to(fake_s3: FakeS3) -> None:
    name = socket.gethostname()
    resolved = {ip_address(str(info[4][0])) for info in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)}
    if resolved != {ip_address("127.0.0.1")}:
        pytest.skip(f"{name} does not resolve to 127.0.0.1 only here")
    cfg = S3Config(bucket="vk-test", endpoint=f"http://{name}:{fake_s3.endpoint.rpartition(':')[2]}")
    with pytest.raises(GuardError) as info:
        check_endpoint(cfg, AddressPolicy())
    assert info.value.reason == R.PRIVATE_IP_BLOCKED
    check_endpoint(cfg, _LOCAL)
    check_endpoint(cfg, AddressPolicy.from_setting(name.upper()))  # an allowed name is not resolved


def test_the_secret_is_never_shown() -> None:
    cfg = S3Config(bucket="vk-test", access_key_id="AKIAEXAMPLE", secret_access_key=_WRONG_SECRET)
    assert _WRONG_SECRET not in repr(cfg) and _WRONG_SECRET not in str(cfg)
    assert "AKIAEXAMPLE" in repr(cfg)
    with pytest.raises(DomainError) as info:
        S3Store(S3Config(bucket="vk-test", secret_access_key=_WRONG_SECRET), policy=_LOCAL)
    assert _WRONG_SECRET not in str(info.value)
