"""WooCommerce customer resources (``/wc/v3/customers/<id>``) -> canonical Customer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from canonical.errors import InvalidRecord
from canonical.models import AddressKind, CustomerKind
from mappings import nav, woocommerce
from sandbox.webshop.peer import WebshopHandle
from tandem.cli import app
from tests.mappings.support import golden, write

runner = CliRunner()

FIXTURES = Path(__file__).parents[1] / "fixtures" / "woocommerce"
CUSTOMER_MAPPING = Path(woocommerce.__file__).parent / "customer.to_canonical.yaml"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_the_sample_customer_matches_its_golden_file() -> None:
    key, customer = woocommerce.map_customer(load("customer.json"))
    produced = {
        "customer_key": key,
        "customer": customer.model_dump(mode="json", exclude_none=True),
        "erp_customer": nav.customer_to_nav(customer),
    }
    produced = json.loads(json.dumps(produced, default=str))
    assert produced == golden("woocommerce_customer.json", produced)


def test_a_customer_and_its_orders_make_the_same_customer() -> None:
    order = load("order_registered.json")
    resource = load("customer.json") | {"id": order["customer_id"]}
    resource["billing"] = dict(order["billing"])
    resource["shipping"] = dict(order["shipping"]) | {"phone": ""}
    key, customer = woocommerce.map_customer(resource)
    from_order = woocommerce.map_order(order)
    assert key == from_order.customer_key == str(order["customer_id"])
    same = {"kind", "name", "first_name", "last_name", "email", "phone", "addresses"}
    assert customer.model_dump(include=same) == from_order.customer.model_dump(include=same)


def test_an_account_without_a_billing_address_uses_its_own_names() -> None:
    resource = load("customer.json")
    resource["billing"] = {key: "" for key in resource["billing"]}
    resource["shipping"] = {key: "" for key in resource["shipping"]}
    key, customer = woocommerce.map_customer(resource)
    assert (key, customer.kind, customer.name) == ("126", CustomerKind.PERSON, "Anna Becker")
    assert customer.email == "anna.becker27@example.net" and customer.addresses == ()


def test_a_bad_customer_names_the_customer_and_every_field() -> None:
    resource = load("customer.json")
    resource["billing"]["country"] = "Atlantis"
    resource["shipping"]["city"] = " "
    resource["date_modified_gmt"] = "last tuesday"
    with pytest.raises(InvalidRecord) as caught:
        woocommerce.map_customer(resource, source="shop-eu")
    assert str(caught.value).startswith("shop-eu customer 126: ")
    assert {e.path: e.message for e in caught.value.errors} == {
        "billing.country": "'Atlantis' is not an ISO 3166-1 country",
        "shipping.city": "is required but missing or empty",
        "date_modified_gmt": "'last tuesday' is not an ISO 8601 timestamp",
    }


def test_a_customer_without_an_id_is_refused() -> None:
    resource = load("customer.json")
    del resource["id"]
    with pytest.raises(InvalidRecord, match="id: is required but missing or empty"):
        woocommerce.map_customer(resource)


def test_every_customer_the_sandbox_shop_serves_maps(seeded_webshop: WebshopHandle) -> None:
    auth = (seeded_webshop.consumer_key, seeded_webshop.consumer_secret)
    response = httpx.get(f"{seeded_webshop.api_url}/customers", params={"per_page": 100}, auth=auth)
    resources = response.json()
    assert response.status_code == 200 and len(resources) > 10
    for resource in resources:
        key, customer = woocommerce.map_customer(resource)
        assert key == str(resource["id"])
        assert customer.addresses[0].kind is AddressKind.BILLING


def test_the_guide_example_reads_the_vat_number_from_meta_data(tmp_path: Path) -> None:
    """docs/mappings.md, step 1: a meta_data entry selected by its key."""
    for file in CUSTOMER_MAPPING.parent.glob("*.yaml"):
        (tmp_path / file.name).write_text(file.read_text())
    changed = CUSTOMER_MAPPING.read_text() + (
        "  vat_number:\n"
        "    find: meta_data\n"
        "    where: {path: key, equals: billing_vat_id}\n"
        "    item: {from: value, do: [trim, upper]}\n"
    )
    mapping = write(tmp_path, CUSTOMER_MAPPING.name, changed)
    assert runner.invoke(app, ["mapping", "check", str(tmp_path)]).exit_code == 0
    result = runner.invoke(
        app, ["mapping", "preview", str(mapping), str(FIXTURES / "customer.json")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["record"]["vat_number"] == "DE123456789"
