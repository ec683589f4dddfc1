"""The app factory: routes, security headers, error pages, and the optional pipeline's lifespan."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from . import _admin, _api, _export, _login, _pages
from ._auth import SESSION_COOKIE, Authenticator
from ._keys import KeyRing
from ._settings import UISettings
from ._state import UIState, UIStore
from ._timeline import fmt_duration, fmt_ms, pretty_json, segments, short_ids
from .errors import BadRequest, Forbidden, NotAuthenticated, NotFound, SessionEnded, UIError

_HERE = Path(__file__).resolve().parent

# No script at all, styles only from our own stylesheet: agent content can never execute here.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class Pipeline(Protocol):
    """A collector pipeline the service hosts (embedded mode): closed when the service stops."""

    async def aclose(self) -> None: ...


def load_secret(settings: UISettings, store_dir: Path | None) -> bytes:
    """The session-signing key: from settings, else kept 0600 beside the store, else per process."""
    if settings.secret is not None:
        return settings.secret.get_secret_value().encode()
    if store_dir is None:
        return secrets.token_bytes(32)
    path = store_dir / ".ui-secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def store_dir_of(store: Any) -> Path | None:
    dsn = str(getattr(store, "dsn", ""))
    return Path(dsn[len("chdb://") :]) if dsn.startswith("chdb://") else None


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,  # every string, agent content above all, is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(short=short_ids, segments=segments, pretty_json=pretty_json, ms=fmt_ms, duration=fmt_duration)
    return Jinja2Templates(env=env)


def create_app(
    store: UIStore,
    settings: UISettings | None = None,
    pipeline: Pipeline | None = None,
    *,
    service_token: str | None = None,
) -> FastAPI:
    """Build the UI + API over an open store. ``service_token`` admits the local CLI as admin."""
    settings = settings or UISettings()
    ring = KeyRing(store, settings.key_cache_s)
    auth = Authenticator(
        ring,
        load_secret(settings, store_dir_of(store)),
        settings.session_hours * 3600,
        settings.open_access,
        service_token,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if pipeline is not None:
                await pipeline.aclose()

    app = FastAPI(
        title="autogen-audit",
        summary="Audit trail of AutoGen agent tasks, filtered to the tenants of the caller's key.",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI needs third-party scripts that the CSP forbids
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ui = UIState(store, settings, auth, _templates())
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    for module in (_login, _pages, _export, _api, _admin):
        app.include_router(module.router)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"  # "no-referrer" makes Chromium send Origin: null
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    _install_error_handlers(app)
    return app


_STATUS: dict[type[UIError], int] = {NotAuthenticated: 401, Forbidden: 403, NotFound: 404, BadRequest: 400}


def _install_error_handlers(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UIError)
        response = _error_response(request, exc)
        if isinstance(exc, SessionEnded):
            # Otherwise the dead cookie comes back with every request and is refused every time.
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    app.add_exception_handler(UIError, handle)


def _error_response(request: Request, exc: UIError) -> Response:
    status = next((code for cls, code in _STATUS.items() if isinstance(exc, cls)), 400)
    wants_api = request.url.path.startswith("/api/") or "authorization" in request.headers
    if wants_api:
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)
    if status == 401 and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    ui: UIState = request.app.state.ui
    return ui.templates.TemplateResponse(
        request, "error.html", {"status": status, "message": str(exc), "who": None}, status_code=status
    )
