"""Open311 answers in the spec's two formats: XML (``text/xml; charset=utf-8``, the spec's element names) and JSON
(arrays of objects). Pure: records in, (bytes, content type) out.

W3C datetimes carry the city's UTC offset (``2026-12-02T09:30:00+08:00``); a missing value is an empty element
in XML and ``null`` in JSON.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.config.city import Category
from bot.workflow.open311 import PublicRequest, Update

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
FORMATS = ("xml", "json")
#: How many of a category's suggestion words are listed as its keywords.
KEYWORDS = 8

Body = tuple[bytes, str]

#: Characters XML 1.0 cannot carry at all, even escaped (control characters but tab and newlines, lone
#: surrogates, U+FFFE/U+FFFF): dropped from XML answers, so a stray one in a text never breaks a client's parser.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def w3c(at: datetime | None, tz: ZoneInfo) -> str | None:
    return at.astimezone(tz).isoformat(timespec="seconds") if at else None


def _xml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else _NOT_XML.sub("", str(value))


def _xml_fill(parent: ET.Element, item: Mapping[str, Any]) -> None:
    for name, value in item.items():
        child = ET.SubElement(parent, name)
        if isinstance(value, _Nested):
            for sub in value.items:
                _xml_fill(ET.SubElement(child, value.element), sub)
        else:
            child.text = _xml_value(value)


class _Nested:
    """A list inside an item: XML wraps each entry in ``element``, JSON makes it an array."""

    def __init__(self, element: str, items: Sequence[Mapping[str, Any]]) -> None:
        self.element = element
        self.items = items


def _json_value(value: Any) -> Any:
    if isinstance(value, _Nested):
        return [{k: _json_value(v) for k, v in item.items()} for item in value.items]
    return value


def _xml(root: str, element: str, items: Iterable[Mapping[str, Any]]) -> bytes:
    top = ET.Element(root)
    for item in items:
        _xml_fill(ET.SubElement(top, element), item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8", xml_declaration=False)


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def listing(fmt: str, root: str, element: str, items: Sequence[Mapping[str, Any]]) -> Body:
    """``<root><element>…</element>…</root>`` or a JSON array of the items."""
    if fmt == "xml":
        return _xml(root, element, items), XML_TYPE
    return _json([{k: _json_value(v) for k, v in item.items()} for item in items]), JSON_TYPE


# -- the answers ------------------------------------------------------------------------------------------------

def services(fmt: str, categories: Sequence[Category]) -> Body:
    return listing(fmt, "services", "service", [{
        "service_code": c.key, "service_name": c.name_zh, "description": c.description,
        "metadata": bool(c.attributes), "type": "realtime",
        "keywords": ", ".join(c.suggest[:KEYWORDS]) or None, "group": c.group,
    } for c in categories])


def service_definition(fmt: str, category: Category) -> Body:
    attributes = [{
        "variable": True, "code": a.code, "datatype": a.datatype, "required": a.required,
        "datatype_description": None, "order": i, "description": a.description,
        **({"values": _Nested("value", [{"key": k, "name": n} for k, n in a.values])} if a.values else {}),
    } for i, a in enumerate(category.attributes, start=1)]
    if fmt == "xml":
        top = ET.Element("service_definition")
        ET.SubElement(top, "service_code").text = category.key
        _xml_fill(top, {"attributes": _Nested("attribute", attributes)})
        return (b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8"),
                XML_TYPE)
    return _json({"service_code": category.key,
                  "attributes": [{k: _json_value(v) for k, v in a.items()} for a in attributes]}), JSON_TYPE


def requests(fmt: str, found: Sequence[PublicRequest], tz: ZoneInfo) -> Body:
    return listing(fmt, "service_requests", "request", [{
        "service_request_id": r.service_request_id, "status": r.status, "status_notes": r.status_notes,
        "service_name": r.service_name, "service_code": r.service_code, "description": r.description,
        "agency_responsible": r.agency_responsible, "service_notice": None,
        "requested_datetime": w3c(r.requested_datetime, tz), "updated_datetime": w3c(r.updated_datetime, tz),
        "expected_datetime": w3c(r.expected_datetime, tz), "address": r.address, "address_id": r.address_id,
        "zipcode": None, "lat": None, "long": None, "media_url": None,
    } for r in found])


def created(fmt: str, number: str, notice: str | None) -> Body:
    """POST requests' answer: the new request's id (our ticket number) at once, so no token is needed."""
    return listing(fmt, "service_requests", "request",
                   [{"service_request_id": number, "service_notice": notice, "account_id": None}])


def updates(fmt: str, found: Sequence[Update], tz: ZoneInfo) -> Body:
    return listing(fmt, "service_requests_updates", "request_update", [{
        "update_id": u.update_id, "service_request_id": u.service_request_id, "status": u.status,
        "updated_datetime": w3c(u.updated_datetime, tz), "description": u.description, "media_url": None,
    } for u in found])


def errors(fmt: str, status: int, description: str) -> Body:
    return listing(fmt, "errors", "error", [{"code": status, "description": description}])
