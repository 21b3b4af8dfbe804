"""Signed download URLs: a link verifies as issued, and any change to it does not."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from services.common.signing import UrlSigner

_PLATFORM_KEY = b"signing-test-platform-key"
_KEY = "outputs/job-1/output.mp4"
_NAME = "My clip (720p).mp4"
_EXPIRES_AT = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Link:
    """A download link as the gateway reads it back: path key, expires, name and sig."""

    key: str
    expires: int
    name: str
    sig: str

    @classmethod
    def parse(cls, path: str) -> _Link:
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        return cls(unquote(parts.path.removeprefix("/cdn/")), int(query["expires"]), query["name"], query["sig"])

    def verifies(self, signer: UrlSigner) -> bool:
        return signer.verify(self.key, expires=self.expires, name=self.name, sig=self.sig)


@pytest.fixture
def signer() -> UrlSigner:
    return UrlSigner(_PLATFORM_KEY)


@pytest.fixture
def link(signer: UrlSigner) -> _Link:
    return _Link.parse(signer.path(_KEY, expires_at=_EXPIRES_AT, name=_NAME))


def test_a_link_verifies_as_issued(signer: UrlSigner, link: _Link) -> None:
    assert link == replace(link, key=_KEY, expires=int(_EXPIRES_AT.timestamp()), name=_NAME)
    assert link.verifies(signer)


@pytest.mark.parametrize(
    "change",
    [
        {"key": "outputs/job-2/output.mp4"},
        {"expires": int(_EXPIRES_AT.timestamp()) + 3600},
        {"name": "other.mp4"},
        {"sig": "A" * 43},
        {"sig": ""},
        {"sig": "é" * 43},
    ],
    ids=["key", "expires", "name", "sig", "empty-sig", "non-ascii-sig"],
)
def test_a_changed_link_is_refused(signer: UrlSigner, link: _Link, change: dict[str, Any]) -> None:
    assert not replace(link, **change).verifies(signer)


def test_a_link_of_another_platform_key_is_refused(link: _Link) -> None:
    assert not link.verifies(UrlSigner(b"another-platform-key"))
