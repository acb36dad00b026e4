"""The page table of the sandbox ERP: which pages exist and what their records look like.

Adding a page (``Item``, ``Sales_Invoice``...) is one entry in ``PAGES`` plus its generated WSDL
(``python -m sandbox.erp_soap.wsdlgen``); the server, the store and the filters need no new code.
Field names, order and types follow the published NAV / Business Central page web services.
"""

from __future__ import annotations

from dataclasses import dataclass, field

XS_STRING = "string"
XS_DECIMAL = "decimal"
XS_INT = "int"
XS_BOOLEAN = "boolean"
XS_DATE = "date"
XS_DATETIME = "dateTime"


@dataclass(frozen=True)
class Field:
    """One page field. ``enum`` values make it a ``tns:<enum_name>`` simple type."""

    name: str
    xs_type: str = XS_STRING
    enum: tuple[str, ...] = ()
    enum_name: str = ""
    read_only: bool = False

    @property
    def type_name(self) -> str:
        return self.enum_name or self.name


@dataclass(frozen=True)
class SubPage:
    """A part (subform) such as the lines of a sales order: ``<SalesLines><Sales_Order_Line>``."""

    element: str
    record: str
    table_id: int
    fields: tuple[Field, ...]
    line_no_field: str = "Line_No"
    line_no_step: int = 10000


@dataclass(frozen=True)
class NumberSeries:
    prefix: str
    start: int
    width: int

    def format(self, n: int) -> str:
        return f"{self.prefix}{n:0{self.width}d}"


@dataclass(frozen=True)
class PageSpec:
    name: str
    table_id: int
    number_series: NumberSeries
    fields: tuple[Field, ...]
    lines: SubPage | None = None
    lines_after: str = ""
    modified_at_field: str = "Last_Modified_Date_Time"
    modified_on_field: str | None = None
    rules: tuple[str, ...] = field(default=())

    @property
    def namespace(self) -> str:
        return f"urn:microsoft-dynamics-schemas/page/{self.name.lower()}"

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


BLOCKED = ("_blank_", "Ship", "Invoice", "All")
ORDER_STATUS = ("Open", "Released", "Pending_Approval", "Pending_Prepayment")
LINE_TYPE = ("_blank_", "G_L_Account", "Item", "Resource", "Fixed_Asset", "Charge_Item")

CUSTOMER = PageSpec(
    name="Customer",
    table_id=18,
    number_series=NumberSeries("C", 10, 5),
    modified_on_field="Last_Date_Modified",
    rules=("customer_name_required",),
    fields=(
        Field("Key", read_only=True),
        Field("No"),
        Field("Name"),
        Field("Address"),
        Field("Address_2"),
        Field("Post_Code"),
        Field("County"),
        Field("Phone_No"),
        Field("Contact"),
        Field("City"),
        Field("Country_Region_Code"),
        Field("Search_Name"),
        Field("Balance_LCY", XS_DECIMAL, read_only=True),
        Field("Credit_Limit_LCY", XS_DECIMAL),
        Field("Salesperson_Code"),
        Field("Blocked", enum=BLOCKED),
        Field("Last_Date_Modified", XS_DATE, read_only=True),
        Field("E_Mail"),
        Field("Home_Page"),
        Field("Gen_Bus_Posting_Group"),
        Field("VAT_Bus_Posting_Group"),
        Field("Customer_Posting_Group"),
        Field("Payment_Terms_Code"),
        Field("Currency_Code"),
        Field("Language_Code"),
        Field("VAT_Registration_No"),
        Field("Last_Modified_Date_Time", XS_DATETIME, read_only=True),
    ),
)

SALES_ORDER_LINE = SubPage(
    element="SalesLines",
    record="Sales_Order_Line",
    table_id=37,
    fields=(
        Field("Key", read_only=True),
        Field("Line_No", XS_INT, read_only=True),
        Field("Type", enum=LINE_TYPE, enum_name="Type"),
        Field("No"),
        Field("Description"),
        Field("Location_Code"),
        Field("Quantity", XS_DECIMAL),
        Field("Unit_of_Measure_Code"),
        Field("Unit_Price", XS_DECIMAL),
        Field("Line_Discount_Percent", XS_DECIMAL),
        Field("Line_Discount_Amount", XS_DECIMAL),
        Field("Line_Amount", XS_DECIMAL),
    ),
)

SALES_ORDER = PageSpec(
    name="Sales_Order",
    table_id=36,
    number_series=NumberSeries("SO-", 10001, 5),
    rules=("sell_to_customer_exists", "order_line_amounts", "credit_limit"),
    lines=SALES_ORDER_LINE,
    lines_after="Status",
    fields=(
        Field("Key", read_only=True),
        Field("No"),
        Field("Sell_to_Customer_No"),
        Field("Sell_to_Customer_Name"),
        Field("Sell_to_Address"),
        Field("Sell_to_City"),
        Field("Sell_to_Post_Code"),
        Field("Sell_to_Country_Region_Code"),
        Field("Sell_to_Contact"),
        Field("External_Document_No"),
        Field("Order_Date", XS_DATE),
        Field("Document_Date", XS_DATE),
        Field("Requested_Delivery_Date", XS_DATE),
        Field("Salesperson_Code"),
        Field("Status", enum=ORDER_STATUS),
        Field("Currency_Code"),
        Field("Payment_Terms_Code"),
        Field("Ship_to_Name"),
        Field("Ship_to_Address"),
        Field("Ship_to_City"),
        Field("Ship_to_Post_Code"),
        Field("Ship_to_Country_Region_Code"),
        Field("Amount_Including_VAT", XS_DECIMAL, read_only=True),
        Field("Last_Modified_Date_Time", XS_DATETIME, read_only=True),
    ),
)

PAGES: dict[str, PageSpec] = {p.name: p for p in (CUSTOMER, SALES_ORDER)}
