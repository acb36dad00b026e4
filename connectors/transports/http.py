"""HTTP/JSON transport for REST peers (web shop, CRM...): one httpx client, our error taxonomy.

Use it like this::

    settings = HttpSettings(base_url="https://shop.example/wp-json/wc/v3",
                            auth=HttpAuth.basic("ck_...", SecretStr("cs_...")))
    with HttpClient(settings) as http:
        orders = http.get_json("/orders", params={"page": 1})        # retried on transient
        answer = http.call("PUT", "/orders/1001", json={"status": "completed"})
        answer.json(), answer.headers["X-WP-TotalPages"]
        http.ping("/orders", params={"per_page": 1})                  # -> Health, never raises

- ``HttpSettings``: base URL, connect and read timeouts (always set), TLS verification, extra
  headers, the ``RetryPolicy`` and the credentials (``HttpAuth``: HTTP Basic, a bearer token,
  query-string parameters such as WooCommerce's ``consumer_key``/``consumer_secret``, or
  headers; every secret a ``SecretStr``).
- ``HttpClient.send``: one attempt. Connection errors, timeouts and HTTP 408/425/429/5xx raise
  ``TransientError`` (``HttpTransientError``, with the peer's Retry-After in ``retry_after``);
  any other 4xx raises ``PermanentError`` (``HttpStatusError`` with ``status``, the peer's error
  ``code`` and message when its body says them). The library error is chained as the cause.
- ``HttpClient.call`` / ``get_json``: ``send`` under ``with_retries``; only idempotent methods
  (GET, HEAD, PUT, DELETE, OPTIONS) are retried unless the caller says ``idempotent=True``. A
  2xx answer whose body is not JSON (cut short by a proxy) is transient too.
- Messages name the request as ``METHOD /path?params`` without any credential: secret query
  parameters are never put in messages, and a log filter redacts every credential value from
  httpx's and httpcore's own log lines (they print full URLs and, at DEBUG, response headers
  such as a ``Link`` that echoes the query string).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from canonical.errors import PermanentError, TransientError
from connectors.transports.retry import (
    Health,
    RetryPolicy,
    check_health,
    retry_after_seconds,
    with_retries,
)

__all__ = [
    "TRANSIENT_STATUS",
    "HttpAuth",
    "HttpClient",
    "HttpSettings",
    "HttpStatusError",
    "HttpTransientError",
    "RetryPolicy",
]

log = logging.getLogger(__name__)
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
Params = Mapping[str, str | int | float | bool | None]


class HttpStatusError(PermanentError):
    """The peer refused the request for good (4xx): ``status``, the peer's ``code`` if any."""

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class HttpTransientError(TransientError):
    """A failure worth retrying; ``status`` is None when no answer came (connection, timeout)."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


class HttpAuth(BaseModel):
    """Credentials of a REST peer. Build with ``basic``, ``bearer``, ``query`` or ``headers``."""

    model_config = ConfigDict(frozen=True)

    username: str | None = None
    password: SecretStr | None = None
    query_params: dict[str, SecretStr] = Field(default_factory=dict)
    header_values: dict[str, SecretStr] = Field(default_factory=dict)

    @classmethod
    def basic(cls, username: str, password: SecretStr) -> HttpAuth:
        return cls(username=username, password=password)

    @classmethod
    def bearer(cls, token: SecretStr) -> HttpAuth:
        return cls(header_values={"Authorization": SecretStr(f"Bearer {token.get_secret_value()}")})

    @classmethod
    def query(cls, **params: SecretStr) -> HttpAuth:
        """Credentials sent as query parameters (WooCommerce ``consumer_key``/``_secret``)."""
        return cls(query_params=params)

    @classmethod
    def headers(cls, **values: SecretStr) -> HttpAuth:
        return cls(header_values=values)

    def secrets(self) -> list[str]:
        values = [v.get_secret_value() for v in self.query_params.values()]
        values += [v.get_secret_value() for v in self.header_values.values()]
        if self.password is not None:
            values.append(self.password.get_secret_value())
        return [v for v in values if v]


class HttpSettings(BaseModel):
    """Where the peer is, how long to wait, how to retry and who we are."""

    model_config = ConfigDict(frozen=True)

    base_url: str
    auth: HttpAuth = Field(default_factory=HttpAuth)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    verify_tls: bool = True
    headers: dict[str, str] = Field(default_factory=dict)
    user_agent: str = "tandem"
    retry: RetryPolicy = Field(default_factory=RetryPolicy)


class _RedactSecrets(logging.Filter):
    """Replaces the secrets of open clients in records of httpx/httpcore (they log whole URLs).

    Each client adds its secrets when made and removes them when closed (counted, so two
    clients with one secret keep it redacted until both are closed).
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: Counter[str] = Counter()
        self._pattern: re.Pattern[str] | None = None

    @staticmethod
    def _forms(values: list[str]) -> list[str]:
        return [form for v in values for form in {v, urlencode({"": v})[1:]}]

    def _compile(self) -> None:
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def add(self, values: list[str]) -> None:
        with self._lock:
            self._secrets.update(self._forms(values))
            self._compile()

    def remove(self, values: list[str]) -> None:
        with self._lock:
            self._secrets.subtract(self._forms(values))
            self._secrets = +self._secrets  # drops the ones no client holds any more
            self._compile()

    def filter(self, record: logging.LogRecord) -> bool:
        pattern = self._pattern
        if pattern is None:
            return True
        message = record.getMessage()
        redacted = pattern.sub("***", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


_REDACTOR = _RedactSecrets()
# Logger filters do not reach child loggers: name every logger httpx and httpcore log to.
_LIBRARY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
for _name in _LIBRARY_LOGGERS:
    logging.getLogger(_name).addFilter(_REDACTOR)


def describe(method: str, path: str, params: Params | None = None) -> str:
    """``METHOD /path?a=1`` for messages: the caller's params only, never credentials."""
    shown = {k: v for k, v in (params or {}).items() if v is not None}
    return f"{method} {path}" + (f"?{urlencode(shown)}" if shown else "")


def _peer_error(response: httpx.Response) -> tuple[str | None, str]:
    """The peer's error code and message (WordPress ``{"code", "message"}`` and the like)."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:200].strip()
    if isinstance(body, dict):
        code = body.get("code") or body.get("error")
        message = body.get("message") or body.get("error_description") or body.get("detail")
        return (str(code) if code else None), str(message or json.dumps(body)[:200])
    return None, json.dumps(body)[:200]


def status_error(response: httpx.Response, what: str) -> PermanentError | TransientError:
    """Our error for a non-2xx answer: transient for 408/425/429/5xx, permanent otherwise."""
    status = response.status_code
    code, message = _peer_error(response)
    text = (
        f"{what}: HTTP {status}"
        + (f" {code}" if code else "")
        + (f": {message}" if message else "")
    )
    if status in TRANSIENT_STATUS or status >= 500:
        hint = retry_after_seconds(response.headers.get("Retry-After"))
        return HttpTransientError(text, status=status, retry_after=hint)
    return HttpStatusError(text, status=status, code=code)


class HttpClient:
    """One connection pool to one REST peer; thread-safe as httpx's ``Client`` is."""

    def __init__(self, settings: HttpSettings, *, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        auth = settings.auth
        self._secrets = auth.secrets()
        self._closed = False
        _REDACTOR.add(self._secrets)
        headers = {"User-Agent": settings.user_agent, "Accept": "application/json"}
        headers.update(settings.headers)
        headers.update({k: v.get_secret_value() for k, v in auth.header_values.items()})
        basic = None
        if auth.username is not None:
            secret = auth.password.get_secret_value() if auth.password else ""
            basic = httpx.BasicAuth(auth.username, secret)
        self._auth_params = {k: v.get_secret_value() for k, v in auth.query_params.items()}
        self._client = httpx.Client(
            base_url=settings.base_url.rstrip("/"),
            auth=basic,
            headers=headers,
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            verify=settings.verify_tls,
            transport=transport,
        )

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One attempt; a 2xx answer is returned, anything else raised as our error."""
        method = method.upper()
        what = describe(method, path, params)
        query = {k: v for k, v in (params or {}).items() if v is not None}
        query.update(self._auth_params)
        try:
            response = self._client.request(method, path, params=query, json=json)
        except httpx.TimeoutException as exc:
            raise HttpTransientError(f"{what}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise HttpTransientError(f"{what}: {type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise PermanentError(f"{what}: {type(exc).__name__}: {exc}") from exc
        if response.is_success:
            log.debug("%s: HTTP %d", what, response.status_code)
            return response
        raise status_error(response, what)

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """``send`` with the settings' retry policy (idempotent methods only by default)."""
        method = method.upper()
        return with_retries(
            lambda: self.send(method, path, params=params, json=json),
            self._policy(method, idempotent),
            what=describe(method, path, params),
        )

    def _policy(self, method: str, idempotent: bool | None) -> RetryPolicy:
        retry = method in IDEMPOTENT if idempotent is None else idempotent
        policy = self.settings.retry
        return policy if retry else policy.model_copy(update={"attempts": 1})

    def call_json(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> tuple[Any, httpx.Response]:
        """``call`` and the answer's decoded JSON; a body cut short is retried as transient."""
        method = method.upper()
        what = describe(method, path, params)

        def attempt() -> tuple[Any, httpx.Response]:
            response = self.send(method, path, params=params, json=json)
            try:
                return response.json(), response
            except ValueError as exc:
                raise HttpTransientError(
                    f"{what}: the answer is not valid JSON (cut short?)",
                    status=response.status_code,
                ) from exc

        return with_retries(attempt, self._policy(method, idempotent), what=what)

    def get_json(self, path: str, *, params: Params | None = None) -> Any:
        return self.call_json("GET", path, params=params)[0]

    def ping(self, path: str, *, params: Params | None = None) -> Health:
        """One GET of ``path`` (no retries), reported as ``Health``; never raises."""
        return check_health(
            lambda: self.send("GET", path, params=params),
            what=f"{self.settings.base_url} {describe('GET', path, params)}",
        )

    def close(self) -> None:
        self._client.close()
        if not self._closed:
            self._closed = True
            _REDACTOR.remove(self._secrets)

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
