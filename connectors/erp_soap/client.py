"""``NavPageClient``: the operations of one NAV page web service, returning plain dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from zeep.helpers import serialize_object

from canonical.errors import PermanentError
from connectors.transports.soap import (
    DEFAULT_FAULT_RULES,
    FaultRule,
    RetryPolicy,
    SoapClientFactory,
    SoapSettings,
    call,
    with_retries,
)

Record = dict[str, Any]
Filters = Sequence[tuple[str, str]]


def exact(value: str) -> str:
    """A NAV filter criteria matching ``value`` literally (``*``, ``|``, ``&``, ``..`` inert)."""
    return "'" + value.replace("'", "''") + "'"


def _plain(value: Any) -> Record:
    """A zeep record as nested plain dicts and lists."""
    return dict(serialize_object(value, target_cls=dict))  # type: ignore[no-untyped-call]


class NavPageClient:
    """One page (``Customer``, ``Sales_Order``...). Reads are retried on transient errors;
    writes are single attempts, because only the caller knows how to make a retry idempotent.
    """

    def __init__(
        self,
        settings: SoapSettings,
        page: str,
        *,
        factory: SoapClientFactory | None = None,
        fault_rules: Sequence[FaultRule] = DEFAULT_FAULT_RULES,
        read_retry: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.page = page
        self._factory = factory or SoapClientFactory()
        self._fault_rules = tuple(fault_rules)
        self._read_retry = read_retry if read_retry is not None else settings.retry

    def _invoke(self, operation: str, **kwargs: Any) -> Any:
        what = f"{self.page}.{operation}"
        service = self._factory.service(self.settings)
        method: Callable[..., Any] = getattr(service, operation)
        try:
            return call(method, fault_rules=self._fault_rules, what=what, **kwargs)
        except TypeError as exc:  # zeep refuses a field the page does not have
            raise PermanentError(f"{what}: {exc}") from exc

    def _read_op(self, operation: str, **kwargs: Any) -> Any:
        return with_retries(
            lambda: self._invoke(operation, **kwargs),
            self._read_retry,
            what=f"{self.page}.{operation}",
        )

    # -- reads ---------------------------------------------------------------------------

    def read(self, no: str) -> Record | None:
        found = self._read_op("Read", No=no)
        return None if found is None else _plain(found)

    def read_multiple(
        self, filters: Filters = (), bookmark_key: str | None = None, set_size: int = 100
    ) -> list[Record]:
        """One page of records in primary-key order, after ``bookmark_key`` when given."""
        nav_filters = [{"Field": f, "Criteria": c} for f, c in filters] or [
            {"Field": "No", "Criteria": ""}
        ]
        rows = self._read_op(
            "ReadMultiple", filter=nav_filters, bookmarkKey=bookmark_key, setSize=set_size
        )
        return [_plain(row) for row in rows or []]

    def read_all(self, filters: Filters = (), page_size: int = 100) -> Iterator[Record]:
        """Every matching record, fetched ``page_size`` at a time with bookmark keys."""
        bookmark: str | None = None
        while True:
            rows = self.read_multiple(filters, bookmark, page_size)
            yield from rows
            if len(rows) < page_size:
                return
            bookmark = rows[-1]["Key"]

    def is_updated(self, key: str) -> bool:
        return bool(self._read_op("IsUpdated", Key=key))

    # -- writes (single attempts) --------------------------------------------------------

    def create(self, record: Mapping[str, Any]) -> Record:
        return _plain(self._invoke("Create", **{self.page: dict(record)}))

    def update(self, record: Mapping[str, Any]) -> Record:
        """Update needs the record's current ``Key``; a stale one raises ``StaleKeyError``."""
        if not record.get("Key"):
            raise PermanentError(f"{self.page}.Update: the record has no Key")
        return _plain(self._invoke("Update", **{self.page: dict(record)}))

    def delete(self, key: str) -> bool:
        return bool(self._invoke("Delete", Key=key))

    def delete_line(self, key: str, lines_element: str = "SalesLines") -> bool:
        """Delete one subpage line (``Delete_SalesLines``) by its Key."""
        return bool(self._invoke(f"Delete_{lines_element}", **{f"{lines_element}_Key": key}))
