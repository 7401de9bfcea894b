"""Keys, key files and tokens for the JWT features (jwt_auth, token_expiry, token_cli).

* :class:`JwtKeyring` - a shared secret, an RSA and an EC key pair (made once
  per process: RSA key generation costs a tenth of a second), written as the
  files the server reads (secret, PEM public keys, a JWKS);
* :func:`signed` - a JWT signed by PyJWT with one of them;
* :func:`forged` - tokens PyJWT refuses to make: ``alg: none`` and an HS256
  token whose HMAC key is a public key's PEM bytes (algorithm confusion);
* :func:`claims_for` - the claims of each named case of the feature tables;
* :class:`ServerLog` - the INFO lines of ``planstream.server`` during a scenario.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from support.servers import on_cleanup

AUDIENCE = "planstream-tests"
ISSUER = "https://issuer.test"
SUBJECT = "dashboard-a"
READ = ["team-a:*"]
PUBLISH = ["team-a:build-?"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _pem_public(key: Any) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pem_private(key: Any) -> bytes:
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@functools.cache
def _rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def _ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class JwtKeyring:
    """The scenario's keys and the files the server reads them from."""

    directory: Path
    secret: bytes

    @classmethod
    def create(cls) -> JwtKeyring:
        directory = Path(tempfile.mkdtemp(prefix="planstream-jwt-"))
        ring = cls(directory, secrets.token_urlsafe(32).encode())
        ring.write("secret", ring.secret + b"\n")
        ring.write("rsa.pem", _pem_public(_rsa_key()))
        ring.write("rsa-private.pem", _pem_private(_rsa_key()))
        ring.write("ec.pem", _pem_public(_ec_key()))
        ring.write("jwks.json", json.dumps({"keys": [ring.jwk("rsa"), ring.jwk("ec")]}).encode())
        return ring

    def write(self, name: str, data: bytes) -> Path:
        path = self.directory / name
        path.write_bytes(data)
        return path

    def path(self, name: str) -> Path:
        return self.directory / name

    def jwk(self, which: str, **extra: Any) -> dict[str, Any]:
        """The public JWK of ``rsa`` or ``ec`` (kid ``rsa-1`` / ``ec-1``)."""
        key = _rsa_key() if which == "rsa" else _ec_key()
        algorithm = jwt.algorithms.RSAAlgorithm if which == "rsa" else jwt.algorithms.ECAlgorithm
        entry: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
        entry |= {"kid": f"{which}-1", "use": "sig"}
        return entry | extra

    def signing_key(self, algorithm: str) -> Any:
        if algorithm.startswith("HS"):
            return self.secret
        return _rsa_key() if algorithm.startswith("RS") else _ec_key()

    def public_pem(self, which: str) -> bytes:
        return _pem_public(_rsa_key() if which == "rsa" else _ec_key())


def other_keys() -> dict[str, Any]:
    """Keys the server does not know, and odd key types."""
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa-1024": rsa.generate_private_key(public_exponent=65537, key_size=1024),
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
    }


def claims_for(case: str, *, now: float | None = None, ttl: float = 600) -> dict[str, Any]:
    """The claims of a named case (``valid`` and the refused ones of jwt_auth.feature)."""
    now = time.time() if now is None else now
    claims: dict[str, Any] = {
        "sub": SUBJECT,
        "iat": int(now),
        "exp": int(now + ttl),
        "aud": AUDIENCE,
        "iss": ISSUER,
        "planstream": {"read": READ, "publish": PUBLISH},
    }
    changes: dict[str, Any] = {
        "valid": {},
        "expired": {"exp": int(now - 120), "iat": int(now - 900)},
        "expired within the leeway": {"exp": int(now - 10), "iat": int(now - 900)},
        "not yet valid": {"nbf": int(now + 120)},
        "issued in the future": {"iat": int(now + 120)},
        "wrong audience": {"aud": "another-service"},
        "wrong issuer": {"iss": "https://evil.test"},
        "exp as a string": {"exp": str(int(now + ttl))},
        "read as a string": {"planstream": {"read": "team-a:*"}},
        "read with a number": {"planstream": {"read": ["team-a:*", 7]}},
        "a bad pattern": {"planstream": {"read": ["team a"]}},
        "the claim as a list": {"planstream": ["team-a:*"]},
        "a long subject": {"sub": "x" * 300},
        "a subject with a newline": {"sub": "line\nbreak"},
        "a subject that is a number": {"sub": 42},
    }
    dropped: dict[str, str] = {
        "no exp": "exp",
        "no audience": "aud",
        "no issuer": "iss",
        "no planstream claim": "planstream",
        "no subject": "sub",
    }
    if case in dropped:
        claims.pop(dropped[case])
    else:
        claims |= changes[case]
    return claims


def signed(claims: dict[str, Any], key: Any, algorithm: str, *, kid: str | None = None) -> str:
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def forged(
    claims: dict[str, Any], *, alg: str, hmac_key: bytes = b"", kid: str | None = None
) -> str:
    """A token PyJWT would not make: ``alg: none`` (no signature), or HS256 with any bytes
    (a public key's PEM, for the algorithm-confusion attack)."""
    fields = {"alg": alg, "typ": "JWT"} | ({"kid": kid} if kid is not None else {})
    header = b64url(json.dumps(fields).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    if alg == "none":
        return f"{header}.{payload}."
    signature = hmac.new(hmac_key, signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


class ServerLog(logging.Handler):
    """The INFO records of ``planstream.server`` (whose level is raised to INFO meanwhile)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.logger = logging.getLogger("planstream.server")
        self._level = self.logger.level

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def attach(self, context: Any) -> None:
        self.logger.addHandler(self)
        self.logger.setLevel(logging.INFO)

        async def detach() -> None:
            self.logger.removeHandler(self)
            self.logger.setLevel(self._level)

        on_cleanup(context, detach)


def keyring(context: Any) -> JwtKeyring:
    if getattr(context, "jwt_keys", None) is None:
        context.jwt_keys = JwtKeyring.create()
    ring: JwtKeyring = context.jwt_keys
    return ring
