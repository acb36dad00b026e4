"""``tandem``: the command line of the integration bus."""

from __future__ import annotations

import getpass
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import click
import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from canonical.errors import TandemError
from flows.registry import FLOWS, RunOptions
from hub.deliveries import DeliveryLedger
from hub.engine import require_current_schema
from hub.queries import recent_messages, trace
from hub.schema import Delivery, DeliveryStatus
from tandem import render
from tandem.cli_mapping import mapping_app
from tandem.progress import with_progress
from tandem.runtime import ConfigurationError, Runtime

app = typer.Typer(help="Tandem integration bus", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="The hub database", no_args_is_help=True)
flows_app = typer.Typer(help="Business flows", no_args_is_help=True)
messages_app = typer.Typer(help="Message tracking", no_args_is_help=True)
dead_app = typer.Typer(help="Dead letters: inspect, replay, discard", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(flows_app, name="flows")
app.add_typer(messages_app, name="messages")
app.add_typer(dead_app, name="deadletters")
app.add_typer(mapping_app, name="mapping")

out = Console()
err = Console(stderr=True)


_verbose = False


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 400 else text[:397] + "..."


def _explain(exc: BaseException) -> str:
    """One line a person can act on, for any failure a command can meet."""
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        return f"settings: {problems} (check the TANDEM_* variables and the settings file)"
    if isinstance(exc, DBAPIError):
        first = str(exc.orig or exc).strip().splitlines()[0]
        hint = (
            ""
            if "no such table" not in first and "does not exist" not in first
            else ("; run `tandem db upgrade` first")
        )
        return f"hub database: {first}{hint}"
    if isinstance(exc, (ArgumentError, NoSuchModuleError)):
        return f"TANDEM_DATABASE_URL is not a usable database URL: {_one_line(exc)}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or type(exc).__name__}: {exc.filename or _one_line(exc)}"
    if isinstance(exc, (TandemError, ConfigurationError, ValueError, RuntimeError)):
        return _one_line(exc)
    return f"{type(exc).__name__}: {_one_line(exc)}"


@contextmanager
def _runtime() -> Iterator[Runtime]:
    """A runtime, with every failure turned into one clear line and exit code 1
    (the traceback only with --verbose)."""
    runtime: Runtime | None = None
    try:
        runtime = Runtime()
        yield runtime
    except (typer.Exit, typer.Abort, click.exceptions.ClickException):
        raise
    except Exception as exc:
        if _verbose:
            err.print_exception()
        err.print(f"[red]error:[/red] {_explain(exc)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    finally:
        if runtime is not None:
            runtime.close()


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 time (e.g. 2026-03-01T08:00:00+01:00)",
            param_hint="--since",
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="log progress; tracebacks on errors")
    ] = False,
) -> None:
    global _verbose  # noqa: PLW0603 - one process-wide CLI flag
    _verbose = verbose
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def sandbox(
    ctx: typer.Context,
    command: Annotated[str, typer.Argument(help="up, down, status or knobs")],
) -> None:
    """Start, stop or show the sandbox landscape (outside systems on loopback, for demo/tests)."""
    import subprocess

    if command not in ("up", "down", "status", "knobs"):
        err.print(
            f"[red]error:[/red] unknown sandbox command {command!r}: use up, down, status or knobs"
        )
        raise typer.Exit(2)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "sandbox.landscape", command, *ctx.args], check=False
        )
    except OSError as exc:  # pragma: no cover - the interpreter itself is gone
        err.print(f"[red]error:[/red] cannot run the sandbox: {exc}")
        raise typer.Exit(1) from exc
    raise typer.Exit(result.returncode)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the hub schema to the latest version."""
    with _runtime() as rt:
        rt.upgrade_db()
        out.print(f"hub schema up to date at {render.safe_url(rt.settings.hub_url)}")


@flows_app.command("list")
def flows_list() -> None:
    """List the flows that `tandem run` knows."""
    out.print(render.flows_table(FLOWS.values()))


@app.command()
def run(
    flow: Annotated[str, typer.Argument(help="flow name, see `tandem flows list`")],
    since: Annotated[str | None, typer.Option(help="only input received since (ISO 8601)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="map and report; write nothing")] = (
        False
    ),
    full: Annotated[
        bool, typer.Option("--full", help="read everything again (the hub skips what it has)")
    ] = False,
    entity_id: Annotated[
        list[str] | None,
        typer.Option(
            "--entity-id",
            help="only the input about this record (the source system's id); repeatable; "
            "the rest waits for a later run",
        ),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="deliver only to this system (erp, crm... or erp_soap); repeatable; what is "
            "due to the others stays queued",
        ),
    ] = None,
) -> None:
    """Run one flow once (a live progress line on a terminal) and print what it did."""
    spec = FLOWS.get(flow)
    if spec is None:
        err.print(f"[red]error:[/red] unknown flow {flow!r}; known: {', '.join(FLOWS)}")
        raise typer.Exit(2)
    options = RunOptions(
        since=_parse_since(since),
        dry_run=dry_run,
        full=full,
        entity_ids=list(entity_id) if entity_id else None,
        targets=list(target) if target else None,
    )
    with _runtime() as rt:
        summary = with_progress(err, rt.hub, flow, lambda: spec.run(rt, options))
        out.print(render.summary_table(summary))
        if summary.dead or summary.quarantined:
            raise typer.Exit(3)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    worker: Annotated[bool, typer.Option(help="also run the order flow in the background")] = (
        True
    ),
) -> None:
    """Run the webhook receiver (POST /webhooks/webshop) and, by default, the order worker."""
    import gc

    import uvicorn

    from tandem.worker import FlowLoop

    with _runtime() as rt:
        # fail now, not in the background: the hub must be reachable and migrated, the
        # ERP configured and the address free
        require_current_schema(rt.hub.engine)
        loop = FlowLoop(rt, "webshop-orders", rt.settings.worker_interval) if worker else None
        if loop is not None:
            rt.erp()
        asgi = rt.webhook_app(loop.wake if loop else None)
        bind_host = host or rt.settings.webhook_host
        bind_port = port if port is not None else rt.settings.webhook_port
        _check_free(bind_host, bind_port)
        err.print(f"receiving webhooks at http://{bind_host}:{bind_port}/webhooks/webshop")
        if loop is not None:
            loop.start()
        # The inbox writer thread needs the GIL back after each SQLite call (4 per batch); the
        # default 5 ms switch interval made every batch wait behind the request handlers.
        sys.setswitchinterval(0.0002)
        # Everything imported so far lives as long as the process: keep it out of the cyclic
        # GC, whose full passes over it stalled the receiver for ~40 ms twice a second.
        gc.collect()
        gc.freeze()
        try:
            uvicorn.run(asgi, host=bind_host, port=bind_port, log_level="warning", access_log=False)
        finally:
            if loop is not None:
                loop.stop()


def _check_free(host: str, port: int) -> None:
    import socket

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


@messages_app.command("show")
def messages_show(
    message_id: Annotated[str | None, typer.Argument(help="inbox message id")] = None,
    correlation: Annotated[
        str | None, typer.Option("--correlation", "-c", help="business chain, e.g. order number")
    ] = None,
) -> None:
    """Show a message, or a whole business chain, with deliveries, xrefs and its event log."""
    if (message_id is None) == (correlation is None):
        err.print("[red]error:[/red] give either a message id or --correlation (exactly one)")
        raise typer.Exit(2)
    with _runtime() as rt:
        found = trace(rt.hub, message_id=message_id, correlation_id=correlation)
        if not found.messages:
            err.print(f"[red]error:[/red] no message {message_id or correlation!r} in the hub")
            raise typer.Exit(1)
        for renderable in render.trace_view(found):
            out.print(renderable)


@messages_app.command("list")
def messages_list(
    status: Annotated[
        str | None, typer.Option(help="received, processed, quarantined, ignored")
    ] = None,
    source: Annotated[str | None, typer.Option(help="source system, e.g. webshop")] = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    """List inbox messages, newest first (e.g. --status quarantined, with the reason)."""
    with _runtime() as rt:
        rows = recent_messages(rt.hub, status=status, source=source, limit=limit, offset=offset)
        out.print(render.messages_table(rows, title=f"messages ({len(rows)} shown)"))


@dead_app.command("list")
def deadletters_list(limit: int = 50, offset: int = 0) -> None:
    """List dead letters with the reason each failed."""
    with _runtime() as rt:
        rows = DeliveryLedger(rt.hub).dead_letters(limit=limit, offset=offset)
        out.print(render.deliveries_table(rows, title=f"dead letters ({len(rows)} shown)"))


@dead_app.command("replay")
def deadletters_replay(
    ids: Annotated[list[int] | None, typer.Argument(help="delivery ids")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="every dead letter")] = False,
    wait: Annotated[float, typer.Option(help="seconds to wait for another worker")] = 60.0,
) -> None:
    """Queue dead letters again and deliver them now (audited)."""
    if bool(ids) == replay_all:
        err.print("[red]error:[/red] give delivery ids or --all")
        raise typer.Exit(2)
    with _runtime() as rt:
        queued = DeliveryLedger(rt.hub).replay(None if replay_all else ids, actor=_actor())
        if not queued and replay_all:
            out.print("no dead letters to replay")
            return
        if not queued:
            err.print("[red]error:[/red] no such dead letter")
            raise typer.Exit(1)
        FLOWS["deliver"].run(rt, RunOptions(delivery_ids=queued))
        # A running `tandem serve` worker may have taken some of them: wait for the outcome,
        # whoever delivers.
        rows = _await_outcome(DeliveryLedger(rt.hub), queued, wait)
        out.print(render.deliveries_table(rows, title=f"replayed ({len(rows)})"))
        if any(row.status != DeliveryStatus.DELIVERED for row in rows):
            raise typer.Exit(3)


def _await_outcome(ledger: DeliveryLedger, ids: list[int], wait: float) -> list[Delivery]:
    deadline = time.monotonic() + wait
    while True:
        rows = ledger.get(ids)
        unsettled = [
            r for r in rows if r.status in (DeliveryStatus.PENDING, DeliveryStatus.IN_FLIGHT)
        ]
        if not unsettled or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


@dead_app.command("discard")
def deadletters_discard(
    delivery_id: int, reason: Annotated[str, typer.Option(help="why it must not be delivered")]
) -> None:
    """Give up on a dead letter, with a reason (audited)."""
    with _runtime() as rt:
        if not DeliveryLedger(rt.hub).discard(delivery_id, actor=_actor(), reason=reason):
            err.print(f"[red]error:[/red] delivery {delivery_id} is not a dead letter")
            raise typer.Exit(1)
        out.print(f"discarded delivery {delivery_id}")


from tandem.cli_monitor import register as _register_monitoring  # noqa: E402

_register_monitoring(app, _runtime, _actor)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
