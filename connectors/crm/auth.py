"""OAuth2 client credentials for SuiteCRM's API: one bearer token, renewed before it expires.

``POST <api>/access_token`` with ``grant_type=client_credentials`` answers ``{"token_type":
"Bearer", "expires_in": <seconds>, "access_token": ...}`` and no refresh token, so renewing is
asking again. ``TokenSource.token()`` returns the held token or fetches a new one when none is
held or it expires within ``token_margin``; ``invalidate()`` drops it (the client calls it when
the CRM answers 401 to a token we thought valid, then tries once more). ``BearerTransport``
puts the held token on every request; it does no I/O of its own.

A refused client (401 ``invalid_client``: wrong or revoked id/secret) is a ``PermanentError``;
the secret is sent in the request body only, never in a URL or a message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx

from canonical.errors import PermanentError, TransientError
from connectors.crm.settings import CrmSettings
from connectors.transports.http import HttpClient, HttpStatusError

log = logging.getLogger(__name__)


class TokenSource:
    def __init__(
        self, settings: CrmSettings, http: HttpClient, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.fetched = 0  # tokens obtained so far (for tests and metrics)

    @property
    def current(self) -> str | None:
        return self._token

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._token = self._fetch()
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    def _fetch(self) -> str:
        settings = self._settings
        body = {
            "grant_type": "client_credentials",
            "client_id": settings.client_id,
            "client_secret": settings.client_secret.get_secret_value(),
        }
        try:
            answer, _ = self._http.call_json("POST", "/access_token", json=body, idempotent=True)
        except HttpStatusError as exc:
            raise PermanentError(
                f"CRM {settings.base_url} refused OAuth2 client {settings.client_id!r} "
                f"(HTTP {exc.status} {exc.code or ''}): check the client id and secret, "
                "or whether the client was revoked"
            ) from exc
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise TransientError(f"CRM {settings.base_url}: the token answer has no access_token")
        try:
            lifetime = float(answer.get("expires_in") or 0)
        except (TypeError, ValueError):
            lifetime = 0.0
        # renew early: by the margin, but never later than 90% into a short lifetime
        margin = min(settings.token_margin, lifetime * 0.1)
        self._renew_at = self._clock() + max(lifetime - margin, 0.0)
        self.fetched += 1
        log.debug("CRM token for client %s valid for %.0fs", settings.client_id, lifetime)
        return token


class BearerTransport(httpx.BaseTransport):
    """Puts ``Authorization: Bearer <held token>`` on each request, then sends it."""

    def __init__(self, tokens: TokenSource, inner: httpx.BaseTransport) -> None:
        self._tokens = tokens
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        token = self._tokens.current
        if token is not None:
            request.headers["Authorization"] = f"Bearer {token}"
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()
