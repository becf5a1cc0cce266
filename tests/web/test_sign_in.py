"""GET/POST /login and POST /logout: a browser signs in with an API token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from runyard.app import Runtime
from runyard.web.sessions import SESSION_COOKIE, SessionKeys
from tests.conftest import BOOTSTRAP_TOKEN
from tests.web.conftest import add_token, csrf_of, revoke, sign_in


def test_a_page_without_a_session_redirects_to_sign_in_and_back(browser: TestClient) -> None:
    response = browser.get("/app/projects", params={"after": "x"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fapp%2Fprojects%3Fafter%3Dx"


def test_a_bearer_header_does_not_sign_a_page_in(client: TestClient) -> None:
    response = client.get("/app/projects", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_root_leads_to_the_projects(browser: TestClient) -> None:
    response = browser.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/app/projects"


def test_signing_in_with_a_valid_token_sets_a_strict_httponly_cookie_and_returns(
    browser: TestClient,
) -> None:
    response = sign_in(browser, next="/app/projects?after=abc")
    assert response.status_code == 303
    assert response.headers["location"] == "/app/projects?after=abc"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert BOOTSTRAP_TOKEN not in cookie, "the cookie must not show the token"
    page = browser.get("/app/projects")
    assert page.status_code == 200 and "admin@runyard.local" in page.text


def test_a_wrong_token_is_refused_and_starts_no_session(browser: TestClient) -> None:
    response = sign_in(browser, token="hxtw_not-a-real-token")
    assert response.status_code == 401
    assert "Invalid token" in response.text
    assert SESSION_COOKIE not in browser.cookies
    assert browser.get("/app/projects").status_code == 303


def test_sign_in_never_redirects_off_site(browser: TestClient) -> None:
    for target in ("https://evil.example/app", "//evil.example/app", "/\\evil.example", "/api/v1"):
        browser.cookies.clear()
        response = sign_in(browser, next=target)
        assert response.headers["location"] == "/app/projects", target


def test_a_sign_in_post_without_its_form_token_is_refused(browser: TestClient) -> None:
    response = browser.post("/login", data={"token": BOOTSTRAP_TOKEN})
    assert response.status_code == 403
    assert SESSION_COOKIE not in browser.cookies


def test_revoking_a_token_signs_its_sessions_out_at_once(
    browser: TestClient, runtime: Runtime
) -> None:
    secret, token_id = add_token(runtime, ["projects:read"])
    assert sign_in(browser, token=secret).status_code == 303
    assert browser.get("/app/projects").status_code == 200
    revoke(runtime, token_id)
    response = browser.get("/app/projects")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert SESSION_COOKIE not in browser.cookies, "the dead session cookie is cleared"


def test_a_garbled_or_forged_session_cookie_is_refused(browser: TestClient) -> None:
    forged = SessionKeys(b"some other server's key").seal(BOOTSTRAP_TOKEN)
    for cookie in ("garbage", forged):
        browser.cookies.set(SESSION_COOKIE, cookie)
        response = browser.get("/app/projects")
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_signing_out_ends_the_session(signed_in: TestClient) -> None:
    page = signed_in.get("/app/projects")
    response = signed_in.post("/logout", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert signed_in.get("/app/projects").status_code == 303


def test_signing_out_needs_the_sessions_form_token(signed_in: TestClient) -> None:
    assert signed_in.post("/logout", data={"csrf": "wrong"}).status_code == 403
    assert signed_in.get("/app/projects").status_code == 200


def test_a_signed_in_visitor_opening_sign_in_goes_straight_on(signed_in: TestClient) -> None:
    response = signed_in.get("/login", params={"next": "/app/projects?after=x"})
    assert response.status_code == 303 and response.headers["location"] == "/app/projects?after=x"


def test_an_empty_token_is_asked_for_again(browser: TestClient) -> None:
    response = sign_in(browser, token="   ")
    assert response.status_code == 401 and "Enter an API token" in response.text
