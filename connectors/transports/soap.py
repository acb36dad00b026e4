"""SOAP transport: zeep clients built lazily and safely, library errors mapped to our taxonomy.

- ``SoapSettings``: where the WSDL is, optional endpoint override, HTTP Basic credentials,
  timeouts (an operation timeout is always set) and the retry policy.
- ``SoapClientFactory``: builds one zeep ``Client`` per WSDL on first use (never at import) with
  DTDs, entities and external references forbidden, and caches it.
- ``call``: one attempt; maps connection errors, timeouts and HTTP 429/5xx to ``TransientError``
  (keeping Retry-After) and Faults through a fault table (``FaultRule``) that callers extend.
- ``with_retries``: tenacity policy retrying only ``TransientError``, exponential backoff with
  jitter, honouring ``retry_after``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, TypeVar

import requests  # type: ignore[import-untyped]
import tenacity
import zeep
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from zeep import exceptions as zx
from zeep.transports import Transport

from canonical.errors import PermanentError, TandemError, TransientError

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# answered at the transport, before zeep parses: a 500 may carry a SOAP Fault, so zeep sees it
_REFUSED_STATUS = TRANSIENT_STATUS - {500}


class StaleKeyError(PermanentError):
    """The record changed since it was read (NAV: "Another user has modified the record").

    Repeating the same request cannot succeed; re-reading the record and applying the change
    to the fresh version can.
    """


class FaultRule(NamedTuple):
    """A SOAP Fault whose faultcode or faultstring contains ``pattern`` becomes ``error``."""

    pattern: str
    error: type[TandemError]


DEFAULT_FAULT_RULES: tuple[FaultRule, ...] = (
    FaultRule("Another user has modified the record", StaleKeyError),
    FaultRule("was locked by another user", TransientError),
    FaultRule("deadlock", TransientError),
    FaultRule("Server Busy", TransientError),
)


class RetryPolicy(BaseModel):
    """Attempts in total (1 = no retry); waits grow from ``initial_wait`` up to ``max_wait``."""

    model_config = ConfigDict(frozen=True)

    attempts: int = Field(default=3, ge=1)
    initial_wait: float = Field(default=0.1, ge=0)
    max_wait: float = Field(default=2.0, ge=0)
    jitter: float = Field(default=0.1, ge=0)
    max_retry_after: float = Field(default=30.0, ge=0)


class SoapSettings(BaseModel):
    """How to reach one SOAP service. Secrets stay ``SecretStr`` and are never logged."""

    model_config = ConfigDict(frozen=True)

    wsdl: str
    endpoint: str | None = None
    binding: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    connect_timeout: float = Field(default=5.0, gt=0)
    operation_timeout: float = Field(default=30.0, gt=0)
    retry: RetryPolicy = RetryPolicy()
    strict: bool = True  # False tolerates fields a newer server adds beyond a stored WSDL


# -- errors ------------------------------------------------------------------------------------


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def classify_fault(
    fault: Any, rules: Sequence[FaultRule] = DEFAULT_FAULT_RULES, *, what: str = "SOAP call"
) -> TandemError:
    """The error a ``zeep.exceptions.Fault`` stands for; PermanentError when no rule matches."""
    code = str(getattr(fault, "code", "") or "")
    message = str(getattr(fault, "message", "") or fault)
    text = f"{what}: SOAP Fault {code}: {message}"
    for rule in rules:
        needle = rule.pattern.lower()
        if needle in code.lower() or needle in message.lower():
            return rule.error(text)
    return PermanentError(text)


def _from_status(status: int, what: str, retry_after: float | None = None) -> TandemError:
    if status in TRANSIENT_STATUS:
        return TransientError(f"{what}: HTTP {status}", retry_after=retry_after)
    return PermanentError(f"{what}: HTTP {status}")


def translate(
    exc: BaseException, rules: Sequence[FaultRule] = DEFAULT_FAULT_RULES, *, what: str
) -> TandemError | None:
    """Our error for a library exception, or None when it is not an I/O or protocol failure."""
    if isinstance(exc, TandemError):
        return exc
    if isinstance(exc, zx.Fault):
        return classify_fault(exc, rules, what=what)
    if isinstance(exc, zx.DTDForbidden | zx.EntitiesForbidden | zx.ExternalReferenceForbidden):
        return PermanentError(f"{what}: refused unsafe XML from the peer: {exc}")
    if isinstance(exc, zx.TransportError):
        return _from_status(int(exc.status_code or 0), what)
    if isinstance(exc, zx.Error):
        return PermanentError(f"{what}: {type(exc).__name__}: {exc}")
    if isinstance(exc, requests.exceptions.SSLError):
        return PermanentError(f"{what}: TLS error: {exc}")
    if isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError):
        return TransientError(f"{what}: {type(exc).__name__}: {exc}")
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        header = exc.response.headers.get("Retry-After")
        return _from_status(exc.response.status_code, what, retry_after_seconds(header))
    if isinstance(exc, requests.exceptions.RequestException | OSError):
        return PermanentError(f"{what}: {type(exc).__name__}: {exc}")
    return None


def call(
    operation: Callable[..., T],
    /,
    *args: Any,
    fault_rules: Sequence[FaultRule] = DEFAULT_FAULT_RULES,
    what: str = "SOAP call",
    **kwargs: Any,
) -> T:
    """One attempt of ``operation(*args, **kwargs)`` with library errors mapped (cause chained)."""
    try:
        return operation(*args, **kwargs)
    except Exception as exc:
        mapped = translate(exc, fault_rules, what=what)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc


# -- retries -----------------------------------------------------------------------------------


def backoff_seconds(policy: RetryPolicy, attempt: int, retry_after: float | None = None) -> float:
    """Wait after failed ``attempt`` (1-based): exponential, capped, jittered; never shorter
    than the peer's Retry-After (itself capped at ``max_retry_after``)."""
    delay = min(policy.max_wait, policy.initial_wait * 2.0 ** (attempt - 1))
    delay += random.uniform(0, policy.jitter)  # noqa: S311 - jitter, not cryptography
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.max_retry_after))
    return delay


def _wait(policy: RetryPolicy) -> Callable[[tenacity.RetryCallState], float]:
    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        hint = getattr(exc, "retry_after", None)
        retry_after = float(hint) if isinstance(hint, int | float) else None
        return backoff_seconds(policy, state.attempt_number, retry_after)

    return wait


def _log_retry(what: str) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "%s failed (attempt %d), retrying in %.2fs: %s", what, state.attempt_number, wait, exc
        )

    return before_sleep


def with_retries(fn: Callable[[], T], policy: RetryPolicy, *, what: str = "SOAP call") -> T:
    """Runs ``fn`` until it succeeds, raises a non-transient error, or attempts run out."""
    retryer = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TransientError),
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=_wait(policy),
        before_sleep=_log_retry(what),
        reraise=True,
    )
    return retryer(fn)


# -- clients -----------------------------------------------------------------------------------


def _transport(settings: SoapSettings) -> Any:
    """A zeep transport on a requests session; 429/502/503/504 raise TransientError at once."""

    class _Transport(Transport):  # type: ignore[misc]
        def post(self, address: str, message: Any, headers: dict[str, str]) -> Any:
            response = super().post(address, message, headers)  # type: ignore[no-untyped-call]
            if response.status_code in _REFUSED_STATUS:
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                raise TransientError(
                    f"POST {address}: HTTP {response.status_code}", retry_after=retry_after
                )
            return response

    session = requests.Session()
    if settings.username is not None:
        secret = settings.password.get_secret_value() if settings.password else ""
        session.auth = requests.auth.HTTPBasicAuth(settings.username, secret)
    timeouts = (settings.connect_timeout, settings.operation_timeout)
    return _Transport(session=session, timeout=timeouts, operation_timeout=timeouts)  # type: ignore[no-untyped-call]


def make_client(settings: SoapSettings) -> Any:
    """A new zeep ``Client`` for ``settings.wsdl`` (fetches/reads the WSDL now)."""
    zeep_settings = zeep.Settings(
        strict=settings.strict,
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    transport = _transport(settings)
    return zeep.Client(settings.wsdl, transport=transport, settings=zeep_settings)  # type: ignore[no-untyped-call]


class SoapClientFactory:
    """Builds zeep clients on first use and caches them per WSDL and credentials."""

    def __init__(self, builder: Callable[[SoapSettings], Any] = make_client) -> None:
        self._builder = builder
        self._clients: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _cache_key(settings: SoapSettings) -> tuple[Any, ...]:
        secret = settings.password.get_secret_value() if settings.password else None
        return (
            settings.wsdl,
            settings.username,
            hash(secret),
            settings.connect_timeout,
            settings.operation_timeout,
            settings.strict,
        )

    def client(self, settings: SoapSettings) -> Any:
        key = self._cache_key(settings)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                found = call(self._builder, settings, what=f"loading WSDL {settings.wsdl}")
                self._clients[key] = found
            return found

    def service(self, settings: SoapSettings) -> Any:
        """The service proxy, bound to ``settings.endpoint`` when one is given."""
        client = self.client(settings)
        if settings.endpoint is None:
            return client.service
        binding = settings.binding or next(iter(client.wsdl.bindings))
        return client.create_service(binding, settings.endpoint)

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()
