"""Who is asking: bearer keys, signed session cookies, the local service token, demo access.

Every request resolves to a :class:`Principal` whose tenant set every query binds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass

from starlette.requests import Request

from ._keys import KeyRecord, KeyRing
from .errors import Forbidden, NotAuthenticated, SessionEnded

SESSION_COOKIE = "aa_session"
CSRF_COOKIE = "aa_login_csrf"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a key name, the tenants it may see, or admin (all tenants)."""

    name: str
    tenants: frozenset[str]
    admin: bool
    via: str  # bearer | session | service | demo

    @classmethod
    def from_key(cls, record: KeyRecord, via: str) -> Principal:
        return cls(record.name, frozenset(record.tenants), record.admin, via)

    def may_see(self, tenant_id: str) -> bool:
        return self.admin or tenant_id in self.tenants


class Authenticator:
    """Turns a request into a Principal, or raises NotAuthenticated."""

    def __init__(
        self,
        ring: KeyRing,
        secret: bytes,
        session_s: float,
        open_access: bool,
        service_token: str | None,
    ) -> None:
        self.ring = ring
        self._secret = secret
        self._session_s = session_s
        self._open_access = open_access
        self._service_token = service_token
        # What was last logged about open access, so each change is logged once, not per request.
        self._open_lock = threading.Lock()

    def open_access_now(self) -> bool:
        """Whether a keyless request is the demo admin: only until a key is first active.

        Asked per request, not once at startup: a key created while `serve --demo` runs (through the
        service or straight into a server store) must end keyless admin access for everyone, its
        holder included, at once (or within ``key_cache_s`` for keys written past the service).
        It ends for good: revoking that key (a leaked one, say) must not hand admin to every visitor.
        """
        if not self._open_access:
            return False
        if not self.ring.seen_active():
            return True
        with self._open_lock:
            ended, self._open_access = self._open_access, False
        if ended:
            log.warning("an API key is active: keyless demo access has ended for good, every request now needs a key")
        return False

    # -- bearer ---------------------------------------------------------------------------------
    def from_bearer(self, token: str) -> Principal | None:
        if self._service_token is not None and hmac.compare_digest(token.encode(), self._service_token.encode()):
            return Principal("local-service", frozenset(), True, "service")
        record = self.ring.verify(token)
        return Principal.from_key(record, "bearer") if record else None

    def resolve(self, request: Request, *, allow_cookie: bool = True) -> Principal:
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            principal = self.from_bearer(token.strip()) if scheme.lower() == "bearer" else None
            if principal is None:
                raise NotAuthenticated("invalid bearer key")
            return principal
        if allow_cookie:
            cookie = request.cookies.get(SESSION_COOKIE)
            if cookie:
                principal = self.from_session(cookie)
                # A session that was presented but no longer holds (revoked, expired, forged) is
                # refused: falling through to demo access would turn it into an admin.
                if principal is None:
                    raise SessionEnded("the session has ended or its key was revoked: log in again")
                return principal
        if self.open_access_now():
            return Principal("demo", frozenset(), True, "demo")
        raise NotAuthenticated("an API key is required")

    # -- sessions -------------------------------------------------------------------------------
    def _sign(self, body: bytes) -> str:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def make_session(self, record: KeyRecord) -> str:
        """name|hash prefix|expiry, signed: the key stays server-side, revocation ends the session."""
        expires = int(time.time() + self._session_s)
        body = f"{record.name}|{record.key_hash[:16]}|{expires}".encode()
        return base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + self._sign(body)

    def from_session(self, cookie: str) -> Principal | None:
        encoded, _, signature = cookie.partition(".")
        try:
            body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            return None
        if not hmac.compare_digest(self._sign(body), signature):
            return None
        try:
            name, prefix, expires = body.decode().split("|")
            if int(expires) < time.time():
                return None
        except ValueError:
            return None
        record = self.ring.by_name(name, prefix)
        return Principal.from_key(record, "session") if record else None

    def form_token(self, purpose: str, bound_to: str) -> str:
        """A CSRF token for a POST form, bound to the caller's cookie."""
        return self._sign(f"{purpose}|{bound_to}".encode())

    def check_form_token(self, purpose: str, bound_to: str, token: str) -> bool:
        return bool(bound_to) and hmac.compare_digest(self.form_token(purpose, bound_to), token)


def new_csrf_nonce() -> str:
    return secrets.token_urlsafe(24)


def require_admin(principal: Principal) -> Principal:
    if not principal.admin:
        raise Forbidden("this endpoint needs an admin key")
    return principal


def same_origin(request: Request) -> bool:
    """A POST from a page of this service: Origin (or Sec-Fetch-Site) must not name another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    expected = f"{request.url.scheme}://{request.url.netloc}"
    return origin == expected
