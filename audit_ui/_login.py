"""Login form (key -> signed session cookie) and logout; both POSTs are CSRF-checked."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ._auth import CSRF_COOKIE, SESSION_COOKIE, new_csrf_nonce, same_origin
from ._state import state
from .errors import BadRequest

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    # Only same-site paths: "//evil" or "/\\evil" would be read by browsers as another host.
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/tasks"


def _login_page(request: Request, next_: str, error: str, status: int) -> Response:
    ui = state(request)
    nonce = new_csrf_nonce()
    response = ui.templates.TemplateResponse(
        request,
        "login.html",
        {"csrf": nonce, "next": _safe_next(next_), "error": error, "who": None},
        status_code=status,
    )
    response.set_cookie(
        CSRF_COOKIE, nonce, httponly=True, secure=ui.settings.cookie_secure, samesite="strict", path="/login"
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/tasks") -> Response:
    return _login_page(request, next, "", 200)


@router.post("/login")
def login(
    request: Request,
    key: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/tasks",
) -> Response:
    ui = state(request)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not same_origin(request) or not cookie or not hmac.compare_digest(cookie, csrf):
        raise BadRequest("the login form expired or came from another site: reload it and try again")
    record = ui.auth.ring.verify(key.strip())
    if record is None:
        return _login_page(request, next, "That key is not valid or has been revoked.", 401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        ui.auth.make_session(record),
        max_age=int(ui.settings.session_hours * 3600),
        httponly=True,
        secure=ui.settings.cookie_secure,
        samesite="strict",
        path="/",
    )
    response.delete_cookie(CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, token: Annotated[str, Form()]) -> Response:
    ui = state(request)
    session = request.cookies.get(SESSION_COOKIE, "")
    if not same_origin(request) or not ui.auth.check_form_token("logout", session, token):
        raise BadRequest("the logout form expired: reload the page and try again")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
