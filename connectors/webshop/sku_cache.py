"""The catalogue's SKU index, kept for a short while across write calls.

Building the index lists the whole catalogue (products and the variations of variable
products); a stock sync that writes one SKU per call (one delivery each) would list it once
per SKU. The cache keeps the index for ``ttl`` seconds and rebuilds it when a SKU asked for is
not in it, when it is older, or when told to forget it (a write found that a product no longer
carries the SKU the index gave it, or a product was created).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from canonical.errors import PermanentError
from connectors.webshop.api import ShopApi
from connectors.webshop.writes import Located, sku_index

Index = dict[str, Located | PermanentError]


class SkuCache:
    def __init__(
        self, api: ShopApi, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.api = api
        self.ttl = ttl
        self.clock = clock
        self._index: Index | None = None
        self._built = 0.0

    def index(self, skus: Iterable[str]) -> Index:
        index = self._index
        fresh = index is not None and self.clock() - self._built < self.ttl
        if index is None or not fresh or any(sku not in index for sku in skus):
            index = sku_index(self.api)
            self._index, self._built = index, self.clock()
        return index

    def forget(self) -> None:
        self._index = None
