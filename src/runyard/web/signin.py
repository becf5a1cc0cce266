"""Signing in with an API token, and signing out."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from runyard.errors import Forbidden, Unauthenticated
from runyard.web.access import FormDep, services_of, session_keys, visitor
from runyard.web.sessions import SESSION_COOKIE, SESSION_SECONDS, SIGN_IN_COOKIE, new_sign_in_nonce
from runyard.web.templating import page

router = APIRouter(include_in_schema=False)

HOME = "/app/projects"


def safe_next(target: str | None) -> str:
    """`target` if it is a path inside the web UI, else the home page (no open redirect)."""
    if not target or "\\" in target or target.startswith("//"):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (parts.path == "/app" or parts.path.startswith("/app/")):
        return HOME
    return target


@router.get("/login")
def sign_in_form(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    target = safe_next(next)
    if request.cookies.get(SESSION_COOKIE):
        try:
            visitor(request)
        except Unauthenticated:
            pass  # a stale cookie: show the form, which replaces it
        else:
            return RedirectResponse(target, status_code=303)
    return _form(request, target)


@router.post("/login")
def sign_in(request: Request, form: FormDep) -> Response:
    target = safe_next(_text(form.get("next")))
    keys = session_keys(request)
    if not keys.csrf_matches(request.cookies.get(SIGN_IN_COOKIE), form.get("csrf"), "sign-in"):
        return _form(
            request,
            target,
            error="The sign-in form expired; please try again.",
            status=403,
        )
    token = _text(form.get("token")).strip()
    if not token:
        return _form(request, target, error="Enter an API token.", status=401)
    try:
        services_of(request).identity.authenticate(f"Bearer {token}")
    except Unauthenticated as error:
        return _form(request, target, error=f"Not signed in: {error.message}.", status=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        keys.seal(token),
        max_age=SESSION_SECONDS,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/login")
    return response


@router.post("/logout")
def sign_out(request: Request, form: FormDep) -> Response:
    """Forget the session. Needs the session's CSRF token but not a valid API token, so a
    person whose token was revoked can still sign out cleanly."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and not session_keys(request).csrf_matches(cookie, form.get("csrf")):
        raise Forbidden("This sign-out did not come from a Runyard page; reload and try again")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _form(
    request: Request, target: str, *, error: str | None = None, status: int = 200
) -> Response:
    # Keep the nonce a browser already has, so two open sign-in tabs both work.
    nonce = request.cookies.get(SIGN_IN_COOKIE) or new_sign_in_nonce()
    headers = {"WWW-Authenticate": 'Bearer realm="runyard"'} if status == 401 else None
    response = page(
        "login.html",
        status=status,
        headers=headers,
        title="Sign in",
        visitor=None,
        next=target,
        csrf=session_keys(request).csrf_token(nonce, "sign-in"),
        error=error,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        max_age=3600,
        path="/login",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


def _secure(request: Request) -> bool:
    """Mark cookies Secure when the server is published over HTTPS."""
    return services_of(request).public_url.startswith("https://")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
