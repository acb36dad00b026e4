"""Who a distributor is in the hub and the other systems, and running a flow's own deliveries.

Shared by the distributor flows (orders, sell-through).
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import and_, or_, select

from canonical.errors import PermanentError
from canonical.models import Customer, Entity
from flows.delivery import DeliveryWorker
from flows.spec import HandlerMap, RunOptions, Services, chosen_targets
from flows.summary import FlowSummary
from hub.schema import Delivery, DeliveryStatus
from hub.store import HubSession
from mappings import drp

DRP, ERP = drp.SYSTEM, "erp"  # ERP: the role, as the ERP order handler and its xrefs name it


class DistributorAccount(BaseModel):
    """A distributor's customer number in the ERP, its CRM account, and the name a golden
    customer created for it gets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    erp: str | None = None
    crm: str | None = None
    name: str | None = None


class DistributorAccounts(BaseSettings):
    """``TANDEM_DISTRIBUTOR_ACCOUNTS='{"pacific-brew": {"erp": "C00010", "crm": "<id>"}}'``."""

    model_config = SettingsConfigDict(env_prefix="TANDEM_DISTRIBUTOR_", extra="ignore")

    accounts: dict[str, DistributorAccount] = Field(default_factory=dict)

    def of(self, distributor: str) -> DistributorAccount:
        return self.accounts.get(distributor) or DistributorAccount()

    @classmethod
    def load(cls) -> DistributorAccounts:
        """From the environment; a wrong value is a ``PermanentError`` naming the field."""
        try:
            return cls()
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise PermanentError(f"TANDEM_DISTRIBUTOR_ACCOUNTS: {problems}") from None


def golden_customer(
    hs: HubSession, distributor: str, account: DistributorAccount, new: Customer | None
) -> str | None:
    """The distributor's golden customer: by the distributor's key, else its configured ERP
    or CRM id, else ``new`` is created (None: nothing created). The key and the configured
    ids are linked to it, so the ERP order handler uses the ERP customer as it is."""
    cid = hs.resolve(Entity.CUSTOMER, DRP, distributor)
    ids = [(ERP, account.erp), ("crm", account.crm)]
    for system, external in ids:
        if cid is None and external:
            cid = hs.resolve(Entity.CUSTOMER, system, external)
    if cid is None:
        if new is None:
            return None
        cid = hs.upsert(new, canonical_id=None, source_system=DRP).canonical_id
    hs.link(Entity.CUSTOMER, cid, DRP, distributor)
    for system, external in ids:
        if external and hs.external_id(Entity.CUSTOMER, cid, system) is None:
            hs.link(Entity.CUSTOMER, cid, system, external)
    return cid


def deliver(
    services: Services,
    handlers: HandlerMap,
    pairs: Iterable[tuple[str, str]],
    summary: FlowSummary,
    options: RunOptions,
) -> None:
    """Run the due deliveries of ``pairs`` (target system, entity) with ``handlers``: a flow
    delivers what it queued without needing any other flow's configuration. To the run's
    chosen targets only (``options.targets``); what is due to the others stays queued."""
    pairs = list(pairs)
    chosen = set(chosen_targets(options, {target for target, _ in pairs}))
    pairs = [(target, entity) for target, entity in pairs if target in chosen]
    if not pairs:
        return
    due = or_(*(and_(Delivery.target_system == t, Delivery.entity == e) for t, e in pairs))
    stmt = select(Delivery.id).where(
        due, Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.FAILED))
    )
    with services.hub.begin() as hs:
        ids = list(hs.session.scalars(stmt))
    if ids:
        worker = DeliveryWorker(services.hub, handlers, services.retry_policy)
        summary.merge(worker.run(ids=ids))
