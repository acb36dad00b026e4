"""A third-party logistics warehouse working on its SFTP area.

``<area>/inbound``: the depositor (Tandem) uploads X12 940 warehouse shipping orders
(``*.edi``/``*.x12``; hidden and ``.part`` names are ignored). The warehouse:

- checks the envelope; an unusable interchange goes to ``errors/`` with ``<name>.error.txt``
  and a TA1 rejection (when its ISA is readable) in ``outbound/``;
- answers every functional group with a 997 in ``outbound/``; rejected sets (envelope or
  content problems) are listed in the 997 and the file is copied to ``errors/`` with its
  report; accepted orders go on;
- after ``delay_s`` writes one 945 per accepted order: carrier SCAC, one LX/MAN*CP per carton
  with its tracking number, W12 per line (short picks as CP, stock shortages as BP/BO
  backorders), W03 totals; deterministic for a seed and order number;
- every ``inventory_interval_s`` writes an 846 with on-hand and available stock.

Processed files move to ``archive/``. All outbound files are written under a hidden ``.part``
name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sandbox.edi.ack import build_997, build_ta1_interchange, isa_identity
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
from sandbox.edi.common import ControlNumbers, make_area
from sandbox.edi.documents import (
    DocumentError,
    InventoryAdvice,
    Package,
    ShippedLine,
    ShippingAdvice,
    ShippingOrder,
    StockLine,
    build_846,
    build_945,
    parse_940,
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
from sandbox.pdm.products import shop_products
from sandbox.threepl.faults import break_interchange

CARRIERS = ("UPSN", "FDEG", "USPS")


@dataclass
class ThreePLKnobs(FaultKnobs):
    partial_rate: float = 0.15  # share of lines short-picked, shipped incomplete (W12 CP)
    backorder_rate: float = 0.10  # share of lines with a stock shortage (W12 BP / BO)
    inventory_interval_s: float = 60.0  # 846 period; 0 turns it off
    settle_s: float = 0.5  # an inbound file must be this old before it is picked


@dataclass
class ThreePLConfig:
    area: Path
    state_dir: Path
    seed: int = 7
    warehouse: Party = field(default_factory=lambda: Party("ZZ", "NORTHWAY3PL", "NORTHWAY3PL"))
    knobs: ThreePLKnobs = field(default_factory=ThreePLKnobs)


class ThreePLEngine:
    def __init__(self, config: ThreePLConfig, clock: Callable[[], float] | None = None) -> None:
        self.config = config
        self.knobs = config.knobs
        self.clock = clock or time.time
        area = config.area
        self.inbound, self.outbound = area / "inbound", area / "outbound"
        self.archive, self.errors = area / "archive", area / "errors"
        make_area(self.inbound, self.outbound, self.archive, self.errors)
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.controls = ControlNumbers(config.state_dir / "threepl-control.json")
        self.state = JsonState(
            config.state_dir / "threepl-state.json",
            {"pending": [], "orders": [], "stock": {}, "last_846": None, "shipments": 0},
        )
        if not self.state.data["stock"]:
            rng = random.Random(f"{config.seed}:stock")
            self.state.data["stock"] = {p.sku: rng.randint(40, 400) for p in shop_products()}
        self.weights = {p.sku: p.weight_kg for p in shop_products()}

    # -- the loop -------------------------------------------------------------------------
    def tick(self) -> None:
        """One pass: pick up inbound files, ship what is due, send inventory when due."""
        if self.knobs.paused:
            return
        now = self.clock()
        for path in stable_files(self.inbound, time.time(), self.knobs.settle_s, EDI_SUFFIXES):
            self.receive(path)
        self._ship_due(now)
        interval = self.knobs.inventory_interval_s
        last = self.state.data["last_846"]
        if interval > 0 and (last is None or now - last >= interval):
            self.send_inventory()
            self.state.data["last_846"] = now
            self.state.save()

    # -- inbound --------------------------------------------------------------------------
    def receive(self, path: Path) -> None:
        data = path.read_bytes()
        text = data.decode("utf-8", errors="replace")
        try:
            interchange = read_interchange(data)
        except InterchangeError as exc:
            reject_file(path, self.errors, [describe(exc)])
            self._send_ta1(text, exc)
            return
        problems: list[str] = []
        acks: list[list[Segment]] = []
        for group in interchange.groups:
            content: dict[str, list[X12Error]] = {}
            for tx in group.transactions:
                if tx.errors or group.errors:
                    continue
                try:
                    self._accept(tx, interchange.sender_qualifier, interchange.sender_id)
                except DocumentError as exc:
                    content.setdefault(tx.control_number, []).append(exc)
            for error in group.errors + [e for tx in group.transactions for e in tx.errors]:
                problems.append(f"group {group.control_number}: {describe(error)}")
            problems.extend(
                f"group {group.control_number}: {describe(e)}"
                for es in content.values()
                for e in es
            )
            acks.append(build_997(group, content))
        sender = Party(
            interchange.sender_qualifier,
            interchange.sender_id,
            interchange.groups[0].sender if interchange.groups else interchange.sender_id,
        )
        for body in acks:
            self._send(sender, "997", [("997", body)], f"997_{interchange.control_number}")
        if problems:
            reject_file(path, self.errors, problems)
        else:
            move(path, self.archive)
        self.state.save()

    def _accept(self, tx: Transaction, qualifier: str, sender_id: str) -> None:
        if tx.set_id != "940":
            raise DocumentError(
                tx, f"transaction set {tx.set_id} is not accepted by this warehouse"
            )
        order = parse_940(tx)
        pending = self.state.data["pending"]
        if order.purpose == "C":
            pending[:] = [p for p in pending if p["order"] != order.order_number]
            return
        if order.order_number in self.state.data["orders"]:
            return  # a resent order is acknowledged but shipped once
        self.state.data["orders"].append(order.order_number)
        pending.append(
            {
                "order": order.order_number,
                "due": self.clock() + self.knobs.delay_s,
                "sender": [qualifier, sender_id],
                "segments": tx.segments,
            }
        )

    # -- outbound -------------------------------------------------------------------------
    def _ship_due(self, now: float) -> None:
        pending = self.state.data["pending"]
        due = [p for p in pending if p["due"] <= now]
        if not due:
            return
        for item in due:
            tx = Transaction("940", "0001", item["segments"])
            order = parse_940(tx)
            advice = self.ship(order)
            receiver = Party(item["sender"][0], item["sender"][1], item["sender"][1])
            self._send(receiver, "945", [("945", build_945(advice))], f"945_{order.order_number}")
            pending.remove(item)
        self.state.save()

    def ship(self, order: ShippingOrder) -> ShippingAdvice:
        """Pick, pack and ship ``order`` from stock (deterministic for seed and order)."""
        rng = random.Random(f"{self.config.seed}:{order.order_number}")
        stock: dict[str, int] = self.state.data["stock"]
        lines: list[ShippedLine] = []
        for line in order.lines:
            on_hand = stock.setdefault(line.sku, random.Random(line.sku).randint(40, 400))
            shipped, status = line.quantity, "CC"
            roll = rng.random()
            if roll < self.knobs.backorder_rate or on_hand < line.quantity:
                shipped = min(on_hand, rng.randint(0, line.quantity - 1)) if line.quantity else 0
                status = "BP" if shipped else "BO"
            elif roll < self.knobs.backorder_rate + self.knobs.partial_rate and line.quantity > 1:
                shipped, status = rng.randint(1, line.quantity - 1), "CP"
            stock[line.sku] = on_hand - shipped
            lines.append(ShippedLine(line.line_number, line.sku, line.quantity, shipped, status))
        self.state.data["shipments"] += 1
        scac = order.carrier_scac or rng.choice(CARRIERS)
        shipped_lines = [line for line in lines if line.shipped]
        packages = [
            Package(_tracking(scac, rng), tuple(shipped_lines[i : i + 3]))
            for i in range(0, len(shipped_lines), 3)
        ]
        weight = sum(
            (self.weights.get(line.sku, Decimal("0.5")) * line.shipped for line in lines),
            Decimal("0"),
        )
        today = datetime.fromtimestamp(self.clock(), UTC).date()
        return ShippingAdvice(
            order_number=order.order_number,
            po_number=order.po_number,
            shipment_id=f"SH{self.state.data['shipments']:08d}",
            ship_date=max(today, order.requested_ship_date),
            carrier_scac=scac,
            ship_to=order.ship_to,
            packages=tuple(packages),
            unshipped=tuple(line for line in lines if not line.shipped),
            weight_kg=weight.quantize(Decimal("0.01")),
        )

    def send_inventory(self) -> Path | None:
        stock: dict[str, int] = self.state.data["stock"]
        reserved: dict[str, int] = {}
        for item in self.state.data["pending"]:
            for line in parse_940(Transaction("940", "0001", item["segments"])).lines:
                reserved[line.sku] = reserved.get(line.sku, 0) + line.quantity
        when = datetime.fromtimestamp(self.clock(), UTC)
        gtins = {p.sku: p.gtin for p in shop_products()}
        items = tuple(
            StockLine(sku, qty, max(0, qty - reserved.get(sku, 0)), gtins.get(sku, ""))
            for sku, qty in sorted(stock.items())
        )
        advice = InventoryAdvice(f"INV{when:%Y%m%d%H%M%S}", when.date(), items)
        depositor = Party("ZZ", "TANDEM", "TANDEM")
        written = self._send(depositor, "846", [("846", build_846(advice, f"{when:%H%M}"))], "846")
        return written[0] if written else None

    def _send(
        self, receiver: Party, kind: str, sets: list[tuple[str, list[Segment]]], stem: str
    ) -> list[Path]:
        isa13, gs06 = self.controls.next()
        when = datetime.fromtimestamp(self.clock(), UTC)
        text = build_interchange(
            self.config.warehouse,
            receiver,
            sets,
            interchange_number=isa13,
            group_number=gs06,
            when=when,
        )
        rng = random.Random(f"{self.config.seed}:{kind}:{isa13}")
        if kind == "945" and self.knobs.malformed_rate and rng.random() < self.knobs.malformed_rate:
            text = break_interchange(text, rng)
        name = f"{stem}_{isa13:09d}.edi"
        return deliver(self.outbound, name, text.encode("utf-8"), self.knobs, rng)

    def _send_ta1(self, text: str, error: InterchangeError) -> None:
        identity = isa_identity(text)
        if identity is None:
            return
        sender, rejected = identity
        isa13, _ = self.controls.next()
        when = datetime.fromtimestamp(self.clock(), UTC)
        ta1 = build_ta1_interchange(
            self.config.warehouse, sender, rejected, error, interchange_number=isa13, when=when
        )
        deliver(
            self.outbound,
            f"TA1_{rejected[0]}_{isa13:09d}.edi",
            ta1.encode(),
            FaultKnobs(),
            random.Random(0),
        )


def _tracking(scac: str, rng: random.Random) -> str:
    if scac == "UPSN":
        shipper = "".join(rng.choice("ABCDEFGHJKLMNPRTUVWXY0123456789") for _ in range(6))
        return f"1Z{shipper}03{rng.randrange(10**8):08d}"
    if scac == "USPS":
        return f"9400{rng.randrange(10**18):018d}"
    return f"{rng.randrange(10**11, 10**12)}"
