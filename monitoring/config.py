"""What monitoring needs to know, handed in by the application (it never reads flows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_MASK_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "name",
    "street",
    "street2",
    "address_1",
    "address_2",
)


@dataclass(frozen=True)
class MonitorConfig:
    """``flow_sources``: flow name -> the systems it reads (freshness per flow);
    ``freshness_sla``: seconds per flow, system or cursor name; ``mask_fields``: payload keys
    whose values are personal data and are shown masked."""

    flow_sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    freshness_sla: Mapping[str, float] = field(default_factory=dict)
    mask_fields: tuple[str, ...] = DEFAULT_MASK_FIELDS
    systems: tuple[str, ...] = ()
    page_size: int = 50
