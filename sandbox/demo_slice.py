"""`make demo-slice`: the first slice on loopback, driven the way an operator would drive it.

Starts the sandbox ERP and `tandem serve` as separate processes, sends signed WooCommerce order
webhooks (a duplicate and a malformed one among them), shows the orders arriving in the ERP,
then takes the ERP down, lets an order become a dead letter, brings the ERP back and replays it.
Uses only the `tandem` command line and the peers' own protocols: nothing of the product is
imported here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import zeep

from sandbox.webshop.orders import make_order
from sandbox.webshop.sender import WebhookSender, wp_json_encode

ROOT = Path(__file__).resolve().parents[1]
HOME = Path(os.environ.get("TANDEM_DEMO_HOME", ROOT / "var" / "demo-slice"))
BIN = Path(sys.executable).parent
SECRET = "demo-webhook-secret"  # noqa: S105 - the sandbox shop's secret, printed nowhere
ORDERS = 5


def say(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"demo: gave up waiting for {what} after {timeout:.0f}s")


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def tandem(env: dict[str, str], *args: str, check: bool = True) -> str:
    result = subprocess.run(
        [str(BIN / "tandem"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise SystemExit(f"demo: tandem {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


class Erp:
    """The sandbox ERP seen from outside: its control endpoint and a plain zeep client."""

    def __init__(self, port: int) -> None:
        self.root = f"http://127.0.0.1:{port}"
        self.base = f"{self.root}/WS/CRONUS/Page/"
        self._orders: Any = None

    def set(self, **knobs: Any) -> None:
        httpx.post(f"{self.root}/_control", json=knobs).raise_for_status()

    def orders(self, external_document_no: str) -> list[Any]:
        if self._orders is None:
            client: Any = zeep.Client(f"{self.base}Sales_Order?wsdl")  # type: ignore[no-untyped-call]
            self._orders = client.create_service(
                "{urn:microsoft-dynamics-schemas/page/sales_order}Sales_Order_Binding",
                f"{self.base}Sales_Order",
            )
        found = self._orders.ReadMultiple(
            filter=[{"Field": "External_Document_No", "Criteria": f"'{external_document_no}'"}],
            setSize=0,
        )
        return list(found or [])


def paid_order(order_id: int) -> dict[str, Any]:
    order = make_order(seed=2026, order_id=order_id)
    order["status"] = "processing"
    return order


def main() -> int:
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    settings_file = HOME / "tandem.toml"  # empty: the demo's settings are in the environment
    settings_file.write_text("# the demo passes its settings as TANDEM_* variables\n")
    erp_port, tandem_port = free_port(), free_port()
    erp = Erp(erp_port)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TANDEM_HOME": str(HOME),
        "TANDEM_SETTINGS_FILE": str(settings_file),
        "TANDEM_WEBSHOP_WEBHOOK_SECRET": SECRET,
        "TANDEM_ERP_SOAP_URL": erp.base,
        "TANDEM_RETRY_MAX_ATTEMPTS": "3",
        "TANDEM_RETRY_BASE_DELAY": "0.5",
        "TANDEM_WORKER_INTERVAL": "0.3",
        "COLUMNS": os.environ.get("COLUMNS", "160"),
    }
    say("hub schema")
    print(tandem(env, "db", "upgrade").strip())
    with ExitStack() as stack:
        say(f"starting the sandbox ERP on {erp.root} and `tandem serve` on port {tandem_port}")
        stack.enter_context(
            process(
                [
                    sys.executable,
                    "-m",
                    "sandbox.erp_soap",
                    "--port",
                    str(erp_port),
                    "--state",
                    str(HOME / "erp.json"),
                ],
                env,
                HOME / "erp.log",
            )
        )
        wait_for("the ERP", lambda: httpx.get(f"{erp.root}/_health").is_success)
        stack.enter_context(
            process(
                [str(BIN / "tandem"), "serve", "--port", str(tandem_port)],
                env,
                HOME / "tandem-serve.log",
            )
        )
        receiver = f"http://127.0.0.1:{tandem_port}"
        wait_for("the receiver", lambda: httpx.get(f"{receiver}/webhooks/_health").is_success)
        shop = stack.enter_context(WebhookSender(f"{receiver}/webhooks/webshop", SECRET, retries=0))

        say(
            f"the web shop sends {ORDERS} signed orders, the first one three times, "
            "and a broken one"
        )
        orders = [paid_order(1000 + i) for i in range(1, ORDERS + 1)]
        for i, order in enumerate(orders):
            statuses = shop.send("order.created", order, duplicate=3 if i == 0 else 1)
            print(f"  order {order['number']:>5} -> HTTP {', '.join(map(str, statuses))}")
        broken = wp_json_encode(paid_order(1999))[:-40]
        print(f"  truncated body  -> HTTP {shop.send('order.created', broken)[0]}")

        numbers = [str(o["number"]) for o in orders]
        wait_for("the ERP orders", lambda: all(erp.orders(n) for n in numbers))
        say("orders in the ERP (read back over SOAP)")
        for n in numbers:
            found = erp.orders(n)
            print(
                f"  web order {n:>5} -> ERP {found[0].No} for customer "
                f"{found[0].Sell_to_Customer_No} ({len(found)} order)"
            )

        say("the ERP goes down; a new order is retried, then parked as a dead letter")
        erp.set(down=True)
        late = paid_order(1100)
        shop.send("order.created", late)
        number = str(late["number"])

        def both_dead() -> bool:
            listing = tandem(env, "deadletters", "list").splitlines()
            return sum(number in line and " dead " in line for line in listing) == 2

        wait_for("the customer and the order to become dead letters", both_dead)
        print(tandem(env, "deadletters", "list"))

        say("the ERP is back: replay the dead letters")
        erp.set(down=False)
        print(tandem(env, "deadletters", "replay", "--all"))
        count = len(erp.orders(str(late["number"])))
        print(f"  web order {late['number']} is in the ERP {count} time(s)")

        say(f"tandem messages show --correlation {late['number']}")
        print(tandem(env, "messages", "show", "--correlation", str(late["number"])))
        say("quarantined input (raw body kept in the inbox)")
        print(tandem(env, "messages", "list", "--status", "quarantined"))
    say(f"done; the hub is {HOME / 'tandem.sqlite'}, logs in {HOME}")
    return 0 if count == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
