"""The keys a JWT may be signed with, and the algorithms each allows (issue 16).

One source at a time: a shared secret (HMAC: HS256, HS384, HS512), a PEM
public key (RSA: RS256, RS384, RS512; EC: the ES algorithm of its curve) or a
local JWKS file (RFC 7517: the token's ``kid`` picks the key, the key's
``alg``, else its ``kty`` and ``crv``, decides the one algorithm). The
algorithms come from the key, never from the token's header (RFC 8725 §2.1,
§3.1): ``alg: none`` and an HS256 token "signed" with a public key's bytes
are refused because no key of a public-key source allows an HMAC algorithm,
and a shared secret allows nothing else.

A file that cannot be read or parsed stops the server at start with a
:class:`JwtKeyError` naming the file, never quoting it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from planstream.errors import SettingsError

__all__ = ["MIN_SECRET_BYTES", "JwtKey", "JwtKeyError", "JwtKeys"]

#: Shortest shared secret accepted: HS256's hash size (RFC 7518 §3.2).
MIN_SECRET_BYTES: Final = 32
#: Shortest RSA key accepted (RFC 7518 §3.3).
MIN_RSA_BITS: Final = 2048

_HMAC = ("HS256", "HS384", "HS512")
_RSA = ("RS256", "RS384", "RS512")
_EC_BY_CURVE: Final[Mapping[str, str]] = {
    "secp256r1": "ES256",
    "secp384r1": "ES384",
    "secp521r1": "ES512",
}
#: What a JWKS key may verify: public-key algorithms only (a JWKS is published).
_JWKS_ALGORITHMS = frozenset({*_RSA, "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})


class JwtKeyError(SettingsError):
    """A JWT key file cannot be used; the message names the setting and the file."""

    def __init__(self, setting: str, path: Path | str, problem: str) -> None:
        super().__init__([(setting, f"{path}: {problem}")])


@dataclass(frozen=True, slots=True)
class JwtKey:
    """One verification key and the algorithms it allows (never the token's choice)."""

    key: Any  # bytes (HMAC), a cryptography public key, or a jwt.PyJWK
    algorithms: tuple[str, ...]

    def __repr__(self) -> str:  # a secret's bytes never reach a repr
        return f"JwtKey(algorithms={list(self.algorithms)})"


class JwtKeys:
    """The keys of one source; :meth:`select` picks the key for a token's ``kid``."""

    def __init__(self, keys: Mapping[str | None, JwtKey], *, source: str) -> None:
        self._keys = dict(keys)
        self.source = source

    def __repr__(self) -> str:
        return (
            f"JwtKeys(source={self.source!r}, keys={len(self._keys)}, algorithms={self.algorithms})"
        )

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def algorithms(self) -> list[str]:
        """Every algorithm some key allows, sorted."""
        return sorted({name for key in self._keys.values() for name in key.algorithms})

    def select(self, kid: str | None) -> JwtKey | None:
        """The key for ``kid``: by id in a JWKS (the only key when the token names
        none); the one key of a secret or a PEM file, whatever the token says."""
        if None in self._keys:
            return self._keys[None]
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    @classmethod
    def from_secret(cls, secret: bytes, *, setting: str = "", path: Path | str = "") -> JwtKeys:
        """A shared secret (its surrounding whitespace, a final newline, dropped)."""
        secret = secret.strip()
        if len(secret) < MIN_SECRET_BYTES:
            raise JwtKeyError(
                setting, path, f"a shared secret must hold at least {MIN_SECRET_BYTES} bytes"
            )
        return cls({None: JwtKey(secret, _HMAC)}, source="shared secret")

    @classmethod
    def from_public_key_pem(
        cls, data: bytes, *, setting: str = "", path: Path | str = ""
    ) -> JwtKeys:
        """An RSA or EC public key in PEM."""
        if b"PRIVATE KEY" in data:
            raise JwtKeyError(setting, path, "holds a private key: give the public key only")
        try:
            key = load_pem_public_key(data)
        except (ValueError, TypeError):
            raise JwtKeyError(setting, path, "is not a PEM public key") from None
        if isinstance(key, rsa.RSAPublicKey):
            if key.key_size < MIN_RSA_BITS:
                raise JwtKeyError(setting, path, f"an RSA key needs at least {MIN_RSA_BITS} bits")
            return cls({None: JwtKey(key, _RSA)}, source="RSA public key")
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_BY_CURVE:
            algorithm = _EC_BY_CURVE[key.curve.name]
            return cls({None: JwtKey(key, (algorithm,))}, source="EC public key")
        raise JwtKeyError(
            setting, path, "holds neither an RSA key nor an EC key on P-256, P-384 or P-521"
        )

    @classmethod
    def from_jwks(cls, data: bytes, *, setting: str = "", path: Path | str = "") -> JwtKeys:
        """A JWKS document ``{"keys": [...]}``; keys for encryption (``use: enc``) are skipped."""
        try:
            document = json.loads(data)
        except (ValueError, RecursionError):
            raise JwtKeyError(setting, path, "is not JSON") from None
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise JwtKeyError(setting, path, 'is not a JWKS: no "keys" list')
        keys: dict[str | None, JwtKey] = {}
        for number, entry in enumerate(entries, 1):
            if isinstance(entry, dict) and entry.get("use", "sig") != "sig":
                continue
            kid, key = _jwks_key(entry, f"key {number}", setting, path)
            if kid in keys:
                raise JwtKeyError(setting, path, f"key {number}: kid {kid!r} appears twice")
            keys[kid] = key
        if not keys:
            raise JwtKeyError(setting, path, "holds no signing key")
        if len(keys) > 1 and any(kid is None for kid in keys):
            raise JwtKeyError(setting, path, 'with several keys, each needs a "kid"')
        # A lone key without a kid is stored under "" so that select() matches by kid.
        if None in keys:
            keys = {"": keys.pop(None)}
        return cls(keys, source="JWKS")


def _jwks_key(
    entry: object, name: str, setting: str, path: Path | str
) -> tuple[str | None, JwtKey]:
    if not isinstance(entry, dict):
        raise JwtKeyError(setting, path, f"{name} is not a JSON object")
    kid = entry.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise JwtKeyError(setting, path, f'{name}: "kid" must be a non-empty string')
    if entry.get("kty") == "oct" or "d" in entry:
        raise JwtKeyError(
            setting,
            path,
            f"{name} is secret (a symmetric or private key): a JWKS holds public keys",
        )
    try:
        key = jwt.PyJWK(entry)
    except (jwt.PyJWTError, ValueError, TypeError, NotImplementedError):
        raise JwtKeyError(setting, path, f"{name} is not a usable RSA or EC public key") from None
    if key.algorithm_name not in _JWKS_ALGORITHMS:
        raise JwtKeyError(
            setting, path, f"{name}: algorithm {key.algorithm_name!r} is not allowed for a JWKS key"
        )
    return kid, JwtKey(key, (key.algorithm_name,))
