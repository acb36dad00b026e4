"""Suite 6 — security defaults (and the webhook part of suite 5): unsigned, wrongly signed,
wrongly typed and oversize webhooks refused with nothing stored; a replayed signature stores
nothing new; an unknown or changed SFTP host key refused; DTDs and entities in SOAP
responses refused by the hardened zeep client; no configured secret in any log line the
suites wrote. The secret scan is the last test of the run (alphabetical order of modules).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import paramiko
import pytest
import sqlalchemy as sa

from canonical.errors import PermanentError, TransientError
from connectors.transports.sftp import SftpClient
from connectors.transports.sftp_settings import SftpSettings
from connectors.transports.soap import SoapSettings, make_client
from flows.registry import FLOWS, RunOptions
from hub.schema import InboxMessage
from sandbox.sshd import SshdHandle, start_sshd
from sandbox.webshop.sender import wp_json_encode
from tests.reliability.conftest import noted_secrets
from tests.reliability.figures import Figures, record
from tests.reliability.slice import ERP_PASSWORD, SECRET, paid_order, running_slice
from tests.services import need_program

SECRETS = (SECRET, ERP_PASSWORD)  # and what other suites noted (``note_secrets``)


def _sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_webhook_refusals_store_nothing(tmp_path: Path) -> None:
    body = wp_json_encode(paid_order(50_000))
    with running_slice(f"sqlite:///{tmp_path / 'hub.sqlite'}") as world:
        base = world.sender.headers_for("order.created", body, "d-1")
        cases: list[tuple[str, bytes, dict[str, str], int]] = [
            ("unsigned", body, {k: v for k, v in base.items() if "Signature" not in k}, 401),
            ("wrong secret", body, base | {"X-WC-Webhook-Signature": _sign(body, "guess")}, 401),
            ("empty signature", body, base | {"X-WC-Webhook-Signature": ""}, 401),
            ("not base64", body, base | {"X-WC-Webhook-Signature": "%%%"}, 401),
            ("other body's signature", body, base | {"X-WC-Webhook-Signature": _sign(b"{}")}, 401),
            (
                "signature of a prefix",
                body,
                base | {"X-WC-Webhook-Signature": _sign(body[:-1])},
                401,
            ),
            ("text/plain", body, base | {"Content-Type": "text/plain"}, 415),
            ("xml", body, base | {"Content-Type": "application/xml"}, 415),
            ("form", body, base | {"Content-Type": "multipart/form-data; boundary=x"}, 415),
            ("no content type", body, {k: v for k, v in base.items() if k != "Content-Type"}, 415),
        ]
        big = b'{"x": "' + b"a" * (2 * 1_048_576) + b'"}'
        cases.append(("oversize", big, base | {"X-WC-Webhook-Signature": _sign(big)}, 413))
        statuses = []
        for name, content, headers, expected in cases:
            answer = httpx.post(world.url, content=content, headers=headers, timeout=30)
            statuses.append((name, answer.status_code, expected))
            assert answer.status_code == expected, (name, answer.status_code, answer.text)
            assert "error" in answer.json(), name  # a reason, not an empty refusal
        # a captured, correctly signed delivery replayed many times: stored once
        replays = [httpx.post(world.url, content=body, headers=base).status_code for _ in range(5)]
        assert replays == [200] * 5
        with world.runtime.hub.begin() as hs:
            stored = hs.session.scalar(sa.select(sa.func.count()).select_from(InboxMessage))
        assert stored == 1, statuses
        FLOWS["webshop-orders"].run(world.runtime, RunOptions())
        from tests.reliability.slice import account

        books = account(world.runtime, world.erp, ["50000"])
    record(Figures("6 webhook refusals + replays", len(cases) + 5, delivered=len(books.delivered)))
    assert len(books.delivered) == 1 and not books.duplicated


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshdHandle]:
    need_program("/usr/sbin/sshd", "apt-get install openssh-server")
    handle = start_sshd(tmp_path_factory.mktemp("rel-sshd"))
    yield handle
    handle.stop()


def _sftp(sshd: SshdHandle, **keys: Any) -> SftpSettings:
    return SftpSettings(
        host=sshd.host,
        port=sshd.port,
        username=sshd.user,
        key_file=sshd.client_key,
        connect_timeout=5,
        **keys,
    )


def test_sftp_host_keys_unknown_or_changed_are_refused(sshd: SshdHandle, tmp_path: Path) -> None:
    with SftpClient(_sftp(sshd, known_hosts=sshd.known_hosts)) as ok:
        ok.listdir(".")  # the right key connects
    other = paramiko.Ed25519Key.from_private_key_file(str(sshd.client_key))  # not the host's
    changed = tmp_path / "changed_known_hosts"
    changed.write_text(f"[{sshd.host}]:{sshd.port} ssh-ed25519 {other.get_base64()}\n")
    unknown = tmp_path / "unknown_known_hosts"
    unknown.write_text(f"[{sshd.host}]:{sshd.port + 1} {sshd.host_key_line.split(' ', 1)[-1]}\n")
    for name, settings in (
        ("changed key", _sftp(sshd, known_hosts=changed)),
        ("unknown host", _sftp(sshd, known_hosts=unknown)),
        ("wrong fingerprint", _sftp(sshd, host_key_fingerprint="SHA256:" + "A" * 43)),
    ):
        with (
            pytest.raises((PermanentError, TransientError)) as refused,
            SftpClient(settings) as client,
        ):
            client.listdir(".")
        reason = str(refused.value).lower()
        assert "host key" in reason or "known_hosts" in reason, (name, reason)
        assert isinstance(refused.value, PermanentError), (name, "a host key is not retried")
    with pytest.raises(ValueError, match="host key verification is required"):
        _sftp(sshd)
    record(Figures("6 SFTP host keys", 4, quarantined=0, delivered=1))


HOSTILE_RESPONSES = {
    "dtd": b'<?xml version="1.0"?><!DOCTYPE d [<!ELEMENT d ANY>]><definitions/>',
    "entity": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>',
    "xxe": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>',
    "billion-laughs": (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;">]><d>&c;</d>'
    ),
}


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = HOSTILE_RESPONSES[self.path.strip("/").split("?")[0]]
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize("kind", sorted(HOSTILE_RESPONSES))
def test_soap_client_refuses_dtds_and_entities(kind: str) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{kind}?wsdl"
        with pytest.raises(Exception) as refused:
            make_client(SoapSettings(wsdl=url))
        text = f"{type(refused.value).__name__}: {refused.value}"
        assert any(w in text for w in ("DTD", "Entities", "Entity", "forbidden")), text
        assert "root:" not in text
    finally:
        server.shutdown()
        server.server_close()


def test_no_configured_secret_in_any_log(tmp_path: Path, log_dir: Path) -> None:
    """Provoke failures with every secret configured, then read every log line the suites
    wrote (this process's and the flow subprocesses') for any secret value."""
    with running_slice(
        f"sqlite:///{tmp_path / 'hub.sqlite'}",
        erp_soap_username="tandem",
        erp_soap_password=ERP_PASSWORD,
        retry_max_attempts=1,
    ) as world:
        world.sender.send("order.created", paid_order(50_100))
        world.erp.stop()  # deliveries fail: errors are logged and stored
        FLOWS["webshop-orders"].run(world.runtime, RunOptions())
        httpx.post(world.url, content=b"{}", headers={"X-WC-Webhook-Signature": _sign(b"{}", "x")})
        with world.runtime.hub.begin() as hs:
            stored = " ".join(
                str(v)
                for row in hs.session.execute(sa.text("select * from deliveries"))
                for v in row
            )
    logging.getLogger("tests.reliability").info("settings: %r", world.runtime.settings)
    for handler in logging.getLogger().handlers:
        handler.flush()
    logs = sorted(log_dir.glob("*.log"))
    assert logs, "no logs were written"
    text = "\n".join(p.read_text("utf-8", errors="replace") for p in logs) + stored
    lines = len(text.splitlines())
    secrets = [*SECRETS, *noted_secrets(log_dir)]
    for secret in secrets:
        assert secret not in text, f"a secret appears in the logs ({len(text)} chars)"
    record(Figures("6 secrets in logs (lines scanned)", lines))


def test_sftp_connection_dropped_mid_transfer_still_delivers_each_file_once(
    sshd: SshdHandle,
) -> None:
    """Suite 3's SFTP outage: every session process SIGKILLed while files are being put
    and read; the transport reconnects and retries, and each file arrives complete, once."""
    area = sshd.area("reliability/sftp-drop", clean=True)
    settings = _sftp(sshd, known_hosts=sshd.known_hosts, root=str(area))
    payloads = {f"f{n}.bin": bytes([n % 251]) * (3_000_000 + n) for n in range(6)}
    stop = threading.Event()
    drops = 0

    def dropper() -> None:
        nonlocal drops
        while not stop.is_set() and drops < 3:  # three drops, each mid-transfer
            stop.wait(0.3)
            drops += sshd.kill_connections()

    thread = threading.Thread(target=dropper)
    with SftpClient(settings) as client:
        thread.start()
        try:
            for name, data in payloads.items():
                client.put_bytes(data, name)
            read = {name: client.read_bytes(name) for name in payloads}
        finally:
            stop.set()
            thread.join()
        listed = sorted(f.name for f in client.listdir("."))
    assert drops > 0, "no connection was dropped: the test proved nothing"
    assert read == payloads  # complete, byte for byte
    assert listed == sorted(payloads)  # no temp file or second copy left behind
    record(Figures("3 SFTP drops mid-transfer", len(payloads), delivered=len(payloads)))
