"""Reading spreadsheets people actually send: CSV in any common encoding, delimiter and line
ending, with headers matched loosely and every problem reported at once. Pure.

An upload kind is a :class:`Layout`: its columns, their types, units and rules. Reading a
file yields typed rows and collects :class:`Problem` s (line number, column, value, a message a
person can act on) instead of stopping at the first; the caller applies nothing unless the
whole file is clean.

* **Encoding**: UTF-8 with or without a byte-order mark, else Windows-1252 (what Excel on
  Windows writes with "CSV"); see :func:`detect_encoding`.
* **Delimiter**: comma, semicolon (European Excel) or tab, chosen from the header line.
* **Line endings**: ``\\n``, ``\\r\\n`` or ``\\r``; quoted cells may hold line breaks.
* **Headers**: case, spaces, hyphens and a unit in brackets are ignored (``THC %``, ``thc-
  percent`` and ``Thc Percent`` all match ``thc_percent``); missing required columns,
  unknown and repeated columns are problems.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO, TextIO

MAX_PROBLEMS = 1_000  # problems listed per file; the count goes on
MAX_CELL = 10_000
_BOM = b"\xef\xbb\xbf"
_DELIMITERS = (",", ";", "\t")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file. ``line`` counts physical lines from 1 (the header)."""

    line: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"row {self.line}")
        if self.column is not None:
            where.append(f"column `{self.column}`")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message says what to do."""


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


# ---------------------------------------------------------------------------------------
# Cell types


def parse_text(value: str) -> str:
    return value


def parse_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        pass
    if re.fullmatch(r"[+-]?\d{1,3}([,.' ]\d{3})+", value):
        raise CellError(f"`{_shown(value)}` is not a whole number: write it without separators")
    raise CellError(f"`{_shown(value)}` is not a whole number")


def parse_decimal(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        if re.fullmatch(r"[+-]?\d+,\d+", value):
            raise CellError(
                f"`{_shown(value)}` is not a number: use a dot as decimal separator"
            ) from None
        raise CellError(f"`{_shown(value)}` is not a number") from None
    if not number.is_finite():
        raise CellError(f"`{_shown(value)}` is not a number")
    return number


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CellError(f"`{_shown(value)}` is not a date: write it as YYYY-MM-DD") from None


def parse_datetime(value: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CellError(
            f"`{_shown(value)}` is not a date and time: write it as YYYY-MM-DDTHH:MM:SS+00:00"
        ) from None
    if moment.tzinfo is None:
        raise CellError(f"`{_shown(value)}` has no time zone: add one, e.g. `Z` or `-08:00`")
    return moment.astimezone(dt.UTC)


def parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "yes", "y", "1"):
        return True
    if lowered in ("false", "no", "n", "0"):
        return False
    raise CellError(f"`{_shown(value)}` is not yes or no")


PARSERS: dict[str, Callable[[str], Any]] = {
    "text": parse_text,
    "integer": parse_int,
    "decimal": parse_decimal,
    "date": parse_date,
    "datetime": parse_datetime,
    "boolean": parse_bool,
}


@dataclass(frozen=True)
class Column:
    """One column of an upload kind."""

    name: str
    type: str = "text"  # a key of PARSERS
    required: bool = True
    description: str = ""
    unit: str | None = None
    example: str = ""
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    minimum: Decimal | int | None = None
    maximum: Decimal | int | None = None
    aliases: tuple[str, ...] = ()

    def parser(self) -> Callable[[str], Any]:
        """:meth:`parse` for many cells: plain text columns (most of a large file) get a
        closure that does only what they need; the others use :meth:`parse` itself."""
        if self.type != "text" or self.choices:
            return self.parse
        required, longest = self.required, self.max_length

        def text(raw: str) -> str | None:
            value = raw.strip()
            if not value:
                if required:
                    raise CellError("is required")
                return None
            if value[0] == "'":
                value = unsafe_cell(value)
            if longest is not None and len(value) > longest:
                raise CellError(f"has {len(value)} characters; at most {longest}")
            return value

        return text

    def parse(self, raw: str) -> Any:
        """The cell's value (None for an empty optional cell); :class:`CellError` if bad."""
        value = raw.strip()
        if not value:
            if self.required:
                raise CellError("is required")
            return None
        if value[0] == "'":
            value = unsafe_cell(value)
        if self.max_length is not None and len(value) > self.max_length:
            raise CellError(f"has {len(value)} characters; at most {self.max_length}")
        if self.choices:
            lowered = value.lower()
            for choice in self.choices:
                if choice.lower() == lowered:
                    return choice
            raise CellError(f"`{_shown(value)}` is not one of: {', '.join(self.choices)}")
        if self.type == "text":
            return value
        parsed = PARSERS[self.type](value)
        if self.minimum is not None and parsed < self.minimum:
            raise CellError(f"`{_shown(value)}` is below the minimum {self.minimum}")
        if self.maximum is not None and parsed > self.maximum:
            raise CellError(f"`{_shown(value)}` is above the maximum {self.maximum}")
        return parsed


RowCheck = Callable[[dict[str, Any]], Iterable[tuple[str | None, str]]]


@dataclass(frozen=True)
class Layout:
    """An upload kind: its columns and the rules across columns of one row."""

    kind: str
    title: str
    description: str
    columns: tuple[Column, ...]
    row_checks: tuple[RowCheck, ...] = field(default=(), compare=False)
    # columns an export of the same data adds, accepted and not read (so exports re-import)
    ignored: tuple[str, ...] = ()
    extra_columns: Callable[[str], Column | None] | None = field(default=None, compare=False)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def template(self) -> str:
        """The CSV template: the header row and one example row (UTF-8, CRLF)."""
        header = [c.name for c in self.columns]
        example = [c.example for c in self.columns]
        return _csv_line(header) + _csv_line(example)

    def documentation(self) -> str:
        """The columns as a Markdown table, with the kind's description."""
        lines = [f"## {self.title} (`{self.kind}`)", "", self.description, ""]
        lines.append("| column | type | required | unit | rules and meaning | example |")
        lines.append("|---|---|---|---|---|---|")
        for c in self.columns:
            rules = [c.description] if c.description else []
            if c.choices:
                rules.append("one of " + ", ".join(f"`{x}`" for x in c.choices))
            if c.max_length:
                rules.append(f"at most {c.max_length} characters")
            if c.minimum is not None:
                rules.append(f"at least {c.minimum}")
            if c.maximum is not None:
                rules.append(f"at most {c.maximum}")
            kind = "choice" if c.choices else c.type
            lines.append(
                f"| `{c.name}` | {kind} | {'yes' if c.required else 'no'} | {c.unit or ''} "
                f"| {'; '.join(rules)} | `{c.example}` |"
            )
        if self.ignored:
            shown = ", ".join(f"`{name}`" for name in self.ignored)
            lines += ["", f"Also accepted and not read (an export adds them): {shown}."]
        return "\n".join(lines) + "\n"


def _csv_line(cells: Sequence[str]) -> str:
    out = []
    for cell in cells:
        if any(ch in cell for ch in ',;"\n\r\t'):
            cell = '"' + cell.replace('"', '""') + '"'
        out.append(cell)
    return ",".join(out) + "\r\n"


# ---------------------------------------------------------------------------------------
# Files


def detect_encoding(stream: BinaryIO, chunk: int = 1 << 20) -> str:
    """``utf-8-sig`` (byte-order mark), ``utf-8``, or ``cp1252`` when the bytes are not
    UTF-8 anywhere in the file. Reads the whole stream once and rewinds it."""
    start = stream.tell()
    head = stream.read(3)
    if head == _BOM:
        stream.seek(start)
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    data = head
    try:
        while data:
            decoder.decode(data)
            data = stream.read(chunk)
        decoder.decode(b"", final=True)
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "cp1252"
    stream.seek(start)
    return encoding


def detect_delimiter(header_line: str) -> str:
    """The delimiter the header line uses most (comma when there is none)."""
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def header_key(name: str) -> str:
    """A header name reduced for matching: ``"THC (%)"`` → ``thc_percent``, ``"Lot-Number"``
    → ``lot_number``, ``"Quantity (units)"`` → ``quantity``."""
    text = name.replace("\ufeff", "").strip().lower()
    text = re.sub(r"[\(\[]\s*%\s*[\)\]]", " percent ", text)
    text = re.sub(r"\s*[\(\[].*?[\)\]]\s*", " ", text)  # any other unit in brackets
    text = text.replace("%", " percent ")
    text = re.sub(r"[\s\-./]+", "_", text.strip())
    return text.strip("_")


@dataclass
class Reading:
    """What :func:`read_rows` found: the encoding and delimiter, the columns, the rows read
    and the problems (at most ``MAX_PROBLEMS`` kept; ``problem_count`` counts all)."""

    encoding: str = "utf-8"
    delimiter: str = ","
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


def _match_header(layout: Layout, names: Sequence[str], reading: Reading) -> list[Column | None]:
    by_key: dict[str, Column] = {}
    for known in layout.columns:
        by_key[header_key(known.name)] = known
        for alias in known.aliases:
            by_key[header_key(alias)] = known
    matched: list[Column | None] = []
    seen: dict[str, int] = {}
    ignored = {header_key(name) for name in layout.ignored}
    for index, raw in enumerate(names):
        key = header_key(raw)
        if not key:
            if any(n.strip() for n in names[index + 1 :]):
                reading.add(Problem(1, None, raw, f"column {index + 1} has no name"))
            matched.append(None)
            continue
        if key in ignored:
            matched.append(None)
            continue
        column: Column | None = by_key.get(key)
        if column is None and layout.extra_columns is not None:
            column = layout.extra_columns(key)
        if column is None:
            names_ = ", ".join(c.name for c in layout.columns)
            reading.add(Problem(1, raw.strip(), None, f"unknown column; the columns are: {names_}"))
        elif column.name in seen:
            reading.add(
                Problem(
                    1, raw.strip(), None, f"repeats column {seen[column.name] + 1} ({column.name})"
                )
            )
            column = None
        else:
            seen[column.name] = index
        matched.append(column)
    for wanted in layout.columns:
        if wanted.required and wanted.name not in seen:
            reading.add(Problem(1, wanted.name, None, "required column is missing"))
    reading.columns = [c.name for c in matched if c is not None]
    return matched


def read_rows(
    stream: BinaryIO,
    layout: Layout,
    reading: Reading,
    *,
    max_rows: int,
    max_bytes: int | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Typed rows ``(line, values)`` of a CSV file, problems collected in ``reading``.

    Rows with a problem are not yielded; the caller must not apply anything unless
    ``reading.ok`` once the iterator is exhausted. Blank lines are skipped. ``line`` is the
    physical line the row starts on (the header is line 1)."""
    if max_bytes is not None:
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        if size > max_bytes:
            reading.add(
                Problem(None, None, None, f"the file has {size:,} bytes; at most {max_bytes:,}")
            )
            return
    reading.encoding = detect_encoding(stream)
    text = _text(stream, reading.encoding)
    try:
        yield from _text_rows(text, layout, reading, max_rows)
    finally:
        with contextlib.suppress(ValueError):  # the caller closed its stream already
            text.detach()  # the caller's stream stays open, and no wrapper is left unclosed


def _text_rows(
    text: TextIO, layout: Layout, reading: Reading, max_rows: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    first = text.readline()
    if not first.strip():
        reading.add(Problem(None, None, None, "the file is empty: it needs a header row"))
        return
    reading.delimiter = detect_delimiter(first)
    header = next(csv.reader([first], delimiter=reading.delimiter))
    matched = _match_header(layout, header, reading)
    if not reading.ok:
        return
    width = len(header)
    pairs = [(i, c.name, c.parser()) for i, c in enumerate(matched) if c is not None]
    absent = [c.name for c in layout.columns if c.name not in reading.columns]
    reader = csv.reader(text, delimiter=reading.delimiter, strict=True)
    line = 2
    try:
        for cells in reader:
            start = line
            line = reader.line_num + 2
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            reading.rows += 1
            if reading.rows > max_rows:
                reading.add(
                    Problem(start, None, None, f"too many rows: at most {max_rows:,} per file")
                )
                return
            row = _typed(layout, pairs, absent, cells, width, start, reading)
            if row is not None:
                yield start, row
    except csv.Error as exc:
        reading.add(Problem(line, None, None, f"the file is not valid CSV here: {exc}"))
    if reading.rows == 0 and reading.ok:
        reading.add(Problem(None, None, None, "the file has a header but no rows"))


def _text(stream: BinaryIO, encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(stream, encoding=encoding, newline="")


def _typed(
    layout: Layout,
    matched: Sequence[tuple[int, str, Callable[[str], Any]]],
    absent: Sequence[str],
    cells: Sequence[str],
    width: int,
    line: int,
    reading: Reading,
) -> dict[str, Any] | None:
    count = len(cells)
    if count > width and any(c.strip() for c in cells[width:]):
        reading.add(Problem(line, None, None, f"has {count} cells but the header has {width}"))
        return None
    row: dict[str, Any] = dict.fromkeys(absent) if absent else {}
    bad = False
    if count >= width:  # the usual row: every cell there
        for index, name, parse in matched:
            try:
                row[name] = parse(cells[index])
            except CellError as exc:
                reading.add(Problem(line, name, cells[index].strip()[:200], str(exc)))
                bad = True
    else:
        for index, name, parse in matched:
            raw = cells[index] if index < count else ""
            try:
                row[name] = parse(raw)
            except CellError as exc:
                reading.add(Problem(line, name, raw.strip()[:200], str(exc)))
                bad = True
    if bad:
        return None
    for check in layout.row_checks:
        for column_name, message in check(row):
            reading.add(Problem(line, column_name, None, message))
            bad = True
    return None if bad else row


# ---------------------------------------------------------------------------------------
# Writing


def safe_cell(value: object) -> str:
    """``value`` as CSV cell text no spreadsheet evaluates as a formula (OWASP "CSV
    injection"): text starting with ``= + - @``, a tab or a carriage return gets a leading
    apostrophe. ``None`` is empty; dates and times are ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def unsafe_cell(text: str) -> str:
    """Undo :func:`safe_cell` when a file exported here is imported again."""
    if text.startswith("'") and text[1:2] in _FORMULA_STARTS and text[1:2]:
        return text[1:]
    return text
