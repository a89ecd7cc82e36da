"""JWT-shaped tokens, signed RS256 like Xero's, with the key kept in the store.

Access tokens are self-contained: they carry the client, the user, the
authentication event and the granted scopes. Verification results are cached
per token string because an API call verifies the same token again and again.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .store import Json, Store

ISSUER = "https://identity.xero.com"
AUDIENCE = "https://identity.xero.com/resources"
ACCESS_TOKEN_SECONDS = 30 * 60
REFRESH_TOKEN_SECONDS = 60 * 24 * 3600
REFRESH_GRACE_SECONDS = 30 * 60
AUTH_CODE_SECONDS = 5 * 60

# Key generation costs ~50 ms; in-memory sandboxes in one test process share one key.
_PROCESS_KEY: bytes | None = None
_PROCESS_KEY_LOCK = threading.Lock()


def _generate_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _process_pem() -> bytes:
    global _PROCESS_KEY
    with _PROCESS_KEY_LOCK:
        if _PROCESS_KEY is None:
            _PROCESS_KEY = _generate_pem()
        return _PROCESS_KEY


class InvalidToken(Exception):
    """The bearer token is not one the sandbox issued (bad signature, garbage)."""


class ExpiredToken(Exception):
    """The bearer token was issued by the sandbox but its ``exp`` has passed."""

    def __init__(self, expired_at: float) -> None:
        super().__init__(expired_at)
        self.expired_at = expired_at


class TokenSigner:
    def __init__(self, store: Store) -> None:
        pem = store.meta_get("signing_key")
        if pem is None:
            pem_bytes = _process_pem() if store.path == ":memory:" else _generate_pem()
            store.meta_set("signing_key", pem_bytes.decode())
        else:
            pem_bytes = pem.encode()
        self._private = serialization.load_pem_private_key(pem_bytes, password=None)
        public = self._private.public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        self._public = public
        self.kid = (
            base64.urlsafe_b64encode(
                public.public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )[-12:]
            )
            .decode()
            .rstrip("=")
        )
        self._cache: dict[str, Json] = {}
        self._cache_lock = threading.Lock()

    def sign(self, claims: Json) -> str:
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.kid})  # type: ignore[arg-type]

    def verify(self, token: str, *, now: float) -> Json:
        """Claims of a token this sandbox issued; raises InvalidToken or ExpiredToken."""
        with self._cache_lock:
            claims = self._cache.get(token)
        if claims is None:
            try:
                claims = jwt.decode(
                    token,
                    self._public,
                    algorithms=["RS256"],
                    audience=AUDIENCE,
                    options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
                )
            except jwt.PyJWTError as exc:
                raise InvalidToken(str(exc)) from exc
            with self._cache_lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[token] = claims
        if float(claims["exp"]) <= now:
            raise ExpiredToken(float(claims["exp"]))
        return claims

    def jwks(self) -> Json:
        numbers = self._public.public_numbers()

        def b64(value: int) -> str:
            raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": self.kid,
                    "e": b64(numbers.e),
                    "n": b64(numbers.n),
                }
            ]
        }


def opaque_token() -> str:
    """Refresh tokens and authorization codes are opaque strings at Xero."""
    return secrets.token_hex(32)


def peek_claims(token: str) -> dict[str, Any]:
    """Unverified claims, for the call log only."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        data = json.loads(base64.urlsafe_b64decode(payload))
        return data if isinstance(data, dict) else {}
    except (IndexError, ValueError):
        return {}
