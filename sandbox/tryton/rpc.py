"""A small Tryton JSON-RPC client for the tests and the demo.

``POST /<db>/rpc/`` with ``{"id", "method", "params"}``. ``common.db.login`` answers
``[user id, session token, ...]`` (HTTP 401 when the login fails, 429 when rate limited); later
calls send ``Authorization: Session base64(login:uid:token)``. ``model.<name>.<method>`` calls
take the user's context as their last parameter. Decimals, dates, datetimes, times, timedeltas
and bytes travel as ``{"__class__": ...}`` objects both ways.
"""

from __future__ import annotations

import base64
import datetime
import json
from decimal import Decimal
from types import TracebackType
from typing import Any

import httpx

# Errors trytond answers as ``[name, details]``; anything else comes as ``[text, traceback]``.
_TRYTON_ERRORS = frozenset(
    {"UserError", "UserWarning", "LoginException", "ConcurrencyException", "RateLimitException"}
)


class TrytonError(Exception):
    """An error the server answered: ``kind`` is e.g. ``UserError``; ``detail`` its details.

    ``UserError`` details are ``[message, description, domain]``; ``UserWarning`` details are
    ``[warning name, message, description]``; a server fault has kind ``ServerError`` and the
    server's traceback in ``traceback``.
    """

    def __init__(self, method: str, kind: str, detail: Any, traceback: str = "") -> None:
        if kind == "UserWarning" and isinstance(detail, list | tuple) and len(detail) > 1:
            message = detail[1]
        elif isinstance(detail, list | tuple) and detail:
            message = detail[0]
        else:
            message = detail
        super().__init__(f"{method}: {kind}: {message}")
        self.method = method
        self.kind = kind
        self.detail = detail
        self.traceback = traceback

    @classmethod
    def from_answer(cls, method: str, error: Any) -> TrytonError:
        if isinstance(error, list) and len(error) == 2 and error[0] in _TRYTON_ERRORS:
            return cls(method, error[0], error[1])
        if isinstance(error, list) and error:
            return cls(method, "ServerError", str(error[0]), "".join(map(str, error[1:])))
        return cls(method, "ServerError", str(error))


class LoginFailed(TrytonError):
    """Wrong login or password (HTTP 401), or too many attempts (HTTP 429)."""


def _decode(obj: dict[str, Any]) -> Any:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return datetime.date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return datetime.datetime(
            obj["year"],
            obj["month"],
            obj["day"],
            obj["hour"],
            obj["minute"],
            obj["second"],
            obj["microsecond"],
        )
    if kind == "time":
        return datetime.time(obj["hour"], obj["minute"], obj["second"], obj["microsecond"])
    if kind == "timedelta":
        return datetime.timedelta(seconds=obj["seconds"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


def _encode(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return {"__class__": "Decimal", "decimal": str(obj)}
    if isinstance(obj, datetime.datetime):
        fields = ("year", "month", "day", "hour", "minute", "second", "microsecond")
        return {"__class__": "datetime", **{name: getattr(obj, name) for name in fields}}
    if isinstance(obj, datetime.date):
        return {"__class__": "date", "year": obj.year, "month": obj.month, "day": obj.day}
    if isinstance(obj, datetime.time):
        parts = ("hour", "minute", "second", "microsecond")
        return {"__class__": "time", **{name: getattr(obj, name) for name in parts}}
    if isinstance(obj, datetime.timedelta):
        return {"__class__": "timedelta", "seconds": obj.total_seconds()}
    if isinstance(obj, bytes | bytearray):
        return {"__class__": "bytes", "base64": base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, set | frozenset):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable for Tryton")


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, default=_encode, separators=(",", ":")).encode()


def loads(body: bytes) -> Any:
    return json.loads(body, object_hook=_decode)


class TrytonClient:
    """One user's session on one database: ``login`` once, then ``call`` or ``model``."""

    def __init__(self, url: str, database: str, *, timeout: float = 30.0) -> None:
        self.endpoint = f"{url.rstrip('/')}/{database}/rpc/"
        self.context: dict[str, Any] = {}
        self._http = httpx.Client(timeout=timeout)
        self._next_id = 0

    def login(self, login: str, password: str) -> int:
        """Opens a session and loads the user's context; returns the user id."""
        result = self.call("common.db.login", login, {"password": password})
        user_id, token = int(result[0]), str(result[1])
        credentials = base64.b64encode(f"{login}:{user_id}:{token}".encode()).decode()
        self._http.headers["Authorization"] = f"Session {credentials}"
        self.context = self.call("model.res.user.get_preferences", True, {})
        return user_id

    def call(self, method: str, *params: Any) -> Any:
        """Calls ``method`` with ``params`` as given; raises TrytonError for an error answer."""
        self._next_id += 1
        request = {"id": self._next_id, "method": method, "params": list(params)}
        response = self._http.post(
            self.endpoint, content=dumps(request), headers={"Content-Type": "application/json"}
        )
        if response.status_code in (401, 403, 429):
            raise LoginFailed(method, f"HTTP {response.status_code}", response.reason_phrase)
        response.raise_for_status()
        answer = loads(response.content)
        if answer.get("error"):
            raise TrytonError.from_answer(method, answer["error"])
        return answer.get("result")

    def model(self, name: str, method: str, *args: Any, **context: Any) -> Any:
        """``model.<name>.<method>(*args, user context + context)``."""
        return self.call(f"model.{name}.{method}", *args, {**self.context, **context})

    def search_read(
        self, name: str, domain: list[Any], fields: list[str], **context: Any
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.model(
            name, "search_read", domain, 0, None, None, fields, **context
        )
        return rows

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TrytonClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
