"""The pure rules of public verification: verdict precedence, link types, linksets, and the
anonymous description of who scanned."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unitrace.domain.verification import (
    ALERT_FOR_DISPOSITION,
    EXPLANATIONS,
    HEADLINES,
    LinkType,
    UnitFacts,
    Verdict,
    agent_family,
    decide,
    linkset,
    market_of_region,
    origin_token,
    parse_link_type,
    truncate_address,
)

TODAY = dt.date(2026, 12, 6)
DISPOSITIONS = (
    "active",
    "in_transit",
    "sellable_accessible",
    "retail_sold",
    "returned",
    "recalled",
    "destroyed",
    "inactive",
    "stolen",
    "damaged",
    "expired",
    "unknown",
)


def facts(
    disposition: str = "active",
    *,
    expires_on: dt.date | None = None,
    under_recall: bool = False,
    alert: str | None = None,
) -> UnitFacts:
    return UnitFacts(disposition, expires_on, under_recall, alert)


@pytest.mark.parametrize(
    ("disposition", "verdict", "reason"),
    [
        ("active", Verdict.AUTHENTIC, "active"),
        ("in_transit", Verdict.AUTHENTIC, "in_transit"),
        ("sellable_accessible", Verdict.AUTHENTIC, "sellable_accessible"),
        ("returned", Verdict.AUTHENTIC, "returned"),
        ("damaged", Verdict.AUTHENTIC, "damaged"),
        ("retail_sold", Verdict.AUTHENTIC_ALREADY_SOLD, "retail_sold"),
        ("recalled", Verdict.RECALLED, "recalled"),
        ("destroyed", Verdict.DESTROYED, "destroyed"),
        ("inactive", Verdict.SUSPICIOUS, "decommissioned_code"),
        ("stolen", Verdict.SUSPICIOUS, "stolen_code"),
        ("unknown", Verdict.SUSPICIOUS, "lost_code"),  # marked lost: out there somehow
        ("expired", Verdict.EXPIRED, "expired"),
    ],
)
def test_each_disposition_has_its_verdict(disposition: str, verdict: Verdict, reason: str) -> None:
    decision = decide(facts(disposition), TODAY)
    assert (decision.verdict, decision.reason) == (verdict, reason)


def test_an_active_recall_wins_over_everything_even_a_sale() -> None:
    for disposition in DISPOSITIONS:
        decision = decide(facts(disposition, under_recall=True, alert="many_origins"), TODAY)
        assert decision.verdict is Verdict.RECALLED


def test_an_open_alert_makes_a_sold_unit_suspicious_but_not_a_destroyed_one() -> None:
    assert decide(facts("retail_sold", alert="many_origins"), TODAY).verdict is Verdict.SUSPICIOUS
    assert decide(facts("retail_sold", alert="many_origins"), TODAY).reason == "many_origins"
    assert decide(facts("destroyed", alert="many_origins"), TODAY).verdict is Verdict.DESTROYED


def test_the_expiry_date_counts_from_the_day_after() -> None:
    assert decide(facts(expires_on=TODAY), TODAY).verdict is Verdict.AUTHENTIC
    yesterday = TODAY - dt.timedelta(days=1)
    assert decide(facts(expires_on=yesterday), TODAY).verdict is Verdict.EXPIRED
    # a suspicious code stays suspicious when it is also out of date
    assert decide(facts("stolen", expires_on=yesterday), TODAY).verdict is Verdict.SUSPICIOUS


@given(
    st.sampled_from(DISPOSITIONS),
    st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1))),
    st.booleans(),
    st.one_of(st.none(), st.sampled_from(["many_origins", "foreign_market"])),
)
def test_a_known_unit_never_answers_unknown_and_safety_comes_first(
    disposition: str, expires_on: dt.date | None, under_recall: bool, alert: str | None
) -> None:
    decision = decide(
        facts(disposition, expires_on=expires_on, under_recall=under_recall, alert=alert), TODAY
    )
    assert decision.verdict is not Verdict.UNKNOWN
    if under_recall:
        assert decision.verdict is Verdict.RECALLED
    if decision.verdict in (Verdict.AUTHENTIC, Verdict.AUTHENTIC_ALREADY_SOLD):
        assert not under_recall and alert is None
        assert disposition not in ALERT_FOR_DISPOSITION and disposition != "destroyed"
        assert expires_on is None or expires_on >= TODAY


def test_every_verdict_has_a_headline_and_an_explanation() -> None:
    assert set(HEADLINES) == set(Verdict) == set(EXPLANATIONS)
    assert all(text.strip() for text in [*HEADLINES.values(), *EXPLANATIONS.values()])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("gs1:pip", LinkType.PIP),
        ("GS1:CertificationInfo", LinkType.CERTIFICATION_INFO),
        ("https://gs1.org/voc/recallStatus", LinkType.RECALL_STATUS),
        ("gs1:epcis", LinkType.EPCIS),
        ("gs1:registerProduct", LinkType.REGISTER_PRODUCT),
        ("gs1:nutritionalInfo", None),  # not offered: the default link answers
        ("all", None),
    ],
)
def test_link_types_are_read_case_insensitively_in_both_notations(
    text: str | None, expected: LinkType | None
) -> None:
    assert parse_link_type(text) is expected


def test_a_linkset_follows_rfc_9264_with_the_first_link_as_default() -> None:
    anchor = "https://id.example/01/09506000134352/10/L1/21/ABC"
    links = {
        LinkType.PIP: {"href": "https://id.example/ABC", "title": "Product", "type": "text/html"},
        LinkType.CERTIFICATION_INFO: {
            "href": "https://id.example/ABC/coa.pdf",
            "title": "COA",
            "type": "application/pdf",
        },
    }
    document = linkset(anchor, links)
    (entry,) = document["linkset"]  # type: ignore[misc]
    assert entry["anchor"] == anchor
    assert entry["https://gs1.org/voc/pip"][0]["href"] == "https://id.example/ABC"
    assert entry["https://gs1.org/voc/certificationInfo"][0]["type"] == "application/pdf"
    assert entry["https://gs1.org/voc/defaultLink"] == entry["https://gs1.org/voc/pip"]
    assert all(
        isinstance(targets, list) and all("href" in t for t in targets)
        for key, targets in entry.items()
        if key != "anchor"
    )


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Version/17.4 Safari/604.1",
            "Safari iOS",
        ),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4) CriOS/124.0 Mobile Safari/604.1", "Chrome iOS"),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/124.0 Mobile Safari/537.36",
            "Chrome Android",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) SamsungBrowser/24.0 Chrome/117.0",
            "Samsung Internet",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/124.0 Safari/537.36 Edg/124.0",
            "Edge",
        ),
        ("curl/8.5.0", "tool"),
        ("python-httpx/0.27", "tool"),
        ("", ""),
        ("SomethingElse/1.0", "other"),
    ],
)
def test_only_a_browser_family_is_kept_of_a_user_agent(agent: str, family: str) -> None:
    assert agent_family(agent) == family


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_becomes_its_slash_24(address: ipaddress.IPv4Address) -> None:
    network = ipaddress.ip_network(truncate_address(str(address)))
    assert network.prefixlen == 24
    assert address in network


@given(st.ip_addresses(v=6))
def test_an_ipv6_address_becomes_its_slash_48(address: ipaddress.IPv6Address) -> None:
    truncated = truncate_address(str(address))
    if address.ipv4_mapped is not None:
        assert truncated.endswith("/24")
        return
    network = ipaddress.ip_network(truncated)
    assert network.prefixlen == 48
    assert address in network


def test_an_unparsable_address_is_one_origin_not_an_error() -> None:
    assert truncate_address("testclient") == truncate_address("unknown") == "unparsable"


def test_origin_tokens_are_keyed_anonymous_and_per_network() -> None:
    key, other_key = b"k" * 32, b"o" * 32
    token = origin_token(key, "203.0.113.7")
    assert re.fullmatch(r"[0-9a-f]{16}", token)
    assert origin_token(key, "203.0.113.250") == token  # same /24
    assert origin_token(key, "203.0.114.7") != token  # another network
    assert origin_token(other_key, "203.0.113.7") != token  # another installation
    assert "203" not in token or not token.startswith("203.0.113")


@pytest.mark.parametrize(
    ("region", "market"), [("US-CA", "CA"), ("ca", "CA"), (" us-ny ", "NY"), ("", "")]
)
def test_regions_are_read_as_market_codes(region: str, market: str) -> None:
    assert market_of_region(region) == market
