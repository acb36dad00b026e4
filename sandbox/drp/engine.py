"""Distributors' DRP systems exchanging files with the manufacturer over SFTP.

Per distributor, ``<area>/<distributor>/``:

- ``outbound/`` (the distributor writes, Tandem fetches): every ``report_interval_s`` an X12
  852 product activity report and the same figures as a CSV stock/sell-through report (each
  distributor's own delimiter, encoding and language); every ``po_interval_s`` an X12 850
  purchase order for the items below their reorder point; a 997 for every group it receives;
- ``inbound/`` (Tandem uploads): 855 PO acknowledgements and 810 invoices. The envelope is
  checked and the PO number must be one the distributor sent; problems go to ``errors/`` with
  ``<name>.error.txt`` (and in the 997); good files go to ``archive/``. An invoice books the
  invoiced quantities as received stock.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox.drp.distributors import DISTRIBUTORS, Distributor, stock_csv
from sandbox.edi.ack import build_997
from sandbox.edi.area import (
    EDI_SUFFIXES,
    FaultKnobs,
    JsonState,
    deliver,
    describe,
    move,
    reject_file,
    stable_files,
)
from sandbox.edi.common import ControlNumbers, DocumentError, NamedParty, make_area
from sandbox.edi.trade import (
    ActivityLine,
    PoLine,
    ProductActivity,
    PurchaseOrder,
    build_850,
    build_852,
    parse_810,
    parse_855,
)
from sandbox.edi.x12 import (
    InterchangeError,
    Party,
    Segment,
    Transaction,
    X12Error,
    build_interchange,
    read_interchange,
)
from sandbox.pdm.products import MasterProduct, shop_products
from sandbox.threepl.faults import break_interchange

TANDEM = Party("ZZ", "TANDEM", "TANDEM")


@dataclass
class DrpKnobs(FaultKnobs):
    report_interval_s: float = 60.0  # 852 + CSV period
    po_interval_s: float = 120.0  # 850 period
    csv_encoding: str = ""  # override every distributor's: "cp1252", "utf-8-sig", "utf-8"
    csv_delimiter: str = ""  # override: ";" or ","
    settle_s: float = 0.5


@dataclass
class DrpConfig:
    area: Path
    state_dir: Path
    seed: int = 11
    distributors: tuple[Distributor, ...] = DISTRIBUTORS
    knobs: DrpKnobs = field(default_factory=DrpKnobs)


class DrpEngine:
    def __init__(self, config: DrpConfig, clock: Callable[[], float] | None = None) -> None:
        self.config = config
        self.knobs = config.knobs
        self.clock = clock or time.time
        self.products = {p.sku: p for p in shop_products()}
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.controls: dict[str, ControlNumbers] = {}
        self.state = JsonState(config.state_dir / "drp-state.json", {"distributors": {}})
        for dist in config.distributors:
            base = config.area / dist.key
            make_area(*(base / name for name in ("outbound", "inbound", "archive", "errors")))
            self.controls[dist.key] = ControlNumbers(config.state_dir / f"drp-{dist.key}.json")
            self._dist_state(dist)

    def _dist_state(self, dist: Distributor) -> dict[str, Any]:
        states: dict[str, Any] = self.state.data["distributors"]
        if dist.key not in states:
            rng = random.Random(f"{self.config.seed}:{dist.key}")
            states[dist.key] = {
                "stock": {sku: rng.randint(5, 60) for sku in self.products},
                "on_order": {},
                "pos": {},
                "last_report": None,
                "last_po": None,
                "reports": 0,
            }
        state: dict[str, Any] = states[dist.key]
        return state

    def tick(self) -> None:
        if self.knobs.paused:
            return
        now = self.clock()
        for dist in self.config.distributors:
            state = self._dist_state(dist)
            inbound = self.config.area / dist.key / "inbound"
            settle = max(self.knobs.settle_s, self.knobs.delay_s)
            for path in stable_files(inbound, time.time(), settle, EDI_SUFFIXES):
                self.receive(dist, path)
            if (
                state["last_report"] is None
                or now - state["last_report"] >= self.knobs.report_interval_s
            ):
                self.send_report(dist)
                state["last_report"] = now
            if state["last_po"] is None or now - state["last_po"] >= self.knobs.po_interval_s:
                self.send_purchase_order(dist)
                state["last_po"] = now
        self.state.save()

    # -- outbound -------------------------------------------------------------------------
    def send_report(self, dist: Distributor) -> list[Path]:
        state = self._dist_state(dist)
        state["reports"] += 1
        rng = random.Random(f"{self.config.seed}:{dist.key}:report:{state['reports']}")
        end = datetime.fromtimestamp(self.clock(), UTC).date()
        start = end - timedelta(days=6)
        items: list[ActivityLine] = []
        for sku, product in sorted(self.products.items()):
            on_hand = state["stock"].get(sku, 0)
            sold = min(on_hand, rng.randint(0, 12))
            state["stock"][sku] = on_hand - sold
            on_order = state["on_order"].get(sku, 0)
            items.append(ActivityLine(sku, product.gtin, on_hand - sold, sold, on_order))
        report = ProductActivity(
            f"{dist.key.upper()[:6]}-{end:%Y%m%d}-{state['reports']}",
            start,
            end,
            dist.vendor_number,
            dist.address,
            tuple(items),
        )
        written = self._send(dist, [("852", build_852(report))], f"852_{end:%Y%m%d}", rng)
        encoding = self.knobs.csv_encoding or dist.csv_encoding
        data = stock_csv(
            items,
            {sku: p.name for sku, p in self.products.items()},
            start,
            end,
            delimiter=self.knobs.csv_delimiter or dist.csv_delimiter,
            encoding=encoding,
            language=dist.csv_language,
        )
        if self.knobs.malformed_rate and rng.random() < self.knobs.malformed_rate:
            data = _break_csv(data, rng)
        name = f"stock_{dist.key}_{end:%Y%m%d}_{state['reports']}.csv"
        written += deliver(self._out(dist), name, data, self.knobs, rng)
        return written

    def send_purchase_order(self, dist: Distributor) -> list[Path]:
        state = self._dist_state(dist)
        rng = random.Random(f"{self.config.seed}:{dist.key}:po:{len(state['pos'])}")
        low = [sku for sku, qty in sorted(state["stock"].items()) if qty < 20]
        skus = low or rng.sample(sorted(self.products), 2)
        when = datetime.fromtimestamp(self.clock(), UTC)
        po_number = f"{dist.key[:3].upper()}{when:%y%m%d}{len(state['pos']) + 1:04d}"
        lines = tuple(
            self._po_line(number, self.products[sku], rng, dist)
            for number, sku in enumerate(skus[:8], start=1)
        )
        po = PurchaseOrder(
            po_number,
            when.date(),
            dist.currency,
            NamedParty("BY", dist.address.name, "92", dist.address.id_code),
            NamedParty(
                "ST",
                dist.address.name,
                "92",
                f"{dist.address.id_code}-DC",
                dist.address.street,
                dist.address.city,
                dist.address.state,
                dist.address.postcode,
                dist.address.country,
            ),
            lines,
            requested_delivery=when.date() + timedelta(days=7),
        )
        state["pos"][po_number] = {line.sku: line.quantity for line in lines}
        for line in lines:
            state["on_order"][line.sku] = state["on_order"].get(line.sku, 0) + line.quantity
        return self._send(dist, [("850", build_850(po))], f"850_{po_number}", rng)

    def _po_line(
        self, number: int, product: MasterProduct, rng: random.Random, dist: Distributor
    ) -> PoLine:
        price = product.net_price_eur * Decimal("0.70")  # distributor discount
        if dist.currency == "USD":
            price *= Decimal("1.10")
        quantity = rng.choice((6, 12, 24, 48))
        return PoLine(
            number,
            product.sku,
            quantity,
            price.quantize(Decimal("0.01")),
            product.gtin,
            description=product.name,
        )

    def _out(self, dist: Distributor) -> Path:
        return self.config.area / dist.key / "outbound"

    def _send(
        self,
        dist: Distributor,
        sets: list[tuple[str, list[Segment]]],
        stem: str,
        rng: random.Random,
        receiver: Party = TANDEM,
    ) -> list[Path]:
        isa13, gs06 = self.controls[dist.key].next()
        when = datetime.fromtimestamp(self.clock(), UTC)
        text = build_interchange(
            dist.party, receiver, sets, interchange_number=isa13, group_number=gs06, when=when
        )
        if (
            sets[0][0] != "997"
            and self.knobs.malformed_rate
            and rng.random() < self.knobs.malformed_rate
        ):
            text = break_interchange(text, rng)
        return deliver(self._out(dist), f"{stem}_{isa13:09d}.edi", text.encode(), self.knobs, rng)

    # -- inbound --------------------------------------------------------------------------
    def receive(self, dist: Distributor, path: Path) -> None:
        errors = self.config.area / dist.key / "errors"
        try:
            interchange = read_interchange(path.read_bytes())
        except InterchangeError as exc:
            reject_file(path, errors, [describe(exc)])
            return
        problems: list[str] = []
        for group in interchange.groups:
            content: dict[str, list[X12Error]] = {}
            for tx in group.transactions:
                if tx.errors or group.errors:
                    continue
                try:
                    self._book(dist, tx)
                except DocumentError as exc:
                    content.setdefault(tx.control_number, []).append(exc)
            found = group.errors + [e for tx in group.transactions for e in tx.errors]
            found += [e for es in content.values() for e in es]
            problems += [f"group {group.control_number}: {describe(e)}" for e in found]
            sender = Party(interchange.sender_qualifier, interchange.sender_id, group.sender)
            rng = random.Random(0)
            self._send(dist, [("997", build_997(group, content))], "997", rng, sender)
        if problems:
            reject_file(path, errors, problems)
        else:
            move(path, self.config.area / dist.key / "archive")

    def _book(self, dist: Distributor, tx: Transaction) -> None:
        state = self._dist_state(dist)
        if tx.set_id == "855":
            ack = parse_855(tx)
            if ack.po_number not in state["pos"]:
                raise DocumentError(
                    tx, f"BAK03: unknown purchase order {ack.po_number!r}", segment_id="BAK"
                )
        elif tx.set_id == "810":
            invoice = parse_810(tx)
            if invoice.po_number not in state["pos"]:
                raise DocumentError(
                    tx, f"BIG04: unknown purchase order {invoice.po_number!r}", segment_id="BIG"
                )
            for line in invoice.lines:
                state["stock"][line.sku] = state["stock"].get(line.sku, 0) + line.quantity
                left = state["on_order"].get(line.sku, 0) - line.quantity
                state["on_order"][line.sku] = max(0, left)
        else:
            raise DocumentError(tx, f"transaction set {tx.set_id} is not accepted (855, 810 only)")


def _break_csv(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\r\n")
    if len(lines) > 2:
        index = rng.randrange(1, len(lines) - 1)
        lines[index] = lines[index].rsplit(b";" if b";" in lines[index] else b",", 3)[0] + b";n/a"
    return b"\r\n".join(lines)
