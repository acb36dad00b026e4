"""SFTP benchmark: a 50 MB put and get through Tandem's client vs OpenSSH's ``sftp``, one run.

    python -m bench.bench_sftp [--mb 50] [--rounds 5]

Starts a real OpenSSH sshd on loopback (``sandbox.sshd``; needs root and openssh-server)
and moves the same random file both ways, alternating the two clients round by round:

- ``openssh``: ``sftp -q -b - -i KEY -o UserKnownHostsFile=... -P PORT user@127.0.0.1`` with
  one ``put`` (or ``get``) command: process start, connection, key login and transfer.
- ``tandem``: a new ``SftpClient`` (TCP_NODELAY socket, known_hosts check, key login) and
  one ``put`` (atomic: ``.part`` then rename, size checked) or ``get`` (streamed through a
  ``.part`` file, renamed), timed the same way, connection included.

Every transferred file is checked against the source's SHA-256. Prints one JSON document
(median MB/s over the rounds, every round's seconds, ratios tandem/openssh), then a summary
line; the goal is >= 0.8x OpenSSH's speed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from connectors.transports.sftp import SftpClient, SftpSettings
from sandbox.sshd import SshdHandle, start_sshd

GOAL = 0.8


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def openssh(sshd: SshdHandle, command: str) -> None:
    result = subprocess.run(
        [
            "sftp",
            "-q",
            "-b",
            "-",
            "-i",
            str(sshd.client_key),
            "-o",
            f"UserKnownHostsFile={sshd.known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-P",
            str(sshd.port),
            f"{sshd.user}@{sshd.host}",
        ],
        input=command + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"sftp {command!r} failed: {result.stderr.strip()}")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run(mb: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-sftp-") as tmp:
        work = Path(tmp)
        source = work / "source.bin"
        with source.open("wb") as out:
            for _ in range(mb):
                out.write(os.urandom(1 << 20))
        expected = sha256(source)
        with start_sshd(work / "sshd") as sshd:
            area = sshd.area(f"bench-{os.getpid()}", clean=True)
            settings = SftpSettings(
                host=sshd.host,
                port=sshd.port,
                username=sshd.user,
                key_file=sshd.client_key,
                known_hosts=sshd.known_hosts,
            )
            seconds: dict[str, list[float]] = {
                f"{who}_{op}": [] for who in ("openssh", "tandem") for op in ("put", "get")
            }

            def tandem_put(remote: Path) -> None:
                with SftpClient(settings) as client:
                    client.put(source, str(remote))

            def tandem_get(remote: Path, local: Path) -> None:
                with SftpClient(settings) as client:
                    client.get(str(remote), local)

            for i in range(rounds):
                order = ("openssh", "tandem") if i % 2 == 0 else ("tandem", "openssh")
                for who in order:
                    remote = area / f"{who}-{i}.bin"
                    local = work / f"{who}-{i}.bin"
                    if who == "openssh":
                        put = timed(partial(openssh, sshd, f"put {source} {remote}"))
                        get = timed(partial(openssh, sshd, f"get {remote} {local}"))
                    else:
                        put = timed(partial(tandem_put, remote))
                        get = timed(partial(tandem_get, remote, local))
                    for path in (remote, local):
                        if sha256(path) != expected:
                            raise RuntimeError(f"{path} differs from the source")
                        path.unlink()
                    seconds[f"{who}_put"].append(put)
                    seconds[f"{who}_get"].append(get)
    mb_s = {key: round(mb / statistics.median(values), 1) for key, values in seconds.items()}
    ratios = {op: round(mb_s[f"tandem_{op}"] / mb_s[f"openssh_{op}"], 2) for op in ("put", "get")}
    return {
        "benchmark": "sftp",
        "file_mb": mb,
        "rounds": rounds,
        "mb_per_s_median": mb_s,
        "ratio_tandem_to_openssh": ratios,
        "goal_ratio": GOAL,
        "meets_goal": all(value >= GOAL for value in ratios.values()),
        "seconds": {key: [round(v, 3) for v in values] for key, values in seconds.items()},
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = run(args.mb, args.rounds)
    print(json.dumps(result, indent=2))
    mb_s, ratios = result["mb_per_s_median"], result["ratio_tandem_to_openssh"]
    print(
        f"put: tandem {mb_s['tandem_put']} MB/s vs openssh {mb_s['openssh_put']} MB/s "
        f"({ratios['put']}x); get: tandem {mb_s['tandem_get']} MB/s vs openssh "
        f"{mb_s['openssh_get']} MB/s ({ratios['get']}x); goal >= {GOAL}x"
    )


if __name__ == "__main__":
    main()
