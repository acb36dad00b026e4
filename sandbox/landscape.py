"""The whole sandbox landscape on loopback: ``python -m sandbox.landscape up|down|status``.

``up`` starts every outside system of the mission as its own process on free loopback ports —
the SOAP ERP, the real Tryton ERP, the WooCommerce-shaped web shop, the SuiteCRM-shaped CRM, a
real OpenSSH sshd and the file partners (3PL, DRP, PDM) working in its SFTP areas — waits until
each answers, and writes ``connections.env`` (the ``TANDEM_*`` settings and the connection of
every connector, see ``sandbox.flow_connections``) and ``state.json`` (what runs where).
``down`` stops them all and checks that no process is left; ``status`` shows what runs.

Secrets are generated per landscape, kept in files with mode 0600 under the landscape's
directory and passed to each peer through its environment, never on a command line.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

from sandbox.flow_connections import from_landscape
from sandbox.peer_health import probe as _probe
from sandbox.peer_health import rss_mb as _rss_mb
from sandbox.process_knobs import process_knobs, sshd_knobs
from sandbox.sshd import free_port, start_sshd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / "var" / "sandbox"
READY_TIMEOUT = 120.0  # Tryton builds its database template on the very first start (~60 s)


@dataclass
class Peer:
    name: str
    pid: int
    url: str
    log: str
    detail: str = ""
    started_in: float = 0.0


@dataclass
class Landscape:
    directory: Path
    peers: list[Peer] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    def save(self) -> None:
        state = {"peers": [asdict(p) for p in self.peers]}
        self.state_file.write_text(json.dumps(state, indent=2))
        lines = [f"{k}={_shell_quote(v)}" for k, v in sorted(self.env.items())]
        connections = self.directory / "connections.env"
        connections.write_text("\n".join(lines) + "\n")
        connections.chmod(0o600)

    @classmethod
    def load(cls, directory: Path) -> Landscape:
        landscape = cls(directory)
        if landscape.state_file.exists():
            raw = json.loads(landscape.state_file.read_text())
            landscape.peers = [Peer(**p) for p in raw["peers"]]
        return landscape


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _secret(directory: Path, name: str) -> str:
    path = directory / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and ") Z " in stat.read_text())


def _spawn(
    name: str, args: list[str], directory: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    log = directory / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:  # a fresh log: its ready line is this run's
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives `up`, stopped as a group by `down`
        )
    return process, log


def _await_line(process: subprocess.Popen[bytes], log: Path, pattern: str) -> str:
    deadline = time.monotonic() + READY_TIMEOUT
    regex = re.compile(pattern)
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        found = regex.search(text)
        if found:
            return found.group(0)
        if process.poll() is not None:
            raise RuntimeError(f"{log.stem} exited with {process.returncode}; see {log}")
        time.sleep(0.1)
    raise RuntimeError(f"{log.stem} was not ready in {READY_TIMEOUT:.0f} s; see {log}")


def _start_http_peer(
    landscape: Landscape,
    name: str,
    module: list[str],
    ready: str,
    env: dict[str, str] | None = None,
) -> tuple[Peer, str]:
    started = time.monotonic()
    process, log = _spawn(name, module, landscape.directory, env)
    line = _await_line(process, log, ready)
    url = re.search(r"https?://\S+", line)
    peer = Peer(
        name,
        process.pid,
        url.group(0) if url else "",
        str(log),
        started_in=round(time.monotonic() - started, 2),
    )
    landscape.peers.append(peer)
    return peer, line


def up(directory: Path, *, tryton: bool = True, webhook_url: str | None = None) -> Landscape:
    directory.mkdir(parents=True, exist_ok=True)
    existing = Landscape.load(directory)
    if any(_alive(p.pid) for p in existing.peers):
        raise RuntimeError(f"the sandbox in {directory} is running; `down` it first")
    landscape = Landscape(directory)
    try:
        _start_all(landscape, tryton=tryton, webhook_url=webhook_url)
    except BaseException:
        landscape.save()
        down(directory)
        raise
    landscape.save()
    return landscape


def _start_all(landscape: Landscape, *, tryton: bool, webhook_url: str | None) -> None:
    d = landscape.directory
    env = landscape.env
    webhook_secret = _secret(d, "webshop-webhook")
    shop_secret, crm_secret = _secret(d, "webshop-consumer"), _secret(d, "crm-client")

    erp, _ = _start_http_peer(
        landscape,
        "erp_soap",
        ["sandbox.erp_soap", "--port", str(free_port()), "--state", str(d / "erp.json")],
        r"sandbox ERP ready on \S+",
    )
    env["TANDEM_ERP_SOAP_URL"] = erp.url

    hooks = ["--webhook-url", webhook_url] if webhook_url else []
    shop, line = _start_http_peer(
        landscape,
        "webshop",
        ["sandbox.webshop", "--port", str(free_port()), *hooks],
        r"sandbox web shop ready on \S+ \(consumer key \S+",
        {
            "SANDBOX_WEBSHOP_CONSUMER_SECRET": shop_secret,
            "SANDBOX_WEBSHOP_WEBHOOK_SECRET": webhook_secret,
        },
    )
    key = line.rsplit(" ", 1)[-1].rstrip(";")
    env |= {
        "TANDEM_WEBSHOP_URL": shop.url,
        "TANDEM_WEBSHOP_CONSUMER_KEY": key,
        "TANDEM_WEBSHOP_CONSUMER_SECRET": shop_secret,
        "TANDEM_WEBSHOP_WEBHOOK_SECRET": webhook_secret,
    }

    crm, line = _start_http_peer(
        landscape,
        "crm",
        ["sandbox.crm", "--port", str(free_port())],
        r"sandbox CRM ready on \S+ \(client id \S+",
        {"SANDBOX_CRM_CLIENT_SECRET": crm_secret},
    )
    client_id = line.rsplit(" ", 1)[-1].rstrip(";")
    env |= {
        "TANDEM_CRM_URL": crm.url,
        "TANDEM_CRM_CLIENT_ID": client_id,
        "TANDEM_CRM_CLIENT_SECRET": crm_secret,
    }

    started = time.monotonic()
    sshd = start_sshd(d / "sshd")
    landscape.peers.append(
        Peer(
            "sshd",
            sshd.process.pid if sshd.process else 0,
            f"sftp://{sshd.user}@{sshd.host}:{sshd.port}",
            str(sshd.log_path),
            detail=f"host key {sshd.host_fingerprint}",
            started_in=round(time.monotonic() - started, 2),
        )
    )
    # one area per landscape directory: two checkouts' sandboxes never share files
    area = sshd.area(f"partners-{hashlib.sha256(str(d).encode()).hexdigest()[:8]}", clean=True)
    env |= {
        "TANDEM_SFTP_HOST": sshd.host,
        "TANDEM_SFTP_PORT": str(sshd.port),
        "TANDEM_SFTP_USER": sshd.user,
        "TANDEM_SFTP_KEY_FILE": str(sshd.client_key),
        "TANDEM_SFTP_KNOWN_HOSTS": str(sshd.known_hosts),
        "TANDEM_SFTP_ROOT": str(area),
    }
    files, _ = _start_http_peer(
        landscape,
        "file_partners",
        ["sandbox.files", "--root", str(area)],
        r"file partners running on \S+",
    )
    files.url = f"sftp://{sshd.user}@{sshd.host}:{sshd.port}{area}"
    files.detail = str(area)  # the partners' root, where their control file lives

    if tryton:
        erp2, line = _start_http_peer(
            landscape,
            "tryton",
            ["sandbox.tryton", "--port", str(free_port()), "--workdir", str(d / "tryton")],
            r"Tryton 8.2 ready on \S+ database \S+",
        )
        erp2.url = erp2.url.rstrip("/")
        env["TANDEM_TRYTON_URL"] = erp2.url
        env["TANDEM_TRYTON_PASSWORD_FILE"] = str(d / "tryton" / "admin-password")
        env["TANDEM_TRYTON_DATABASE"] = line.rsplit(" ", 1)[-1]
    env |= from_landscape(d, env)  # the connection of every connector (AIRFLOW_CONN_*)


def set_knobs(directory: Path, peer_name: str, knobs: dict[str, object]) -> dict[str, object]:
    """Change a running peer's fault knobs (latency, error rate, time-outs, dropped
    connections, duplicates, malformed output...); returns what the peer reports back."""
    landscape = Landscape.load(directory)
    peer = next((p for p in landscape.peers if p.name == peer_name), None)
    if peer is None:
        known = ", ".join(p.name for p in landscape.peers) or "none running"
        raise RuntimeError(f"no peer {peer_name!r} in this sandbox ({known})")
    if peer.name == "file_partners":
        control = Path(peer.detail) / ".partners" / "control.json"
        control.parent.mkdir(parents=True, exist_ok=True)
        current = json.loads(control.read_text()) if control.exists() else {}
        for partner, values in knobs.items():
            if not isinstance(values, dict):
                raise RuntimeError("file partner knobs are {partner: {knob: value}}")
            current.setdefault(partner, {}).update(values)
        control.write_text(json.dumps(current))
        return current
    if peer.name == "sshd":
        return sshd_knobs(peer.pid, knobs)
    if peer.name == "tryton":
        return process_knobs(peer.name, peer.pid, knobs)
    base = {"erp_soap": "/WS/", "webshop": "/wp-json", "crm": "/legacy"}.get(peer.name)
    if base is None:
        raise RuntimeError(f"{peer.name} has no knobs")
    answer = httpx.post(peer.url.split(base)[0] + "/_control", json=knobs, timeout=10)
    answer.raise_for_status()
    result: dict[str, object] = answer.json()
    return result


def down(directory: Path) -> list[str]:
    """Stop every peer (SIGTERM to its process group, then SIGKILL); return what was left."""
    landscape = Landscape.load(directory)
    for peer in landscape.peers:
        _signal_group(peer.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p.pid) for p in landscape.peers):
        time.sleep(0.1)
    for peer in landscape.peers:
        if _alive(peer.pid):
            _signal_group(peer.pid, signal.SIGKILL)
    _stop_sshd_sessions(directory)
    time.sleep(0.2)
    left = [f"{p.name} ({p.pid})" for p in landscape.peers if _alive(p.pid)]
    if landscape.state_file.exists():
        landscape.state_file.unlink()
    return left


def _signal_group(pid: int, sig: signal.Signals) -> None:
    if pid <= 0:
        return
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _stop_sshd_sessions(directory: Path) -> None:
    """Per-connection sshd processes leave the daemon's group: end those of this config."""
    config = str(directory / "sshd")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "sshd" in cmdline and config in cmdline:
            _signal_group(int(proc.name), signal.SIGKILL)


def status(directory: Path) -> list[tuple[Peer, bool, str]]:
    rows = []
    for peer in Landscape.load(directory).peers:
        alive = _alive(peer.pid)
        answer = _probe(peer) if alive else "not running"
        rows.append((peer, alive, answer))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tandem sandbox", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["up", "down", "status", "knobs"])
    parser.add_argument("peer", nargs="?", help="knobs: the peer (erp_soap, webshop, ...)")
    parser.add_argument("values", nargs="?", help="knobs: JSON, e.g. '{\"latency_ms\": 200}'")
    parser.add_argument(
        "--knobs",
        default="{}",
        help='up: fault knobs per peer, e.g. \'{"erp_soap": {"error_rate": 0.1}}\'',
    )
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where state and logs go")
    parser.add_argument("--no-tryton", action="store_true", help="skip the Tryton ERP")
    parser.add_argument("--webhook-url", help="where the web shop delivers its webhooks")
    args = parser.parse_args(argv)
    directory = args.dir.resolve()
    if args.command == "knobs":
        try:
            values = json.loads(args.values or "{}")
            print(json.dumps(set_knobs(directory, args.peer or "", values), indent=2))
        except (RuntimeError, ValueError, httpx.HTTPError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "up":
        started = time.monotonic()
        try:
            start_knobs = json.loads(args.knobs)
            landscape = up(directory, tryton=not args.no_tryton, webhook_url=args.webhook_url)
            for peer_name, values in start_knobs.items():
                set_knobs(directory, peer_name, values)
        except (RuntimeError, OSError, ValueError, httpx.HTTPError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        for peer in landscape.peers:
            print(
                f"  {peer.name:<14} {peer.url:<60} pid {peer.pid:<7} "
                f"{peer.started_in:>5.1f} s {_rss_mb(peer.pid):>6.0f} MB"
            )
        print(
            f"sandbox up in {time.monotonic() - started:.1f} s; "
            f"settings in {directory / 'connections.env'}"
        )
        return 0
    if args.command == "down":
        left = down(directory)
        if left:
            print(f"error: still running: {', '.join(left)}", file=sys.stderr)
            return 1
        print("sandbox down; no process left")
        return 0
    rows = status(directory)
    if not rows:
        print("sandbox is not running")
        return 3
    for peer, alive, answer in rows:
        print(f"  {peer.name:<14} {'up' if alive else 'DOWN':<5} {peer.url:<60} {answer}")
    return 0 if all(alive for _, alive, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
