"""Write a BMEcat catalogue of any size as a stream (for benchmarks and manual tests).

python -m sandbox.pdm --products 800000 --out /tmp/catalog.xml      # ~1 GB, constant memory
python -m sandbox.pdm --products 100 --out cat12.xml --bmecat-version 1.2
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sandbox.pdm.bmecat import CatalogInfo, write_catalog
from sandbox.pdm.products import generated, shop_products


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.pdm", description=__doc__)
    parser.add_argument("--products", type=int, default=1000, help="total number of products")
    parser.add_argument("--out", type=Path, required=True, help="file to write ('-' = stdout)")
    parser.add_argument("--bmecat-version", choices=("2005", "1.2"), default="2005")
    args = parser.parse_args(argv)
    shop = shop_products()
    products = itertools.islice(
        itertools.chain(shop, generated(max(0, args.products - len(shop)))), args.products
    )
    info = CatalogInfo(
        "TDM-MASTER",
        "001.000",
        "Tandem Coffee Equipment master catalogue",
        datetime.now(UTC).replace(microsecond=0),
    )
    started = time.perf_counter()
    if str(args.out) == "-":
        count = write_catalog(sys.stdout.buffer, info, products, version=args.bmecat_version)
        return 0
    with args.out.open("wb", buffering=1 << 20) as out:
        count = write_catalog(out, info, products, version=args.bmecat_version)
    seconds = time.perf_counter() - started
    size = args.out.stat().st_size
    print(
        f"{count} products, {size / 1e6:.1f} MB in {seconds:.1f} s -> {args.out}", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
