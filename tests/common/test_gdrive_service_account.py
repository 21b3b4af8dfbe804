"""Drive with a saved service account's key: tokens minted by the JWT bearer grant, at the operator's
token endpoint only; and the checks a key passes before it is saved (services/ingest/credentials/keys.py)."""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from services.common.errors import InvalidArgument, R
from services.common.gdrive import DriveAuth, DriveClient
from services.common.gdrive_errors import SA_REFUSED
from services.ingest.credentials import keys
from tests.fakes.drive import DriveFake, running_drive


@pytest.fixture(scope="module")
def drive() -> Iterator[DriveFake]:
    with running_drive() as fake:
        yield fake


def _client(drive: DriveFake, key: dict[str, object]) -> DriveClient:
    return DriveClient(
        DriveAuth(service_account=key), api_root=drive.root, token_uri=drive.token_uri, chunk_size=256 * 1024, retries=0
    )


def test_a_service_account_reads_and_writes_what_is_shared_with_it(drive: DriveFake, tmp_path: Path) -> None:
    key = drive.accounts.create()
    email = str(key["client_email"])
    shared = drive.add_folder("Shared with the robot", readers=frozenset({email}))
    drive.add_file("clip.mp4", shared, b"\x00" * 1000, readers=frozenset({email}))
    hidden = drive.add_folder("Someone else's", readers=frozenset({"alice"}))
    grants = drive.accounts.grants
    with _client(drive, key) as client:
        assert [f.name for f in client.list_videos(shared)] == ["clip.mp4"]
        source = tmp_path / "out.bin"
        source.write_bytes(b"encoded")
        uploaded = client.upload(source, shared, "encoded.mp4", "video/mp4")
        assert drive.files[uploaded.id].content == b"encoded"
        with pytest.raises(Exception) as caught:
            client.check_folder(hidden)
        assert getattr(caught.value, "reason", None) == R.STORAGE_ACCESS_DENIED
    assert drive.accounts.grants == grants + 1  # one token, minted at the first call and reused


def test_the_key_files_own_token_uri_is_never_used(drive: DriveFake) -> None:
    key = drive.accounts.create()
    key["token_uri"] = "http://169.254.169.254/latest/meta-data/"  # where a hostile key would send the assertion
    folder = drive.add_folder("Out")
    with _client(drive, key) as client:
        assert client.check_folder(folder).id == folder
    assert not drive.requests("POST", "/latest")


def test_a_disabled_or_forged_account_is_not_connected(drive: DriveFake) -> None:
    folder = drive.add_folder("Out")
    disabled = drive.accounts.create()
    drive.accounts.disable(str(disabled["client_email"]))
    forged = {**drive.accounts.create(), "private_key": _pem(_other_rsa_key())}
    for key in (disabled, forged):
        with _client(drive, key) as client, pytest.raises(InvalidArgument) as caught:
            client.check_folder(folder)
        assert caught.value.reason == R.GOOGLE_DRIVE_NOT_CONNECTED
        assert caught.value.message == SA_REFUSED
        chain = "\n".join([str(caught.value), repr(caught.value), *traceback.format_exception(caught.value)])
        assert "PRIVATE KEY" not in chain and str(key["private_key"])[40:80] not in chain


def _other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


# -- what a key must hold -------------------------------------------------------------------------------


def test_a_google_key_file_parses_and_only_what_workers_need_is_kept(drive: DriveFake) -> None:
    key = drive.accounts.create(project_id="acme-media")
    parsed = keys.parse(json.dumps(key))
    assert parsed.client_email == key["client_email"] and parsed.project_id == "acme-media"
    assert set(parsed.info) == {"type", "project_id", "private_key_id", "private_key", "client_email", "client_id"}
    assert "private_key" not in repr(parsed)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda _k: "{not json",
        lambda k: json.dumps([k]),
        lambda k: json.dumps({**k, "type": "authorized_user"}),
        lambda k: json.dumps({**k, "client_email": "not-an-email"}),
        lambda k: json.dumps({key: v for key, v in k.items() if key != "private_key"}),
        lambda k: json.dumps({**k, "private_key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"}),
        lambda k: json.dumps({**k, "private_key": _pem(ec.generate_private_key(ec.SECP256R1()))}),  # not RSA
        lambda k: json.dumps({**k, "project_id": 7}),
        lambda k: json.dumps({**k, "padding": "x" * keys.MAX_KEY_BYTES}),
    ],
    ids=["not-json", "not-object", "wrong-type", "bad-email", "no-key", "bad-pem", "ec-key", "bad-project", "huge"],
)
def test_keys_that_cannot_sign_are_refused_without_quoting_them(drive: DriveFake, mutate: object) -> None:
    key = drive.accounts.create()
    raw = mutate(key)  # type: ignore[operator]
    with pytest.raises(InvalidArgument) as caught:
        keys.parse(raw)
    assert caught.value.reason == R.BODY_INVALID
    assert caught.value.violations and caught.value.violations[0].field == "serviceAccount"
    assert "BEGIN" not in caught.value.message and str(key["private_key_id"]) not in caught.value.message
