"""Unit codes: 65 random bits in Crockford base32 plus one GF(32) check character.

A unit code is 13 data characters followed by 1 check character, 14 characters in all, drawn
from Crockford's base32 alphabet ``0123456789ABCDEFGHJKMNPQRSTVWXYZ``. Fourteen characters of
that alphabet are also a valid GS1 AI 21 serial number (at most 20 characters of GS1 character
set 82), so a code can be printed as the serial in a GS1 Digital Link as it is.

Why a check character in GF(32)
-------------------------------
Read each character as an element of GF(2^5), built with the primitive polynomial
x^5 + x^2 + 1, and call α the class of x. With data values c_0 … c_12 and check value k,
the check is chosen so that

    k = Σ_i α^(13 − i) · c_i        (addition in GF(32) is XOR),

which is the same as saying that the weighted sum over all 14 positions is zero, with
weights α^13, α^12, …, α^1 for the data characters and α^0 = 1 for the check.

* A single substitution at position j changes the sum by α^w · e, where α^w is that
  position's weight and e ≠ 0 the difference; a product of non-zero field elements is
  non-zero, so the sum is no longer zero: every substitution is detected.
* Swapping two different adjacent characters a ≠ b with weights α^(w+1) and α^w changes the
  sum by (α^(w+1) + α^w) · (a + b) = α^w · (α + 1) · (a + b). This is non-zero because
  α ≠ 1 (α is primitive of order 31), so every adjacent swap is detected, including the swap
  of the last data character (weight α^1) with the check character (weight α^0).

Normalisation follows Crockford: input is case-insensitive, hyphens and spaces are ignored,
and the confusable letters O, I and L are read as 0, 1 and 1.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from typing import Literal

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "DATA_LENGTH",
    "ENTROPY_BITS",
    "InvalidCodeError",
    "InvalidCodeReason",
    "check_character",
    "format_code",
    "generate_code",
    "generate_code_chunks",
    "generate_codes",
    "is_valid",
    "normalize_code",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_LENGTH = 13
CODE_LENGTH = DATA_LENGTH + 1
ENTROPY_BITS = 5 * DATA_LENGTH  # 65: each base32 character carries exactly 5 random bits

InvalidCodeReason = Literal["empty", "bad_character", "bad_length", "bad_check"]

# x^5 + x^2 + 1: primitive over GF(2), so α = x generates all 31 non-zero elements.
_POLYNOMIAL = 0b100101
_ALPHA = 0b00010
# Long inputs are cut in error messages so that a pasted page does not flood a log line.
_MESSAGE_MAX_CHARS = 24


class InvalidCodeError(ValueError):
    """Text that is not a unitrace code; ``reason`` says which rule it broke."""

    def __init__(self, reason: InvalidCodeReason, message: str, text: str) -> None:
        super().__init__(message)
        self.reason: InvalidCodeReason = reason
        self.message = message
        self.text = text

    def __reduce__(self) -> tuple[type[InvalidCodeError], tuple[InvalidCodeReason, str, str]]:
        # The default reduce passes only args[0] back to __init__; keep all three fields.
        return (type(self), (self.reason, self.message, self.text))


def _gf_mul(a: int, b: int) -> int:
    """Multiply two elements of GF(32) (carry-less multiply, reduced by the polynomial)."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        b >>= 1
        a <<= 1
        if a & 0b100000:
            a ^= _POLYNOMIAL
    return product


def _gf_pow(a: int, exponent: int) -> int:
    result = 1
    for _ in range(exponent):
        result = _gf_mul(result, a)
    return result


# Weight of data position i is α^(13 - i); the check character's own weight is α^0 = 1.
_WEIGHTS: tuple[int, ...] = tuple(_gf_pow(_ALPHA, DATA_LENGTH - i) for i in range(DATA_LENGTH))
# _PRODUCTS[i][v] = weight_i · v, so the scalar check is 13 table look-ups and XORs.
_PRODUCTS: tuple[tuple[int, ...], ...] = tuple(
    tuple(_gf_mul(weight, value) for value in range(32)) for weight in _WEIGHTS
)
_VALUE_OF: dict[str, int] = {char: value for value, char in enumerate(ALPHABET)}

# --- tables for the bulk path (bytes.translate runs at C speed) -------------------------------
_ALPHABET_BYTES = ALPHABET.encode("ascii")
# Random byte -> character for its low 5 bits. 256 is a multiple of 32, so every character is
# equally likely and each one carries exactly 5 bits of entropy.
_RANDOM_BYTE_TO_CHAR = bytes(_ALPHABET_BYTES[byte & 31] for byte in range(256))
# Column i: Crockford character byte -> the byte value weight_i · value (always < 32).
_COLUMN_TABLES: tuple[bytes, ...] = tuple(
    bytes(products[_VALUE_OF[chr(byte)]] if chr(byte) in _VALUE_OF else 0 for byte in range(256))
    for products in _PRODUCTS
)
# Byte values 0..31 -> alphabet characters (only the first 32 entries are ever used).
_VALUE_TO_CHAR = _ALPHABET_BYTES + bytes(256 - 32)

# Crockford reading of typed text: lower case is upper case, O is 0, I and L are 1.
_CROCKFORD_READING = str.maketrans(
    "abcdefghjkmnpqrstuvwxyz" + "OoIiLl", "ABCDEFGHJKMNPQRSTUVWXYZ" + "001111"
)
_SEPARATORS = frozenset("- ")
_CANONICAL = re.compile(f"[{re.escape(ALPHABET)}]{{{CODE_LENGTH}}}")


def check_character(data: str) -> str:
    """Return the check character for 13 canonical data characters.

    Raises ``ValueError`` when ``data`` is not exactly 13 characters of :data:`ALPHABET`.
    """
    if len(data) != DATA_LENGTH:
        raise ValueError(f"check_character needs {DATA_LENGTH} data characters, got {len(data)}")
    check = 0
    for products, char in zip(_PRODUCTS, data, strict=True):
        value = _VALUE_OF.get(char)
        if value is None:
            raise ValueError(f"character {char!r} is not in the unitrace code alphabet")
        check ^= products[value]
    return ALPHABET[check]


def generate_code(randbits: Callable[[int], int] = secrets.randbits) -> str:
    """Return one new random code (65 bits from ``randbits``, injectable for tests)."""
    bits = randbits(ENTROPY_BITS)
    data = "".join(ALPHABET[(bits >> (5 * (DATA_LENGTH - 1 - i))) & 31] for i in range(DATA_LENGTH))
    return data + check_character(data)


def is_valid(code: str) -> bool:
    """Return whether ``code`` is a canonical code: 14 upper-case characters, check correct.

    This is strict on purpose (no lower case, no hyphens); use :func:`normalize_code` to
    accept what people type.
    """
    if len(code) != CODE_LENGTH:
        return False
    syndrome = 0
    # zip stops after the 13 data characters; the check character is compared below.
    for products, char in zip(_PRODUCTS, code, strict=False):
        value = _VALUE_OF.get(char)
        if value is None:
            return False
        syndrome ^= products[value]
    check = _VALUE_OF.get(code[DATA_LENGTH])
    return check is not None and syndrome == check


def _shorten(text: str) -> str:
    if len(text) <= _MESSAGE_MAX_CHARS:
        return text
    return text[: _MESSAGE_MAX_CHARS - 1] + "…"


def normalize_code(text: str) -> str:
    """Return the canonical 14-character code for what a person typed or a scanner read.

    Surrounding whitespace is stripped, hyphens and spaces inside are dropped, letters are
    upper-cased and O, I, L are read as 0, 1, 1. Positions in messages count the characters
    as typed, starting at 1 after leading whitespace.

    Raises :class:`InvalidCodeError` with ``reason`` "empty", "bad_character", "bad_length"
    or "bad_check".
    """
    stripped = text.strip()
    quick = stripped.translate(_CROCKFORD_READING)  # the common case, at C speed
    if len(quick) == CODE_LENGTH and _CANONICAL.fullmatch(quick) and is_valid(quick):
        return quick
    canonical: list[str] = []
    for position, char in enumerate(stripped, start=1):
        if char in _SEPARATORS:
            continue
        read = char.translate(_CROCKFORD_READING)
        if read not in _VALUE_OF:
            raise InvalidCodeError(
                "bad_character",
                f"character {char!r} at position {position} is not allowed in a unitrace code",
                text,
            )
        canonical.append(read)
    code = "".join(canonical)
    if not code:
        raise InvalidCodeError("empty", "no code given: the text is empty", text)
    if len(code) != CODE_LENGTH:
        raise InvalidCodeError(
            "bad_length",
            f"code {_shorten(code)!r} has {len(code)} characters; "
            f"unitrace codes have {CODE_LENGTH}",
            text,
        )
    if not is_valid(code):
        raise InvalidCodeError(
            "bad_check",
            f"code {code!r} fails its check character: a character is mistyped or two are swapped",
            text,
        )
    return code


def format_code(code: str) -> str:
    """Return ``code`` in groups of four for people, e.g. ``ABCD-EFGH-JKMN-PQ``.

    Any form :func:`normalize_code` accepts is accepted, and the result normalises back to
    the same code.
    """
    canonical = normalize_code(code)
    return "-".join(canonical[start : start + 4] for start in range(0, CODE_LENGTH, 4))


def generate_codes(n: int, token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> list[str]:
    """Return ``n`` new random codes, fast (a million in about 0.15 s on one core).

    Codes are independent 65-bit draws and are not checked for uniqueness here (among 10^9
    codes a repeat has probability about 1.4 %), so storage must still enforce it.
    ``token_bytes`` is injectable so tests can make the output deterministic.

    The work is done by C-level bulk operations rather than per-character Python loops:
    one random buffer with a byte per data character is translated to the alphabet (the low
    5 bits of each byte pick the character), and because the check is linear over GF(2) the
    13 weighted columns are translated through multiplication tables and XORed together as
    big integers (every byte is below 32, so XOR never crosses a byte boundary).

    ``base64.b32encode`` would waste fewer random bytes, but on CPython 3.11 it is a
    pure-Python loop that alone takes about 0.6 s per million codes; reading 13 bytes per
    code from the OS random source instead costs a few tens of milliseconds.
    """
    if n < 0:
        raise ValueError(f"cannot generate a negative number of codes ({n})")
    if n == 0:
        return []
    byte_count = n * DATA_LENGTH
    buffer = token_bytes(byte_count)
    if len(buffer) != byte_count:
        raise ValueError(f"token_bytes returned {len(buffer)} bytes; asked for {byte_count}")
    data = buffer.translate(_RANDOM_BYTE_TO_CHAR)

    syndrome = 0
    for position, table in enumerate(_COLUMN_TABLES):
        column = data[position::DATA_LENGTH].translate(table)
        syndrome ^= int.from_bytes(column, "big")
    checks = syndrome.to_bytes(n, "big").translate(_VALUE_TO_CHAR)

    # Interleave data and checks with a newline after each code, then split once: slice
    # assignment and str.split run in C, which beats building a million strings one by one.
    stride = CODE_LENGTH + 1
    joined = bytearray(n * stride - 1)
    for position in range(DATA_LENGTH):
        joined[position::stride] = data[position::DATA_LENGTH]
    joined[DATA_LENGTH::stride] = checks
    joined[CODE_LENGTH::stride] = b"\n" * (n - 1)
    return joined.decode("ascii").split("\n")


def generate_code_chunks(
    n: int,
    chunk_size: int,
    token_bytes: Callable[[int], bytes] = secrets.token_bytes,
) -> Iterator[list[str]]:
    """Yield ``n`` new codes as lists of at most ``chunk_size``, for streaming large batches.

    Arguments are checked when this is called, not when the first chunk is drawn.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    if n < 0:
        raise ValueError(f"cannot generate a negative number of codes ({n})")
    return _chunks(n, chunk_size, token_bytes)


def _chunks(n: int, chunk_size: int, token_bytes: Callable[[int], bytes]) -> Iterator[list[str]]:
    remaining = n
    while remaining > 0:
        size = min(chunk_size, remaining)
        yield generate_codes(size, token_bytes)
        remaining -= size
