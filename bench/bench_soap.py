"""SOAP client benchmark: calls per second through Tandem's zeep client vs raw HTTP, one run.

    python -m bench.bench_soap [--calls 400]

Starts the sandbox ERP (``python -m sandbox.erp_soap``) as a separate process on loopback and
makes ``--calls`` sequential calls of each kind:

- ``tandem``: ``Customer.Read`` and ``Customer.Create`` through ``SoapClientFactory`` +
  ``call`` + ``with_retries`` (hardened zeep settings, envelope history of 20 redacted
  exchanges, error mapping), as connectors use it;
- ``tandem-nohistory``: the same with the envelope history switched off (its cost);
- ``raw``: an httpx POST of the same SOAP envelope (built once by zeep) with the same
  SOAPAction, the response neither parsed nor checked beyond its status: the baseline.

Prints one JSON document, then a summary line with the ratios tandem/raw (raw = the mean of
a raw run before and one after ours, as the machine's load drifts).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from lxml import etree

from connectors.transports.retry import RetryPolicy, with_retries
from connectors.transports.soap import SoapClientFactory, SoapSettings, call

READY = re.compile(r"ready on (http://\S+)")
POLICY = RetryPolicy(attempts=3, initial_wait=0.05, jitter=0.01)


@contextmanager
def sandbox_erp() -> Iterator[str]:
    """The sandbox ERP in its own process; yields the page service root URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.erp_soap", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = READY.search(line)
        if found is None:
            raise RuntimeError(f"sandbox ERP did not start: {line!r}")
        yield found.group(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def rate(fn: Callable[[int], Any], calls: int) -> dict[str, float]:
    for i in range(-20, 0):  # warm up (WSDL load, connection, the server's code paths)
        fn(i)
    started = time.perf_counter()
    for i in range(calls):
        fn(i)
    elapsed = time.perf_counter() - started
    return {"calls": calls, "seconds": round(elapsed, 3), "calls_per_s": round(calls / elapsed, 1)}


def tandem_runs(base: str, calls: int, history: int) -> dict[str, dict[str, float]]:
    settings = SoapSettings(
        wsdl=f"{base}Customer?wsdl", history_size=history, redact_fields=("E_Mail",)
    )
    factory = SoapClientFactory()
    service = factory.service(settings)
    created = call(service.Create, Customer={"Name": "Bench Reader"})

    def read(_: int) -> None:
        found = with_retries(lambda: call(service.Read, No=created.No), POLICY, what="Read")
        assert found.Name == "Bench Reader"

    def create(i: int) -> None:
        new = call(service.Create, Customer={"Name": f"Bench {i}", "E_Mail": "b@example.com"})
        assert new.No

    return {"read": rate(read, calls), "create": rate(create, calls)}


def raw_runs(base: str, calls: int) -> dict[str, dict[str, float]]:
    factory = SoapClientFactory()
    settings = SoapSettings(wsdl=f"{base}Customer?wsdl", history_size=0)
    client = factory.client(settings)
    service = factory.service(settings)
    ns = "urn:microsoft-dynamics-schemas/page/customer"
    first = call(service.Create, Customer={"Name": "Bench Raw"})

    def envelope(operation: str, **values: Any) -> bytes:
        node = client.create_message(service, operation, **values)
        body: bytes = etree.tostring(node)
        return body

    bodies = {
        "read": (envelope("Read", No=first.No), f"{ns}:Read"),
        "create": (envelope("Create", Customer={"Name": "Bench raw"}), f"{ns}:Create"),
    }
    results: dict[str, dict[str, float]] = {}
    with httpx.Client(timeout=30) as http:
        for kind, (body, action) in bodies.items():
            headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'}

            def post(_: int, body: bytes = body, headers: dict[str, str] = headers) -> None:
                response = http.post(f"{base}Customer", content=body, headers=headers)
                response.raise_for_status()

            results[kind] = rate(post, calls)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_soap", description=__doc__)
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args(argv)
    with sandbox_erp() as base:
        report: dict[str, Any] = {
            "calls": args.calls,
            "raw": raw_runs(base, args.calls),
            "tandem": tandem_runs(base, args.calls, history=20),
            "tandem-nohistory": tandem_runs(base, args.calls, history=0),
            "raw-again": raw_runs(base, args.calls),  # the store grew meanwhile: order effects
        }
    ours, bare = report["tandem"], report["tandem-nohistory"]
    raw = {  # the baseline: the mean of the raw runs before and after ours
        kind: {
            "calls_per_s": round(
                (report["raw"][kind]["calls_per_s"] + report["raw-again"][kind]["calls_per_s"]) / 2,
                1,
            )
        }
        for kind in ("read", "create")
    }
    report["ratio"] = {
        kind: round(ours[kind]["calls_per_s"] / raw[kind]["calls_per_s"], 3)
        for kind in ("read", "create")
    }
    print(json.dumps(report, indent=2))
    print(
        f"SOAP calls/s: Read tandem {ours['read']['calls_per_s']} "
        f"(no history {bare['read']['calls_per_s']}) vs raw {raw['read']['calls_per_s']} "
        f"= {report['ratio']['read']}x; Create tandem {ours['create']['calls_per_s']} "
        f"(no history {bare['create']['calls_per_s']}) vs raw {raw['create']['calls_per_s']} "
        f"= {report['ratio']['create']}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
