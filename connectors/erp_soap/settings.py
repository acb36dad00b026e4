"""Settings of the ERP SOAP connector (Dynamics NAV / Business Central page web services).

Which pages exist, what each stream reads and how it reads incrementally are configuration, so
another page-service ERP (or another WSDL version of the same one) is a change of settings::

    AIRFLOW_CONN_ERP_SOAP='{"conn_type": "http", "host": "erp", "port": 7047,
        "schema": "DynamicsNAV/WS/CRONUS/Page", "login": "svc", "password": "...",
        "extra": {"page_size": 200, "pages": {"item": "Item_Card"},
                  "streams": {"items": {"modified_field": "Last_Modified_Date_Time"}}}}'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors.connection import Connection, settings_error
from connectors.transports.soap import RetryPolicy, SoapSettings

DEFAULT_PAGES = {
    "customer": "Customer",
    "item": "Item",
    "sales_order": "Sales_Order",
    "posted_shipment": "Posted_Sales_Shipment",
    "posted_invoice": "Posted_Sales_Invoice",
}


class StreamSettings(BaseModel):
    """How one stream reads its page.

    - ``modified_field``: the last-modified field to filter on (``Last_Modified_Date_Time``);
      ``None`` reads new records by number after the last one read (posted documents, which
      NAV never changes and numbers in ascending order).
    - ``watch_fields``: FlowFields that change without a new modification stamp (an item's
      ``Inventory``, an invoice's ``Remaining_Amount``): each read also scans the records that
      match ``watch_filter`` and returns those whose watched values changed.
    """

    model_config = ConfigDict(frozen=True)

    page: str  # a logical page of ErpSoapSettings.pages (or a NAV page name)
    modified_field: str | None = None
    watch_fields: tuple[str, ...] = ()
    watch_filter: dict[str, str] = Field(default_factory=dict)


DEFAULT_STREAMS = {
    "customers": StreamSettings(page="customer", modified_field="Last_Modified_Date_Time"),
    "items": StreamSettings(
        page="item",
        modified_field="Last_DateTime_Modified",
        watch_fields=("Inventory", "Qty_on_Sales_Order"),
    ),
    "sales_orders": StreamSettings(page="sales_order", modified_field="Last_Modified_Date_Time"),
    "posted_shipments": StreamSettings(page="posted_shipment"),
    "posted_invoices": StreamSettings(
        page="posted_invoice",
        watch_fields=("Remaining_Amount", "Closed"),
        watch_filter={"Closed": "false"},
    ),
}


class ErpSoapSettings(BaseModel):
    """``base_url`` is the page service root, e.g. ``http://erp:7047/DynamicsNAV/WS/CRONUS/Page/``.

    WSDLs are fetched from ``<base_url><Page>?wsdl`` on first use, or read from ``wsdl_dir``
    (``<Page>.wsdl``) when given; calls always go to ``<base_url><Page>``, whatever address the
    WSDL advertises (NAV often advertises its internal host name).
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    base_url: str
    pages: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PAGES))
    streams: dict[str, StreamSettings] = Field(default_factory=lambda: dict(DEFAULT_STREAMS))
    page_size: int = Field(default=100, ge=1, le=10_000)
    # a record changed during a read, behind the read's bookmark, is found by the next read
    # when the read took less than this long
    lookback_seconds: float = Field(default=600.0, ge=0)
    since_criteria: str = "{since}.."  # NAV filter for "modified at or after"
    wsdl_dir: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    connect_timeout: float = Field(default=5.0, gt=0)
    operation_timeout: float = Field(default=30.0, gt=0)
    retry: RetryPolicy = RetryPolicy()
    strict: bool = True

    @field_validator("base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("pages")
    @classmethod
    def _default_pages(cls, value: dict[str, str]) -> dict[str, str]:
        return {**DEFAULT_PAGES, **value}

    @field_validator("streams", mode="before")
    @classmethod
    def _merge_streams(cls, value: Any) -> Any:
        """Given streams change the defaults field by field; ``null`` removes a stream."""
        if not isinstance(value, dict):
            return value
        merged: dict[str, Any] = {n: s.model_dump() for n, s in DEFAULT_STREAMS.items()}
        for name, given in value.items():
            if given is None:
                merged.pop(name, None)
            elif isinstance(given, dict) and name in merged:
                merged[name] = {**merged[name], **given}
            else:
                merged[name] = given
        return merged

    @field_validator("since_criteria")
    @classmethod
    def _has_since(cls, value: str) -> str:
        if "{since}" not in value:
            raise ValueError("must contain {since}")
        return value

    @classmethod
    def from_connection(cls, conn: Connection, **overrides: Any) -> ErpSoapSettings:
        """Settings from an Airflow-style connection: host, port and schema make the page
        service root; login/password the service user; ``extra`` any other setting."""
        values: dict[str, Any] = {
            "base_url": conn.base_url(),
            "username": conn.login,
            "password": conn.password,
        }
        values.update({k: v for k, v in conn.extra.items() if k != "scheme"})
        values.update(overrides)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise settings_error(f"connection {conn.conn_id}: ERP SOAP", exc) from None

    def page_name(self, page: str) -> str:
        """The NAV page name for a logical page (``customer`` -> ``Customer``)."""
        return self.pages.get(page, page)

    def soap(self, page: str) -> SoapSettings:
        name = self.page_name(page)
        endpoint = f"{self.base_url}{name}"
        wsdl = str(self.wsdl_dir / f"{name}.wsdl") if self.wsdl_dir else f"{endpoint}?wsdl"
        return SoapSettings(
            wsdl=wsdl,
            endpoint=endpoint,
            binding=f"{{urn:microsoft-dynamics-schemas/page/{name.lower()}}}{name}_Binding",
            username=self.username,
            password=self.password,
            connect_timeout=self.connect_timeout,
            operation_timeout=self.operation_timeout,
            retry=self.retry,
            strict=self.strict,
        )
