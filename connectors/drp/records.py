"""One product activity row, whatever file it came in (X12 852 or a CSV stock report).

A row is one product at one location for one reporting period, with its quantities by X12
activity code (ZA01): ``QA`` on hand/available, ``QS`` sold, ``QP`` on order, ``QR``
received, ``QU`` returned by consumers, and the others the 852 defines. A CSV report's columns
are translated to the same codes, so the same figures sent both ways give the same record.

The key is deterministic: distributor, location, product, period and the activity codes
reported. The 852 and the CSV of one report therefore have the same key (the hub keeps one),
a resent file gives the same key again, and a later report that corrects a period gives the
same key with another ``version`` (a hash of the quantities).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

ACTIVITY_NAMES = {
    "QA": "available",
    "QS": "sold",
    "QP": "on_order",
    "QR": "received",
    "QU": "returned",
    "QO": "out_of_stock",
    "QI": "in_transit",
    "QC": "committed",
    "QE": "ending_balance",
    "QB": "beginning_balance",
    "OH": "on_hand",
    "QT": "adjustment",
    "QD": "additional_demand",
    "QH": "damaged_or_on_hold",
    "QW": "withdrawn",
    "Q1": "sold_net",
    "TS": "total_sales",
    "LS": "lost_sales",
}
"""X12 4010 ZA01 activity codes Tandem names; other codes are kept under their code."""


def _quantity(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class ActivityRow:
    """One product/location/period row of a product activity report."""

    distributor: str
    format: str  # "852" or "csv"
    file: str
    position: str  # "line 7", "LIN 3"
    sku: str
    gtin: str
    period_start: date
    period_end: date
    activity: dict[str, Decimal] = field(default_factory=dict)
    location: str = ""
    description: str = ""
    uom: str = "EA"
    report_id: str = ""
    buyer_item: str = ""  # the distributor's own article number (852 LIN BP/IN)

    @property
    def product(self) -> str:
        return self.sku or (f"gtin:{self.gtin}" if self.gtin else f"buyer:{self.buyer_item}")

    @property
    def key(self) -> str:
        codes = "+".join(sorted(self.activity))
        period = f"{self.period_start:%Y%m%d}-{self.period_end:%Y%m%d}"
        return "|".join((self.distributor, self.location or "-", self.product, period, codes))

    @property
    def version(self) -> str:
        figures = ";".join(f"{c}={_quantity(q)}" for c, q in sorted(self.activity.items()))
        return hashlib.sha256(f"{self.uom};{figures}".encode()).hexdigest()[:16]

    @property
    def source(self) -> str:
        return f"{self.distributor}/{self.file} {self.position}"

    def data(self) -> dict[str, Any]:
        """The record as JSON-friendly values (quantities as exact decimal text)."""
        quantities = {code: _quantity(q) for code, q in sorted(self.activity.items())}
        named = {ACTIVITY_NAMES.get(code, code): value for code, value in quantities.items()}
        return {
            "distributor": self.distributor,
            "format": self.format,
            "file": self.file,
            "report_id": self.report_id or None,
            "location": self.location or None,
            "sku": self.sku or None,
            "gtin": self.gtin or None,
            "buyer_item": self.buyer_item or None,
            "description": self.description or None,
            "uom": self.uom,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "activity": quantities,
            "quantities": named,
        }
