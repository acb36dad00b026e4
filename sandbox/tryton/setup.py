"""Set up the demo company in an initialised Tryton database, through proteus.

Run inside the template build (a separate process, since trytond keeps global state):
``python -m sandbox.tryton.setup --config trytond.conf --database tandem``.

Company (EUR), chart of accounts, fiscal years (last, this and next year) with invoice
sequences, a payment term, a 19% VAT on goods, products, customers with addresses, an opening
inventory in the default warehouse, open sales in draft, quotation and processing, and
completed ones (shipment done, invoice posted). Bulk records go through plain ``create`` with the
values the client's on_change would fill in: per-field on_change round trips cost seconds.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from decimal import Decimal
from typing import Any

from sandbox.tryton import data

Record = Any  # proteus records are dynamic


def _company(model: Any, config: Any) -> dict[str, Record]:
    """The company (EUR, in Berlin) with its countries and currencies; returns the countries."""
    from trytond.modules.company.tests.tools import (  # type: ignore[import-untyped]
        create_company,
    )

    countries = _countries(model)
    eur = _currency(model, "EUR", "Euro", "€", Decimal("1"))
    _currency(model, "USD", "U.S. Dollar", "$", data.USD_PER_EUR)
    party = model.get("party.party")(name=data.COMPANY_NAME)
    street, postal_code, city, country = data.COMPANY_ADDRESS
    address = party.addresses[0]
    address.street_unstructured, address.postal_code, address.city = street, postal_code, city
    address.country = countries[country]
    party.save()
    create_company(party=party, currency=eur, config=config)
    return countries


def _countries(model: Any) -> dict[str, Record]:
    country_model = model.get("country.country")
    records = [country_model(name=name, code=code) for code, name in data.COUNTRY_NAMES.items()]
    country_model.save(records)
    return {record.code: record for record in records}


def _currency(model: Any, code: str, name: str, symbol: str, rate: Decimal) -> Record:
    currency = model.get("currency.currency")(
        name=name, code=code, symbol=symbol, rounding=Decimal("0.01")
    )
    currency.save()
    model.get("currency.currency.rate")(
        date=datetime.date(2000, 1, 1), rate=rate, currency=currency
    ).save()
    return currency


def _accounting(model: Any, today: datetime.date) -> dict[str, Record]:
    from trytond.modules.account.tests.tools import (  # type: ignore[import-untyped]
        create_chart,
        create_fiscalyear,
        create_tax,
        get_accounts,
    )
    from trytond.modules.account_invoice.tests.tools import (  # type: ignore[import-untyped]
        create_payment_term,
        set_fiscalyear_invoice_sequences,
    )

    create_chart()
    for year in (today.year - 1, today.year, today.year + 1):
        span = (datetime.date(year, 1, 1), datetime.date(year, 12, 31))
        fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(today=span))
        fiscalyear.click("create_period")
    accounts: dict[str, Record] = get_accounts()
    tax = create_tax(Decimal("0.19"))
    tax.name = tax.description = "VAT 19%"
    tax.save()
    accounts["vat"] = tax
    payment_term = create_payment_term()
    payment_term.name = "Direct"
    payment_term.save()
    net30 = model.get("account.invoice.payment_term")(name="Net 30 days")
    line = net30.lines.new(type="remainder")
    line.relativedeltas.new(days=30)
    net30.save()
    accounts["payment_term"] = net30
    return accounts


def _products(model: Any, accounts: dict[str, Record]) -> list[Record]:
    category_model = model.get("product.category")
    category = category_model(name="Goods", accounting=True)
    category.account_expense = accounts["expense"]
    category.account_revenue = accounts["revenue"]
    category.customer_taxes.append(accounts["vat"])
    category.save()
    unit = model.get("product.uom").find([("name", "=", "Unit")])[0]
    template_model = model.get("product.template")
    templates = []
    for row in data.products():
        template = template_model(
            name=row.name,
            code=row.sku,
            type="goods",
            default_uom=unit,
            salable=True,
            list_price=row.list_price,
            account_category=category,
        )
        templates.append(template)
    template_model.save(templates)
    variants = [template.products[0] for template in templates]
    for variant, row in zip(variants, data.products(), strict=True):
        variant.cost_price = row.cost_price  # per variant (and company) in Tryton
    model.get("product.product").save(variants)
    return variants


def _parties(model: Any, countries: dict[str, Record]) -> list[int]:
    # Plain create (as an import would do): no client-side on_change round trips per field.
    party_model = model.get("party.party")
    values = [
        {
            "name": row.name,
            "addresses": [
                (
                    "create",
                    [
                        {
                            "street_unstructured": row.street,
                            "postal_code": row.postal_code,
                            "city": row.city,
                            "country": countries[row.country].id,
                        }
                    ],
                )
            ],
            "contact_mechanisms": [
                (
                    "create",
                    [{"type": "email", "value": row.email}, {"type": "phone", "value": row.phone}],
                )
            ],
        }
        for row in data.parties()
    ]
    ids: list[int] = party_model._proxy.create(values, party_model._config.context)
    return ids


def _opening_inventory(model: Any, products: list[Record]) -> None:
    storage = model.get("stock.location").find([("code", "=", "STO")])[0]
    inventory = model.get("stock.inventory")(location=storage)
    for product, row in zip(products, data.products(), strict=True):
        if row.stock:
            inventory.lines.new(product=product, quantity=float(row.stock))
    inventory.click("confirm")


def _open_orders(
    model: Any, party_ids: list[int], products: list[Record], accounts: dict[str, Record]
) -> None:
    # Plain create with the values the client's on_change would fill in (price, unit, taxes).
    sale_model = model.get("sale.sale")
    context = sale_model._config.context
    addresses = {
        row["id"]: row["addresses"][0]
        for row in model.get("party.party")._proxy.read(party_ids, ["addresses"], context)
    }
    stages: dict[str, list[int]] = {stage: [] for stage in data.STAGES}
    product_rows = data.products()
    prices = [row.list_price for row in product_rows]
    unit_id = products[0].default_uom.id
    rows = data.open_orders(len(party_ids), product_rows)
    vlist = []
    for row in rows:
        party_id = party_ids[row.party_index]
        lines = [
            {
                "product": products[index].id,
                "quantity": float(quantity),
                "unit": unit_id,
                "unit_price": prices[index],
                "taxes": [("add", [accounts["vat"].id])],
            }
            for index, quantity in row.lines
        ]
        vlist.append(
            {
                "party": party_id,
                "invoice_address": addresses[party_id],
                "shipment_address": addresses[party_id],
                "payment_term": accounts["payment_term"].id,
                "reference": row.reference,
                "lines": [("create", lines)],
            }
        )
    for row, sale_id in zip(rows, sale_model._proxy.create(vlist, context), strict=True):
        stages[row.stage].append(sale_id)
    sale_model._proxy.quote(stages["quotation"] + stages["processing"] + stages["shipped"], context)
    sale_model._proxy.confirm(stages["processing"] + stages["shipped"], context)
    _ship_and_invoice(model, stages["shipped"], context)


def _ship_and_invoice(model: Any, sale_ids: list[int], context: dict[str, Any]) -> None:
    """Completes the sales' customer shipments and posts their invoices."""
    sales = model.get("sale.sale")._proxy.read(sale_ids, ["shipments", "invoices"], context)
    shipment_ids = [i for sale in sales for i in sale["shipments"]]
    invoice_ids = [i for sale in sales for i in sale["invoices"]]
    shipments = model.get("stock.shipment.out")._proxy
    shipments.assign_try(shipment_ids, context)
    states = {row["state"] for row in shipments.read(shipment_ids, ["state"], context)}
    if states != {"assigned"}:
        raise RuntimeError(f"customer shipments {shipment_ids} not all assigned: {states}")
    for transition in ("pick", "pack", "do"):
        getattr(shipments, transition)(shipment_ids, context)
    model.get("account.invoice")._proxy.post(invoice_ids, context)


def run(config_file: str, database: str) -> dict[str, float]:
    """Sets everything up; returns seconds per step."""
    from proteus import Model  # type: ignore[import-untyped]
    from proteus import config as proteus_config

    timings: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        timings[name] = round(now - started, 2)
        print(f"  {name}: {timings[name]}s", file=sys.stderr, flush=True)
        started = now

    config = proteus_config.set_trytond(database, config_file=config_file)
    lap("connect")
    countries = _company(Model, config)
    accounts = _accounting(Model, datetime.date.today())
    lap("company and accounting")
    products = _products(Model, accounts)
    lap("products")
    parties = _parties(Model, countries)
    lap("parties")
    _opening_inventory(Model, products)
    lap("inventory")
    _open_orders(Model, parties, products, accounts)
    lap("open orders")
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.tryton.setup", description=__doc__)
    parser.add_argument("--config", required=True, help="trytond configuration file")
    parser.add_argument("--database", required=True, help="database name")
    args = parser.parse_args(argv)
    timings = run(args.config, args.database)
    print("setup done: " + ", ".join(f"{k} {v}s" for k, v in timings.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
