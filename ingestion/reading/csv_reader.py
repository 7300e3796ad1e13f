"""CSV/TSV reader: encoding and delimiter detection, streaming rows.

Encoding: a BOM wins (UTF-8/UTF-16); then strict UTF-8 on a sample; then the
Cyrillic single-byte code pages (cp1251, cp866, koi8-r) scored by how much
the decoded text looks like Russian/Ukrainian words; then charset-normalizer;
finally latin-1 (which never fails).  Delimiter: the one of ``, ; TAB |`` that
splits the sample's records into the most rows of one consistent width.
Row numbers are the physical line where a record starts (a quoted field may
span lines).

Limits: fields up to :data:`MAX_CSV_FIELD_CHARS` characters are read (the
csv module's process-wide limit is raised to it); a record with a longer
field is not read — the reader yields it as a :class:`RawRow` with ``error``
set, which becomes an error problem ``unreadable_row`` for that row only.
A file is binary (refused) when more than one byte in twenty of the sample
is a control character other than NUL, TAB, CR, LF, or more than
:data:`MAX_NUL_SHARE` of it is NUL (and it is not UTF-16).

Damage tolerated: a UTF-8 file with a few stray invalid bytes stays UTF-8
(the bytes become U+FFFD); stray NUL bytes, a leading BOM or a BOM that was
itself mis-decoded (``ï»¿``) are dropped; a file without a BOM whose bytes
alternate with NULs is read as UTF-16; text that was mis-decoded once
before it was saved ("РџСЂР°Р№СЃ" for "Прайс": UTF-8 read as cp1251) is
repaired cell by cell (:func:`~ingestion.reading.normalize.repair_mojibake`)
and an ``info`` problem ``text_repaired`` says so.  Lines before the header
(titles, contact lines, junk) are left to layout detection.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections import Counter
from typing import Any, Iterator

from ingestion.errors import CorruptFile, Problem, UnsupportedFormat
from ingestion.reading.normalize import CellValue, mojibake_share, repair_mojibake
from ingestion.reading.source import RawRow, SheetSource

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
#: Longest CSV field read, in characters (10 Mi; the csv module's default is 128 Ki).  A record with a
#: longer field is not read: it gives an error problem ``unreadable_row`` and reading goes on.
MAX_CSV_FIELD_CHARS = 10 * 1024 * 1024
#: Share of NUL bytes in the sample above which a file without a UTF-16 pattern is binary, not text with stray NULs.
MAX_NUL_SHARE = 0.3

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
    utf16 = _bomless_utf16(sample)
    if utf16:
        return utf16
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4 and len(sample) >= SAMPLE_BYTES:
            return "utf-8"  # the sample cut a character in two
    if _utf8_with_strays(sample):
        return "utf-8"
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


def _bomless_utf16(sample: bytes) -> str | None:
    """``utf-16-le``/``-be`` when NULs fill every other byte (UTF-16 saved without a BOM)."""
    n = min(len(sample), 4096) // 2 * 2
    if n < 8:
        return None
    half = n // 2
    evens, odds = sample[0:n:2], sample[1:n:2]

    def high_bytes(part: bytes) -> bool:
        # the high byte of Latin/Cyrillic text in UTF-16 is 0x00 (ASCII, Latin-1) or 0x04 (Cyrillic)
        zeros = part.count(0)
        return zeros >= half * 0.1 and zeros + part.count(4) >= half * 0.9

    if high_bytes(odds) and evens.count(0) <= half * 0.05:
        return "utf-16-le"
    if high_bytes(evens) and odds.count(0) <= half * 0.05:
        return "utf-16-be"
    return None


def _utf8_with_strays(sample: bytes) -> bool:
    """UTF-8 text with a few stray invalid bytes: many good multibyte characters, at most 3 bad spots."""
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
    return 0 < bad <= 3 and good >= 8 * bad


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


_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LEADING_JUNK = re.compile("^(?:\ufeff|\u00ef\u00bb\u00bf|[\x00-\x08\x1a])+")


def _csv_rows(path: str, encoding: str, delimiter: str, repair: bool = False) -> Iterator[RawRow]:
    """The records of a CSV file as rows; a record the csv module refuses is a row with ``error`` set.

    Such a record (a field over :data:`MAX_CSV_FIELD_CHARS`, …) is skipped
    and reading goes on with the next physical line.  Raises
    :class:`CorruptFile` only when the parser stops making progress.
    """
    if csv.field_size_limit() < MAX_CSV_FIELD_CHARS:
        csv.field_size_limit(MAX_CSV_FIELD_CHARS)
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        lines: Iterator[str] = (line.replace("\x00", "") for line in fh)
        reader = csv.reader(lines, delimiter=delimiter)
        last_line = 0
        first = True
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if reader.line_num <= last_line:
                    raise CorruptFile(f"The CSV file cannot be parsed near line {last_line + 1}: {exc}") from exc
                start, last_line = last_line + 1, reader.line_num
                if "field larger than field limit" in str(exc):
                    why = f"a field is longer than {MAX_CSV_FIELD_CHARS:,} characters"
                else:
                    why = str(exc)
                yield RawRow(row=start, values=[], error=f"The CSV record could not be read ({why}); the row is skipped.")
                continue
            start = last_line + 1
            last_line = reader.line_num
            if first and record:
                record[0] = _LEADING_JUNK.sub("", record[0])
                first = False
            if repair:
                record = [repair_mojibake(v) for v in record]
            values: list[CellValue] = [v if v.strip() else None for v in record]
            yield RawRow(row=start, values=values)


def open_csv(path: str, encoding: str | None = None, delimiter: str | None = None) -> tuple[SheetSource, dict[str, Any]]:
    """A :class:`SheetSource` for a CSV/TSV file and what was detected.

    ``details`` holds ``encoding`` and ``delimiter`` (and ``repaired_mojibake``
    plus a ``problems`` list when text was repaired).  Raises
    :class:`UnsupportedFormat` for binary files and :class:`CorruptFile` for an
    unknown ``encoding`` option.
    """
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    enc = encoding or detect_encoding(sample)
    nuls = sample.count(0)
    control = sum(1 for b in sample if 0 < b < 9 or 13 < b < 32)
    if (
        (control * 20 > len(sample) or nuls > len(sample) * MAX_NUL_SHARE)
        and not enc.replace("_", "-").startswith("utf-16")
        and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    ):
        raise UnsupportedFormat(
            "The file is binary but not a spreadsheet this service reads (CSV, TSV, XLS, XLSX, PDF)."
        )
    try:
        codecs.lookup(enc)
    except LookupError as exc:
        raise CorruptFile(f"Unknown text encoding {enc!r}; use a name such as utf-8, cp1251 or cp866.") from exc
    text = sample.decode(enc, errors="replace").replace("\x00", "")
    if text.startswith("\ufeff"):
        text = text[1:]
    if delimiter == "\\t" or (delimiter or "").lower() == "tab":
        delimiter = "\t"
    delim = delimiter or sniff_delimiter(text)
    size = os.path.getsize(path)
    n_lines = max(text.count("\n"), 1)
    estimate = n_lines if size <= len(sample) else int(n_lines * size / max(len(sample), 1))
    repair = mojibake_share(text) >= 0.6 and len(_CYRILLIC.findall(text)) >= 6
    source = SheetSource(name=None, rows=lambda: _csv_rows(path, enc, delim, repair), estimated_rows=estimate)
    details: dict[str, Any] = {"encoding": enc, "delimiter": delim}
    if repair:
        details["repaired_mojibake"] = True
        details["problems"] = [
            Problem(
                type="text_repaired",
                level="info",
                message="The text had been mis-decoded once before it was saved (UTF-8 read as cp1251, "
                "e.g. \"РџСЂР°Р№СЃ\"); it was repaired to the original letters.",
            )
        ]
    return source, details
