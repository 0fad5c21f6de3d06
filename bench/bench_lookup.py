"""Benchmark: unit lookup by code through the service layer (``services.units.get_unit``).

Baseline, in the same run: a bare ``sqlite3`` ``SELECT … WHERE code = ?`` on the same file.
"""

from __future__ import annotations

import random
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import released_batch, sqlite_runtime, timed
from unitrace.services.serialization import commission_units, iter_commissioned_codes
from unitrace.services.units import get_unit

UNITS = 200_000
LOOKUPS = 20_000
ROUNDS = 3


def main() -> None:
    with sqlite_runtime() as (rt, tmp):
        principal, batch = released_batch(rt)
        result = commission_units(rt, principal, batch_id=batch.id, quantity=UNITS)
        codes = list(iter_commissioned_codes(rt, principal, event_id=result.event_id))
        sample = random.sample(codes, LOOKUPS)

        def lookups() -> None:
            for code in sample:
                get_unit(rt, principal, code)

        get_unit(rt, principal, sample[0])  # warm the connection pool and statement cache
        # Best of several rounds: the machine is shared, a single round is at its mercy.
        seconds = min(timed(lookups) for _ in range(ROUNDS))
        raw = sqlite3.connect(tmp / "bench.db")

        def raw_lookups() -> None:
            for code in sample:
                raw.execute("SELECT * FROM units WHERE code = ?", (code,)).fetchone()

        baseline = min(timed(raw_lookups) for _ in range(ROUNDS))
        raw.close()
    print(f"lookups={LOOKUPS:,} among units={UNITS:,} (best of {ROUNDS} rounds)")
    print(f"raw_select_per_s={LOOKUPS / baseline:,.0f}")
    print(f"unit_lookup_per_s={LOOKUPS / seconds:,.0f}")
    print(f"unit_lookup_vs_raw_select={seconds / baseline:.1f}")


if __name__ == "__main__":
    main()
