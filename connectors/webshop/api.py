"""The shop's REST API as the streams use it: paged lists, one record, updates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from canonical.errors import PermanentError
from connectors.transports.http import HttpClient, Params
from connectors.transports.retry import Health
from connectors.webshop.settings import WebshopSettings


class ShopApi:
    """One HTTP client to one shop (``.../wp-json/wc/v3``)."""

    def __init__(self, settings: WebshopSettings) -> None:
        self.settings = settings
        self.http = HttpClient(settings.http())

    def page(self, path: str, params: Params, page: int) -> tuple[list[Any], int | None]:
        """One page of a collection and the shop's ``X-WP-TotalPages`` (None when a proxy
        dropped the header: then only a short page ends a listing)."""
        query = {**params, "page": page, "per_page": self.settings.per_page}
        body, response = self.http.call_json("GET", path, params=query)
        if not isinstance(body, list):
            raise PermanentError(
                f"GET {path} page {page}: the shop answered a {type(body).__name__}, not a list"
            )
        try:
            total_pages: int | None = int(response.headers["X-WP-TotalPages"])
        except (KeyError, ValueError):
            total_pages = None
        return body, total_pages

    def last(self, items: list[Any], number: int, total_pages: int | None) -> bool:
        """Whether page ``number`` ends its listing."""
        short = len(items) < self.settings.per_page
        return short or (total_pages is not None and number >= total_pages)

    def every(self, path: str, params: Params) -> Iterator[list[Any]]:
        """Every page of a collection whose order does not change while paging (by id)."""
        number = 1
        while True:
            items, total_pages = self.page(path, params, number)
            if items:
                yield items
            if self.last(items, number, total_pages):
                return
            number += 1

    def get(self, path: str, params: Params | None = None) -> Any:
        return self.http.get_json(path, params=params)

    def put(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.http.call_json("PUT", path, json=dict(body))[0]

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST is not retried: it may create the same thing twice."""
        return self.http.call_json("POST", path, json=dict(body))[0]

    def health(self) -> Health:
        return self.http.ping("/orders", params={"per_page": 1, "_fields": "id"})

    def close(self) -> None:
        self.http.close()
