"""GS1 keys and GS1 Digital Link: GTIN check digits, AI 10/21/17 values, build and parse."""

from __future__ import annotations

import dataclasses
import datetime
import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unitrace.domain.codes import InvalidCodeError, check_character, generate_code
from unitrace.domain.gs1 import (
    CSET82,
    DigitalLink,
    Gs1Error,
    InvalidAiValueError,
    InvalidDigitalLinkError,
    InvalidGtinError,
    build_digital_link,
    format_gs1_date,
    gtin_check_digit,
    is_cset82,
    normalize_gtin,
    parse_digital_link,
    parse_gs1_date,
    short_link,
    validate_lot,
    validate_serial,
)

TODAY = datetime.date(2025, 6, 15)
GTIN = "09506000134352"


def exact(message: str) -> str:
    """Return a pytest.raises pattern matching exactly ``message``."""
    return f"^{re.escape(message)}$"


@st.composite
def gtins(draw: st.DrawFn) -> str:
    """A valid GTIN-8, -12, -13 or -14 with its computed check digit."""
    length = draw(st.sampled_from([8, 12, 13, 14]))
    body = draw(st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1))
    return body + gtin_check_digit(body)


cset82_values = st.text(alphabet=CSET82, min_size=1, max_size=20)
# The full span a two-digit year can express around TODAY (2025): 1976 to 2075.
expiry_dates = st.dates(min_value=datetime.date(1976, 1, 1), max_value=datetime.date(2075, 12, 31))
base_urls = st.sampled_from(
    [
        "https://id.example.com",
        "https://id.example.com/",
        "http://localhost:8000",
        "https://example.org/dl",
        "https://example.org/a/b/",
        "",
    ]
)


# --- GTIN ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("0950600013435", "2"),
        ("400638133393", "1"),
        ("03600029145", "2"),
        ("9638507", "4"),
        ("0000000000000", "0"),
    ],
)
def test_gtin_check_digit_follows_gs1_mod_10(digits: str, check: str) -> None:
    assert gtin_check_digit(digits) == check


@pytest.mark.parametrize(
    ("text", "gtin14"),
    [
        ("09506000134352", "09506000134352"),  # GTIN-14
        ("4006381333931", "04006381333931"),  # GTIN-13
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("96385074", "00000096385074"),  # GTIN-8
        ("  4006381333931\n", "04006381333931"),
    ],
)
def test_known_gtins_normalize_to_14_digits(text: str, gtin14: str) -> None:
    assert normalize_gtin(text) == gtin14


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09506000134353", "GTIN '09506000134353' has check digit 3; expected 2"),
        ("4006381333932", "GTIN '4006381333932' has check digit 2; expected 1"),
        ("036000291453", "GTIN '036000291453' has check digit 3; expected 2"),
        ("96385075", "GTIN '96385075' has check digit 5; expected 4"),
    ],
)
def test_a_gtin_with_a_wrong_check_digit_is_rejected(text: str, message: str) -> None:
    with pytest.raises(InvalidGtinError, match=exact(message)):
        normalize_gtin(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12345678901", "GTIN '12345678901' has 11 digits; a GTIN has 8, 12, 13 or 14"),
        ("1234567", "GTIN '1234567' has 7 digits; a GTIN has 8, 12, 13 or 14"),
        ("123456789012345", "GTIN '123456789012345' has 15 digits; a GTIN has 8, 12, 13 or 14"),
    ],
)
def test_a_gtin_of_the_wrong_length_is_rejected(text: str, message: str) -> None:
    with pytest.raises(InvalidGtinError, match=exact(message)):
        normalize_gtin(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0950600013435X", "GTIN '0950600013435X' must contain digits only"),
        ("0950-6000-1343", "GTIN '0950-6000-1343' must contain digits only"),
        ("٠٩٥٠٦٠٠٠١٣٤٣٥٢", "GTIN '٠٩٥٠٦٠٠٠١٣٤٣٥٢' must contain digits only"),
        ("", "GTIN is empty; a GTIN has 8, 12, 13 or 14 digits"),
        ("   ", "GTIN is empty; a GTIN has 8, 12, 13 or 14 digits"),
    ],
)
def test_a_gtin_that_is_not_ascii_digits_is_rejected(text: str, message: str) -> None:
    with pytest.raises(InvalidGtinError, match=exact(message)):
        normalize_gtin(text)


def test_gtin_check_digit_rejects_non_digits() -> None:
    with pytest.raises(InvalidGtinError, match=exact("GTIN '12a' must contain digits only")):
        gtin_check_digit("12a")


def test_gs1_errors_are_value_errors() -> None:
    for error in (InvalidGtinError, InvalidAiValueError, InvalidDigitalLinkError):
        assert issubclass(error, Gs1Error)
        assert issubclass(error, ValueError)


@given(gtins())
def test_a_gtin_with_its_computed_check_digit_is_valid(gtin: str) -> None:
    normalized = normalize_gtin(gtin)
    assert len(normalized) == 14
    assert normalized.lstrip("0") == gtin.lstrip("0")


@given(gtins(), st.data())
def test_every_single_digit_error_in_a_gtin_is_detected(gtin: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(gtin) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != gtin[position]]))
    with pytest.raises(InvalidGtinError, match="has check digit"):
        normalize_gtin(gtin[:position] + wrong + gtin[position + 1 :])


# --- AI 10 and AI 21 values ---------------------------------------------------------------------


def test_cset82_has_the_82_characters_of_the_gs1_table() -> None:
    assert len(CSET82) == len(set(CSET82)) == 82
    assert set(CSET82) == set("!\"%&'()*+,-./:;<=>?_") | set(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    )
    for absent in "# $@[]^`{|}~\\":
        assert absent not in CSET82
    assert is_cset82("Lot-7/B")
    assert not is_cset82("Lot #7")


@given(cset82_values)
def test_any_1_to_20_cset82_characters_are_a_valid_lot_and_serial(value: str) -> None:
    assert validate_lot(value) == value
    assert validate_serial(value) == value


@given(st.integers(min_value=0, max_value=2**65 - 1))
def test_every_unitrace_code_is_a_valid_ai_21_serial(bits: int) -> None:
    code = generate_code(randbits=lambda _: bits)
    assert validate_serial(code) == code


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "serial is empty; AI 21 (serial) needs 1 to 20 characters"),
        ("A" * 21, f"serial '{'A' * 21}' has 21 characters; AI 21 (serial) allows at most 20"),
        (
            "AB#1",
            "serial 'AB#1' has '#' at position 3, "
            "which is not in GS1 character set 82 that AI 21 (serial) uses",
        ),
        (
            "AB 1",
            "serial 'AB 1' has ' ' at position 3, "
            "which is not in GS1 character set 82 that AI 21 (serial) uses",
        ),
        (
            "é",
            "serial 'é' has 'é' at position 1, "
            "which is not in GS1 character set 82 that AI 21 (serial) uses",
        ),
    ],
)
def test_an_invalid_serial_is_rejected(value: str, message: str) -> None:
    with pytest.raises(InvalidAiValueError, match=exact(message)):
        validate_serial(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "lot is empty; AI 10 (lot) needs 1 to 20 characters"),
        ("L" * 25, f"lot '{'L' * 25}' has 25 characters; AI 10 (lot) allows at most 20"),
        (
            "L~1",
            "lot 'L~1' has '~' at position 2, "
            "which is not in GS1 character set 82 that AI 10 (lot) uses",
        ),
    ],
)
def test_an_invalid_lot_is_rejected(value: str, message: str) -> None:
    with pytest.raises(InvalidAiValueError, match=exact(message)):
        validate_lot(value)


# --- AI 17 dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yymmdd", "today", "expected"),
    [
        ("270331", TODAY, datetime.date(2027, 3, 31)),
        # Window for 2025: 1976 to 2075.
        ("751231", TODAY, datetime.date(2075, 12, 31)),
        ("760101", TODAY, datetime.date(1976, 1, 1)),
        ("000101", TODAY, datetime.date(2000, 1, 1)),
        # Window for 2080: 2031 to 2130, so 30 lands in the next century.
        ("300101", datetime.date(2080, 1, 1), datetime.date(2130, 1, 1)),
        ("310101", datetime.date(2080, 1, 1), datetime.date(2031, 1, 1)),
        # Window for 1999: 1950 to 2049.
        ("490101", datetime.date(1999, 12, 31), datetime.date(2049, 1, 1)),
        ("500101", datetime.date(1999, 12, 31), datetime.date(1950, 1, 1)),
        # Day 00 is the last day of the month, leap years included.
        ("280200", TODAY, datetime.date(2028, 2, 29)),
        ("250200", TODAY, datetime.date(2025, 2, 28)),
        ("261200", TODAY, datetime.date(2026, 12, 31)),
    ],
)
def test_gs1_dates_follow_the_century_rule_and_day_zero(
    yymmdd: str, today: datetime.date, expected: datetime.date
) -> None:
    assert parse_gs1_date(yymmdd, today=today) == expected


def test_gs1_dates_default_to_the_current_year() -> None:
    assert abs(parse_gs1_date("000101").year - datetime.datetime.now(datetime.UTC).year) <= 50


@pytest.mark.parametrize(
    ("yymmdd", "message"),
    [
        ("2701", "AI 17 (expiry) '2701' must be 6 digits, YYMMDD"),
        ("27013a", "AI 17 (expiry) '27013a' must be 6 digits, YYMMDD"),
        ("", "AI 17 (expiry) '' must be 6 digits, YYMMDD"),
        ("270001", "AI 17 (expiry) '270001' has month 00; months run from 01 to 12"),
        ("271301", "AI 17 (expiry) '271301' has month 13; months run from 01 to 12"),
        ("270230", "AI 17 (expiry) '270230' has day 30, but 2027-02 has 28 days"),
        ("270431", "AI 17 (expiry) '270431' has day 31, but 2027-04 has 30 days"),
    ],
)
def test_an_invalid_gs1_date_is_rejected(yymmdd: str, message: str) -> None:
    with pytest.raises(InvalidAiValueError, match=exact(message)):
        parse_gs1_date(yymmdd, today=TODAY)


@given(expiry_dates)
def test_gs1_dates_round_trip_within_the_window(value: datetime.date) -> None:
    assert parse_gs1_date(format_gs1_date(value, today=TODAY), today=TODAY) == value


@pytest.mark.parametrize("value", [datetime.date(1975, 12, 31), datetime.date(2076, 1, 1)])
def test_a_date_outside_the_two_digit_year_window_cannot_be_formatted(
    value: datetime.date,
) -> None:
    message = (
        f"expiry {value.isoformat()} is outside 1976–2075, the years a GS1 YYMMDD date can express"
    )
    with pytest.raises(InvalidAiValueError, match=exact(message)):
        format_gs1_date(value, today=TODAY)


# --- building links ---------------------------------------------------------------------------


def test_a_link_has_the_gtin_lot_serial_and_expiry_in_gs1_order() -> None:
    link = build_digital_link(
        "https://id.example.com",
        "9506000134352",
        lot="ABC123",
        serial="0A1B2C",
        expiry=datetime.date(2027, 3, 31),
        today=TODAY,
    )
    assert link == "https://id.example.com/01/09506000134352/10/ABC123/21/0A1B2C?17=270331"


def test_a_link_may_have_only_a_gtin_or_skip_the_lot() -> None:
    assert build_digital_link("https://x.io", GTIN) == "https://x.io/01/09506000134352"
    assert (
        build_digital_link("https://x.io", GTIN, serial="S1")
        == "https://x.io/01/09506000134352/21/S1"
    )
    assert build_digital_link("", "96385074") == "/01/00000096385074"


@pytest.mark.parametrize("base", ["https://x.io/", "https://x.io//", " https://x.io/ "])
def test_a_trailing_slash_on_the_base_is_not_doubled(base: str) -> None:
    assert build_digital_link(base, GTIN) == "https://x.io/01/09506000134352"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("A/B", "A%2FB"),
        ("50%", "50%25"),
        ("Q?", "Q%3F"),
        ("a&b=c", "a%26b%3Dc"),
        ("x+y", "x%2By"),
        ("\"'()*,:;<>!", "%22%27%28%29%2A%2C%3A%3B%3C%3E%21"),
        # The unreserved characters stay as they are.
        ("Az09-._", "Az09-._"),
    ],
)
def test_lot_and_serial_are_percent_encoded_outside_the_unreserved_set(
    value: str, encoded: str
) -> None:
    link = build_digital_link("https://x.io", GTIN, lot=value, serial=value)
    assert link == f"https://x.io/01/{GTIN}/10/{encoded}/21/{encoded}"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"gtin": "09506000134353"}, InvalidGtinError, "expected 2"),
        ({"gtin": GTIN, "lot": "L#1"}, InvalidAiValueError, "lot 'L#1' has '#' at position 2"),
        ({"gtin": GTIN, "serial": ""}, InvalidAiValueError, "serial is empty"),
        (
            {"gtin": GTIN, "serial": "S" * 21},
            InvalidAiValueError,
            "has 21 characters; AI 21 (serial) allows at most 20",
        ),
        (
            {"gtin": GTIN, "expiry": datetime.date(2099, 1, 1)},
            InvalidAiValueError,
            "expiry 2099-01-01 is outside 1976–2075",
        ),
    ],
)
def test_building_a_link_checks_every_value(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        build_digital_link("https://x.io", today=TODAY, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base", "message"),
    [
        (
            "https://x.io/?a=1",
            "base URL 'https://x.io/?a=1' must not contain a query, fragment or spaces",
        ),
        (
            "https://x.io/#top",
            "base URL 'https://x.io/#top' must not contain a query, fragment or spaces",
        ),
        (
            "https://x.io/2025/01",
            "base URL 'https://x.io/2025/01' has a path segment '01', "
            "which would be read as the GTIN",
        ),
    ],
)
def test_a_base_url_that_would_not_parse_back_is_rejected(base: str, message: str) -> None:
    with pytest.raises(InvalidDigitalLinkError, match=exact(message)):
        build_digital_link(base, GTIN)


# --- parsing links ------------------------------------------------------------------------------


@given(
    base_urls,
    gtins(),
    st.none() | cset82_values,
    st.none() | cset82_values,
    st.none() | expiry_dates,
)
def test_a_built_link_parses_back_to_its_parts(
    base: str,
    gtin: str,
    lot: str | None,
    serial: str | None,
    expiry: datetime.date | None,
) -> None:
    link = build_digital_link(base, gtin, lot=lot, serial=serial, expiry=expiry, today=TODAY)
    assert parse_digital_link(link, today=TODAY) == DigitalLink(
        gtin=normalize_gtin(gtin),
        lot=lot,
        serial=serial,
        expiry=expiry,
        base_url=base.rstrip("/"),
    )


@given(cset82_values)
def test_a_built_link_has_only_unreserved_or_percent_encoded_characters_in_its_path(
    value: str,
) -> None:
    path = urlsplit(build_digital_link("https://x.io", GTIN, serial=value)).path
    assert re.fullmatch(r"(/|[A-Za-z0-9._~-]|%[0-9A-F]{2})+", path)
    assert path.count("/") == 4  # /01/{gtin}/21/{serial}: no slash leaks from the value


@pytest.mark.parametrize(
    ("text", "base_url"),
    [
        ("https://id.example.com/01/09506000134352/21/S1", "https://id.example.com"),
        ("HTTPS://ID.EXAMPLE.COM/01/09506000134352/21/S1", "https://id.example.com"),
        ("HtTp://Id.Example.Com:8080/01/09506000134352/21/S1", "http://id.example.com:8080"),
        ("id.example.com/01/09506000134352/21/S1", "https://id.example.com"),
        ("//id.example.com/01/09506000134352/21/S1", "https://id.example.com"),
        ("/01/09506000134352/21/S1", ""),
        ("01/09506000134352/21/S1", ""),
        ("  https://id.example.com/01/09506000134352/21/S1\n", "https://id.example.com"),
        ("https://id.example.com/01/09506000134352/21/S1/", "https://id.example.com"),
        ("https://id.example.com/01/09506000134352/21/S1#frag", "https://id.example.com"),
        ("https://id.example.com/dl/v1/01/09506000134352/21/S1", "https://id.example.com/dl/v1"),
        ("/dl/01/09506000134352/21/S1", "/dl"),
    ],
)
def test_links_parse_from_urls_in_any_case_without_scheme_or_as_paths(
    text: str, base_url: str
) -> None:
    assert parse_digital_link(text, today=TODAY) == DigitalLink(
        gtin=GTIN, lot=None, serial="S1", expiry=None, base_url=base_url
    )


@pytest.mark.parametrize(
    ("gtin", "gtin14"),
    [("4006381333931", "04006381333931"), ("036000291452", "00036000291452")],
)
def test_short_gtins_in_a_link_are_normalized_to_14_digits(gtin: str, gtin14: str) -> None:
    assert parse_digital_link(f"https://x.io/01/{gtin}", today=TODAY).gtin == gtin14
    assert parse_digital_link("/01/96385074", today=TODAY).gtin == "00000096385074"


def test_lot_and_serial_are_percent_decoded_and_keep_their_case() -> None:
    link = parse_digital_link("/01/09506000134352/10/a%2fB%25/21/x%2By+z", today=TODAY)
    assert link.lot == "a/B%"
    assert link.serial == "x+y+z"  # '+' in a path is a plus sign, not a space


def test_the_expiry_comes_from_ai_17_in_the_query_and_other_parameters_are_ignored() -> None:
    link = parse_digital_link(
        "https://x.io/01/09506000134352/10/L1?linkType=gs1:pip&17=270200&3103=000195",
        today=TODAY,
    )
    assert link.expiry == datetime.date(2027, 2, 28)
    assert link.lot == "L1"


def test_a_parsed_link_is_immutable() -> None:
    link = parse_digital_link("/01/09506000134352", today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        link.gtin = "00000096385074"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no link given: the text is empty"),
        ("   ", "no link given: the text is empty"),
        (
            "https://x.io/00/106141411234567897",
            "'https://x.io/00/106141411234567897' has no /01/ segment; "
            "a unitrace Digital Link path looks like /01/{gtin}[/10/{lot}][/21/{serial}]",
        ),
        (
            "https://x.io",
            "'https://x.io' has no /01/ segment; "
            "a unitrace Digital Link path looks like /01/{gtin}[/10/{lot}][/21/{serial}]",
        ),
        (
            "ftp://x.io/01/09506000134352",
            "scheme 'ftp' is not http or https; a GS1 Digital Link is a web address",
        ),
        ("https:///01/09506000134352", "'https:///01/09506000134352' has no host name"),
        (
            "/01/09506000134352/21/S1/10/L1",
            "AI 21 (serial) appears before AI 10 (lot); GS1 Digital Link requires /10/ before /21/",
        ),
        (
            "/01/09506000134352/10/L1/10/L2",
            "AI 10 (lot) appears twice; each AI may appear only once",
        ),
        (
            "/01/09506000134352/21/S1/21/S2",
            "AI 21 (serial) appears twice; each AI may appear only once",
        ),
        (
            "/01/09506000134352/01/09506000134352",
            "AI 01 (GTIN) appears twice; each AI may appear only once",
        ),
        (
            "/01/09506000134352/22/V1/10/L1",
            "AI 22 (consumer product variant) is not allowed after the GTIN; "
            "only /10/ (lot) and then /21/ (serial) may follow /01/{gtin}",
        ),
        (
            "/01/09506000134352/17/270101",
            "AI 17 (expiry) is not allowed after the GTIN; "
            "only /10/ (lot) and then /21/ (serial) may follow /01/{gtin}",
        ),
        (
            "/01/09506000134352/235/X",
            "AI 235 is not allowed after the GTIN; "
            "only /10/ (lot) and then /21/ (serial) may follow /01/{gtin}",
        ),
        (
            "/01/09506000134352/lot/L1",
            "path segment 'lot' is not allowed after the GTIN; "
            "only /10/ (lot) and then /21/ (serial) may follow /01/{gtin}",
        ),
        ("/01/09506000134352/21", "AI 21 (serial) has no value after /21/"),
        ("/01", "AI 01 (GTIN) has no value after /01/"),
        ("/01//21/S1", "AI 01 (GTIN) has an empty value"),
        (
            "/01/09506000134352//21/S1",
            "'/01/09506000134352//21/S1' has an empty path segment (a doubled '/')",
        ),
        (
            "/01/09506000134352/10/L%2",
            "AI 10 (lot) value 'L%2' has a '%' that does not start an escape such as %2F",
        ),
        (
            "/01/09506000134352/10/L%C3%A9",
            "AI 10 (lot) value 'L%C3%A9' decodes to characters outside GS1 character set 82",
        ),
        (
            "/01/09506000134352/21/S%231",
            "serial 'S#1' has '#' at position 2, "
            "which is not in GS1 character set 82 that AI 21 (serial) uses",
        ),
        (
            "/01/09506000134352/10/" + "L" * 21,
            f"lot '{'L' * 21}' has 21 characters; AI 10 (lot) allows at most 20",
        ),
        ("/01/09506000134353", "GTIN '09506000134353' has check digit 3; expected 2"),
        ("/01/1234567", "GTIN '1234567' has 7 digits; a GTIN has 8, 12, 13 or 14"),
        ("/01/ABCDEFGH", "GTIN 'ABCDEFGH' must contain digits only"),
        (
            "/01/09506000134352?21=S1",
            "AI 21 (serial) must be in the path as /21/…, not in the query string",
        ),
        (
            "/01/09506000134352?10=L1",
            "AI 10 (lot) must be in the path as /10/…, not in the query string",
        ),
        (
            "/01/09506000134352?17=270101&17=280101",
            "AI 17 (expiry) appears twice in the query string",
        ),
        (
            "/01/09506000134352?17=271301",
            "AI 17 (expiry) '271301' has month 13; months run from 01 to 12",
        ),
        ("/01/09506000134352?17=", "AI 17 (expiry) '' must be 6 digits, YYMMDD"),
    ],
)
def test_an_invalid_link_is_rejected_with_a_specific_message(text: str, message: str) -> None:
    with pytest.raises(InvalidDigitalLinkError, match=exact(message)):
        parse_digital_link(text, today=TODAY)


# --- short links --------------------------------------------------------------------------------


def test_a_short_link_is_the_base_and_the_canonical_code() -> None:
    data = "0123456789ABC"
    code = data + check_character(data)
    assert short_link("https://x.io", code) == f"https://x.io/{code}"
    assert short_link("https://x.io/", "0123-4567-89ab-" + code[-2:].lower()) == (
        f"https://x.io/{code}"
    )


def test_a_short_link_refuses_an_invalid_code() -> None:
    with pytest.raises(InvalidCodeError):
        short_link("https://x.io", "0123-4567-89AB-CX")
