"""GS1 keys and GS1 Digital Link URIs for trade items.

Covers what unitrace prints and resolves: the GTIN (AI 01) with its mod-10 check digit, the
batch/lot (AI 10) and serial number (AI 21) qualifiers, and the expiry date (AI 17) carried in
the query string, in links of the form::

    https://id.example.com/01/09506000134352/10/LOT%2F7/21/0A1B2C3D4E5F6G?17=270331

Everything here is pure string work with no I/O; "today" is always a parameter so that the
century rule for two-digit years is deterministic under test.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote_to_bytes

from unitrace.domain.codes import normalize_code

__all__ = [
    "CSET82",
    "GTIN_LENGTHS",
    "LOT_MAX_LENGTH",
    "SERIAL_MAX_LENGTH",
    "DigitalLink",
    "Gs1Error",
    "InvalidAiValueError",
    "InvalidDigitalLinkError",
    "InvalidGtinError",
    "build_digital_link",
    "format_gs1_date",
    "gtin_check_digit",
    "is_cset82",
    "normalize_gtin",
    "parse_digital_link",
    "parse_gs1_date",
    "short_link",
    "validate_lot",
    "validate_serial",
]

GTIN_LENGTHS = (8, 12, 13, 14)
LOT_MAX_LENGTH = 20
SERIAL_MAX_LENGTH = 20

# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CSET82_SET = frozenset(CSET82)
_ASCII_DIGITS = re.compile(r"[0-9]+")
# str.isdigit() would accept "²" or Arabic-Indic digits, which are not GTIN digits.
_SIX_DIGITS = re.compile(r"[0-9]{6}")
# A '%' must start an escape of two hex digits; anything else is a malformed URI.
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_MESSAGE_MAX_CHARS = 40

# Names used in messages; the path may carry only these after the GTIN.
_AI_NAMES = {
    "01": "GTIN",
    "10": "lot",
    "17": "expiry",
    "21": "serial",
    "22": "consumer product variant",
}
_PATH_FORM = "/01/{gtin}[/10/{lot}][/21/{serial}]"


class Gs1Error(ValueError):
    """Base class for GS1 data that does not follow the GS1 rules."""


class InvalidGtinError(Gs1Error):
    """A GTIN with non-digits, a wrong length or a wrong check digit."""


class InvalidAiValueError(Gs1Error):
    """An AI value (lot, serial, expiry date) outside what its AI allows."""


class InvalidDigitalLinkError(Gs1Error):
    """A URL or path that is not a GS1 Digital Link unitrace can resolve."""


@dataclass(frozen=True)
class DigitalLink:
    """The parts of a GS1 Digital Link for a trade item.

    ``gtin`` is always 14 digits. ``base_url`` is the scheme and host (lower-cased; ``https``
    when the input had no scheme) plus any path before ``/01/``, without a trailing slash; it
    is only the path prefix (possibly empty) when a bare path was parsed.
    """

    gtin: str
    lot: str | None
    serial: str | None
    expiry: datetime.date | None
    base_url: str


def _shorten(text: str) -> str:
    if len(text) <= _MESSAGE_MAX_CHARS:
        return text
    return text[: _MESSAGE_MAX_CHARS - 1] + "…"


def _today() -> datetime.date:
    # The date only places a two-digit year in a ±50-year window, so the zone is immaterial.
    return datetime.datetime.now(datetime.UTC).date()


# --- GTIN --------------------------------------------------------------------------------------


def gtin_check_digit(digits_without_check: str) -> str:
    """Return the GS1 mod-10 check digit for the digits before it.

    Weights alternate 3, 1, 3, … starting from the rightmost digit, so left zero-padding
    does not change the result. Raises :class:`InvalidGtinError` unless the input is
    non-empty ASCII digits.
    """
    if not _ASCII_DIGITS.fullmatch(digits_without_check):
        raise InvalidGtinError(f"GTIN {_shorten(digits_without_check)!r} must contain digits only")
    total = sum(
        int(digit) * (3 if offset % 2 == 0 else 1)
        for offset, digit in enumerate(reversed(digits_without_check))
    )
    return str(-total % 10)


def normalize_gtin(text: str) -> str:
    """Return a GTIN-8, -12, -13 or -14 as 14 digits, left-padded with zeros.

    Surrounding whitespace is ignored. Raises :class:`InvalidGtinError` for anything else
    that is not digits only, not 8, 12, 13 or 14 digits long, or has a wrong check digit.
    """
    digits = text.strip()
    if not digits:
        raise InvalidGtinError("GTIN is empty; a GTIN has 8, 12, 13 or 14 digits")
    if not _ASCII_DIGITS.fullmatch(digits):
        raise InvalidGtinError(f"GTIN {_shorten(digits)!r} must contain digits only")
    if len(digits) not in GTIN_LENGTHS:
        raise InvalidGtinError(
            f"GTIN {_shorten(digits)!r} has {len(digits)} digits; a GTIN has 8, 12, 13 or 14"
        )
    expected = gtin_check_digit(digits[:-1])
    if digits[-1] != expected:
        raise InvalidGtinError(f"GTIN {digits!r} has check digit {digits[-1]}; expected {expected}")
    return digits.zfill(14)


# --- AI 10 and AI 21 ---------------------------------------------------------------------------


def is_cset82(text: str) -> bool:
    """Return whether every character of ``text`` is in GS1 character set 82."""
    return all(char in _CSET82_SET for char in text)


def _validate_ai_value(value: str, *, ai: str, max_length: int) -> str:
    name = _AI_NAMES[ai]
    if not value:
        raise InvalidAiValueError(
            f"{name} is empty; AI {ai} ({name}) needs 1 to {max_length} characters"
        )
    for position, char in enumerate(value, start=1):
        if char not in _CSET82_SET:
            raise InvalidAiValueError(
                f"{name} {_shorten(value)!r} has {char!r} at position {position}, "
                f"which is not in GS1 character set 82 that AI {ai} ({name}) uses"
            )
    if len(value) > max_length:
        raise InvalidAiValueError(
            f"{name} {_shorten(value)!r} has {len(value)} characters; "
            f"AI {ai} ({name}) allows at most {max_length}"
        )
    return value


def validate_lot(lot: str) -> str:
    """Return ``lot`` if it is a valid AI 10 value (1–20 characters of CSET 82).

    Raises :class:`InvalidAiValueError` otherwise.
    """
    return _validate_ai_value(lot, ai="10", max_length=LOT_MAX_LENGTH)


def validate_serial(serial: str) -> str:
    """Return ``serial`` if it is a valid AI 21 value (1–20 characters of CSET 82).

    Raises :class:`InvalidAiValueError` otherwise.
    """
    return _validate_ai_value(serial, ai="21", max_length=SERIAL_MAX_LENGTH)


# --- AI 17 dates -------------------------------------------------------------------------------


def _full_year(yy: int, current_year: int) -> int:
    """Place a two-digit year per GS1 General Specifications 7.12.

    The century is chosen so the year lies between 49 years before and 50 years after the
    current year.
    """
    century = current_year - current_year % 100
    difference = yy - current_year % 100
    if difference >= 51:
        return century - 100 + yy
    if difference <= -50:
        return century + 100 + yy
    return century + yy


def parse_gs1_date(yymmdd: str, *, today: datetime.date | None = None) -> datetime.date:
    """Return the date of a GS1 YYMMDD value such as AI 17 (expiry).

    The century follows the GS1 rule relative to ``today`` (default: the current date).
    A day of ``00`` means the last day of the month. Raises :class:`InvalidAiValueError`.
    """
    if not _SIX_DIGITS.fullmatch(yymmdd):
        raise InvalidAiValueError(f"AI 17 (expiry) {_shorten(yymmdd)!r} must be 6 digits, YYMMDD")
    yy, month, day = int(yymmdd[0:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    if not 1 <= month <= 12:
        raise InvalidAiValueError(
            f"AI 17 (expiry) {yymmdd!r} has month {yymmdd[2:4]}; months run from 01 to 12"
        )
    year = _full_year(yy, (today or _today()).year)
    days_in_month = calendar.monthrange(year, month)[1]
    if day == 0:
        return datetime.date(year, month, days_in_month)
    if day > days_in_month:
        raise InvalidAiValueError(
            f"AI 17 (expiry) {yymmdd!r} has day {yymmdd[4:6]}, "
            f"but {year}-{month:02d} has {days_in_month} days"
        )
    return datetime.date(year, month, day)


def format_gs1_date(value: datetime.date, *, today: datetime.date | None = None) -> str:
    """Return ``value`` as YYMMDD, checking that :func:`parse_gs1_date` reads it back.

    A two-digit year reaches only from 49 years before to 50 years after ``today``
    (default: the current date); other dates raise :class:`InvalidAiValueError`.
    """
    current_year = (today or _today()).year
    if not -49 <= value.year - current_year <= 50:
        raise InvalidAiValueError(
            f"expiry {value.isoformat()} is outside {current_year - 49}–{current_year + 50}, "
            "the years a GS1 YYMMDD date can express"
        )
    return f"{value.year % 100:02d}{value.month:02d}{value.day:02d}"


# --- Digital Link ------------------------------------------------------------------------------


def _split_location(text: str) -> tuple[str, str, str]:
    """Split a URL, scheme-less URL or path into (origin, path, query); drop any fragment.

    ``origin`` is ``scheme://host`` lower-cased (``https`` assumed without a scheme), or ""
    for a bare path.
    """
    text = text.split("#", 1)[0]
    scheme_match = _SCHEME.match(text)
    if scheme_match:
        scheme = scheme_match.group(1).lower()
        if scheme not in ("http", "https"):
            raise InvalidDigitalLinkError(
                f"scheme {scheme_match.group(1)!r} is not http or https; "
                "a GS1 Digital Link is a web address"
            )
        rest = text[scheme_match.end() :]
    elif text.startswith("//"):
        scheme, rest = "https", text[2:]
    elif text.startswith("/") or text.split("/", 1)[0] == "01":
        # A bare path; "01/…" without the leading slash is a path too, not a host named 01.
        path, _, query = text.partition("?")
        return "", path if path.startswith("/") else "/" + path, query
    else:
        scheme, rest = "https", text
    host_end = len(rest)
    for delimiter in "/?":
        index = rest.find(delimiter)
        if index != -1:
            host_end = min(host_end, index)
    host, remainder = rest[:host_end], rest[host_end:]
    if not host:
        raise InvalidDigitalLinkError(f"{_shorten(text)!r} has no host name")
    path, _, query = remainder.partition("?")
    return f"{scheme}://{host.lower()}", path, query


def _decode_segment(raw: str, what: str) -> str:
    """Percent-decode one path segment, which must decode to ASCII."""
    if _BAD_PERCENT.search(raw):
        raise InvalidDigitalLinkError(
            f"{what} {_shorten(raw)!r} has a '%' that does not start an escape such as %2F"
        )
    try:
        return unquote_to_bytes(raw).decode("ascii")
    except UnicodeDecodeError:
        raise InvalidDigitalLinkError(
            f"{what} {_shorten(raw)!r} decodes to characters outside GS1 character set 82"
        ) from None


def _parse_expiry(query: str, today: datetime.date | None) -> datetime.date | None:
    expiry: datetime.date | None = None
    seen_expiry = False
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in ("01", "10", "21"):
            raise InvalidDigitalLinkError(
                f"AI {key} ({_AI_NAMES[key]}) must be in the path as /{key}/…, "
                "not in the query string"
            )
        if key != "17":
            # Other attributes and non-GS1 parameters (linkType, …) do not identify the unit.
            continue
        if seen_expiry:
            raise InvalidDigitalLinkError("AI 17 (expiry) appears twice in the query string")
        seen_expiry = True
        try:
            expiry = parse_gs1_date(value, today=today)
        except InvalidAiValueError as error:
            raise InvalidDigitalLinkError(str(error)) from error
    return expiry


def parse_digital_link(url_or_path: str, *, today: datetime.date | None = None) -> DigitalLink:
    """Parse a GS1 Digital Link for a GTIN, with optional lot, serial and expiry.

    Accepts a full URL (any host, scheme and host in any case), a URL without scheme, or a
    path. The GS1 part starts at the first path segment ``01``; anything before it is kept
    as part of ``base_url``. After the GTIN, only ``/10/{lot}`` and then ``/21/{serial}``
    may follow, each at most once and in that order; values are percent-decoded and checked
    against their AI. ``17=YYMMDD`` in the query string gives the expiry (see
    :func:`parse_gs1_date` for ``today``); other query parameters are ignored. A single
    trailing slash is tolerated.

    Raises :class:`InvalidDigitalLinkError` with a message naming the rule broken.
    """
    text = url_or_path.strip()
    if not text:
        raise InvalidDigitalLinkError("no link given: the text is empty")
    origin, path, query = _split_location(text)
    segments = path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()
    if "01" not in segments:
        raise InvalidDigitalLinkError(
            f"{_shorten(text)!r} has no /01/ segment; "
            f"a unitrace Digital Link path looks like {_PATH_FORM}"
        )
    start = segments.index("01")
    prefix = "/".join(["", *segments[:start]]) if start else ""
    gs1_segments = segments[start:]

    values: dict[str, str] = {}
    for index in range(0, len(gs1_segments), 2):
        ai = gs1_segments[index]
        if ai == "":
            raise InvalidDigitalLinkError(
                f"{_shorten(text)!r} has an empty path segment (a doubled '/')"
            )
        if ai not in ("01", "10", "21"):
            described = f"AI {ai} ({_AI_NAMES[ai]})" if ai in _AI_NAMES else f"AI {ai}"
            if not _ASCII_DIGITS.fullmatch(ai):
                described = f"path segment {_shorten(ai)!r}"
            raise InvalidDigitalLinkError(
                f"{described} is not allowed after the GTIN; "
                "only /10/ (lot) and then /21/ (serial) may follow /01/{gtin}"
            )
        name = _AI_NAMES[ai]
        if ai in values:
            raise InvalidDigitalLinkError(
                f"AI {ai} ({name}) appears twice; each AI may appear only once"
            )
        if ai == "10" and "21" in values:
            raise InvalidDigitalLinkError(
                "AI 21 (serial) appears before AI 10 (lot); "
                "GS1 Digital Link requires /10/ before /21/"
            )
        if index + 1 >= len(gs1_segments):
            raise InvalidDigitalLinkError(f"AI {ai} ({name}) has no value after /{ai}/")
        raw = gs1_segments[index + 1]
        if raw == "":
            raise InvalidDigitalLinkError(f"AI {ai} ({name}) has an empty value")
        values[ai] = _decode_segment(raw, f"AI {ai} ({name}) value")

    try:
        gtin = normalize_gtin(values["01"])
        lot = validate_lot(values["10"]) if "10" in values else None
        serial = validate_serial(values["21"]) if "21" in values else None
    except Gs1Error as error:
        raise InvalidDigitalLinkError(str(error)) from error
    expiry = _parse_expiry(query, today)
    return DigitalLink(gtin=gtin, lot=lot, serial=serial, expiry=expiry, base_url=origin + prefix)


def _check_base_url(base_url: str) -> str:
    """Return ``base_url`` without trailing slashes, refusing bases that would not parse back."""
    base = base_url.strip().rstrip("/")
    if any(char in base for char in "?# \t\r\n"):
        raise InvalidDigitalLinkError(
            f"base URL {_shorten(base_url)!r} must not contain a query, fragment or spaces"
        )
    if base:
        _, path, _ = _split_location(base)
        if "01" in path.split("/"):
            raise InvalidDigitalLinkError(
                f"base URL {_shorten(base_url)!r} has a path segment '01', "
                "which would be read as the GTIN"
            )
    return base


def build_digital_link(
    base_url: str,
    gtin: str,
    *,
    lot: str | None = None,
    serial: str | None = None,
    expiry: datetime.date | None = None,
    today: datetime.date | None = None,
) -> str:
    """Return ``{base}/01/{gtin14}[/10/{lot}][/21/{serial}][?17=YYMMDD]``.

    The GTIN is checked and written as 14 digits; lot and serial are checked against AI 10
    and AI 21 and percent-encoded (everything outside the URI unreserved characters
    ``A-Z a-z 0-9 - . _ ~``, as GS1 Digital Link requires). Trailing slashes on the base are
    dropped so they never double. ``today`` bounds the expiry as in :func:`format_gs1_date`.

    Raises :class:`InvalidGtinError`, :class:`InvalidAiValueError` or
    :class:`InvalidDigitalLinkError` (for an unusable base URL).
    """
    base = _check_base_url(base_url)
    link = f"{base}/01/{normalize_gtin(gtin)}"
    if lot is not None:
        link += f"/10/{quote(validate_lot(lot), safe='')}"
    if serial is not None:
        link += f"/21/{quote(validate_serial(serial), safe='')}"
    if expiry is not None:
        link += f"?17={format_gs1_date(expiry, today=today)}"
    return link


def short_link(base_url: str, code: str) -> str:
    """Return ``{base}/{code}``, the short link printed for a unit code.

    The code is normalised (see :func:`unitrace.domain.codes.normalize_code`, which raises
    :class:`~unitrace.domain.codes.InvalidCodeError`) and the base loses trailing slashes.
    """
    return f"{base_url.strip().rstrip('/')}/{normalize_code(code)}"
