"""SOAP transport: lazy safe clients, timeouts, error mapping, retries only when worth it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from pydantic import SecretStr
from zeep.exceptions import DTDForbidden, Fault

from canonical.errors import PermanentError, TransientError
from connectors.transports.soap import (
    DEFAULT_FAULT_RULES,
    FaultRule,
    RetryPolicy,
    SoapClientFactory,
    SoapSettings,
    StaleKeyError,
    call,
    classify_fault,
    retry_after_seconds,
    with_retries,
)
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.erp_soap.wsdlgen import wsdl_path

FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0.01)
BROKER = "a:Microsoft.Dynamics.Nav.Service.WebServices.ServiceBrokerException"


@pytest.fixture
def erp() -> Iterator[ErpHandle]:
    handle = start_in_thread("127.0.0.1", 0)
    yield handle
    handle.stop()


def control(erp: ErpHandle, **knobs: Any) -> dict[str, Any]:
    if knobs:
        response = requests.post(f"{erp.url}/_control", json=knobs, timeout=5)
    else:
        response = requests.get(f"{erp.url}/_control", timeout=5)
    state: dict[str, Any] = response.json()
    return state


def customer_settings(erp: ErpHandle, **overrides: Any) -> SoapSettings:
    values: dict[str, Any] = {"wsdl": erp.wsdl_url("Customer"), "retry": FAST, **overrides}
    return SoapSettings(**values)


def read_customer(factory: SoapClientFactory, settings: SoapSettings, no: str) -> Any:
    service = factory.service(settings)
    return call(service.Read, No=no, what="Customer.Read")


# -- pure pieces ---------------------------------------------------------------------------


def test_fault_table_maps_nav_faults_and_can_be_extended() -> None:
    stale = Fault("Another user has modified the record for this Customer after ...", BROKER)
    other = Fault("Name must have a value in Customer", BROKER)
    locked = Fault("The Sales Header table was locked by another user.", BROKER)
    assert isinstance(classify_fault(stale), StaleKeyError)
    assert isinstance(classify_fault(locked), TransientError)
    error = classify_fault(other)
    assert type(error) is PermanentError
    assert "Name must have a value" in str(error)
    rules = (*DEFAULT_FAULT_RULES, FaultRule("must have a value", TransientError))
    assert isinstance(classify_fault(other, rules), TransientError)


def test_retry_after_header_values() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_with_retries_retries_transient_only_and_honours_retry_after() -> None:
    attempts: list[float] = []

    def flaky() -> str:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise TransientError("busy", retry_after=0.2)
        return "done"

    assert with_retries(flaky, FAST) == "done"
    assert attempts[1] - attempts[0] >= 0.2

    permanent: list[int] = []

    def broken() -> None:
        permanent.append(1)
        raise PermanentError("no")

    with pytest.raises(PermanentError):
        with_retries(broken, FAST)
    assert permanent == [1]


def test_settings_never_show_the_password() -> None:
    settings = SoapSettings(wsdl="x.wsdl", username="svc", password=SecretStr("hunter2"))
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


# -- against the sandbox -------------------------------------------------------------------


def test_clients_are_built_lazily_and_cached(erp: ErpHandle) -> None:
    built: list[str] = []
    factory = SoapClientFactory()
    original = factory._builder

    def counting(settings: SoapSettings) -> Any:
        built.append(settings.wsdl)
        return original(settings)

    factory = SoapClientFactory(builder=counting)
    settings = customer_settings(erp)
    assert built == []
    assert read_customer(factory, settings, "C00010") is None
    assert read_customer(factory, settings, "C00011") is None
    assert built == [settings.wsdl]


def test_local_wsdl_with_endpoint_override(erp: ErpHandle) -> None:
    settings = SoapSettings(
        wsdl=str(wsdl_path("Customer")), endpoint=f"{erp.base_url}Customer", retry=FAST
    )
    service = SoapClientFactory().service(settings)
    created = call(service.Create, Customer={"Name": "Local"})
    assert created.No == "C00010"


def test_unreachable_server_is_transient_with_cause() -> None:
    settings = SoapSettings(wsdl="http://127.0.0.1:9/WS/X/Page/Customer?wsdl", connect_timeout=1)
    with pytest.raises(TransientError) as info:
        SoapClientFactory().client(settings)
    assert isinstance(info.value.__cause__, requests.ConnectionError)


def test_slow_server_hits_the_operation_timeout(erp: ErpHandle) -> None:
    factory = SoapClientFactory()
    settings = customer_settings(erp, operation_timeout=0.1)
    factory.client(settings)
    control(erp, latency_ms=400)
    started = time.monotonic()
    with pytest.raises(TransientError) as info:
        read_customer(factory, settings, "C00010")
    assert time.monotonic() - started < 0.35
    assert isinstance(info.value.__cause__, requests.Timeout)


def test_503_is_transient_and_carries_retry_after(erp: ErpHandle) -> None:
    factory = SoapClientFactory()
    settings = customer_settings(erp)
    control(erp, down=True, retry_after=1)
    with pytest.raises(TransientError) as info:
        read_customer(factory, settings, "C00010")
    assert info.value.retry_after == 1.0
    assert "503" in str(info.value)


def test_503_is_retried_until_the_server_recovers(erp: ErpHandle) -> None:
    factory = SoapClientFactory()
    settings = customer_settings(erp)
    factory.client(settings)
    control(erp, fail_next=2)
    assert with_retries(lambda: read_customer(factory, settings, "C00010"), FAST) is None
    assert control(erp)["calls"] == {"Customer.Read": 3}

    control(erp, down=True)
    policy = RetryPolicy(attempts=30, initial_wait=0.02, max_wait=0.05, jitter=0.0)
    threading.Timer(0.15, lambda: control(erp, down=False)).start()
    assert with_retries(lambda: read_customer(factory, settings, "C00010"), policy) is None
    state = control(erp)
    assert state["rejected"]["Customer.Read"] >= 3
    assert state["down"] is False


def test_retries_give_up_after_the_configured_attempts(erp: ErpHandle) -> None:
    factory = SoapClientFactory()
    settings = customer_settings(erp)
    factory.client(settings)
    control(erp, down=True)
    with pytest.raises(TransientError):
        with_retries(lambda: read_customer(factory, settings, "C00010"), FAST)
    assert control(erp)["calls"] == {"Customer.Read": 3}


def test_a_fault_is_not_retried(erp: ErpHandle) -> None:
    factory = SoapClientFactory()
    service = factory.service(customer_settings(erp))
    created = call(service.Create, Customer={"Name": "Once"})
    call(service.Update, Customer={"Key": created.Key, "City": "Wels"})

    def stale_update() -> Any:
        return call(service.Update, Customer={"Key": created.Key, "City": "Steyr"})

    with pytest.raises(StaleKeyError) as info:
        with_retries(stale_update, FAST)
    assert isinstance(info.value.__cause__, Fault)
    state = control(erp)
    assert state["calls"]["Customer.Update"] == 2
    assert state["faults"] == {"Customer.Update": 1}
    with pytest.raises(PermanentError, match="Name must have a value"):
        with_retries(lambda: call(service.Create, Customer={"City": "X"}), FAST)
    assert control(erp)["calls"]["Customer.Create"] == 2


def test_basic_auth_and_no_password_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    erp = start_in_thread("127.0.0.1", 0, credentials=("svc", "s3cret-pw"))
    try:
        good = customer_settings(erp, username="svc", password=SecretStr("s3cret-pw"))
        bad = customer_settings(erp, username="svc", password=SecretStr("wrong-pw"))
        with caplog.at_level(logging.DEBUG):
            assert read_customer(SoapClientFactory(), good, "C00010") is None
            with pytest.raises(PermanentError, match="401"):
                SoapClientFactory().client(bad)
        assert "s3cret-pw" not in caplog.text
    finally:
        erp.stop()


# -- hostile peer --------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<Read_Result xmlns="urn:microsoft-dynamics-schemas/page/customer">
<Customer><No>&lol4;</No></Customer></Read_Result></soap:Body></soap:Envelope>"""


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<Read_Result xmlns="urn:microsoft-dynamics-schemas/page/customer">
<Customer><No>&xxe;</No></Customer></Read_Result></soap:Body></soap:Envelope>"""


class _HostileHandler(BaseHTTPRequestHandler):
    answer = BILLION_LAUGHS

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(self.answer)))
        self.end_headers()
        self.wfile.write(self.answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _XxeHandler(_HostileHandler):
    answer = XXE


@pytest.mark.parametrize("handler", [_HostileHandler, _XxeHandler], ids=["laughs", "xxe"])
def test_response_with_dtd_and_entities_is_refused(handler: type[_HostileHandler]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        settings = SoapSettings(
            wsdl=str(wsdl_path("Customer")),
            endpoint=f"http://127.0.0.1:{server.server_port}/WS/CRONUS/Page/Customer",
        )
        service = SoapClientFactory().service(settings)
        with pytest.raises(PermanentError, match="unsafe XML") as info:
            with_retries(lambda: call(service.Read, No="C00010"), FAST)
        assert isinstance(info.value.__cause__, DTDForbidden)
        assert "root:" not in str(info.value)  # nothing of the local file leaked
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
