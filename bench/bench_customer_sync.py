"""Customer sync on the seeded landscape: the whole flow against pulling alone.

    python -m bench.bench_customer_sync

Starts the seeded sandbox web shop (399 customers), CRM (120 accounts with their contacts and
150 of the shop's customers as contacts) and NAV SOAP ERP (300 customers) on loopback, then:

- ``pull``: the four customer streams into the inbox of an empty hub (the baseline);
- ``first``: ``customer_sync.run`` on another empty hub: pull, identity resolution, golden
  records, deliveries to the CRM and the ERP;
- ``second``: the same again (reads the first run's writes back as echoes);
- ``third``: once more (nothing new).

Prints one JSON document: seconds per case, their ratios to ``pull``, the counts of each run,
the golden customers, reviews and xrefs per system, and whether the peers changed in the
second and third runs (they must not).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from flows import customer_sync
from flows.customers.sources import sources
from flows.pull import pull
from flows.spec import RunOptions
from hub.engine import upgrade
from hub.schema import CanonicalRecord, ReviewItem, Xref
from hub.store import Hub
from sandbox.crm.peer import start_in_thread as start_crm
from sandbox.erp_soap.server import start_in_thread as start_erp
from sandbox.webshop.peer import start_in_thread as start_webshop
from tests.flows.customer_landscape import ERP_SECRET, ERP_USER, Landscape, PeerServices


def new_hub(folder: Path, name: str) -> Hub:
    url = f"sqlite:///{folder / name}.sqlite"
    upgrade(url)
    return Hub(url)


def counts(hub: Hub) -> dict[str, Any]:
    with hub.begin() as hs:
        golden = hs.session.scalar(select(func.count()).where(CanonicalRecord.entity == "customer"))
        reviews = hs.session.scalar(select(func.count()).select_from(ReviewItem))
        xrefs = dict(
            hs.session.execute(
                select(Xref.system, func.count())
                .where(Xref.entity == "customer")
                .group_by(Xref.system)
            ).all()
        )
        samples = hs.session.scalars(select(ReviewItem.explanation).limit(3)).all()
    return {"golden_customers": golden, "reviews": reviews, "xrefs": xrefs,
            "review_samples": samples}  # fmt: skip


def main() -> None:
    shop, crm = start_webshop(seed=1), start_crm(seed=1)
    erp = start_erp(seed=1, credentials=(ERP_USER, ERP_SECRET))
    land = Landscape(shop, crm, erp)
    result: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            base_hub = new_hub(folder, "pull")
            base = PeerServices(base_hub, land)
            started = time.perf_counter()
            read = 0
            for source in sources("erp_soap"):
                read += pull(base_hub, base.connector(source.pull.system), source.pull).read
            result["pull"] = {"seconds": round(time.perf_counter() - started, 3), "read": read}
            base.close()
            base_hub.close()
            hub = new_hub(folder, "sync")
            services = PeerServices(hub, land)
            before: dict[str, Any] = {}
            for case in ("first", "second", "third"):
                started = time.perf_counter()
                summary = customer_sync.run(services, RunOptions())
                seconds = time.perf_counter() - started
                snapshot = land.snapshot()
                result[case] = {
                    "seconds": round(seconds, 3),
                    "ratio_to_pull": round(seconds / result["pull"]["seconds"], 2),
                    "summary": summary.counts(),
                    "peers_unchanged": snapshot == before if case != "first" else None,
                }
                before = snapshot
            result["hub"] = counts(hub)
            services.close()
            hub.close()
    finally:
        shop.stop()
        crm.stop()
        erp.stop()
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
