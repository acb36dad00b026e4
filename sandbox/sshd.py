"""A real OpenSSH ``sshd`` on loopback, as an SFTP peer for tests, benchmarks and the demo.

Stable API (other sandbox peers build on it)::

    handle = start_sshd(workdir, user="tandem-sftp", port=0, password=None,
                        log_level="INFO", extra_config="")
    handle.host, handle.port, handle.user      # "127.0.0.1", the port, the login name
    handle.home                                # the user's home = the SFTP login directory
    handle.client_key                          # ed25519 private key file (no passphrase)
    handle.client_public_key                   # "ssh-ed25519 AAAA... tandem-test"
    handle.host_key_line                       # "ssh-ed25519 AAAA..." (the server's public key)
    handle.host_fingerprint                    # "SHA256:..." as ``ssh-keygen -l`` prints it
    handle.known_hosts                         # file with "[127.0.0.1]:PORT ssh-ed25519 AAAA..."
    handle.password                            # the password when password login is enabled
                                               # (a system password: one per user)
    handle.area("3pl/inbound", clean=False)    # a directory under the home, owned by the user
    handle.drop(path, data)                    # write a file as an outside party would, atomically
    handle.kill_connections()                  # SIGKILL every live session; the listener stays
    handle.session_pids()                      # the processes serving connections now
    handle.restart()                           # same port and keys, fresh daemon
    handle.log_text()                          # sshd's own log (``-e``)
    handle.stop()                              # daemon and every session gone
    with start_sshd(...) as handle: ...        # stops on exit

The server is not chrooted, so a remote path is the same string as the local path
(``str(handle.area("3pl"))``); relative remote paths resolve against ``handle.home``.

Needs root (it creates/unlocks the system user and runs ``/usr/sbin/sshd``) and Debian's
``openssh-server``. Every instance has its own work directory (host key, client key, config,
pid file, log) and its own authorized keys file (``~/.ssh/authorized_keys.tandem-PORT``:
sshd reads it as the user, who cannot enter pytest's private temp directories), so several
may run at once; they share the user's home, so give each its own area. Nothing of the
product is imported here.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from sandbox.process_knobs import descendants

SSHD = "/usr/sbin/sshd"
HOST = "127.0.0.1"
DEFAULT_USER = "tandem-sftp"


class SshdError(RuntimeError):
    """sshd could not be set up or did not come up; the message carries its log."""


@dataclass
class SshdHandle:
    """A running sshd peer. See the module docstring for the API."""

    workdir: Path
    user: str
    port: int
    home: Path
    client_key: Path
    client_public_key: str
    host_key_line: str
    host_fingerprint: str
    known_hosts: Path
    config: Path
    authorized_keys: Path
    password: str | None = None
    host: str = HOST
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.workdir / "sshd.log"

    @property
    def uid_gid(self) -> tuple[int, int]:
        entry = pwd.getpwnam(self.user)
        return entry.pw_uid, entry.pw_gid

    def area(self, relative: str, *, clean: bool = False) -> Path:
        """``home/relative`` created (with parents) and owned by the user; emptied when
        ``clean``. Its string form is also its remote path."""
        path = self.home / relative
        if clean and path.exists():
            shutil.rmtree(path)
        uid, gid = self.uid_gid
        current = self.home
        for part in Path(relative).parts:
            current = current / part
            if not current.exists():
                current.mkdir(mode=0o755)
                os.chown(current, uid, gid)
        return path

    def drop(self, path: Path, data: bytes) -> Path:
        """Writes ``data`` to ``path`` through a hidden temp name and a rename, owned by the
        user, as a well-behaved outside party would."""
        temp = path.with_name(f".{path.name}.drop")
        temp.write_bytes(data)
        os.chown(temp, *self.uid_gid)
        temp.replace(path)
        return path

    def session_pids(self) -> list[int]:
        """Processes serving connections (children of the listener and their descendants)."""
        if self.process is None:
            return []
        return descendants(self.process.pid)

    def kill_connections(self) -> int:
        """SIGKILLs every session process; clients see the connection drop. Returns how many
        processes were killed. The listener keeps accepting new connections."""
        pids = self.session_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        """Stops the listener and every session; waits until they are gone."""
        process, self.process = self.process, None
        if process is None:
            return
        sessions = descendants(process.pid)
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        _wait_gone(sessions, timeout=5)
        self.authorized_keys.unlink(missing_ok=True)

    def restart(self) -> None:
        """Stops and starts sshd again on the same port, keys and config."""
        self.stop()
        self.process = _launch(self)

    def __enter__(self) -> SshdHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_sshd(
    workdir: Path,
    *,
    user: str = DEFAULT_USER,
    port: int = 0,
    password: str | None = None,
    log_level: str = "INFO",
    extra_config: str = "",
) -> SshdHandle:
    """Sets up keys, user and config in ``workdir`` and starts sshd on 127.0.0.1.

    ``port=0`` picks a free port. ``password`` enables password login and sets it as the
    user's system password (key login always works). ``extra_config`` lines are appended
    to sshd_config (e.g. ``"MaxStartups 2"``).
    """
    if not os.path.exists(SSHD):
        raise SshdError(f"{SSHD} is missing: apt-get install openssh-server")
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    home = ensure_user(user, password)
    host_key = _keygen(workdir / "ssh_host_ed25519_key", "tandem-sshd")
    client_key = _keygen(workdir / "client_ed25519_key", "tandem-test")
    client_public = client_key.with_suffix(".pub").read_text().strip()
    host_line = " ".join(host_key.with_suffix(".pub").read_text().split()[:2])
    port = port or free_port()
    # sshd reads authorized keys as the user, so they live in its home (one file per
    # instance), not in the work directory (pytest's are private to root).
    authorized = home / ".ssh" / f"authorized_keys.tandem-{port}"
    known_hosts = workdir / "known_hosts"
    known_hosts.write_text(f"[{HOST}]:{port} {host_line}\n")
    config = workdir / "sshd_config"
    config.write_text(
        _config_text(
            workdir=workdir,
            host_key=host_key,
            authorized=authorized,
            user=user,
            port=port,
            password=password,
            log_level=log_level,
            extra=extra_config,
        )
    )
    handle = SshdHandle(
        workdir=workdir,
        user=user,
        port=port,
        home=home,
        client_key=client_key,
        client_public_key=client_public,
        host_key_line=host_line,
        host_fingerprint=_fingerprint(host_key.with_suffix(".pub")),
        known_hosts=known_hosts,
        config=config,
        authorized_keys=authorized,
        password=password,
    )
    handle.process = _launch(handle)
    return handle


def ensure_user(user: str, password: str | None = None) -> Path:
    """Creates the system user when missing and unlocks it (or sets ``password``: one per
    user, so the last instance started with a password sets it); returns its home."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        _run(["useradd", "--create-home", "--shell", "/bin/sh", user])
        entry = pwd.getpwnam(user)
    if password is None:
        if _is_locked(user):  # keep a password another instance set
            _run(["usermod", "-p", "*", user])
    else:
        hashed = _run(["openssl", "passwd", "-6", "-stdin"], stdin=password).strip()
        _run(["usermod", "-p", hashed, user])
    home = Path(entry.pw_dir)
    if not home.is_dir():
        home.mkdir(mode=0o755, parents=True)
        os.chown(home, entry.pw_uid, entry.pw_gid)
    return home


def _is_locked(user: str) -> bool:
    """A locked or passwordless shadow entry (``!``, ``!!``, ``!hash``, empty): sshd refuses
    every login to it without PAM, even by key."""
    for line in Path("/etc/shadow").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name == user:
            field = rest.split(":", 1)[0]
            return field == "" or field.startswith("!")
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _config_text(
    *,
    workdir: Path,
    host_key: Path,
    authorized: Path,
    user: str,
    port: int,
    password: str | None,
    log_level: str,
    extra: str,
) -> str:
    lines = [
        f"ListenAddress {HOST}",
        f"Port {port}",
        f"HostKey {host_key}",
        f"PidFile {workdir / 'sshd.pid'}",
        "UsePAM no",
        f"PasswordAuthentication {'yes' if password is not None else 'no'}",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        f"AuthorizedKeysFile {authorized}",
        "StrictModes yes",
        f"AllowUsers {user}",
        "PermitRootLogin no",
        "MaxStartups 100:30:200",
        "MaxSessions 50",
        "UseDNS no",
        "ClientAliveInterval 15",
        "Subsystem sftp internal-sftp",
        f"LogLevel {log_level}",
    ]
    return "\n".join(lines) + "\n" + extra + "\n"


def _write_authorized_keys(handle: SshdHandle) -> None:
    uid, gid = handle.uid_gid
    ssh_dir = handle.authorized_keys.parent
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    os.chown(ssh_dir, uid, gid)
    handle.authorized_keys.write_text(handle.client_public_key + "\n")
    handle.authorized_keys.chmod(0o600)
    os.chown(handle.authorized_keys, uid, gid)


def _launch(handle: SshdHandle) -> subprocess.Popen[bytes]:
    config, log_path, port = handle.config, handle.log_path, handle.port
    Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
    _write_authorized_keys(handle)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SshdError(f"sshd exited with {process.returncode}: {log_path.read_text()}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5) as probe:
                probe.recv(64)  # the banner: sshd is serving, not only bound
                return process
        except OSError:
            time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    raise SshdError(f"sshd did not accept on {HOST}:{port} in 10 s: {log_path.read_text()}")


def _keygen(path: Path, comment: str) -> Path:
    if not path.exists():
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    path.chmod(0o600)
    return path


def _fingerprint(public_key: Path) -> str:
    # "256 SHA256:abc... comment (ED25519)"
    return _run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key)]).split()[1]


def _run(command: list[str], stdin: str | None = None) -> str:
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SshdError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def _wait_gone(pids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            if _is_zombie(pid):  # dead; reaping it is its new parent's business
                break
            time.sleep(0.01)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
