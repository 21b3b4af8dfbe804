"""Google service-account key files: what one must hold before it is saved.

A key is checked without calling Google (the example integrations only create the credential and
validate lazily): it is a JSON object of type `service_account` with a client email and an RSA private
key google-auth can sign with. Error messages never quote the key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from services.common.errors import FieldViolation, InvalidArgument, R

MAX_KEY_BYTES = 16 * 1024  # Google's key files are about 2.3 KiB
_EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9.-]{1,255}")
# What a worker needs to mint tokens; the rest of Google's file (auth_uri, cert URLs) is not kept.
_KEPT = ("type", "project_id", "private_key_id", "private_key", "client_email", "client_id")


@dataclass(frozen=True)
class ServiceAccountKey:
    client_email: str
    project_id: str
    info: dict[str, Any] = field(repr=False)  # the kept fields, private key included


def _refuse(message: str) -> InvalidArgument:
    return InvalidArgument(message, reason=R.BODY_INVALID, violations=[FieldViolation("serviceAccount", message)])


def parse(raw: str) -> ServiceAccountKey:
    """The key in raw (the JSON text of Google's key file); BODY_INVALID when it is not a usable one."""
    if len(raw.encode()) > MAX_KEY_BYTES:
        raise _refuse(f"The service account key is larger than {MAX_KEY_BYTES} bytes.")
    try:
        info = json.loads(raw)
    except ValueError:  # the decoder's message quotes the text: not passed on
        raise _refuse("The service account key is not valid JSON.") from None
    if not isinstance(info, dict):
        raise _refuse("The service account key must be a JSON object.")
    if info.get("type") != "service_account":
        raise _refuse('The key is not a service account key (its "type" must be "service_account").')
    email = info.get("client_email")
    if not isinstance(email, str) or not _EMAIL.fullmatch(email):
        raise _refuse("The service account key has no valid client_email.")
    project = info.get("project_id") or ""
    if not isinstance(project, str) or len(project) > 255:
        raise _refuse("The service account key's project_id must be a string.")
    for name in ("private_key", "private_key_id", "client_id"):
        if name in info and not isinstance(info[name], str):
            raise _refuse(f"The service account key's {name} must be a string.")
    if not isinstance(info.get("private_key"), str):
        raise _refuse("The service account key has no private_key.")
    if not _is_rsa_pem(info["private_key"]):
        raise _refuse("The service account key's private_key is not a PEM-encoded RSA private key.")
    kept = {name: info[name] for name in _KEPT if isinstance(info.get(name), str)}
    return ServiceAccountKey(client_email=email, project_id=project, info=kept)


def _is_rsa_pem(pem: str) -> bool:
    """Whether pem loads as an unencrypted RSA private key (what Google's RS256 token grant signs with)."""
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # their messages never carry the key
        return False
    return isinstance(key, RSAPrivateKey)
