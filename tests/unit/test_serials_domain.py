"""Whether a brand's serials can be guessed: the judge of a ``serials`` upload. Pure."""

from __future__ import annotations

import random
import string

from hypothesis import assume, given
from hypothesis import strategies as st

from unitrace.domain.serials import MIN_BITS, RUN_LENGTH, alphabet, bits, judge

LARGE = string.ascii_letters + string.digits  # 62 symbols: 5.95 bits each


def numbered(serials: list[str]) -> list[tuple[int, str]]:
    return [(line, serial) for line, serial in enumerate(serials, 2)]


@given(
    seed=st.integers(0, 2**32),
    count=st.integers(1, 300),
    length=st.integers(12, 20),
)
def test_random_serials_of_twelve_or_more_characters_from_a_large_alphabet_pass(
    seed: int, count: int, length: int
) -> None:
    chooser = random.Random(seed)
    serials = ["".join(chooser.choices(LARGE, k=length)) for _ in range(count)]
    # 12 characters of even the smallest span a few random serials reach (digits and one
    # case of letters, 36 symbols) carry 62 bits
    assert judge(numbered(serials)) == ([], 0)


@given(
    start=st.integers(0, 10**12),
    step=st.integers(1, 10**6),
    count=st.integers(RUN_LENGTH, 60),
    prefix=st.text(alphabet=string.ascii_uppercase + "-", max_size=8),
    width=st.integers(0, 19),
    seed=st.integers(0, 2**32),
)
def test_any_arithmetic_run_is_refused_in_any_order(
    start: int, step: int, count: int, prefix: str, width: int, seed: int
) -> None:
    serials = [f"{prefix}{start + n * step:0{width}d}" for n in range(count)]
    assume(all(len(s) <= 20 for s in serials))  # AI 21 holds 20 characters
    random.Random(seed).shuffle(serials)
    findings, total = judge(numbered(serials))
    runs = [f for f in findings if "count up" in f.message]
    assert len(runs) == 1 and total >= 1
    assert runs[0].message.startswith(f"{count} serials count up by {step} (")


def test_a_run_hidden_among_random_serials_is_found_with_its_first_row() -> None:
    chooser = random.Random(7)
    serials = ["".join(chooser.choices(LARGE, k=16)) for _ in range(50)]
    serials[10:10] = [f"LOT7-{n:08d}" for n in (40, 45, 50, 55)]
    findings, total = judge(numbered(serials))
    assert total == 1
    (finding,) = findings
    assert (finding.line, finding.serial) == (12, "LOT7-00000040")
    assert finding.message.startswith(
        "4 serials count up by 5 (LOT7-00000040, LOT7-00000045, …, LOT7-00000055)"
    )


def test_three_evenly_spaced_serials_are_not_yet_a_run() -> None:
    serials = ["X7pK2mQ9vR4t0001", "X7pK2mQ9vR4t0002", "aZ3kP9qLm2Xv8841"]
    findings, _ = judge(numbered(serials))
    assert not any("count up" in f.message for f in findings)


def test_short_digit_serials_are_refused_with_the_length_they_would_need() -> None:
    findings, total = judge(numbered(["48213977", "91822004"]))
    assert total == 1
    assert findings[0].message == (
        "serial '48213977' can be guessed: 8 characters of digits carry about 26.6 bits, "
        "under the 40 needed; use random serials of at least 13 characters of these kinds, "
        "or upload with the guessable override to accept them as weak evidence"
    )


def test_a_prefix_every_serial_shares_counts_for_nothing() -> None:
    chooser = random.Random(3)
    tails = ["".join(chooser.choices(string.digits, k=6)) for _ in range(20)]
    findings, _ = judge(numbered([f"GREENVALLEY2026{t}" for t in tails]))
    assert findings and "(15 of them the same in every serial)" in findings[0].message


def test_thirteen_random_digits_pass_and_twelve_do_not() -> None:
    assert bits(13, 10) >= MIN_BITS > bits(12, 10)
    assert alphabet(["ab", "C1", "-"]) == (82, ("digits", "upper-case letters",
                                               "lower-case letters", "symbols"))  # fmt: skip


def test_a_serial_listed_for_two_gtins_is_judged_once() -> None:
    findings, total = judge([(2, "X7pK2mQ9vR4tW8"), (3, "X7pK2mQ9vR4tW8")])
    assert (findings, total) == ([], 0)
