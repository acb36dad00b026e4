"""Who is looking: the standalone dashboard's own login (a hashed password compared in
constant time, a signed session cookie), or an identity the host application provides
(Airflow's JWT, checked by the plugin). Forms carry a CSRF token bound to the session."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

SESSION_COOKIE = "tandem_monitor_session"
PBKDF2_ITERATIONS = 260_000


@dataclass(frozen=True)
class Identity:
    name: str
    can_act: bool  # may replay and discard
    session: str  # what the CSRF token is bound to


class Authenticator(Protocol):
    async def identify(self, request: Request) -> Identity | None:
        """The user of this request, or None when not logged in."""
        ...

    def login_url(self, request: Request, next_path: str) -> str:
        """Where to send someone who is not logged in (to come back to ``next_path``)."""
        ...


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$iterations$salt$hash`` (hex), for the ``monitor_password_hash`` setting."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ITERATIONS)
    return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, iterations, salt, expected = encoded.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


class PasswordLogin:
    """One operator account from settings; sessions are signed cookies that expire."""

    def __init__(
        self, username: str, password_hash: str, secret: str, *, max_age: int = 8 * 3600
    ) -> None:
        self.username = username
        self.password_hash = password_hash
        self.max_age = max_age
        self._signer = URLSafeTimedSerializer(secret, salt="tandem-monitor-session")

    def check(self, username: str, password: str) -> bool:
        # both compared, always: the time taken does not tell which one was wrong
        user_ok = hmac.compare_digest(username.encode(), self.username.encode())
        password_ok = verify_password(password, self.password_hash)
        return user_ok and password_ok

    def issue(self) -> str:
        return self._signer.dumps({"u": self.username, "s": secrets.token_hex(8)})

    async def identify(self, request: Request) -> Identity | None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("u") != self.username:
            return None
        return Identity(self.username, can_act=True, session=str(data.get("s", "")))

    def login_url(self, request: Request, next_path: str) -> str:
        root = request.scope.get("root_path", "")
        return f"{root}/login?{urlencode({'next': next_path})}"


def csrf_token(key: bytes, identity: Identity) -> str:
    return hmac.new(key, f"{identity.name}\0{identity.session}".encode(), "sha256").hexdigest()


def csrf_ok(key: bytes, identity: Identity, token: str | None) -> bool:
    return token is not None and hmac.compare_digest(csrf_token(key, identity), token)
