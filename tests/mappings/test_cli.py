"""``tandem mapping check`` and ``tandem mapping preview`` as an integration team uses them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tandem.cli import app
from tests.mappings.support import write

FIXTURES = Path(__file__).parents[1] / "fixtures" / "woocommerce"
ROOT = Path(__file__).parents[2]
ORDER_MAPPING = ROOT / "mappings" / "woocommerce" / "order.to_canonical.yaml"
runner = CliRunner()


def test_check_passes_every_shipped_mapping_file() -> None:
    result = runner.invoke(app, ["mapping", "check"])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.output
    shipped = list((ROOT / "mappings").rglob("*.yaml"))
    assert f"{len(shipped)} file(s) checked" in result.output


def test_check_lists_every_problem_of_a_broken_directory(tmp_path: Path) -> None:
    write(
        tmp_path,
        "order.to_canonical.yaml",
        """\
        system: shop
        entity: order
        direction: to_canonical
        canonical: SalesOrder
        fields:
          order_number: {from: id, do: [shout]}
          colour: paint
          status: {from: state, do: [{lookup: status}]}
        """,
    )
    write(
        tmp_path,
        "status.values.yaml",
        "title: s\nversion: 1\nvalues: {new: fresh}\ntarget: OrderStatus\n",
    )
    write(tmp_path, "notes.yaml", "a: 1\n")
    result = runner.invoke(app, ["mapping", "check", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    mapping = str(tmp_path / "order.to_canonical.yaml")
    assert f"{mapping}: fields.order_number.do[0]: unknown transform 'shout'" in lines
    assert f"{mapping}: fields.colour: SalesOrder has no field 'colour'" in lines
    assert f"{mapping}: fields: required SalesOrder field 'ordered_at' is not mapped" in lines
    assert any("'new' -> 'fresh' is not in OrderStatus" in line for line in lines)
    assert any(line.startswith(str(tmp_path / "notes.yaml")) for line in lines)


def test_preview_prints_the_canonical_record() -> None:
    result = runner.invoke(
        app, ["mapping", "preview", str(ORDER_MAPPING), str(FIXTURES / "order_guest.json")]
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["key"] == "1022"
    assert shown["record"]["order_number"] == "1022"
    assert shown["record"]["lines"][0]["unit_price"] == {"amount": "10.34", "currency": "USD"}


def test_preview_lists_the_errors_with_their_fields() -> None:
    result = runner.invoke(
        app, ["mapping", "preview", str(ORDER_MAPPING), str(FIXTURES / "order_bad_fields.json")]
    )
    assert result.exit_code == 1
    assert "webshop order 1003: 2 error(s)" in result.stderr
    assert "  line_items[1].quantity: 'abc' is not a number" in result.stderr


def test_preview_of_a_canonical_to_system_mapping_takes_parameters(tmp_path: Path) -> None:
    address = {"kind": "billing", "street": "1 Rue", "city": "Paris", "country": "FR"}
    customer: dict[str, Any] = {"kind": "organisation", "name": "Brasserie du Coin"}
    customer |= {"email": "a@b.example", "addresses": [address]}
    sample = write(tmp_path, "customer.json", json.dumps(customer))
    mapping = ROOT / "mappings" / "nav" / "customer.from_canonical.yaml"
    result = runner.invoke(
        app, ["mapping", "preview", str(mapping), str(sample), "-p", "no=C00042"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["record"] == {
        "No": "C00042", "Name": "Brasserie du Coin", "E_Mail": "a@b.example",
        "Address": "1 Rue", "City": "Paris", "Country_Region_Code": "FR",
    }  # fmt: skip


def test_preview_of_a_broken_mapping_or_sample_fails_clearly(tmp_path: Path) -> None:
    broken = write(tmp_path, "x.to_canonical.yaml", "system: a\n")
    result = runner.invoke(
        app, ["mapping", "preview", str(broken), str(FIXTURES / "order_guest.json")]
    )
    assert result.exit_code == 1 and "entity: required" in result.stderr
    result = runner.invoke(
        app, ["mapping", "preview", str(ORDER_MAPPING), str(FIXTURES / "order_malformed.json")]
    )
    assert result.exit_code == 1 and "cannot be read as a sample record" in result.stderr


def test_preview_checks_the_mapping_before_it_reads_the_sample(tmp_path: Path) -> None:
    text = ORDER_MAPPING.read_text().replace("  payment_method:", "  payment_methods:")
    renamed = write(tmp_path, "order.to_canonical.yaml", text)
    (tmp_path / "order_status.values.yaml").write_text(
        (ORDER_MAPPING.parent / "order_status.values.yaml").read_text()
    )
    for part in ORDER_MAPPING.parent.glob("*.part.yaml"):
        (tmp_path / part.name).write_text(part.read_text())
    missing_sample = tmp_path / "never-read.json"
    result = runner.invoke(app, ["mapping", "preview", str(renamed), str(missing_sample)])
    assert result.exit_code == 1
    assert f"{renamed}: fields.payment_methods: SalesOrder has no field 'payment_methods'" in (
        result.stderr
    )
    assert "cannot be read" not in result.stderr  # the sample was not touched


def test_preview_of_the_erp_order_mapping_shows_the_shipping_line(tmp_path: Path) -> None:
    line = {"line_number": 1, "sku": "TDM-KBX-01", "quantity": "2",
            "unit_price": {"amount": "19.50", "currency": "EUR"},
            "line_total": {"amount": "39.00", "currency": "EUR"}}  # fmt: skip
    order = {"order_number": "1063", "ordered_at": "2025-03-11T09:00:00Z", "currency": "EUR",
             "lines": [line], "shipping_total": {"amount": "4.90", "currency": "EUR"},
             "total": {"amount": "43.90", "currency": "EUR"}}  # fmt: skip
    sample = write(tmp_path, "order.json", json.dumps(order))
    mapping = ROOT / "mappings" / "nav" / "sales_order.from_canonical.yaml"
    args = ["mapping", "preview", str(mapping), str(sample), "-p", "customer_no=C00010"]
    result = runner.invoke(app, [*args, "-p", "shipping_account=6120"])
    assert result.exit_code == 0, result.output
    lines = json.loads(result.stdout)["record"]["SalesLines"]["Sales_Order_Line"]
    assert [(x["Type"], x["No"]) for x in lines] == [
        ("Item", "TDM-KBX-01"),
        ("G_L_Account", "6120"),
    ]
    assert (lines[1]["Quantity"], lines[1]["Unit_Price"]) == (1, "4.90")
