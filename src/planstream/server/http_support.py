"""What every HTTP endpoint shares: the JSON error answer and the token check (protocol §6)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from starlette.requests import Request
from starlette.responses import JSONResponse

from planstream.errors import PlanStreamError
from planstream.server.auth import Principal, bearer_token
from planstream.server.authorization import PlanAction, action_refusal, plan_refusal
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
    """The request's principal, or a 401/403 :class:`HttpError`.

    403 when the principal may not read (``publish``: publish to) any plan;
    each plan the request names is checked with :func:`authorize_plan`.
    """
    state = server_state(request)
    principal = await state.verifier.verify(bearer_token(request.headers.get("authorization")))
    if principal is None:
        state.metrics.auth_failures += 1
        raise HttpError(401, "unauthorized", "missing or invalid bearer token")
    refusal = action_refusal(principal, PlanAction.PUBLISH if publish else PlanAction.READ)
    if refusal is not None:
        state.metrics.auth_failures += 1
        raise HttpError(403, "forbidden", refusal)
    return principal


def authorize_plan(
    request: Request, principal: Principal, action: PlanAction, plan_id: str
) -> None:
    """A 403 :class:`HttpError` unless ``principal`` may ``action`` ``plan_id``.

    Asked before the log is: the answer never depends on whether the plan exists.
    """
    refusal = plan_refusal(principal, action, plan_id)
    if refusal is not None:
        server_state(request).metrics.auth_failures += 1
        raise HttpError(403, "forbidden", refusal)
