"""What a scanner read: a unit code or a container's SSCC, from any form a label carries.

Receiving and point-of-sale screens get codes as keyboard-wedge text, which arrives with
whatever the scanner adds or loses on the way. :func:`parse_scan` accepts:

* a bare unit code, in any case, with hyphens or spaces (``0A1B-2C3D-4E5F-6G``);
* a short link ``https://{host}/{code}``;
* a GS1 Digital Link ``https://{host}/01/{gtin}[/10/{lot}]/21/{code}``, the serial being the code;
* the same Digital Link or element string with a serial the brand generated itself (any
  GS1 AI 21 value that is not a unit code): a :attr:`ScanKind.SERIAL`, found by GTIN and serial;
* an SSCC: ``https://{host}/00/{sscc}``, ``(00){sscc}``, ``00{sscc}`` or the 18 digits alone;
* a GS1 element string from a 2D scanner, with an optional symbology identifier (``]d2``,
  ``]Q3``, ``]C1``, ``]e0``, ``]J1``) and FNC1 sent as the GS character (``\\x1d``), or written
  with brackets (``(01)09506000134352(21)…``).

Scanner noise is tolerated: surrounding whitespace and CR/LF, a missing or ``http`` scheme,
upper- or lower-cased text, a trailing slash, a query string or fragment, and in element strings
a lost GS separator before or after a unit code (the check character tells where it ends).

Everything that is not one of these raises :class:`ScanError`, whose ``reason`` is a short
machine code and whose message is meant for the person holding the scanner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal
from urllib.parse import unquote

from unitrace.domain.codes import CODE_LENGTH, InvalidCodeError, normalize_code
from unitrace.domain.gs1 import (
    GTIN_LENGTHS,
    Gs1Error,
    gtin_check_digit,
    normalize_gtin,
    parse_digital_link,
    validate_lot,
    validate_serial,
)

__all__ = [
    "SSCC_LENGTH",
    "Scan",
    "ScanError",
    "ScanErrorReason",
    "ScanKind",
    "parse_element_string",
    "parse_scan",
    "sscc_check_digit",
    "validate_sscc",
]

SSCC_LENGTH = 18

ScanErrorReason = Literal[
    "empty",
    "not_a_code",
    "bad_check_character",
    "bad_sscc",
    "bad_sscc_check_digit",
    "gtin_only",
    "bad_link",
    "bad_element_string",
]

_MESSAGE_MAX_CHARS = 40
_GS = "\x1d"
# Some wedge setups type FNC1 as the visible "␝" or as the text "<GS>".
_GS_STAND_INS = re.compile(r"␝|<GS>", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]+")  # not \d: that also matches "²" and Arabic-Indic digits
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_SYMBOLOGY = re.compile(r"\]([A-Za-z])([0-9A-Za-z])")
_UNBRACKETED_KEY = re.compile(r"00[0-9]{18}|01[0-9]{14}")
_BRACKETED = re.compile(r"\(([0-9]{2,4})\)([^()]*)")
_INLINE_SPACE = re.compile(r"[ \t\r\n]+")

# Symbology identifiers (ISO/IEC 15424) whose data is a GS1 element string.
_GS1_SYMBOLOGIES = frozenset({("C", "1"), ("D", "2"), ("Q", "3"), ("J", "1")})
_GS1_DATABAR = "e"  # ]e0…]e3 is GS1 DataBar; upper-case ]E0… is EAN/UPC, which carries a GTIN
_GTIN_SYMBOLOGIES = frozenset({"E", "I"})  # EAN/UPC and ITF-14: a product's GTIN, never a unit

# Element strings: how many digits the AI has, by its first two digits, and the data length of
# the AIs with a predefined length (GS1 General Specifications, figure 7.8.5-2). Every other AI
# runs to the next GS or the end.
_THREE_DIGIT_AIS = frozenset({"23", "24", "25", "40", "41", "42", "71"})
_FOUR_DIGIT_AIS = frozenset(
    {"31", "32", "33", "34", "35", "36", "39", "43", "70", "72", "80", "81"}
)
_TWO_DIGIT_AIS = frozenset(
    {f"{n:02d}" for n in (*range(4), *range(10, 23), 30, 37, *range(90, 100))}
)
_PREDEFINED_LENGTH = {
    "00": 18,
    "01": 14,
    "02": 14,
    "03": 14,
    **{f"{n}": 6 for n in range(11, 20)},
    "20": 2,
    **{f"{n}": 6 for n in range(31, 37)},
    "41": 13,
}


class ScanKind(StrEnum):
    """What a scan identifies: one unit by its code, one unit by its GTIN and the serial its
    brand printed, or one container by its SSCC."""

    CODE = "code"
    SERIAL = "serial"
    SSCC = "sscc"


@dataclass(frozen=True)
class Scan:
    """What was scanned.

    ``value`` is the canonical unit code (14 characters), the brand's serial as printed (a
    ``SERIAL``, which always has its ``gtin``) or the SSCC (18 digits). ``serial`` is the
    AI 21 value as printed when a ``CODE`` came with a GTIN: a brand's serial may happen to
    read as a unit code, and is then looked up as both. ``gtin``
    (14 digits) and ``lot`` are filled when the scan carried them, as a GS1 Digital Link or an
    element string does. ``raw`` is the scanned text without surrounding whitespace.
    """

    kind: ScanKind
    value: str
    raw: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = field(default=None, compare=False)


class ScanError(ValueError):
    """Scanned text that names no unit and no container; ``reason`` says why."""

    def __init__(self, reason: ScanErrorReason, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.reason: ScanErrorReason = reason
        self.message = message
        self.raw = raw

    def __reduce__(self) -> tuple[type[ScanError], tuple[ScanErrorReason, str, str]]:
        # The default reduce passes only args[0] back to __init__; keep all three fields.
        return (type(self), (self.reason, self.message, self.raw))


def _shown(text: str) -> str:
    """``text`` quoted for a message, cut so a pasted page does not flood it."""
    if len(text) > _MESSAGE_MAX_CHARS:
        text = text[: _MESSAGE_MAX_CHARS - 1] + "…"
    return repr(text)


# --- SSCC --------------------------------------------------------------------------------------


def sscc_check_digit(digits_without_check: str) -> str:
    """Return the GS1 mod-10 check digit of the first 17 digits of an SSCC.

    Raises :class:`ScanError` (reason ``bad_sscc``) unless given exactly 17 ASCII digits.
    """
    if len(digits_without_check) != SSCC_LENGTH - 1 or not _DIGITS.fullmatch(digits_without_check):
        raise ScanError(
            "bad_sscc",
            f"{_shown(digits_without_check)} is not the 17 digits before an SSCC's check digit",
        )
    return gtin_check_digit(digits_without_check)  # the same GS1 mod-10 rule as for a GTIN


def validate_sscc(text: str) -> str:
    """Return the 18-digit SSCC in ``text`` (surrounding whitespace ignored).

    Raises :class:`ScanError` with reason ``bad_sscc`` for anything but 18 ASCII digits and
    ``bad_sscc_check_digit`` when the last digit is not the check digit of the others.
    """
    digits = text.strip()
    if not _DIGITS.fullmatch(digits):
        raise ScanError("bad_sscc", f"SSCC {_shown(digits)} must contain digits only")
    if len(digits) != SSCC_LENGTH:
        raise ScanError(
            "bad_sscc", f"SSCC {_shown(digits)} has {len(digits)} digits; an SSCC has 18"
        )
    expected = sscc_check_digit(digits[:-1])
    if digits[-1] != expected:
        raise ScanError(
            "bad_sscc_check_digit",
            f"SSCC {digits} has check digit {digits[-1]}, expected {expected}: "
            "a digit was misread or two were swapped",
        )
    return digits


# --- entry point -------------------------------------------------------------------------------


def parse_scan(text: str) -> Scan:
    """Return what ``text``, as a scanner or a person typed it, identifies.

    See the module documentation for the forms accepted. Raises :class:`ScanError` with
    ``reason`` one of ``empty``, ``not_a_code``, ``bad_check_character``, ``bad_sscc``,
    ``bad_sscc_check_digit``, ``gtin_only`` (a product's GTIN without a serial), ``bad_link``
    or ``bad_element_string``; no other exception escapes.
    """
    raw = text.strip()
    try:
        return _parse(raw)
    except ScanError as error:
        error.raw = raw
        raise


# https://host/CODE (scheme optional, one trailing slash allowed): what most labels carry.
_SHORT_URL = re.compile(r"(?:[Hh][Tt][Tt][Pp][Ss]?://)?([^/?#\s]+)/([0-9A-Za-z]{14})/?")


_READING = str.maketrans("abcdefghjkmnpqrstuvwxyzOoIiLl", "ABCDEFGHJKMNPQRSTUVWXYZ001111")
_CANONICAL_CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{14}")


def quick_code(text: str) -> str | None:
    """The canonical code in a bare code or a link ending in one, for bulk files: cheap, and
    without verifying the check character — the caller compares with stored codes and calls
    :func:`parse_scan` for a precise message about anything unknown. None when the text is
    not that simple (then :func:`parse_scan` decides)."""
    tail = text.rsplit("/", 1)[-1] if "/" in text else text
    code = tail.strip().translate(_READING)
    return code if _CANONICAL_CODE.fullmatch(code) else None


def _parse(raw: str) -> Scan:
    if not raw:
        raise ScanError("empty", "nothing was scanned: the text is empty")
    if len(raw) == CODE_LENGTH and raw.isalnum():  # the common case: a bare code, typed or read
        try:
            return Scan(ScanKind.CODE, normalize_code(raw), raw)
        except InvalidCodeError:
            pass  # perhaps a GTIN-14 or something else: the general rules below decide
    body = raw
    symbology = _SYMBOLOGY.match(raw)
    letter, modifier = ("", "")
    if symbology:
        letter, modifier = symbology.group(1), symbology.group(2)
        body = raw[symbology.end() :].strip()
        if not body:
            raise ScanError(
                "empty", f"only the symbology identifier {symbology.group(0)!r} was scanned"
            )
    body = _GS_STAND_INS.sub(_GS, body)
    if letter in _GTIN_SYMBOLOGIES:
        return _from_bare(body, raw, gtin_first=True)
    is_gs1 = (letter.upper(), modifier.upper()) in _GS1_SYMBOLOGIES or letter == _GS1_DATABAR
    if (is_gs1 and "://" not in body) or body.startswith("(") or _GS in body:
        return _from_elements(parse_element_string(body), raw)
    # Eighteen digits are an SSCC even when they start with 01. No web address starts with a
    # GTIN or SSCC key, and a lot may contain "/", so this comes before looking for a link.
    if _UNBRACKETED_KEY.match(body) and not (_DIGITS.fullmatch(body) and len(body) == SSCC_LENGTH):
        return _from_elements(parse_element_string(body), raw)
    if "/" in body:
        short = _SHORT_URL.fullmatch(body)
        if short and short.group(1) not in ("00", "01"):  # a short URL: host and code
            try:
                return Scan(ScanKind.CODE, normalize_code(short.group(2)), raw)
            except InvalidCodeError:
                pass  # the general rules below say why
        return _from_url(body, raw)
    return _from_bare(body, raw, gtin_first=False)


# --- bare text ---------------------------------------------------------------------------------


def _from_bare(body: str, raw: str, *, gtin_first: bool) -> Scan:
    compact = body.replace(" ", "").replace("-", "")
    if _DIGITS.fullmatch(compact):
        if len(compact) == SSCC_LENGTH:
            return Scan(ScanKind.SSCC, validate_sscc(compact), raw)
        if gtin_first:
            _refuse_gtin(compact, body)
    try:
        code = normalize_code(body)
    except InvalidCodeError as error:
        failure = error
    else:
        return Scan(ScanKind.CODE, code, raw)
    if _DIGITS.fullmatch(compact):
        _refuse_gtin(compact, body)
    raise _code_error(failure, body, "{}", "a unit code, unit link or SSCC")


def _refuse_gtin(digits: str, shown: str) -> None:
    """Raise ``gtin_only`` if ``digits`` is a valid GTIN; return otherwise."""
    if len(digits) not in GTIN_LENGTHS:
        return
    try:
        gtin = normalize_gtin(digits)
    except Gs1Error:
        return
    raise _gtin_only(gtin, f"{_shown(shown)} is a product's barcode")


def _gtin_only(gtin: str, what: str) -> ScanError:
    return ScanError(
        "gtin_only",
        f"{what}: GTIN {gtin} names a product, not one unit; "
        "scan the unit's own code or its QR code",
    )


def _code_error(error: InvalidCodeError, text: str, subject: str, not_what: str) -> ScanError:
    """Turn a code's :class:`InvalidCodeError` into a :class:`ScanError`.

    ``subject`` is the start of the message with ``{}`` where ``text`` goes, quoted and cut.
    """
    said = subject.format(_shown(text))
    if error.reason == "empty":
        return ScanError("empty", f"{said} holds no code characters")
    if error.reason == "bad_check":
        return ScanError(
            "bad_check_character",
            f"{said} fails its check character: a character was misread or two were "
            "swapped; scan it again or type it carefully",
        )
    if error.reason == "bad_length":
        length = len(text.replace(" ", "").replace("-", ""))
        detail = f"it has {length} characters; a unit code has {CODE_LENGTH}"
    else:
        detail = error.message
    return ScanError("not_a_code", f"{said} is not {not_what} ({detail})")


# --- links -------------------------------------------------------------------------------------


def _from_url(body: str, raw: str) -> Scan:
    location = re.split(r"[?#]", body, maxsplit=1)[0]
    scheme = _SCHEME.match(location)
    if scheme:
        if scheme.group(1).lower() not in ("http", "https"):
            raise ScanError(
                "bad_link",
                f"{_shown(body)} is not a web address (its scheme is "
                f"{scheme.group(1).lower()!r}); unit links start with https://",
            )
        rest = location[scheme.end() :]
    else:
        rest = location.removeprefix("//")
    segments = rest.split("/")
    if rest.startswith("/") and not scheme:
        path = segments[1:]
    elif not scheme and segments[0] in ("00", "01"):
        path = segments  # a bare GS1 path such as 01/09506000134352/21/…
    else:
        if not segments[0]:
            raise ScanError("bad_link", f"{_shown(body)} has no host name")
        path = segments[1:]
    while path and not path[-1]:
        path.pop()  # trailing slashes
    keys = [index for index, segment in enumerate(path) if segment in ("00", "01")]
    if keys and path[keys[0]] == "01":
        return _from_digital_link("/" + "/".join(path[keys[0] :]), raw)
    if keys:
        return _from_sscc_link(path[keys[0] + 1 :], body, raw)
    if not path:
        raise ScanError("not_a_code", f"the web address {_shown(body)} has no unit code in it")
    last = unquote(path[-1])
    try:
        return Scan(ScanKind.CODE, normalize_code(last), raw)
    except InvalidCodeError as error:
        raise _code_error(error, last, "the web address ends in {}, which", "a unit code") from None


def _from_digital_link(path: str, raw: str) -> Scan:
    try:
        link = parse_digital_link(path)
    except Gs1Error as error:
        raise ScanError("bad_link", f"this GS1 Digital Link cannot be read: {error}") from None
    if link.serial is None:
        raise _gtin_only(link.gtin, "this GS1 Digital Link has no serial (/21/)")
    try:
        code = normalize_code(link.serial)
    except InvalidCodeError:
        return Scan(ScanKind.SERIAL, link.serial, raw, gtin=link.gtin, lot=link.lot)
    return Scan(ScanKind.CODE, code, raw, gtin=link.gtin, lot=link.lot, serial=link.serial)


def _from_sscc_link(after_key: list[str], body: str, raw: str) -> Scan:
    if len(after_key) != 1:
        raise ScanError(
            "bad_link",
            f"{_shown(body)} is not an SSCC link: it must end in /00/ and the 18-digit SSCC",
        )
    return Scan(ScanKind.SSCC, validate_sscc(after_key[0]), raw)


# --- element strings ---------------------------------------------------------------------------


def parse_element_string(text: str) -> dict[str, str]:
    """Return the AI values of a GS1 element string, keyed by AI (``{"01": "0950…", …}``).

    Takes the bracketed form ``(01)09506000134352(21)ABC`` (a value cannot contain brackets
    there) or the scanned form with GS (``\\x1d``) after each variable-length value; spaces
    are ignored. Values are not checked here. Raises :class:`ScanError` (reason
    ``bad_element_string``) for an AI it cannot delimit or a conflicting repeat.
    """
    compact = _INLINE_SPACE.sub("", text).strip(_GS)
    if not compact:
        raise ScanError("bad_element_string", "the GS1 element string is empty")
    pairs = _bracketed_pairs(compact) if compact.startswith("(") else _scanned_pairs(compact)
    values: dict[str, str] = {}
    for ai, value in pairs:
        if values.get(ai, value) != value:
            raise ScanError("bad_element_string", f"AI ({ai}) appears twice with different values")
        values[ai] = value
    return _recover_lost_separator(values) if _GS not in compact else values


def _bracketed_pairs(text: str) -> list[tuple[str, str]]:
    matches = list(_BRACKETED.finditer(text))
    if not matches or "".join(match.group(0) for match in matches) != text:
        raise ScanError(
            "bad_element_string",
            f"{_shown(text)} is not a GS1 element string such as (01)…(21)…",
        )
    return [(match.group(1), match.group(2).replace(_GS, "")) for match in matches]


def _scanned_pairs(text: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position] == _GS:
            position += 1
            continue
        ai = _read_ai(text, position)
        start = position + len(ai)
        fixed = _PREDEFINED_LENGTH.get(ai[:2])
        if fixed is not None:
            end = start + fixed
            if end > len(text):
                raise ScanError(
                    "bad_element_string",
                    f"AI ({ai}) needs {fixed} characters but the scan ends after "
                    f"{len(text) - start}",
                )
        else:
            separator = text.find(_GS, start)
            end = len(text) if separator == -1 else separator
        pairs.append((ai, text[start:end]))
        position = end
    return pairs


def _read_ai(text: str, position: int) -> str:
    prefix = text[position : position + 2]
    length = (
        2
        if prefix in _TWO_DIGIT_AIS
        else 3
        if prefix in _THREE_DIGIT_AIS
        else 4
        if prefix in _FOUR_DIGIT_AIS
        else 0
    )
    ai = text[position : position + length]
    if not length or len(ai) < length or not _DIGITS.fullmatch(ai):
        raise ScanError(
            "bad_element_string",
            f"{_shown(text[position:])} does not start with a GS1 Application Identifier "
            "unitrace knows",
        )
    return ai


def _recover_lost_separator(values: dict[str, str]) -> dict[str, str]:
    """Split values that swallowed a neighbour because the scanner dropped the GS.

    Without GS, ``21{code}10{lot}`` reads as one long serial and ``10{lot}21{code}`` as one
    long lot. A unit code is exactly 14 characters and carries a check character, so a split
    is made only where a valid code results.
    """
    serial, lot = values.get("21"), values.get("10")
    if serial is not None and len(serial) > CODE_LENGTH and _is_code(serial[:CODE_LENGTH]):
        try:
            tail = _scanned_pairs(serial[CODE_LENGTH:])
        except ScanError:
            return values
        return {**values, **dict(tail), "21": serial[:CODE_LENGTH]}
    if (
        serial is None
        and lot is not None
        and len(lot) > CODE_LENGTH + 2
        and lot[-CODE_LENGTH - 2 : -CODE_LENGTH] == "21"
        and _is_code(lot[-CODE_LENGTH:])
    ):
        return {**values, "10": lot[: -CODE_LENGTH - 2], "21": lot[-CODE_LENGTH:]}
    return values


def _is_code(text: str) -> bool:
    try:
        normalize_code(text)
    except InvalidCodeError:
        return False
    return True


def _from_elements(values: dict[str, str], raw: str) -> Scan:
    if "00" in values:
        return Scan(ScanKind.SSCC, validate_sscc(values["00"]), raw)
    try:
        gtin = normalize_gtin(values["01"]) if "01" in values else None
        lot = validate_lot(values["10"]) if "10" in values else None
    except Gs1Error as error:
        raise ScanError("bad_element_string", f"the element string's {error}") from None
    serial = values.get("21")
    if serial is None:
        if gtin is not None:
            raise _gtin_only(gtin, "this barcode has no serial (21)")
        found = ", ".join(f"({ai})" for ai in values)
        raise ScanError(
            "not_a_code",
            f"this GS1 barcode carries {found} but no serial (21) or SSCC (00)",
        )
    try:
        code = normalize_code(serial)
    except InvalidCodeError as error:
        if gtin is None or not serial:
            raise _code_error(error, serial, "the serial (21) {}", "a unit code") from None
        try:
            return Scan(ScanKind.SERIAL, validate_serial(serial), raw, gtin=gtin, lot=lot)
        except Gs1Error as bad:
            raise ScanError("bad_element_string", f"the element string's {bad}") from None
    serial = serial if gtin is not None else None
    return Scan(ScanKind.CODE, code, raw, gtin=gtin, lot=lot, serial=serial)
