"""SOAP transport: zeep clients built lazily and safely, library errors mapped to our taxonomy.

- ``SoapSettings``: where the WSDL is (file or URL), optional endpoint and binding, HTTP Basic
  credentials, timeouts (an operation timeout is always set), the retry policy and the
  envelope history (size, extra fields to redact).
- ``SoapClientFactory``: builds one zeep ``Client`` per WSDL on first use (never at import) with
  DTDs, entities and external references forbidden, and caches it; ``history(settings)`` gives
  the client's redacted ``EnvelopeHistory``; ``ping(settings)`` probes the peer.
- ``call``: one attempt; maps connection errors, timeouts and HTTP 429/5xx to ``TransientError``
  (keeping Retry-After) and Faults through a fault table (``FaultRule``) that callers extend.
- ``with_retries`` / ``RetryPolicy`` (from ``connectors.transports.retry``): retries only
  ``TransientError``, exponential backoff with jitter, honouring ``retry_after``. A Fault is
  never retried unless a connector's fault table maps it to ``TransientError``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import requests  # type: ignore[import-untyped]
import zeep
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from zeep import exceptions as zx
from zeep.transports import Transport

from canonical.errors import PermanentError, TandemError, TransientError
from connectors.transports.retry import (
    Health,
    RetryPolicy,
    backoff_seconds,
    check_health,
    retry_after_seconds,
    with_retries,
)
from connectors.transports.soap_history import EnvelopeHistory

__all__ = [
    "DEFAULT_FAULT_RULES",
    "TRANSIENT_STATUS",
    "EnvelopeHistory",
    "FaultRule",
    "RetryPolicy",
    "SoapClientFactory",
    "SoapSettings",
    "StaleKeyError",
    "backoff_seconds",
    "call",
    "classify_fault",
    "make_client",
    "retry_after_seconds",
    "translate",
    "with_retries",
]

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


class SoapSettings(BaseModel):
    """How to reach one SOAP service. Secrets stay ``SecretStr`` and are never logged."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    wsdl: str
    endpoint: str | None = None
    binding: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    connect_timeout: float = Field(default=5.0, gt=0)
    operation_timeout: float = Field(default=30.0, gt=0)
    retry: RetryPolicy = RetryPolicy()
    strict: bool = True  # False tolerates fields a newer server adds beyond a stored WSDL
    history_size: int = Field(default=20, ge=0)  # exchanges kept for tracing; 0 = none
    redact_fields: tuple[str, ...] = ()  # element names blanked in the history (E_Mail...)

    @field_validator("wsdl", "endpoint")
    @classmethod
    def _no_credentials_in_urls(cls, value: str | None) -> str | None:
        if value and "://" in value and urlsplit(value).password is not None:
            raise ValueError(
                "the URL carries a password; give username and password as settings instead "
                "(URLs end up in logs and error messages)"
            )
        return value


# -- errors ------------------------------------------------------------------------------------


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


# -- clients -----------------------------------------------------------------------------------


class _Transport(Transport):  # type: ignore[misc]
    """zeep's transport; 429/502/503/504 raise TransientError (with Retry-After) at once."""

    def post(self, address: str, message: Any, headers: dict[str, str]) -> Any:
        response = super().post(address, message, headers)  # type: ignore[no-untyped-call]
        if response.status_code in _REFUSED_STATUS:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            raise TransientError(
                f"POST {address}: HTTP {response.status_code}", retry_after=retry_after
            )
        return response


def _session(settings: SoapSettings) -> Any:
    session = requests.Session()
    if settings.username is not None:
        secret = settings.password.get_secret_value() if settings.password else ""
        session.auth = requests.auth.HTTPBasicAuth(settings.username, secret)
    return session


def _transport(settings: SoapSettings) -> Any:
    timeouts = (settings.connect_timeout, settings.operation_timeout)
    return _Transport(session=_session(settings), timeout=timeouts, operation_timeout=timeouts)  # type: ignore[no-untyped-call]


def make_client(settings: SoapSettings) -> Any:
    """A new zeep ``Client`` for ``settings.wsdl`` (fetches/reads the WSDL now)."""
    zeep_settings = zeep.Settings(
        strict=settings.strict,
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    plugins = []
    if settings.history_size > 0:
        plugins.append(EnvelopeHistory(settings.history_size, settings.redact_fields))
    return zeep.Client(  # type: ignore[no-untyped-call]
        settings.wsdl, transport=_transport(settings), settings=zeep_settings, plugins=plugins
    )


def envelope_history(client: Any) -> EnvelopeHistory | None:
    """The redacted envelope history of a client built by ``make_client``, if it keeps one."""
    for plugin in getattr(client, "plugins", None) or ():
        if isinstance(plugin, EnvelopeHistory):
            return plugin
    return None


def _binding_qname(client: Any, binding: str) -> str:
    """The WSDL binding named ``binding``, as ``{namespace}Name`` or just ``Name``."""
    for qname in client.wsdl.bindings:
        if binding in (qname, qname.rpartition("}")[2]):
            return str(qname)
    known = ", ".join(str(b) for b in client.wsdl.bindings)
    raise PermanentError(f"WSDL has no binding {binding!r} (bindings: {known})")


def _bound_service(client: Any, binding: str) -> Any:
    """The service proxy of the WSDL port that uses ``binding`` (e.g. the SOAP 1.2 one)."""
    qname = _binding_qname(client, binding)
    for service in client.wsdl.services.values():
        for port in service.ports.values():
            if port.binding.name.text == qname:
                return client.bind(service.name, port.name)
    raise PermanentError(f"WSDL has no port with binding {binding!r}: set an endpoint")


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
            settings.history_size,
            settings.redact_fields,
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
        """The service proxy: bound to ``settings.endpoint`` when one is given (with
        ``settings.binding`` or the WSDL's first binding), else to the WSDL port that uses
        ``settings.binding``, else the WSDL's first port."""
        client = self.client(settings)
        if settings.endpoint is None:
            if settings.binding is None:
                return client.service
            return _bound_service(client, settings.binding)
        if settings.binding is None:
            return client.create_service(next(iter(client.wsdl.bindings)), settings.endpoint)
        return client.create_service(_binding_qname(client, settings.binding), settings.endpoint)

    def history(self, settings: SoapSettings) -> EnvelopeHistory | None:
        """The redacted envelope history of the cached client for ``settings``."""
        return envelope_history(self.client(settings))

    def ping(self, settings: SoapSettings) -> Health:
        """One GET of the service address (or the WSDL URL), reported, never raised: down or
        5xx is a transient failure, 401/403 a permanent one, any other answer is alive."""
        address = settings.endpoint or settings.wsdl
        return check_health(lambda: _probe(settings, address), what=f"SOAP peer {address}")

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()


def _probe(settings: SoapSettings, address: str) -> None:
    if not address.startswith(("http://", "https://")):
        raise PermanentError(f"{address}: no endpoint to probe (set SoapSettings.endpoint)")
    what = f"GET {address}"
    session = _session(settings)
    try:
        response = call(
            session.get,
            address,
            timeout=(settings.connect_timeout, settings.operation_timeout),
            what=what,
        )
    finally:
        session.close()
    if response.status_code in (401, 403) or response.status_code in TRANSIENT_STATUS:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        raise _from_status(response.status_code, what, retry_after)
