"""SuiteCRM's V8 JSON:API over ``connectors.transports.http``: lists, reads, writes, links.

- Every call carries the held bearer token; a 401 on a V8 route (the CRM dropped or expired
  the token early) is answered by fetching a new token and trying once more.
- Errors keep the transport's split (connection errors, timeouts, 429 and 5xx are
  ``TransientError`` with Retry-After honoured by ``with_retries``; other 4xx
  ``PermanentError``) and name the request and the CRM's JSON:API error detail and source
  pointer (SuiteCRM sends ``{"errors": {...}}`` as one object; the standard list works too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from canonical.errors import PermanentError, TransientError
from connectors.crm.auth import BearerTransport, TokenSource
from connectors.crm.settings import CrmSettings
from connectors.transports.http import HttpClient, HttpSettings, HttpStatusError
from connectors.transports.retry import Health, check_health

JSON_API = "application/vnd.api+json"
Resource = dict[str, Any]
_PROPERTY = re.compile(r"Property (\w+) in \w+ module is invalid")
# SuiteCRM's V8 API answers with every text HTML-encoded by its to_html() (SuiteCRM issue
# #8101): '"', "<", ">" and "'" only ("&" is not encoded, so "&amp;" typed in the CRM is the
# text "&amp;"). from_html() undoes exactly that, in SuiteCRM's order.
_FROM_HTML = (("&quot;", '"'), ("&lt;", "<"), ("&gt;", ">"), ("&#039;", "'"))


def from_html(value: Any) -> Any:
    """A text as it was written to the CRM, from what its API returns."""
    if not isinstance(value, str) or "&" not in value:
        return value
    for entity, char in _FROM_HTML:
        value = value.replace(entity, char)
    return value


def decoded(resource: Resource) -> Resource:
    """The resource with its attributes' texts decoded (``from_html``)."""
    attributes = resource.get("attributes")
    if not isinstance(attributes, dict):
        return resource
    return resource | {"attributes": {k: from_html(v) for k, v in attributes.items()}}


def _server_time(response: httpx.Response) -> datetime | None:
    try:
        moment = parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class CrmRefused(PermanentError):
    """The CRM refused a request for good: ``status``, its ``detail`` and ``pointer``."""

    def __init__(self, message: str, *, status: int, detail: str, pointer: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        self.pointer = pointer


def problem(error: HttpStatusError) -> tuple[str, str | None]:
    """The JSON:API error detail and source pointer in the transport's error message (which
    ends with the body the CRM answered), else the message itself and no pointer."""
    text = str(error)
    start = text.find("{")
    try:
        body = json.loads(text[start:]) if start >= 0 else None
    except ValueError:
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else errors
    if not isinstance(first, dict):
        return text, None
    detail = str(first.get("detail") or first.get("title") or text)
    source = first.get("source")
    pointer = source.get("pointer") if isinstance(source, dict) else None
    if pointer is None and (named := _PROPERTY.search(detail)):
        pointer = f"/data/attributes/{named[1]}"
    return detail, (str(pointer) if pointer else None)


def refused(what: str, error: HttpStatusError) -> CrmRefused:
    detail, pointer = problem(error)
    where = f" (at {pointer})" if pointer else ""
    return CrmRefused(
        f"{what}: CRM answered HTTP {error.status}: {detail}{where}",
        status=error.status,
        detail=detail,
        pointer=pointer,
    )


class CrmClient:
    def __init__(self, settings: CrmSettings, *, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        http_settings = HttpSettings(
            base_url=settings.base_url,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            retry=settings.retry,
        )
        self._token_http = HttpClient(http_settings, transport=transport)
        self.tokens = TokenSource(settings, self._token_http)
        inner = transport or httpx.HTTPTransport()
        self._http = HttpClient(
            http_settings.model_copy(update={"headers": {"Accept": JSON_API}}),
            transport=BearerTransport(self.tokens, inner),
        )

    # -- plumbing ------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        retry: bool = True,
    ) -> Any:
        """One V8 call (retried on transient errors when ``retry``), its decoded JSON."""
        return self.call_with_response(method, path, params=params, body=body, retry=retry)[0]

    def call_with_response(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        retry: bool = True,
    ) -> tuple[Any, httpx.Response]:
        for attempt in (1, 2):
            used = self.tokens.token()
            try:
                return self._http.call_json(
                    method, f"/V8{path}", params=params, json=body, idempotent=retry
                )
            except HttpStatusError as exc:
                if exc.status != 401:
                    raise refused(f"{method} /V8{path}", exc) from exc
                if attempt == 2:
                    raise PermanentError(
                        f"{method} /V8{path}: CRM refused a fresh access token (HTTP 401)"
                    ) from exc
                if self.tokens.current == used:
                    self.tokens.invalidate()
        raise AssertionError("unreachable")  # pragma: no cover

    # -- records -------------------------------------------------------------------------

    def records(
        self,
        module: str,
        *,
        filters: Mapping[str, Mapping[str, str]] | None = None,
        sort: str = "",
        size: int | None = None,
        number: int = 1,
        retry: bool = True,
    ) -> list[Resource]:
        return self.records_page(
            module, filters=filters, sort=sort, size=size, number=number, retry=retry
        )[0]

    def records_page(
        self,
        module: str,
        *,
        filters: Mapping[str, Mapping[str, str]] | None = None,
        sort: str = "",
        size: int | None = None,
        number: int = 1,
        retry: bool = True,
    ) -> tuple[list[Resource], datetime | None]:
        """The records of one list request and the CRM's clock then (its ``Date`` header)."""
        params: dict[str, str | int] = {}
        for field, expr in (filters or {}).items():
            for op, value in expr.items():
                params[f"filter[{field}][{op}]"] = value
        if sort:
            params["sort"] = sort
        if size is not None:
            params["page[size]"] = size
            params["page[number]"] = number
        document, response = self.call_with_response(
            "GET", f"/module/{module}", params=params, retry=retry
        )
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, list):
            raise TransientError(f"GET /V8/module/{module}: the answer has no data list")
        return [decoded(item) for item in data if isinstance(item, dict)], _server_time(response)

    def find(
        self, module: str, filters: Mapping[str, str], *, retry: bool = True
    ) -> Resource | None:
        """The oldest live record whose fields equal ``filters`` (text: case-insensitively)."""
        found = self.records(
            module,
            filters={field: {"eq": value} for field, value in filters.items()},
            sort="date_entered",
            size=1,
            retry=retry,
        )
        return found[0] if found else None

    def create(self, module: str, attributes: Mapping[str, Any]) -> Resource:
        body = {"data": {"type": module, "attributes": dict(attributes)}}
        return self._resource(self.call("POST", "/module", body=body, retry=False), module)

    def update(self, module: str, record_id: str, attributes: Mapping[str, Any]) -> Resource:
        body = {"data": {"type": module, "id": record_id, "attributes": dict(attributes)}}
        return self._resource(self.call("PATCH", "/module", body=body, retry=False), module)

    def relate(self, module: str, record_id: str, link: str, other: str, other_id: str) -> None:
        body = {"data": {"type": other, "id": other_id}}
        self.call(
            "POST", f"/module/{module}/{record_id}/relationships/{link}", body=body, retry=False
        )

    @staticmethod
    def _resource(document: Any, module: str) -> Resource:
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            raise TransientError(f"{module}: the CRM's answer has no record")
        return decoded(data)

    def health(self) -> Health:
        params: dict[str, str | int] = {"page[size]": 1, "fields[Accounts]": "name"}
        return check_health(
            lambda: self.call("GET", "/module/Accounts", params=params, retry=False),
            what=f"CRM {self.settings.base_url}",
        )

    def close(self) -> None:
        self._http.close()
        self._token_http.close()
