"""Serials a brand generated and printed itself: their upload layout and whether they can be
guessed. Pure.

A unitrace code carries 65 random bits; a serial from elsewhere carries whatever its maker put
in it. A consumer's scan of a serial proves the product genuine only if a counterfeiter could
not have printed a valid one without seeing it, so :func:`judge` refuses a file whose serials
are short for their alphabet or count up ([ADR 0011](../../../docs/adr/0011-external-serials.md)).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from unitrace.domain.tabular import Column, Layout

# Guessing one of a million live serials of a GTIN succeeds with odds of 10^6 / 2^40 ≈ 10^-6
# per try: two orders below EU FMD's 10^-4 for one of its codes, at 25 bits fewer than ours.
MIN_BITS = 40
# Four serials whose counters step evenly (three equal steps) make a run. Sorted random
# counters of 40 bits or more do that by chance about once in 10^6 files of a million serials.
RUN_LENGTH = 4
_SHOWN_RUNS = 20

_CLASSES = (
    ("digits", re.compile(r"[0-9]"), 10),
    ("upper-case letters", re.compile(r"[A-Z]"), 26),
    ("lower-case letters", re.compile(r"[a-z]"), 26),
    ("symbols", re.compile(r"[^0-9A-Za-z]"), 20),  # the rest of GS1 character set 82
)
_COUNTER = re.compile(r"([0-9]+)$")

SERIALS = Layout(
    kind="serials",
    title="External serials",
    description=(
        "Serials your brand generated and printed itself (GS1 AI 21), one row per unit: each "
        "becomes a unit of the batch, with its own unitrace code, and is commissioned in one "
        "event. Its Digital Link, scans and events use your serial. A serial has 1 to 20 "
        "characters of GS1 character set 82, is used once per GTIN (the batch's product must "
        f"have one), and a file is refused when its serials could be guessed: under {MIN_BITS} "
        "bits each by their length and the kinds of characters used, or counting up (runs "
        f"of {RUN_LENGTH} or more evenly spaced numbers, alone or after a shared prefix). "
        "Uploading with the guessable override (`allow_guessable=true`, `--allow-guessable`) "
        "accepts them, and the public verification then says the code alone is weak "
        "evidence. The whole file is applied or nothing is; uploading it again changes nothing."
    ),
    columns=(
        Column(
            "lot_number",
            example="BD-2611-A",
            max_length=20,
            description="a released batch of yours, whose product has a GTIN",
            aliases=("lot", "batch"),
        ),
        Column(
            "serial",
            example="X7pK2mQ9vR4tW8",
            max_length=20,
            description="the serial printed on the unit (GS1 AI 21), exactly as printed",
            aliases=("external_serial", "serial_number", "sn", "21"),
        ),
        Column(
            "gtin",
            required=False,
            example="09506000134352",
            description="the product's GTIN, when two products share a lot number",
            max_length=14,
        ),
    ),
)


@dataclass(frozen=True)
class Finding:
    """Why a file's serials can be guessed: the row to look at, its serial, a message."""

    line: int
    serial: str
    message: str


def alphabet(serials: Iterable[str]) -> tuple[int, tuple[str, ...]]:
    """The size of the alphabet the serials draw from, judged by the classes of characters
    they use (digits 10, each case of letters 26, symbols 20), and those classes' names."""
    text = "".join(serials)
    used = [(name, size) for name, pattern, size in _CLASSES if pattern.search(text)]
    return sum(size for _, size in used) or 1, tuple(name for name, _ in used)


def bits(length: int, size: int) -> float:
    """Estimated entropy of ``length`` characters drawn from ``size`` symbols, in bits."""
    return length * math.log2(size) if size > 1 else 0.0


def _shared_head(texts: Sequence[str]) -> int:
    """How many leading characters every text shares (those of the least and the greatest)."""
    low, high = min(texts), max(texts)
    n = 0
    while n < len(low) and low[n] == high[n]:
        n += 1
    return n


def _weakest(serials: Sequence[tuple[int, str]]) -> Finding | None:
    texts = [s for _, s in serials]
    size, classes = alphabet(texts)
    # What every serial shares (a brand prefix, a fixed suffix) tells a guesser nothing new.
    shared = 0
    if len(texts) > 1:
        head = _shared_head(texts)
        tail = _shared_head([t[::-1] for t in texts])
        shared = min(head + tail, min(len(t) for t in texts))
    line, serial = min(serials, key=lambda item: len(item[1]))
    free = len(serial) - shared
    estimate = bits(free, size)
    if estimate >= MIN_BITS:
        return None
    kinds = " and ".join((", ".join(classes[:-1]), classes[-1])) if len(classes) > 1 else classes[0]
    fixed = f" ({shared} of them the same in every serial)" if shared else ""
    need = math.ceil(MIN_BITS / math.log2(size)) + shared if size > 1 else None
    longer = f"at least {need} characters of these kinds" if need else "more kinds of characters"
    return Finding(
        line,
        serial,
        f"serial {serial!r} can be guessed: {len(serial)} characters of {kinds}{fixed} carry "
        f"about {estimate:.1f} bits, under the {MIN_BITS} needed; use random serials of "
        f"{longer}, or upload with the guessable override to accept them as weak evidence",
    )


def _runs(serials: Sequence[tuple[int, str]]) -> list[tuple[list[tuple[int, int, str]], int]]:
    """Evenly spaced counters after the same prefix: ``(members, step)`` for each run."""
    groups: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for line, serial in serials:
        counter = _COUNTER.search(serial)
        if counter is not None:
            groups[serial[: counter.start()]].append((int(counter.group(1)), line, serial))
    runs = []
    for members in groups.values():
        if len(members) < RUN_LENGTH:
            continue
        members.sort()
        i = 0
        while i < len(members) - 1:
            step = members[i + 1][0] - members[i][0]
            j = i + 1
            while j + 1 < len(members) and members[j + 1][0] - members[j][0] == step:
                j += 1
            if step > 0 and j - i + 1 >= RUN_LENGTH:
                runs.append((members[i : j + 1], step))
            i = j  # a shorter run inside i..j has the same step: nothing new to find there
    runs.sort(key=lambda run: min(line for _, line, _ in run[0]))
    return runs


def _run_finding(members: list[tuple[int, int, str]], step: int) -> Finding:
    _, line, serial = min(members, key=lambda m: m[1])
    first, second, last = members[0][2], members[1][2], members[-1][2]
    return Finding(
        line,
        serial,
        f"{len(members)} serials count up by {step} ({first}, {second}, …, {last}): one "
        "printed serial gives away the others; use random serials, or upload with the "
        "guessable override to accept them as weak evidence",
    )


def judge(serials: Sequence[tuple[int, str]]) -> tuple[list[Finding], int]:
    """Whether a file's ``(line, serial)`` pairs can be guessed: the findings (the weakest
    serial when under :data:`MIN_BITS`; each counting run, at most 20) and how many in all.
    No findings: the serials pass."""
    # a serial listed twice (for two GTINs) is judged once
    first: dict[str, tuple[int, str]] = {}
    for line, serial in serials:
        first.setdefault(serial, (line, serial))
    serials = list(first.values())
    if not serials:
        return [], 0
    findings = []
    weakest = _weakest(serials)
    if weakest is not None:
        findings.append(weakest)
    runs = _runs(serials)
    findings.extend(_run_finding(members, step) for members, step in runs[:_SHOWN_RUNS])
    return findings, len(findings) + max(0, len(runs) - _SHOWN_RUNS)
