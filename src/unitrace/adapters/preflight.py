"""Pre-flight scan check: every label's QR code, rasterized as the printer will, must decode.

For each label the QR is drawn on the printer's dot grid exactly as it will print:

* ``pdf``: the module grid placed by :func:`~unitrace.domain.labels.plan_label` at the label's
  position on the page, each module edge snapped to the nearest printer dot
  (``points * dpi / 72``, halves up), as a printer driver rasterizes vector paths;
* ``zpl``: the symbol the Zebra draws itself, ``magnification`` dots per module, at the
  geometry :func:`~unitrace.adapters.zpl.zpl_qr_geometry` gives the renderer.

The bitmap carries the four-module quiet zone and a little of the blank label around it.
zxing-cpp then reads it as a scanner would (it finds the symbol; it is not told where it is)
and the text must equal the payload exactly. A label whose QR cannot print reliably at all
(``plan_label`` refuses it) fails without being drawn.

The bitmap is built from bytes: each module row is expanded once to a row of dots and
repeated for the module's height. Big modules (60 dots on a 4 × 6 in label at 600 dpi), all
the same size, are drawn at ``_MAX_DECODE_DOTS`` dots — the same picture at a smaller scale —
so a label costs ~0.1 ms to draw and ~0.1 ms to decode whatever its size; encoding
(zxing-cpp) is the rest. Jobs of thousands
of labels are shared among worker processes.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import chain, islice, pairwise
from typing import TypeVar

import zxingcpp

from unitrace.adapters.qr import QrMatrix, encode_qr
from unitrace.adapters.zpl import EC_LEVEL, qr_modules_upper_bound, zpl_qr_geometry
from unitrace.domain.labels import (
    INCH,
    QUIET_ZONE_MODULES,
    LabelError,
    LabelFace,
    LabelPlan,
    LabelUnit,
    Layout,
    plan_label,
)

__all__ = ["FORMATS", "PreflightFailure", "PreflightReport", "preflight_check"]

FORMATS = ("pdf", "zpl")
DID_NOT_DECODE = "did not decode"
DIFFERENT_TEXT = "decoded to a different text"
# Blank label drawn around the quiet zone, in modules.
_SURROUND_MODULES = 2
# Modules of more dots are drawn at this size: the same picture, smaller (see _coarsened).
_MAX_DECODE_DOTS = 8
# Labels per unit of work: ~0.1 s, so progress moves and a worker never idles for long.
_BATCH = 250
_MAX_WORKERS = 4
# Starting worker processes costs ~0.3 s: worth it from a couple of thousand labels.
_POOL_MIN_BATCHES = 8
_T = TypeVar("_T")
_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
_LIGHT, _DARK = 255, 0
_PIXEL = (bytes([_LIGHT]), bytes([_DARK]))  # indexed by a module: 0 light, 1 dark


@dataclass(frozen=True)
class PreflightFailure:
    code: str
    payload: str
    decoded: str | None
    reason: str


@dataclass(frozen=True)
class PreflightReport:
    fmt: str
    dpi: int
    layout: str
    checked: int
    failures: tuple[PreflightFailure, ...]

    @property
    def ok(self) -> bool:
        """True when every label was checked and every one decoded to its payload."""
        return not self.failures


@dataclass(frozen=True)
class _Grid:
    """Where a symbol's module edges fall on the printer's dot grid, relative to the bitmap."""

    columns: tuple[int, ...]  # widths in dots of each module column
    rows: tuple[int, ...]  # heights in dots of each module row
    margin: int  # light dots around the symbol: quiet zone plus surrounding label


def _widths(edges: Sequence[int]) -> tuple[int, ...]:
    return tuple(b - a for a, b in pairwise(edges))


def _coarsened(grid: _Grid) -> _Grid:
    """``grid`` at no more than ``_MAX_DECODE_DOTS`` dots a module, when that is the same
    picture: every module the same size (as whole-dot modules print) and the margin whole
    modules.

    Large modules (a 4 × 6 in label at 600 dpi has 60-dot modules) make bitmaps of millions
    of dots that take 50 ms each to decode; at a smaller scale the decoder sees the same
    symbol, for a fraction of the cost. A grid with uneven modules is drawn as it is.
    """
    sizes = set(grid.columns) | set(grid.rows)
    size = sizes.pop()
    if sizes or size <= _MAX_DECODE_DOTS or grid.margin % size:
        return grid
    modules = len(grid.columns)
    scaled = (_MAX_DECODE_DOTS,) * modules
    return _Grid(scaled, scaled, grid.margin // size * _MAX_DECODE_DOTS)


def _snap(dots: float) -> int:
    """The dot boundary nearest to ``dots``, halves up, as a rasterizer's pixel-centre rule.

    Not ``round``: rounding halves to even would make the modules of a QR whose corner falls
    exactly between two dots alternate one dot wider and narrower, which no printer does. The
    nudge keeps float noise (63.49999999997) from deciding a half either way.
    """
    return math.floor(dots + 0.5 + 1e-9)


def _pdf_grid(plan: LabelPlan, origin: tuple[float, float], dpi: int) -> _Grid:
    """Module edges of a PDF label's QR, each rounded to the nearest printer dot."""
    qr, page_height = plan.qr, plan.layout.page_height
    scale = dpi / INCH
    left = origin[0] + qr.x
    top = page_height - (origin[1] + qr.y + qr.size)  # from the top of the page, y downwards
    columns = [_snap((left + k * qr.module) * scale) for k in range(qr.modules + 1)]
    rows = [_snap((top + k * qr.module) * scale) for k in range(qr.modules + 1)]
    margin = (QUIET_ZONE_MODULES + _SURROUND_MODULES) * qr.dots_per_module
    return _coarsened(_Grid(_widths(columns), _widths(rows), margin))


def _zpl_grid(modules: int, magnification: int) -> _Grid:
    widths = (magnification,) * modules
    margin = (QUIET_ZONE_MODULES + _SURROUND_MODULES) * magnification
    return _coarsened(_Grid(widths, widths, margin))


def _rasterize(matrix: QrMatrix, grid: _Grid) -> tuple[int, int, bytes]:
    """``(width, height, pixels)``: 8-bit grey, 0 dark and 255 light, rows top to bottom."""
    columns = grid.columns
    if len(columns) != matrix.size or len(grid.rows) != matrix.size:
        raise ValueError("the grid and the symbol differ in size")
    side = _PIXEL[0] * grid.margin
    width = sum(columns) + 2 * grid.margin
    blank = _PIXEL[0] * width * grid.margin
    uniform = len(set(columns)) == 1
    expand = (_PIXEL[0] * columns[0], _PIXEL[1] * columns[0]) if uniform else _PIXEL
    parts = [blank]
    for row, height in zip(matrix.rows, grid.rows, strict=True):
        if uniform:
            dots = b"".join(map(expand.__getitem__, row))
        else:
            dots = b"".join([_PIXEL[m] * w for m, w in zip(row, columns, strict=True)])
        parts.append((side + dots + side) * height)
    parts.append(blank)
    pixels = b"".join(parts)
    return width, len(pixels) // width, pixels


def _decode(width: int, height: int, pixels: bytes) -> str | None:
    image = memoryview(pixels).cast("B", (height, width))
    found = zxingcpp.read_barcode(
        image,
        formats=_QR_ONLY,
        try_rotate=False,
        try_downscale=False,
        try_invert=False,
        text_mode=zxingcpp.TextMode.Plain,
        # The bitmap is exactly 0 or 255, so a fixed threshold binarizes it exactly, and
        # twice as fast as the default local-average binarizer on large symbols.
        binarizer=zxingcpp.Binarizer.FixedThreshold,
    )
    return None if found is None else found.text


@dataclass(frozen=True)
class _Job:
    """What every label of a check shares; small and picklable, for worker processes."""

    layout: Layout
    face: LabelFace
    dpi: int
    fmt: str
    encoder: Callable[[str], QrMatrix]


class _Checker:
    def __init__(self, job: _Job) -> None:
        self.job = job
        layout = job.layout
        self._positions = layout.positions()
        # Geometry per symbol size (or why it cannot print): the same for most of a batch.
        self._plans: dict[int, LabelPlan | LabelError] = {}
        self._zpl: dict[int, int | LabelError] = {}

    def check(self, index: int, code: str, payload: str) -> PreflightFailure | None:
        try:
            matrix, grid = self._draw(index, payload)
        except LabelError as exc:
            return PreflightFailure(code, payload, None, f"cannot print: {exc}")
        decoded = _decode(*_rasterize(matrix, grid))
        if decoded is None:
            return PreflightFailure(code, payload, None, DID_NOT_DECODE)
        if decoded != payload:
            return PreflightFailure(code, payload, decoded, DIFFERENT_TEXT)
        return None

    def _draw(self, index: int, payload: str) -> tuple[QrMatrix, _Grid]:
        job = self.job
        if job.fmt == "zpl":
            magnification = self._magnification(payload)
            # The printer encodes the payload itself; zxing-cpp at the same level stands in.
            matrix = job.encoder(payload)
            if matrix.size > qr_modules_upper_bound(payload):
                raise LabelError("the symbol is larger than the label was planned for")
            return matrix, _zpl_grid(matrix.size, magnification)
        matrix = job.encoder(payload)
        plan = _cached(self._plans, matrix.size, lambda: self._plan(matrix.size))
        origin = self._positions[index % len(self._positions)]
        return matrix, _pdf_grid(plan, origin, job.dpi)

    def _plan(self, modules: int) -> LabelPlan:
        job = self.job
        return plan_label(job.layout, job.face, modules, dpi=job.dpi)

    def _magnification(self, payload: str) -> int:
        job = self.job
        return _cached(
            self._zpl,
            qr_modules_upper_bound(payload),
            lambda: zpl_qr_geometry(job.layout, job.face, payload, dpi=job.dpi).magnification,
        )


def _cached(cache: dict[int, _T | LabelError], key: int, make: Callable[[], _T]) -> _T:
    """``make()`` once per key, remembering a ``LabelError`` as well as a result."""
    found = cache.get(key)
    if found is None:
        try:
            found = make()
        except LabelError as exc:
            found = exc
        cache[key] = found
    if isinstance(found, LabelError):
        raise found
    return found


@lru_cache(maxsize=4)
def _checker(job: _Job) -> _Checker:
    return _Checker(job)


def _check_batch(job: _Job, start: int, items: list[tuple[str, str]]) -> list[PreflightFailure]:
    """Check labels ``start``, ``start + 1``, … (runs in a worker process when pooled)."""
    checker = _checker(job)
    failures = []
    for index, (code, payload) in enumerate(items, start):
        failure = checker.check(index, code, payload)
        if failure is not None:
            failures.append(failure)
    return failures


Batch = tuple[int, list[tuple[str, str]]]
Results = Iterator[tuple[int, list[PreflightFailure]]]


def _batches(units: Iterable[LabelUnit]) -> Iterator[Batch]:
    it = iter(units)
    start = 0
    while items := [(u.code, u.payload) for u in islice(it, _BATCH)]:
        yield start, items
        start += len(items)


def _run_inline(job: _Job, batches: Iterable[Batch]) -> Results:
    for start, items in batches:
        yield len(items), _check_batch(job, start, items)


def _run_pooled(job: _Job, batches: Iterable[Batch], workers: int) -> Results:
    """Check batches in ``workers`` processes, in order, a few in flight (memory stays flat).

    The pool only speeds things up: if its processes cannot start (they re-import the calling
    program's main module, which fails in a script without the ``if __name__ ==
    "__main__"`` idiom) or die, the remaining batches are checked here.
    """
    # forkserver, not fork: the caller may be a threaded web server, and a forked child can
    # deadlock on a lock another thread held at the fork. Workers fork from a server that has
    # this module imported already, so they start in milliseconds.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    pool = ProcessPoolExecutor(workers, mp_context=context)
    pending: deque[tuple[Batch, Future[list[PreflightFailure]] | None]] = deque()
    try:
        for batch in batches:
            pending.append((batch, _submit(pool, job, batch)))
            if len(pending) >= 2 * workers:
                yield _outcome(job, *pending.popleft())
        while pending:
            yield _outcome(job, *pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _submit(
    pool: ProcessPoolExecutor, job: _Job, batch: Batch
) -> Future[list[PreflightFailure]] | None:
    try:
        return pool.submit(_check_batch, job, *batch)
    except BrokenProcessPool:
        return None


def _outcome(
    job: _Job, batch: Batch, future: Future[list[PreflightFailure]] | None
) -> tuple[int, list[PreflightFailure]]:
    if future is not None:
        try:
            return len(batch[1]), future.result()
        except BrokenProcessPool:
            pass
    return len(batch[1]), _check_batch(job, *batch)


def _encode_m(payload: str) -> QrMatrix:
    return encode_qr(payload, EC_LEVEL)


def preflight_check(
    layout: Layout,
    face: LabelFace,
    units: Iterable[LabelUnit],
    *,
    dpi: int,
    fmt: str = "pdf",
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    encoder: Callable[[str], QrMatrix] = _encode_m,
) -> PreflightReport:
    """Rasterize every label's QR as the printer will and decode it with zxing-cpp.

    The report lists each label whose QR cannot print, does not decode, or decodes to
    anything but its payload; it is ``ok`` only when there are none. Streams ``units``:
    memory grows only with the failures.

    ``workers``: processes to share the work (default: one per core, at most four); jobs of
    under ``_POOL_MIN_BATCHES * _BATCH`` labels, or ``workers=1``, run in this process. ``encoder``
    is the QR encoder the renderers use (zxing-cpp, level M); a test passes another to play
    a renderer that encodes the wrong text.
    """
    if fmt not in FORMATS:
        raise LabelError(f"the pre-flight check supports {', '.join(FORMATS)}, not '{fmt}'")
    job = _Job(layout, face, dpi, fmt, encoder)
    batches = _batches(units)
    first = list(islice(batches, _POOL_MIN_BATCHES))
    if workers is None:
        workers = min(os.cpu_count() or 1, _MAX_WORKERS)
    run = (
        _run_inline
        if workers <= 1 or len(first) < _POOL_MIN_BATCHES
        else partial(_run_pooled, workers=workers)
    )
    failures: list[PreflightFailure] = []
    checked = 0
    for count, found in run(job, chain(first, batches)):
        failures.extend(found)
        checked += count
        if progress is not None:
            progress(checked)
    return PreflightReport(fmt, dpi, layout.name, checked, tuple(failures))
