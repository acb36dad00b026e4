"""``NavPageClient``: the operations of one NAV page web service, returning plain dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from canonical.errors import PermanentError
from connectors.erp_soap.records import (
    MalformedRecords,
    Record,
    RecordsRead,
    parse_records,
    plain,
    strict_values,
)
from connectors.transports.soap import (
    DEFAULT_FAULT_RULES,
    FaultRule,
    RetryPolicy,
    SoapClientFactory,
    SoapSettings,
    call,
    with_retries,
)

Filters = Sequence[tuple[str, str]]

__all__ = ["Filters", "NavPageClient", "Record", "RecordsRead", "exact"]


def exact(value: str) -> str:
    """A NAV filter criteria matching ``value`` literally (``*``, ``|``, ``&``, ``..`` inert)."""
    return "'" + value.replace("'", "''") + "'"


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
            with strict_values() as unreadable:
                answer = call(method, fault_rules=self._fault_rules, what=what, **kwargs)
        except TypeError as exc:  # zeep refuses a field the page does not have
            raise PermanentError(f"{what}: {exc}") from exc
        except (ArithmeticError, ValueError) as exc:  # a value that is not of its XSD type
            raise MalformedRecords(f"{what}: a value is not of its type: {exc!r}") from exc
        if unreadable:
            raise MalformedRecords(f"{what}: a value is not of its type: {unreadable[0]}")
        return answer

    def _read_raw(self, operation: str, **kwargs: Any) -> bytes:
        """The response envelope as bytes, unparsed (to parse record by record)."""
        client = self._factory.client(self.settings)
        service = self._factory.service(self.settings)
        method: Callable[..., Any] = getattr(service, operation)
        what = f"{self.page}.{operation}"

        def once() -> bytes:
            with client.settings(raw_response=True):
                response = call(method, fault_rules=self._fault_rules, what=what, **kwargs)
            if response.status_code >= 400:  # a Fault: let zeep parse and classify it
                self._invoke(operation, **kwargs)
            return bytes(response.content)

        return with_retries(once, self._read_retry, what=what)

    def _read_op(self, operation: str, **kwargs: Any) -> Any:
        return with_retries(
            lambda: self._invoke(operation, **kwargs),
            self._read_retry,
            what=f"{self.page}.{operation}",
        )

    # -- reads ---------------------------------------------------------------------------

    def read(self, no: str) -> Record | None:
        found = self._read_op("Read", No=no)
        return None if found is None else plain(found)

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
        return [plain(row) for row in rows or []]

    def read_page(
        self, filters: Filters = (), bookmark_key: str | None = None, set_size: int = 100
    ) -> RecordsRead:
        """One ``ReadMultiple`` page; records with a value that is not of its XSD type come
        back as ``BadRecord`` (with their XML) while the others are read."""
        nav_filters = [{"Field": f, "Criteria": c} for f, c in filters] or [
            {"Field": "No", "Criteria": ""}
        ]
        arguments = {"filter": nav_filters, "bookmarkKey": bookmark_key, "setSize": set_size}
        try:
            rows = [plain(r) for r in self._read_op("ReadMultiple", **arguments) or []]
        except MalformedRecords:
            envelope = self._read_raw("ReadMultiple", **arguments)
            return parse_records(self._factory.client(self.settings), envelope, self.page)
        last = str(rows[-1].get("Key") or "") if rows else None
        return RecordsRead(rows, [], len(rows), last)

    def read_all(self, filters: Filters = (), page_size: int = 100) -> Iterator[Record]:
        """Every matching record, fetched ``page_size`` at a time with bookmark keys (records
        that cannot be parsed are left out: streams report them)."""
        bookmark: str | None = None
        while True:
            found = self.read_page(filters, bookmark, page_size)
            yield from found.rows
            if found.count < page_size:
                return
            bookmark = found.last_key

    def is_updated(self, key: str) -> bool:
        return bool(self._read_op("IsUpdated", Key=key))

    # -- writes (single attempts) --------------------------------------------------------

    def create(self, record: Mapping[str, Any]) -> Record:
        return plain(self._invoke("Create", **{self.page: dict(record)}))

    def update(self, record: Mapping[str, Any]) -> Record:
        """Update needs the record's current ``Key``; a stale one raises ``StaleKeyError``."""
        if not record.get("Key"):
            raise PermanentError(f"{self.page}.Update: the record has no Key")
        return plain(self._invoke("Update", **{self.page: dict(record)}))

    def delete(self, key: str) -> bool:
        return bool(self._invoke("Delete", Key=key))

    def delete_line(self, key: str, lines_element: str = "SalesLines") -> bool:
        """Delete one subpage line (``Delete_SalesLines``) by its Key."""
        return bool(self._invoke(f"Delete_{lines_element}", **{f"{lines_element}_Key": key}))
