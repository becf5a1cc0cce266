"""The one place that turns errors on web pages into HTML answers, with the right status.

`app.py` installs a single dispatcher for the whole app (FastAPI has one exception-handler
table per app): requests to the web UI's paths come here, the API's go to `api/errors.py`
and stay JSON. A signed-out or revoked visitor is sent to the sign-in page rather than shown
a 401, because a browser cannot answer a bearer challenge.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from runyard.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidField,
    InvalidInputParams,
    NotFound,
    PayloadTooLarge,
    RunyardError,
    ServiceUnavailable,
    Unauthenticated,
    Unprocessable,
)
from runyard.web.sessions import SESSION_COOKIE
from runyard.web.templating import page

log = logging.getLogger(__name__)

WEB_PREFIXES = ("/app", "/login", "/logout", "/embed")

# The same statuses the API answers with (api/errors.py); a sibling module may not share
# the table, and seven lines do not justify a new layer.
_STATUS_OF: list[tuple[type[RunyardError], int]] = [
    (InvalidInputParams, 422),
    (InvalidField, 422),
    (BadRequest, 400),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (Unprocessable, 422),
    (ServiceUnavailable, 503),
]

_TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Cannot do that",
    500: "Something went wrong",
    503: "Unavailable",
}


def handles(request: Request) -> bool:
    """True for the web UI's paths (`/`, `/app/…`, `/login`, `/logout`, `/embed/…`)."""
    path = request.url.path
    return path == "/" or any(path == p or path.startswith(p + "/") for p in WEB_PREFIXES)


def response_for(request: Request, error: Exception) -> Response:
    """The HTML answer to an error raised while serving a web page."""
    if isinstance(error, Unauthenticated):
        return sign_in_redirect(request)
    if isinstance(error, RunyardError):
        return error_page(_status_of(error), error.message)
    if isinstance(error, StarletteHTTPException):
        message = {404: "There is no page at this address."}.get(
            error.status_code, str(error.detail)
        )
        return error_page(error.status_code, message)
    if isinstance(error, RequestValidationError):
        return error_page(400, "The request could not be read.")
    log.exception("unhandled error on %s", request.url.path, exc_info=error)
    return error_page(500, "The server could not show this page; the error has been logged.")


def error_page(status: int, message: str) -> Response:
    return page(
        "error.html",
        status=status,
        title=_TITLES.get(status, "Error"),
        status_code=status,
        message=message,
        visitor=None,
    )


def sign_in_redirect(request: Request) -> Response:
    """303 to /login, remembering where to come back to; forgets a cookie that failed."""
    response = RedirectResponse(
        f"/login?{urlencode({'next': _return_path(request)})}", status_code=303
    )
    if SESSION_COOKIE in request.cookies:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _return_path(request: Request) -> str:
    # A POST cannot be replayed after sign-in; return to the page its form was on instead,
    # which is the parent path for every form here (…/runs → the project, …/cancel → the run).
    if request.method == "GET":
        path = request.url.path
        return f"{path}?{request.url.query}" if request.url.query else path
    parent = request.url.path.rstrip("/").rsplit("/", 1)[0]
    return parent if parent.startswith("/app") else "/app/projects"


def _status_of(error: RunyardError) -> int:
    for cls, status in _STATUS_OF:
        if isinstance(error, cls):
            return status
    return 400
