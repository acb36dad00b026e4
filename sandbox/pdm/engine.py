"""The PDM system dropping BMEcat catalogues into its SFTP area (or any folder).

First tick: a full T_NEW_CATALOG (``catalog_<id>_<version>_full.xml``). Then every
``delta_interval_s`` a T_UPDATE_PRODUCTS delta (``..._update.xml``) with prev_version set:
price and description changes (mode="update"), discontinued products (mode="delete") and now
and then a new product (mode="new"). Deterministic for a seed. Files are written under a
hidden ``.part`` name and renamed.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sandbox.edi.area import FaultKnobs, JsonState, deliver
from sandbox.edi.common import make_area
from sandbox.pdm.bmecat import CatalogInfo, write_catalog, write_update
from sandbox.pdm.products import MasterProduct, generated, shop_products

CATALOG_ID = "TDM-MASTER"


@dataclass
class PdmKnobs(FaultKnobs):
    delta_interval_s: float = 300.0  # 0 turns deltas off
    changes_per_delta: int = 4
    bmecat_version: str = "2005"  # or "1.2"


@dataclass
class PdmConfig:
    outbound: Path  # <root>/pdm/outbound, or any plain folder
    state_dir: Path
    seed: int = 13
    extra_products: int = 20  # generated products beyond the web shop's catalogue
    knobs: PdmKnobs = field(default_factory=PdmKnobs)


class PdmEngine:
    def __init__(self, config: PdmConfig, clock: Callable[[], float] | None = None) -> None:
        self.config = config
        self.knobs = config.knobs
        self.clock = clock or time.time
        make_area(config.outbound)
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.state = JsonState(
            config.state_dir / "pdm-state.json",
            {"version": 0, "last": None, "changed": {}, "deleted": [], "added": 0},
        )

    def products(self) -> list[MasterProduct]:
        """The catalogue as it stands after all deltas so far."""
        data = self.state.data
        base = shop_products() + list(generated(self.config.extra_products + data["added"]))
        out: list[MasterProduct] = []
        for product in base:
            if product.sku in data["deleted"]:
                continue
            change = data["changed"].get(product.sku)
            out.append(
                replace(
                    product,
                    net_price_eur=Decimal(change["price"]),
                    description=change["description"],
                )
                if change
                else product
            )
        return out

    def tick(self) -> None:
        if self.knobs.paused:
            return
        now = self.clock()
        data = self.state.data
        if data["version"] == 0:
            self.send_full()
        elif self.knobs.delta_interval_s > 0 and now - data["last"] >= self.knobs.delta_interval_s:
            self.send_update()

    def _info(self) -> CatalogInfo:
        version = f"{self.state.data['version']:03d}.000"
        when = datetime.fromtimestamp(self.clock(), UTC).replace(microsecond=0)
        return CatalogInfo(CATALOG_ID, version, "Tandem Coffee Equipment master catalogue", when)

    def send_full(self) -> list[Path]:
        self.state.data["version"] += 1
        info = self._info()
        buffer = io.BytesIO()
        write_catalog(buffer, info, self.products(), version=self.knobs.bmecat_version)
        return self._deliver(f"catalog_{CATALOG_ID}_{info.version}_full.xml", buffer.getvalue())

    def send_update(self) -> list[Path]:
        data = self.state.data
        prev = f"{data['version']:03d}.000"
        data["version"] += 1
        rng = random.Random(f"{self.config.seed}:delta:{data['version']}")
        current = self.products()
        picked = rng.sample(current, min(len(current), self.knobs.changes_per_delta))
        changes: list[tuple[str, MasterProduct]] = []
        for index, product in enumerate(picked):
            if index == 0 and len(current) > 5:
                data["deleted"].append(product.sku)
                changes.append(("delete", product))
                continue
            factor = Decimal(rng.choice(("0.95", "1.05", "1.10")))
            price = (product.net_price_eur * factor).quantize(Decimal("0.01"))
            description = f"{product.description.split(' Revision')[0]} Revision {data['version']}."
            data["changed"][product.sku] = {"price": str(price), "description": description}
            changes.append(
                ("update", replace(product, net_price_eur=price, description=description))
            )
        if rng.random() < 0.5:
            data["added"] += 1
            index = self.config.extra_products + data["added"]
            changes.append(("new", next(generated(1, start=index))))
        info = self._info()
        buffer = io.BytesIO()
        write_update(buffer, info, prev, changes, version=self.knobs.bmecat_version)
        return self._deliver(f"catalog_{CATALOG_ID}_{info.version}_update.xml", buffer.getvalue())

    def send_changes(self, count: int, *, mode: str = "update") -> tuple[list[Path], list[str]]:
        """A T_UPDATE_PRODUCTS delta changing exactly ``count`` products (tests, demos):
        ``update`` gives ``count`` distinct products a new price and description, ``new``
        adds ``count`` products. Returns the files written and the SKUs changed."""
        if mode not in ("update", "new"):
            raise ValueError(f"mode {mode!r}: use 'update' or 'new'")
        data = self.state.data
        prev = f"{data['version']:03d}.000"
        data["version"] += 1
        rng = random.Random(f"{self.config.seed}:changes:{data['version']}")
        changes: list[tuple[str, MasterProduct]] = []
        if mode == "new":
            for _ in range(count):
                data["added"] += 1
                index = self.config.extra_products + data["added"]
                changes.append(("new", next(generated(1, start=index))))
        else:
            current = self.products()
            for product in rng.sample(current, min(len(current), count)):
                factor = Decimal(rng.choice(("0.95", "1.05", "1.10")))
                price = (product.net_price_eur * factor).quantize(Decimal("0.01"))
                base = product.description.split(" Revision")[0]
                description = f"{base} Revision {data['version']}."
                data["changed"][product.sku] = {"price": str(price), "description": description}
                changes.append(
                    ("update", replace(product, net_price_eur=price, description=description))
                )
        info = self._info()
        buffer = io.BytesIO()
        write_update(buffer, info, prev, changes, version=self.knobs.bmecat_version)
        name = f"catalog_{CATALOG_ID}_{info.version}_update.xml"
        return self._deliver(name, buffer.getvalue()), [p.sku for _, p in changes]

    def _deliver(self, name: str, body: bytes) -> list[Path]:
        rng = random.Random(f"{self.config.seed}:{name}")
        if self.knobs.malformed_rate and rng.random() < self.knobs.malformed_rate:
            body = body[: len(body) * 2 // 3]  # cut off mid-element, as an aborted export does
        self.state.data["last"] = self.clock()
        written = deliver(self.config.outbound, name, body, self.knobs, rng)
        self.state.save()
        return written
