"""The sandbox ERP as a WSGI application: NAV-style page and codeunit URLs, knobs, counters.

GET  /WS/<Company>/Page/<Page>?wsdl           the page WSDL (address rewritten to this server)
POST /WS/<Company>/Page/<Page>                SOAP 1.1 call
GET  /WS/<Company>/Codeunit/<Codeunit>?wsdl   a codeunit's WSDL (SalesOrderPosting)
POST /WS/<Company>/Codeunit/<Codeunit>        SOAP 1.1 call
GET  /_health                                 200 when serving
GET  /_control                                knobs and per-operation call counters
POST /_control  {"latency_ms", "error_rate", "down", "seed", "fail_next", "retry_after",
                 "strict_items", "allow_negative_inventory"}
"""

from __future__ import annotations

import base64
import json
import random
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from sandbox.erp_soap import soapxml
from sandbox.erp_soap.codeunit_service import SalesOrderPostingService
from sandbox.erp_soap.codeunits import SALES_ORDER_POSTING
from sandbox.erp_soap.pages import PAGES, PageSpec
from sandbox.erp_soap.posting import Posting
from sandbox.erp_soap.rules import BusinessError
from sandbox.erp_soap.seed import seed_store
from sandbox.erp_soap.service import PageService, SoapService
from sandbox.erp_soap.store import Store
from sandbox.erp_soap.wsdlgen import (
    CODEUNIT_PLACEHOLDER_ADDRESS,
    PLACEHOLDER_ADDRESS,
    codeunit_wsdl_path,
    wsdl_path,
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Environ = dict[str, Any]
_SERVICE_URL = re.compile(r"^/WS/(?P<company>[^/]+)/(?P<kind>Page|Codeunit)/(?P<name>[^/]+)$")
_XML = "text/xml; charset=utf-8"


@dataclass
class Knobs:
    latency_ms: int = 0
    error_rate: float = 0.0
    down: bool = False
    seed: int | None = None
    fail_next: int = 0
    retry_after: int | None = None
    drop_rate: float = 0.0  # share of connections closed before any answer (SOAP calls only)
    strict_items: bool = True  # Item lines must name an item (when the item table has any)
    allow_negative_inventory: bool = False  # shipping more than the inventory is refused


class ErpApp:
    """WSGI callable serving every page of one company."""

    def __init__(
        self,
        *,
        company: str = "CRONUS",
        state_path: Path | None = None,
        pages: Mapping[str, PageSpec] = PAGES,
        knobs: Knobs | None = None,
        credentials: tuple[str, str] | None = None,
        seed: int | None = None,
    ) -> None:
        """``seed`` fills an empty store with that seed's data (a loaded state is kept)."""
        self.company = company
        self.store = Store(pages, state_path)
        self.services = {n: PageService(p, self.store, wsdl_path(n)) for n, p in pages.items()}
        self.posting = Posting(self.store)
        self.codeunits: dict[str, SoapService] = {
            SALES_ORDER_POSTING.name: SalesOrderPostingService(
                SALES_ORDER_POSTING, self.posting, codeunit_wsdl_path(SALES_ORDER_POSTING.name)
            )
        }
        self.knobs = knobs or Knobs()
        self._apply_business_knobs()
        if seed is not None and self.store.is_empty():
            seed_store(self.store, seed)
        self.credentials = credentials
        self._rng = random.Random(self.knobs.seed)
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    # -- knobs ---------------------------------------------------------------------------

    def set_knobs(self, changes: Mapping[str, Any]) -> None:
        """Applies knob changes all at once; ValueError (nothing changed) when one is invalid."""
        unknown = set(changes) - set(Knobs.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown knobs {sorted(unknown)}")
        with self._lock:
            knobs = replace(self.knobs, **changes)
            if not 0.0 <= float(knobs.error_rate) <= 1.0:
                raise ValueError("error_rate must be within 0..1")
            if not 0.0 <= float(knobs.drop_rate) <= 1.0:
                raise ValueError("drop_rate must be within 0..1")
            self.knobs = knobs
            self._apply_business_knobs()
            if "seed" in changes:
                self._rng = random.Random(knobs.seed)

    def _apply_business_knobs(self) -> None:
        with self.store.lock:
            self.store.strict_items = bool(self.knobs.strict_items)
            self.store.allow_negative_inventory = bool(self.knobs.allow_negative_inventory)

    def control_state(self) -> dict[str, Any]:
        with self._lock:
            return {
                **asdict(self.knobs),
                "calls": dict(self.calls),
                "rejected": dict(self.rejected),
                "faults": dict(self.faults),
            }

    def should_drop(self) -> bool:
        """Whether the server closes this connection unanswered (the ``drop_rate`` knob)."""
        with self._lock:
            return self.knobs.drop_rate > 0 and self._rng.random() < self.knobs.drop_rate

    def _unavailable(self, op: str) -> bool:
        """Counts the call and decides whether the knobs make it fail with 503."""
        with self._lock:
            self.calls[op] += 1
            knobs = self.knobs
            if knobs.fail_next > 0:
                knobs.fail_next -= 1
                refused = True
            else:
                refused = knobs.down or self._rng.random() < knobs.error_rate
            if refused:
                self.rejected[op] += 1
            return refused

    # -- WSGI ----------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/_health":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/_control":
            return self._control(environ, start_response, method)
        match = _SERVICE_URL.match(path)
        services: Mapping[str, SoapService] = {}
        if match is not None and match["company"] == self.company:
            services = self.services if match["kind"] == "Page" else self.codeunits
        service = services.get(match["name"]) if match is not None else None
        if service is None:
            return _send(start_response, "404 Not Found", b"Not found", "text/plain")
        if not self._authorised(environ):
            headers = [("WWW-Authenticate", 'Basic realm="sandbox-erp"')]
            return _send(start_response, "401 Unauthorized", b"", "text/plain", headers)
        if method == "GET" and environ.get("QUERY_STRING", "").lower() == "wsdl":
            return self._wsdl(environ, start_response, service)
        if method != "POST":
            return _send(start_response, "405 Method Not Allowed", b"", "text/plain")
        return self._soap(environ, start_response, service)

    def _authorised(self, environ: Environ) -> bool:
        if self.credentials is None:
            return True
        header = environ.get("HTTP_AUTHORIZATION", "")
        expected = "Basic " + base64.b64encode(":".join(self.credentials).encode()).decode()
        return secrets.compare_digest(header.encode(), expected.encode())

    def _control(
        self, environ: Environ, start_response: StartResponse, method: str
    ) -> Iterable[bytes]:
        if method == "POST":
            try:
                self.set_knobs(json.loads(_read_body(environ) or b"{}"))
            except (ValueError, TypeError) as exc:
                return _json(start_response, "400 Bad Request", {"error": str(exc)})
        return _json(start_response, "200 OK", self.control_state())

    def _wsdl(
        self, environ: Environ, start_response: StartResponse, service: SoapService
    ) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        root = f"{environ.get('wsgi.url_scheme', 'http')}://{host}/WS/{self.company}/"
        placeholder = (
            PLACEHOLDER_ADDRESS if service.kind == "Page" else CODEUNIT_PLACEHOLDER_ADDRESS
        )
        text = service.wsdl_text.replace(placeholder, f"{root}{service.kind}/")
        return _send(start_response, "200 OK", text.encode(), _XML)

    def _soap(
        self, environ: Environ, start_response: StartResponse, service: SoapService
    ) -> Iterable[bytes]:
        action = environ.get("HTTP_SOAPACTION", "").strip('"')
        op = f"{service.name}.{action.rpartition(':')[2] or 'unknown'}"
        if self._unavailable(op):
            headers = []
            if self.knobs.retry_after is not None:
                headers.append(("Retry-After", str(self.knobs.retry_after)))
            return _send(
                start_response,
                "503 Service Unavailable",
                b"Service Unavailable",
                "text/plain",
                headers,
            )
        if self.knobs.latency_ms > 0:
            time.sleep(self.knobs.latency_ms / 1000)
        try:
            request = soapxml.parse_body(_read_body(environ))
            name = service.operation_name(request)
            if action and action != f"{service.ns}:{name}":
                raise soapxml.SoapFault(
                    f"SOAPAction {action!r} does not match {name}.", client=True
                )
            body = soapxml.envelope(service.execute(request))
        except soapxml.SoapFault as exc:
            return self._fault(start_response, op, exc.message, client=exc.client)
        except BusinessError as exc:
            return self._fault(start_response, op, str(exc), client=False)
        return _send(start_response, "200 OK", body, _XML)

    def _fault(
        self, start_response: StartResponse, op: str, message: str, *, client: bool
    ) -> Iterable[bytes]:
        with self._lock:
            self.faults[op] += 1
        body = soapxml.fault(message, client=client)
        return _send(start_response, "500 Internal Server Error", body, _XML)


def _read_body(environ: Environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    length = min(length, soapxml.MAX_REQUEST_BYTES + 1)
    data: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    return data


def _send(
    start_response: StartResponse,
    status: str,
    body: bytes,
    content_type: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    start_response(status, headers + (extra or []))
    return [body]


def _json(start_response: StartResponse, status: str, payload: Any) -> list[bytes]:
    return _send(start_response, status, json.dumps(payload).encode(), "application/json")
