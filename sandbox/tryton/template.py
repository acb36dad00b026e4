"""The demo database, built once per machine into a cache and copied fresh for every server.

A build runs ``trytond-admin -u sale --activate-dependencies`` on an empty SQLite file, then
``python -m sandbox.tryton.setup`` (company, accounts, products, parties, stock, open sales).
The file is cached under ``$TANDEM_SANDBOX_CACHE/tryton-8.2/`` (default
``~/.cache/tandem/tryton-8.2/``), named by a hash of the Tryton versions, ``BUILD_VERSION``, the
setup code, the seed data and the current year (the fiscal years are last, this and next year), so a
change to any of them builds a new one. A file lock keeps two processes from building at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from importlib import metadata
from pathlib import Path

DATABASE = "tandem"
ADMIN_LOGIN = "admin"
PACKAGES = ("trytond", "trytond-sale", "proteus")
_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parents[1]
# Bump when the build steps below change what the template holds.
BUILD_VERSION = "1"
_KEYED_SOURCES = (
    _HERE / "setup.py",
    _HERE / "data.py",
    _REPO / "sandbox" / "webshop" / "catalog.py",
)


class TemplateBuildError(RuntimeError):
    """A step of the template build failed; the message names it and ends with its output."""


def default_cache_dir() -> Path:
    root = os.environ.get("TANDEM_SANDBOX_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "tandem"
    return base / "tryton-8.2"


def venv_program(name: str) -> Path:
    """A console script of the running interpreter's environment (the venv's ``trytond``)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return candidate
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed next to {sys.executable} nor on PATH")
    return Path(found)


def template_key() -> str:
    digest = hashlib.sha256(f"build {BUILD_VERSION}\n".encode())
    for package in PACKAGES:
        digest.update(f"{package}=={metadata.version(package)}\n".encode())
    for source in _KEYED_SOURCES:
        digest.update(source.read_bytes())
    digest.update(str(date.today().year).encode())
    return digest.hexdigest()[:16]


def write_config(path: Path, database_dir: Path, *, host: str = "127.0.0.1", port: int = 0) -> Path:
    lines = ["[database]", "uri = sqlite://", f"path = {database_dir}"]
    if port:
        lines += ["", "[web]", f"listen = {host}:{port}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_secret(path: Path, secret: str) -> Path:
    """Writes ``secret`` to a file only its owner can read (created 0600, never wider)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return path


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(step: str, command: list[str], *, cwd: Path, env: dict[str, str], stdin: str) -> None:
    try:
        subprocess.run(
            command,
            cwd=cwd,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
    except subprocess.CalledProcessError as exc:
        output = (exc.stdout or "") + (exc.stderr or "")
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise TemplateBuildError(f"{step} failed (exit {exc.returncode}):\n{tail}") from exc
    except subprocess.TimeoutExpired as exc:
        raise TemplateBuildError(f"{step} did not finish in {exc.timeout:.0f} s") from exc


def _settle(db_path: Path) -> None:
    """Folds the write-ahead log into the file, so the template is one self-contained file."""
    connection = sqlite3.connect(db_path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def build_template(target: Path) -> dict[str, float]:
    """Builds the seeded database into ``target``; returns seconds per step."""
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="build-", dir=target.parent) as tmp:
        work = Path(tmp)
        config = write_config(work / "trytond.conf", work)
        db_path = work / f"{DATABASE}.sqlite"
        db_path.touch()
        password_file = write_secret(work / "admin-password", os.urandom(16).hex())
        env = {**os.environ, "TRYTONPASSFILE": str(password_file), "PYTHONPATH": str(_REPO)}
        admin = [str(venv_program("trytond-admin")), "-c", str(config), "-d", DATABASE]
        started = time.perf_counter()
        # An empty answer to the e-mail prompt: --email checks the domain's DNS, which fails
        # offline.
        _run(
            "trytond-admin -u sale",
            [*admin, "-u", "sale", "--activate-dependencies"],
            cwd=work,
            env=env,
            stdin="\n",
        )
        timings["initialise"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        setup = [sys.executable, "-m", "sandbox.tryton.setup", "--config", str(config)]
        _run("setup", [*setup, "--database", DATABASE], cwd=work, env=env, stdin="")
        timings["setup"] = round(time.perf_counter() - started, 1)
        _settle(db_path)
        os.replace(db_path, target)
    return timings


def ensure_template(cache_dir: Path | None = None) -> Path:
    """The cached template for this code and these versions, built first when missing."""
    root = cache_dir if cache_dir is not None else default_cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    key = template_key()
    target = root / f"{DATABASE}-{key}.sqlite"
    if target.exists():
        return target
    with _locked(root / ".build.lock"):
        if target.exists():  # another process built it while we waited
            return target
        started = time.perf_counter()
        timings = build_template(target)
        timings["total"] = round(time.perf_counter() - started, 1)
        stats = {"key": key, "seconds": timings, "bytes": target.stat().st_size}
        target.with_suffix(".json").write_text(json.dumps(stats, indent=2) + "\n")
        _prune(root, keep=target)
    return target


def _prune(root: Path, keep: Path, min_age_s: float = 86400.0) -> None:
    """Removes templates of other code versions not touched for a day."""
    for old in root.glob(f"{DATABASE}-*.sqlite"):
        if old != keep and time.time() - old.stat().st_mtime > min_age_s:
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)


def restore(template: Path, workdir: Path, database: str = DATABASE) -> Path:
    """A fresh copy of ``template`` as ``workdir/<database>.sqlite`` (stale WAL files removed)."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / f"{database}.sqlite"
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, db_path)
    return db_path


def set_admin_password(db_path: Path, password: str, login: str = ADMIN_LOGIN) -> None:
    """Stores ``password`` the way trytond does (argon2 via pwdlib) for ``login``."""
    import pwdlib
    from pwdlib.hashers.argon2 import Argon2Hasher

    password_hash = pwdlib.PasswordHash([Argon2Hasher()]).hash(password)
    connection = sqlite3.connect(db_path)
    try:
        with connection:
            updated = connection.execute(
                "UPDATE res_user SET password_hash = ? WHERE login = ?", (password_hash, login)
            ).rowcount
    finally:
        connection.close()
    if updated != 1:
        raise LookupError(f"{db_path}: no user with login {login!r} in res_user")
