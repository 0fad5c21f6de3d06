"""The canonical CBV 2.0 event hash of an EPCIS 2.0 event given as a JSON-LD dict.

The event becomes a canonical *pre-hash string*: ``eventType=…`` followed by the standard
fields in the CBV order, each list sorted, identifiers in their canonical forms (GS1 keys
as constrained ``https://id.gs1.org/…`` Digital Link URIs, CBV values as web vocabulary
URIs, times in UTC to the millisecond), then the remaining fields and user extensions
sorted, with namespaces spelt out as ``{uri}name``. Fields that do not describe what
happened (``eventID``, ``recordTime``, ``errorDeclaration``, comments) are left out, so
the hash of an event does not depend on who recorded it, when, or how it was serialised.
A field that is neither standard where it stands nor an extension (a sensor report's
``bizRules``) is rendered after the event's own extensions, under the names of the fields
that hold it. The hash is ``ni:///sha-256;<hex>?ver=CBV2.0`` of the UTF-8 pre-hash string.

Events read from EPCIS XML (``unitrace.domain.event_hash_xml``) are hashed by
``compute_prehash_of_fields`` from the same field shape, so both bindings of an event hash
alike.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeAlias

HASH_PREFIX = "ni:///sha-256;"
HASH_SUFFIX = "?ver=CBV2.0"

_IGNORED = frozenset(
    {"eventID", "recordTime", "errorDeclaration", "@context", "comment", "rdfs:comment"}
)
_TIME_FIELDS = frozenset({"eventTime", "time", "startTime", "endTime", "declarationTime"})
_QUANTITY = (("epcClass", None), ("quantity", None), ("uom", None))
_SENSOR_METADATA = tuple(
    (name, None)
    for name in [
        "time",
        "startTime",
        "endTime",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "bizRules",
    ]
)
_SENSOR_REPORT = tuple(
    (name, None)
    for name in [
        "type",
        "exception",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "time",
        "microorganism",
        "chemicalSubstance",
        "value",
        "component",
        "stringValue",
        "booleanValue",
        "hexBinaryValue",
        "uriValue",
        "minValue",
        "maxValue",
        "meanValue",
        "sDev",
        "percRank",
        "percValue",
        "uom",
        "coordinateReferenceSystem",
    ]
)

_Order: TypeAlias = tuple[tuple[str, "_Order | None"], ...]

# (name, order of its children or None); the top level follows CBV 2.0 "Event hash ID".
_EVENT_ORDER: _Order = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("certificationInfo", None),
    ("parentID", None),
    ("epcList", (("epc", None),)),
    ("inputEPCList", (("epc", None),)),
    ("childEPCs", (("epc", None),)),
    ("quantityList", (("quantityElement", _QUANTITY),)),
    ("childQuantityList", (("quantityElement", _QUANTITY),)),
    ("inputQuantityList", (("quantityElement", _QUANTITY),)),
    ("outputEPCList", (("epc", None),)),
    ("outputQuantityList", (("quantityElement", _QUANTITY),)),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", (("set", None), ("unset", None))),
    ("readPoint", (("id", None),)),
    ("bizLocation", (("id", None),)),
    (
        "sensorElementList",
        (
            (
                "sensorElement",
                (("sensorMetadata", _SENSOR_METADATA), ("sensorReport", _SENSOR_REPORT)),
            ),
        ),
    ),
)

# An order compiled for lookups: child name -> (rank, compiled order of its own children).
_Ranks: TypeAlias = dict[str, tuple[int, "_Ranks | None"]]


def _compile(order: _Order) -> _Ranks:
    return {name: (rank, _compile(sub) if sub else None) for rank, (name, sub) in enumerate(order)}


_EVENT_RANKS = _compile(_EVENT_ORDER)

_EPC_LISTS = frozenset({"epcList", "inputEPCList", "outputEPCList", "childEPCs"})
_QUANTITY_LISTS = frozenset(
    {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
)
_PARTY_LISTS = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}

_CBV = "https://ref.gs1.org/cbv/"
_GS1_VOC = "https://gs1.org/voc/"
# Field name -> (web vocabulary prefix of its bare CBV values, legacy URN prefix).
_VOCABULARY_FIELDS: dict[str, tuple[str, str | None]] = {
    "bizStep": (_CBV + "BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": (_CBV + "Disp-", "urn:epcglobal:cbv:disp:"),
    "set": (_CBV + "Disp-", "urn:epcglobal:cbv:disp:"),
    "unset": (_CBV + "Disp-", "urn:epcglobal:cbv:disp:"),
    "bizTransactionType": (_CBV + "BTT-", "urn:epcglobal:cbv:btt:"),
    "sourceOrDestinationType": (_CBV + "SDT-", "urn:epcglobal:cbv:sdt:"),
    "reason": (_CBV + "ER-", "urn:epcglobal:cbv:er:"),
    "component": (_CBV + "Comp-", "urn:epcglobal:cbv:comp:"),
    "sensorType": (_GS1_VOC, None),
    "exception": (_GS1_VOC, None),
}
STANDARD_NAMESPACES = {
    "gs1": _GS1_VOC,
    "cbv": _CBV,
    "epcis": "https://ref.gs1.org/epcis/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
}
_STANDARD_ONLY: Mapping[str, str] = MappingProxyType(dict(STANDARD_NAMESPACES))
_BARE_TERM = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NUMBER_START = frozenset("+-.0123456789")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


# (name, text, children): a field in the XML shape of EPCIS; a plain tuple because it is hot.
EventNode: TypeAlias = tuple[str, str, list["EventNode"]]
_Node: TypeAlias = EventNode


# --- JSON-LD -> tree ---------------------------------------------------------------------------


def _namespaces(context: object) -> Mapping[str, str]:
    items = context if isinstance(context, list) else [context]
    if not any(isinstance(item, dict) for item in items):
        return _STANDARD_ONLY  # context URLs only (unitrace's own events): nothing to add
    found = dict(STANDARD_NAMESPACES)
    for item in items:
        if isinstance(item, dict):
            found.update({str(k): str(v) for k, v in item.items() if isinstance(v, str)})
    found["gs1"] = _GS1_VOC
    return found


def _expand_key(key: str, namespaces: Mapping[str, str]) -> str:
    if ":" not in key:
        return key
    prefix, sep, local = key.partition(":")
    if sep and prefix in namespaces:
        return "{" + namespaces[prefix] + "}" + local
    return key


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _generic(name: str, value: object, namespaces: Mapping[str, str]) -> list[_Node]:
    key = _expand_key(name, namespaces)
    if isinstance(value, list):
        return [node for item in value for node in _generic(name, item, namespaces)]
    if isinstance(value, dict):
        text = _scalar(value.get("#text", ""))
        return [(key, text, _children(value, namespaces))]
    return [(key, _scalar(value), [])]


def _children(obj: Mapping[str, Any], namespaces: Mapping[str, str]) -> list[_Node]:
    nodes: list[_Node] = []
    for key, value in obj.items():
        if key in _IGNORED or key == "#text" or key.startswith("@"):
            continue
        nodes.extend(_generic(key, value, namespaces))
    return nodes


def _typed(name: str, value: object, namespaces: Mapping[str, str]) -> list[_Node]:
    """Nodes for one top-level or nested standard field, in the XML shape of EPCIS."""
    if name in _EPC_LISTS:
        epcs: list[_Node] = [
            ("epc", e if type(e) is str else _scalar(e), []) for e in _as_list(value)
        ]
        return [(name, "", epcs)]
    if name in _QUANTITY_LISTS:
        elements = [("quantityElement", "", _children(q, namespaces)) for q in _as_list(value)]
        return [(name, "", elements)]
    if name in _PARTY_LISTS:
        return [(name, "", [_party(name, p, namespaces) for p in _as_list(value)])]
    if name in ("readPoint", "bizLocation") and isinstance(value, dict):
        return [(name, "", _children(value, namespaces))]
    if name == "sensorElementList":
        return [(name, "", [_sensor_element(e, namespaces) for e in _as_list(value)])]
    return _generic(name, value, namespaces)


def _party(list_name: str, entry: Mapping[str, Any], namespaces: Mapping[str, str]) -> _Node:
    field = _PARTY_LISTS[list_name]
    kind = "bizTransactionType" if field == "bizTransaction" else "sourceOrDestinationType"
    children: list[_Node] = []
    if "type" in entry:
        children.append((kind, _scalar(entry["type"]), []))
    children.append((field, _scalar(entry.get(field, "")), []))
    rest = {k: v for k, v in entry.items() if k not in ("type", field)}
    return (field, "", children + _children(rest, namespaces))


def _sensor_element(element: Mapping[str, Any], namespaces: Mapping[str, str]) -> _Node:
    children: list[_Node] = []
    for key, value in element.items():
        if key == "sensorReport":
            for report in _as_list(value):
                nodes = _children({k: v for k, v in report.items() if k != "type"}, namespaces)
                if "type" in report:
                    nodes.insert(0, ("sensorType", _scalar(report["type"]), []))
                children.append(("sensorReport", "", nodes))
        elif key == "sensorMetadata" and isinstance(value, dict):
            children.append((key, "", _children(value, namespaces)))
        elif key not in _IGNORED:
            children.extend(_generic(key, value, namespaces))
    return ("sensorElement", "", children)


def _as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- values ------------------------------------------------------------------------------------


# The common spellings of a time: a four-digit year, at most milliseconds, Z or ±hh:mm.
_COMMON_TIME = re.compile(
    r"([1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,3}))?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)
_UTC_ZONES = frozenset({"Z", "+00:00", "-00:00"})


def _timestamp(text: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return text
    common = _COMMON_TIME.fullmatch(text)
    if common:
        # A valid time (it parsed) with nothing to round: the same result as below, spelt
        # out directly when the time in UTC falls on the same day.
        seconds, fraction, zone = common.groups()
        millis = f"{fraction or '':0<3}Z"
        if zone in _UTC_ZONES:
            return f"{seconds}.{millis}"
        offset = int(zone[1:3]) * 60 + int(zone[4:6])
        minute = int(seconds[11:13]) * 60 + int(seconds[14:16])
        minute += -offset if zone[0] == "+" else offset
        if 0 <= minute < 24 * 60:
            return f"{seconds[:11]}{minute // 60:02d}:{minute % 60:02d}{seconds[16:]}.{millis}"
    return _utc_millis(parsed)


def _utc_millis(parsed: dt.datetime) -> str:
    """A parsed time in UTC, rounded half up to the millisecond (no offset: UTC)."""
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    millis = (parsed.microsecond + 500) // 1000  # half up
    whole = parsed.replace(microsecond=0).astimezone(dt.UTC) + dt.timedelta(milliseconds=millis)
    if whole.year < 1000:  # strftime does not pad the year
        return whole.strftime("%Y-%m-%dT%H:%M:%S.") + f"{whole.microsecond // 1000:03d}Z"
    return whole.isoformat(timespec="milliseconds")[:23] + "Z"


def _numeric(text: str) -> str:
    if not text or text[0] not in _NUMBER_START or not _NUMBER.fullmatch(text):
        return text
    number = float(text)
    return str(int(number)) if number.is_integer() and "e" not in text.lower() else str(number)


def _vocabulary(field: str, text: str) -> str:
    web, urn = _VOCABULARY_FIELDS[field]
    if urn and text.startswith(urn):
        return web + text[len(urn) :]
    if _BARE_TERM.fullmatch(text):
        return web + text
    return text


def _expand_value(text: str, namespaces: Mapping[str, str]) -> str:
    prefix, sep, local = text.partition(":")
    if sep and prefix in namespaces and not local.startswith("//"):
        uri = namespaces[prefix]
        if uri.startswith(("https://ref.gs1.org", "https://gs1.org")):
            return uri + local
    return text


def _canonical_value(name: str, text: str, namespaces: Mapping[str, str]) -> str:
    text = text.strip()
    if name in _TIME_FIELDS:
        return _timestamp(text)
    if ":" in text:
        if text.startswith("https://id.gs1.org/") and _CANONICAL_GS1_URI.fullmatch(text):
            return text  # what normalise_gs1_uri returns for it, without parsing it
        if text.partition(":")[0] in namespaces:
            text = _expand_value(text, namespaces)
        if text.startswith(("urn:epc:", "http")):
            return normalise_gs1_uri(text) or text
    if name in _VOCABULARY_FIELDS:
        text = _vocabulary(name, text)
    return _numeric(text) if text[:1] in _NUMBER_START else text


# --- GS1 identifiers -------------------------------------------------------------------------


def _check(digits: str) -> str:
    if digits.isascii() and digits.isdigit():
        # Sums of the character codes, less those of the zeros: the digit sums, summed in C.
        odd, even = digits[::-2].encode(), digits[-2::-2].encode()
        total = 3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)
    else:
        total = 3 * sum(map(int, digits[::-2])) + sum(map(int, digits[-2::-2]))
    return digits + str(-total % 10)


def _web_encode(text: str) -> str:
    if text.isalnum():
        return text  # none of the characters below is alphanumeric
    for char, code in (("!", "%21"), ("(", "%28"), (")", "%29"), ("*", "%2A"), ("+", "%2B")):
        text = text.replace(char, code)
    return text.replace(",", "%2C").replace(":", "%3A")


def _gtin(company: str, item: str) -> str:
    return _check(item[:1] + company + item[1:])


def _epc_urn(scheme: str, parts: list[str]) -> str | None:
    cp = parts[0]
    if scheme == "sgtin" and len(parts) == 3:
        return f"01/{_gtin(cp, parts[1])}/21/{_web_encode(parts[2])}"
    if scheme == "sscc" and len(parts) == 2:
        return f"00/{_gtin(cp, parts[1])}"
    if scheme == "sgln" and len(parts) == 3:
        gln = _check(cp + parts[1])
        return f"414/{gln}" if parts[2] == "0" else f"414/{gln}/254/{_web_encode(parts[2])}"
    if scheme == "grai" and len(parts) == 3:
        return f"8003/{_check('0' + cp + parts[1])}{_web_encode(parts[2])}"
    if scheme == "giai" and len(parts) == 2:
        return f"8004/{cp}{_web_encode(parts[1])}"
    if scheme in ("gsrn", "gsrnp") and len(parts) == 2:
        return f"{'8018' if scheme == 'gsrn' else '8017'}/{_check(cp + parts[1])}"
    if scheme in ("gdti", "sgcn") and len(parts) == 3:
        return (
            f"{'253' if scheme == 'gdti' else '255'}/{_check(cp + parts[1])}{_web_encode(parts[2])}"
        )
    if scheme == "cpi" and len(parts) == 3:
        return f"8010/{_web_encode(cp + parts[1])}/8011/{parts[2]}"
    if scheme == "ginc" and len(parts) == 2:
        return f"401/{cp}{_web_encode(parts[1])}"
    if scheme == "gsin" and len(parts) == 2:
        return f"402/{_check(cp + parts[1])}"
    if scheme == "itip" and len(parts) == 5:
        return f"8006/{_gtin(cp, parts[1])}{parts[2]}{parts[3]}/21/{_web_encode(parts[4])}"
    if scheme == "upui" and len(parts) == 3:
        return f"01/{_gtin(cp, parts[1])}/235/{_web_encode(parts[2])}"
    if scheme == "pgln" and len(parts) == 2:
        return f"417/{_check(cp + parts[1])}"
    return None


_EPC_URN = re.compile(r"urn:epc:(id|class|idpat):([a-z]+):(\d+)\.(.*)")
_SGTIN_URN = re.compile(r"urn:epc:id:sgtin:([0-9]+)\.([0-9]+)\.(.*)")
_DL_KEYS = {
    "gtin": "01",
    "sscc": "00",
    "gln": "414",
    "party": "417",
    "grai": "8003",
    "giai": "8004",
    "itip": "8006",
    "cpid": "8010",
    "gsrnp": "8017",
    "gsrn": "8018",
    "gdti": "253",
    "gcn": "255",
    "ginc": "401",
    "gsin": "402",
}
_DL_KEY_CODES = frozenset(_DL_KEYS.values())
_DL_KEY_SEGMENTS = _DL_KEY_CODES | _DL_KEYS.keys()
# Primary key -> its qualifiers, finest first; only the finest one present is kept.
_DL_QUALIFIERS = {
    "01": ("21", "235", "10"),
    "414": ("254",),
    "8006": ("21", "10"),
    "8010": ("8011",),
}
_DL_SHORT_QUALIFIERS = {"ser": "21", "lot": "10", "glnx": "254", "cpv": "22", "cpsn": "8011"}


def _epc_class(kind: str, scheme: str, cp: str, rest: str) -> str | None:
    parts = rest.split(".")
    if kind == "class" and scheme == "lgtin" and len(parts) == 2:
        return f"01/{_gtin(cp, parts[0])}/10/{_web_encode(parts[1])}"
    if kind == "idpat" and parts and parts[-1] == "*":
        keys = {"sgtin": "01", "grai": "8003", "gdti": "253", "sgcn": "255", "itip": "8006"}
        if scheme == "sgtin":
            return f"01/{_gtin(cp, parts[0])}"
        if scheme == "cpi" and len(parts) == 2:
            return f"8010/{_web_encode(cp + parts[0])}"
        if scheme == "itip" and len(parts) == 4:
            return f"8006/{_gtin(cp, parts[0])}{parts[1]}{parts[2]}"
        if scheme in keys and len(parts) >= 2:
            prefix = "0" if scheme == "grai" else ""
            return f"{keys[scheme]}/{_check(prefix + cp + parts[0])}"
    return None


def _digital_link(uri: str) -> str | None:
    path = uri.split("?", 1)[0].split("#", 1)[0]
    segments = path.split("/")[3:]
    if _DL_KEY_SEGMENTS.isdisjoint(segments):
        return None  # no GS1 key here (CBV vocabulary, most other URLs)
    for index, segment in enumerate(segments):
        key = _DL_KEYS.get(segment, segment)
        value = segments[index + 1] if index + 1 < len(segments) else ""
        if key in _DL_KEY_CODES and value[:1].isdigit():
            if key == "01":
                value = value.zfill(14)
            pairs = segments[index + 2 :]
            found = {
                _DL_SHORT_QUALIFIERS.get(pairs[i], pairs[i]): pairs[i + 1]
                for i in range(0, len(pairs) - 1, 2)
            }
            for qualifier in _DL_QUALIFIERS.get(key, ()):
                if qualifier in found:
                    return f"https://id.gs1.org/{key}/{value}/{qualifier}/{found[qualifier]}"
            return f"https://id.gs1.org/{key}/{value}"
    return None


def _split_epc(scheme: str, rest: str) -> list[str]:
    """Split what follows the company prefix of an EPC URI into its components."""
    if scheme == "cpi":
        return list(rest.rpartition(".")[::2])
    if scheme == "itip":
        return rest.split(".", 3)
    if scheme in ("sgtin", "sgln", "grai", "gdti", "sgcn", "upui"):
        return list(rest.partition(".")[::2])
    return [rest]


def normalise_gs1_uri(uri: str) -> str | None:
    """Return the constrained canonical Digital Link URI of a GS1 key URI, else None.

    Accepts EPC URIs, EPC class and pattern URIs and GS1 Digital Link URIs on any domain.
    """
    sgtin = _SGTIN_URN.fullmatch(uri)
    if sgtin:  # the commonest EPC URI: what the general path below makes of it, directly
        cp, item, serial = sgtin.groups()
        return f"https://id.gs1.org/01/{_gtin(cp, item)}/21/{_web_encode(serial)}"
    match = _EPC_URN.fullmatch(uri)
    if match:
        kind, scheme, cp, rest = match.groups()
        if kind == "id":
            tail = _epc_urn(scheme, [cp, *_split_epc(scheme, rest)])
        else:
            tail = _epc_class(kind, scheme, cp, rest)
        return f"https://id.gs1.org/{tail}" if tail else None
    if uri.startswith(("https://", "http://")):
        return _digital_link(uri)
    return None


# --- pre-hash string ---------------------------------------------------------------------------


def _render(
    node: _Node, order: _Ranks | None, namespaces: Mapping[str, str], strays: list[_Node]
) -> str:
    name, text, children = node
    value = _canonical_value(name, text, namespaces) if text else ""
    inner = ""
    if children:
        if order is None:
            inner = _generic_text(children, namespaces)
        elif name in _EPC_LISTS and (fast := _epc_list_text(children, namespaces)) is not None:
            inner = fast
        else:
            own_strays: list[_Node] = []
            inner = _ordered(children, order, namespaces, own_strays)
            if own_strays:
                strays.append((name, "", own_strays))
    if not value and not inner:
        return ""
    name = _DISPLAY_NAMES.get(name, name)
    return f"{name}={value}{inner}" if value else name + inner


# Internal node names that disambiguate the several meanings of "type".
_DISPLAY_NAMES = {
    "bizTransactionType": "type",
    "sourceOrDestinationType": "type",
    "sensorType": "type",
}

# GS1 Digital Link URIs that are already constrained and canonical (``normalise_gs1_uri``
# returns them unchanged): most EPCs of an event with many units are one of these.
_CANONICAL_GS1_URI = re.compile(
    r"https://id\.gs1\.org/(?:"
    r"01/[0-9]{14}(?:/(?:21|10|235)/[^/?#\s]+)?"
    r"|00/[0-9]{18}"
    r"|414/[0-9]{13}(?:/254/[^/?#\s]+)?"
    r"|417/[0-9]{13}"
    r")"
)


def _epc_list_text(children: Sequence[_Node], namespaces: Mapping[str, str]) -> str | None:
    """The sorted ``epc=…`` entries of an EPC list; None when it holds more than EPCs.

    Same result as the general path through ``_ordered``, but canonical Digital Link URIs
    are recognised by one regular expression instead of being parsed and rebuilt.
    """
    if any(name != "epc" or grandchildren for name, _, grandchildren in children):
        return None
    return _epc_values_text([text for _, text, _ in children], namespaces)


def _epc_values_text(texts: Iterable[str], namespaces: Mapping[str, str]) -> str:
    """The sorted ``epc=…`` entries of the EPCs of a list, given as their texts."""
    canonical = _CANONICAL_GS1_URI.fullmatch
    values = [
        text if canonical(text) else _canonical_value("epc", text, namespaces) if text else ""
        for text in texts
    ]
    rendered = ["epc=" + value for value in values if value]
    rendered.sort()
    return "".join(rendered)


def _ordered(
    children: Sequence[_Node],
    order: _Ranks,
    namespaces: Mapping[str, str],
    strays: list[_Node] | None,
) -> str:
    """Standard children in their order, then extension children sorted.

    A child that is neither standard here nor an extension (``{namespace}name``) goes to
    ``strays``, to be rendered after the event's own extensions under the names of the
    fields that hold it. At the top level (``strays`` is None) every other field is
    rendered after the standard ones, together with the strays found further down.
    """
    ranked: list[tuple[int, str]] = []
    rest: list[_Node] = []
    own_strays: list[_Node] = [] if strays is None else strays
    for child in children:
        name = child[0]
        spec = order.get("type" if name == "sensorType" else name)
        if spec is None:
            if strays is None or name.startswith("{"):
                rest.append(child)
            else:
                strays.append(child)
        else:
            rendered = _render(child, spec[1], namespaces, own_strays)
            if rendered:
                ranked.append((spec[0], rendered))
    ranked.sort()
    text = "".join([rendered for _, rendered in ranked])
    if strays is None:
        rest.extend(own_strays)
    return text + _generic_text(rest, namespaces) if rest else text


def _generic_text(children: Sequence[_Node], namespaces: Mapping[str, str]) -> str:
    rendered = []
    unused: list[_Node] = []
    for child in children:
        if child[0] in _PARTY_LISTS:
            entries = sorted(
                "".join(_render(c, None, namespaces, unused) for c in entry[2])
                for entry in child[2]
            )
            rendered.append(child[0] + "".join(entries))
        else:
            rendered.append(_render(child, None, namespaces, unused))
    return "".join(sorted(r for r in rendered if r))


_IGNORED_AT_TOP = _IGNORED | {"type"}
_LOCATIONS = frozenset({"readPoint", "bizLocation"})
# How ``compute_prehash`` renders a standard field: a plain string, a list of EPCs, a read
# point or business location holding only its id, or any other field as its node.
_PLAIN, _EPCS, _ID_ONLY, _NODE = range(4)
_NO_EPCS: list[str] = []
_NO_NODE: _Node = ("", "", [])


def _has_only_a_string_id(location: Mapping[str, Any]) -> bool:
    return len(location) == 1 and type(location.get("id")) is str


def compute_prehash(
    event: Mapping[str, Any], context: object = None, ignore_fields: Iterable[str] = ()
) -> str:
    """Return the canonical CBV 2.0 pre-hash string of one EPCIS 2.0 JSON-LD event.

    ``context`` is the ``@context`` of the document holding the event (the event's own
    ``@context`` when it has one), which declares the namespaces of extension fields.
    ``ignore_fields`` names further top-level fields to leave out, as a repository lists
    them in a document's ``ignoreFields`` (e.g. its own ``repository-x:hash``).
    """
    namespaces = _namespaces(event.get("@context", context))
    ignored = _IGNORED_AT_TOP | frozenset(ignore_fields) if ignore_fields else _IGNORED_AT_TOP
    # The same result as ``_ordered`` over the fields' nodes, with the common shapes (plain
    # strings, lists of EPCs, a read point or business location with only an id) rendered
    # without building nodes. Fields are first read, then rendered, both in event order.
    standard: list[tuple[int, str, int, str, list[str], _Node]] = []  # see _PLAIN, …
    rest: list[_Node] = []
    for key, value in event.items():
        if key in ignored or key.startswith("@"):
            continue
        spec = _EVENT_RANKS.get(key)
        if spec is None:
            if isinstance(value, str) and ":" not in key:
                rest.append((key, value, []))
            else:
                rest.extend(_typed(key, value, namespaces))
        elif isinstance(value, str):
            standard.append((spec[0], key, _PLAIN, value, _NO_EPCS, _NO_NODE))
        elif key in _EPC_LISTS and isinstance(value, list):
            epcs = [e if type(e) is str else _scalar(e) for e in value]
            standard.append((spec[0], key, _EPCS, "", epcs, _NO_NODE))
        elif key in _LOCATIONS and type(value) is dict and _has_only_a_string_id(value):
            standard.append((spec[0], key, _ID_ONLY, value["id"], _NO_EPCS, _NO_NODE))
        else:
            for node in _typed(key, value, namespaces):
                standard.append((spec[0], key, _NODE, "", _NO_EPCS, node))

    ranked: list[tuple[int, str]] = []
    strays: list[_Node] = []
    for rank, key, how, text, epcs, node in standard:
        if how == _PLAIN:
            value = _canonical_value(key, text, namespaces) if text else ""
            rendered = f"{key}={value}" if value else ""
        elif how == _EPCS:
            inner = _epc_values_text(epcs, namespaces)
            rendered = key + inner if inner else ""
        elif how == _ID_ONLY:
            value = _canonical_value("id", text, namespaces) if text else ""
            rendered = f"{key}id={value}" if value else ""
        else:
            rendered = _render(node, _EVENT_RANKS[key][1], namespaces, strays)
        if rendered:
            ranked.append((rank, rendered))
    ranked.sort()
    text = "".join([rendered for _, rendered in ranked])
    rest.extend(strays)
    if rest:
        text += _generic_text(rest, namespaces)
    return f"eventType={event.get('type', '')}" + text


def compute_prehash_of_fields(
    event_type: str,
    fields: Iterable[EventNode],
    namespaces: Mapping[str, str] = STANDARD_NAMESPACES,
) -> str:
    """Return the canonical pre-hash string of an event given as fields in the XML shape.

    Each field is ``(name, text, children)``: standard fields by their EPCIS XML names
    (``epcList`` holding ``epc`` fields, ``readPoint`` holding ``id``, …; a business
    transaction's, source's or destination's ``type`` as ``bizTransactionType`` or
    ``sourceOrDestinationType`` and a sensor report's as ``sensorType``), extensions as
    ``{namespace}local``. Ignored fields must already be left out. ``namespaces`` maps the
    prefixes that values may use (``gs1:Temperature``) to their namespaces.
    """
    return f"eventType={event_type}" + _ordered(list(fields), _EVENT_RANKS, namespaces, None)


def hash_prehash(prehash: str) -> str:
    """Return the ``ni:///sha-256;…?ver=CBV2.0`` hash of a pre-hash string."""
    return HASH_PREFIX + hashlib.sha256(prehash.encode("utf-8")).hexdigest() + HASH_SUFFIX


def event_hash(
    event: Mapping[str, Any], context: object = None, ignore_fields: Iterable[str] = ()
) -> str:
    """Return the canonical CBV 2.0 event hash (``ni:///sha-256;…?ver=CBV2.0``) of an event."""
    return hash_prehash(compute_prehash(event, context, ignore_fields))
