"""Benchmark: ZPL for 1,000,000 labels, and the pre-flight scan check of 10,000 labels.

Baselines, in the same run:

* ZPL against a bare ``"".join`` of the same payloads written to the same sink
  (``labels_zpl_vs_join``: how many times the cost of just moving the payloads out);
* the pre-flight check against a bare zxing-cpp decode of the same 10,000 QR codes, drawn
  beforehand at the same dots per module (``preflight_vs_bare_decode``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from itertools import islice

import zxingcpp

from unitrace.adapters.preflight import preflight_check
from unitrace.adapters.qr import encode_qr
from unitrace.adapters.zpl import render_zpl
from unitrace.domain.codes import generate_codes
from unitrace.domain.labels import LabelFace, LabelTemplate, LabelUnit, get_layout, plan_label

ZPL_LABELS = 1_000_000
PREFLIGHT_LABELS = 10_000
LAYOUT = get_layout("roll-2x1")
DPI = 203
FACE = LabelFace(
    LabelTemplate.FINISHED_GOODS,
    "Bench Brand",
    "Bench Flower",
    strain="Blue Dream",
    net_content="3.5 g",
    lot="BENCH-1",
    packaged_on=dt.date(2026, 11, 20),
    expires_on=dt.date(2027, 11, 20),
    thc="Total THC 21.5 %",
    warnings="Keep out of reach of children.",
)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def make_units(n: int) -> list[LabelUnit]:
    return [LabelUnit(c, f"https://u.example/{c}") for c in generate_codes(n)]


def bench_zpl(units: list[LabelUnit]) -> None:
    with open(os.devnull, "w", encoding="utf-8") as sink:
        seconds = timed(lambda: render_zpl(sink, LAYOUT, FACE, units, dpi=DPI))

        def bare_join() -> None:
            it = iter(units)
            while chunk := list(islice(it, 4096)):
                sink.write("".join([u.payload for u in chunk]))

        baseline = timed(bare_join)
    print(f"labels_zpl={len(units):,} layout={LAYOUT.name} dpi={DPI}")
    print(f"labels_zpl_per_s={len(units) / seconds:,.0f}")
    print(f"bare_join_per_s={len(units) / baseline:,.0f}")
    print(f"labels_zpl_vs_join={seconds / baseline:.1f}")


def bench_preflight(units: list[LabelUnit]) -> None:
    report = None

    def check(workers: int | None) -> None:
        nonlocal report
        report = preflight_check(LAYOUT, FACE, units, dpi=DPI, fmt="pdf", workers=workers)

    pooled = timed(lambda: check(None))
    if report is None or not report.ok:
        raise SystemExit(f"pre-flight check failed: {report}")
    one_core = timed(lambda: check(1))
    zpl = timed(lambda: preflight_check(LAYOUT, FACE, units, dpi=DPI, fmt="zpl"))

    dots = plan_label(LAYOUT, FACE, encode_qr(units[0].payload).size, dpi=DPI).qr.dots_per_module
    images = [
        zxingcpp.create_barcode(u.payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M").to_image(
            scale=dots, add_quiet_zones=True
        )
        for u in units
    ]
    baseline = timed(lambda: [zxingcpp.read_barcode(image) for image in images])
    print(f"preflight_labels={len(units):,} layout={LAYOUT.name} dpi={DPI} cores={os.cpu_count()}")
    print(f"preflight_10k_s={pooled:.2f}")
    print(f"preflight_10k_one_process_s={one_core:.2f}")
    print(f"preflight_10k_zpl_s={zpl:.2f}")
    print(f"bare_decode_10k_s={baseline:.2f}")
    print(f"preflight_vs_bare_decode={pooled / baseline:.1f}")


def main() -> None:
    which = set(sys.argv[1:]) or {"zpl", "preflight"}
    units = make_units(ZPL_LABELS if "zpl" in which else PREFLIGHT_LABELS)
    if "zpl" in which:
        bench_zpl(units)
    if "preflight" in which:
        bench_preflight(units[:PREFLIGHT_LABELS])


if __name__ == "__main__":  # worker processes of the pre-flight check import this module
    main()
