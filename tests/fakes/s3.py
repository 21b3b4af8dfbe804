"""A real S3 endpoint for tests: moto in server mode (ThreadedMotoServer) on 127.0.0.1, IAM authentication on.

How authentication is enabled (moto 5.x, checked with 5.2.5): moto verifies access keys and signatures only after
`moto.settings.INITIAL_NO_AUTH_ACTION_COUNT` requests (default infinity: never). The INITIAL_NO_AUTH_ACTION_COUNT
environment variable is read once, when moto.settings is first imported, so it cannot be relied on from a test
process that may have imported moto already. Server mode has its own switch, the one
`moto.core.set_initial_no_auth_action_count` uses when TEST_SERVER_MODE is set: POST /moto-api/reset-auth with the
count as a plain-text body sets the count and restarts the request counter. `fake_s3` therefore

1. starts the server (no authentication yet),
2. creates, with unauthenticated IAM calls, a user "admin" with an allow-everything inline policy and an access key,
3. POSTs reset-auth "0": from then on every request needs a known access key and a valid signature, so a wrong
   secret is answered 403 SignatureDoesNotMatch (a bare 403 for HEAD) and an unknown key 403 InvalidAccessKeyId.

Further users (e.g. one allowed only s3:GetObject) are created through IAM with the admin's key (`create_user`).
ThreadedMotoServer runs in this process, so the switch and moto's backends are process-wide: the previous count is
restored on exit, and bucket names are made unique (`create_bucket`) since buckets outlive a server. For volume,
`seed` puts objects straight into that in-process backend (see there).
"""

from __future__ import annotations

import functools
import json
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends
from moto.server import ThreadedMotoServer

from services.common.s3store import S3Config
from tests.harness import free_port

REGION = "us-east-1"


@dataclass(frozen=True)
class S3Keys:
    """An IAM access key pair moto accepts, and the user it belongs to."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    user: str = ""


@contextmanager
def moto_server() -> Iterator[str]:
    """A ThreadedMotoServer on a free port of 127.0.0.1; yields its endpoint URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _reset_auth(endpoint: str, count: str) -> str:
    """Sets moto's INITIAL_NO_AUTH_ACTION_COUNT through the server; returns the previous value."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(json.loads(resp.read())["PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"])


@functools.cache
def _client(endpoint: str, service: str, keys: S3Keys) -> Any:
    """One boto3 client per endpoint, service and key (creating one takes ~0.1 s; they are thread-safe)."""
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
    )


def _grant(iam: Any, user: str, actions: Sequence[str]) -> None:
    """Sets (replaces) the user's only inline policy: `actions` allowed on every resource."""
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
    document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    iam.put_user_policy(UserName=user, PolicyName="grant", PolicyDocument=document)


def _make_user(iam: Any, actions: Sequence[str]) -> S3Keys:
    name = f"user-{uuid.uuid4().hex[:12]}"
    iam.create_user(UserName=name)
    _grant(iam, name, actions)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return S3Keys(key["AccessKeyId"], key["SecretAccessKey"], name)


@dataclass(frozen=True)
class FakeS3:
    """A running moto server with authentication on, and an admin key allowed everything."""

    endpoint: str
    admin: S3Keys
    region: str = REGION

    def client(self, keys: S3Keys | None = None, service: str = "s3") -> Any:
        """A boto3 client (path-style, as moto on an IP needs) signing with keys, the admin's by default."""
        return _client(self.endpoint, service, keys or self.admin)

    def config(self, bucket: str, keys: S3Keys | None = None) -> S3Config:
        """What S3Store needs to reach bucket here, signing with keys (the admin's by default)."""
        keys = keys or self.admin
        return S3Config(
            bucket=bucket,
            endpoint=self.endpoint,
            access_key_id=keys.access_key_id,
            secret_access_key=keys.secret_access_key,
        )

    def create_user(self, actions: Sequence[str] = ("s3:*",)) -> S3Keys:
        """A new IAM user allowed only `actions` on every resource, and its access key."""
        return _make_user(self.client(service="iam"), actions)

    def grant(self, keys: S3Keys, actions: Sequence[str]) -> None:
        """Replaces what the user behind keys is allowed; moto applies it from the next request on."""
        _grant(self.client(service="iam"), keys.user, actions)

    def create_bucket(self, prefix: str = "vk-test") -> str:
        """A new bucket with a unique name."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def seed(self, bucket: str, keys: Iterable[str], body: bytes = b"x") -> None:
        """Many small objects at once, put straight into moto's S3 backend (the server runs in this process).

        Only for volume: moto serves a PutObject in about 4 ms, so 1,500 of them over HTTP take some 6 s; this
        takes 0.1 s. The objects are ordinary moto objects, and everything a test checks still goes over HTTP.
        """
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["global"]
        backend.get_bucket(bucket)  # raises if the bucket is not this account's
        for key in keys:
            backend.put_object(bucket, key, body)


@contextmanager
def fake_s3() -> Iterator[FakeS3]:
    """moto_server with IAM authentication switched on after bootstrapping the admin key (see module docstring)."""
    with moto_server() as endpoint:
        previous = _reset_auth(endpoint, "inf")  # no authentication while the admin is created
        try:
            admin = _make_user(_client(endpoint, "iam", S3Keys("bootstrap", "bootstrap")), ["*"])
            _reset_auth(endpoint, "0")
            yield FakeS3(endpoint, admin)
        finally:
            _reset_auth(endpoint, previous)


@pytest.fixture(scope="session", name="fake_s3")
def fake_s3_fixture() -> Iterator[FakeS3]:
    """One authenticated moto server for the session; import this into a test module to use `fake_s3`."""
    with fake_s3() as s3:
        yield s3
