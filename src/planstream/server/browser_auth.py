"""The browser form of the bearer token: the ``planstream.bearer.*`` subprotocol (protocol §2).

A browser cannot set ``Authorization`` on a WebSocket upgrade, so it may offer,
after ``planstream.v1``, the subprotocol ``planstream.bearer.<token as
base64url without padding>``. :func:`read_offer` splits an offered list into
the real subprotocols and that token (or the reason it cannot be one). It is
the one place the server reads the subprotocol form; the stream endpoint
(app.py) then hands the token to the same verifier as a header's.

Hostile input is refused, never repaired: a value that is not canonical
base64url without padding, longer than :data:`MAX_TOKEN_BYTES` once decoded,
empty, not printable ASCII once decoded, or offered more than once yields a
``problem`` (answered 401 like a bad token). A problem never quotes the value,
and neither does the repr: the offered list is a secret.

Pure: no I/O, no asyncio.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from planstream.redaction import is_header_safe

__all__ = ["BEARER_PREFIX", "MAX_TOKEN_BYTES", "OfferedAuth", "read_offer", "scrub_offer_header"]

#: The subprotocol prefix of the browser form of the token (case-sensitive, RFC 6455).
BEARER_PREFIX: Final = "planstream.bearer."

#: The longest token the subprotocol may carry, decoded. The whole offer must
#: fit in one request line of the WebSocket library (8 KiB): 4 KiB of token is
#: 5,462 base64url characters, ample for any JWT a reader holds.
MAX_TOKEN_BYTES: Final = 4096

_MAX_ENCODED: Final = -(-MAX_TOKEN_BYTES * 4 // 3)  # ceil(4n/3): no padding
_BASE64URL: Final = re.compile(r"[A-Za-z0-9_-]+")
# An RFC 7230 token: what a subprotocol may be (RFC 6455 §4.1).
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: What :func:`scrub_offer_header` puts instead of a bearer entry that is no
#: token: a valid token that is no base64url, so :func:`read_offer` refuses it.
MALFORMED_BEARER: Final = BEARER_PREFIX + "~malformed"


@dataclass(frozen=True, slots=True)
class OfferedAuth:
    """What an offered subprotocol list says, bearer entries taken out.

    Attributes:
        protocols: the offered subprotocols without any ``planstream.bearer.*``.
        token: the decoded token of the one well-formed bearer entry, if any.
        problem: why the bearer entries cannot be a token (never quoting them).
    """

    protocols: tuple[str, ...]
    token: str | None = field(default=None, repr=False)
    problem: str | None = None

    def __repr__(self) -> str:
        token = "None" if self.token is None else "'***'"
        return f"OfferedAuth(protocols={self.protocols!r}, token={token}, problem={self.problem!r})"


def read_offer(offered: Sequence[str]) -> OfferedAuth:
    """Split ``offered`` (the ``Sec-WebSocket-Protocol`` entries) into protocols and token."""
    protocols = tuple(entry for entry in offered if not entry.startswith(BEARER_PREFIX))
    bearers = [entry[len(BEARER_PREFIX) :] for entry in offered if entry.startswith(BEARER_PREFIX)]
    if not bearers:
        return OfferedAuth(protocols)
    if len(bearers) > 1:
        return OfferedAuth(protocols, problem="more than one bearer subprotocol")
    token, problem = _decode(bearers[0])
    return OfferedAuth(protocols, token=token, problem=problem)


def _decode(encoded: str) -> tuple[str | None, str | None]:
    """The token of one bearer entry, or why it is none (the value is never quoted)."""
    if not encoded:
        return None, "empty bearer subprotocol"
    if len(encoded) > _MAX_ENCODED:
        return None, f"bearer subprotocol longer than {MAX_TOKEN_BYTES} bytes of token"
    if "=" in encoded:
        return None, "bearer subprotocol with base64 padding"
    if _BASE64URL.fullmatch(encoded) is None or len(encoded) % 4 == 1:
        return None, "bearer subprotocol that is not base64url"
    # The alphabet and length are checked: decoding cannot fail.
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != encoded:
        # Unused trailing bits set: two spellings of one token; accept only one.
        return None, "bearer subprotocol that is not canonical base64url"
    token = raw.decode("latin-1")
    if not is_header_safe(token):
        return None, "bearer subprotocol whose token is not printable ASCII"
    return token, None


def scrub_offer_header(value: bytes) -> bytes:
    """A ``Sec-WebSocket-Protocol`` value whose bearer entries that are no token
    (``=`` padding, spaces, non-ASCII...) are replaced by :data:`MALFORMED_BEARER`.

    The WebSocket library parses the header before the app sees it, and
    refuses one that is not a list of tokens with a plain-text 400 quoting the
    whole value, the token included. Scrubbed, the request reaches
    :func:`read_offer`, which answers it like any malformed offer.
    """
    entries = value.decode("latin-1").split(",")
    scrubbed = [
        f" {MALFORMED_BEARER}"
        if BEARER_PREFIX in entry and _TOKEN.fullmatch(entry.strip()) is None
        else entry
        for entry in entries
    ]
    return ",".join(scrubbed).encode("latin-1")
