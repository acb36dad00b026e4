"""Bulk customer load: a whole customer base into the hub, fast, in partitions.

For a first load (or a full resync) of many customers from one system, where the customer
sync's record-by-record processing would take hours. A run reads top to bottom:

1. read: the web shop's ``customers`` stream from this partition's cursor, or a generated
   source of realistic WooCommerce customers (``TANDEM_BULK_SOURCE=generated:<count>``, for
   demos and benchmarks); only the records of this partition (``TANDEM_BULK_PARTITION=i/n``,
   by a stable hash of the key) are kept, so ``n`` workers can each take one;
2. load (``hub.bulk.BulkLoader``), batch by batch, each in one transaction with the cursor
   after it: records already held in the same version are skipped before mapping; the rest
   are mapped (``mappings/woocommerce/customer.to_canonical.yaml``), validated, stored with
   their xref, and each created or changed customer is queued for the CRM and the ERP.

No identity resolution: each source record is its own canonical customer (the customer sync
merges duplicates later). Memory stays bounded: one batch is held at a time.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from canonical.models import Entity, Record
from connectors.base import RawRecord
from flows.pull import PullSpec, dedupe_key
from flows.spec import FlowSpec, RunOptions, Services
from flows.summary import FlowSummary
from hub.bulk import BulkCounts, BulkLoader, SourceRecord
from hub.store import Hub
from mappings.woocommerce import customer_mapping

NAME = "bulk-customers"
SPEC = PullSpec("webshop", "customers", "customer")
BATCH = 2000
T = TypeVar("T")


@dataclass(frozen=True)
class Partition:
    """Partition ``index`` of ``count``: the records whose key hashes to ``index``."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"partition {self.index} of {self.count} does not exist")

    @classmethod
    def parse(cls, text: str) -> Partition:
        """``"i/n"``, e.g. ``"0/4"``."""
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError as exc:
            raise ValueError(f"a partition is written i/n (e.g. 0/4), not {text!r}") from exc
        return cls(index, count)

    def holds(self, key: str) -> bool:
        return self.count == 1 or zlib.crc32(key.encode()) % self.count == self.index

    def __str__(self) -> str:
        return f"{self.index}of{self.count}"


def map_customer(data: Any) -> Record:
    """The web shop customer resource -> canonical Customer (``InvalidRecord`` if bad)."""
    value: Record = customer_mapping().map(data, source=SPEC.system).value
    return value


_BODY = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)
"""The body kept for a record without its original bytes; one encoder, not one per record."""


def source_records(records: Iterable[RawRecord], spec: PullSpec = SPEC) -> Iterator[SourceRecord]:
    """Raw records as the bulk loader takes them, with the dedupe keys a pull would give;
    the body kept is the record's original bytes when the connector kept them."""
    for record in records:
        body = record.raw or _BODY.encode(record.data).encode()
        key = dedupe_key(spec, record, body)
        yield SourceRecord(record.key, key, body, record.data, record.version)


def batches(records: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def loader(hub: Hub, targets: Iterable[str], system: str = SPEC.system) -> BulkLoader:
    return BulkLoader(
        hub,
        system=system,
        entity=Entity.CUSTOMER,
        kind=SPEC.kind,
        mapper=map_customer,
        targets=tuple(targets),
    )


def load(
    hub: Hub,
    records: Iterable[RawRecord],
    targets: Iterable[str],
    *,
    batch: int = BATCH,
    partition: Partition = Partition(),
) -> BulkCounts:
    """Load raw web shop customers (this partition's) into the hub, batch by batch."""
    bulk, total = loader(hub, targets), BulkCounts()
    kept = (r for r in records if partition.holds(r.key))
    for chunk in batches(source_records(kept), batch):
        total.add(bulk.load(chunk))
    return total


# -- a generated source ------------------------------------------------------------------------

# fmt: off
_FIRST = ("Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas",
          "Klara", "Lukas", "Mia", "Noah", "Olivia", "Paul", "Rosa", "Samuel", "Tara", "Victor",
          "Wen", "Yusuf", "Zoé", "Łukasz", "Søren", "José", "Aoife", "Mateo", "Chloé", "Ingrid")
_LAST = ("Müller", "Schmidt", "Meyer", "Smith", "Jones", "Garcia", "Martin", "Bernard", "Rossi",
         "Kowalski", "Nowak", "Jansen", "de Vries", "Johansson", "Nielsen", "O'Brien", "Dubois",
         "Fischer", "Weber", "Novák", "Silva", "Costa", "Brown", "Taylor", "Wagner", "Becker")
_STREETS = ("Hauptstraße", "Bahnhofstraße", "High Street", "Station Road", "Rue de la Paix",
            "Via Roma", "Kerkstraat", "Calle Mayor", "Main Street", "Gartenweg", "Mill Lane")
_PLACES = (("DE", "Berlin", "BE", "10"), ("DE", "München", "BY", "80"),
           ("AT", "Wien", "", "10"), ("GB", "Leeds", "", "LS"), ("FR", "Lyon", "", "69"),
           ("IT", "Milano", "MI", "20"), ("NL", "Utrecht", "UT", "35"),
           ("ES", "Sevilla", "SE", "41"), ("US", "Austin", "TX", "78"),
           ("PL", "Kraków", "", "30"), ("SE", "Malmö", "", "21"), ("IE", "Cork", "", "T1"))
# fmt: on
_COMPANIES = ("Acme", "Nordlicht", "Bellavista", "Holzwerk", "Blue Harbour", "Kettle & Co")
_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


class _Draws:
    """Deterministic draws from one number (a 64-bit mix of it, re-mixed when used up): a
    customer is the same every time it is generated, without a ``random.Random`` per record
    (seeding one costs more than making the whole record)."""

    __slots__ = ("_bits", "_state")

    def __init__(self, number: int) -> None:
        self._state = number
        self._bits = _mix(number)

    def number(self, below: int) -> int:
        if self._bits < below << 8:
            self._state += 0x9E3779B97F4A7C15
            self._bits = _mix(self._state)
        self._bits, found = divmod(self._bits, below)
        return found

    def pick(self, options: tuple[T, ...]) -> T:
        return options[self.number(len(options))]

    def below(self, percent: int) -> bool:
        return self.number(100) < percent


def _mix(number: int) -> int:
    """The splitmix64 finaliser: neighbouring numbers give unrelated 64-bit values."""
    number = (number ^ (number >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    number = (number ^ (number >> 27)) * 0x94D049BB133111EB & _MASK
    return number ^ (number >> 31)


_MASK = (1 << 64) - 1


def generated_customer(
    seed: int, customer_id: int, revision: int = 0, restamp: int = 0
) -> dict[str, Any]:
    """A realistic WooCommerce customer resource; ``revision`` r > 0 is the same customer
    changed r times (another phone, modified r hours later); ``restamp`` m > 0 the same
    content modified m minutes later. About 2 in 100 customers are duplicates of another
    one (same person and e-mail, another account id)."""
    person = customer_id - 1 if customer_id % 50 == 7 else customer_id
    draw = _Draws(seed * 1_000_003 + person)
    first, last = draw.pick(_FIRST), draw.pick(_LAST)
    country, city, state, zip_prefix = draw.pick(_PLACES)
    company = draw.pick(_COMPANIES) + " " + last if draw.below(20) else ""
    email = f"{first}.{last}.{person}@{draw.pick(_DOMAINS)}".lower().replace(" ", "")
    created = _EPOCH + timedelta(seconds=draw.number(86_400 * 365))
    modified = created + timedelta(hours=revision, minutes=restamp)
    line = 10_000 + draw.number(90_000) + revision
    phone = f"+{30 + draw.number(20)} {100 + draw.number(900)} {line}"
    address = {
        "first_name": first,
        "last_name": last,
        "company": company,
        "address_1": f"{draw.pick(_STREETS)} {1 + draw.number(240)}",
        "address_2": f"Apt {1 + draw.number(40)}" if draw.below(20) else "",
        "city": city,
        "state": state,
        "postcode": f"{zip_prefix}{100 + draw.number(900)}",
        "country": country,
    }
    return {
        "id": customer_id,
        "date_created_gmt": created.strftime("%Y-%m-%dT%H:%M:%S"),
        "date_modified_gmt": modified.strftime("%Y-%m-%dT%H:%M:%S"),
        "email": email,
        "first_name": first,
        "last_name": last,
        "role": "customer",
        "username": email.split("@", 1)[0],
        "billing": {**address, "email": email, "phone": phone},
        "shipping": {**address, "phone": ""},
        "is_paying_customer": draw.below(60),
        "meta_data": [
            {
                "id": customer_id,
                "key": "mailchimp_woocommerce_is_subscribed",
                "value": "1" if draw.below(30) else "0",
            }
        ],
    }


def generated(
    ids: Iterable[int],
    *,
    seed: int = 1,
    revision: int = 0,
    restamp: int = 0,
    partition: Partition = Partition(),
) -> Iterator[RawRecord]:
    """Generated web shop customers with the given ids, as the ``customers`` stream gives them.
    About 1 in 100 is read twice in a row (a page boundary re-read)."""
    for customer_id in ids:
        key = str(customer_id)
        if not partition.holds(key):
            continue
        data = generated_customer(seed, customer_id, revision, restamp)
        record = RawRecord(SPEC.stream, key, data, version=data["date_modified_gmt"])
        yield record
        if customer_id % 100 == 3:
            yield record


# -- the flow ----------------------------------------------------------------------------------


def run_partition(
    services: Services, options: RunOptions, partition: Partition, source: str = "webshop"
) -> FlowSummary:
    """Load one partition from ``source``: ``webshop`` (its connector, from the partition's
    cursor) or ``generated:<count>``."""
    summary = FlowSummary(NAME)
    if options.dry_run:
        summary.notes.append("dry run: nothing read, stored or delivered")
        return summary
    erp = services.system_name("erp")
    # queued for both; the chosen targets (``options.targets``) are the delivery step's, and
    # only the customers asked for (``entity_ids``) are loaded, the cursor left where it was
    wanted = None if options.entity_ids is None else set(options.entity_ids)
    bulk = loader(services.hub, ("crm", erp))
    if source.startswith("generated:"):
        count = int(source.split(":")[1])
        pages: Iterable[tuple[list[RawRecord], str | None]] = (
            (batch, None)
            for batch in batches(generated(range(1, count + 1), partition=partition), BATCH)
        )
        cursor_name = None
    else:
        cursor_name = f"{NAME}.{SPEC.cursor_name}.{partition}"
        with services.hub.begin() as hs:
            cursor = None if options.full else hs.get_cursor(cursor_name)
        pages = (
            ([r for r in page.records if partition.holds(r.key)], page.cursor)
            for page in services.connector(SPEC.system).read(SPEC.stream, cursor)
        )
    total = BulkCounts()
    found: set[str] = set()
    for records, after in _gather(pages, wanted):
        at = (cursor_name, after) if cursor_name and after and wanted is None else None
        found.update(r.key for r in records)
        total.add(bulk.load(list(source_records(records)), cursor=at))
    summary.read, summary.changed = total.read, total.created + total.changed
    summary.unchanged, summary.stale = total.unchanged + total.duplicate, total.stale
    summary.quarantined = total.quarantined
    summary.notes.append(f"partition {partition.index + 1} of {partition.count}: {total.as_dict()}")
    missing = sorted(k for k in (wanted or set()) - found if partition.holds(k))
    if missing:  # e.g. loaded before: a full resync reads from the start
        summary.notes.append(f"not found after the cursor: {', '.join(missing[:20])}")
    return summary


def _gather(
    pages: Iterable[tuple[list[RawRecord], str | None]], wanted: set[str] | None
) -> Iterator[tuple[list[RawRecord], str | None]]:
    """Pages joined into batches of about ``BATCH`` records (of the keys ``wanted`` only),
    each with the cursor after it."""
    held: list[RawRecord] = []
    after: str | None = None
    for records, cursor in pages:
        held.extend(r for r in records if wanted is None or r.key in wanted)
        after = cursor or after
        if len(held) >= BATCH:
            yield held, after
            held = []
    if held or after:
        yield held, after


def run(services: Services, options: RunOptions) -> FlowSummary:
    text = options.partition or os.environ.get("TANDEM_BULK_PARTITION", "0/1")
    partition = Partition.parse(text)
    return run_partition(
        services, options, partition, os.environ.get("TANDEM_BULK_SOURCE", "webshop")
    )


FLOW = FlowSpec(
    name=NAME,
    description="A whole customer base of the web shop (or a generated one) -> the hub in "
    "batches, partition by partition -> queued for the CRM and the ERP",
    source="webshop",
    targets=("crm", "erp"),
    run=run,
    tags=("customers", "bulk"),
)
