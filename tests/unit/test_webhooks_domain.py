"""The webhook domain: signatures a receiver can check, backoff, URL and topic rules."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unitrace.domain.webhooks import (
    BACKOFF_CAP,
    WebhookTopic,
    backoff,
    clean_topics,
    clean_url,
    encode_json,
    signature,
    verify_signature,
)
from unitrace.errors import ValidationError

SECRET = "whsec_test"


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(b"whsec_test", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert signature(SECRET, '{"a":1}', 1700000000) == f"t=1700000000,v1={expected}"


@given(body=st.text(), secret=st.text(min_size=1), t=st.integers(0, 2**40))
def test_a_signature_verifies_with_its_secret_and_body_only(body: str, secret: str, t: int) -> None:
    header = signature(secret, body, t)
    assert verify_signature(secret, body.encode(), header, now=t)
    assert not verify_signature(secret + "x", body, header, now=t)
    assert not verify_signature(secret, body + " ", header, now=t)


def test_an_old_or_malformed_signature_is_refused() -> None:
    header = signature(SECRET, "{}", 1000)
    assert verify_signature(SECRET, "{}", header, now=1300)
    assert not verify_signature(SECRET, "{}", header, now=1301)
    assert not verify_signature(SECRET, "{}", "v1=abc", now=1000)
    assert not verify_signature(SECRET, "{}", "t=x,v1=abc", now=1000)


def test_any_v1_entry_may_match() -> None:
    good = signature(SECRET, "{}", 1000).split(",")[1]
    assert verify_signature(SECRET, "{}", f"t=1000,v1=deadbeef,{good}", now=1000)


def test_backoff_doubles_from_thirty_seconds_up_to_a_cap() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(10_000) == BACKOFF_CAP
    with pytest.raises(ValueError, match="at least one attempt"):
        backoff(0)


@given(st.integers(1, 500))
def test_backoff_never_shrinks(n: int) -> None:
    assert dt.timedelta(0) < backoff(n) <= backoff(n + 1) <= BACKOFF_CAP


def test_topics_are_deduplicated_sorted_and_checked() -> None:
    assert clean_topics(["sale.refused", " shipment.shipped", "sale.refused"]) == (
        "sale.refused",
        "shipment.shipped",
    )
    assert clean_topics(["*"]) == ("*",)
    assert {str(t) for t in WebhookTopic} >= {"shipment.voided", "recall.activated"}
    with pytest.raises(ValidationError, match="unknown webhook topic"):
        clean_topics(["shipment"])


@pytest.mark.parametrize(
    "url",
    [
        "http://a.example/h",
        "https://u:p@a.example/h",
        "https://u@a.example/h",
        "https://a.example/h#x",
        "https://a.example:99999/h",
        "https://" + "a" * 2000 + ".example/",
        "javascript:alert(1)",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        clean_url(url)


def test_http_is_allowed_only_when_asked() -> None:
    assert clean_url("http://127.0.0.1:8080/h", allow_http=True) == "http://127.0.0.1:8080/h"
    assert clean_url("https://a.example/h?x=1") == "https://a.example/h?x=1"
    with pytest.raises(ValidationError, match="https"):
        clean_url("ftp://a.example/h", allow_http=True)


def test_payloads_encode_dates_and_decimals() -> None:
    from decimal import Decimal

    when = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert encode_json({"b": Decimal("1.50"), "a": when}) == (
        '{"a":"2026-01-02T03:04:00+00:00","b":"1.50"}'
    )
    with pytest.raises(TypeError):
        encode_json({"x": object()})
