"""The demo's traffic and settings, through the peers' own protocols: web orders placed at the
shop's checkout (the shop signs and sends its webhooks), a service request from the shop's form,
the distributors' accounts in the CRM, and the file partners' knobs for quick turnarounds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from sandbox.flow_connections import DISTRIBUTORS
from sandbox.landscape import set_knobs
from sandbox.webshop.catalog import PRODUCTS

BUYERS = (
    ("Grete", "Kaffeeklatsch", "Kaffeegasse 7", "Berlin", "10115", "DE"),
    ("Ada", "Lovelace", "12 Analytical Way", "London", "N1 9GU", "GB"),
    ("Jean", "Dupont", "3 Rue du Moulin", "Lyon", "69001", "FR"),
)
QUICK_PARTNERS: dict[str, dict[str, Any]] = {
    "threepl": {"delay_s": 1, "settle_s": 0, "inventory_interval_s": 30},
    "drp": {"delay_s": 0, "settle_s": 0, "report_interval_s": 60, "po_interval_s": 60},
    "pdm": {"delta_interval_s": 60},
}


def quick_partners(landscape_dir: Path) -> None:
    """3PL advices a second after a 940, distributors' reports and orders every minute."""
    set_knobs(landscape_dir, "file_partners", dict(QUICK_PARTNERS))


def _shop(env: dict[str, str]) -> tuple[str, tuple[str, str]]:
    auth = (env["TANDEM_WEBSHOP_CONSUMER_KEY"], env["TANDEM_WEBSHOP_CONSUMER_SECRET"])
    return env["TANDEM_WEBSHOP_URL"].rstrip("/"), auth


def place_orders(env: dict[str, str], count: int) -> list[str]:
    """Paid orders at the shop's checkout; returns their numbers."""
    base, auth = _shop(env)
    skus = [p.sku for p in PRODUCTS if not p.variation_id][:6]
    numbers = []
    for i in range(count):
        first, last, street, city, postcode, country = BUYERS[i % len(BUYERS)]
        billing = {
            "first_name": first,
            "last_name": last,
            "address_1": street,
            "city": city,
            "postcode": postcode,
            "country": country,
            "email": f"{first.lower()}.{last.lower()}+{i}@example.com",
        }
        order = {
            "billing": billing,
            "shipping": {k: v for k, v in billing.items() if k != "email"},
            "line_items": [{"sku": skus[(i + n) % len(skus)], "quantity": 1 + n} for n in range(2)],
            "payment_method": "stripe",
            "set_paid": True,
        }
        created = httpx.post(f"{base}/orders", json=order, auth=auth, timeout=10)
        if created.is_error:
            raise RuntimeError(f"the shop refused an order: {created.status_code} {created.text}")
        numbers.append(str(created.json()["number"]))
    return numbers


def request_service(env: dict[str, str]) -> None:
    """A customer asks for service through the shop's public form (the shop sends it as a
    signed webhook to the ``webshop-service`` source)."""
    root = env["TANDEM_WEBSHOP_URL"].split("/wp-json")[0]
    form = {
        "name": "Grete Kaffeeklatsch",
        "email": "grete.kaffeeklatsch+0@example.com",
        "subject": "Grinder makes a noise",
        "message": "The grinder rattles since the first use.",
    }
    httpx.post(f"{root}/service-request", json=form, timeout=10).raise_for_status()


def distributor_accounts(env: dict[str, str]) -> str:
    """The distributors as CRM accounts (TANDEM_DISTRIBUTOR_ACCOUNTS), created in the CRM."""
    api = env["TANDEM_CRM_URL"].rstrip("/")
    token = httpx.post(
        f"{api}/access_token",
        data={
            "grant_type": "client_credentials",
            "client_id": env["TANDEM_CRM_CLIENT_ID"],
            "client_secret": env["TANDEM_CRM_CLIENT_SECRET"],
        },
        timeout=10,
    )
    token.raise_for_status()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    accounts: dict[str, dict[str, str]] = {}
    for key in DISTRIBUTORS:
        name = key.replace("-", " ").title()
        body = {"data": {"type": "Accounts", "attributes": {"name": name}}}
        made = httpx.post(f"{api}/V8/module", json=body, headers=headers, timeout=10)
        made.raise_for_status()
        accounts[key] = {"crm": str(made.json()["data"]["id"]), "name": name}
    return json.dumps(accounts)


def subscribe_webhooks(env: dict[str, str], receiver: str) -> None:
    """The shop's webhooks to the receiver: orders to ``webshop``, the service form's action
    to ``webshop-service`` (both signed with the shop's webhook secret)."""
    root = env["TANDEM_WEBSHOP_URL"].split("/wp-json")[0]
    secret = env["TANDEM_WEBSHOP_WEBHOOK_SECRET"]
    for source, topics in (
        ("webshop", ["order.created", "order.updated"]),
        ("webshop-service", ["action.tandem_service_request"]),
    ):
        hook = {"delivery_url": f"{receiver}/{source}", "secret": secret, "topics": topics}
        httpx.post(f"{root}/_control/webhooks", json=hook, timeout=10).raise_for_status()
