"""Envelope history for tracing: the last N SOAP exchanges, redacted before they are kept.

``EnvelopeHistory`` is a zeep plugin. For each call it keeps a redacted copy of the sent
envelope and HTTP headers and, once it arrives, of the received envelope (a Fault too). The
envelopes zeep sends and parses are never changed; the secrets never reach the history:

- HTTP headers ``Authorization``, ``Proxy-Authorization``, ``Cookie``, ``Set-Cookie``;
- every element or attribute whose local name contains ``password``, ``passwd``,
  ``credential``, ``secret`` or ``token`` (WS-Security ``UsernameToken/Password`` included);
- every element or attribute whose local name is one of the configured ``redact_fields``
  (e.g. ``E_Mail``, ``Phone_No``), compared without regard to case.

``history.exchanges()`` gives the kept exchanges, oldest first; ``history.format()`` a text
block for a log line or a debugging session.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from zeep import Plugin

REDACTED = "***"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
SECRET_NAME_PARTS = ("password", "passwd", "credential", "secret", "token")


@dataclass
class Exchange:
    """One call: what was sent and (when it came) what was received, both redacted."""

    operation: str
    at: datetime
    sent: str
    sent_headers: dict[str, str]
    received: str | None = None
    received_headers: dict[str, str] | None = None


class Redactor:
    """Blanks secret-looking and configured fields of an envelope copy."""

    def __init__(self, fields: Iterable[str] = ()) -> None:
        self.fields = frozenset(f.lower() for f in fields)

    def _secret(self, name: str) -> bool:
        local = etree.QName(name).localname.lower()
        return local in self.fields or any(part in local for part in SECRET_NAME_PARTS)

    def envelope(self, envelope: Any) -> str:
        copy = etree.fromstring(etree.tostring(envelope))
        for element in copy.iter():
            if not isinstance(element.tag, str):
                continue  # comments, processing instructions
            if self._secret(element.tag):
                for child in list(element):
                    element.remove(child)
                element.text = REDACTED
            for attribute in element.attrib:
                if self._secret(str(attribute)):
                    element.set(attribute, REDACTED)
        text: str = etree.tostring(copy, encoding="unicode")
        return text

    def headers(self, headers: Mapping[str, Any] | None) -> dict[str, str]:
        return {
            str(k): REDACTED if str(k).lower() in SECRET_HEADERS else str(v)
            for k, v in (headers or {}).items()
        }


class EnvelopeHistory(Plugin):  # type: ignore[misc]
    """Keeps the last ``maxlen`` exchanges of a zeep client, redacted (thread-safe)."""

    def __init__(self, maxlen: int = 20, redact_fields: Iterable[str] = ()) -> None:
        self._buffer: deque[Exchange] = deque(maxlen=maxlen)
        self._pending = threading.local()
        self._lock = threading.Lock()
        self.redactor = Redactor(redact_fields)

    def egress(
        self, envelope: Any, http_headers: Any, operation: Any, binding_options: Any
    ) -> tuple[Any, Any]:
        exchange = Exchange(
            operation=str(getattr(operation, "name", operation)),
            at=datetime.now(UTC),
            sent=self.redactor.envelope(envelope),
            sent_headers=self.redactor.headers(http_headers),
        )
        self._pending.exchange = exchange
        with self._lock:
            self._buffer.append(exchange)
        return envelope, http_headers

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        exchange: Exchange | None = getattr(self._pending, "exchange", None)
        if exchange is not None:
            exchange.received = self.redactor.envelope(envelope)
            exchange.received_headers = self.redactor.headers(http_headers)
            self._pending.exchange = None
        return envelope, http_headers

    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._buffer)

    def clear(self) -> None:
        with self._lock:
            self._buffer.clear()

    def format(self, last: int | None = None) -> str:
        """The kept exchanges (or the ``last`` few) as text, oldest first."""
        kept = self.exchanges()
        if last is not None:
            kept = kept[-last:] if last > 0 else []
        blocks = []
        for x in kept:
            received = x.received if x.received is not None else "(no response)"
            blocks.append(
                f"--- {x.at.isoformat()} {x.operation}\n"
                f">>> {x.sent_headers}\n{x.sent}\n<<< {x.received_headers or {}}\n{received}"
            )
        return "\n".join(blocks)
