"""The customer sync's rules as data: field owners and fan-out (``survivorship.yaml``).

``SyncConfig.load()`` reads the file next to this module, or another one given by path (the
environment variable ``TANDEM_CUSTOMER_RULES`` names one for a deployment). Owners not named
in the file keep the defaults of ``flows.golden.CUSTOMER_OWNERS``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from canonical.errors import PermanentError
from flows.golden import CUSTOMER_OWNERS, Survivorship

RULES = Path(__file__).with_name("survivorship.yaml")
ERP_SYSTEMS = ("erp_soap", "erp_tryton", "erp_sql", "erp")


class FanOut(StrEnum):
    ALL = "all"  # every golden customer goes there (created or updated)
    KNOWN = "known"  # only customers the system already has are updated there
    NONE = "none"  # nothing goes there


@dataclass(frozen=True)
class SyncConfig:
    survivorship: Survivorship
    fan_out: Mapping[str, FanOut] = field(default_factory=dict)  # by role: crm, erp, webshop

    def role(self, system: str) -> str:
        return self.survivorship.role(system)

    def fan_out_to(self, system: str) -> FanOut:
        return self.fan_out.get(self.role(system), FanOut.NONE)

    @classmethod
    def load(cls, path: Path | str | None = None) -> SyncConfig:
        source = Path(path or os.environ.get("TANDEM_CUSTOMER_RULES") or RULES)
        try:
            data: Any = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise PermanentError(f"customer rules {source}: cannot be read: {exc}") from exc
        return cls.from_dict(data, source=str(source))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "settings") -> SyncConfig:
        owners = dict(CUSTOMER_OWNERS)
        for name, systems in (data.get("owners") or {}).items():
            if not isinstance(systems, list) or not all(isinstance(s, str) for s in systems):
                raise PermanentError(f"customer rules {source}: owners.{name} must be a list")
            owners[str(name)] = tuple(systems)
        aliases = {str(k): str(v) for k, v in (data.get("aliases") or {}).items()}
        try:
            fan_out = {str(k): FanOut(str(v)) for k, v in (data.get("fan_out") or {}).items()}
        except ValueError as exc:
            raise PermanentError(
                f"customer rules {source}: fan_out: {exc} (all, known or none)"
            ) from exc
        return cls(Survivorship(owners, aliases), fan_out)
