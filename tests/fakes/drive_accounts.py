"""Service accounts of the local Google Drive (tests/fakes/drive.py): key files, and the JWT bearer grant.

google-auth's service-account credentials sign an RS256 assertion with the key file's private key
({iss: client_email, scope, aud: token_uri, iat, exp}, header kid = private_key_id) and POST it as
`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=...`. Google checks the signature
against the account's public key, the audience, and the lifetime, and answers an access token for
the account. So does this. (google-auth puts Google's token endpoint in `aud` whichever endpoint it
posts to: both are accepted.)
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import exceptions, jwt

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class Refusal:
    """An OAuth error answer: status and body."""

    status: int
    error: str
    description: str


@dataclass
class _Account:
    email: str
    public_pem: str
    enabled: bool = True


class ServiceAccounts:
    """Issued keys by key id; thread-safe."""

    def __init__(self) -> None:
        self._keys: dict[str, _Account] = {}
        self._lock = threading.Lock()
        self.grants = 0

    def create(self, name: str = "vidkiln-reader", *, project_id: str = "vidkiln-test") -> dict[str, Any]:
        """A new account's key file, as Google's console downloads it (token_uri: Google's real one)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        key_id = secrets.token_hex(20)
        email = f"{name}-{secrets.token_hex(3)}@{project_id}.iam.gserviceaccount.com"
        with self._lock:
            self._keys[key_id] = _Account(email, public_pem)
        return {
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": key_id,
            "private_key": private_pem,
            "client_email": email,
            "client_id": str(secrets.randbelow(10**21)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": GOOGLE_TOKEN_URI,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        }

    def disable(self, email: str) -> None:
        """Google's "disable service account": its assertions are refused from now on."""
        with self._lock:
            for account in self._keys.values():
                if account.email == email:
                    account.enabled = False

    def grant(self, assertion: str, audience: str, scope: str) -> str | Refusal:
        """The account email an assertion proves (signature, audience, lifetime, scope), or why not."""
        with self._lock:
            certs = {key_id: account.public_pem for key_id, account in self._keys.items()}
            accounts = dict(self._keys)
        try:
            claims = jwt.decode(assertion, certs=certs, audience=[audience, GOOGLE_TOKEN_URI])  # type: ignore[no-untyped-call]
            key_id = jwt.decode_header(assertion).get("kid", "")  # type: ignore[no-untyped-call]
        except (exceptions.GoogleAuthError, ValueError):
            return Refusal(400, "invalid_grant", "Invalid JWT Signature.")
        account = accounts.get(key_id)
        if account is None or not account.enabled or claims.get("iss") != account.email:
            return Refusal(400, "invalid_grant", "Invalid grant: account not found")
        if scope not in str(claims.get("scope", "")).split():
            return Refusal(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        with self._lock:
            self.grants += 1
        return account.email
