"""A small Tryton JSON-RPC client over the shared HTTP transport, with our error taxonomy.

``POST <url>/<db>/rpc/`` ``{"id", "method", "params"}``. ``common.db.login`` answers
``[user id, session token, ...]``; later calls send ``Authorization: Session
base64(login:uid:token)`` and the user's context (``model.res.user.get_preferences``) as their
last parameter. An expired session (HTTP 401/403) is answered by one new login.

Errors:

- connection refused, timeouts, HTTP 429/5xx: ``TransientError`` (from the HTTP transport);
  ``ConcurrencyException`` and ``RateLimitException`` answers, and a locked database, too;
- a ``UserError`` answer (Tryton's validation and access errors): ``TrytonUserError``, a
  ``PermanentError`` with Tryton's message and description and the fields its domain names;
  a ``UserWarning`` (which needs a person to confirm), a failed login and any other server
  fault: ``PermanentError``. Tryton's answer is kept as the cause (``TrytonFault``).

Reads (``search_read``, ``read``, ``search``...) are retried on transient errors; writes are
not (their callers retry a whole idempotent write instead).
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from canonical.errors import PermanentError, TandemError, TransientError
from connectors.erp_tryton.codec import dumps, loads, nest
from connectors.erp_tryton.settings import TrytonSettings
from connectors.transports.http import HttpAuth, HttpClient, HttpSettings, HttpStatusError
from connectors.transports.retry import RetryPolicy, with_retries

log = logging.getLogger(__name__)
Domain = Sequence[Any]
Row = dict[str, Any]
_TRANSIENT_FAULTS = ("database is locked", "could not serialize", "deadlock detected")


class TrytonFault(Exception):
    """Tryton's error answer as it came: ``kind`` (``UserError``, ``ServerError``...) and
    its details; the cause of the ``TandemError`` raised for it."""

    def __init__(self, method: str, kind: str, detail: Any, traceback: str = "") -> None:
        super().__init__(f"{method}: {kind}: {detail!r}"[:2000])
        self.method = method
        self.kind = kind
        self.detail = detail
        self.traceback = traceback


class TrytonUserError(PermanentError):
    """Tryton refused the call (validation, access rights, a wrong state): its message,
    description and the fields it names."""

    def __init__(self, message: str, *, description: str = "", fields: Sequence[str] = ()) -> None:
        text = message + (f" ({description})" if description else "")
        super().__init__(text)
        self.tryton_message = message
        self.description = description
        self.fields = tuple(fields)


def _domain_fields(domain: Any) -> list[str]:
    """The field names of a UserError's domain part (``[domain, {field: definition}]``)."""
    if isinstance(domain, list | tuple) and len(domain) == 2 and isinstance(domain[1], dict):
        return sorted(str(name) for name in domain[1])
    return []


def answer_error(method: str, error: Any) -> TandemError:
    """Our error for Tryton's ``error`` answer, with the answer chained as its cause."""
    if isinstance(error, list) and len(error) == 2 and isinstance(error[0], str):
        kind, detail = error
        fault = TrytonFault(method, kind, detail)
        parts = list(detail) if isinstance(detail, list | tuple) else [detail]
        if kind == "UserError":
            message = str(parts[0])
            description = str(parts[1] or "") if len(parts) > 1 else ""
            fields = _domain_fields(parts[2] if len(parts) > 2 else None)
            result: TandemError = TrytonUserError(
                f"{method}: {message}", description=description, fields=fields
            )
        elif kind in ("ConcurrencyException", "RateLimitException"):
            result = TransientError(f"{method}: {kind}: {parts[0]}")
        elif kind == "UserWarning":
            text = parts[1] if len(parts) > 1 else parts[0]
            result = PermanentError(f"{method}: Tryton asks to confirm a warning: {text}")
        elif kind in ("LoginException", "MissingDependenciesException"):
            result = PermanentError(f"{method}: {kind}: {parts}")
        else:
            fault = TrytonFault(method, "ServerError", kind, str(detail))
            result = _server_fault(method, kind)
        result.__cause__ = fault
        return result
    fault = TrytonFault(method, "ServerError", error)
    result = _server_fault(method, str(error))
    result.__cause__ = fault
    return result


def _server_fault(method: str, text: str) -> TandemError:
    first = text.strip().splitlines()[0] if text.strip() else "no message"
    if any(marker in text for marker in _TRANSIENT_FAULTS):
        return TransientError(f"{method}: Tryton server error: {first}")
    return PermanentError(f"{method}: Tryton server error: {first}")


class TrytonRpc:
    """One user's session on one Tryton database; thread-safe for concurrent calls."""

    def __init__(
        self, settings: TrytonSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.path = f"/{quote(settings.database)}/rpc/"
        self._transport = transport
        self._anonymous = HttpClient(self._http(HttpAuth()), transport=transport)
        self._session: HttpClient | None = None
        self._context: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def _http(self, auth: HttpAuth) -> HttpSettings:
        s = self.settings
        return HttpSettings(
            base_url=s.url,
            auth=auth,
            connect_timeout=s.connect_timeout,
            read_timeout=s.read_timeout,
            verify_tls=s.verify_tls,
            retry=s.retry,
            user_agent="tandem-erp-tryton",
        )

    # -- the session ---------------------------------------------------------------------

    def login(self) -> None:
        """Opens a session (one attempt per retry policy) and loads the user's context."""
        s = self.settings
        params = [s.username, {"password": s.password.get_secret_value()}]
        result = with_retries(
            lambda: self._post(self._anonymous, "common.db.login", params),
            s.retry,
            what="Tryton login",
        )
        if not isinstance(result, list) or len(result) < 2:
            raise PermanentError(f"Tryton login as {s.username!r} failed: unexpected answer")
        token = f"{s.username}:{int(result[0])}:{result[1]}"
        header = SecretStr("Session " + base64.b64encode(token.encode()).decode())
        session = HttpClient(
            self._http(HttpAuth.headers(Authorization=header)), transport=self._transport
        )
        context = self._post(session, "model.res.user.get_preferences", [True, {}])
        if s.company is not None:
            context = {**context, "company": s.company}
        with self._lock:
            old, self._session, self._context = self._session, session, dict(context)
        if old is not None:
            old.close()

    def _current(self) -> tuple[HttpClient, dict[str, Any]]:
        with self._lock:
            session, context = self._session, self._context
        if session is None:
            self.login()
            return self._current()
        return session, context

    @property
    def context(self) -> dict[str, Any]:
        return dict(self._current()[1])

    # -- calls ---------------------------------------------------------------------------

    def _post(self, client: HttpClient, method: str, params: list[Any]) -> Any:
        body = json.loads(dumps({"id": next(self._ids), "method": method, "params": params}))
        try:
            response = client.send("POST", self.path, json=body)
        except HttpStatusError as exc:
            if method == "common.db.login":
                raise PermanentError(
                    f"Tryton login as {self.settings.username!r} on database "
                    f"{self.settings.database!r} refused (HTTP {exc.status})"
                ) from exc
            raise
        try:
            answer = loads(response.content)
        except ValueError as exc:
            raise TransientError(f"{method}: the answer is not valid JSON (cut short?)") from exc
        if not isinstance(answer, dict):
            raise PermanentError(f"{method}: unexpected answer of type {type(answer).__name__}")
        if answer.get("error"):
            raise answer_error(method, answer["error"])
        return answer.get("result")

    def call(self, method: str, *params: Any, idempotent: bool = False) -> Any:
        """``method(*params)`` in the session; reads (``idempotent``) retried when transient."""
        policy = self.settings.retry if idempotent else RetryPolicy(attempts=1)
        return with_retries(lambda: self._call_once(method, list(params)), policy, what=method)

    def _call_once(self, method: str, params: list[Any]) -> Any:
        session, _ = self._current()
        try:
            return self._post(session, method, params)
        except HttpStatusError as exc:
            if exc.status not in (401, 403):
                raise
        log.info("Tryton session expired; logging in again")
        self.login()
        session, _ = self._current()
        return self._post(session, method, params)

    def model(self, model: str, method: str, *args: Any, idempotent: bool = False) -> Any:
        """``model.<model>.<method>(*args, context)``."""
        _, context = self._current()
        return self.call(f"model.{model}.{method}", *args, context, idempotent=idempotent)

    def search_read(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        limit: int | None = None,
        order: Sequence[tuple[str, str]] | None = None,
    ) -> list[Row]:
        """Rows (dotted fields nested: ``party.code`` -> ``row["party"]["code"]``)."""
        rows = self.model(
            model,
            "search_read",
            list(domain),
            0,
            limit,
            [list(o) for o in order] if order else None,
            list(fields),
            idempotent=True,
        )
        return [nest(row) for row in rows]

    def read(self, model: str, ids: Sequence[int], fields: Sequence[str]) -> list[Row]:
        if not ids:
            return []
        rows = self.model(model, "read", list(ids), list(fields), idempotent=True)
        return [nest(row) for row in rows]

    def search(self, model: str, domain: Domain, *, limit: int | None = None) -> list[int]:
        ids = self.model(model, "search", list(domain), 0, limit, None, idempotent=True)
        return [int(i) for i in ids]

    def create(self, model: str, values: Sequence[dict[str, Any]]) -> list[int]:
        return [int(i) for i in self.model(model, "create", list(values))]

    def write(self, model: str, ids: Sequence[int], values: dict[str, Any]) -> None:
        if ids and values:
            self.model(model, "write", list(ids), values)

    def button(self, model: str, method: str, ids: Sequence[int]) -> Any:
        """A workflow step such as ``sale.sale.quote`` / ``confirm``."""
        return self.model(model, method, list(ids))

    def close(self) -> None:
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()
        self._anonymous.close()
