"""Collection parameters the way the WooCommerce REST API v3 reads them: filters, order, pages.

Dates (``after``/``before`` on the creation date, ``modified_after``/``modified_before`` on the
last change) are ISO 8601 and strict (``after`` means later than). A value with an offset
(``Z``, ``+02:00``) is compared in UTC; one without is compared with the site's local dates,
or with the GMT dates when ``dates_are_gmt=true`` — as WooCommerce does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.webshop.lines import Json

MAX_PER_PAGE = 100


class RestError(Exception):
    """A WordPress REST error: ``{"code", "message", "data": {"status", ...}}``."""

    def __init__(
        self, status: int, code: str, message: str, params: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.params = dict(params or {})

    def body(self) -> Json:
        data: Json = {"status": self.status}
        if self.params:
            data["params"] = self.params
        return {"code": self.code, "message": self.message, "data": data}


def invalid_param(name: str, reason: str) -> RestError:
    return RestError(400, "rest_invalid_param", f"Invalid parameter(s): {name}", {name: reason})


@dataclass(frozen=True)
class Page:
    items: list[Json]
    total: int
    total_pages: int
    page: int


def _int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_param(name, f"{name} is not of type integer.") from None
    if not low <= value <= high:
        raise invalid_param(
            name, f"{name} must be between {low} (inclusive) and {high} (inclusive)"
        )
    return value


def ids(params: Mapping[str, str], name: str) -> set[int]:
    raw = params.get(name, "")
    try:
        return {int(part) for part in raw.replace("[", "").replace("]", "").split(",") if part}
    except ValueError:
        raise invalid_param(name, f"{name}[0] is not of type integer.") from None


def _date_filter(params: Mapping[str, str], name: str, field: str) -> Callable[[Json], bool]:
    raw = params[name]
    try:
        moment = datetime.fromisoformat(raw.strip().replace(" ", "T", 1))
    except ValueError:
        raise invalid_param(name, "Invalid date.") from None
    gmt = params.get("dates_are_gmt", "").lower() in ("1", "true")
    if moment.tzinfo is not None:
        moment, gmt = moment.astimezone(UTC).replace(tzinfo=None), True
    column = f"{field}_gmt" if gmt else field
    later = name.endswith("after")

    def keep(item: Json) -> bool:
        value = item.get(column)
        if value is None:
            return False
        stamp = datetime.fromisoformat(value)
        return stamp > moment if later else stamp < moment

    return keep


def select(items: Iterable[Json], params: Mapping[str, str]) -> list[Json]:
    """Applies the filters every collection shares: include, exclude, dates, search."""
    chosen = list(items)
    include, exclude = ids(params, "include"), ids(params, "exclude")
    if include:
        chosen = [item for item in chosen if item["id"] in include]
    if exclude:
        chosen = [item for item in chosen if item["id"] not in exclude]
    for name, field in (
        ("after", "date_created"),
        ("before", "date_created"),
        ("modified_after", "date_modified"),
        ("modified_before", "date_modified"),
    ):
        if params.get(name):
            keep = _date_filter(params, name, field)
            chosen = [item for item in chosen if keep(item)]
    return chosen


def order_by(
    items: list[Json],
    params: Mapping[str, str],
    keys: Mapping[str, Callable[[Json], Any]],
    default: tuple[str, str],
) -> list[Json]:
    """Sorts by ``orderby``/``order``; ties are broken by id so that pages never overlap."""
    orderby = params.get("orderby") or default[0]
    if orderby not in keys:
        allowed = ", ".join(keys)
        raise invalid_param("orderby", f"orderby is not one of {allowed}.")
    direction = (params.get("order") or default[1]).lower()
    if direction not in ("asc", "desc"):
        raise invalid_param("order", "order is not one of asc and desc.")
    key = keys[orderby]
    if orderby == "include":
        wanted = list(ids(params, "include"))
        key = lambda item: wanted.index(item["id"]) if item["id"] in wanted else 0  # noqa: E731
    return sorted(items, key=lambda item: (key(item), item["id"]), reverse=direction == "desc")


def paginate(items: list[Json], params: Mapping[str, str]) -> Page:
    per_page = _int(params, "per_page", 10, 1, MAX_PER_PAGE)
    page = _int(params, "page", 1, 1, 10**9)
    offset = _int(params, "offset", (page - 1) * per_page, 0, 10**9)
    total = len(items)
    return Page(items[offset : offset + per_page], total, math.ceil(total / per_page), page)


def csv(params: Mapping[str, str], name: str) -> list[str]:
    return [part for part in params.get(name, "").split(",") if part]
