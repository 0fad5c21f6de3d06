"""EPCIS XML documents hash to the reference vectors, like their JSON-LD twins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unitrace.domain.event_hash import compute_prehash_of_fields, event_hash
from unitrace.domain.event_hash_xml import parse_epcis_xml, xml_event_hashes
from unitrace.errors import ValidationError

VECTORS = Path(__file__).parent.parent / "data" / "epcis-event-hash"
DOCUMENTS = sorted(VECTORS.glob("*.xml"))


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _cases() -> list[Any]:
    cases = []
    for path in DOCUMENTS:
        document = parse_epcis_xml(path.read_bytes())
        hashes = _lines(path.with_suffix(".hashes"))
        prehashes = _lines(path.with_suffix(".prehashes"))
        assert len(document.events) == len(hashes) == len(prehashes), path.name
        for index, (prehash, hash_) in enumerate(zip(prehashes, hashes, strict=True)):
            cases.append(pytest.param(path, index, prehash, hash_, id=f"{path.stem}-{index + 1}"))
    return cases


CASES = _cases()


def test_the_vector_folder_holds_every_xml_document_with_its_expected_output() -> None:
    assert len(DOCUMENTS) == 17
    assert len(CASES) == 46


@pytest.mark.parametrize(("path", "index", "prehash", "expected_hash"), CASES)
def test_every_reference_xml_event_gets_exactly_the_reference_hash_and_prehash(
    path: Path, index: int, prehash: str, expected_hash: str
) -> None:
    document = parse_epcis_xml(path.read_bytes())
    assert document.prehashes()[index] == prehash
    assert document.hashes()[index] == expected_hash


def _json_ld_hashes(path: Path) -> list[str]:
    document = json.loads(path.read_text(encoding="utf-8"))
    body = document["epcisBody"]
    events = body["queryResults"]["resultsBody"] if "queryResults" in body else body
    return [event_hash(event, document["@context"]) for event in events["eventList"]]


BOTH_BINDINGS = [path for path in DOCUMENTS if path.with_suffix(".jsonld").exists()]


@pytest.mark.parametrize("path", BOTH_BINDINGS, ids=lambda path: path.stem)
def test_a_document_hashes_alike_in_xml_and_in_json_ld(path: Path) -> None:
    assert xml_event_hashes(path.read_text(encoding="utf-8")) == _json_ld_hashes(
        path.with_suffix(".jsonld")
    )


def test_most_xml_documents_have_a_json_ld_twin() -> None:
    assert len(BOTH_BINDINGS) == 11


@given(st.data())
def test_the_order_of_an_events_xml_elements_does_not_change_its_prehash(data: Any) -> None:
    path = data.draw(st.sampled_from(DOCUMENTS), label="document")
    document = parse_epcis_xml(path.read_bytes())
    index = data.draw(st.integers(0, len(document.events) - 1), label="event")
    event = document.events[index]
    shuffled = data.draw(st.permutations(event.fields), label="fields")
    assert (
        compute_prehash_of_fields(event.event_type, shuffled, document.namespaces)
        == document.prehashes()[index]
    )


# --- EPCIS 1.2 and the 2.0 JSON-LD binding of the same events --------------------------------

EPCIS_1_2 = """<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" xmlns:ex="https://ns.example.com/epcis/"
    schemaVersion="1.2" creationDate="2026-11-24T12:00:00Z">
  <EPCISBody>
    <EventList>
      <ObjectEvent>
        <eventTime>2026-11-24T13:00:00.000+01:00</eventTime>
        <recordTime>2026-11-24T13:05:00Z</recordTime>
        <eventTimeZoneOffset>+01:00</eventTimeZoneOffset>
        <baseExtension>
          <eventID>urn:uuid:2f2b7e0e-4f4c-4a35-9d0b-0c3c0e8b1f00</eventID>
          <errorDeclaration><declarationTime>2026-11-25T00:00:00Z</declarationTime></errorDeclaration>
        </baseExtension>
        <epcList><epc>urn:epc:id:sgtin:4012345.011111.9876</epc></epcList>
        <action>ADD</action>
        <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
        <disposition>urn:epcglobal:cbv:disp:active</disposition>
        <readPoint><id>urn:epc:id:sgln:4012345.00005.0</id></readPoint>
        <bizTransactionList>
          <bizTransaction type="urn:epcglobal:cbv:btt:po"
            >urn:epcglobal:cbv:bt:4012345000009:PO1</bizTransaction>
        </bizTransactionList>
        <extension>
          <quantityList>
            <quantityElement>
              <epcClass>urn:epc:class:lgtin:4012345.011111.L1</epcClass>
              <quantity>2.50</quantity>
              <uom>KGM</uom>
            </quantityElement>
          </quantityList>
          <sourceList>
            <source type="urn:epcglobal:cbv:sdt:owning_party">urn:epc:id:pgln:4012345.00000</source>
          </sourceList>
          <ilmd><ex:bestBefore>2027-01-31</ex:bestBefore></ilmd>
        </extension>
        <ex:temperature unit="CEL">4</ex:temperature>
      </ObjectEvent>
      <extension>
        <TransformationEvent>
          <eventTime>2026-11-24T12:00:00Z</eventTime>
          <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
          <inputEPCList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></inputEPCList>
          <outputEPCList><epc>urn:epc:id:sgtin:4012345.011111.2</epc></outputEPCList>
          <bizStep>urn:epcglobal:cbv:bizstep:repairing</bizStep>
        </TransformationEvent>
      </extension>
    </EventList>
  </EPCISBody>
</epcis:EPCISDocument>
"""

JSON_LD_CONTEXT = [{"ex": "https://ns.example.com/epcis/"}]
JSON_LD_EVENTS: list[dict[str, Any]] = [
    {
        "type": "ObjectEvent",
        "eventTime": "2026-11-24T12:00:00Z",
        "eventTimeZoneOffset": "+01:00",
        "epcList": ["https://id.gs1.org/01/04012345111118/21/9876"],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "readPoint": {"id": "https://id.gs1.org/414/4012345000054"},
        "bizTransactionList": [
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:PO1"}
        ],
        "quantityList": [
            {
                "epcClass": "https://id.gs1.org/01/04012345111118/10/L1",
                "quantity": 2.5,
                "uom": "KGM",
            }
        ],
        "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/4012345000009"}],
        "ilmd": {"ex:bestBefore": "2027-01-31"},
        "ex:temperature": {"#text": "4", "unit": "CEL"},
    },
    {
        "type": "TransformationEvent",
        "eventTime": "2026-11-24T12:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "inputEPCList": ["urn:epc:id:sgtin:4012345.011111.1"],
        "outputEPCList": ["urn:epc:id:sgtin:4012345.011111.2"],
        "bizStep": "repairing",
    },
]


def test_an_epcis_1_2_document_hashes_like_the_same_events_in_json_ld() -> None:
    expected = [event_hash(event, JSON_LD_CONTEXT) for event in JSON_LD_EVENTS]
    assert xml_event_hashes(EPCIS_1_2) == expected


def test_extension_wrappers_are_dissolved_and_record_keeping_fields_left_out() -> None:
    document = parse_epcis_xml(EPCIS_1_2)
    assert [event.event_type for event in document.events] == [
        "ObjectEvent",
        "TransformationEvent",
    ]
    names = {field[0] for field in document.events[0].fields}
    assert {"quantityList", "sourceList", "ilmd", "{https://ns.example.com/epcis/}temperature"} <= (
        names
    )
    assert not names & {"extension", "baseExtension", "eventID", "recordTime", "errorDeclaration"}
    assert "errorDeclaration" not in document.prehashes()[0]


def test_a_different_value_in_the_xml_changes_the_hash() -> None:
    changed = EPCIS_1_2.replace("<uom>KGM</uom>", "<uom>GRM</uom>")
    assert xml_event_hashes(changed)[0] != xml_event_hashes(EPCIS_1_2)[0]
    assert xml_event_hashes(changed)[1] == xml_event_hashes(EPCIS_1_2)[1]


def test_fields_a_document_lists_in_ignore_fields_are_left_out_of_its_hashes() -> None:
    listed = EPCIS_1_2.replace(
        "<EPCISBody>",
        "<ex:ignoreFields><ex:temperature/></ex:ignoreFields><EPCISBody>",
    )
    without = EPCIS_1_2.replace('<ex:temperature unit="CEL">4</ex:temperature>', "")
    assert xml_event_hashes(listed) == xml_event_hashes(without) != xml_event_hashes(EPCIS_1_2)


def test_text_and_bytes_in_any_declared_encoding_hash_alike() -> None:
    text = EPCIS_1_2.replace(">4</ex:temperature>", ">vier °C</ex:temperature>")
    latin1 = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    expected = xml_event_hashes(text)
    assert xml_event_hashes(text.encode("utf-8")) == expected
    assert xml_event_hashes(latin1.encode("iso-8859-1")) == expected
    assert xml_event_hashes(latin1) == expected
    assert "vier °C" in parse_epcis_xml(latin1.encode("iso-8859-1")).prehashes()[0]


# --- hostile or broken input ------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<EPCISDocument><EPCISBody><EventList><ObjectEvent><action>&lol3;</action></ObjectEvent>
</EventList></EPCISBody></EPCISDocument>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<EPCISDocument><EPCISBody><EventList><ObjectEvent><action>&secret;</action></ObjectEvent>
</EventList></EPCISBody></EPCISDocument>"""


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (BILLION_LAUGHS, "document type declarations are not accepted"),
        (EXTERNAL_ENTITY, "document type declarations are not accepted"),
        ('<!DOCTYPE EPCISDocument SYSTEM "http://example.com/epcis.dtd"><a/>', "document type"),
        ("<EPCISDocument><EventList><ObjectEvent></EventList>", "not well-formed"),
        ("<EPCISDocument><EventList>&undefined;</EventList></EPCISDocument>", "not well-formed"),
        ("", "not well-formed"),
        ("<EPCISDocument><EPCISBody/></EPCISDocument>", "no EventList"),
        ("<a>" * 100 + "</a>" * 100, "nested deeper"),
    ],
)
def test_hostile_or_broken_xml_is_refused_as_a_validation_error(
    document: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_epcis_xml(document)


def test_an_event_list_without_events_has_no_hashes() -> None:
    assert xml_event_hashes("<EPCISDocument><EventList/></EPCISDocument>") == []
