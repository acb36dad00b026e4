"""The mapping language: paths, lists, conditions, value maps, errors — as a user writes them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xmltodict

from canonical.errors import InvalidRecord
from canonical.models import Product, SalesOrder
from mappings.engine import compile_file, register_function
from tests.mappings.support import HEADER, mapping, write

PRODUCT = """
fields:
  sku: {from: item.code, do: [upper], required: true}
  name: {concat: [item.brand, item.title]}
  gtin: {from: item.ean, do: [{regex: '(\\d{13})'}]}
  unit_of_measure: {from: item.uom, do: [{lookup: uom}], default: EA}
  lifecycle_status:
    cases:
      - {when: {path: item.flags.gone, equals: "1"}, value: discontinued}
      - {when: {path: item.stage, in: [new, draft]}, value: draft}
      - {value: active}
  list_price: {money: price.net, currency: price.currency}
  attributes:
    fields:
      colour: {first: [item.colour, item.color]}
"""
UOM = """
title: shop unit
version: 2
values: {PCE: EA, BOX: BX, KG: KGM}
"""


def product_mapping(tmp_path: Path, body: str = PRODUCT) -> Any:
    write(tmp_path, "uom.values.yaml", UOM)
    return mapping(tmp_path, body)


def test_a_nested_record_maps_to_the_canonical_model(tmp_path: Path) -> None:
    record = {
        "id": 7,
        "item": {"code": " ab-1 ", "brand": "Tandem", "title": "Mug", "ean": "EAN 4006381333931",
                 "uom": "BOX", "stage": "draft", "color": "red"},
        "price": {"net": "12.50", "currency": "eur"},
    }  # fmt: skip
    product = product_mapping(tmp_path).map(record).value
    assert isinstance(product, Product)
    assert (product.sku, product.name, product.gtin) == ("AB-1", "Tandem Mug", "4006381333931")
    assert (product.unit_of_measure, product.lifecycle_status) == ("BX", "draft")
    assert product.list_price is not None and product.list_price.amount == Decimal("12.50")
    assert product.attributes == {"colour": "red"}


def test_defaults_and_the_else_case_fill_what_is_missing(tmp_path: Path) -> None:
    product = product_mapping(tmp_path).map({"id": 1, "item": {"code": "x", "title": "T"}}).value
    assert (product.unit_of_measure, product.lifecycle_status, product.list_price) == (
        "EA",
        "active",
        None,
    )


def test_every_error_of_a_record_is_collected_with_its_path(tmp_path: Path) -> None:
    record = {"id": "A-9", "item": {"code": "", "ean": "none", "uom": "PALLET", "title": "T"},
              "price": {"net": "1,5", "currency": "EUR"}}  # fmt: skip
    with pytest.raises(InvalidRecord) as caught:
        product_mapping(tmp_path).map(record)
    assert str(caught.value) == (
        "shop item A-9: item.code: is required but missing or empty; "
        "item.ean: 'none' does not match /(\\d{13})/; "
        "item.uom: unknown shop unit 'PALLET'; price.net: '1,5' is not a number"
    )


def test_model_errors_name_the_source_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidRecord) as caught:
        product_mapping(tmp_path).map(
            {"id": 3, "item": {"code": "a", "title": "T", "ean": "x1234567"}}
        )
    assert [e.path for e in caught.value.errors] == ["item.ean"]  # no 13 digits: regex error
    body = "fields:\n  sku: code\n  name: title\n  gtin: ean\n"
    with pytest.raises(InvalidRecord) as caught:
        mapping(tmp_path, body).map({"id": 3, "code": "a", "title": "T", "ean": "123"})
    assert caught.value.errors[0].path == "ean"
    assert "should match pattern" in caught.value.errors[0].message


ORDER = """
let:
  currency: {first: [cur, $default_currency]}
params:
  default_currency: EUR
key: no
fields:
  order_number: no
  ordered_at: {from: date, do: [{datetime: {format: '%d.%m.%Y %H:%M', tz: Europe/Berlin}}]}
  currency: $currency
  total: {money: {from: total, do: [{decimal: {locale: de}}]}, currency: $currency, required: true}
  lines:
    each: lines.line
    required: needs lines
    fields:
      line_number: $position
      sku: {from: sku, required: true}
      quantity: {from: qty, do: [{decimal: {locale: de}}, {uom: {from: LBR, to: KGM}}, {round: 3}]}
      unit_of_measure: {value: KGM}
      unit_price: {money: {from: price, do: [{decimal: {locale: de}}]}, currency: $currency}
      line_total:
        money:
          from:
            - {from: price, do: [{decimal: {locale: de}}]}
            - {from: qty, do: [{decimal: {locale: de}}]}
          do: [multiply, {round: 2}]
        currency: $currency
"""


def order_xml(lines: str) -> Any:
    xml = "<order><no>SO-1</no><date>01.03.2025 00:30</date><total>1.234,50</total>"
    return xmltodict.parse(xml + f"<lines>{lines}</lines></order>")["order"]


def test_xml_records_lists_and_one_element_lists_alike(tmp_path: Path) -> None:
    m = mapping(tmp_path, ORDER, canonical="SalesOrder", record_id="no")
    one = order_xml("<line><sku>A</sku><qty>2</qty><price>1,25</price></line>")
    order = m.map(one).value
    assert isinstance(order, SalesOrder)
    assert order.ordered_at.isoformat() == "2025-02-28T23:30:00+00:00"  # Berlin -> UTC
    assert order.total.amount == Decimal("1234.50") and order.currency == "EUR"
    assert order.lines[0].quantity == Decimal("0.907")  # 2 lb in kg
    assert order.lines[0].line_total.amount == Decimal("2.50")
    two = order_xml("<line><sku>A</sku><qty>1</qty><price>1</price></line>" * 2)
    assert [line.line_number for line in m.map(two).value.lines] == [1, 2]
    assert m.map(one, params={"default_currency": "CHF"}).value.currency == "CHF"


def test_errors_inside_lists_name_the_element(tmp_path: Path) -> None:
    m = mapping(tmp_path, ORDER, canonical="SalesOrder", record_id="no")
    bad = order_xml(
        "<line><sku>A</sku><qty>1</qty><price>1</price></line><line><qty>x</qty></line>"
    )
    with pytest.raises(InvalidRecord) as caught:
        m.map(bad)
    assert [str(e) for e in caught.value.errors] == [
        "lines.line[1].sku: is required but missing or empty",
        "lines.line[1].qty: 'x' is not a number",
    ]
    with pytest.raises(InvalidRecord, match=r"lines\.line: needs lines"):
        m.map(order_xml(""))


def test_x12_segments_are_lists_addressed_by_position(tmp_path: Path) -> None:
    body = """
    fields:
      sku: {from: "segments[1][7]", required: true}
      name: {from: "segments[2][2]"}
      gtin: {from: "segments[1][5]"}
    """
    lin = ["LIN", "1", "VN", "X-1", "UP", "012345678905", "BP", "SKU-9"]
    segments = [["ST", "832", "0001"], lin, ["PID", "F", "Hammer"]]
    product = mapping(tmp_path, body, record_id="segments[0][2]").map({"segments": segments}).value
    assert (product.sku, product.name, product.gtin) == ("SKU-9", "Hammer", "012345678905")


def test_the_escape_hatch_calls_a_registered_function(tmp_path: Path) -> None:
    @register_function("test_reverse")
    def reverse(value: Any) -> str:
        if value == "boom":
            raise ValueError("cannot reverse boom")
        return str(value)[::-1]

    m = mapping(tmp_path, "fields:\n  sku: {from: code, do: [{call: test_reverse}]}\n  name: n\n")
    assert m.map({"code": "abc", "n": "x"}).value.sku == "cba"
    with pytest.raises(InvalidRecord, match="code: cannot reverse boom"):
        m.map({"id": 1, "code": "boom", "n": "x"})


def test_unmapped_value_is_an_error_unless_the_mapping_gives_a_default(tmp_path: Path) -> None:
    body = PRODUCT.replace("{lookup: uom}", "{lookup: {map: uom, default: EA}}")
    product = product_mapping(tmp_path, body).map({"item": {"code": "a", "title": "t", "uom": "?"}})
    assert product.value.unit_of_measure == "EA"


def test_mapping_file_problems_are_all_listed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.to_canonical.yaml",
        """\
        system: shop
        entity: item
        direction: to_canonical
        canonical: Product
        colour: blue
        fields:
          sku: {from: code, do: [shout]}
          name: {from: title, value: x}
          gtin: {from: ean, do: [{round: many}]}
          description: {concat: [a, b], sep: " ", at: x}
        """,
    )
    compiled, problems = compile_file(path)
    assert compiled is None
    assert problems == [
        "unknown key 'colour' (known: canonical, description, direction, entity, fields, key, "
        "let, params, python, record_id, system, version)",
        "fields.sku.do[0]: unknown transform 'shout'",
        "fields.name: needs exactly one of from, value, first, concat, cases, each, list, "
        "concat_lists, fields, find, money (has ['from', 'value'])",
        "fields.gtin.do[0]: round: expected options ['mode', 'places']",
        "fields.description: at: only goes with fields:",
    ]


def test_yaml_keeps_no_as_text_and_refuses_duplicate_keys(tmp_path: Path) -> None:
    body = "fields:\n  sku: No\n  name: {value: NO}\n"
    product = mapping(tmp_path, body).map({"No": "N-1"}).value
    assert (product.sku, product.name) == ("N-1", "NO")
    path = write(tmp_path, "y.to_canonical.yaml", "system: a\nsystem: b\n")
    assert "duplicate key 'system'" in compile_file(path)[1][0]


def test_the_mapping_is_compiled_once_and_needs_its_files_no_more(tmp_path: Path) -> None:
    m = product_mapping(tmp_path)
    for file in tmp_path.iterdir():
        file.unlink()
    assert m.source.startswith("def run(rec, params, errs):")
    assert m.map({"item": {"code": "a", "title": "t", "uom": "KG"}}).value.unit_of_measure == "KGM"


LINES = """
params: {freight: FREIGHT}
fields:
  order_number: no
  ordered_at: {from: date, do: [datetime]}
  currency: {value: EUR}
  total: {money: total, currency: {value: EUR}}
  lines:
    each: items
    where: {not: {path: sku, equals: $freight}}
    fields:
      line_number: $position
      sku: sku
      quantity: {from: qty, do: [quantity]}
      unit_price: {money: price, currency: {value: EUR}}
      line_total: {money: price, currency: {value: EUR}}
  shipping_total:
    money: {find: items, where: {path: sku, equals: $freight}, item: {from: price, do: [decimal]}}
    currency: {value: EUR}
  coupon_codes:
    concat_lists:
      - {each: coupons, item: code}
      - {when: {path: total, gt: 100}, value: BIG-ORDER}
"""


def big_order(total: str) -> dict[str, Any]:
    items = [{"sku": "A", "qty": 1, "price": "60"}, {"sku": "FREIGHT", "qty": 1, "price": "5"},
             {"sku": "B", "qty": "2", "price": "45"}]  # fmt: skip
    return {"no": "7", "date": "2025-03-01T10:00:00", "total": total, "items": items,
            "coupons": [{"code": "SPRING"}]}  # fmt: skip


def test_each_where_keeps_matching_elements_and_find_item_reads_below_one(tmp_path: Path) -> None:
    m = mapping(tmp_path, LINES, canonical="SalesOrder", entity="order", record_id="no")
    order = m.map(big_order("110.00")).value
    assert [(line.line_number, line.sku) for line in order.lines] == [(1, "A"), (2, "B")]
    assert order.shipping_total.amount == Decimal(5)
    assert order.coupon_codes == ("SPRING", "BIG-ORDER")  # concat_lists: a list, then one more
    small = m.map(big_order("99.99")).value
    assert small.coupon_codes == ("SPRING",)  # gt: 100 does not hold
    other = m.map(big_order("110"), params={"freight": "NONE"}).value  # equals: $freight
    assert [line.sku for line in other.lines] == ["A", "FREIGHT", "B"]
    assert other.shipping_total is None


def test_an_error_below_a_found_element_names_that_element(tmp_path: Path) -> None:
    m = mapping(tmp_path, LINES, canonical="SalesOrder", entity="order", record_id="no")
    order = big_order("1")
    order["items"][1]["price"] = "five"
    with pytest.raises(InvalidRecord) as caught:
        m.map(order)
    assert [str(e) for e in caught.value.errors] == [
        "items[1].price: 'five' is not a number",
    ]


def test_comparisons_take_numbers_and_refuse_anything_else(tmp_path: Path) -> None:
    body = "fields:\n  sku: {value: x, when: {path: n, gt: many}}\n  name: {value: y}\n"
    head = HEADER.format(
        entity="item", direction="to_canonical", canonical="Product", record_id="id"
    )
    path = write(tmp_path, "item.to_canonical.yaml", head + body)
    assert "fields.sku.when: gt: expected a number" in compile_file(path)[1]
    body = "fields:\n  sku: {value: x, when: {path: n, le: 2.5}}\n  name: {value: y}\n"
    m = mapping(tmp_path, body)
    assert [m.run({"n": n}).values.get("sku") for n in ("2.5", 3, "abc", None, True)] == [
        "x", None, None, None, None,
    ]  # fmt: skip


def test_parsed_values_are_remembered_per_input_but_never_confused(tmp_path: Path) -> None:
    m = mapping(tmp_path, "fields:\n  sku: {from: code, do: [integer, text]}\n  name: {value: n}\n")
    for _ in range(2):  # the second time from the memo
        assert m.map({"code": 1}).value.sku == "1"
        assert m.map({"code": " 01 "}).value.sku == "1"
        with pytest.raises(InvalidRecord, match="code: True is not a whole number"):
            m.map({"code": True})  # equal to 1 as a dict key, but not a number here
        with pytest.raises(InvalidRecord, match=r"code: '7\.5' is not a whole number"):
            m.map({"code": "7.5"})  # an error is raised each time, not remembered


def test_a_value_computed_from_several_fields_is_remembered_but_errors_never(
    tmp_path: Path,
) -> None:
    body = (
        "fields:\n  sku: {value: x}\n  name: {value: n}\n"
        "  list_price:\n    money:\n      from:\n"
        "        - {from: total, required: true, do: [decimal]}\n"
        "        - {from: qty, required: true, do: [quantity]}\n"
        "      do: [divide, {round: 2}]\n    currency: {value: EUR}\n"
    )
    m = mapping(tmp_path, body)
    for _ in range(2):  # the second time from the memo
        assert m.map({"total": "10.00", "qty": "4"}).value.list_price.amount == Decimal("2.50")
        assert m.map({"total": "10.00", "qty": 4}).value.list_price.amount == Decimal("2.50")
        assert m.map({"total": "9.00", "qty": "4"}).value.list_price.amount == Decimal("2.25")
        with pytest.raises(InvalidRecord, match=r"qty: 'four' is not a number"):
            m.map({"total": "10.00", "qty": "four"})
        with pytest.raises(InvalidRecord, match="qty: is required"):
            m.map({"total": "10.00"})
        with pytest.raises(InvalidRecord, match="total: True is not a"):
            m.map({"total": True, "qty": "1"})  # equal to 1, yet not an amount
