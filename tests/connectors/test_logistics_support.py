"""Helpers shared by the 3PL connector tests (no tests here): settings for the real sshd,
the sandbox 3PL on its area, 940s written by the depositor's own software."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.logistics import LogisticsSettings
from connectors.transports.sftp import SftpSettings
from sandbox.edi.documents import NamedParty, OrderLine, ShippingOrder, build_940, parse_945
from sandbox.edi.x12 import Party, build_interchange, read_interchange
from sandbox.files.runner import FilePartners, start_file_partners
from sandbox.pdm.products import shop_products
from sandbox.sshd import SshdHandle

PASSWORD = "threepl-Pw-8d2f4b"  # a throwaway password for the test user
QUICK = {"attempts": 2, "initial_wait": 0.05, "max_wait": 0.1, "jitter": 0.01}
QUIET = {
    "delay_s": 0,
    "settle_s": 0,
    "inventory_interval_s": 0,
    "partial_rate": 0.3,
    "backorder_rate": 0.2,
}
_orders = itertools.count(1)


def settings(
    sshd: SshdHandle, root: Path, db: Path, *, port: int | None = None, **overrides: Any
) -> LogisticsSettings:
    sftp = SftpSettings(
        host=sshd.host,
        port=port or sshd.port,
        username=sshd.user,
        password=PASSWORD,
        key_file=sshd.client_key,
        known_hosts=sshd.known_hosts,
        root=str(root),
        settle_seconds=0.0,
        connect_timeout=3.0,
        operation_timeout=10.0,
        retry=QUICK,
    )
    return LogisticsSettings(sftp=sftp, control_db_url=f"sqlite:///{db}", **overrides)


def start_partners(root: Path, **threepl: Any) -> FilePartners:
    knobs = {"threepl": {**QUIET, **threepl}, "drp": {"paused": True}, "pdm": {"paused": True}}
    return start_file_partners(root, knobs=knobs, run=False)


def skus() -> list[str]:
    return [p.sku for p in shop_products()]


def order_record(number: str | None = None, lines: int = 2) -> dict[str, Any]:
    """A shipping order dict as mappings/x12/sales_order.from_canonical.yaml makes it."""
    number = number or f"SO-{datetime.now(UTC):%H%M%S}-{next(_orders):04d}"
    catalogue = skus()
    return {
        "order_number": number,
        "po_number": f"PO-{number}",
        "purpose": "N",
        "requested_ship_date": "2026-11-24",
        "carrier_scac": "UPSN",
        "ship_to": {
            "name": "Ada Lovelace",
            "street": "12 Analytical Way",
            "city": "London",
            "postcode": "N1 9GU",
            "country": "GB",
        },
        "lines": [
            {
                "line_number": i + 1,
                "sku": catalogue[i % len(catalogue)],
                "quantity": str(1 + i),
                "uom": "EA",
                "description": f"item {i}",
            }
            for i in range(lines)
        ],
    }


def drop_940s(sshd: SshdHandle, root: Path, n: int) -> list[str]:
    """``n`` 940s written by the depositor's *own* software (the sandbox X12), not by the
    connector; their order numbers."""
    numbers = []
    catalogue = skus()
    for _ in range(n):
        number = f"EXT-{datetime.now(UTC):%H%M%S%f}-{next(_orders)}"
        order = ShippingOrder(
            number,
            f"PO{number}",
            NamedParty(
                "ST",
                "Shop",
                street="1 Main St",
                city="Springfield",
                state="IL",
                postcode="62701",
                country="US",
            ),
            datetime.now(UTC).date(),
            (OrderLine(1, catalogue[0], 2), OrderLine(2, catalogue[1], 1)),
        )
        text = build_interchange(
            Party("ZZ", "TANDEM", "TANDEM"),
            Party("ZZ", "NORTHWAY3PL", "NORTHWAY3PL"),
            [("940", build_940(order))],
            interchange_number=next(_orders),
            group_number=next(_orders),
            when=datetime.now(UTC),
        )
        sshd.drop(root / "3pl" / "inbound" / f"{number}.edi", text.encode())
        numbers.append(number)
    return numbers


def ship(partners: FilePartners, root: Path, before: set[str]) -> set[str]:
    """Two ticks (receive, then ship what is due); the shipment ids of the new 945 files."""
    partners.tick()
    partners.tick()
    ids: set[str] = set()
    for path in sorted((root / "3pl" / "outbound").glob("945_*")):
        if path.name not in before:
            for tx in read_interchange(path.read_bytes()).transactions():
                ids.add(parse_945(tx).shipment_id)
    return ids


def outbound_names(root: Path) -> set[str]:
    return {p.name for p in (root / "3pl" / "outbound").iterdir()}


def sent_copies(root: Path, order_number: str) -> int:
    """940 files of ``order_number`` the 3PL holds (waiting, processed or rejected)."""
    base = root / "3pl"
    return sum(
        1
        for d in ("inbound", "archive", "errors")
        if (base / d).exists()
        for p in (base / d).glob(f"940_{order_number}_*")
        if not p.name.endswith(".txt")
    )
