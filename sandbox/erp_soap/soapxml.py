"""SOAP 1.1 envelopes and Faults for the sandbox ERP, with hardened request parsing."""

from __future__ import annotations

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NAV_ERROR_NS = "urn:microsoft-dynamics-schemas/error"
NAV_BROKER_FAULT = "a:Microsoft.Dynamics.Nav.Service.WebServices.ServiceBrokerException"
SERIALIZATION_NS = "http://schemas.microsoft.com/2003/10/Serialization/"
MAX_REQUEST_BYTES = 4 * 1024 * 1024

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


class SoapFault(Exception):
    """Answered as a SOAP 1.1 Fault with HTTP 500."""

    def __init__(self, message: str, *, client: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.client = client


def parse_body(data: bytes) -> etree._Element:
    """The first element inside ``soap:Body``; SoapFault for anything else or anything unsafe."""
    if len(data) > MAX_REQUEST_BYTES:
        raise SoapFault("The request is too large.", client=True)
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapFault(f"The request is not well-formed XML: {exc}", client=True) from exc
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", "") or getattr(docinfo, "internalDTD", None) is not None:
        raise SoapFault("DTDs are not allowed in requests.", client=True)
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapFault("The request is not a SOAP 1.1 envelope.", client=True)
    body = root.find(f"{{{SOAP_ENV}}}Body")
    children = [] if body is None else [c for c in body if isinstance(c.tag, str)]
    if not children:
        raise SoapFault("The SOAP body is empty.", client=True)
    return children[0]


def envelope(payload: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"Soap": SOAP_ENV})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(payload)
    return etree.tostring(env, encoding="utf-8", xml_declaration=False)


def fault(message: str, *, client: bool = False) -> bytes:
    """A Fault shaped like NAV's: ServiceBrokerException for business errors, s:Client else."""
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"s": SOAP_ENV})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    node = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    if client:
        code = etree.SubElement(node, "faultcode")
        code.text = "s:Client"
    else:
        code = etree.SubElement(node, "faultcode", nsmap={"a": NAV_ERROR_NS})
        code.text = NAV_BROKER_FAULT
    text = etree.SubElement(node, "faultstring")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    text.text = message
    detail = etree.SubElement(node, "detail")
    etree.SubElement(
        detail,
        f"{{{SERIALIZATION_NS}}}string",
        nsmap={None: SERIALIZATION_NS},  # type: ignore[dict-item]
    ).text = message
    return etree.tostring(env, encoding="utf-8")
