"""SOAP transport beyond the basics: redacted envelope history, an SAP-style WSDL with SOAP 1.1
and 1.2 bindings and WS-Policy, 502/504 with Retry-After, Faults never retried, the contract."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
import requests
from lxml import etree
from pydantic import SecretStr
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

import sandbox
from canonical.errors import PermanentError, TransientError
from connectors.transports.retry import RetryPolicy, with_retries
from connectors.transports.soap import SoapClientFactory, SoapSettings, call
from connectors.transports.soap_history import Redactor
from sandbox.erp_soap.server import ErpHandle, start_in_thread
from sandbox.erp_soap.wsdlgen import wsdl_path
from tests.transports.contract import Peer, TransportContract, closed_port

FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05, jitter=0.0)
SAP_WSDL = Path(sandbox.__file__).parent / "sap_soap" / "ZCUSTOMER_READ.wsdl"
SAP_ADDRESS = "http://sap-host.invalid:8000/sap/bc/srt/rfc/sap/zcustomer_read/100/zcustomer_read/zcustomer_read"
RFC_NS = "urn:sap-com:document:sap:rfc:functions"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(app: App) -> Iterator[str]:
    """Serve a WSGI app on a loopback port in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def erp() -> Iterator[ErpHandle]:
    handle = start_in_thread("127.0.0.1", 0)
    yield handle
    handle.stop()


# -- envelope history ----------------------------------------------------------------------


def test_history_keeps_redacted_envelopes(erp: ErpHandle) -> None:
    settings = SoapSettings(
        wsdl=erp.wsdl_url("Customer"), history_size=2, redact_fields=("E_Mail", "Phone_No")
    )
    factory = SoapClientFactory()
    service = factory.service(settings)
    factory.client(settings).wsse = UsernameToken("svc", "wsse-pw-4711")
    created = call(service.Create, Customer={"Name": "Ada", "E_Mail": "ada@example.com"})
    call(service.Update, Customer={"Key": created.Key, "Phone_No": "+43 555 1234"})
    with pytest.raises(PermanentError, match="Name must have a value"):
        call(service.Create, Customer={"City": "Linz"})

    history = factory.history(settings)
    assert history is not None
    kept = history.exchanges()
    assert [x.operation for x in kept] == ["Update", "Create"]  # the last two only
    text = history.format()
    for secret in ("ada@example.com", "+43 555 1234", "wsse-pw-4711"):
        assert secret not in text
    assert "<ns0:Phone_No>***</ns0:Phone_No>" in kept[0].sent
    received = kept[0].received or ""
    assert "Ada" in received  # not configured: kept for tracing
    assert "ada@example.com" not in received
    assert "Name must have a value" in (kept[1].received or "")  # the Fault is kept too


def test_redactor_blanks_auth_headers_and_secret_attributes() -> None:
    redactor = Redactor()
    assert redactor.headers({"Authorization": "Basic c3ZjOnB3", "SOAPAction": "x"}) == {
        "Authorization": "***",
        "SOAPAction": "x",
    }
    doc = etree.fromstring(
        '<a xmlns:x="urn:x"><Login x:password="pw1"><Credential>c</Credential></Login></a>'
    )
    text = redactor.envelope(doc)
    assert "pw1" not in text and ">c<" not in text
    assert etree.tostring(doc).count(b"pw1") == 1  # the original is untouched


def test_no_history_when_switched_off(erp: ErpHandle) -> None:
    settings = SoapSettings(wsdl=erp.wsdl_url("Customer"), history_size=0)
    assert SoapClientFactory().history(settings) is None


# -- an SAP-style WSDL: SOAP 1.1 and 1.2 bindings, WS-Policy -------------------------------


class SapRfcService:
    """A tiny peer answering ZCUSTOMER_READ in the SOAP version it was called with."""

    def __init__(self) -> None:
        self.versions: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        base = f"http://{environ['HTTP_HOST']}/sap"
        if environ["REQUEST_METHOD"] == "GET":
            body = SAP_WSDL.read_bytes().replace(b"http://sap-host.invalid:8000/sap", base.encode())
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [body]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = etree.fromstring(environ["wsgi.input"].read(length), SAFE)
        ns = request.nsmap.get(request.prefix) or etree.QName(request).namespace
        version, content_type = (
            ("1.2", "application/soap+xml; charset=utf-8")
            if ns == SOAP12
            else ("1.1", "text/xml; charset=utf-8")
        )
        self.versions.append(version)
        kunnr = request.findtext(".//IV_KUNNR")  # SAP: local elements unqualified
        if kunnr != "0000100001":
            start_response("500 Internal Server Error", [("Content-Type", content_type)])
            return [self._fault(ns, f"Customer {kunnr} does not exist")]
        reply = (
            f'<e:Envelope xmlns:e="{ns}"><e:Body><n0:ZCUSTOMER_READResponse xmlns:n0="{RFC_NS}">'
            "<EV_NAME1>Becker Berlin</EV_NAME1><EV_ORT01>Berlin</EV_ORT01><EV_LAND1>DE</EV_LAND1>"
            "</n0:ZCUSTOMER_READResponse></e:Body></e:Envelope>"
        )
        start_response("200 OK", [("Content-Type", content_type)])
        return [reply.encode()]

    @staticmethod
    def _fault(ns: str, text: str) -> bytes:
        if ns == SOAP12:
            inner = (
                "<e:Code><e:Value>e:Receiver</e:Value></e:Code>"
                f'<e:Reason><e:Text xml:lang="en">{text}</e:Text></e:Reason>'
            )
        else:
            inner = f"<faultcode>soap-env:Server</faultcode><faultstring>{text}</faultstring>"
        return (
            f'<e:Envelope xmlns:e="{ns}" xmlns:soap-env="{ns}"><e:Body><e:Fault>{inner}'
            "</e:Fault></e:Body></e:Envelope>"
        ).encode()


@pytest.mark.parametrize(
    ("binding", "version"), [("ZCUSTOMER_READ", "1.1"), ("ZCUSTOMER_READ_soap12", "1.2")]
)
@pytest.mark.parametrize("source", ["file", "url"])
def test_sap_wsdl_with_both_bindings_and_ws_policy(binding: str, version: str, source: str) -> None:
    peer = SapRfcService()
    with serve(peer) as base:
        address = SAP_ADDRESS.replace("http://sap-host.invalid:8000", base)
        if source == "file":  # stored WSDL, the service address given explicitly
            settings = SoapSettings(wsdl=str(SAP_WSDL), endpoint=address, binding=binding)
        else:  # fetched WSDL, the port chosen by its binding
            settings = SoapSettings(wsdl=f"{address}?wsdl", binding=binding)
        service = SoapClientFactory().service(settings)
        found = with_retries(lambda: call(service.ZCUSTOMER_READ, IV_KUNNR="0000100001"), FAST)
        assert (found.EV_NAME1, found.EV_LAND1) == ("Becker Berlin", "DE")
        with pytest.raises(PermanentError, match="0000999999 does not exist") as info:
            with_retries(lambda: call(service.ZCUSTOMER_READ, IV_KUNNR="0000999999"), FAST)
        assert isinstance(info.value.__cause__, Fault)
    assert peer.versions == [version, version]  # the Fault was not retried


def test_unknown_binding_is_permanent_and_lists_the_known_ones() -> None:
    settings = SoapSettings(wsdl=str(SAP_WSDL), binding="ZCUSTOMER_READ_http")
    with pytest.raises(PermanentError, match="ZCUSTOMER_READ_soap12"):
        SoapClientFactory().service(settings)


# -- 502/503/504 with Retry-After; Faults never retried ------------------------------------

READ_RESULT = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    b'<Read_Result xmlns="urn:microsoft-dynamics-schemas/page/customer">'
    b"<Customer><No>C00010</No><Name>Scripted</Name></Customer></Read_Result></s:Body></s:Envelope>"
)
FAULT = (
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
    b"<faultcode>s:Server</faultcode><faultstring>Credit limit exceeded</faultstring>"
    b"</s:Fault></s:Body></s:Envelope>"
)


class Scripted:
    """Answers POSTs with the scripted (status, Retry-After) in turn, then a Read result."""

    def __init__(self, script: list[tuple[int, str | None]], final: tuple[int, bytes]) -> None:
        self.script = list(script)
        self.final = final
        self.times: list[float] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.times.append(time.monotonic())
        if self.script:
            status, retry_after = self.script.pop(0)
            headers = [("Content-Type", "text/plain")]
            if retry_after is not None:
                headers.append(("Retry-After", retry_after))
            start_response(f"{status} Unavailable", headers)
            return [b"busy"]
        status, body = self.final
        start_response(f"{status} X", [("Content-Type", "text/xml"), ("Retry-After", "0")])
        return [body]


def _read_via(base: str, policy: RetryPolicy) -> Any:
    settings = SoapSettings(wsdl=str(wsdl_path("Customer")), endpoint=f"{base}/Customer")
    service = SoapClientFactory().service(settings)
    return with_retries(lambda: call(service.Read, No="C00010"), policy, what="Customer.Read")


def test_502_and_504_are_retried_honouring_retry_after() -> None:
    peer = Scripted([(502, "1"), (504, None)], (200, READ_RESULT))
    with serve(peer) as base:
        found = _read_via(base, RetryPolicy(attempts=3, initial_wait=0.01, jitter=0.0))
    assert found.Name == "Scripted"
    assert len(peer.times) == 3
    assert peer.times[1] - peer.times[0] >= 1.0  # Retry-After: 1 outweighs the 10 ms backoff
    assert peer.times[2] - peer.times[1] < 0.5


def test_retry_after_is_capped_by_the_policy() -> None:
    peer = Scripted([(503, "3600")], (200, READ_RESULT))
    with serve(peer) as base:
        _read_via(base, RetryPolicy(attempts=2, initial_wait=0.01, jitter=0.0, max_retry_after=0.2))
    assert 0.2 <= peer.times[1] - peer.times[0] < 1.0


def test_a_fault_is_never_retried_even_with_retry_after() -> None:
    peer = Scripted([], (500, FAULT))
    with serve(peer) as base, pytest.raises(PermanentError, match="Credit limit exceeded"):
        _read_via(base, FAST)
    assert len(peer.times) == 1


def test_slow_server_is_a_transient_timeout(erp: ErpHandle) -> None:
    settings = SoapSettings(wsdl=erp.wsdl_url("Customer"), operation_timeout=0.2)
    service = SoapClientFactory().service(settings)
    requests.post(f"{erp.url}/_control", json={"latency_ms": 600}, timeout=5)
    started = time.monotonic()
    with pytest.raises(TransientError, match="Timeout") as info:
        with_retries(lambda: call(service.Read, No="C00010"), FAST)
    assert isinstance(info.value.__cause__, requests.Timeout)
    assert time.monotonic() - started < 1.5  # 3 attempts of 0.2 s, not 3 of 0.6 s
    assert requests.get(f"{erp.url}/_control", timeout=5).json()["calls"] == {"Customer.Read": 3}


# -- the shared transport contract ---------------------------------------------------------

_PASSWORD = "soap-pw-c0ntract"


class TestSoapContract(TransportContract):
    @pytest.fixture
    def secured_erp(self) -> Iterator[ErpHandle]:
        handle = start_in_thread("127.0.0.1", 0, credentials=("svc", _PASSWORD))
        yield handle
        handle.stop()

    @staticmethod
    def _peer(endpoint: str, password: str, secret: str | None = None) -> Peer:
        settings = SoapSettings(
            wsdl=str(wsdl_path("Customer")),
            endpoint=endpoint,
            username="svc",
            password=SecretStr(password),
            connect_timeout=1,
        )
        factory = SoapClientFactory()
        return Peer(
            call=lambda: call(factory.service(settings).Read, No="C00010"),
            ping=lambda: factory.ping(settings),
            secret=secret,
        )

    @pytest.fixture
    def working(self, secured_erp: ErpHandle) -> Peer:
        return self._peer(f"{secured_erp.base_url}Customer", _PASSWORD)

    @pytest.fixture
    def peer_down(self) -> Peer:
        return self._peer(f"http://127.0.0.1:{closed_port()}/WS/CRONUS/Page/Customer", _PASSWORD)

    @pytest.fixture
    def bad_credential(self, secured_erp: ErpHandle) -> Peer:
        wrong = "wrong-soap-pw-99"
        return self._peer(f"{secured_erp.base_url}Customer", wrong, secret=wrong)
