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

Only files of the types in :data:`MEDIA_TYPES` are served, each with its type
named here rather than guessed from the machine's ``mime.types`` (a module
script needs a JavaScript type); anything else, a directory, or a path
leaving ``static/`` is the JSON 404 of every unknown path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Final

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "MEDIA_TYPES", "STATIC_DIRECTORY", "dashboard_routes"]

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


#: The file types the dashboard may ship, by suffix (text types get ``charset=utf-8``).
MEDIA_TYPES: Final[Mapping[str, str]] = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".woff2": "font/woff2",
}


class _DashboardFiles(StaticFiles):
    """Starlette's static files, limited to :data:`MEDIA_TYPES` and typed by it."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        # "." is the folder itself: index.html, for the page's route.
        if path != "." and PurePath(path).suffix.lower() not in MEDIA_TYPES:
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        # Starlette's own file_response, with the type named instead of guessed.
        response = FileResponse(
            full_path,
            status_code=status_code,
            stat_result=stat_result,
            media_type=MEDIA_TYPES[PurePath(full_path).suffix.lower()],
        )
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


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
    files = _SecurityHeaders(_DashboardFiles(directory=STATIC_DIRECTORY / "assets"))
    index = _SecurityHeaders(_DashboardFiles(directory=STATIC_DIRECTORY, html=True))
    return [
        Mount("/dashboard", app=files, name="dashboard"),
        Route("/", endpoint=index, include_in_schema=False),
    ]
