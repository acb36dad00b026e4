"""OAuth2 client credentials as SuiteCRM's API serves them (league/oauth2-server).

``POST /Api/access_token`` with ``grant_type=client_credentials``, ``client_id`` and
``client_secret`` (form, JSON or HTTP Basic) answers ``{"token_type": "Bearer", "expires_in":
<ttl>, "access_token": <JWT>}``; no refresh token (the client asks for a new one). Errors are
league's OAuth JSON (``{"error", "error_description", "hint", "message"}``), not JSON:API: 401
``invalid_client`` for a wrong client, 400 for a bad grant, and 401 ``access_denied`` for a
missing, unknown or expired bearer token on the V8 routes.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]
_DENIED = "The resource owner or authorization server denied the request."
_BAD_REQUEST = (
    "The request is missing a required parameter, includes an invalid parameter value, "
    "includes a parameter more than once, or is otherwise malformed."
)


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str, hint: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.hint = hint

    def body(self) -> Json:
        body: Json = {"error": self.error, "error_description": self.description}
        if self.hint:
            body["hint"] = self.hint
        body["message"] = self.description
        return body


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str


class TokenIssuer:
    """Issues bearer tokens that expire after ``ttl_seconds`` and checks them."""

    def __init__(
        self, client: Client, ttl_seconds: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.client = client
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def issue(self, params: Mapping[str, str], authorization: str = "") -> Json:
        if params.get("grant_type", "") != "client_credentials":
            raise OAuthError(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
                "Check that all required parameters have been provided",
            )
        client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
        if authorization.lower().startswith("basic ") and not client_id:
            decoded = base64.b64decode(authorization[6:]).decode("utf-8", "replace")
            client_id, _, secret = decoded.partition(":")
        if not client_id:
            raise OAuthError(
                400, "invalid_request", _BAD_REQUEST, "Check the `client_id` parameter"
            )
        good_id = hmac.compare_digest(client_id.encode(), self.client.client_id.encode())
        good_secret = hmac.compare_digest(secret.encode(), self.client.client_secret.encode())
        if not (good_id and good_secret):
            raise OAuthError(401, "invalid_client", "Client authentication failed")
        now = self._clock()
        token = self._jwt(client_id, now)
        with self._lock:
            self._tokens[token] = now + self.ttl_seconds
            self.issued += 1
        return {"token_type": "Bearer", "expires_in": int(self.ttl_seconds), "access_token": token}

    def _jwt(self, client_id: str, now: float) -> str:
        header = {"typ": "JWT", "alg": "RS256"}
        claims = {
            "aud": client_id,
            "jti": secrets.token_hex(40),
            "iat": int(now),
            "nbf": int(now),
            "exp": int(now + self.ttl_seconds),
            "sub": "",
            "scopes": [],
        }
        parts = [_b64(json.dumps(part).encode()) for part in (header, claims)]
        return ".".join([*parts, _b64(secrets.token_bytes(256))])

    def check(self, authorization: str) -> None:
        """Raises ``OAuthError`` (401 access_denied) unless the bearer token is valid now."""
        if not authorization:
            raise OAuthError(401, "access_denied", _DENIED, 'Missing "Authorization" header')
        token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        with self._lock:
            expires = self._tokens.get(token)
            if expires is not None and expires <= self._clock():
                del self._tokens[token]
                expires = None
        if expires is None:
            raise OAuthError(401, "access_denied", _DENIED, "Access token could not be verified")
