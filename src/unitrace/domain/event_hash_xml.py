"""EPCIS 1.x/2.0 XML documents as input to the canonical CBV 2.0 event hash.

``parse_epcis_xml`` reads an ``EPCISDocument`` or ``EPCISQueryDocument`` (the XML text or its
bytes) into one :class:`XmlEvent` per event, in the field shape that
:func:`unitrace.domain.event_hash.compute_prehash_of_fields` hashes: EPCIS 1.x ``extension``
and ``baseExtension`` wrappers are dissolved, XML attributes become fields (``type`` of a
business transaction, source, destination or sensor report becomes its typed name), user
extensions are named ``{namespace}local``, and ``eventID``, ``recordTime``,
``errorDeclaration`` and the fields a document lists in its ``ignoreFields`` are left out.

Documents may come from partners, so the parser refuses any document type declaration
(and with it every entity but XML's five predefined ones): no entity expansion, no
external resources. Only the text passed in is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn
from xml.parsers import expat

from unitrace.domain.event_hash import (
    STANDARD_NAMESPACES,
    EventNode,
    compute_prehash_of_fields,
    hash_prehash,
)
from unitrace.errors import ValidationError

# Wrappers EPCIS 1.x puts around fields added after 1.0; their content is the event's own.
_WRAPPERS = frozenset({"extension", "baseExtension"})
_IGNORED = frozenset({"eventID", "recordTime", "errorDeclaration"})
# Element whose XML ``type`` attribute is its typed field, as in the JSON-LD binding.
_TYPE_ATTRIBUTE = {
    "bizTransaction": "bizTransactionType",
    "source": "sourceOrDestinationType",
    "destination": "sourceOrDestinationType",
    "sensorReport": "sensorType",
}
_MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class XmlEvent:
    """One event of an XML document: its type and its fields, ready to hash."""

    event_type: str
    fields: tuple[EventNode, ...]


@dataclass(frozen=True, slots=True)
class XmlEpcisDocument:
    """The events of an XML document, in document order, and the namespaces it declares."""

    events: tuple[XmlEvent, ...]
    namespaces: Mapping[str, str]

    def prehashes(self) -> list[str]:
        """The canonical pre-hash string of every event, in document order."""
        return [
            compute_prehash_of_fields(event.event_type, event.fields, self.namespaces)
            for event in self.events
        ]

    def hashes(self) -> list[str]:
        """The ``ni:///sha-256;…?ver=CBV2.0`` event hash of every event, in document order."""
        return [hash_prehash(prehash) for prehash in self.prehashes()]


class _Element:
    """An XML element as read: ``{namespace}local`` name, attributes, text, children."""

    __slots__ = ("attributes", "children", "name", "text")

    def __init__(self, name: str, attributes: dict[str, str]) -> None:
        self.name = name
        self.attributes = attributes
        self.text: list[str] = []
        self.children: list[_Element] = []


class _TreeBuilder:
    """Builds a light element tree from expat callbacks; refuses DTDs and entities."""

    def __init__(self) -> None:
        self.root: _Element | None = None
        self.stack: list[_Element] = []
        self.namespaces: dict[str, str] = {}

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if len(self.stack) >= _MAX_DEPTH:
            raise ValidationError(f"XML nested deeper than {_MAX_DEPTH} elements")
        element = _Element(_qualified(name), attributes)
        if self.stack:
            self.stack[-1].children.append(element)
        else:
            self.root = element
        self.stack.append(element)

    def end(self, _name: str) -> None:
        self.stack.pop()

    def text(self, data: str) -> None:
        if self.stack:
            self.stack[-1].text.append(data)

    def namespace(self, prefix: str | None, uri: str) -> None:
        if prefix:
            self.namespaces.setdefault(prefix, uri)

    @staticmethod
    def refuse_dtd(*_args: object) -> NoReturn:
        raise ValidationError("XML document type declarations are not accepted")


def _qualified(name: str) -> str:
    """Turn expat's ``uri local`` into ``{uri}local``; unqualified names stay as they are."""
    uri, sep, local = name.rpartition(" ")
    return "{" + uri + "}" + local if sep else name


def _parse(document: str | bytes) -> _TreeBuilder:
    builder = _TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.ordered_attributes = False
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.text
    parser.StartNamespaceDeclHandler = builder.namespace
    parser.StartDoctypeDeclHandler = builder.refuse_dtd
    parser.EntityDeclHandler = builder.refuse_dtd
    parser.ExternalEntityRefHandler = builder.refuse_dtd
    try:
        # Text is parsed as the text it is (its encoding declaration does not apply); bytes
        # are decoded as their XML declaration says (UTF-8 without one).
        parser.Parse(document, True)
    except expat.ExpatError as error:
        raise ValidationError(f"not well-formed XML: {error}") from error
    return builder


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _find(element: _Element, local: str, skip: str = "") -> _Element | None:
    """The first element named ``local`` (in any namespace) below ``element``, depth first,
    not looking inside elements named ``skip``."""
    for child in element.children:
        name = _local(child.name)
        if name == local:
            return child
        if name != skip and (found := _find(child, local, skip)) is not None:
            return found
    return None


def _dissolved(children: Sequence[_Element]) -> list[_Element]:
    out: list[_Element] = []
    for child in children:
        if child.name in _WRAPPERS:
            out.extend(_dissolved(child.children))
        else:
            out.append(child)
    return out


def _node(element: _Element) -> EventNode:
    name = element.name
    fields: list[EventNode] = []
    type_field = _TYPE_ATTRIBUTE.get(name)
    for attribute, value in element.attributes.items():
        attribute_name = _qualified(attribute)
        if attribute_name == "type" and type_field:
            fields.append((type_field, value, []))
        else:
            fields.append((attribute_name, value, []))
    text = "".join(element.text).strip()
    if name in ("bizTransaction", "source", "destination"):
        # The identifier is the element's text in XML and a field of its own in JSON-LD.
        fields.append((name, text, []))
        text = ""
    fields.extend(_node(child) for child in _dissolved(element.children))
    return (name, text, fields)


def _ignore_fields(root: _Element) -> frozenset[str]:
    """The fields a document (``<x:ignoreFields><ns:field/>…``) asks to leave out of hashes."""
    holder = _find(root, "ignoreFields", skip="EventList")
    if holder is None:
        return frozenset()
    return frozenset(child.name for child in holder.children)


def _events(event_list: _Element, ignored: frozenset[str]) -> list[XmlEvent]:
    events = []
    for element in _dissolved(event_list.children):
        fields = tuple(
            _node(child)
            for child in _dissolved(element.children)
            if child.name not in _IGNORED and child.name not in ignored
        )
        events.append(XmlEvent(event_type=_local(element.name), fields=fields))
    return events


def parse_epcis_xml(document: str | bytes) -> XmlEpcisDocument:
    """Read the events of an EPCIS XML document or query document.

    Raises :class:`~unitrace.errors.ValidationError` when the text is not well-formed XML,
    declares a document type, or holds no ``EventList``.
    """
    builder = _parse(document)
    root = builder.root
    if root is None:  # pragma: no cover - expat rejects a document without a root element
        raise ValidationError("the XML document has no root element")
    event_list = _find(root, "EventList")
    if event_list is None:
        raise ValidationError("the XML document has no EventList")
    namespaces = {**builder.namespaces, **STANDARD_NAMESPACES}
    return XmlEpcisDocument(
        events=tuple(_events(event_list, _ignore_fields(root))), namespaces=namespaces
    )


def xml_event_hashes(document: str | bytes) -> list[str]:
    """The canonical CBV 2.0 event hash of every event of an EPCIS XML document, in order."""
    return parse_epcis_xml(document).hashes()
