"""`tandem sandbox up | status | down`: every peer on loopback, and nothing left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from sandbox.landscape import Landscape
from tests.services import need_program

ROOT = Path(__file__).resolve().parents[2]


def tandem(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tandem.cli", "sandbox", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and ") Z " not in stat.read_text()


def test_up_status_down_leaves_no_process(tmp_path: Path) -> None:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    directory = tmp_path / "landscape"
    started = tandem("up", "--no-tryton", "--dir", str(directory))
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        landscape = Landscape.load(directory)
        names = {p.name for p in landscape.peers}
        assert names == {"erp_soap", "webshop", "crm", "sshd", "file_partners"}
        settings = (directory / "connections.env").read_text()
        assert oct((directory / "connections.env").stat().st_mode & 0o777) == "0o600"
        env = dict(line.split("=", 1) for line in settings.splitlines())
        erp_wsdl = env["TANDEM_ERP_SOAP_URL"].strip("'") + "Customer?wsdl"
        assert '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"' in httpx.get(erp_wsdl).text
        shop = env["TANDEM_WEBSHOP_URL"].strip("'")
        key, secret = (
            env[k].strip("'")
            for k in ("TANDEM_WEBSHOP_CONSUMER_KEY", "TANDEM_WEBSHOP_CONSUMER_SECRET")
        )
        orders = httpx.get(f"{shop}orders", auth=(key, secret))
        assert orders.status_code == 200 and int(orders.headers["X-WP-Total"]) > 0
        assert secret not in started.stdout + started.stderr  # secrets stay in the 0600 file
        shown = tandem("status", "--dir", str(directory))
        assert shown.returncode == 0 and shown.stdout.count(" up ") == 5
        again = tandem("up", "--no-tryton", "--dir", str(directory))
        assert again.returncode == 1 and "is running" in again.stderr
    finally:
        stopped = tandem("down", "--dir", str(directory))
    assert stopped.returncode == 0, stopped.stderr
    assert "no process left" in stopped.stdout
    assert not [p for p in landscape.peers if _alive(p.pid)]
    assert tandem("status", "--dir", str(directory)).returncode == 3
    leftovers = subprocess.run(
        ["pgrep", "-f", str(directory)], capture_output=True, text=True, check=False
    )
    assert leftovers.stdout.strip() == "", f"processes left: {leftovers.stdout}"
