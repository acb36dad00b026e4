"""The dashboard's pages: messages, business chains, dead letters, reconciliation, records
and customer 360."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import FastAPI, Form, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from starlette.responses import HTMLResponse, RedirectResponse, Response

from hub.schema import CanonicalRecord, InboxStatus, SourceView, Xref
from monitoring import customer360, deadletters, reconcile, tracking
from monitoring.web.app import require, require_action

if TYPE_CHECKING:
    from monitoring.web.app import Dashboard, Pages

STATUSES = [s.value for s in InboxStatus]


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise HTTPException(
            400, f"{name}: {value!r} is not a date/time (2026-03-01T08:00)"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def add_pages(app: FastAPI, dash: Dashboard, pages: Pages) -> None:  # noqa: PLR0915
    hub, size = dash.hub, dash.config.page_size

    @app.get("/messages", response_class=HTMLResponse, name="messages")
    async def messages(
        request: Request,
        q: str = "",
        status: str = "",
        source: str = "",
        since: str = "",
        until: str = "",
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        me = await require(request, dash)
        query = tracking.MessageQuery(
            q or None, status or None, source or None, _time(since, "since"), _time(until, "until")
        )
        page = await run_in_threadpool(
            tracking.search_messages, hub, query, limit=size, offset=offset
        )
        form = {"q": q, "status": status, "source": source, "since": since, "until": until}
        return pages.render(request, "messages.html", me, page=page, form=form, statuses=STATUSES)

    @app.get("/chain", response_class=HTMLResponse, name="chain")
    async def chain(request: Request, key: str = "") -> Response:
        me = await require(request, dash)
        found = await run_in_threadpool(tracking.chain, hub, key, dash.masker) if key else None
        return pages.render(request, "chain.html", me, chain=found, key=key)

    @app.get("/deadletters", response_class=HTMLResponse, name="deadletters")
    async def dead_list(
        request: Request,
        target: str = "",
        entity: str = "",
        error: str = "",
        correlation: str = "",
        notice: str = "",
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        me = await require(request, dash)
        flt = deadletters.DeadLetterFilter(
            target or None, entity or None, error or None, correlation or None
        )
        page = await run_in_threadpool(
            deadletters.list_dead_letters, hub, flt, limit=size, offset=offset
        )
        form = {"target": target, "entity": entity, "error": error, "correlation": correlation}
        return pages.render(request, "deadletters.html", me, page=page, form=form, notice=notice)

    @app.get("/deadletters/{delivery_id}", response_class=HTMLResponse, name="deadletter")
    async def dead_detail(request: Request, delivery_id: int) -> Response:
        me = await require(request, dash)
        detail = await run_in_threadpool(deadletters.inspect, hub, delivery_id, dash.masker)
        if detail is None:
            raise HTTPException(404, f"no delivery {delivery_id}")
        return pages.render(request, "deadletter.html", me, d=detail)

    @app.post("/deadletters/replay")
    async def dead_replay(
        request: Request,
        ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI form default
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        me = await require_action(request, dash, csrf)
        queued = await run_in_threadpool(deadletters.replay, hub, ids, actor=me.name)
        if queued and dash.on_replay is not None:
            await run_in_threadpool(dash.on_replay, queued)
        rows = await run_in_threadpool(deadletters.deliveries_by_id, hub, queued)
        outcome = ", ".join(f"#{r.id} {r.status}" for r in rows) or "nothing to replay"
        root = request.scope.get("root_path", "")
        return RedirectResponse(
            f"{root}/deadletters?notice=" + _q(f"replayed: {outcome}"), status_code=303
        )

    @app.post("/deadletters/{delivery_id}/discard")
    async def dead_discard(
        request: Request,
        delivery_id: int,
        reason: Annotated[str, Form()] = "",
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        me = await require_action(request, dash, csrf)
        if not reason.strip():
            raise HTTPException(400, "say why this must not be delivered")
        done = await run_in_threadpool(
            lambda: deadletters.discard(hub, delivery_id, actor=me.name, reason=reason)
        )
        note = f"discarded #{delivery_id}" if done else f"#{delivery_id} is not a dead letter"
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/deadletters?notice=" + _q(note), status_code=303)

    @app.get("/reconcile", response_class=HTMLResponse, name="reconcile")
    async def reconcile_list(request: Request, offset: Annotated[int, Query(ge=0)] = 0) -> Response:
        me = await require(request, dash)
        page = await run_in_threadpool(reconcile.latest_reports, hub, limit=size, offset=offset)
        inventory = await run_in_threadpool(reconcile.hub_inventory, hub)
        return pages.render(request, "reconcile.html", me, page=page, inventory=inventory)

    @app.get("/reconcile/{report_id}", response_class=HTMLResponse, name="report")
    async def report(request: Request, report_id: int) -> Response:
        me = await require(request, dash)
        found = await run_in_threadpool(reconcile.get_report, hub, report_id)
        if found is None:
            raise HTTPException(404, f"no report {report_id}")
        return pages.render(request, "report.html", me, report=found[0], items=found[1])

    @app.get("/records/{canonical_id}", response_class=HTMLResponse, name="record")
    async def record(request: Request, canonical_id: str) -> Response:
        me = await require(request, dash)

        def load() -> tuple[CanonicalRecord | None, list[Xref], list[SourceView]]:
            with hub.begin() as hs:
                row = hs.session.get(CanonicalRecord, canonical_id)
                xrefs = list(
                    hs.session.scalars(select(Xref).where(Xref.canonical_id == canonical_id))
                )
                views = list(
                    hs.session.scalars(
                        select(SourceView).where(SourceView.canonical_id == canonical_id)
                    )
                )
            return row, xrefs, views

        row, xrefs, views = await run_in_threadpool(load)
        if row is None:
            raise HTTPException(404, f"no record {canonical_id}")
        masker = dash.masker
        return pages.render(
            request,
            "record.html",
            me,
            record=row,
            payload=masker.mask_text(row.payload),
            sources=json.loads(row.field_sources) if row.field_sources else {},
            xrefs=xrefs,
            views={v.system: masker.mask_text(v.payload) for v in views},
        )

    @app.get("/customers", response_class=HTMLResponse, name="customers")
    async def customers(request: Request, q: str = "") -> Response:
        me = await require(request, dash)
        found = None
        if q:
            cid = await run_in_threadpool(customer360.find_customer_id, hub, q)
            if cid is not None:
                found = await run_in_threadpool(customer360.customer_360, hub, cid, dash.masker)
        return pages.render(request, "customer.html", me, q=q, c=found)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:300])
