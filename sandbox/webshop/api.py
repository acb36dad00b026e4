"""The shop's WooCommerce REST API v3 subset, as a Starlette application behind fault knobs.

Routes under ``/wp-json/wc/v3``: ``orders`` (list, get, create, update), ``orders/<id>/notes``
(list, get, create), ``customers`` (list, get, create, update), ``products`` (list, get,
update) and ``products/<id>/variations`` (list, get, update). Updates take PUT, POST or PATCH
as WordPress does. Outside the API: ``GET /_health``, ``GET|POST /_control`` (knobs and
counters), ``POST /_control/webhooks`` (subscribe ``{"delivery_url", "secret", "topics"}``)
and ``DELETE /_control/webhooks/<id>``.

Authentication is WooCommerce's over HTTPS: the consumer key and secret as HTTP Basic
credentials or as ``consumer_key``/``consumer_secret`` query parameters (the sandbox speaks
plain HTTP on loopback, standing for a shop behind TLS; OAuth 1.0a is not offered).
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.webshop.faults import FAULT_KNOB_NAMES, FaultLayer, Faults
from sandbox.webshop.hooks import DEFAULT_TOPICS, WEBHOOK_KNOB_NAMES, WebhookDispatcher
from sandbox.webshop.lines import Json
from sandbox.webshop.query import Page, RestError
from sandbox.webshop.sender import wp_json_encode
from sandbox.webshop.service import ServiceForm
from sandbox.webshop.store import ShopStore

API = "/wp-json/wc/v3"
_JSON = "application/json; charset=UTF-8"
_DENIED = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
}
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Credentials:
    consumer_key: str
    consumer_secret: str


def _response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    base = {"X-Content-Type-Options": "nosniff", "X-Robots-Tag": "noindex"}
    return Response(wp_json_encode(payload), status, {**base, **(headers or {})}, _JSON)


def _params(request: Request) -> dict[str, str]:
    """Query parameters; ``status[]=a&status[]=b`` becomes ``"a,b"`` like WordPress arrays."""
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        name = key[:-2] if key.endswith("[]") else key
        params[name] = f"{params[name]},{value}" if name in params and key.endswith("[]") else value
    return params


async def _body(request: Request) -> Json:
    raw = await request.body()
    if not raw:
        return {}
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    try:
        body = json.loads(raw)
    except ValueError:
        raise RestError(400, "rest_invalid_json", "Invalid JSON body passed.") from None
    if not isinstance(body, dict):
        raise RestError(400, "rest_invalid_json", "Invalid JSON body passed.")
    return body


class WebshopApi:
    """Routes, authentication and control of one sandbox shop."""

    def __init__(
        self,
        store: ShopStore,
        credentials: Credentials,
        faults: Faults,
        dispatcher: WebhookDispatcher,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.faults = faults
        self.dispatcher = dispatcher
        store.on_change = dispatcher.emit
        self.service = ServiceForm(store)
        self.app = Starlette(routes=self._routes())
        self.asgi = FaultLayer(self.app, faults)

    # -- plumbing ----------------------------------------------------------------------

    def _authenticated(self, request: Request) -> None:
        """WooCommerce's basic authentication: unknown key = no user; bad secret = error."""
        key = secret = ""
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                key = secret = ""
        else:
            key = request.query_params.get("consumer_key", "")
            secret = request.query_params.get("consumer_secret", "")
        if (
            key
            and secret
            and hmac.compare_digest(key.encode(), self.credentials.consumer_key.encode())
        ):
            if hmac.compare_digest(secret.encode(), self.credentials.consumer_secret.encode()):
                return
            raise RestError(
                401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."
            )
        raise RestError(401, *_DENIED[_action(request)])

    def _api(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                self._authenticated(request)
                return await handler(request)
            except RestError as error:
                return _response(error.body(), error.status)

        return endpoint

    def _page(self, request: Request, page: Page) -> Response:
        response = _response(page.items)
        response.headers["X-WP-Total"] = str(page.total)
        response.headers["X-WP-TotalPages"] = str(page.total_pages)
        base = f"{self.store.site_url}{request.url.path}"
        query = {k: v for k, v in request.query_params.multi_items() if k != "page"}
        links = []
        if page.page > 1:
            prev_page = min(page.page - 1, max(page.total_pages, 1))
            links.append(f'<{base}?{urlencode([*query.items(), ("page", prev_page)])}>; rel="prev"')
        if page.total_pages > page.page:
            links.append(
                f'<{base}?{urlencode([*query.items(), ("page", page.page + 1)])}>; rel="next"'
            )
        if links:
            response.headers["Link"] = ", ".join(links)
        return response

    # -- orders ------------------------------------------------------------------------

    async def orders(self, request: Request) -> Response:
        if request.method == "POST":
            order = self.store.create_order(await _body(request))
            return _created(order, f"{self.store.site_url}{API}/orders/{order['id']}")
        return self._page(request, self.store.list_orders(_params(request)))

    async def order(self, request: Request) -> Response:
        order_id = request.path_params["order_id"]
        if request.method == "GET":
            return _response(self.store.get_order(order_id))
        return _response(self.store.update_order(order_id, await _body(request)))

    async def notes(self, request: Request) -> Response:
        order_id = request.path_params["order_id"]
        if request.method == "POST":
            return _response(self.store.add_note(order_id, await _body(request)), 201)
        return _response(self.store.list_notes(order_id, _params(request).get("type", "any")))

    async def note(self, request: Request) -> Response:
        params = request.path_params
        return _response(self.store.get_note(params["order_id"], params["note_id"]))

    # -- customers and products --------------------------------------------------------

    async def customers(self, request: Request) -> Response:
        if request.method == "POST":
            customer = self.store.create_customer(await _body(request))
            return _created(customer, f"{self.store.site_url}{API}/customers/{customer['id']}")
        return self._page(request, self.store.list_customers(_params(request)))

    async def customer(self, request: Request) -> Response:
        customer_id = request.path_params["customer_id"]
        if request.method == "GET":
            return _response(self.store.get_customer(customer_id))
        return _response(self.store.update_customer(customer_id, await _body(request)))

    async def products(self, request: Request) -> Response:
        parent = request.path_params.get("product_id")
        if request.method == "POST" and parent is None:
            product = self.store.create_product(await _body(request))
            return _created(product, f"{self.store.site_url}{API}/products/{product['id']}")
        return self._page(request, self.store.list_products(_params(request), parent))

    async def product(self, request: Request) -> Response:
        params = request.path_params
        parent = params["product_id"] if "variation_id" in params else None
        item_id = params.get("variation_id", params["product_id"])
        if request.method == "GET":
            return _response(self.store.get_product(item_id, parent))
        return _response(self.store.update_product(item_id, await _body(request), parent))

    # -- outside the API ---------------------------------------------------------------

    async def control(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = json.loads(await request.body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("the body must be a JSON object of knobs")
                unknown = set(changes) - FAULT_KNOB_NAMES - WEBHOOK_KNOB_NAMES
                if unknown:
                    raise ValueError(f"unknown knobs {sorted(unknown)}")
                hooks = {k: v for k, v in changes.items() if k in WEBHOOK_KNOB_NAMES}
                self.dispatcher.update(hooks)
                self.faults.update({k: v for k, v in changes.items() if k in FAULT_KNOB_NAMES})
            except (ValueError, TypeError) as exc:
                return _response({"error": str(exc)}, 400)
        return _response(self.control_state())

    def control_state(self) -> Json:
        return {**self.faults.state(), **self.dispatcher.state()}

    async def webhooks(self, request: Request) -> Response:
        if request.method == "DELETE":
            found = self.dispatcher.unsubscribe(request.path_params["webhook_id"])
            return _response({"deleted": found}, 200 if found else 404)
        try:
            body = json.loads(await request.body())
            url, secret = str(body["delivery_url"]), str(body["secret"])
            topics = tuple(body.get("topics") or DEFAULT_TOPICS)
        except (ValueError, KeyError, TypeError):
            message = 'expected {"delivery_url": ..., "secret": ..., "topics": [...]}'
            return _response({"error": message}, 400)
        webhook_id = self.dispatcher.subscribe(url, secret, topics)
        return _response(self.dispatcher.subscriptions[webhook_id].describe(), 201)

    async def service_request(self, request: Request) -> Response:
        """The public service request form (see ``service.py``): no API key, like a page."""
        try:
            if request.method == "POST":
                return _response(self.service.submit(await _body(request)), 201)
            return _response(self.service.get(request.path_params["entry_id"]))
        except RestError as error:
            return _response(error.body(), error.status)

    async def health(self, request: Request) -> Response:
        return _response({"status": "ok"})

    async def no_route(self, request: Request) -> Response:
        message = "No route was found matching the URL and request method."
        return _response(RestError(404, "rest_no_route", message).body(), 404)

    def _routes(self) -> list[Route]:
        edit = ["GET", "POST", "PUT", "PATCH"]
        return [
            Route(f"{API}/orders", self._api(self.orders), methods=["GET", "POST"]),
            Route(f"{API}/orders/{{order_id:int}}", self._api(self.order), methods=edit),
            Route(
                f"{API}/orders/{{order_id:int}}/notes",
                self._api(self.notes),
                methods=["GET", "POST"],
            ),
            Route(f"{API}/orders/{{order_id:int}}/notes/{{note_id:int}}", self._api(self.note)),
            Route(f"{API}/customers", self._api(self.customers), methods=["GET", "POST"]),
            Route(f"{API}/customers/{{customer_id:int}}", self._api(self.customer), methods=edit),
            Route(f"{API}/products", self._api(self.products), methods=["GET", "POST"]),
            Route(f"{API}/products/{{product_id:int}}", self._api(self.product), methods=edit),
            Route(f"{API}/products/{{product_id:int}}/variations", self._api(self.products)),
            Route(
                f"{API}/products/{{product_id:int}}/variations/{{variation_id:int}}",
                self._api(self.product),
                methods=edit,
            ),
            Route("/service-request", self.service_request, methods=["POST"]),
            Route("/service-request/{entry_id:int}", self.service_request),
            Route("/_health", self.health),
            Route("/_control", self.control, methods=["GET", "POST"]),
            Route("/_control/webhooks", self.webhooks, methods=["POST"]),
            Route("/_control/webhooks/{webhook_id:int}", self.webhooks, methods=["DELETE"]),
            Route("/{path:path}", self.no_route, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]


def _created(record: Json, location: str) -> Response:
    return _response(record, 201, {"Location": location})


def _action(request: Request) -> str:
    if request.method == "GET":
        return "view" if request.path_params else "list"
    return "edit" if request.path_params else "create"
