"""The browser dashboard: static files shipped in the package, served at ``/``.

``ServerSettings.dashboard`` turns it on (``planstream serve`` and
``planstream demo`` do; an app mounted in another backend serves it only when
asked). The page is plain HTML, CSS and JavaScript modules from
``planstream/server/static`` (no build step, no CDN): ``/`` answers
``index.html`` and ``/dashboard/...`` the files next to it. Every answer
carries a strict Content-Security-Policy: scripts, styles, images and
connections from this origin only, no inline script or style, no framing.
The page speaks to the same origin's ``/v1/stream`` and ``/v1/...`` routes,
relative to its own URL, so it works under a mount prefix too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "STATIC_DIRECTORY", "dashboard_routes"]

#: The dashboard's files, inside the installed package.
STATIC_DIRECTORY: Final = Path(__file__).resolve().parent / "static"

#: 'self' in connect-src covers ws:// and wss:// of the page's own host (CSP 3).
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_SECURITY_HEADERS: Final = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    # Revalidate every time (ETag/Last-Modified make that cheap): an upgraded
    # server never runs an old page.
    (b"cache-control", b"no-cache"),
)


class _SecurityHeaders:
    """Adds the policy headers to every answer of the wrapped static app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in _SECURITY_HEADERS}
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() not in names]
                message = {**message, "headers": [*kept, *_SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def dashboard_routes() -> list[BaseRoute]:
    """``/`` (the page) and ``/dashboard/...`` (its modules, styles, icon)."""
    files = _SecurityHeaders(StaticFiles(directory=STATIC_DIRECTORY / "assets"))
    index = _SecurityHeaders(StaticFiles(directory=STATIC_DIRECTORY, html=True))
    return [
        Mount("/dashboard", app=files, name="dashboard"),
        Route("/", endpoint=index, include_in_schema=False),
    ]
