"""CSV/TSV reader: encoding and delimiter detection, streaming rows.

Encoding: a BOM wins (UTF-8/UTF-16); then strict UTF-8 on a sample; then the
Cyrillic single-byte code pages (cp1251, cp866, koi8-r) scored by how much
the decoded text looks like Russian/Ukrainian words; then charset-normalizer;
finally latin-1 (which never fails).  Delimiter: the one of ``, ; TAB |`` that
splits the sample's records into the most rows of one consistent width.
Row numbers are the physical line where a record starts (a quoted field may
span lines).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections import Counter
from typing import Iterator

from ingestion.errors import CorruptFile
from ingestion.reading.source import RawRow, SheetSource

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")

_RU_COMMON = set("оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъёіїєґ")
_BOXES = set(range(0x2500, 0x25A0))


def _cyrillic_score(text: str) -> float:
    """How Russian/Ukrainian a decoded sample looks (higher is better)."""
    lower = upper = junk = 0
    for ch in text:
        o = ord(ch)
        if ch in _RU_COMMON:
            lower += 1
        elif 0x400 <= o <= 0x4FF:
            upper += 1
        elif o >= 0x80 and (o in _BOXES or 0x80 <= o < 0xA0 or ch in "¤¦§©«¬®°±µ¶·»"):
            junk += 1
    total = lower + upper + junk
    if total == 0:
        return 0.0
    return (lower - 3 * junk) / total


def detect_encoding(sample: bytes) -> str:
    """Codec name for a byte sample of a text file (see module docstring for the order)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith(codecs.BOM_UTF16_LE) or sample.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4 and len(sample) >= SAMPLE_BYTES:
            return "utf-8"  # the sample cut a character in two
    high = sum(1 for b in sample if b >= 0x80)
    # Cyrillic words are runs of high bytes; Western text has them alone ("Gr\xf6\xdfe")
    paired = sum(1 for a, b in zip(sample, sample[1:]) if a >= 0x80 and b >= 0x80)
    if high and paired >= high * 0.4:
        best, best_score = "", 0.0
        for enc in ("cp1251", "cp866", "koi8_r"):
            score = _cyrillic_score(sample.decode(enc, errors="replace"))
            if score > best_score:
                best, best_score = enc, score
        if best and best_score > 0.5:
            return best
    if high:
        try:
            from charset_normalizer import from_bytes

            guess = from_bytes(sample).best()
            if guess is not None and guess.encoding:
                return str(guess.encoding)
        except Exception:  # pragma: no cover - detector trouble is not fatal
            pass
    return "latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter among ``, ; TAB |`` giving the most records of one width (≥ 2 fields)."""
    best, best_key = ",", (-1, 0)
    lines = text.splitlines(keepends=True)
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end in the middle of a record
    sample = "".join(lines[:400])
    for delim in DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delim) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        key = (count, width)
        if key > best_key:
            best, best_key = delim, key
    return best


def _csv_rows(path: str, encoding: str, delimiter: str) -> Iterator[RawRow]:
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        last_line = 0
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise CorruptFile(f"The CSV file cannot be parsed near line {last_line + 1}: {exc}") from exc
            start = last_line + 1
            last_line = reader.line_num
            values: list[str | None] = [v if v.strip() else None for v in record]
            yield RawRow(row=start, values=list(values))


def open_csv(path: str, encoding: str | None = None, delimiter: str | None = None) -> tuple[SheetSource, dict[str, str]]:
    """A :class:`SheetSource` for a CSV/TSV file and what was detected (encoding, delimiter)."""
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        from ingestion.errors import UnsupportedFormat

        raise UnsupportedFormat(
            "The file is binary but not a spreadsheet this service reads (CSV, TSV, XLS, XLSX)."
        )
    enc = encoding or detect_encoding(sample)
    try:
        codecs.lookup(enc)
    except LookupError as exc:
        raise CorruptFile(f"Unknown text encoding {enc!r}; use a name such as utf-8, cp1251 or cp866.") from exc
    text = sample.decode(enc, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if delimiter == "\\t" or (delimiter or "").lower() == "tab":
        delimiter = "\t"
    delim = delimiter or sniff_delimiter(text)
    size = os.path.getsize(path)
    n_lines = max(text.count("\n"), 1)
    estimate = n_lines if size <= len(sample) else int(n_lines * size / max(len(sample), 1))
    source = SheetSource(name=None, rows=lambda: _csv_rows(path, enc, delim), estimated_rows=estimate)
    return source, {"encoding": enc, "delimiter": delim}
