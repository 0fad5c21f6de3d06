"""Unit codes: alphabet, check character, normalisation and bulk generation."""

from __future__ import annotations

import pickle
import random
import re
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unitrace.domain.codes import (
    ALPHABET,
    CODE_LENGTH,
    DATA_LENGTH,
    ENTROPY_BITS,
    InvalidCodeError,
    check_character,
    format_code,
    generate_code,
    generate_code_chunks,
    generate_codes,
    is_valid,
    normalize_code,
)

random_65_bits = st.integers(min_value=0, max_value=2**ENTROPY_BITS - 1)


def seeded_token_bytes(seed: int) -> Callable[[int], bytes]:
    """Return a deterministic stand-in for secrets.token_bytes."""
    rng = random.Random(seed)
    return rng.randbytes


def code_from_bits(bits: int) -> str:
    return generate_code(randbits=lambda _: bits)


def sample_codes(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [generate_code(randbits=rng.getrandbits) for _ in range(count)]


# --- an independent reference for the check character ------------------------------------------
# Built from exp/log tables rather than shift-and-reduce, so it cross-checks the module's
# arithmetic instead of repeating it.
_EXP: list[int] = []
_value = 1
for _ in range(31):
    _EXP.append(_value)
    _value <<= 1
    if _value & 0b100000:
        _value ^= 0b100101  # x^5 + x^2 + 1
_LOG = {value: power for power, value in enumerate(_EXP)}


def reference_check(data: str) -> str:
    check = 0
    for i, char in enumerate(data):
        value = ALPHABET.index(char)
        if value:
            check ^= _EXP[(_LOG[value] + DATA_LENGTH - i) % 31]
    return ALPHABET[check]


# --- constants --------------------------------------------------------------------------------


def test_the_alphabet_is_crockford_base32() -> None:
    assert ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    assert len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_a_code_is_13_data_characters_of_5_bits_plus_a_check_character() -> None:
    assert DATA_LENGTH == 13
    assert CODE_LENGTH == 14
    assert ENTROPY_BITS == 65 == 5 * DATA_LENGTH
    assert CODE_LENGTH <= 20  # fits a GS1 AI 21 serial


def test_the_reference_field_has_a_primitive_generator() -> None:
    # If α were not primitive the weights would repeat and the detection proofs would fail.
    assert len(set(_EXP)) == 31
    assert 0 not in _EXP


# --- the check character ------------------------------------------------------------------------


def test_the_check_character_matches_the_gf32_definition() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        data = "".join(rng.choice(ALPHABET) for _ in range(DATA_LENGTH))
        assert check_character(data) == reference_check(data)


def test_known_check_characters() -> None:
    assert check_character("0000000000000") == "0"
    # Only the last data character is non-zero, so the check is α^1 · 1 = α, the value 2.
    assert check_character("0000000000001") == "2"
    # Only the first is non-zero: α^13 = x^13 reduced mod x^5 + x^2 + 1 = 0b11100 (28).
    assert check_character("1000000000000") == ALPHABET[28] == "W"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("000000000000", "check_character needs 13 data characters, got 12"),
        ("00000000000000", "check_character needs 13 data characters, got 14"),
        ("000000000000U", "character 'U' is not in the unitrace code alphabet"),
        ("000000000000a", "character 'a' is not in the unitrace code alphabet"),
    ],
)
def test_check_character_rejects_anything_but_13_canonical_characters(
    data: str, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_character(data)


def test_every_single_character_substitution_is_detected() -> None:
    for code in sample_codes(200, seed=2):
        assert is_valid(code)
        for position in range(CODE_LENGTH):
            for replacement in ALPHABET:
                if replacement == code[position]:
                    continue
                typo = code[:position] + replacement + code[position + 1 :]
                assert not is_valid(typo), (code, typo)


def test_every_adjacent_swap_is_detected() -> None:
    swaps_checked = 0
    for code in sample_codes(200, seed=3):
        for position in range(CODE_LENGTH - 1):
            left, right = code[position], code[position + 1]
            if left == right:
                continue
            swapped = code[:position] + right + left + code[position + 2 :]
            assert not is_valid(swapped), (code, swapped)
            swaps_checked += 1
    assert swaps_checked > 200 * 12  # nearly all pairs differ, so the sample is not vacuous


def test_swapping_the_last_data_character_with_the_check_character_is_detected() -> None:
    data = "0000000000001"
    code = data + check_character(data)  # check "2", so the last two characters differ
    assert code.endswith("12")
    assert not is_valid(code[:-2] + "21")


def test_a_substitution_is_reported_as_a_failed_check() -> None:
    code = sample_codes(1, seed=4)[0]
    typo = code[:5] + ("A" if code[5] != "A" else "B") + code[6:]
    with pytest.raises(InvalidCodeError) as caught:
        normalize_code(typo)
    assert caught.value.reason == "bad_check"


# --- is_valid ---------------------------------------------------------------------------------


def test_is_valid_accepts_only_the_canonical_form() -> None:
    data = "0123456789ABC"
    code = data + check_character(data)
    assert is_valid(code)
    assert not is_valid(code.lower())
    assert not is_valid(format_code(code))
    assert not is_valid(code[:-1])
    assert not is_valid(code + "0")
    assert not is_valid("")
    assert not is_valid("U" * CODE_LENGTH)


# --- generate_code ------------------------------------------------------------------------------


def test_generate_code_asks_for_exactly_65_random_bits() -> None:
    requested: list[int] = []

    def spy(bits: int) -> int:
        requested.append(bits)
        return 0

    assert generate_code(randbits=spy) == "0" * CODE_LENGTH
    assert requested == [65]


def test_generate_code_uses_the_system_random_source_by_default() -> None:
    codes = {generate_code() for _ in range(100)}
    assert len(codes) == 100
    assert all(is_valid(code) for code in codes)


@given(random_65_bits)
def test_generated_codes_are_valid(bits: int) -> None:
    code = code_from_bits(bits)
    assert len(code) == CODE_LENGTH
    assert is_valid(code)
    assert code[-1] == reference_check(code[:-1])


# --- normalize_code and format_code -------------------------------------------------------------


@given(random_65_bits)
def test_normalize_code_returns_a_valid_code_unchanged(bits: int) -> None:
    code = code_from_bits(bits)
    assert normalize_code(code) == code


@given(random_65_bits)
def test_normalize_code_ignores_case(bits: int) -> None:
    code = code_from_bits(bits)
    assert normalize_code(code.lower()) == code


@given(random_65_bits)
def test_format_code_groups_by_four_and_normalizes_back(bits: int) -> None:
    code = code_from_bits(bits)
    formatted = format_code(code)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}", formatted)
    assert formatted.replace("-", "") == code
    assert normalize_code(formatted) == code
    assert normalize_code(formatted.lower()) == code


@given(random_65_bits, st.data())
def test_normalize_code_ignores_hyphens_spaces_and_surrounding_whitespace(
    bits: int, data: st.DataObject
) -> None:
    code = code_from_bits(bits)
    separators = data.draw(
        st.lists(st.sampled_from(["", "", "-", " ", "--", " - "]), min_size=13, max_size=13)
    )
    typed = code[0] + "".join(sep + char for sep, char in zip(separators, code[1:], strict=True))
    padding = data.draw(st.sampled_from(["", " ", "\t", "\n", "  \r\n"]))
    assert normalize_code(padding + typed + padding) == code


@given(random_65_bits, st.data())
def test_normalize_code_reads_o_as_zero_and_i_and_l_as_one(bits: int, data: st.DataObject) -> None:
    code = code_from_bits(bits)
    confusable = {"0": ["0", "O", "o"], "1": ["1", "I", "i", "L", "l"]}
    typed = "".join(
        data.draw(st.sampled_from(confusable[char])) if char in confusable else char
        for char in code
    )
    assert normalize_code(typed) == code


def test_normalize_code_maps_a_concrete_confusable_code() -> None:
    data = "0000000000001"
    code = data + check_character(data)
    assert normalize_code("oOoO-0000-OOOO-l2") == code
    assert normalize_code("0000 0000 0000 I2") == code


@pytest.mark.parametrize("text", ["", "   ", "-", " - - ", "\t\n"])
def test_an_empty_code_is_rejected_with_reason_empty(text: str) -> None:
    with pytest.raises(InvalidCodeError) as caught:
        normalize_code(text)
    assert caught.value.reason == "empty"
    assert str(caught.value) == "no code given: the text is empty"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ABCDU", "character 'U' at position 5 is not allowed in a unitrace code"),
        ("abcdu", "character 'u' at position 5 is not allowed in a unitrace code"),
        # Positions count the text as typed, hyphens included.
        ("ABCD-EFGU", "character 'U' at position 9 is not allowed in a unitrace code"),
        ("  ABC#", "character '#' at position 4 is not allowed in a unitrace code"),
        ("ABC_DEF", "character '_' at position 4 is not allowed in a unitrace code"),
        ("ÅBC", "character 'Å' at position 1 is not allowed in a unitrace code"),
        ("0000\u20130000", "character '–' at position 5 is not allowed in a unitrace code"),
    ],
)
def test_a_character_outside_the_alphabet_is_rejected_with_its_position(
    text: str, message: str
) -> None:
    with pytest.raises(InvalidCodeError) as caught:
        normalize_code(text)
    assert caught.value.reason == "bad_character"
    assert str(caught.value) == message
    assert caught.value.text == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ABC", "code 'ABC' has 3 characters; unitrace codes have 14"),
        ("0000-0000-0000", "code '000000000000' has 12 characters; unitrace codes have 14"),
        ("000000000000000", "code '000000000000000' has 15 characters; unitrace codes have 14"),
        ("0" * 40, f"code '{'0' * 23}…' has 40 characters; unitrace codes have 14"),
    ],
)
def test_a_code_of_the_wrong_length_is_rejected_with_its_length(text: str, message: str) -> None:
    with pytest.raises(InvalidCodeError) as caught:
        normalize_code(text)
    assert caught.value.reason == "bad_length"
    assert str(caught.value) == message


def test_a_code_with_a_wrong_check_character_is_rejected_with_a_hint() -> None:
    with pytest.raises(InvalidCodeError) as caught:
        normalize_code("0000-0000-0000-01")
    assert caught.value.reason == "bad_check"
    assert str(caught.value) == (
        "code '00000000000001' fails its check character: "
        "a character is mistyped or two are swapped"
    )


def test_invalid_code_error_is_a_value_error_that_survives_pickling() -> None:
    with pytest.raises(ValueError, match="unitrace codes have 14") as caught:
        normalize_code("ABC")
    error = caught.value
    assert isinstance(error, InvalidCodeError)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round-tripped
    assert (copy.reason, str(copy), copy.text) == ("bad_length", str(error), "ABC")


def test_format_code_rejects_an_invalid_code() -> None:
    with pytest.raises(InvalidCodeError):
        format_code("0000-0000-0000-01")


# --- generate_codes ---------------------------------------------------------------------------


def test_generate_codes_returns_n_valid_distinct_codes() -> None:
    codes = generate_codes(20_000)
    assert len(codes) == 20_000
    assert all(len(code) == CODE_LENGTH for code in codes)
    assert all(is_valid(code) for code in codes)
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 8, 13, 64, 1000])
def test_generate_codes_returns_exactly_n_codes(n: int) -> None:
    codes = generate_codes(n, token_bytes=seeded_token_bytes(n))
    assert len(codes) == n
    assert all(is_valid(code) for code in codes)


def test_the_fast_check_characters_equal_the_scalar_ones() -> None:
    codes = generate_codes(5000, token_bytes=seeded_token_bytes(6))
    for code in codes:
        assert code[-1] == check_character(code[:-1]) == reference_check(code[:-1])


def test_generate_codes_is_deterministic_with_injected_random_bytes() -> None:
    first = generate_codes(500, token_bytes=seeded_token_bytes(7))
    again = generate_codes(500, token_bytes=seeded_token_bytes(7))
    other = generate_codes(500, token_bytes=seeded_token_bytes(8))
    assert first == again
    assert first != other


def test_generate_codes_maps_each_random_byte_to_one_character_by_its_low_five_bits() -> None:
    codes = generate_codes(2, token_bytes=lambda size: bytes(range(size)))
    assert codes[0] == "0123456789ABC" + reference_check("0123456789ABC")
    assert codes[1] == "DEFGHJKMNPQRS" + reference_check("DEFGHJKMNPQRS")
    assert generate_codes(3, token_bytes=lambda size: bytes(size)) == ["0" * CODE_LENGTH] * 3
    # 0xE0 has low five bits 0 and 0xFF has 31: the high bits are discarded.
    assert generate_codes(1, token_bytes=lambda size: b"\xe0" * size)[0] == "0" * CODE_LENGTH
    all_z = "Z" * DATA_LENGTH
    ones = generate_codes(1, token_bytes=lambda size: b"\xff" * size)
    assert ones == [all_z + check_character(all_z)]


def test_every_character_is_equally_likely_in_generated_codes() -> None:
    # Every byte value once per 256 bytes, so each character must appear equally often.
    counts = Counter(
        "".join(
            code[:DATA_LENGTH]
            for code in generate_codes(256, token_bytes=lambda size: bytes(range(256)) * 13)
        )
    )
    assert set(counts) == set(ALPHABET)
    assert set(counts.values()) == {256 * DATA_LENGTH // 32}


def test_generate_codes_asks_for_one_random_byte_per_data_character() -> None:
    requested: list[int] = []

    def spy(size: int) -> bytes:
        requested.append(size)
        return bytes(size)

    generate_codes(10, token_bytes=spy)
    assert requested == [130]


def test_generate_codes_rejects_a_negative_count() -> None:
    with pytest.raises(ValueError, match=r"^cannot generate a negative number of codes \(-1\)$"):
        generate_codes(-1)


def test_generate_codes_rejects_a_short_random_source() -> None:
    with pytest.raises(ValueError, match=r"^token_bytes returned 12 bytes; asked for 13$"):
        generate_codes(1, token_bytes=lambda size: bytes(size - 1))


def test_generate_code_chunks_streams_n_codes_in_lists_of_at_most_chunk_size() -> None:
    chunks = list(generate_code_chunks(10, 4, token_bytes=seeded_token_bytes(9)))
    assert [len(chunk) for chunk in chunks] == [4, 4, 2]
    assert all(is_valid(code) for chunk in chunks for code in chunk)
    assert list(generate_code_chunks(0, 4)) == []
    assert [len(chunk) for chunk in generate_code_chunks(8, 4)] == [4, 4]


def test_generate_code_chunks_checks_its_arguments_when_called() -> None:
    with pytest.raises(ValueError, match=r"^chunk_size must be at least 1, got 0$"):
        generate_code_chunks(10, 0)
    with pytest.raises(ValueError, match=r"^cannot generate a negative number of codes \(-5\)$"):
        generate_code_chunks(-5, 10)
