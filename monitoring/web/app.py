"""The monitoring dashboard: a FastAPI app of server-rendered pages (Jinja2, inline CSS and
SVG, no JavaScript), for ``tandem monitor`` and for Airflow's API server (the plugin).

Every page reads one page of rows at a time; actions (replay, discard) are POST forms with a
CSRF token, audited with the user's name.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse, Response

from hub.store import Hub
from monitoring import charts, stats
from monitoring.alerts import alert_states
from monitoring.config import MonitorConfig
from monitoring.health import flow_freshness, stream_freshness, target_health
from monitoring.masking import Masker
from monitoring.metrics import CONTENT_TYPE, exposition, registry_for
from monitoring.web.auth import (
    SESSION_COOKIE,
    Authenticator,
    Identity,
    PasswordLogin,
    csrf_ok,
    csrf_token,
)

TEMPLATES = Path(__file__).parent / "templates"
ReplayHook = Callable[[Sequence[int]], None]


@dataclass
class Dashboard:
    """What the pages need. ``on_replay`` delivers replayed dead letters now (the
    application's delivery worker); without it they wait for the next delivery run."""

    hub: Hub
    config: MonitorConfig
    auth: Authenticator
    on_replay: ReplayHook | None = None
    metrics_token: str | None = None
    csrf_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    title: str = "Tandem monitor"

    @property
    def masker(self) -> Masker:
        return Masker(self.config.mask_fields)


def _fmt_time(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _fmt_age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = _fmt_time
    env.filters["age"] = _fmt_age
    return env


class Pages:
    def __init__(self, dash: Dashboard) -> None:
        self.dash = dash
        self.env = _environment()

    def render(
        self, request: Request, template: str, identity: Identity | None, **ctx: Any
    ) -> HTMLResponse:
        root = str(request.scope.get("root_path", ""))

        def url(path: str, **query: Any) -> str:
            shown = {k: v for k, v in query.items() if v not in (None, "")}
            return root + path + (("?" + urlencode(shown, doseq=True)) if shown else "")

        body = self.env.get_template(template).render(
            request=request,
            url=url,
            me=identity,
            csrf=csrf_token(self.dash.csrf_key, identity) if identity else "",
            title=self.dash.title,
            standalone=isinstance(self.dash.auth, PasswordLogin),
            now=datetime.now(UTC),
            **ctx,
        )
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})


async def require(request: Request, dash: Dashboard) -> Identity:
    identity = await dash.auth.identify(request)
    if identity is None:
        root = request.scope.get("root_path", "")
        path = request.url.path.removeprefix(root) or "/"
        nxt = path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, headers={"Location": dash.auth.login_url(request, nxt)})
    return identity


async def require_action(request: Request, dash: Dashboard, token: str | None) -> Identity:
    identity = await require(request, dash)
    if not identity.can_act:
        raise HTTPException(403, "your role may look, not replay or discard")
    if not csrf_ok(dash.csrf_key, identity, token):
        raise HTTPException(403, "the form expired or came from elsewhere: reload the page")
    return identity


def create_app(dash: Dashboard) -> FastAPI:
    from monitoring.web.pages import add_pages

    app = FastAPI(title=dash.title, docs_url=None, redoc_url=None, openapi_url=None)
    pages = Pages(dash)

    @app.get("/", response_class=HTMLResponse, name="overview")
    async def overview(request: Request) -> Response:
        me = await require(request, dash)
        ctx = await run_in_threadpool(_overview_context, dash)
        return pages.render(request, "overview.html", me, **ctx)

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        if dash.metrics_token is not None:
            given = request.headers.get("authorization", "")
            if not secrets.compare_digest(given, f"Bearer {dash.metrics_token}"):
                return Response("metrics need the bearer token\n", status_code=401)
        registry = registry_for(dash.hub, dash.config)
        body = await run_in_threadpool(exposition, registry)
        return Response(body, media_type=CONTENT_TYPE)

    if isinstance(dash.auth, PasswordLogin):
        _add_login(app, pages, dash.auth)
    add_pages(app, dash, pages)
    return app


def _overview_context(dash: Dashboard) -> dict[str, Any]:
    hub = dash.hub
    per_hour = stats.messages_per_hour(hub)
    return {
        "targets": target_health(hub, dash.config),
        "flows": flow_freshness(hub, dash.config),
        "streams": stream_freshness(hub),
        "alerts": alert_states(hub),
        "charts": [
            charts.line_chart(per_hour, "Messages per hour (in: source, out: target)"),
            charts.line_chart(stats.lag_per_hour(hub), "Lag per source system", " s"),
            charts.line_chart(stats.dead_letter_trend(hub), "Dead letters waiting"),
            charts.line_chart(stats.latency_percentiles(hub), "Delivery latency", " s"),
        ],
    }


def _add_login(app: FastAPI, pages: Pages, login: PasswordLogin) -> None:
    def _safe_next(value: str | None, root: str) -> str:
        if value and value.startswith("/") and not value.startswith("//"):
            return root + value
        return root + "/"

    @app.get("/login", response_class=HTMLResponse, name="login_form")
    async def login_form(request: Request, next: str | None = None) -> Response:
        return pages.render(request, "login.html", None, next=next or "/", failed=False)

    @app.post("/login")
    async def login_submit(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        next: str = Form("/"),
    ) -> Response:
        ok = await run_in_threadpool(login.check, username, password)
        if not ok:
            response = pages.render(request, "login.html", None, next=next, failed=True)
            response.status_code = 401
            return response
        root = request.scope.get("root_path", "")
        redirect = RedirectResponse(_safe_next(next, root), status_code=303)
        redirect.set_cookie(
            SESSION_COOKIE,
            login.issue(),
            max_age=login.max_age,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path=root or "/",
        )
        return redirect

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        response = RedirectResponse(root + "/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=root or "/")
        return response
