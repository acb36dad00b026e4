"""The composition root: builds the hub, connectors and flows from settings, once per process."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from connectors.base import Connector
from connectors.webhooks.models import WebhookSource
from flows.erp_orders import ErpWriter
from flows.policy import RetryPolicy
from hub.engine import upgrade
from hub.store import Hub
from tandem.settings import TandemSettings

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from flows.intake import GroupCommitSink
    from tandem.triggers import DagRunTrigger


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message says which and how to set it."""


class Runtime:
    """Everything a Tandem process needs, built lazily from one settings object."""

    def __init__(self, settings: TandemSettings | None = None) -> None:
        self.settings = settings or TandemSettings()
        self._erp: ErpWriter | None = None
        self._sinks: list[GroupCommitSink] = []
        self._connectors: dict[str, Connector] = {}
        self._trigger: DagRunTrigger | None = None

    @cached_property
    def hub(self) -> Hub:
        return Hub(self.settings.hub_url, sqlite_synchronous=self.settings.sqlite_synchronous)

    @property
    def retry_policy(self) -> RetryPolicy:
        s = self.settings
        return RetryPolicy(
            max_attempts=s.retry_max_attempts,
            base_delay=s.retry_base_delay,
            max_delay=s.retry_max_delay,
        )

    def upgrade_db(self) -> None:
        upgrade(self.settings.hub_url)

    def erp(self) -> ErpWriter:
        if self._erp is None:
            from connectors.erp_soap import ErpSoapConnector, ErpSoapSettings

            s = self.settings
            if not s.erp_soap_url:
                raise ConfigurationError(
                    "no ERP configured: set TANDEM_ERP_SOAP_URL to the page services' base URL "
                    "(e.g. http://erp:7047/WS/CRONUS/Page/)"
                )
            if urlsplit(s.erp_soap_url).password is not None:
                raise ConfigurationError(
                    "TANDEM_ERP_SOAP_URL carries a password: put the credentials in "
                    "TANDEM_ERP_SOAP_USERNAME and TANDEM_ERP_SOAP_PASSWORD instead (URLs end up "
                    "in logs and error messages)"
                )
            self._erp = ErpSoapConnector(
                ErpSoapSettings(
                    base_url=s.erp_soap_url,
                    username=s.erp_soap_username,
                    password=s.erp_soap_password,
                    connect_timeout=s.erp_connect_timeout,
                    operation_timeout=s.erp_operation_timeout,
                )
            )
        return self._erp

    def system_name(self, role: str) -> str:
        """The system playing ``role``: ``erp`` is the configured ERP; others are themselves."""
        return self.settings.erp_system if role == "erp" else role

    def connector(self, system: str) -> Connector:
        """The connector of a system (or role), built once from its connection id."""
        name = self.system_name(system)
        if name not in self._connectors:
            from tandem import connectors

            if name == "drp":
                if not self.settings.drp_distributors:
                    raise ConfigurationError(
                        "no distributors: set TANDEM_DRP_DISTRIBUTORS to their connection ids"
                    )
                self._connectors[name] = connectors.build_drp(self.settings.drp_distributors)
            else:
                conn_id = self.settings.connections.get(name, name)
                self._connectors[name] = connectors.build(name, conn_id)
        return self._connectors[name]

    def webhook_sources(self) -> dict[str, WebhookSource]:
        s = self.settings
        sources = {
            name: WebhookSource(name=name, scheme=extra.scheme, secret=extra.secret)
            for name, extra in s.webhook_sources.items()
        }
        if s.webshop_webhook_secret is not None:
            sources["webshop"] = WebhookSource(
                name="webshop", scheme=s.webshop_webhook_scheme, secret=s.webshop_webhook_secret
            )
        if not sources:
            raise ConfigurationError(
                "no webhook secret: set TANDEM_WEBSHOP_WEBHOOK_SECRET to the secret entered in "
                "the web shop's webhook settings"
            )
        return sources

    def webhook_app(self, on_stored: Callable[[str], None] | None = None) -> Starlette:
        """The receiver, storing through one group-commit writer (a 2xx means committed)."""
        from connectors.webhooks.app import create_webhook_app
        from flows.intake import GroupCommitSink

        sink = GroupCommitSink(self.hub, on_stored)
        self._sinks.append(sink)
        return create_webhook_app(
            self.webhook_sources(), sink, max_body_bytes=self.settings.webhook_max_body_bytes
        )

    def event_trigger(self) -> DagRunTrigger | None:
        """The trigger of the webhook flow's DAG in Airflow, when Airflow's API is configured."""
        s = self.settings
        if not s.airflow_api_url:
            return None
        if s.airflow_password is None:
            raise ConfigurationError(
                "TANDEM_AIRFLOW_API_URL is set but TANDEM_AIRFLOW_PASSWORD is not: the trigger "
                "needs Airflow's login"
            )
        if self._trigger is None:
            from tandem.triggers import DagRunTrigger

            self._trigger = DagRunTrigger(
                s.airflow_api_url, s.trigger_dag, s.airflow_username, s.airflow_password
            )
        return self._trigger

    def close(self) -> None:
        if self._trigger is not None:
            self._trigger.close()
        for sink in self._sinks:
            sink.close()
        for connector in self._connectors.values():
            connector.close()
        self._connectors.clear()
        if "hub" in self.__dict__:
            self.hub.close()
