"""The CRM's REST API in SuiteCRM's V8 shape (JSON:API), as a Starlette app behind fault knobs.

Under ``/legacy/Api`` (SuiteCRM 8) and ``/Api`` (SuiteCRM 7):

    POST   /access_token                                   OAuth2 client credentials
    GET    /V8/module/{Module}?filter[f][op]=v&filter[operator]=and|or
               &sort=-date_modified&page[size]=20&page[number]=2&fields[Module]=a,b
    GET    /V8/module/{Module}/{id}
    POST   /V8/module            {"data": {"type": "Accounts", "attributes": {...}}}
    PATCH  /V8/module            {"data": {"type": "Accounts", "id": ..., "attributes": {...}}}
    DELETE /V8/module/{Module}/{id}
    GET    /V8/module/{Module}/{id}/relationships/{link}
    POST   /V8/module/{Module}/{id}/relationships[/{link}]
               {"data": {"type": "Contacts", "id": ...}}
    DELETE /V8/module/{Module}/{id}/relationships/{link}/{relatedId}

Responses are ``application/vnd.api+json``; records carry the bean name as ``type``
(``"Account"``); lists carry ``meta["total-pages"]`` and ``links`` only when ``page[size]`` is
given; errors are SuiteCRM's ``{"errors": {"status", "title", "detail"}}`` (an object, not a list).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.crm.auth import OAuthError, TokenIssuer
from sandbox.crm.modules import MODULES, link_between
from sandbox.crm.store import Attributes, CrmError, CrmStore, module
from sandbox.webshop.faults import FaultLayer, Faults

_JSON_API = "application/vnd.api+json"
_FILTER = re.compile(r"^filter\[(\w+)\](?:\[(\w+)\])?$")
# SuiteCRM's to_html(): the V8 API returns every text HTML-encoded (the bean is retrieved with
# encoding on; SuiteCRM issue #8101), these four characters only: "&" is left as it is
_TO_HTML = str.maketrans({'"': "&quot;", "<": "&lt;", ">": "&gt;", "'": "&#039;"})
Handler = Callable[[Request], Awaitable[Response]]


def _json_api(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False, indent=4).encode("utf-8")
    return Response(body, status, {"Accept": _JSON_API}, _JSON_API)


def _error(status: int, detail: str) -> Response:
    return _json_api({"errors": {"status": status, "title": None, "detail": detail}}, status)


async def _document(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise CrmError(400, "The request body is not valid JSON") from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise CrmError(400, 'The required option "data" is missing.')
    if not isinstance(data.get("type"), str):
        raise CrmError(400, 'The required option "type" is missing.')
    return data


class CrmApi:
    def __init__(self, store: CrmStore, issuer: TokenIssuer, faults: Faults) -> None:
        self.store = store
        self.issuer = issuer
        self.faults = faults
        routes: list[Route] = []
        for root in ("/legacy/Api", "/Api"):
            routes += self._routes(root)
        routes += [
            Route("/_health", self.health),
            Route("/_control", self.control, methods=["GET", "POST"]),
        ]
        self.app = Starlette(routes=routes)
        self.asgi = FaultLayer(self.app, faults)

    # -- plumbing ------------------------------------------------------------------------

    def _v8(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                self.issuer.check(request.headers.get("authorization", ""))
                return await handler(request)
            except OAuthError as error:
                return Response(
                    json.dumps(error.body()), error.status, media_type="application/json"
                )
            except CrmError as error:
                return _error(error.status, error.detail)

        return endpoint

    def _resource(
        self, name: str, record_id: str, attributes: Attributes, fields: list[str] | None
    ) -> dict[str, Any]:
        spec = module(name)
        shown = {
            k: v.translate(_TO_HTML) if isinstance(v, str) else v
            for k, v in attributes.items()
            if fields is None or k in fields
        }
        path = f"/V8/module/{name}/{record_id}"
        relationships = {
            target: {"links": {"related": f"{path}/relationships/{link}"}}
            for link, target in sorted(spec.links.items(), key=lambda item: item[1])
        }
        return {
            "type": spec.bean,
            "id": record_id,
            "attributes": shown,
            "relationships": relationships,
        }

    # -- token ---------------------------------------------------------------------------

    async def access_token(self, request: Request) -> Response:
        raw = await request.body()
        params: dict[str, str] = {}
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                loaded = json.loads(raw or b"{}")
                params = {k: str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
            except ValueError:
                params = {}
        else:
            params = dict(parse_qsl(raw.decode("utf-8", "replace")))
        try:
            token = self.issuer.issue(params, request.headers.get("authorization", ""))
        except OAuthError as error:
            return Response(json.dumps(error.body()), error.status, media_type="application/json")
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        return Response(json.dumps(token), 200, headers, "application/json; charset=UTF-8")

    # -- records -------------------------------------------------------------------------

    async def records(self, request: Request) -> Response:
        name = request.path_params["module"]
        spec = module(name)
        filters: dict[str, dict[str, str]] = {}
        operator = "and"
        for key, value in request.query_params.multi_items():
            match = _FILTER.match(key)
            if match is None:
                continue
            if match[1] == "operator" and match[2] is None:
                operator = value
            elif match[2] is None:
                raise CrmError(400, f"Filter field {match[1]} must be an array")
            else:
                filters.setdefault(match[1], {})[match[2]] = value
        size, number = (
            request.query_params.get("page[size]"),
            request.query_params.get("page[number]"),
        )
        try:
            page = (int(number or 1), int(size)) if size else None
        except ValueError:
            raise CrmError(400, "page[size] and page[number] must be integers") from None
        if page is not None and (page[0] < 1 or page[1] < 1):
            raise CrmError(400, "page[size] and page[number] must be positive")
        rows, total_pages = self.store.find(
            name, filters, operator, request.query_params.get("sort", ""), page
        )
        fields = self._fields(request, spec.name)
        document: dict[str, Any] = {
            "data": [self._resource(name, rid, attrs, fields) for rid, attrs in rows]
        }
        if page is not None and rows:
            document["meta"] = {"total-pages": total_pages, "records-on-this-page": len(rows)}
            document["links"] = self._page_links(request, page[0], total_pages)
        return _json_api(document)

    def _fields(self, request: Request, name: str) -> list[str] | None:
        raw = request.query_params.get(f"fields[{name}]")
        return None if raw is None else [f for f in raw.split(",") if f]

    def _page_links(self, request: Request, number: int, total_pages: int) -> dict[str, str]:
        def link(page_number: int) -> str:
            query = [(k, v) for k, v in request.query_params.multi_items() if k != "page[number]"]
            return (
                f"{request.url.path}?{unquote(urlencode([*query, ('page[number]', page_number)]))}"
            )

        links: dict[str, str] = {}
        if number > 1:
            links |= {"first": link(1), "prev": link(number - 1)}
        if number + 1 <= total_pages:
            links |= {"next": link(number + 1), "last": link(total_pages)}
        return links

    async def record(self, request: Request) -> Response:
        name, record_id = request.path_params["module"], request.path_params["id"]
        if request.method == "DELETE":
            self.store.delete(name, record_id)
            return _json_api({"meta": {"message": f"Record with id {record_id} is deleted"}})
        attributes = self.store.get(name, record_id)
        return _json_api(
            {"data": self._resource(name, record_id, attributes, self._fields(request, name))}
        )

    async def write(self, request: Request) -> Response:
        data = await _document(request)
        name = data["type"]
        attributes = data.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise CrmError(400, 'The option "attributes" must be an object')
        if request.method == "POST":
            record_id = self.store.create(name, attributes, data.get("id"))
            status = 201
        else:
            record_id = str(data.get("id") or "")
            if not record_id:
                raise CrmError(400, 'The required option "id" is missing.')
            self.store.update(name, record_id, attributes)
            status = 200
        resource = self._resource(name, record_id, self.store.get(name, record_id), None)
        return _json_api({"data": resource}, status)

    # -- relationships -------------------------------------------------------------------

    async def relationships(self, request: Request) -> Response:
        params = request.path_params
        name, record_id, link = params["module"], params["id"], params.get("link", "")
        if request.method == "GET":
            related = self.store.related(name, record_id, link)
            if not related:
                bean = module(name).bean
                message = f"There is no relationship set in {bean} module with {link} link field"
                return _json_api({"meta": {"message": message}})
            items = [
                {
                    "type": MODULES[rel].bean,
                    "id": rid,
                    "links": {"self": f"/V8/module/{MODULES[rel].bean}/{rid}"},
                }
                for rel, rid in related
            ]
            return _json_api({"data": items})
        if request.method == "DELETE":
            other = self.store.unrelate(name, record_id, link, params["related_id"])
            message = (
                f"Relationship has been deleted between {module(name).bean} with id {record_id} "
                f"and {MODULES[other].bean} with id {params['related_id']}"
            )
            return _json_api({"meta": {"message": message}})
        data = await _document(request)
        other, other_id = data["type"], str(data.get("id") or "")
        module(other)
        if link and MODULES[name].links.get(link) != other:
            raise CrmError(
                400, f"Link field {link} in {module(name).bean} module does not lead to {other}"
            )
        if link_between(name, other) is None:
            raise CrmError(400, f"Module {other} is not related to {module(name).bean}")
        self.store.relate(name, record_id, other, other_id)
        message = (
            f"{MODULES[other].bean} with id {other_id} has been added to "
            f"{module(name).bean} with id {record_id}"
        )
        return _json_api({"meta": {"message": message}}, 201)

    # -- outside the API -----------------------------------------------------------------

    async def health(self, request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def control(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = json.loads(await request.body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("the body must be a JSON object of knobs")
                ttl = changes.pop("token_ttl_seconds", None)
                self.faults.update(changes)
                if ttl is not None:
                    self.issuer.ttl_seconds = float(ttl)
            except (ValueError, TypeError) as exc:
                return Response(json.dumps({"error": str(exc)}), 400, media_type="application/json")
        return Response(json.dumps(self.control_state()), media_type="application/json")

    def control_state(self) -> dict[str, Any]:
        return {
            **self.faults.state(),
            "token_ttl_seconds": self.issuer.ttl_seconds,
            "tokens_issued": self.issuer.issued,
            "records": {name: len(rows) for name, rows in self.store.records.items()},
        }

    def _routes(self, root: str) -> list[Route]:
        v8 = f"{root}/V8/module"
        rel = f"{v8}/{{module}}/{{id}}/relationships"
        return [
            Route(f"{root}/access_token", self.access_token, methods=["POST"]),
            Route(v8, self._v8(self.write), methods=["POST", "PATCH"]),
            Route(f"{v8}/{{module}}", self._v8(self.records), methods=["GET"]),
            Route(f"{v8}/{{module}}/{{id}}", self._v8(self.record), methods=["GET", "DELETE"]),
            Route(rel, self._v8(self.relationships), methods=["POST"]),
            Route(f"{rel}/{{link}}", self._v8(self.relationships), methods=["GET", "POST"]),
            Route(
                f"{rel}/{{link}}/{{related_id}}", self._v8(self.relationships), methods=["DELETE"]
            ),
        ]
