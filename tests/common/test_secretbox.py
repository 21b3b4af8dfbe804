"""Secrets at rest: a sealed token opens only with the same platform key and context, and tells nothing."""

from __future__ import annotations

import base64

import pytest

from services.common.secretbox import SecretBox, SecretBoxError

_PLATFORM_KEY = b"secretbox-test-platform-key-0123456789"
_CONTEXT = "job-7f3a/s3_secret_key"
_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(_PLATFORM_KEY)


def _flip(token: str, index: int) -> str:
    """The token with one bit of its sealed bytes flipped, still well-formed."""
    body = token.removeprefix("v1.")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[index] ^= 0x01
    return "v1." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def _refused(box: SecretBox, token: str, context: str = _CONTEXT) -> SecretBoxError:
    with pytest.raises(SecretBoxError) as caught:
        box.open(token, context=context)
    return caught.value


def test_a_sealed_secret_opens_with_the_same_key_and_context(box: SecretBox) -> None:
    token = box.seal(_SECRET, context=_CONTEXT)

    assert box.open(token, context=_CONTEXT) == _SECRET.encode()
    assert SecretBox(_PLATFORM_KEY).open(token, context=_CONTEXT) == _SECRET.encode()  # another process
    assert box.open(box.seal(b"\x00\xff", context=_CONTEXT), context=_CONTEXT) == b"\x00\xff"
    assert box.open(box.seal("", context=_CONTEXT), context=_CONTEXT) == b""


def test_a_token_is_versioned_url_safe_ascii(box: SecretBox) -> None:
    token = box.seal(_SECRET, context=_CONTEXT)

    assert token.startswith("v1.")
    assert token.isascii()
    assert set(token.removeprefix("v1.")) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("other", ["job-7f3b/s3_secret_key", "job-7f3a/oauth_refresh_token", "job-7f3a"])
def test_a_token_does_not_open_in_another_context(box: SecretBox, other: str) -> None:
    token = box.seal(_SECRET, context=_CONTEXT)

    error = _refused(box, token, other)

    assert _SECRET not in error.message
    assert other not in error.message and _CONTEXT not in error.message
    assert error.reason_name == "INTERNAL"


def test_a_token_does_not_open_with_another_platform_key(box: SecretBox) -> None:
    token = box.seal(_SECRET, context=_CONTEXT)

    _refused(SecretBox(b"another-platform-key"), token)


@pytest.mark.parametrize("index", [0, 11, 12, 20, -1], ids=["nonce", "nonce-end", "ciphertext", "inside", "tag"])
def test_any_changed_bit_is_detected(box: SecretBox, index: int) -> None:
    token = box.seal(_SECRET, context=_CONTEXT)

    _refused(box, _flip(token, index))


def test_malformed_tokens_are_refused(box: SecretBox) -> None:
    token = box.seal(_SECRET, context=_CONTEXT)
    for bad in ("", "v1.", "v2." + token[3:], token[3:], token[:20], token + "!", token + "A", "v1.AAAA"):
        error = _refused(box, bad)
        assert _SECRET not in error.message


def test_the_same_plaintext_seals_to_distinct_tokens(box: SecretBox) -> None:
    tokens = {box.seal(_SECRET, context=_CONTEXT) for _ in range(20)}

    assert len(tokens) == 20
    assert all(box.open(t, context=_CONTEXT) == _SECRET.encode() for t in tokens)


def test_a_token_reveals_neither_the_secret_nor_the_key(box: SecretBox) -> None:
    token = box.seal(_SECRET, context=_CONTEXT)
    decoded = base64.urlsafe_b64decode(token[3:] + "=" * (-len(token[3:]) % 4))

    for text in (token.encode(), decoded):
        assert _SECRET.encode() not in text
        assert _PLATFORM_KEY not in text
        assert _CONTEXT.encode() not in text
        assert base64.urlsafe_b64encode(_SECRET.encode()).rstrip(b"=")[:16] not in text


def test_repr_hides_the_key(box: SecretBox) -> None:
    assert _PLATFORM_KEY.decode() not in repr(box)
    assert _PLATFORM_KEY.decode() not in str(box)
    assert "hidden" in repr(box)
    assert not hasattr(box, "__dict__")  # nothing but the cipher is kept


def test_credentials_round_trip_as_json(box: SecretBox) -> None:
    credentials = {"access_key_id": "AKIAEXAMPLE", "secret_access_key": _SECRET, "region": "eu-west-1"}
    token = box.seal_json(credentials, context=_CONTEXT)

    assert box.open_json(token, context=_CONTEXT) == credentials
    assert _SECRET not in token
    _refused(box, token, "job-other/s3")


def test_open_json_refuses_a_secret_that_is_not_an_object(box: SecretBox) -> None:
    for plaintext in (b"[1, 2]", b"not json at all", b"\xff\xfe\x00"):
        with pytest.raises(SecretBoxError) as caught:
            box.open_json(box.seal(plaintext, context=_CONTEXT), context=_CONTEXT)
        assert caught.value.__context__ is None  # the decoding error, which quotes the plaintext, is not kept


def test_an_empty_key_or_context_is_a_programming_error(box: SecretBox) -> None:
    with pytest.raises(ValueError):
        SecretBox(b"")
    with pytest.raises(ValueError):
        box.seal(_SECRET, context="")
    with pytest.raises(ValueError):
        box.open(box.seal(_SECRET, context=_CONTEXT), context="")
