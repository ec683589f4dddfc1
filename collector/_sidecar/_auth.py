"""Bearer-token check of the ingest routes, in constant time."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request


class BearerAuth:
    """A FastAPI dependency: 401 unless ``Authorization: Bearer <token>`` matches the shared token."""

    def __init__(self, token: str) -> None:
        self._expected = f"Bearer {token}".encode()

    def __call__(self, request: Request) -> None:
        given = request.headers.get("authorization", "").encode("utf-8", "replace")
        # compare_digest takes time independent of where the first difference is; it still leaks
        # the length, which says nothing useful about a random token.
        if not hmac.compare_digest(given, self._expected):
            raise HTTPException(
                status_code=401, detail="missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
            )
