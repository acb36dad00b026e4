"""One page web service: request element in, response element out (XSD-validated)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

from sandbox.erp_soap.pages import Field, PageSpec
from sandbox.erp_soap.soapxml import SoapFault
from sandbox.erp_soap.store import Record, Store, decode_key
from sandbox.erp_soap.wsdlgen import READ_OPERATIONS

XSD_NS = "http://www.w3.org/2001/XMLSchema"
Handler = Callable[[etree._Element], etree._Element]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


class SoapService:
    """What every web service (page or codeunit) shares: its WSDL, namespace and request
    validation against the WSDL's XSD; subclasses fill ``handlers``."""

    kind = "Page"

    def __init__(self, name: str, namespace: str, wsdl_file: Path) -> None:
        self.name = name
        self.ns = namespace
        self.wsdl_text = wsdl_file.read_text(encoding="utf-8")
        self._schema_xml = self._extract_schema(self.wsdl_text)
        self._local = threading.local()
        self.handlers: dict[str, Handler] = {}

    @staticmethod
    def _extract_schema(wsdl_text: str) -> bytes:
        wsdl = etree.fromstring(wsdl_text.encode())
        schema = wsdl.find(f".//{{{XSD_NS}}}schema")
        assert schema is not None, "WSDL without an inline xsd:schema"
        return etree.tostring(schema)

    def _schema(self) -> etree.XMLSchema:
        schema: etree.XMLSchema | None = getattr(self._local, "schema", None)
        if schema is None:  # validators are not shared between threads
            schema = etree.XMLSchema(etree.fromstring(self._schema_xml))
            self._local.schema = schema
        return schema

    def operation_name(self, request: etree._Element) -> str:
        qname = etree.QName(request)
        if qname.namespace != self.ns or qname.localname not in self.handlers:
            raise SoapFault(
                f"No operation {qname.text} on {self.kind.lower()} {self.name}.", client=True
            )
        return qname.localname

    def execute(self, request: etree._Element) -> etree._Element:
        op = self.operation_name(request)
        schema = self._schema()
        doc = etree.ElementTree(etree.fromstring(etree.tostring(request)))
        if not schema.validate(doc):
            errors = "; ".join(e.message for e in schema.error_log)  # type: ignore[attr-defined]
            raise SoapFault(f"The request for {op} is not valid: {errors}", client=True)
        return self.handlers[op](doc.getroot())

    def _q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def _child_text(self, el: etree._Element, name: str) -> str | None:
        child = el.find(self._q(name))
        return None if child is None else (child.text or "")

    def _result(self, op: str, *children: etree._Element, value: Any = None) -> etree._Element:
        result = etree.Element(self._q(f"{op}_Result"), nsmap={None: self.ns})  # type: ignore[dict-item]
        for child in children:
            result.append(child)
        if value is not None:
            etree.SubElement(result, self._q(f"{op}_Result")).text = value
        return result


class PageService(SoapService):
    """Executes the operations of one page (Read, ReadMultiple, Create, Update, Delete...);
    a read-only page (``editable=False``) has only the read operations."""

    def __init__(self, spec: PageSpec, store: Store, wsdl_file: Path) -> None:
        super().__init__(spec.name, spec.namespace, wsdl_file)
        self.spec = spec
        self.store = store
        self.handlers = {
            "Read": self._read,
            "ReadByRecId": self._read_by_rec_id,
            "ReadMultiple": self._read_multiple,
            "IsUpdated": self._is_updated,
            "GetRecIdFromKey": self._get_rec_id,
            "Create": self._create,
            "CreateMultiple": self._create_multiple,
            "Update": self._update,
            "UpdateMultiple": self._update_multiple,
            "Delete": self._delete,
        }
        if spec.lines is not None:
            self.handlers[f"Delete_{spec.lines.element}"] = self._delete_line
        if not spec.editable:
            self.handlers = {k: v for k, v in self.handlers.items() if k in READ_OPERATIONS}

    # -- XML <-> records -----------------------------------------------------------------

    def _to_record(self, el: etree._Element) -> Record:
        record: Record = {}
        sub = self.spec.lines
        for child in el:
            name = _local(child)
            if sub is not None and name == sub.element:
                record[name] = [{_local(f): f.text or "" for f in line} for line in child]
            else:
                record[name] = child.text or ""
        return record

    def _fields_to_xml(
        self, parent: etree._Element, fields: tuple[Field, ...], rec: Record
    ) -> None:
        sub = self.spec.lines
        for f in fields:
            value = rec.get(f.name)
            if value is not None:
                etree.SubElement(parent, self._q(f.name)).text = str(value)
            if sub is not None and fields is self.spec.fields and f.name == self._lines_after():
                lines = etree.SubElement(parent, self._q(sub.element))
                for line in rec.get(sub.element, []):
                    self._fields_to_xml(
                        etree.SubElement(lines, self._q(sub.record)), sub.fields, line
                    )
                if not len(lines):
                    parent.remove(lines)

    def _lines_after(self) -> str:
        return self.spec.lines_after or self.spec.fields[-1].name

    def _record_xml(self, name: str, rec: Record) -> etree._Element:
        el = etree.Element(self._q(name))
        self._fields_to_xml(el, self.spec.fields, rec)
        return el

    @staticmethod
    def _bool(value: bool) -> str:
        return "true" if value else "false"

    # -- operations ----------------------------------------------------------------------

    def _read(self, req: etree._Element) -> etree._Element:
        found = self.store.read(self.spec, self._child_text(req, "No") or "")
        return self._result("Read", *([self._record_xml(self.spec.name, found)] if found else []))

    def _read_by_rec_id(self, req: etree._Element) -> etree._Element:
        rec_id = self._child_text(req, "recId") or ""
        table, _, no = rec_id.partition(": ")
        found = self.store.read(self.spec, no) if table == self.spec.name else None
        children = [self._record_xml(self.spec.name, found)] if found else []
        return self._result("ReadByRecId", *children)

    def _read_multiple(self, req: etree._Element) -> etree._Element:
        filters = [
            (self._child_text(f, "Field") or "", self._child_text(f, "Criteria") or "")
            for f in req.findall(self._q("filter"))
        ]
        rows = self.store.read_multiple(
            self.spec,
            filters,
            self._child_text(req, "bookmarkKey") or None,
            int(self._child_text(req, "setSize") or 0),
        )
        result = self._result("ReadMultiple")
        if rows:
            inner = etree.SubElement(result, self._q("ReadMultiple_Result"))
            for row in rows:
                inner.append(self._record_xml(self.spec.name, row))
        return result

    def _is_updated(self, req: etree._Element) -> etree._Element:
        updated = self.store.is_updated(self.spec, self._child_text(req, "Key") or "")
        return self._result("IsUpdated", value=self._bool(updated))

    def _get_rec_id(self, req: etree._Element) -> etree._Element:
        found = self._read_key(self._child_text(req, "Key") or "")
        return self._result("GetRecIdFromKey", value=f"{self.spec.name}: {found}")

    @staticmethod
    def _read_key(key: str) -> str:
        return decode_key(key)[0]

    def _one(self, req: etree._Element) -> Record:
        el = req.find(self._q(self.spec.name))
        assert el is not None  # the schema requires it
        return self._to_record(el)

    def _many(self, req: etree._Element) -> list[Record]:
        lst = req.find(self._q(f"{self.spec.name}_List"))
        assert lst is not None
        return [self._to_record(el) for el in lst]

    def _create(self, req: etree._Element) -> etree._Element:
        created = self.store.create(self.spec, self._one(req))
        return self._result("Create", self._record_xml(self.spec.name, created))

    def _update(self, req: etree._Element) -> etree._Element:
        updated = self.store.update(self.spec, self._one(req))
        return self._result("Update", self._record_xml(self.spec.name, updated))

    def _multiple(
        self, op: str, write: Callable[[PageSpec, Record], Record], req: etree._Element
    ) -> etree._Element:
        with self.store.transaction():
            done = [write(self.spec, rec) for rec in self._many(req)]
        lst = etree.Element(self._q(f"{self.spec.name}_List"))
        for rec in done:
            lst.append(self._record_xml(self.spec.name, rec))
        return self._result(op, lst)

    def _create_multiple(self, req: etree._Element) -> etree._Element:
        return self._multiple("CreateMultiple", self.store.create, req)

    def _update_multiple(self, req: etree._Element) -> etree._Element:
        return self._multiple("UpdateMultiple", self.store.update, req)

    def _delete(self, req: etree._Element) -> etree._Element:
        deleted = self.store.delete(self.spec, self._child_text(req, "Key") or "")
        return self._result("Delete", value=self._bool(deleted))

    def _delete_line(self, req: etree._Element) -> etree._Element:
        assert self.spec.lines is not None
        element = self.spec.lines.element
        deleted = self.store.delete_line(self.spec, self._child_text(req, f"{element}_Key") or "")
        return self._result(f"Delete_{element}", value=self._bool(deleted))
