"""Label renderers (PDF, SVG, PNG) checked with real decoders; shared label data lives here."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from unitrace.domain.codes import generate_codes
from unitrace.domain.labels import LabelFace, LabelTemplate, LabelUnit, QrForm, qr_payload

RESOLVER = "https://id.example.com"
GTIN = "09506000134352"
LOT = "LOT-2026-001"

QR_ONLY = LabelFace(LabelTemplate.QR_ONLY, "Green Valley Farms", "Blue Dream")
FINISHED = LabelFace(
    LabelTemplate.FINISHED_GOODS,
    "Green Valley Farms",
    "Blue Dream Pre-Roll 5-pack",
    strain="Blue Dream",
    net_content="3.5 g",
    lot=LOT,
    packaged_on=dt.date(2026, 11, 1),
    expires_on=dt.date(2027, 11, 1),
    thc="Total THC 21.5 %",
    cbd="Total CBD 0.1 %",
    warnings="Keep out of reach of children. For use only by adults 21 years of age and older.",
)


def make_units(count: int, *, form: QrForm = QrForm.DIGITAL_LINK, seed: int = 7) -> list[LabelUnit]:
    """``count`` units with distinct, deterministic codes and their QR payloads."""
    return list(iter_units(count, form=form, seed=seed))


def iter_units(
    count: int, *, form: QrForm = QrForm.DIGITAL_LINK, seed: int = 7
) -> Iterator[LabelUnit]:
    """The same units as :func:`make_units`, drawn lazily (for streaming checks)."""
    rng = random.Random(seed)
    for _ in range(count):
        (code,) = generate_codes(1, token_bytes=rng.randbytes)
        yield LabelUnit(code, qr_payload(RESOLVER, code, form=form, gtin=GTIN, lot=LOT))
