"""Benchmark: 100,000 finished-goods labels on Letter 30-up sheets, digital-link QR codes.

Baseline, in the same run: bare ``zxingcpp.create_barcode`` for the same payloads on one
core — the QR encoding alone, which the issue names as the bottleneck. The renderer draws
the first labels in this process and hands the rest to worker processes (``workers=None``);
``labels_pdf_one_process_per_s`` is the same job on 20,000 labels with ``workers=1``.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import zxingcpp

sys.path.insert(0, str(Path(__file__).parent))

from _common import peak_rss_mb, timed
from unitrace.adapters.pdf import render_pdf
from unitrace.domain.codes import generate_codes
from unitrace.domain.labels import (
    LabelFace,
    LabelTemplate,
    LabelUnit,
    QrForm,
    get_layout,
    qr_payload,
)

LABELS = 100_000
ONE_PROCESS_LABELS = 20_000
FACE = LabelFace(
    LabelTemplate.FINISHED_GOODS,
    "Green Valley Farms",
    "Blue Dream Pre-Roll 5-pack",
    strain="Blue Dream",
    net_content="3.5 g",
    lot="LOT-2026-001",
    packaged_on=dt.date(2026, 11, 1),
    expires_on=dt.date(2027, 11, 1),
    thc="Total THC 21.5 %",
    cbd="Total CBD 0.1 %",
    warnings="Keep out of reach of children. For use only by adults 21 and older.",
)


def main() -> None:
    layout = get_layout("letter-30up")
    units = [
        LabelUnit(
            code,
            qr_payload(
                "https://id.example.com",
                code,
                form=QrForm.DIGITAL_LINK,
                gtin="09506000134352",
                lot="LOT-2026-001",
            ),
        )
        for code in generate_codes(LABELS)
    ]
    with tempfile.TemporaryDirectory(prefix="unitrace-bench-") as tmp:
        path = Path(tmp) / "labels.pdf"
        with path.open("wb") as out:
            seconds = timed(lambda: render_pdf(out, layout, FACE, units, dpi=300))
        size_mb = path.stat().st_size / 1e6
        with path.open("wb") as out:
            head = units[:ONE_PROCESS_LABELS]
            one = timed(lambda: render_pdf(out, layout, FACE, head, dpi=300, workers=1))

    def encode_all() -> None:
        for unit in units:
            zxingcpp.create_barcode(unit.payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")

    baseline = timed(encode_all)
    print(f"labels={LABELS:,} layout={layout.name} template=finished_goods payload=digital_link")
    print(f"qr_encode_per_s={LABELS / baseline:,.0f}")
    print(f"labels_pdf_per_s={LABELS / seconds:,.0f}")
    print(f"labels_pdf_one_process_per_s={ONE_PROCESS_LABELS / one:,.0f}")
    print(f"labels_pdf_vs_qr_encode={seconds / baseline:.2f}")
    print(f"labels_pdf_mb={size_mb:.1f}")
    print(f"peak_rss_mb={peak_rss_mb():.0f}")


if __name__ == "__main__":
    main()
