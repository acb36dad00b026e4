"""Mapping engine throughput against hand-written Python, in the same run.

Realistic WooCommerce orders (5 lines, ~30 header fields and ~10 per line; ``--distinct``
different ones, cycled, so caches keyed by input text see real repetition, not one record
again and again) are mapped to their canonical customer and sales order:

- ``mapping``: the engine's two compiled mapping files, customer and order (values + errors,
  before canonical validation) against ``bench.handwritten_dicts`` making the same dicts
  (checked equal first);
- ``order_mapping_only_rps``: the order mapping file alone (context: the sales order with its
  addresses and lines, without the customer record made from the same order);
- ``with_validation``: ``mappings.woocommerce.map_order`` (engine + pydantic models) against
  the hand-written ``map_order`` it replaced (``bench.handwritten_woocommerce``).

Goal: engine >= 50,000 records/s on one core and >= 0.5x the hand-written function.
Run: ``python -m bench.bench_mapping [--seconds 0.5] [--rounds 7] [--distinct 200]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench import handwritten_dicts, handwritten_woocommerce
from mappings import woocommerce
from sandbox.webshop.orders import make_order

GOAL_RPS = 50_000
GOAL_RATIO = 0.5


def sample_orders(count: int, lines: int = 5) -> list[dict[str, Any]]:
    """``count`` different generated orders with ``lines`` line items each."""
    found: list[dict[str, Any]] = []
    for order_id in range(1000, 1000 + 100 * count):
        order = make_order(42, order_id)
        if len(order["line_items"]) == lines:
            found.append(order)
            if len(found) == count:
                return found
    raise LookupError(f"fewer than {count} generated orders with {lines} lines")


def leaf_count(value: Any) -> int:
    if isinstance(value, dict):
        return sum(leaf_count(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(leaf_count(v) for v in value)
    return 1


def rate(fn: Callable[[Any], Any], records: list[Any], seconds: float) -> float:
    """Records per second of ``fn(record)`` over ``records``, cycled for about ``seconds``."""
    batch = records * max(1, 200 // len(records))
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for record in batch:
            fn(record)
        n += len(batch)
    return n / elapsed


def compare(
    engine: Callable[[Any], Any], baseline: Callable[[Any], Any], records: list[Any], args: Any
) -> dict[str, float]:
    engine_rates, baseline_rates = [], []
    for _ in range(args.rounds):  # interleaved, so load from elsewhere hits both alike
        engine_rates.append(rate(engine, records, args.seconds))
        baseline_rates.append(rate(baseline, records, args.seconds))
    e, b = statistics.median(engine_rates), statistics.median(baseline_rates)
    return {"engine_rps": round(e), "handwritten_rps": round(b), "ratio": round(e / b, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="per measurement")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--distinct", type=int, default=200, help="different orders, cycled")
    args = parser.parse_args()

    orders = sample_orders(args.distinct)
    customer_map, order_map = woocommerce.mappings()

    def engine(record: Any) -> Any:
        return customer_map.run(record), order_map.run(record)

    for order in orders:
        customer, sales_order, errors = handwritten_dicts.map_order_dicts(order)
        mapped_c, mapped_o = engine(order)
        if (customer, sales_order, errors) != (mapped_c.values, mapped_o.values, []):
            raise SystemExit(f"the hand-written baseline and the engine disagree: {order['id']}")
        if woocommerce.map_order(order).order != handwritten_woocommerce.map_order(order).order:
            raise SystemExit(f"the engine's map_order and the old one disagree: {order['id']}")

    order = orders[0]
    mapped_c, mapped_o = engine(order)
    calibration = rate(lambda _: sum(range(1000)), [None], 0.3)
    m = compare(engine, handwritten_dicts.map_order_dicts, orders, args)
    v = compare(woocommerce.map_order, handwritten_woocommerce.map_order, orders, args)
    order_only = statistics.median(
        rate(order_map.run, orders, args.seconds) for _ in range(args.rounds)
    )
    result = {
        "sample": {
            "distinct_orders": len(orders),
            "order_lines": len(order["line_items"]),
            "canonical_fields": leaf_count(mapped_c.values) + leaf_count(mapped_o.values),
        },
        "python": platform.python_version(),
        "calibration_sum_range_1000_per_s": round(calibration),
        "mapping": m,
        "order_mapping_only_rps": round(order_only),
        "with_validation": v,
        "goal": {"records_per_s": GOAL_RPS, "ratio": GOAL_RATIO},
    }
    print(json.dumps(result, indent=2))
    print(
        f"engine {m['engine_rps']:,} records/s vs hand-written {m['handwritten_rps']:,}/s: "
        f"ratio {m['ratio']} (goal >= {GOAL_RPS:,}/s and >= {GOAL_RATIO}); the order mapping "
        f"alone {round(order_only):,}/s; with pydantic "
        f"validation {v['engine_rps']:,}/s vs {v['handwritten_rps']:,}/s: ratio {v['ratio']}"
    )


if __name__ == "__main__":
    main()
