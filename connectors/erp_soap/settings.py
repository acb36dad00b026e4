"""Settings of the ERP SOAP connector (Dynamics NAV / Business Central page web services)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.transports.soap import RetryPolicy, SoapSettings

DEFAULT_PAGES = {
    "customer": "Customer",
    "sales_order": "Sales_Order",
    "posted_shipment": "Posted_Sales_Shipment",
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
