"""Version negotiation (pure): is the server's ``hello`` one we can speak?

Protocol §2: the ``protocol`` number must match, and the schema's MAJOR must
match ours; any MINOR of our major is accepted (unknown fields and kinds are
tolerated by the schema layer).
"""

from __future__ import annotations

from collections.abc import Sequence

from planstream.errors import IncompatibleProtocolError
from planstream.schema.frames import PROTOCOL_VERSION, SCHEMA_VERSION, SUBPROTOCOL, HelloFrame

__all__ = ["check_hello", "client_versions", "incompatible_subprotocols"]


def client_versions(protocol: int = PROTOCOL_VERSION, schema: str = SCHEMA_VERSION) -> str:
    """This client's versions as text, for error messages."""
    return f"protocol {protocol}, schema {schema}"


def check_hello(
    hello: HelloFrame, *, protocol: int = PROTOCOL_VERSION, schema: str = SCHEMA_VERSION
) -> None:
    """Accept ``hello`` or raise.

    Raises:
        IncompatibleProtocolError: protocol or schema major differ; the error
            names both sides' versions.
    """
    server = f"protocol {hello.protocol}, schema {hello.schema_version} ({hello.server})"
    client = client_versions(protocol, schema)
    if hello.protocol != protocol:
        raise IncompatibleProtocolError(server=server, client=client, detail="protocol differs")
    if _major(hello.schema_version) != _major(schema):
        raise IncompatibleProtocolError(
            server=server, client=client, detail="schema major version differs"
        )


def incompatible_subprotocols(
    supported: Sequence[str], *, offered: Sequence[str] = (SUBPROTOCOL,)
) -> IncompatibleProtocolError:
    """The error for a server that refused the upgrade with HTTP 400 (protocol §2)."""
    server = "subprotocols " + (", ".join(supported) if supported else "(none listed)")
    return IncompatibleProtocolError(
        server=server,
        client="subprotocols " + ", ".join(offered),
        detail="no common subprotocol",
    )


def _major(version: str) -> int:
    return int(version.split(".", 1)[0])
