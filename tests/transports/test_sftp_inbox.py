"""Inbound drop folder on a real sshd: stable files only, exclusive claims, archive/failed."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from connectors.transports.sftp import RemoteFile, SftpClient, SftpSettings
from connectors.transports.sftp_inbound import ClaimedFile, SftpInbox
from sandbox.sshd import SshdHandle

Settings = Callable[..., SftpSettings]


def ready(inbox: SftpInbox) -> list[RemoteFile]:
    """What the inbox offers once a new file has been seen by two listings."""
    return inbox.poll() or inbox.poll()


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_file_still_growing_is_not_picked(
    sshd: SshdHandle, sftp_settings: Settings, area: Path
) -> None:
    with SftpClient(sftp_settings(settle_seconds=0.3)) as client:
        inbox = SftpInbox(client)
        inbox.ensure_dirs()
        sshd.drop(area / "inbound" / "done.csv", b"a,b\n1,2\n")
        growing = area / "inbound" / "growing.csv"
        sshd.drop(growing, b"a,b\n")
        stop = threading.Event()

        def append() -> None:
            while not stop.is_set():
                with growing.open("ab") as out:
                    out.write(b"3,4\n")
                time.sleep(0.02)

        writer = threading.Thread(target=append)
        writer.start()
        try:
            assert [f.name for f in inbox.poll()] == ["done.csv"]
        finally:
            stop.set()
            writer.join()
        inbox.poll()  # its listing may predate the last append; the next one settles it
        assert sorted(f.name for f in inbox.poll()) == ["done.csv", "growing.csv"]


def test_temp_hidden_and_unmarked_files_are_skipped(
    sshd: SshdHandle, sftp_settings: Settings, area: Path
) -> None:
    with SftpClient(sftp_settings(stability="marker", marker_suffix=".ready")) as client:
        inbox = SftpInbox(client, "3pl")
        inbox.ensure_dirs()
        inbound = area / "3pl" / "inbound"
        for name in ("asn1.xml", "asn2.xml", "asn2.xml.ready", ".hidden", "asn3.xml.part"):
            sshd.drop(inbound / name, b"<asn/>")
        assert [f.name for f in inbox.poll()] == ["asn2.xml"]
        claimed = inbox.claim("asn2.xml")
        assert claimed is not None
        inbox.archive(claimed)
    assert tree(area / "3pl") == [
        "archive/asn2.xml",
        "archive/asn2.xml.ready",
        "inbound/.hidden",
        "inbound/asn1.xml",
        "inbound/asn3.xml.part",
    ]


def test_two_pollers_never_claim_one_file_twice(
    sshd: SshdHandle, sftp_settings: Settings, area: Path
) -> None:
    names = [f"order-{i:03}.json" for i in range(50)]
    sshd.area(str((area / "inbound").relative_to(sshd.home)))
    for name in names:
        sshd.drop(area / "inbound" / name, f'{{"order": "{name}"}}'.encode())
    claims: dict[str, list[ClaimedFile]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def worker(label: str) -> None:
        with SftpClient(sftp_settings()) as client:
            inbox = SftpInbox(client)
            start.wait()
            while candidates := inbox.poll():
                for remote in candidates:  # both walk the same order: maximal contention
                    claimed = inbox.claim(remote)
                    if claimed is not None:
                        claims[label].append(claimed)

    threads = [threading.Thread(target=worker, args=(label,)) for label in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    taken_a = {c.name for c in claims["a"]}
    taken_b = {c.name for c in claims["b"]}
    assert len(claims["a"]) + len(claims["b"]) == 50
    assert taken_a.isdisjoint(taken_b)
    assert taken_a | taken_b == set(names)
    assert sorted(os.listdir(area / "processing")) == names
    assert os.listdir(area / "inbound") == []


def test_archive_and_failed_moves_keep_every_file(
    sshd: SshdHandle, sftp_settings: Settings, area: Path
) -> None:
    with SftpClient(sftp_settings()) as client:
        inbox = SftpInbox(client)
        inbox.ensure_dirs()
        for round_ in (1, 2):  # the same name arrives twice: the second archive gets a suffix
            sshd.drop(area / "inbound" / "stock.csv", f"sku,qty\nA,{round_}\n".encode())
            (claimed,) = [inbox.claim(f) for f in ready(inbox)]
            assert claimed is not None
            with inbox.open_claimed(claimed) as stream:
                assert stream.read() == f"sku,qty\nA,{round_}\n".encode()
            archived = inbox.archive(claimed)
        assert archived.startswith("archive/stock.csv.")
        sshd.drop(area / "inbound" / "bad.csv", b"sku,qty\nA,abc\n")
        (bad,) = [inbox.claim(f) for f in ready(inbox)]
        assert bad is not None
        assert inbox.fail(bad, "bad.csv line 2: qty: 'abc' is not a number") == "failed/bad.csv"
    files = tree(area)
    assert files[:2] == ["archive/stock.csv", files[1]]
    assert files[1].startswith("archive/stock.csv.20")
    assert files[2:] == ["failed/bad.csv", "failed/bad.csv.error.txt"]
    report = (area / "failed" / "bad.csv.error.txt").read_text()
    assert "file: bad.csv" in report
    assert "line 2: qty: 'abc' is not a number" in report
    assert (area / "failed" / "bad.csv").read_bytes() == b"sku,qty\nA,abc\n"
    assert {(area / "archive" / "stock.csv").read_bytes()} == {b"sku,qty\nA,1\n"}


def test_a_file_taken_meanwhile_is_skipped(
    sshd: SshdHandle, client: SftpClient, area: Path
) -> None:
    inbox = SftpInbox(client)
    inbox.ensure_dirs()
    sshd.drop(area / "inbound" / "x.csv", b"1")
    (remote,) = inbox.poll()
    first = inbox.claim(remote)
    assert first is not None
    assert inbox.claim(remote) is None
    assert [f.name for f in inbox.claimed_files()] == ["x.csv"]
