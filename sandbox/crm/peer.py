"""A running sandbox CRM: store, OAuth2 tokens, fault knobs and the V8 API on loopback."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.crm.api import CrmApi
from sandbox.crm.auth import Client, TokenIssuer
from sandbox.crm.seed import seed_crm
from sandbox.crm.store import CrmStore
from sandbox.webshop.faults import FaultKnobs, Faults
from sandbox.webshop.serving import ServerThread, bind

DEFAULT_CLIENT_ID = "tandem"


def new_client(client_id: str = DEFAULT_CLIENT_ID) -> Client:
    return Client(client_id, secrets.token_urlsafe(24))


def make_crm(
    *,
    seed: int = 1,
    client: Client | None = None,
    token_ttl_seconds: float = 60.0,
    knobs: Mapping[str, Any] | None = None,
) -> CrmApi:
    store = CrmStore()
    seed_crm(store, seed)
    faults = Faults(FaultKnobs(seed=seed))
    if knobs:
        faults.update(knobs)
    return CrmApi(store, TokenIssuer(client or new_client(), token_ttl_seconds), faults)


@dataclass
class CrmHandle:
    """A CRM served in a background thread; ``api_url`` is the SuiteCRM 8 ``/legacy/Api``."""

    api: CrmApi
    server: ServerThread
    url: str

    @property
    def api_url(self) -> str:
        return f"{self.url}/legacy/Api"

    @property
    def token_url(self) -> str:
        return f"{self.api_url}/access_token"

    @property
    def client_id(self) -> str:
        return self.api.issuer.client.client_id

    @property
    def client_secret(self) -> str:
        return self.api.issuer.client.client_secret

    def control(self, **changes: Any) -> None:
        """Sets fault knobs (and ``token_ttl_seconds``) at run time, like ``POST /_control``."""
        ttl = changes.pop("token_ttl_seconds", None)
        self.api.faults.update(changes)
        if ttl is not None:
            self.api.issuer.ttl_seconds = float(ttl)

    def stop(self) -> None:
        self.server.stop()


def start_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    seed: int = 1,
    client: Client | None = None,
    token_ttl_seconds: float = 60.0,
    knobs: Mapping[str, Any] | None = None,
) -> CrmHandle:
    """Starts a sandbox CRM on ``host:port`` (0 = a free port) in a daemon thread."""
    sock = bind(host, port)
    api = make_crm(seed=seed, client=client, token_ttl_seconds=token_ttl_seconds, knobs=knobs)
    server = ServerThread(api.asgi, sock, name="sandbox-crm")
    server.start()
    return CrmHandle(api, server, f"http://{host}:{sock.getsockname()[1]}")
