"""Who may read and who may publish: bearer-token verification (protocol §2, §6).

A :class:`TokenVerifier` maps a bearer token to a :class:`Principal`, which
carries a :class:`~planstream.server.plan_scope.PlanScope` per action: the
plans it may read, the plans it may publish to.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

from planstream.server.plan_scope import PlanScope

__all__ = ["PlanScope", "Principal", "StaticTokenVerifier", "TokenVerifier", "bearer_token"]

_EVERYTHING = PlanScope.everything()
_NOTHING = PlanScope.nothing()


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller and what it may do.

    Attributes:
        subject: who it is (a JWT's ``sub``, an API key's name, ``reader``);
            logged, so never a secret.
        read: the plans it may read (subscribe, poll, snapshot, list).
        publish: the plans it may publish to.
        expires_at: when its credential expires (Unix time, a JWT's ``exp``);
            a WebSocket open then is closed with 4001 (protocol §4). None: never.
    """

    subject: str
    read: PlanScope = _EVERYTHING
    publish: PlanScope = _NOTHING
    expires_at: float | None = None

    @property
    def can_read(self) -> bool:
        """Whether it may read some plan (the WebSocket upgrade asks no more)."""
        return not self.read.is_empty

    @property
    def can_publish(self) -> bool:
        """Whether it may publish to some plan."""
        return not self.publish.is_empty

    def may_read(self, plan_id: str) -> bool:
        """Whether it may read ``plan_id``."""
        return self.read.allows(plan_id)

    def may_publish(self, plan_id: str) -> bool:
        """Whether it may publish to ``plan_id``."""
        return self.publish.allows(plan_id)


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
    A read token may publish too while there is no publish token, unless
    ``readers_publish`` says otherwise (False: beside other credentials, such
    as API keys, a read token only reads).
    """

    def __init__(
        self,
        read_tokens: Sequence[SecretStr] = (),
        publish_tokens: Sequence[SecretStr] = (),
        *,
        readers_publish: bool | None = None,
    ) -> None:
        self._read = tuple(t.get_secret_value().encode() for t in read_tokens)
        self._publish = tuple(t.get_secret_value().encode() for t in publish_tokens)
        self._readers_publish = not self._publish if readers_publish is None else readers_publish

    @property
    def is_open(self) -> bool:
        """Whether no token is configured."""
        return not self._read and not self._publish

    def __repr__(self) -> str:
        return f"StaticTokenVerifier(read={len(self._read)} tokens, publish={len(self._publish)})"

    async def verify(self, token: str | None) -> Principal | None:
        """Authenticate ``token`` against the configured lists."""
        if self.is_open:
            return Principal("anonymous", publish=_EVERYTHING)
        if token is None:
            return None
        candidate = token.encode()
        if _contains(self._publish, candidate):
            return Principal("publisher", publish=_EVERYTHING)
        if _contains(self._read, candidate):
            return Principal("reader", publish=_EVERYTHING if self._readers_publish else _NOTHING)
        return None


def _contains(tokens: tuple[bytes, ...], candidate: bytes) -> bool:
    # Compare against every token so timing does not reveal which one matched.
    found = False
    for token in tokens:
        found |= hmac.compare_digest(token, candidate)
    return found
