"""SFTP client against a real OpenSSH sshd: host keys, auth, atomic puts, resumable gets."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paramiko
import pytest

from canonical.errors import PermanentError, TransientError
from connectors.transports.sftp import (
    AuthError,
    HostKeyError,
    RemoteExists,
    RemoteNotFound,
    SftpClient,
    SftpSettings,
)
from connectors.transports.sftp_errors import translate
from sandbox.sshd import SshdHandle
from tests.transports.conftest import SFTP_PASSWORD

Settings = Callable[..., SftpSettings]
MB = 1024 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_known_hosts(path: Path, line: str) -> Path:
    path.write_text(line + "\n")
    return path


# -- host keys -----------------------------------------------------------------------------


def test_wrong_host_key_is_refused_naming_host_and_both_fingerprints(
    sshd: SshdHandle, sftp_settings: Settings, tmp_path: Path
) -> None:
    # a well-formed ed25519 key that is not the server's: the client key's public half
    forged = write_known_hosts(
        tmp_path / "known_hosts", f"[127.0.0.1]:{sshd.port} {sshd.client_public_key}"
    )
    client = SftpClient(sftp_settings(known_hosts=forged))
    with pytest.raises(HostKeyError) as caught:
        client.connect()
    message = str(caught.value)
    assert f"[127.0.0.1]:{sshd.port}" in message
    assert sshd.host_fingerprint in message  # what the server presented
    assert "mismatch" in message
    assert client.connects == 0  # refused before authenticating, and not retried


def test_unknown_host_is_refused(sshd: SshdHandle, sftp_settings: Settings, tmp_path: Path) -> None:
    other_port = write_known_hosts(
        tmp_path / "known_hosts", f"[127.0.0.1]:{sshd.port + 1} {sshd.host_key_line}"
    )
    with pytest.raises(HostKeyError, match="unknown") as caught:
        SftpClient(sftp_settings(known_hosts=other_port)).connect()
    assert sshd.host_fingerprint in str(caught.value)


def test_pinned_fingerprint_accepted_and_wrong_one_refused(
    sshd: SshdHandle, sftp_settings: Settings
) -> None:
    good = sftp_settings(known_hosts=None, host_key_fingerprint=sshd.host_fingerprint)
    with SftpClient(good) as client:
        client.put_bytes(b"pinned", "pinned.txt")
        assert client.read_bytes("pinned.txt") == b"pinned"
    wrong = "SHA256:" + "A" * 43
    bad = sftp_settings(known_hosts=None, host_key_fingerprint=wrong)
    with pytest.raises(HostKeyError) as caught:
        SftpClient(bad).connect()
    assert wrong in str(caught.value)
    assert sshd.host_fingerprint in str(caught.value)


def test_settings_without_host_key_verification_are_rejected() -> None:
    with pytest.raises(ValueError, match="host key verification is required"):
        SftpSettings(host="h", username="u", password="p")  # type: ignore[arg-type]
    uri = "sftp://u:p@h:22/?no_host_key_check=true&known_hosts=/k"
    with pytest.raises(PermanentError, match="no_host_key_check is not allowed"):
        SftpSettings.from_uri(uri)


# -- authentication ------------------------------------------------------------------------


def test_key_and_password_logins_both_work(sshd: SshdHandle, sftp_settings: Settings) -> None:
    by_password = sftp_settings(key_file=None, password=SFTP_PASSWORD)
    key_text = sftp_settings(key_file=None, private_key=sshd.client_key.read_text())
    for settings in (sftp_settings(), by_password, key_text):
        with SftpClient(settings) as client:
            client.put_bytes(b"hello", "hello.txt")
            assert client.stat("hello.txt").size == 5


def test_bad_password_is_permanent_and_never_shown(
    sftp_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Wr0ng-pa55-do-not-log"
    client = SftpClient(sftp_settings(key_file=None, password=secret))
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError) as caught:
        client.connect()
    assert "authentication failed" in str(caught.value)
    assert "tandem-sftp@127.0.0.1" in str(caught.value)
    assert secret not in str(caught.value)
    assert secret not in repr(client.settings)
    assert secret not in caplog.text
    assert client.connects == 0


# -- uploads -------------------------------------------------------------------------------


def kill_when_partial(sshd: SshdHandle, part: Path, at_least: int) -> threading.Thread:
    """Cuts every connection once ``part`` holds ``at_least`` bytes (upload in flight)."""

    def watch() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if part.exists() and part.stat().st_size >= at_least:
                sshd.kill_connections()
                return
            time.sleep(0.002)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_put_cut_mid_transfer_is_retried_to_one_complete_file(
    sshd: SshdHandle, client: SftpClient, area: Path, tmp_path: Path
) -> None:
    payload = os.urandom(24 * MB)
    source = tmp_path / "orders.xml"
    source.write_bytes(payload)
    watcher = kill_when_partial(sshd, area / "orders.xml.part", 4 * MB)
    assert client.put(source, "orders.xml") == len(payload)
    watcher.join()
    assert client.connects >= 2  # the cut happened and the client reconnected
    assert sorted(os.listdir(area)) == ["orders.xml"]
    assert sha256((area / "orders.xml").read_bytes()) == sha256(payload)


def test_put_that_cannot_finish_leaves_neither_partial_nor_temp_file(
    sshd: SshdHandle, sftp_settings: Settings, area: Path
) -> None:
    payload = os.urandom(24 * MB)
    single = sftp_settings(retry={"attempts": 1})
    with SftpClient(single) as client:
        watcher = kill_when_partial(sshd, area / "stock.csv.part", 4 * MB)
        with pytest.raises(TransientError, match="put"):
            client.put_bytes(payload, "stock.csv")
        watcher.join()
    assert os.listdir(area) == []


def test_put_replaces_atomically_or_refuses_to_overwrite(client: SftpClient, area: Path) -> None:
    client.put_bytes(b"v1", "prices.csv")
    client.put_bytes(b"version 2", "prices.csv")
    assert (area / "prices.csv").read_bytes() == b"version 2"
    with pytest.raises(RemoteExists):
        client.put_bytes(b"v3", "prices.csv", overwrite=False)
    assert (area / "prices.csv").read_bytes() == b"version 2"
    assert sorted(os.listdir(area)) == ["prices.csv"]


def test_custom_temp_name_is_used(sftp_settings: Settings, area: Path) -> None:
    settings = sftp_settings(temp_name=".{name}.uploading")
    assert settings.temp_path("out/a.csv") == "out/.a.csv.uploading"
    with SftpClient(settings) as client:
        client.put_bytes(b"x", "a.csv")
    assert os.listdir(area) == ["a.csv"]


# -- downloads -----------------------------------------------------------------------------


def test_stream_survives_a_dropped_connection_with_identical_bytes(
    sshd: SshdHandle, client: SftpClient, area: Path
) -> None:
    payload = os.urandom(12 * MB)
    sshd.drop(area / "catalog.xml", payload)
    with client.open_read("catalog.xml") as reader:
        head = reader.read(3 * MB)
        assert sshd.kill_connections() > 0
        rest = reader.read()
    assert client.connects == 2
    assert sha256(head + rest) == sha256(payload)


def test_get_cut_mid_transfer_resumes_to_identical_file(
    sshd: SshdHandle, client: SftpClient, area: Path, tmp_path: Path
) -> None:
    payload = os.urandom(24 * MB)
    sshd.drop(area / "big.bin", payload)
    local = tmp_path / "big.bin"
    watcher = kill_when_partial(sshd, tmp_path / "big.bin.part", 4 * MB)
    assert client.get("big.bin", local) == len(payload)
    watcher.join()
    assert client.connects >= 2
    assert sha256(local.read_bytes()) == sha256(payload)
    assert sorted(os.listdir(tmp_path)) == ["big.bin"]


def test_missing_remote_file_is_permanent_not_retried(client: SftpClient) -> None:
    with pytest.raises(PermanentError, match="no such file"):
        client.read_bytes("nope.csv")
    assert client.connects == 1


def test_server_restart_reconnects_transparently(sshd: SshdHandle, client: SftpClient) -> None:
    client.put_bytes(b"before", "a.txt")
    sshd.restart()
    assert client.read_bytes("a.txt") == b"before"
    assert client.connects == 2


def test_only_network_failures_are_transient() -> None:
    def kind(exc: BaseException, *, alive: bool) -> type[BaseException]:
        mapped = translate(exc, "sftp x: op", alive=alive)
        assert mapped is not None
        return type(mapped)

    assert kind(ConnectionResetError(104, "reset"), alive=True) is TransientError
    assert kind(TimeoutError("timed out"), alive=True) is TransientError
    assert kind(EOFError(), alive=True) is TransientError  # the stream ended: a drop
    assert kind(EOFError("End of file"), alive=True) is PermanentError  # an SFTP status
    assert kind(OSError("Failure"), alive=True) is PermanentError  # the server said no
    assert kind(OSError("Socket is closed"), alive=False) is TransientError
    assert kind(FileNotFoundError(2, "No such file"), alive=True) is RemoteNotFound
    assert issubclass(kind(paramiko.AuthenticationException("x"), alive=True), PermanentError)


def test_reading_the_start_of_a_big_file_stays_bounded(
    sshd: SshdHandle, client: SftpClient, area: Path
) -> None:
    """A consumer that reads 1 MiB and stops must not pull the rest of the file."""
    import resource

    payload = os.urandom(96 * MB)
    sshd.drop(area / "huge.bin", payload)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    with client.open_read("huge.bin") as stream:
        assert stream.read(MB) == payload[:MB]
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < 40 * 1024, f"peak memory grew by {grown} KiB"


def test_no_host_key_check_is_refused_even_past_the_settings_validator(
    sshd: SshdHandle, client: SftpClient
) -> None:
    from connectors.transports.sftp import SftpClient as Client

    unchecked = client.settings.model_copy(update={"known_hosts": None})
    with pytest.raises(PermanentError, match="no host key check is configured"):
        Client(unchecked).listdir(".")
    empty_pin = client.settings.model_copy(update={"known_hosts": None, "host_key": "  "})
    with pytest.raises(PermanentError, match=r"host_key is empty|no host key check"):
        Client(empty_pin).listdir(".")


def test_reads_of_any_size_return_the_exact_bytes(
    sshd: SshdHandle, client: SftpClient, area: Path
) -> None:
    payload = os.urandom(3 * MB + 12345)
    sshd.drop(area / "odd.bin", payload)
    got = bytearray()
    sizes = [1, 7, 4096, 100_000, 262_144, 3, 1_000_001]
    with client.open_read("odd.bin") as stream:
        i = 0
        while chunk := stream.read(sizes[i % len(sizes)]):
            got += chunk
            i += 1
    assert bytes(got) == payload
