"""What every HTTP endpoint shares: the JSON error answer and the token check (protocol §6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse

from planstream.errors import PlanStreamError
from planstream.server.auth import Principal, bearer_token
from planstream.server.state import ServerState

# Internal to the HTTP endpoints (http_api, http_publish): nothing public here.
__all__: list[str] = []

JSON_MEDIA_TYPE: Final = "application/json"


class HttpError(PlanStreamError):
    """An HTTP error answer (protocol §6): ``{"error": code, "message": ...}``.

    Raised inside an endpoint and turned into its answer by the endpoint's
    wrapper (http_api); it never leaves the server.
    """

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        """The answer to send."""
        headers = dict(self.headers)
        if self.status == 401:
            # RFC 9110 §11.6.1: a 401 names the scheme it wants, as the WebSocket denial does.
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse({"error": self.code, "message": self.message}, self.status, headers)


def server_state(request: Request) -> ServerState:
    """The :class:`ServerState` of the app serving ``request``."""
    state: ServerState = request.app.state.planstream
    return state


async def authorize(request: Request, *, publish: bool = False) -> Principal:
    """The request's principal, or a 401/403 :class:`HttpError`."""
    state = server_state(request)
    principal = await state.verifier.verify(bearer_token(request.headers.get("authorization")))
    if principal is None:
        state.metrics.auth_failures += 1
        raise HttpError(401, "unauthorized", "missing or invalid bearer token")
    if not (principal.can_publish if publish else principal.can_read):
        state.metrics.auth_failures += 1
        right = "publish" if publish else "read"
        raise HttpError(403, "forbidden", f"this token may not {right}")
    return principal
