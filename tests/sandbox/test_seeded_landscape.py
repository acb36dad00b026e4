"""The seeded landscape looks like one company, and the same seed gives the same company."""

from __future__ import annotations

from typing import Any

import httpx
import zeep

from sandbox.crm.peer import CrmHandle
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.webshop.peer import WebshopHandle


def _page(erp: ErpHandle, page: str) -> Any:
    client = zeep.Client(erp.wsdl_url(page))
    return client.create_service(
        f"{{urn:microsoft-dynamics-schemas/page/{page.lower()}}}{page}_Binding",
        f"{erp.base_url}{page}",
    )


def _all(service: Any) -> list[Any]:
    return list(service.ReadMultiple(filter=[{"Field": "No", "Criteria": ""}], setSize=0) or [])


def test_erp_has_customers_items_with_stock_and_open_orders(seeded_erp: ErpHandle) -> None:
    customers = _all(_page(seeded_erp, "Customer"))
    items = _all(_page(seeded_erp, "Item"))
    orders = _all(_page(seeded_erp, "Sales_Order"))
    assert len(customers) >= 200 and len(items) >= 200 and len(orders) >= 50
    assert sum(1 for item in items if item.Inventory and item.Inventory > 0) >= 100


def test_the_shop_sells_what_the_erp_stocks(
    seeded_erp: ErpHandle, seeded_webshop: WebshopHandle
) -> None:
    auth = (seeded_webshop.consumer_key, seeded_webshop.consumer_secret)
    first = httpx.get(f"{seeded_webshop.api_url}/products", params={"per_page": 100}, auth=auth)
    assert first.status_code == 200 and int(first.headers["X-WP-Total"]) >= 190
    shop_skus = {p["sku"] for p in first.json() if p["sku"]}
    erp_items = {item.No for item in _all(_page(seeded_erp, "Item"))}
    assert shop_skus and shop_skus <= erp_items
    customers = httpx.get(f"{seeded_webshop.api_url}/customers", auth=auth)
    assert int(customers.headers["X-WP-Total"]) >= 300


def test_crm_knows_the_shop_customers(seeded_crm: CrmHandle) -> None:
    token = httpx.post(
        seeded_crm.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": seeded_crm.client_id,
            "client_secret": seeded_crm.client_secret,
        },
    ).json()["access_token"]
    accounts = httpx.get(
        f"{seeded_crm.api_url}/V8/module/Accounts",
        params={"page[size]": 10},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert accounts.status_code == 200 and accounts.json()["meta"]["total-pages"] >= 10


def test_same_seed_same_company(seeded_erp: ErpHandle) -> None:
    twin = start_in_thread(seed=1)
    try:
        mine = [(c.No, c.Name, c.E_Mail) for c in _all(_page(seeded_erp, "Customer"))[:50]]
        theirs = [(c.No, c.Name, c.E_Mail) for c in _all(_page(twin, "Customer"))[:50]]
    finally:
        twin.stop()
    assert mine == theirs
