"""The settings of a client or publisher: ``ClientSettings`` with its arguments on top.

``PlanStreamClient(url, token=...)`` and ``PlanPublisher(url, token=...)``
take the same arguments, and they win over ``settings`` and ``PLANSTREAM_*``
the same way: one function, so the two can never disagree.
"""

from __future__ import annotations

import ssl as _ssl
from collections.abc import Sequence
from typing import Any

from planstream.settings import ClientSettings

__all__ = ["settings_with_arguments"]


def settings_with_arguments(
    settings: ClientSettings | None,
    *,
    url: str | None = None,
    urls: Sequence[str] | None = None,
    token: str | None = None,
    ssl: _ssl.SSLContext | None = None,
) -> ClientSettings:
    """``settings`` (default: read from ``PLANSTREAM_*``) with the arguments given.

    A ``url`` argument also clears ``urls`` (an argument wins over
    ``PLANSTREAM_URLS``) unless ``urls`` is given too. Every URL form of
    :class:`~planstream.endpoints.ServerEndpoints` is accepted.

    Raises:
        SettingsError: an argument or variable is invalid; the message names
            the argument, not a variable the user never set.
    """
    overrides: dict[str, Any] = {}
    if ssl is not None:
        overrides["ssl"] = {"context": ssl}
    if url is not None:
        overrides["url"] = url
        overrides["urls"] = None
    if urls is not None:
        overrides["urls"] = list(urls)
    if token is not None:
        overrides["token"] = token
    if settings is None:
        return ClientSettings(**overrides)
    if overrides:
        return ClientSettings(**{**dict(settings), **overrides})
    return settings
