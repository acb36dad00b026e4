"""Writes the WSDLs from the page and codeunit tables, in NAV's published shape:
``wsdl/<Page>.wsdl`` and ``wsdl/<Codeunit>.codeunit.wsdl``.

Run ``python -m sandbox.erp_soap.wsdlgen`` after changing ``pages.py`` or ``codeunits.py``; the
files are kept in the repository so the contract can be read and diffed, and a test checks they
are up to date.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

from sandbox.erp_soap.codeunits import CODEUNITS, CodeunitSpec
from sandbox.erp_soap.pages import PAGES, Field, PageSpec

WSDL_DIR = Path(__file__).with_name("wsdl")
PLACEHOLDER_ADDRESS = "http://localhost:7047/DynamicsNAV/WS/CRONUS/Page/"
CODEUNIT_PLACEHOLDER_ADDRESS = "http://localhost:7047/DynamicsNAV/WS/CRONUS/Codeunit/"
READ_OPERATIONS = ("Read", "ReadByRecId", "ReadMultiple", "IsUpdated", "GetRecIdFromKey")
SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"

# operation -> (request children, response children); (name, type, minOccurs, maxOccurs)
Part = tuple[str, str, str, str]


def _operations(p: PageSpec) -> dict[str, tuple[list[Part], list[Part]]]:
    rec = f"tns:{p.name}"
    lst = f"tns:{p.name}_List"
    ops: dict[str, tuple[list[Part], list[Part]]] = {
        "Read": ([("No", "string", "1", "1")], [(p.name, rec, "0", "1")]),
        "ReadByRecId": ([("recId", "string", "1", "1")], [(p.name, rec, "0", "1")]),
        "ReadMultiple": (
            [
                ("filter", f"tns:{p.name}_Filter", "1", "unbounded"),
                ("bookmarkKey", "string", "0", "1"),
                ("setSize", "int", "1", "1"),
            ],
            [("ReadMultiple_Result", lst, "0", "1")],
        ),
        "IsUpdated": ([("Key", "string", "1", "1")], [("IsUpdated_Result", "boolean", "1", "1")]),
        "GetRecIdFromKey": (
            [("Key", "string", "1", "1")],
            [("GetRecIdFromKey_Result", "string", "1", "1")],
        ),
        "Create": ([(p.name, rec, "1", "1")], [(p.name, rec, "1", "1")]),
        "CreateMultiple": (
            [(f"{p.name}_List", lst, "1", "1")],
            [(f"{p.name}_List", lst, "1", "1")],
        ),
        "Update": ([(p.name, rec, "1", "1")], [(p.name, rec, "1", "1")]),
        "UpdateMultiple": (
            [(f"{p.name}_List", lst, "1", "1")],
            [(f"{p.name}_List", lst, "1", "1")],
        ),
        "Delete": ([("Key", "string", "1", "1")], [("Delete_Result", "boolean", "1", "1")]),
    }
    if not p.editable:  # a read-only page (posted documents) publishes no writes
        return {op: parts for op, parts in ops.items() if op in READ_OPERATIONS}
    if p.lines is not None:
        ops[f"Delete_{p.lines.element}"] = (
            [(f"{p.lines.element}_Key", "string", "1", "1")],
            [(f"Delete_{p.lines.element}_Result", "boolean", "1", "1")],
        )
    return ops


def _xs_type(t: str) -> str:
    return t if t.startswith("tns:") else f"xsd:{t}"


def _element(name: str, xs_type: str, min_occurs: str = "0", max_occurs: str = "1") -> str:
    return (
        f'<xsd:element minOccurs="{min_occurs}" maxOccurs="{max_occurs}" name="{name}" '
        f'type="{_xs_type(xs_type)}"/>'
    )


def _field_element(f: Field) -> str:
    return _element(f.name, f"tns:{f.type_name}" if f.enum else f.xs_type)


def _enum_type(name: str, values: tuple[str, ...]) -> str:
    enums = "".join(f"<xsd:enumeration value={quoteattr(v)}/>" for v in values)
    return (
        f'<xsd:simpleType name="{name}"><xsd:restriction base="xsd:string">{enums}'
        "</xsd:restriction></xsd:simpleType>"
    )


def _record_type(name: str, fields: tuple[Field, ...], extra: dict[str, str]) -> str:
    parts: list[str] = []
    for f in fields:
        parts.append(_field_element(f))
        if f.name in extra:
            parts.append(extra[f.name])
    sequence = "".join(parts)
    return (
        f'<xsd:complexType name="{name}"><xsd:sequence>{sequence}</xsd:sequence></xsd:complexType>'
    )


def _list_type(name: str, record: str) -> str:
    return (
        f'<xsd:complexType name="{name}_List"><xsd:sequence>'
        f"{_element(record, f'tns:{record}', '1', 'unbounded')}</xsd:sequence></xsd:complexType>"
    )


def _schema(p: PageSpec) -> str:
    types: list[str] = []
    enums: dict[str, tuple[str, ...]] = {}
    all_fields = p.fields + (p.lines.fields if p.lines else ())
    for f in all_fields:
        if f.enum:
            enums.setdefault(f.type_name, f.enum)
    types += [_enum_type(n, v) for n, v in enums.items()]
    extra: dict[str, str] = {}
    if p.lines is not None:
        sub = p.lines
        types.append(_record_type(sub.record, sub.fields, {}))
        types.append(_list_type(sub.record, sub.record))
        extra[p.lines_after or p.fields[-1].name] = _element(sub.element, f"tns:{sub.record}_List")
    types.append(_record_type(p.name, p.fields, extra))
    types.append(_list_type(p.name, p.name))
    field_names = tuple(f.name for f in p.fields if f.name != "Key")
    types.append(_enum_type(f"{p.name}_Fields", field_names))
    types.append(
        f'<xsd:complexType name="{p.name}_Filter"><xsd:sequence>'
        f"{_element('Field', f'tns:{p.name}_Fields', '1', '1')}"
        f"{_element('Criteria', 'string', '1', '1')}</xsd:sequence></xsd:complexType>"
    )
    types += _request_elements(_operations(p))
    body = "\n".join(types)
    return (
        '<xsd:schema elementFormDefault="qualified" '
        f'targetNamespace="{p.namespace}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:tns="{p.namespace}">\n{body}\n</xsd:schema>'
    )


def render(p: PageSpec | CodeunitSpec) -> str:
    """The WSDL of one page or codeunit, pretty-printed."""
    flat = _render_codeunit(p) if isinstance(p, CodeunitSpec) else _render_flat(p)
    root = etree.fromstring(flat.encode())
    etree.indent(root, space="  ")
    xml = etree.tostring(root, encoding="utf-8", xml_declaration=True).decode()
    return xml + "\n"


def _codeunit_operations(c: CodeunitSpec) -> dict[str, tuple[list[Part], list[Part]]]:
    return {
        op.name: (
            [(param.name, param.xs_type, "1", "1") for param in op.params],
            [("return_value", op.returns, "1", "1")] if op.returns else [],
        )
        for op in c.operations
    }


def _request_elements(ops: dict[str, tuple[list[Part], list[Part]]]) -> list[str]:
    out = []
    for op, (req, resp) in ops.items():
        for el_name, children in ((op, req), (f"{op}_Result", resp)):
            inner = "".join(_element(*c) for c in children)
            out.append(
                f'<xsd:element name="{el_name}"><xsd:complexType><xsd:sequence>{inner}'
                "</xsd:sequence></xsd:complexType></xsd:element>"
            )
    return out


def _render_codeunit(c: CodeunitSpec) -> str:
    ops = _codeunit_operations(c)
    body = "\n".join([c.types, *_request_elements(ops)])
    schema = (
        '<xsd:schema elementFormDefault="qualified" '
        f'targetNamespace="{c.namespace}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:tns="{c.namespace}">\n{body}\n</xsd:schema>'
    )
    address = f"{CODEUNIT_PLACEHOLDER_ADDRESS}{c.name}"
    return _definitions(c.namespace, c.name, ops, schema, address, service=c.name)


def _render_flat(p: PageSpec) -> str:
    address = f"{PLACEHOLDER_ADDRESS}{p.name}"
    return _definitions(
        p.namespace, p.name, _operations(p), _schema(p), address, service=f"{p.name}_Service"
    )


def _definitions(
    namespace: str,
    name: str,
    ops: dict[str, tuple[list[Part], list[Part]]],
    schema: str,
    address: str,
    *,
    service: str,
) -> str:
    messages = "\n".join(
        f'<message name="{n}"><part name="parameters" element="tns:{n}"/></message>'
        for op in ops
        for n in (op, f"{op}_Result")
    )
    port_ops = "\n".join(
        f'<operation name="{op}"><input name="{op}" message="tns:{op}"/>'
        f'<output name="{op}_Result" message="tns:{op}_Result"/></operation>'
        for op in ops
    )
    body = f'<body xmlns="{SOAP_NS}" use="literal"/>'
    binding_ops = "\n".join(
        f'<operation name="{op}"><operation xmlns="{SOAP_NS}" '
        f'soapAction="{namespace}:{op}" style="document"/>'
        f'<input name="{op}">{body}</input><output name="{op}_Result">{body}</output></operation>'
        for op in ops
    )
    return (
        f'<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" targetNamespace="{namespace}" '
        f'xmlns:tns="{namespace}">\n<types>\n{schema}\n</types>\n{messages}\n'
        f'<portType name="{name}_Port">\n{port_ops}\n</portType>\n'
        f'<binding name="{name}_Binding" type="tns:{name}_Port">'
        f'<binding xmlns="{SOAP_NS}" transport="http://schemas.xmlsoap.org/soap/http"/>\n'
        f"{binding_ops}\n</binding>\n"
        f'<service name="{service}"><port name="{name}_Port" '
        f'binding="tns:{name}_Binding"><address xmlns="{SOAP_NS}" '
        f'location="{address}"/></port></service>\n</definitions>\n'
    )


def wsdl_path(page: str) -> Path:
    return WSDL_DIR / f"{page}.wsdl"


def codeunit_wsdl_path(codeunit: str) -> Path:
    return WSDL_DIR / f"{codeunit}.codeunit.wsdl"


def main() -> None:
    WSDL_DIR.mkdir(exist_ok=True)
    specs: list[tuple[Path, PageSpec | CodeunitSpec]] = [
        (wsdl_path(p.name), p) for p in PAGES.values()
    ]
    specs += [(codeunit_wsdl_path(c.name), c) for c in CODEUNITS.values()]
    for path, spec in specs:
        path.write_text(render(spec), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
