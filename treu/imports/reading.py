"""Opening an uploaded file: encoding, separator and header, without loading it whole.

Detection reads the file once in binary chunks to make sure every byte decodes
(strict UTF-8, else Windows-1252, as German Excel saves), so a bad byte is
reported before anything is written. Rows are then streamed through csv.reader.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

CHUNK = 1 << 20
SAMPLE = 64 * 1024
DELIMITERS = (",", ";", "\t")
UTF8_BOM = codecs.BOM_UTF8
# Rows with huge cells (long notes) are legal; the default 128 KiB limit is not enough.
csv.field_size_limit(16 * 1024 * 1024)


class FileRefused(ValueError):
    """The file as a whole cannot be read; the reason is German, for the person uploading it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Layout:
    encoding: str  # "utf-8-sig", "utf-8" or "cp1252"
    delimiter: str
    header: list[str]
    size: int


def _decodes(path: Path, encoding: str, *, skip: int = 0) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as raw:
            raw.seek(skip)
            while chunk := raw.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    with path.open("rb") as raw:
        sample = raw.read(SAMPLE)
    if not sample.strip():
        raise FileRefused(_("The file is empty."))
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(
            _("The file is saved as UTF-16. Please save it as “CSV UTF-8” or “CSV (semicolon).”")
        )
    if b"\x00" in sample:
        raise FileRefused(_("This is not a CSV file (it contains binary data)."))
    if sample.startswith(UTF8_BOM):
        if not _decodes(path, "utf-8", skip=len(UTF8_BOM)):
            raise FileRefused(_("The file claims to be UTF-8 but contains invalid characters."))
        return "utf-8-sig"
    if _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "cp1252"):
        return "cp1252"
    raise FileRefused(
        _("The file's characters cannot be read: it is neither UTF-8 nor Windows-1252.")
    )


def detect_delimiter(header_line: str) -> str:
    """The separator that splits the header into the most columns (outside quotes)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    return open(path, encoding=encoding, newline="")  # noqa: SIM115 - caller closes it


def inspect(path: Path) -> Layout:
    """Encoding, separator and header of a file, or FileRefused with a German reason."""
    encoding = detect_encoding(path)
    with open_text(path, encoding) as text:
        first = ""
        for line in text:
            if line.strip():
                first = line
                break
        if not first:
            raise FileRefused(_("The file is empty."))
        delimiter = detect_delimiter(first)
        text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader)
            has_data = any(any(cell.strip() for cell in row) for row in reader)
        except csv.Error as error:
            reason = _("The file is not a valid CSV file: %(error)s") % {"error": error}
            raise FileRefused(reason) from None
        if not has_data:
            raise FileRefused(_("The file has a header but no data rows."))
    return Layout(
        encoding=encoding,
        delimiter=delimiter,
        header=[cell.strip() for cell in header],
        size=path.stat().st_size,
    )


class CountingReader(io.RawIOBase):
    """A binary file that remembers how many bytes were read: the progress of an import."""

    def __init__(self, raw):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


@dataclass
class Row:
    line: int  # as a spreadsheet numbers it: the header is line 1
    cells: list[str]
    problem: str = ""  # e.g. the wrong number of columns


def stream_rows(path: Path, layout: Layout, counter: list[CountingReader]) -> Iterator[Row]:
    """Yield the data rows after the header; blank rows are skipped (but keep their numbers)."""
    raw = CountingReader(path.open("rb"))
    counter.append(raw)
    text = io.TextIOWrapper(io.BufferedReader(raw, CHUNK), encoding=layout.encoding, newline="")
    width = len(layout.header)
    with text:
        reader = csv.reader(text, delimiter=layout.delimiter)
        next(reader, None)
        for line, cells in enumerate(reader, start=2):
            if not cells or (not cells[0] and not any(cells)):
                continue
            if len(cells) != width:
                if not any(cell.strip() for cell in cells):
                    continue
                problem = _(
                    "The row has %(found)d columns, the header %(expected)d. "
                    "Is a separator or quote missing?"
                ) % {"found": len(cells), "expected": width}
                cells = (cells + [""] * width)[:width]
                yield Row(line, cells, problem)
                continue
            yield Row(line, cells)
