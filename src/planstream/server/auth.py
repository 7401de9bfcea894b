"""Who may read and who may publish: bearer-token verification (protocol §2, §6)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

__all__ = ["Principal", "StaticTokenVerifier", "TokenVerifier", "bearer_token"]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller and what it may do."""

    subject: str
    can_read: bool = True
    can_publish: bool = False


class TokenVerifier(Protocol):
    """Pluggable authentication: map a bearer token (or None) to a principal.

    Return None for a missing or invalid token (HTTP 401); a principal
    without the needed right gets 403.
    """

    async def verify(self, token: str | None) -> Principal | None:
        """Authenticate ``token``."""
        ...


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class StaticTokenVerifier:
    """Tokens from settings, compared in constant time.

    With no tokens at all the server is open: everyone reads and publishes.
    """

    def __init__(
        self, read_tokens: Sequence[SecretStr] = (), publish_tokens: Sequence[SecretStr] = ()
    ) -> None:
        self._read = tuple(t.get_secret_value().encode() for t in read_tokens)
        self._publish = tuple(t.get_secret_value().encode() for t in publish_tokens)

    @property
    def is_open(self) -> bool:
        """Whether no token is configured."""
        return not self._read and not self._publish

    def __repr__(self) -> str:
        return f"StaticTokenVerifier(read={len(self._read)} tokens, publish={len(self._publish)})"

    async def verify(self, token: str | None) -> Principal | None:
        """Authenticate ``token`` against the configured lists."""
        if self.is_open:
            return Principal("anonymous", can_read=True, can_publish=True)
        if token is None:
            return None
        candidate = token.encode()
        if _contains(self._publish, candidate):
            return Principal("publisher", can_read=True, can_publish=True)
        if _contains(self._read, candidate):
            return Principal("reader", can_read=True, can_publish=not self._publish)
        return None


def _contains(tokens: tuple[bytes, ...], candidate: bytes) -> bool:
    # Compare against every token so timing does not reveal which one matched.
    found = False
    for token in tokens:
        found |= hmac.compare_digest(token, candidate)
    return found
