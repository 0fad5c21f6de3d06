"""PDF label sheets and rolls, written by a small streaming PDF writer.

Each page is written to ``out`` as soon as it is complete, so memory stays flat for any
number of labels: only the byte offset of each object is kept for the cross-reference table
at the end (8 bytes an object). What is the same on every label of a batch — the
finished-goods text — is drawn once per document as a form XObject (``/Face33 Do``), so a
label costs its QR code and its code text only. The QR code is vector: one ``re`` per
horizontal run of dark modules, in module units under a ``cm`` transform, filled once, its
module a whole number of printer dots (see ``plan_label``) and its corner on the printer's
dot grid, so every module prints the same width. Text is Helvetica (a standard font every
PDF reader has, WinAnsiEncoding), measured with its Adobe font metrics.

QR encoding dominates the cost; ``workers`` moves it, with the whole page's drawing and
compression, to other processes (see docs/adr/0005-label-rendering.md).
"""

from __future__ import annotations

import multiprocessing
import os
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache
from itertools import chain, islice
from typing import BinaryIO

from unitrace.adapters.qr import DARK_RUN, qr_raster
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

# Helvetica advance widths (Adobe AFM, thousandths of an em) for WinAnsiEncoding bytes
# 32…255; 0 for the five bytes cp1252 leaves undefined (they are never produced).
_WIDTHS_FROM_32 = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0,
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0,
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667,
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333,
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611,
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278,
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611,
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
)  # fmt: skip
HELVETICA_WIDTHS: tuple[int, ...] = (0,) * 32 + _WIDTHS_FROM_32
CAP_HEIGHT = 0.718  # Helvetica, em
DESCENT = 0.207
LINE_SPACING = 1.2
ELLIPSIS = b"\x85"  # "…" in WinAnsiEncoding
_CONTROLS = dict.fromkeys((*range(32), 127), " ")

# Pages are handed to worker processes this many labels at a time (whole pages).
_TASK_LABELS = 60
# In "auto" mode, jobs up to this many labels are drawn in this process: below it, starting
# worker processes costs more than it saves.
POOL_AFTER_LABELS = 3_000
# zlib level for content streams: level 6 costs ~15 % more time per label for ~16 % smaller
# files than 5; below 5 files grow faster than time falls (measured, ADR 0005).
_DEFLATE_LEVEL = 5
# Page objects per intermediate node of the page tree (keeps viewers quick on long rolls).
_PAGES_PER_NODE = 256


def winansi(text: str) -> bytes:
    """``text`` as Helvetica can show it: cp1252 bytes, other characters as ``?``."""
    return text.translate(_CONTROLS).encode("cp1252", errors="replace")


def text_width(data: bytes, size: float) -> float:
    """Width in points of WinAnsi ``data`` set in Helvetica at ``size``."""
    return sum(HELVETICA_WIDTHS[byte] for byte in data) * size / 1000


def fit_text(text: str, size: float, width: float) -> bytes:
    """``text`` as WinAnsi bytes, cut with an ellipsis so that it fits ``width`` points."""
    data = winansi(text)
    limit = width * 1000 / size
    if sum(HELVETICA_WIDTHS[byte] for byte in data) <= limit:
        return data
    budget = limit - HELVETICA_WIDTHS[ELLIPSIS[0]]
    total = 0
    for index, byte in enumerate(data):
        total += HELVETICA_WIDTHS[byte]
        if total > budget:
            return data[:index].rstrip() + ELLIPSIS
    return data  # pragma: no cover - the loop always cuts when the whole did not fit


@dataclass(frozen=True)
class TextLine:
    """One line of Helvetica text: baseline start in label points (origin bottom-left)."""

    x: float
    y: float
    size: float
    text: bytes  # WinAnsi


def code_line(plan: LabelPlan, human_code: str) -> TextLine:
    """The human-readable code, centred under the QR code and kept inside its box.

    The font shrinks below the plan's size only when the code would not fit the box.
    """
    data = winansi(human_code)
    box = plan.code_text
    em = text_width(data, 1.0)
    size = min(plan.code_font_size, box.width / em) if em else plan.code_font_size
    width = em * size
    centre = plan.qr.x + plan.qr.size / 2
    x = min(max(centre - width / 2, box.x), box.x + box.width - width)
    return TextLine(x, box.y + (box.height - CAP_HEIGHT * size) / 2, size, data)


def face_lines(plan: LabelPlan, face: LabelFace) -> list[TextLine]:
    """The finished-goods block, top-aligned in the plan's text box, each line cut to fit."""
    box = plan.text
    if box is None:
        return []
    size = plan.text_font_size
    lead = size * LINE_SPACING
    lines = []
    for index, line in enumerate(face.lines()):
        baseline = box.y + box.height - (index + 1) * lead + (lead - size) / 2 + DESCENT * size
        if baseline - DESCENT * size < box.y - 0.01:
            break  # never draw outside the box: below it are the code and the QR's quiet zone
        lines.append(TextLine(box.x, baseline, size, fit_text(line, size, box.width)))
    return lines


def qr_corner(plan: LabelPlan, left: float, top: float) -> tuple[float, float]:
    """Top-left corner of the first QR module, given the label's top-left on the page.

    Distances are measured from the page's top-left and snapped to the printer's dot grid,
    which is how printers and rasterizers count: every module is then exactly
    ``dots_per_module`` dots, never one more or one less. Returns ``(x, distance down)``.
    """
    dot = INCH / plan.qr.dpi
    x = round((left + plan.qr.x) / dot) * dot
    down = top + plan.layout.label_height - plan.qr.y - plan.qr.size
    return x, round(down / dot) * dot


def pdf_string(data: bytes) -> bytes:
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _num(value: float) -> str:
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _text_ops(line: TextLine, dx: float = 0.0, dy: float = 0.0) -> str:
    shown = pdf_string(line.text).decode("latin-1")
    return f"BT /F1 {_num(line.size)} Tf {_num(line.x + dx)} {_num(line.y + dy)} Td {shown} Tj ET\n"


@cache
def _run_tables(stride: int) -> tuple[list[str], list[str]]:
    """Per raster offset its ``"column row "``, per run length its ``"length 1 re\\n"``."""
    starts = [f"{offset % stride} {offset // stride} " for offset in range(stride * stride)]
    lengths = [f"{length} 1 re\n" for length in range(stride + 1)]
    return starts, lengths


class _Painter:
    """Draws the labels of one page into a content stream; the same in every process."""

    def __init__(self, layout: Layout, face: LabelFace, dpi: int) -> None:
        self.layout, self.face, self.dpi = layout, face, dpi
        self.has_face = bool(face.lines())
        # Each label's left, bottom, and distance of its top from the top of the page.
        self._spots = [
            (x, y, layout.page_height - y - layout.label_height) for x, y in layout.positions()
        ]
        self._plans: dict[int, LabelPlan] = {}
        self._heads: dict[tuple[int, int], str] = {}

    def plan(self, modules: int) -> LabelPlan:
        plan = self._plans.get(modules)
        if plan is None:
            plan = self._plans[modules] = plan_label(self.layout, self.face, modules, dpi=self.dpi)
        return plan

    def _head(self, modules: int, spot: int) -> str:
        """The QR's transform (module units, y down, origin at the quiet zone's corner)."""
        key = (modules, spot)
        head = self._heads.get(key)
        if head is None:
            plan = self.plan(modules)
            left, bottom, top = self._spots[spot]
            x, down = qr_corner(plan, left, top)
            m = plan.qr.module
            quiet = QUIET_ZONE_MODULES * m
            origin_x = _num(x - quiet)
            origin_y = _num(self.layout.page_height - down + quiet)
            head = f"q {_num(m)} 0 0 {_num(-m)} {origin_x} {origin_y} cm\n"
            if self.has_face:
                head = f"q 1 0 0 1 {_num(left)} {_num(bottom)} cm /Face{modules} Do Q\n{head}"
            self._heads[key] = head
        return head

    def page(self, items: Sequence[tuple[str, str]]) -> tuple[bytes, tuple[int, ...]]:
        """A compressed content stream for ``(payload, human_code)`` pairs, and QR sizes used."""
        parts: list[str] = []
        sizes: set[int] = set()
        for spot, (payload, human_code) in enumerate(items):
            modules, raster = qr_raster(payload)
            sizes.add(modules)
            starts, lengths = _run_tables(modules + 2 * QUIET_ZONE_MODULES)
            parts.append(self._head(modules, spot))
            parts.extend(
                [
                    starts[m.start()] + lengths[m.end() - m.start()]
                    for m in DARK_RUN.finditer(raster)
                ]
            )
            parts.append("f\nQ\n")
            left, bottom, _ = self._spots[spot]
            parts.append(_text_ops(code_line(self.plan(modules), human_code), left, bottom))
        return zlib.compress("".join(parts).encode("latin-1"), _DEFLATE_LEVEL), tuple(sorted(sizes))

    def face_form(self, modules: int) -> bytes:
        """The finished-goods text for a QR code of ``modules``, as form XObject content."""
        lines = face_lines(self.plan(modules), self.face)
        return "".join(_text_ops(line) for line in lines).encode("latin-1")


class _Writer:
    """Numbers objects, writes them to ``out`` and keeps their offsets for the xref table."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._buffer = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self._flushed = 0
        self._offsets = array("Q", [0])

    def reserve(self) -> int:
        self._offsets.append(0)
        return len(self._offsets) - 1

    def obj(self, number: int, body: bytes) -> None:
        self._offsets[number] = self._flushed + len(self._buffer)
        self._buffer += b"%d 0 obj\n" % number
        self._buffer += body
        self._buffer += b"\nendobj\n"
        if len(self._buffer) >= 1 << 16:
            self.flush()

    def stream(self, number: int, data: bytes, entries: bytes = b"") -> None:
        head = b"<< /Length %d /Filter /FlateDecode%s >>\nstream\n" % (len(data), entries)
        self.obj(number, head + data + b"\nendstream")

    def flush(self) -> None:
        self._out.write(self._buffer)
        self._flushed += len(self._buffer)
        self._buffer.clear()

    def finish(self, root: int, info: int) -> None:
        start = self._flushed + len(self._buffer)
        count = len(self._offsets)
        self._buffer += b"xref\n0 %d\n0000000000 65535 f \n" % count
        for first in range(1, count, 4096):
            chunk = self._offsets[first : first + 4096]
            self._buffer += b"".join(b"%010d 00000 n \n" % offset for offset in chunk)
            self.flush()
        self._buffer += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\n" % (count, root, info)
        self._buffer += b"startxref\n%d\n%%%%EOF\n" % start
        self.flush()


class _Document:
    """The page tree and shared resources around the painted pages."""

    def __init__(self, out: BinaryIO, painter: _Painter) -> None:
        self._w = _Writer(out)
        self._painter = painter
        self._catalog, self._root = self._w.reserve(), self._w.reserve()
        self._font, self._info = self._w.reserve(), self._w.reserve()
        self._w.obj(
            self._font,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        )
        self._w.obj(self._info, b"<< /Producer (unitrace) /Title (Labels) >>")
        self._forms: dict[int, int] = {}
        self._nodes: list[int] = []
        self._kids: list[int] = []
        self._pages = 0

    def _form(self, modules: int) -> int:
        number = self._forms.get(modules)
        if number is None:
            layout = self._painter.layout
            number = self._forms[modules] = self._w.reserve()
            entries = b" /Type /XObject /Subtype /Form /BBox [0 0 %s %s] %s" % (
                _num(layout.label_width).encode(),
                _num(layout.label_height).encode(),
                self._resources(()),
            )
            self._w.stream(
                number, zlib.compress(self._painter.face_form(modules), _DEFLATE_LEVEL), entries
            )
        return number

    def _resources(self, sizes: tuple[int, ...]) -> bytes:
        fonts = b"/Resources << /Font << /F1 %d 0 R >>" % self._font
        if not sizes or not self._painter.has_face:
            return fonts + b" >>"
        forms = b" ".join(b"/Face%d %d 0 R" % (m, self._form(m)) for m in sizes)
        return fonts + b" /XObject << " + forms + b" >> >>"

    def add_page(self, content: bytes, sizes: tuple[int, ...]) -> None:
        if not self._kids:
            self._nodes.append(self._w.reserve())
        resources = self._resources(sizes)
        contents, page = self._w.reserve(), self._w.reserve()
        self._w.stream(contents, content)
        self._w.obj(
            page,
            b"<< /Type /Page /Parent %d 0 R %s /Contents %d 0 R >>"
            % (self._nodes[-1], resources, contents),
        )
        self._kids.append(page)
        self._pages += 1
        if len(self._kids) == _PAGES_PER_NODE:
            self._close_node()

    def _close_node(self) -> None:
        kids = b" ".join(b"%d 0 R" % kid for kid in self._kids)
        self._w.obj(
            self._nodes[-1],
            b"<< /Type /Pages /Parent %d 0 R /Kids [%s] /Count %d >>"
            % (self._root, kids, len(self._kids)),
        )
        self._kids.clear()

    def finish(self) -> None:
        if self._kids:
            self._close_node()
        layout = self._painter.layout
        nodes = b" ".join(b"%d 0 R" % node for node in self._nodes)
        self._w.obj(
            self._root,
            b"<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 %s %s] >>"
            % (
                nodes,
                self._pages,
                _num(layout.page_width).encode(),
                _num(layout.page_height).encode(),
            ),
        )
        self._w.obj(self._catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % self._root)
        self._w.finish(self._catalog, self._info)


def render_pdf(
    out: BinaryIO,
    layout: Layout,
    face: LabelFace,
    units: Iterable[LabelUnit],
    *,
    dpi: int = 300,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> int:
    """Write a PDF of one label per unit to ``out``; return the number of labels.

    Sheets fill left to right, top to bottom; rolls have one label per page, the page the
    size of the label. ``dpi`` is the printer's resolution: QR modules are whole printer
    dots (``plan_label``), and ``LabelError`` is raised when a QR code cannot print
    reliably on this layout. ``progress`` gets the running count after every page.
    ``workers``: processes that encode and draw in parallel with this one writing — ``1``
    draws everything here; ``None`` (the default) uses up to two worker processes once a job
    passes ``POOL_AFTER_LABELS`` labels.
    """
    painter = _Painter(layout, face, dpi)
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
        threshold = POOL_AFTER_LABELS
    else:
        threshold = 0
    painted = _painted(_pages(units, layout.per_page), painter, workers, threshold)
    # The first page is drawn before a byte is written: a QR code that cannot print on this
    # layout (``LabelError``) leaves ``out`` untouched.
    first = next(painted, None)
    if first is None:
        raise LabelError("there are no labels to print")  # a PDF needs at least one page
    doc = _Document(out, painter)
    written = 0
    for count, content, sizes in chain([first], painted):
        doc.add_page(content, sizes)
        written += count
        if progress is not None:
            progress(written)
    doc.finish()
    return written


def _pages(units: Iterable[LabelUnit], per_page: int) -> Iterator[list[tuple[str, str]]]:
    iterator = iter(units)
    while page := [(unit.payload, unit.human_code) for unit in islice(iterator, per_page)]:
        yield page


Painted = tuple[int, bytes, tuple[int, ...]]


def _painted(
    pages: Iterator[list[tuple[str, str]]], painter: _Painter, workers: int, threshold: int
) -> Iterator[Painted]:
    """Painted pages in order: here up to ``threshold`` labels, then in worker processes."""
    done = 0
    for items in pages:
        if workers > 1 and done >= threshold:
            yield from _painted_in_pool(_chain_one(items, pages), painter, workers)
            return
        yield len(items), *painter.page(items)
        done += len(items)


def _chain_one(
    first: list[tuple[str, str]], rest: Iterator[list[tuple[str, str]]]
) -> Iterator[list[tuple[str, str]]]:
    yield first
    yield from rest


_WORKER: _Painter | None = None


def _start_worker(layout: Layout, face: LabelFace, dpi: int) -> None:
    global _WORKER  # one painter per worker process, built once
    _WORKER = _Painter(layout, face, dpi)


def _paint_task(pages: list[list[tuple[str, str]]]) -> list[Painted]:
    if _WORKER is None:  # pragma: no cover - the pool's initializer sets it
        raise RuntimeError("worker process was not initialized")
    return [(len(items), *_WORKER.page(items)) for items in pages]


def _painted_in_pool(
    pages: Iterator[list[tuple[str, str]]], painter: _Painter, workers: int
) -> Iterator[Painted]:
    """Paint pages in ``workers`` processes, in page order, with only a few tasks in flight
    (memory stays flat however long ``pages`` is).

    The pool is only an accelerator: if its processes cannot start — "spawn" re-imports the
    calling program's main module, which fails in a script without the
    ``if __name__ == "__main__"`` idiom — or die, the remaining pages are painted here.
    """
    per_task = max(1, _TASK_LABELS // painter.layout.per_page)
    # "spawn": forking a threaded web server can deadlock a child on a lock held mid-fork.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(painter.layout, painter.face, painter.dpi),
    )
    pending: deque[tuple[Future[list[Painted]] | None, Task]] = deque()
    try:
        while task := list(islice(pages, per_task)):
            pending.append((_submit(pool, task), task))
            if len(pending) >= 3 * workers:
                yield from _outcome(*pending.popleft(), painter)
        while pending:
            yield from _outcome(*pending.popleft(), painter)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


Task = list[list[tuple[str, str]]]


def _submit(pool: ProcessPoolExecutor, task: Task) -> Future[list[Painted]] | None:
    try:
        return pool.submit(_paint_task, task)
    except BrokenProcessPool:
        return None


def _outcome(future: Future[list[Painted]] | None, task: Task, painter: _Painter) -> list[Painted]:
    if future is not None:
        try:
            return future.result()
        except BrokenProcessPool:
            pass
    return [(len(items), *painter.page(items)) for items in task]
