"""The Tryton connector against a real trytond 8.2: the sale lifecycle (create, quote, confirm,
shipment, invoice) read back through the streams and the mappings, changes through a record's
parts, equal timestamps, idempotent writes, Tryton's refusals and sessions."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from canonical.errors import PermanentError, TransientError
from canonical.models import (
    Address,
    Customer,
    CustomerKind,
    Money,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    SalesOrder,
)
from connectors.base import Ack, Rejected
from connectors.connection import parse_connection
from connectors.erp_tryton import TrytonConnector, TrytonFault, TrytonSettings, TrytonUserError
from connectors.erp_tryton.rpc import answer_error
from mappings import tryton as mapping
from sandbox.tryton.rpc import TrytonClient
from sandbox.tryton.server import TrytonHandle
from tests.connectors.contract import chain, drain
from tests.connectors.test_erp_tryton_contract import FAST_RETRY, settings_for, start_server


@pytest.fixture(scope="module")
def tryton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrytonHandle]:
    handle = start_server(tmp_path_factory)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def rpc(tryton: TrytonHandle) -> Iterator[TrytonClient]:
    client = tryton.client()
    yield client
    client.close()


@pytest.fixture
def connector(tryton: TrytonHandle) -> Iterator[TrytonConnector]:
    with TrytonConnector(settings_for(tryton)) as made:
        assert isinstance(made, TrytonConnector)
        yield made


def _records(
    connector: TrytonConnector, stream: str, cursor: str | None
) -> list[dict[str, object]]:
    return [dict(r.data) for page in connector.read(stream, cursor) for r in page.records]


def _customer(email: str) -> Customer:
    return Customer(
        kind=CustomerKind.ORGANISATION,
        name="Espresso Bar Rossi S.r.l.",
        email=email,
        phone="+39 02 5550142",
        addresses=(
            Address(street="Via Torino 12", postal_code="20123", city="Milano", country="IT"),
        ),
    )


def _order(number: str) -> SalesOrder:
    eur = "EUR"
    return SalesOrder(
        order_number=number,
        ordered_at=datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
        currency=eur,
        lines=(
            OrderLine(line_number=1, sku="TDM-GSK-085", quantity=Decimal(2),
                      unit_price=Money(amount=Decimal("6.90"), currency=eur),
                      line_total=Money(amount=Decimal("13.80"), currency=eur)),
            OrderLine(line_number=2, sku="TDM-SHW-58", quantity=Decimal(1),
                      unit_price=Money(amount=Decimal("11.50"), currency=eur),
                      discount=Money(amount=Decimal("1.50"), currency=eur),
                      line_total=Money(amount=Decimal("10.00"), currency=eur)),
        ),
        shipping_address=Address(kind="shipping", name="Lager Rossi", street="Via Po 3",
                                 postal_code="10123", city="Torino", country="IT"),
        total=Money(amount=Decimal("23.80"), currency=eur),
    )  # fmt: skip


def _party_code(connector: TrytonConnector, email: str) -> str:
    (ack,) = connector.write("parties", [mapping.party_to_tryton(_customer(email))])
    assert isinstance(ack, Ack), ack
    return str(ack.detail["code"])


def test_a_sale_goes_from_web_order_to_shipment_and_invoice(
    connector: TrytonConnector, rpc: TrytonClient
) -> None:
    _, sales_cursor = drain(connector, "sales", None)
    _, shipments_cursor = drain(connector, "shipments", None)
    _, invoices_cursor = drain(connector, "invoices", None)
    number = f"WEB-{uuid.uuid4().hex[:6]}"
    party = _party_code(connector, f"rossi.{number.lower()}@example.org")

    (ack,) = connector.write("sales", [mapping.sale_to_tryton(_order(number), party=party)])
    assert isinstance(ack, Ack), ack
    assert ack.created and ack.detail["state"] == "processing"  # quoted, confirmed, processed

    (sale,) = _records(connector, "sales", sales_cursor)
    order = mapping.sales_order_from_tryton(sale)
    assert (order.order_number, order.status, order.customer_ref) == (
        number, OrderStatus.ACCEPTED, party
    )  # fmt: skip
    assert [(line.sku, line.quantity, line.line_total.amount) for line in order.lines] == [
        ("TDM-GSK-085", Decimal(2), Decimal("13.80")),
        ("TDM-SHW-58", Decimal(1), Decimal("10.00")),  # the discount is in the unit price
    ]
    assert order.shipping_address is not None and order.shipping_address.city == "Torino"

    (shipment,) = _records(connector, "shipments", shipments_cursor)
    assert shipment["state"] == "waiting"
    waiting = mapping.shipment_from_tryton(shipment)
    assert waiting.order_number == number and waiting.shipped_at is None
    _, shipments_cursor = drain(connector, "shipments", shipments_cursor)

    for step in ("assign_try", "pick", "pack", "do"):
        rpc.model("stock.shipment.out", step, [shipment["id"]])
    (done,) = _records(connector, "shipments", shipments_cursor)
    assert done["state"] == "done"
    shipped = mapping.shipment_from_tryton(done)
    assert shipped.shipped_at is not None
    assert sorted((line.sku, line.quantity_shipped) for line in shipped.lines) == [
        ("TDM-GSK-085", Decimal(2)), ("TDM-SHW-58", Decimal(1))
    ]  # fmt: skip

    rpc.model("account.invoice", "post", sale["invoices"])
    (invoice_record,) = _records(connector, "invoices", invoices_cursor)
    invoice = mapping.invoice_from_tryton(invoice_record)
    assert invoice.order_number == number
    assert invoice.payment_status is PaymentStatus.OPEN
    assert invoice.net_amount.amount == Decimal("23.80")
    assert invoice.total_amount.amount == Decimal("28.32")  # 19% VAT
    assert invoice.amount_paid is not None and invoice.amount_paid.amount == 0

    (again,) = _records(connector, "sales", sales_cursor)
    assert mapping.sales_order_from_tryton(again).status is OrderStatus.INVOICED


def test_writing_a_sale_again_moves_it_on_but_never_back(connector: TrytonConnector) -> None:
    party = _party_code(connector, f"twice.{uuid.uuid4().hex[:6]}@example.org")
    record = mapping.sale_to_tryton(_order(f"WEB-{uuid.uuid4().hex[:6]}"), party=party)
    states = []
    for state in ("draft", "draft", "quotation", "draft"):
        (ack,) = connector.write("sales", [record | {"state": state}])
        assert isinstance(ack, Ack), ack
        states.append((ack.created, ack.detail["state"], ack.external_id))
    assert [s[:2] for s in states] == [
        (True, "draft"), (False, "draft"), (False, "quotation"), (False, "quotation")
    ]  # fmt: skip
    assert len({s[2] for s in states}) == 1


def test_a_refused_sale_names_the_field_and_keeps_tryton_s_answer(
    connector: TrytonConnector,
) -> None:
    party = _party_code(connector, f"refused.{uuid.uuid4().hex[:6]}@example.org")
    record = mapping.sale_to_tryton(_order(f"WEB-{uuid.uuid4().hex[:6]}"), party=party)
    bad_line = {"product": "TDM-GSK-085", "quantity": Decimal("1.5")}
    unknown = {"product": "NO-SUCH-SKU", "quantity": Decimal(1)}
    refused, missing = connector.write(
        "sales", [record | {"lines": [bad_line]}, record | {"reference": "X-1", "lines": [unknown]}]
    )
    assert isinstance(refused, Rejected) and not refused.transient
    assert isinstance(refused.error, TrytonUserError)
    message = str(refused.error)
    assert message.startswith(f"Tryton sales {record['reference']}: model.sale.sale.create: ")
    assert 'field "Quantity"' in message and "Sale Line" in message
    assert any(isinstance(cause, TrytonFault) for cause in chain(refused.error))
    assert isinstance(missing, Rejected) and isinstance(missing.error, PermanentError)
    assert "lines[0].product: 'NO-SUCH-SKU'" in str(missing.error)


def test_a_changed_address_brings_its_party_back(
    connector: TrytonConnector, rpc: TrytonClient
) -> None:
    email = f"moved.{uuid.uuid4().hex[:6]}@example.org"
    (ack,) = connector.write("parties", [mapping.party_to_tryton(_customer(email))])
    assert isinstance(ack, Ack)
    _, cursor = drain(connector, "parties", None)
    (party,) = rpc.model("party.party", "read", [int(ack.external_id)], ["addresses"])
    rpc.model("party.address", "write", party["addresses"], {"city": "Bergamo"})
    (changed,) = _records(connector, "parties", cursor)
    customer = mapping.customer_from_tryton(changed)
    assert customer.email == email
    assert [a.city for a in customer.addresses] == ["Bergamo"]


def test_a_changed_template_brings_its_product_back(
    connector: TrytonConnector, rpc: TrytonClient
) -> None:
    _, cursor = drain(connector, "products", None)
    (product,) = rpc.search_read("product.product", [("code", "=", "TDM-BSK-1")], ["template"])
    rpc.model("product.template", "write", [product["template"]], {"list_price": Decimal("14.50")})
    (changed,) = _records(connector, "products", cursor)
    assert mapping.product_from_tryton(changed).list_price == Money(
        amount=Decimal("14.50"), currency="EUR"
    )


def test_records_of_one_transaction_share_a_stamp_and_page_without_gaps(
    tryton: TrytonHandle, rpc: TrytonClient
) -> None:
    with TrytonConnector(settings_for(tryton, page_size=3)) as small_pages:
        _, cursor = drain(small_pages, "parties", None)
        ids = rpc.model("party.party", "create", [{"name": f"Batch {i}"} for i in range(7)])
        pages = list(small_pages.read("parties", cursor))
        assert drain(small_pages, "parties", pages[-1].cursor)[0] == []
    stamps = {r.version for p in pages for r in p.records}
    keys = [r.key for p in pages for r in p.records]
    assert len(stamps) == 1  # one transaction, one last_modified_at
    assert keys == [str(i) for i in ids]
    assert all(len(p.records) <= 3 for p in pages)


def test_a_party_found_by_e_mail_gets_its_new_phone_and_address(
    connector: TrytonConnector, rpc: TrytonClient
) -> None:
    email = f"update.{uuid.uuid4().hex[:6]}@example.org"
    first = mapping.party_to_tryton(_customer(email))
    (created,) = connector.write("parties", [first])
    address = {"street": "Corso Como 1", "city": "Milano", "country": "IT"}
    moved = first | {"phone": "+39 02 5550199", "addresses": [address]}
    (updated,) = connector.write("parties", [moved])
    (same,) = connector.write("parties", [moved])
    assert isinstance(created, Ack) and isinstance(updated, Ack) and isinstance(same, Ack)
    assert created.external_id == updated.external_id == same.external_id
    assert same.version == updated.version != created.version  # the replay wrote nothing
    (party,) = rpc.model("party.party", "read", [int(created.external_id)],
                         ["phone", "addresses.city", "addresses.street"])  # fmt: skip
    assert party["phone"].replace(" ", "") == "+39025550199"
    assert sorted(a["street"] for a in party["addresses."]) == ["Corso Como 1", "Via Torino 12"]


def test_an_expired_session_is_opened_again(
    connector: TrytonConnector, caplog: pytest.LogCaptureFixture
) -> None:
    assert connector.health().ok
    session, _ = connector.rpc._current()
    connector.rpc._post(session, "common.db.logout", [])
    caplog.set_level(logging.INFO, logger="connectors.erp_tryton.rpc")
    assert drain(connector, "invoices", None)[0]  # logged in again, read on
    assert any("logging in again" in r.getMessage() for r in caplog.records)


def test_a_wrong_password_is_a_permanent_failure(tryton: TrytonHandle) -> None:
    with TrytonConnector(settings_for(tryton, password=SecretStr("wrong"))) as wrong:
        health = wrong.health()
        assert not health.ok and not health.transient
        assert "wrong" not in health.detail
        with pytest.raises(PermanentError, match=r"login as 'admin' .* refused"):
            drain(wrong, "parties", None)


def test_settings_come_from_a_connection_uri_or_json() -> None:
    uri = parse_connection(
        "erp_tryton", "http://admin:s%40cret@erp.example:8000/tandem?page_size=50"
    )
    settings = TrytonSettings.from_connection(uri)
    assert (settings.url, settings.database, settings.username, settings.page_size) == (
        "http://erp.example:8000", "tandem", "admin", 50
    )  # fmt: skip
    assert settings.password.get_secret_value() == "s@cret"
    assert "s@cret" not in repr(settings)
    as_json = parse_connection(
        "erp_tryton",
        '{"conn_type": "http", "host": "erp", "login": "sync", "password": "p", '
        '"extra": {"database": "prod", "scheme": "https"}}',
    )
    assert TrytonSettings.from_connection(as_json).url == "https://erp"
    assert TrytonSettings.from_connection(as_json).database == "prod"
    with pytest.raises(PermanentError, match="password") as caught:
        TrytonSettings.from_connection(parse_connection("x", "http://u@erp/db"))
    assert "u@erp" not in str(caught.value)


def test_a_changed_line_brings_its_draft_sale_back(
    connector: TrytonConnector, rpc: TrytonClient
) -> None:
    party = _party_code(connector, f"lines.{uuid.uuid4().hex[:6]}@example.org")
    record = mapping.sale_to_tryton(_order(f"WEB-{uuid.uuid4().hex[:6]}"), party=party)
    (ack,) = connector.write("sales", [record | {"state": "draft"}])
    assert isinstance(ack, Ack)
    _, cursor = drain(connector, "sales", None)
    (sale,) = rpc.model("sale.sale", "read", [int(ack.external_id)], ["lines"])
    rpc.model("sale.line", "write", sale["lines"][:1], {"quantity": 5.0})
    (changed,) = _records(connector, "sales", cursor)
    assert mapping.sales_order_from_tryton(changed).lines[0].quantity == 5


class _Answer(BaseHTTPRequestHandler):
    status = 503
    body = b"busy"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.status)
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "body"), [(503, b"busy"), (200, b'{"id": 1, "res')])
def test_a_busy_server_or_a_cut_answer_is_transient(status: int, body: bytes) -> None:
    handler = type("Handler", (_Answer,), {"status": status, "body": body})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings = TrytonSettings(
            url=f"http://127.0.0.1:{server.server_address[1]}", database="tandem",
            username="admin", password=SecretStr("x"), retry=FAST_RETRY,
        )  # fmt: skip
        with TrytonConnector(settings) as busy:
            with pytest.raises(TransientError) as caught:
                drain(busy, "sales", None)
            if status == 200:  # the JSON decoder's error is kept as the cause
                assert isinstance(caught.value.__cause__, ValueError)
            else:
                assert "HTTP 503" in str(caught.value)
            health = busy.health()
            assert not health.ok and health.transient
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("error", "kind", "text"),
    [
        (["UserError", ['A value is required for field "Party" in "Sale".', "",
                        [[], {"party": {}}]]], TrytonUserError, 'field "Party"'),
        (["ConcurrencyException", "Records were modified in the meanwhile"], TransientError,
         "modified in the meanwhile"),
        (["UserWarning", ["stock_move", "The product is out of stock.", ""]], PermanentError,
         "confirm a warning: The product is out of stock."),
        (["database is locked", "Traceback ..."], TransientError, "database is locked"),
        (["KeyError: 'name'", "Traceback ..."], PermanentError, "server error: KeyError"),
    ],
)  # fmt: skip
def test_tryton_s_error_answers_become_our_errors(
    error: list[object], kind: type[Exception], text: str
) -> None:
    mapped = answer_error("model.sale.sale.create", error)
    assert type(mapped) is kind
    assert text in str(mapped) and str(mapped).startswith("model.sale.sale.create: ")
    assert isinstance(mapped.__cause__, TrytonFault)
    if isinstance(mapped, TrytonUserError):
        assert mapped.fields == ("party",)
