"""Scanner text to what was scanned: unit codes in every printed form, SSCCs, and clear refusals."""

from __future__ import annotations

import dataclasses
import pickle
import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unitrace.domain.codes import ALPHABET, format_code, generate_code
from unitrace.domain.gs1 import build_digital_link, gtin_check_digit
from unitrace.domain.scan import (
    SSCC_LENGTH,
    Scan,
    ScanError,
    ScanKind,
    parse_element_string,
    parse_scan,
    sscc_check_digit,
    validate_sscc,
)

CODE = generate_code(lambda bits: 0x1_2345_6789_ABCD_EF01)
GTIN = "09506000134352"
SSCC = "106141412345678908"  # GS1 General Specifications' example SSCC
GS = "\x1d"


def exact(message: str) -> str:
    """Return a pytest.raises pattern matching exactly ``message``."""
    return f"^{re.escape(message)}$"


def scan_error(text: str) -> ScanError:
    with pytest.raises(ScanError) as failure:
        parse_scan(text)
    return failure.value


def wrong_check(code: str) -> str:
    """``code`` with its check character replaced by another one."""
    other = ALPHABET[(ALPHABET.index(code[-1]) + 1) % len(ALPHABET)]
    return code[:-1] + other


# --- strategies --------------------------------------------------------------------------------

codes = st.integers(min_value=0, max_value=2**65 - 1).map(
    lambda bits: generate_code(lambda _: bits)
)


@st.composite
def gtins(draw: st.DrawFn) -> str:
    length = draw(st.sampled_from([8, 12, 13, 14]))
    body = draw(st.text(alphabet=string.digits, min_size=length - 1, max_size=length - 1))
    return body + gtin_check_digit(body)


@st.composite
def ssccs(draw: st.DrawFn) -> str:
    body = draw(st.text(alphabet=string.digits, min_size=17, max_size=17))
    return body + sscc_check_digit(body)


lots = st.text(alphabet=string.ascii_letters + string.digits + "-./", min_size=1, max_size=20)
schemes = st.sampled_from(["https://", "http://", "HTTPS://", "Http://", "//", ""])
hosts = st.sampled_from(["id.example.com", "localhost:8000", "example.org/u", "u.example"])
tails = st.sampled_from(["", "/", "?17=270331", "/?linkType=gs1:pip", "#top", "?17=xx&a=b"])
# ]e0 (GS1 DataBar) is left out: upper-cased it reads as ]E0, EAN-13, which carries a GTIN only.
gs1_prefixes = st.sampled_from(["", "]d2", "]Q3", "]C1", "]J1"])
blanks = st.text(alphabet=" \t\r\n", max_size=3)


@st.composite
def random_case(draw: st.DrawFn, text: str) -> str:
    uppers = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if up else c.lower() for c, up in zip(text, uppers, strict=True))


@st.composite
def code_forms(draw: st.DrawFn, code: str, gtin: str, lot: str) -> tuple[str, bool]:
    """``code`` in one printed or scanned form; True when that form carries GTIN and lot."""
    form = draw(st.integers(min_value=0, max_value=9))
    if form == 0:
        return code, False
    if form == 1:
        return format_code(code), False
    if form == 2:
        return f"{draw(schemes)}{draw(hosts)}/{code}{draw(tails)}", False
    if form == 3:
        link = build_digital_link(f"https://{draw(hosts)}", gtin, lot=lot, serial=code)
        return f"{draw(schemes)}{link.removeprefix('https://')}{draw(tails)}", True
    padded = gtin.zfill(14)
    if form == 4:
        return f"(01){padded}(10){lot}(21){code}", True
    if form == 5:
        return f"{draw(gs1_prefixes)}01{padded}10{lot}{GS}21{code}", True
    if form == 6:
        return f"{draw(gs1_prefixes)}01{padded}21{code}{GS}10{lot}", True
    if form == 7:  # the scanner dropped the GS after the lot
        return f"{draw(gs1_prefixes)}01{padded}10{lot}21{code}", True
    if form == 8:  # the scanner dropped the GS after the serial
        return f"{draw(gs1_prefixes)}01{padded}21{code}10{lot}", True
    return f"(01) {padded} (17) 270331 (10) {lot} (21) {code}", True


# --- properties --------------------------------------------------------------------------------


@given(st.data(), codes, gtins(), lots)
def test_any_code_in_any_form_case_and_padding_scans_as_that_code(
    data: st.DataObject, code: str, gtin: str, lot: str
) -> None:
    text, carries_gtin = data.draw(code_forms(code, gtin, lot))
    scanned_text = data.draw(blanks) + data.draw(random_case(text)) + data.draw(blanks)

    scan = parse_scan(scanned_text)

    assert scan.kind is ScanKind.CODE
    assert scan.value == code
    assert scan.raw == scanned_text.strip()
    if carries_gtin:
        assert scan.gtin == gtin.zfill(14)
        assert scan.lot is not None and scan.lot.upper() == lot.upper()
    else:
        assert (scan.gtin, scan.lot) == (None, None)


@given(st.data(), ssccs())
def test_any_sscc_in_any_form_scans_as_that_sscc(data: st.DataObject, sscc: str) -> None:
    form = data.draw(
        st.sampled_from(
            [
                sscc,
                f"00{sscc}",
                f"(00){sscc}",
                f"(00) {sscc[0]} {sscc[1:8]} {sscc[8:17]} {sscc[17]}",
                f"]C100{sscc}",
                f"]d200{sscc}{GS}",
                f"https://id.example.com/00/{sscc}",
                f"ID.EXAMPLE.COM/00/{sscc}/?linkType=all",
            ]
        )
    )
    scan = parse_scan(data.draw(blanks) + form + data.draw(blanks))
    assert (scan.kind, scan.value, scan.gtin, scan.lot) == (ScanKind.SSCC, sscc, None, None)


@given(ssccs(), st.integers(min_value=0, max_value=SSCC_LENGTH - 1), st.integers(1, 9))
def test_any_single_wrong_digit_in_an_sscc_is_caught(sscc: str, position: int, shift: int) -> None:
    digit = str((int(sscc[position]) + shift) % 10)
    mistyped = sscc[:position] + digit + sscc[position + 1 :]
    assert scan_error(f"(00){mistyped}").reason == "bad_sscc_check_digit"


scanner_alphabet = st.sampled_from(
    [*"0123456789()/]:?#%=&.-_ \t\r\n", GS, "␝", *"dQCeEJIhtpsAZaz01", "<GS>", "https://", "/01/"]
)
scanner_texts = st.one_of(
    st.text(),
    st.lists(scanner_alphabet, max_size=60).map("".join),
    st.builds(
        lambda prefix, rest: prefix + rest, st.sampled_from(["]d2", "]E0", "(01)"]), st.text()
    ),
)


@given(scanner_texts)
def test_arbitrary_text_scans_or_raises_only_a_scan_error(text: str) -> None:
    try:
        scan = parse_scan(text)
    except ScanError as error:
        failure = error
    else:
        assert scan.kind in (ScanKind.CODE, ScanKind.SSCC)
        return
    assert failure.reason
    assert failure.raw == text.strip()
    assert "Traceback" not in str(failure)


@given(st.text(alphabet=string.printable + "é€␝", min_size=60, max_size=400))
def test_an_error_message_quotes_at_most_forty_characters_of_the_input(text: str) -> None:
    try:
        parse_scan(text)
    except ScanError as error:
        raw = error.raw
        quoted = [error.message[i : i + 41] for i in range(max(0, len(error.message) - 40))]
        assert not any(window in raw for window in quoted)


# --- codes and short links ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        CODE,
        CODE.lower(),
        f"  {format_code(CODE)}\r\n",
        f"https://id.example.com/{CODE}",
        f"http://id.example.com/{CODE}/",
        f"ID.EXAMPLE.COM/{CODE}?src=label",
        f"https://example.org/u/{CODE.lower()}#x",
        f"/{CODE}",
    ],
)
def test_a_bare_code_or_short_link_scans_as_the_code(text: str) -> None:
    assert parse_scan(text) == Scan(ScanKind.CODE, CODE, text.strip())


def test_a_code_with_a_wrong_check_character_is_a_bad_check_character() -> None:
    error = scan_error(wrong_check(CODE))
    assert error.reason == "bad_check_character"
    assert error.message == (
        f"{wrong_check(CODE)!r} fails its check character: a character was misread or two "
        "were swapped; scan it again or type it carefully"
    )


def test_a_short_link_with_a_wrong_check_character_names_the_end_of_the_address() -> None:
    error = scan_error(f"https://id.example.com/{wrong_check(CODE)}")
    assert error.reason == "bad_check_character"
    assert error.message.startswith(f"the web address ends in {wrong_check(CODE)!r}, which fails")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "hello",
            "'hello' is not a unit code, unit link or SSCC "
            "(it has 5 characters; a unit code has 14)",
        ),
        (
            "ABC$",
            "'ABC$' is not a unit code, unit link or SSCC "
            "(character '$' at position 4 is not allowed in a unitrace code)",
        ),
        (
            "https://id.example.com/faq",
            "the web address ends in 'faq', which is not a unit code "
            "(it has 3 characters; a unit code has 14)",
        ),
        (
            "https://id.example.com/",
            "the web address 'https://id.example.com/' has no unit code in it",
        ),
    ],
)
def test_text_that_is_no_code_is_refused_as_not_a_code(text: str, message: str) -> None:
    error = scan_error(text)
    assert (error.reason, error.message) == ("not_a_code", message)


@pytest.mark.parametrize("text", ["", "   ", "\r\n", " \t\r\n "])
def test_nothing_scanned_is_empty(text: str) -> None:
    error = scan_error(text)
    assert (error.reason, error.message) == ("empty", "nothing was scanned: the text is empty")


def test_a_symbology_identifier_alone_is_empty() -> None:
    error = scan_error("]d2\r\n")
    assert error.reason == "empty"
    assert error.message == "only the symbology identifier ']d2' was scanned"


def test_only_separators_are_empty() -> None:
    assert scan_error("- - -").reason == "empty"


def test_a_long_input_is_cut_to_forty_characters_in_the_message() -> None:
    error = scan_error("x" * 500)
    assert "'" + "x" * 39 + "…'" in error.message
    assert "x" * 40 not in error.message
    assert error.raw == "x" * 500


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "ftp://id.example.com/X",
            "'ftp://id.example.com/X' is not a web address (its scheme is 'ftp'); "
            "unit links start with https://",
        ),
        ("https:///ABC", "'https:///ABC' has no host name"),
    ],
)
def test_a_link_that_is_no_web_address_is_a_bad_link(text: str, message: str) -> None:
    error = scan_error(text)
    assert (error.reason, error.message) == ("bad_link", message)


# --- GS1 Digital Link --------------------------------------------------------------------------


def test_a_digital_link_gives_code_gtin_and_lot() -> None:
    link = build_digital_link("https://id.example.com", GTIN, lot="LOT/7", serial=CODE)
    assert parse_scan(link + "?17=270331") == Scan(
        ScanKind.CODE, CODE, link + "?17=270331", gtin=GTIN, lot="LOT/7"
    )


def test_a_lower_cased_digital_link_without_scheme_still_scans() -> None:
    scan = parse_scan(f"id.example.com/01/{GTIN}/10/abc/21/{CODE.lower()}/?linkType=gs1:pip\r")
    assert (scan.value, scan.gtin, scan.lot) == (CODE, GTIN, "abc")


def test_a_digital_link_with_a_bad_expiry_in_the_query_still_scans() -> None:
    # The expiry does not identify the unit; a garbled query must not block a sale.
    assert parse_scan(f"https://x.example/01/{GTIN}/21/{CODE}?17=991399").value == CODE


def test_a_digital_link_without_serial_is_gtin_only() -> None:
    error = scan_error(f"https://id.example.com/01/{GTIN}/10/LOT1")
    assert error.reason == "gtin_only"
    assert error.message == (
        f"this GS1 Digital Link has no serial (/21/): GTIN {GTIN} names a product, not one "
        "unit; scan the unit's own code or its QR code"
    )


def test_a_digital_link_whose_serial_is_another_makers_is_a_serial_with_its_gtin() -> None:
    scan = parse_scan(f"https://brand.example/01/{GTIN}/10/L%2F1/21/Sn12%2F345")
    assert scan == Scan(
        ScanKind.SERIAL,
        "Sn12/345",
        f"https://brand.example/01/{GTIN}/10/L%2F1/21/Sn12%2F345",
        gtin=GTIN,
        lot="L/1",
    )


def test_a_code_read_from_a_link_keeps_the_serial_as_printed_for_a_brands_serial() -> None:
    scan = parse_scan(f"https://id.example.com/01/{GTIN}/21/{CODE.lower()}")
    assert (scan.kind, scan.value, scan.serial) == (ScanKind.CODE, CODE, CODE.lower())
    assert parse_scan(CODE).serial is None  # no GTIN: no brand's serial to try


def test_a_digital_link_serial_that_fails_a_codes_check_is_a_brands_serial() -> None:
    # 31 in 32 fourteen-character serials of a brand fail the check character: they are
    # the brand's own, and looked up by GTIN and serial, never refused at the scanner
    scan = parse_scan(f"https://id.example.com/01/{GTIN}/21/{wrong_check(CODE)}")
    assert (scan.kind, scan.value, scan.gtin) == (ScanKind.SERIAL, wrong_check(CODE), GTIN)


@pytest.mark.parametrize(
    "path",
    [
        f"/01/09506000134353/21/{CODE}",  # GTIN check digit
        f"/01/{GTIN}/22/V1/21/{CODE}",  # an AI unitrace links do not use
        f"/01/{GTIN}/21/{CODE}/10/LOT",  # lot after serial
        f"/01/{GTIN}/21",
    ],
)
def test_a_malformed_digital_link_is_a_bad_link(path: str) -> None:
    error = scan_error("https://id.example.com" + path)
    assert error.reason == "bad_link"
    assert error.message.startswith("this GS1 Digital Link cannot be read: ")


# --- SSCC --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "check"),
    [("10614141234567890", "8"), ("00614141123456789", "0"), ("12345678901234567", "5")],
)
def test_sscc_check_digit_follows_gs1_mod_10(digits: str, check: str) -> None:
    assert sscc_check_digit(digits) == check


@pytest.mark.parametrize(
    "text", ["1234567890123456", "123456789012345678", "1234567890123456a", ""]
)
def test_sscc_check_digit_needs_seventeen_digits(text: str) -> None:
    with pytest.raises(ScanError) as failure:
        sscc_check_digit(text)
    assert failure.value.reason == "bad_sscc"


def test_validate_sscc_returns_the_eighteen_digits() -> None:
    assert validate_sscc(f" {SSCC}\n") == SSCC


@pytest.mark.parametrize(
    ("text", "reason", "message"),
    [
        (
            "106141412345678909",
            "bad_sscc_check_digit",
            "SSCC 106141412345678909 has check digit 9, expected 8: "
            "a digit was misread or two were swapped",
        ),
        ("10614141234567890", "bad_sscc", "SSCC '10614141234567890' has 17 digits; an SSCC has 18"),
        (  # full-width digits are digits to str.isdigit, not to GS1
            "１０６１４１４１２３４５６７８９０８",
            "bad_sscc",
            "SSCC '１０６１４１４１２３４５６７８９０８' must contain digits only",
        ),
        ("10614141234567890X", "bad_sscc", "SSCC '10614141234567890X' must contain digits only"),
    ],
)
def test_validate_sscc_refuses_what_is_no_sscc(text: str, reason: str, message: str) -> None:
    with pytest.raises(ScanError, match=exact(message)) as failure:
        validate_sscc(text)
    assert failure.value.reason == reason


def test_eighteen_digits_starting_with_01_are_an_sscc_not_a_gtin() -> None:
    sscc = "01234567890123456" + sscc_check_digit("01234567890123456")
    assert parse_scan(sscc) == Scan(ScanKind.SSCC, sscc, sscc)


def test_an_sscc_link_with_more_after_the_sscc_is_a_bad_link() -> None:
    assert scan_error(f"https://id.example.com/00/{SSCC}/21/X").reason == "bad_link"


def test_an_sscc_link_with_a_short_sscc_is_a_bad_sscc() -> None:
    assert scan_error("https://id.example.com/00/12345").reason == "bad_sscc"


def test_an_element_string_sscc_with_a_wrong_check_digit_is_refused() -> None:
    error = scan_error("(00)123456789012345676")
    assert error.reason == "bad_sscc_check_digit"
    assert error.message == (
        "SSCC 123456789012345676 has check digit 6, expected 5: "
        "a digit was misread or two were swapped"
    )


# --- GTIN without a unit -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gtin"),
    [
        ("5901234123457", "05901234123457"),  # EAN-13
        ("036000291452", "00036000291452"),  # UPC-A
        ("96385074", "00000096385074"),  # EAN-8
        ("]E05901234123457", "05901234123457"),
        (f"]I0{GTIN}", GTIN),  # ITF-14 on a case
        (f"(01){GTIN}", GTIN),
        (f"01{GTIN}", GTIN),
        (f"]d201{GTIN}17270331", GTIN),
    ],
)
def test_a_products_gtin_alone_is_gtin_only(text: str, gtin: str) -> None:
    error = scan_error(text)
    assert error.reason == "gtin_only"
    assert f"GTIN {gtin} names a product, not one unit" in error.message


def test_fourteen_digits_that_pass_the_code_check_are_a_code() -> None:
    # All-digit codes exist (13 zero data characters have check character 0); they are codes
    # unless the symbology says the barcode was a GTIN's.
    assert parse_scan("00000000000000").value == "00000000000000"
    assert scan_error("]I000000000000000").reason == "gtin_only"


def test_fourteen_digits_that_are_a_gtin_but_not_a_code_are_gtin_only() -> None:
    assert wrong_check("0" * 14) != "0" * 14
    assert scan_error(GTIN).reason == "gtin_only"


def test_thirteen_digits_with_a_wrong_gtin_check_are_not_a_code() -> None:
    assert scan_error("5901234123458").reason == "not_a_code"


# --- element strings ---------------------------------------------------------------------------


def test_a_gs1_datamatrix_element_string_gives_code_gtin_and_lot() -> None:
    text = f"]d201{GTIN}1012345{GS}21{CODE}"
    assert parse_scan(text) == Scan(ScanKind.CODE, CODE, text, gtin=GTIN, lot="12345")


@pytest.mark.parametrize(
    "text",
    [
        f"]Q301{GTIN}17270331{GS}21{CODE}{GS}10ABC",
        f"]e001{GTIN}21{CODE}␝10ABC",
        f"01{GTIN}21{CODE}<gs>10ABC",
        f"{GS}01{GTIN}11250101{GS}21{CODE}{GS}10ABC{GS}",
        f"(01){GTIN}(21){CODE}(10)ABC",
    ],
)
def test_element_strings_with_other_ais_separators_and_prefixes_scan(text: str) -> None:
    scan = parse_scan(text)
    assert (scan.value, scan.gtin, scan.lot) == (CODE, GTIN, "ABC")


def test_an_element_string_whose_lot_has_a_slash_is_not_read_as_a_link() -> None:
    scan = parse_scan(f"01{GTIN}10A/B21{CODE}")
    assert (scan.value, scan.gtin, scan.lot) == (CODE, GTIN, "A/B")


def test_parse_element_string_returns_every_ai() -> None:
    values = parse_element_string(f"01{GTIN}17270331{GS}3103000750{GS}10L7{GS}21{CODE}{GS}9012")
    assert values == {
        "01": GTIN,
        "17": "270331",
        "3103": "000750",
        "10": "L7",
        "21": CODE,
        "90": "12",
    }


def test_parse_element_string_reads_brackets_and_ignores_spaces() -> None:
    assert parse_element_string("(00) 1061414 12345678908") == {"00": SSCC}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"01{GTIN}5512", "'5512' does not start with a GS1 Application Identifier unitrace knows"),
        ("]d20109506000", "AI (01) needs 14 characters but the scan ends after 8"),
        (f"(01){GTIN}(01)09506000134369", "AI (01) appears twice with different values"),
        (f"(01{GTIN}", f"'(01{GTIN}' is not a GS1 element string such as (01)…(21)…"),
        (
            f"(01){GTIN}(10)ABCDEFGHIJKLMNOPQRSTU(21){CODE}",
            "the element string's lot 'ABCDEFGHIJKLMNOPQRSTU' has 21 characters; "
            "AI 10 (lot) allows at most 20",
        ),
        (
            f"(01)09506000134353(21){CODE}",
            "the element string's GTIN '09506000134353' has check digit 3; expected 2",
        ),
    ],
)
def test_a_malformed_element_string_is_a_bad_element_string(text: str, message: str) -> None:
    error = scan_error(text)
    assert (error.reason, error.message) == ("bad_element_string", message)


def test_an_element_string_without_key_or_serial_is_not_a_code() -> None:
    error = scan_error("]C110LOT7")
    assert (error.reason, error.message) == (
        "not_a_code",
        "this GS1 barcode carries (10) but no serial (21) or SSCC (00)",
    )


def test_an_element_string_serial_that_is_no_code_is_a_serial_with_its_gtin() -> None:
    scan = parse_scan(f"]d201{GTIN}10LOT-7\x1d21SN1")
    assert (scan.kind, scan.value, scan.gtin, scan.lot) == (ScanKind.SERIAL, "SN1", GTIN, "LOT-7")


def test_an_element_string_serial_without_a_gtin_is_still_not_a_code() -> None:
    error = scan_error("(21)SN1")
    assert (error.reason, error.message) == (
        "not_a_code",
        "the serial (21) 'SN1' is not a unit code (it has 3 characters; a unit code has 14)",
    )


def test_an_element_string_serial_outside_gs1_characters_is_refused() -> None:
    error = scan_error(f"(01){GTIN}(21)SN1é")
    assert (error.reason, error.message) == (
        "bad_element_string",
        "the element string's serial 'SN1é' has 'é' at position 4, which is not in GS1 "
        "character set 82 that AI 21 (serial) uses",
    )


def test_bare_text_that_is_not_a_code_is_still_refused_not_taken_for_a_serial() -> None:
    error = scan_error("SN12345")
    assert error.reason == "not_a_code"


def test_an_element_string_with_an_empty_serial_is_empty() -> None:
    assert scan_error(f"(01){GTIN}(21)").reason == "empty"


def test_a_lost_separator_is_not_guessed_when_no_valid_code_results() -> None:
    # Without the GS the lot swallows "21" and a mistyped code; no split makes a valid code.
    error = scan_error(f"]d201{GTIN}10LOT21{wrong_check(CODE)}")
    assert error.reason == "gtin_only"


# --- the types ---------------------------------------------------------------------------------


def test_a_scan_is_frozen() -> None:
    scan = parse_scan(CODE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scan.value = "X"  # type: ignore[misc]


def test_scan_kinds_are_plain_strings() -> None:
    assert [str(kind) for kind in ScanKind] == ["code", "serial", "sscc"]


def test_a_scan_error_survives_pickling_with_reason_and_raw() -> None:
    error = scan_error(f"  {wrong_check(CODE)}  ")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round-tripped
    assert (copy.reason, copy.message, copy.raw) == (error.reason, error.message, error.raw)
    assert copy.raw == wrong_check(CODE)
    assert isinstance(copy, ValueError)


def test_quick_code_reads_the_common_forms_and_defers_the_rest() -> None:
    from unitrace.domain.codes import generate_code
    from unitrace.domain.scan import quick_code

    code = generate_code()
    for text in (
        code,
        code.lower(),
        f" {code}\n",
        f"https://id.example.test/{code.lower()}",
        f"id.example.test/{code}",
        f"https://x.test/01/09506000134352/21/{code}",
    ):
        assert quick_code(text) == code, text
        assert parse_scan(text).value == code
    for text in (
        "",
        "12345",
        f"{code}X",
        f"https://id.example.test/{code}/",
        f"https://id.example.test/{code}?x=1",
        "00/123456789012345675",
    ):
        assert quick_code(text) is None, text
