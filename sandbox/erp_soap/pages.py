"""The page table of the sandbox ERP: which pages exist and what their records look like.

Adding a page (``Sales_Invoice``, ``Vendor``...) is one entry in ``PAGES`` plus its generated
WSDL (``python -m sandbox.erp_soap.wsdlgen``); the server, the store and the filters need no new
code. Field names, order and types follow the published NAV / Business Central page web
services. A page with ``editable=False`` (the posted documents) publishes only the read
operations; its records are written by the posting codeunit (``posting.py``).
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
    modified_at_field: str | None = "Last_Modified_Date_Time"
    modified_on_field: str | None = None
    rules: tuple[str, ...] = field(default=())
    delete_rules: tuple[str, ...] = field(default=())
    editable: bool = True
    # FlowFields the store computes when the record is shown (``Store.FLOW_FIELDS``)
    flow_fields: tuple[str, ...] = field(default=())

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
        Field("Qty_to_Ship", XS_DECIMAL),
        Field("Quantity_Shipped", XS_DECIMAL, read_only=True),
        Field("Quantity_Invoiced", XS_DECIMAL, read_only=True),
        Field("Outstanding_Quantity", XS_DECIMAL, read_only=True),
    ),
)

SALES_ORDER = PageSpec(
    name="Sales_Order",
    table_id=36,
    number_series=NumberSeries("SO-", 10001, 5),
    rules=(
        "sell_to_customer_exists",
        "order_line_items",
        "order_line_quantities",
        "order_line_amounts",
        "credit_limit",
    ),
    delete_rules=("order_not_shipped_uninvoiced",),
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

ITEM_TYPE = ("Inventory", "Service", "Non_Inventory")
COSTING_METHOD = ("FIFO", "LIFO", "Specific", "Average", "Standard")

ITEM = PageSpec(
    name="Item",
    table_id=27,
    number_series=NumberSeries("", 70000, 5),
    modified_at_field="Last_DateTime_Modified",
    modified_on_field="Last_Date_Modified",
    rules=("item_description_required",),
    flow_fields=("Qty_on_Sales_Order",),
    fields=(
        Field("Key", read_only=True),
        Field("No"),
        Field("Description"),
        Field("Blocked", XS_BOOLEAN),
        Field("Type", enum=ITEM_TYPE, enum_name="Type"),
        Field("Base_Unit_of_Measure"),
        Field("Last_Date_Modified", XS_DATE, read_only=True),
        Field("GTIN"),
        Field("Item_Category_Code"),
        Field("Inventory", XS_DECIMAL, read_only=True),
        Field("Qty_on_Sales_Order", XS_DECIMAL, read_only=True),
        Field("Costing_Method", enum=COSTING_METHOD),
        Field("Unit_Cost", XS_DECIMAL),
        Field("Unit_Price", XS_DECIMAL),
        Field("Vendor_No"),
        Field("Vendor_Item_No"),
        Field("Gen_Prod_Posting_Group"),
        Field("VAT_Prod_Posting_Group"),
        Field("Inventory_Posting_Group"),
        Field("Net_Weight", XS_DECIMAL),
        Field("Reorder_Point", XS_DECIMAL),
        Field("Search_Description"),
        Field("Last_DateTime_Modified", XS_DATETIME, read_only=True),
    ),
)

_SELL_TO = (
    Field("Sell_to_Customer_No", read_only=True),
    Field("Sell_to_Customer_Name", read_only=True),
    Field("Sell_to_Address", read_only=True),
    Field("Sell_to_City", read_only=True),
    Field("Sell_to_Post_Code", read_only=True),
    Field("Sell_to_Country_Region_Code", read_only=True),
    Field("Sell_to_Contact", read_only=True),
)
_SHIP_TO = (
    Field("Ship_to_Name", read_only=True),
    Field("Ship_to_Address", read_only=True),
    Field("Ship_to_City", read_only=True),
    Field("Ship_to_Post_Code", read_only=True),
    Field("Ship_to_Country_Region_Code", read_only=True),
)


def _ro(name: str, xs_type: str = XS_STRING, enum: tuple[str, ...] = ()) -> Field:
    return Field(name, xs_type, enum=enum, enum_name="Type" if enum else "", read_only=True)


POSTED_SALES_SHIPMENT = PageSpec(
    name="Posted_Sales_Shipment",
    table_id=110,
    number_series=NumberSeries("", 102001, 6),
    modified_at_field=None,
    editable=False,
    lines=SubPage(
        element="SalesShipmLines",
        record="Posted_Sales_Shipment_Line",
        table_id=111,
        fields=(
            _ro("Key"),
            _ro("Line_No", XS_INT),
            _ro("Type", enum=LINE_TYPE),
            _ro("No"),
            _ro("Description"),
            _ro("Location_Code"),
            _ro("Quantity", XS_DECIMAL),
            _ro("Unit_of_Measure_Code"),
            _ro("Order_Line_No", XS_INT),
            _ro("Shipment_Date", XS_DATE),
        ),
    ),
    lines_after="Salesperson_Code",
    fields=(
        _ro("Key"),
        _ro("No"),
        *_SELL_TO,
        _ro("Posting_Date", XS_DATE),
        _ro("Document_Date", XS_DATE),
        _ro("Requested_Delivery_Date", XS_DATE),
        _ro("Order_No"),
        _ro("External_Document_No"),
        _ro("Salesperson_Code"),
        *_SHIP_TO,
        _ro("Location_Code"),
        _ro("Shipping_Agent_Code"),
        _ro("Shipping_Agent_Service_Code"),
        _ro("Package_Tracking_No"),
        _ro("Shipment_Date", XS_DATE),
        _ro("Bill_to_Customer_No"),
    ),
)

POSTED_SALES_INVOICE = PageSpec(
    name="Posted_Sales_Invoice",
    table_id=112,
    number_series=NumberSeries("", 103001, 6),
    modified_at_field=None,
    editable=False,
    lines=SubPage(
        element="SalesInvLines",
        record="Posted_Sales_Invoice_Line",
        table_id=113,
        fields=(
            _ro("Key"),
            _ro("Line_No", XS_INT),
            _ro("Type", enum=LINE_TYPE),
            _ro("No"),
            _ro("Description"),
            _ro("Quantity", XS_DECIMAL),
            _ro("Unit_of_Measure_Code"),
            _ro("Unit_Price", XS_DECIMAL),
            _ro("Line_Discount_Percent", XS_DECIMAL),
            _ro("Line_Discount_Amount", XS_DECIMAL),
            _ro("Line_Amount", XS_DECIMAL),
            _ro("Order_Line_No", XS_INT),
        ),
    ),
    lines_after="Salesperson_Code",
    fields=(
        _ro("Key"),
        _ro("No"),
        *_SELL_TO,
        _ro("Posting_Date", XS_DATE),
        _ro("Document_Date", XS_DATE),
        _ro("Due_Date", XS_DATE),
        _ro("Order_No"),
        _ro("External_Document_No"),
        _ro("Salesperson_Code"),
        _ro("Currency_Code"),
        _ro("Payment_Terms_Code"),
        _ro("Shipment_Date", XS_DATE),
        *_SHIP_TO,
        _ro("Bill_to_Customer_No"),
        _ro("Bill_to_Name"),
        _ro("Amount", XS_DECIMAL),
        _ro("Amount_Including_VAT", XS_DECIMAL),
        _ro("Remaining_Amount", XS_DECIMAL),
        _ro("Closed", XS_BOOLEAN),
        _ro("Cancelled", XS_BOOLEAN),
    ),
)

PAGES: dict[str, PageSpec] = {
    p.name: p for p in (CUSTOMER, ITEM, SALES_ORDER, POSTED_SALES_SHIPMENT, POSTED_SALES_INVOICE)
}
