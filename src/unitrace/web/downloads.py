"""Label files as HTTP downloads, shared by the API and the pages.

The file is rendered completely into a spooled temporary file (memory up to 8 MiB, then
disk) before the response starts: memory stays bounded for any number of labels, an
error is still a proper error response rather than a truncated file, and the print job
is recorded only for a file that was written in full.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO, BinaryIO, cast
from urllib.parse import quote

from fastapi.responses import StreamingResponse

from unitrace.domain.model import LabelFormat, Principal
from unitrace.services import labels
from unitrace.services.labels import LabelOptions, LabelSelection
from unitrace.services.runtime import Runtime

SPOOL_BYTES = 8 * 1024 * 1024
CHUNK_BYTES = 256 * 1024
MEDIA_TYPES = {
    LabelFormat.PDF: "application/pdf",
    LabelFormat.ZPL: "text/plain; charset=utf-8",  # ZPL has no registered media type
    LabelFormat.SVG_ZIP: "application/zip",
    LabelFormat.CSV: "text/csv; charset=utf-8",
}
JOB_HEADER = "X-Print-Job-Id"
COUNT_HEADER = "X-Label-Count"
# An SVG opened on its own must not run script, whatever text a label carries.
SVG_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
}


def attachment(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name per RFC 6266/5987."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c != '"' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


def labels_download(
    rt: Runtime,
    principal: Principal,
    *,
    selection: LabelSelection,
    options: LabelOptions,
    reprint_of: int | None = None,
    reason: str = "",
) -> StreamingResponse:
    """Render the labels, record the print job, and answer with the file."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by _chunks
    try:
        job = labels.render_labels(
            rt,
            principal,
            selection=selection,
            options=options,
            out=cast(BinaryIO, spool),
            reprint_of=reprint_of,
            reason=reason,
        )
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    headers = {
        "Content-Disposition": attachment(labels.filename_for(job)),
        "Content-Length": str(size),
        JOB_HEADER: str(job.id),
        COUNT_HEADER: str(job.quantity),
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(_chunks(spool), media_type=MEDIA_TYPES[job.format], headers=headers)
