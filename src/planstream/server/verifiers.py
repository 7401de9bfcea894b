"""Which credentials a server accepts: its verifiers, composed from its settings.

:func:`verifier_from_settings` builds the server's :class:`TokenVerifier`
from every credential source the settings configure (static tokens, API
keys, JWTs); several are chained by :class:`ChainVerifier`, where the first
verifier that knows a token decides. A server with no credential source at
all is open (anyone reads and publishes, and it warns at start); one with
only an API key file is not.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from planstream.server.api_keys import ApiKeyVerifier
from planstream.server.auth import Principal, StaticTokenVerifier, TokenVerifier
from planstream.server.jwt_auth import jwt_verifier_from_settings
from planstream.server.settings import ServerSettings

__all__ = ["ChainVerifier", "ReloadableVerifier", "verifier_from_settings"]

logger = logging.getLogger("planstream.server")


@runtime_checkable
class ReloadableVerifier(Protocol):
    """A verifier whose credentials live in files it can read again (SIGHUP)."""

    def reload(self) -> None:
        """Read the credentials again; a bad file keeps the ones in use (and logs why)."""
        ...


class ChainVerifier:
    """Several verifiers as one: the first that knows a token decides.

    A verifier knows a token when it returns a principal for it; a token that
    none knows is refused (None: 401). Each credential belongs to one source
    (a static token, a JWT, a key of the key file), so the order only decides
    which is asked first.
    """

    def __init__(self, verifiers: Sequence[TokenVerifier]) -> None:
        if not verifiers:
            raise ValueError("a ChainVerifier needs at least one verifier")
        self.verifiers = tuple(verifiers)

    def __repr__(self) -> str:
        return f"ChainVerifier({', '.join(map(repr, self.verifiers))})"

    async def verify(self, token: str | None) -> Principal | None:
        """The principal of the first verifier that knows ``token``, or None."""
        for verifier in self.verifiers:
            principal = await verifier.verify(token)
            if principal is not None:
                return principal
        return None

    def reload(self) -> None:
        """Reload every verifier that can (API keys; a JWKS file later)."""
        for verifier in self.verifiers:
            if isinstance(verifier, ReloadableVerifier):
                verifier.reload()


def verifier_from_settings(settings: ServerSettings) -> TokenVerifier:
    """The verifier of every credential source ``settings`` configure.

    One source is returned as it is, several as a :class:`ChainVerifier`
    (static tokens first). None at all: the open :class:`StaticTokenVerifier`.
    Beside API keys or JWTs, a read token may not publish (even with no publish token).

    Raises:
        ApiKeyFileError: the API key file cannot be loaded.
        JwtKeyError: a JWT key file cannot be loaded.
    """
    scoped: list[TokenVerifier] = []  # the sources whose credentials carry plan patterns
    if settings.api_keys_file is not None:
        scoped.append(ApiKeyVerifier(settings.api_keys_file))
    # JWTs last: a token no other source knows is checked as one (and the reason
    # it is refused logged, rate-limited), so a key is never reported as a bad JWT.
    jwt = jwt_verifier_from_settings(settings)
    if jwt is not None:
        scoped.append(jwt)
    sources: list[TokenVerifier] = []
    if settings.tokens or settings.publish_tokens:
        # Beside scoped credentials a read token only reads: "no publish token,
        # so readers publish" is the one-team rule, not a hole beside team keys.
        readers_publish = False if scoped else None
        sources.append(
            StaticTokenVerifier(
                settings.tokens, settings.publish_tokens, readers_publish=readers_publish
            )
        )
    sources += scoped
    if not sources:
        return StaticTokenVerifier()  # no credential at all: the open server (it warns)
    if len(sources) == 1:
        return sources[0]
    return ChainVerifier(sources)
