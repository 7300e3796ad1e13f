"""CSV/TSV reader: encoding and delimiter detection, streaming rows.

Encoding: a BOM wins (UTF-8/UTF-16); then strict UTF-8 on a sample; then the
Cyrillic single-byte code pages (cp1251, cp866, koi8-r) scored by how much
the decoded text looks like Russian/Ukrainian words (a sample taken for
cp1251 is mac_cyrillic when its capitalised words and its я read right only
that way: :func:`_mac_rather_than_cp1251`); then, for other text with
bytes above 0x7F, the code page it reads best in among cp1252, cp1250 and
charset-normalizer's guesses (:func:`_single_byte_choice`: Czech, Slovak,
Polish or Hungarian read as cp1252 gives words no language spells, such as
"tøípólový", :func:`_misfit_words`); finally latin-1.  Delimiter: the one of ``, ; TAB |`` that
splits the sample's records into the most rows of one consistent width.
Row numbers are the physical line where a record starts (a quoted field may
span lines).

Unterminated quotes: a cell that opens a double quote and never closes it
would make the csv module read every following line into that cell.  A
quoted field is taken for such a runaway, not a cell with line breaks, when
it is never closed (it runs to the end of the file or to the field limit),
when the quote that ends it is followed by other text than the delimiter or
a line end (it was the opening quote of a later cell), or when the lines it
spans read as whole records of the file — a line inside it, or both the
line it opens on and the line it ends on (as many fields as the file's
usual record, amounts in its numeric columns and text in a text column:
:class:`RowShape`, learnt from the sample).  The runaway's opening quote is
then read as a plain character, the lines it took in are read as rows
again, and the row gets a warning ``unterminated_quote`` with its column.
A properly closed quoted cell with line breaks in it is read as one cell.
A quoted cell closed on its line but followed by more text before the
delimiter (``"Труба 1/2" латунь``, the second quote an inch mark) is kept as
written, quotes and all (the csv module would drop both quotes), with a
warning ``quote_kept`` (:func:`_text_after_quotes`).
The delimiters after a never-closed quote may be text of its cell: the
record is lined up with the table only when exactly one way of re-joining
its fields fits the usual record, and no value after the quote is a piece
of a number the delimiter split (``"Кабель 3,5 мм``); otherwise the row is
refused (an error ``unreadable_row`` with its raw line), never read by a
guess (:func:`_fit_quoted_cell`).

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

import bisect
import codecs
import csv
import io
import os
import re
from collections import Counter, deque
from typing import Any, Iterable, Iterator

import attrs

from ingestion.errors import CorruptFile, Problem, UnsupportedFormat
from ingestion.reading.normalize import CellValue, is_amount, mojibake_share, repair_mojibake
from ingestion.reading.source import RawRow, RowNote, SheetSource

SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
#: Longest CSV field read, in characters (10 Mi; the csv module's default is 128 Ki).  A record with a
#: longer field is not read: it gives an error problem ``unreadable_row`` and reading goes on.
MAX_CSV_FIELD_CHARS = 10 * 1024 * 1024
#: Lines of the sample read to learn the file's usual record (:func:`row_shape`) and its delimiter.
SHAPE_SAMPLE_LINES = 400
#: Share of NUL bytes in the sample above which a file without a UTF-16 pattern is binary, not text with stray NULs.
MAX_NUL_SHARE = 0.3

#: Control bytes other than NUL, TAB, LF, VT, FF, CR (a text file has few of them).
_CONTROL_BYTES = bytes([*range(1, 9), *range(14, 32)])
#: Common lower-case Russian/Ukrainian letters (all in the Cyrillic block U+0400–U+04FF).
_RU_COMMON = re.compile("[оеаинтсрвлкмдпуяыьгзбчйхжшюцщэфъёіїєґ]")
_CYRILLIC_LETTER = re.compile("[\u0400-\u04ff]")
#: What a wrong single-byte code page makes of Cyrillic text: box drawing, C1 controls, stray signs.
_JUNK = re.compile("[\u2500-\u259f\x80-\x9f¤¦§©«¬®°±µ¶·»]")
_HIGH_RUN = re.compile(rb"[\x80-\xff]+")
_NOT_ASCII_OR_FFFD = re.compile("[^\x00-\x7f\ufffd]")


def _cyrillic_score(text: str) -> float:
    """How Russian/Ukrainian a decoded sample looks (higher is better).

    (common lower-case letters − 3 × junk characters) / (Cyrillic letters + junk),
    counted with regular expressions (the sample is up to 256 KiB).
    """
    lower = len(_RU_COMMON.findall(text))
    upper = len(_CYRILLIC_LETTER.findall(text)) - lower
    junk = len(_JUNK.findall(text))
    total = lower + upper + junk
    if total == 0:
        return 0.0
    return (lower - 3 * junk) / total


def _byte_classes(encoding: str) -> tuple[int, ...]:
    """For each byte 0x80–0xFF: what one-byte ``encoding`` makes of it in :func:`_cyrillic_score`'s terms
    (1 common lower-case letter, 2 other Cyrillic letter, 3 junk, 0 anything else)."""
    out = []
    for b in range(0x80, 0x100):
        ch = bytes([b]).decode(encoding, errors="replace")
        if _RU_COMMON.fullmatch(ch):
            out.append(1)
        elif _CYRILLIC_LETTER.fullmatch(ch):
            out.append(2)
        elif _JUNK.fullmatch(ch):
            out.append(3)
        else:
            out.append(0)
    return tuple(out)


_CLASSES = {enc: _byte_classes(enc) for enc in ("cp1251", "cp866", "koi8_r")}


def _cyrillic_score_of_bytes(counts: list[int], encoding: str) -> float:
    """:func:`_cyrillic_score` of a sample decoded with a one-byte Cyrillic ``encoding``, from the counts
    of its bytes 0x80–0xFF (ASCII bytes are neither letters nor junk there)."""
    tally = [0, 0, 0, 0]
    for n, k in zip(counts, _CLASSES[encoding]):
        tally[k] += n
    _, lower, upper, junk = tally
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
    counts = [sample.count(b) for b in range(0x80, 0x100)]
    high = sum(counts)
    # Cyrillic words are runs of high bytes; Western text has them alone ("Gr\xf6\xdfe"): a run of n high
    # bytes holds n - 1 adjacent pairs
    paired = high - len(_HIGH_RUN.findall(sample))
    if high and paired >= high * 0.4:
        best, best_score = "", 0.0
        scores = {enc: _cyrillic_score_of_bytes(counts, enc) for enc in ("cp1251", "cp866", "koi8_r")}
        for enc, score in scores.items():
            if score > best_score:
                best, best_score = enc, score
        head = sample[:_STATS_BYTES]
        if best_score > 0.5:
            # all capitals score 0 (the byte score counts lower-case letters), so they take part too
            best = _by_letter_frequency(head, [enc for enc, score in scores.items() if score >= 0], best)
            if not _latin_words_with_cyrillic(head.decode(best, errors="replace")):
                return "mac_cyrillic" if best == "cp1251" and _mac_rather_than_cp1251(sample) else best
    if high:
        return _single_byte_choice(sample)
    return "latin-1"


#: Bytes of the sample the letter statistics below look at (plenty for a frequency; ≈3 ms).
_STATS_BYTES = 32 * 1024
#: The ten most frequent letters of Russian and Ukrainian text (о е а и н т с р в л; і for Ukrainian):
#: about two thirds of the letters of real text, far fewer when a code page is misread.
_FREQUENT_CYRILLIC = frozenset("оеаинтсрвліОЕАИНТСРВЛІ")


def _by_letter_frequency(sample: bytes, encodings: list[str], fallback: str) -> str:
    """Of the Cyrillic code pages that read ``sample`` as letters without junk, the one whose reading has
    the most frequent Russian/Ukrainian letters (:data:`_FREQUENT_CYRILLIC`); ``fallback`` when it wins by
    less than 10 points.  Upper-case cp1251 text read as KOI8-R is all lower-case letters too (the two
    swap the cases' byte ranges), so the case-based byte score cannot tell them apart; frequency can
    ("АВТОМАТ" reads "юбрнлюр")."""
    if len(encodings) < 2:
        return fallback
    shares: dict[str, float] = {}
    for enc in encodings:
        text = sample.decode(enc, errors="replace")
        letters = len(_CYRILLIC.findall(text))
        shares[enc] = sum(text.count(ch) for ch in _FREQUENT_CYRILLIC) / letters if letters else 0.0
    top = max(shares, key=lambda e: shares[e])
    return top if shares[top] >= shares.get(fallback, 0.0) + 0.10 else fallback


_LATIN_THEN_CYRILLIC = re.compile(r"[A-Za-z][\u0400-\u04ff]|[\u0400-\u04ff][A-Za-z]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _latin_words_with_cyrillic(text: str) -> bool:
    """True when a sample decoded as a Cyrillic code page puts its Cyrillic letters mostly inside Latin
    words — a Latin-script text with diacritics read in the wrong code page ("Zaїуікж" is Polish "Zażółć"
    read as cp1251), not Russian, whose words rarely mix the two (at most a look-alike letter)."""
    cyrillic = len(_CYRILLIC.findall(text))
    return cyrillic > 0 and len(_LATIN_THEN_CYRILLIC.findall(text)) > 0.3 * cyrillic


#: Western and Central European code pages tried first for text that is not Cyrillic, in order of preference.
_LATIN_CODE_PAGES = ("cp1252", "cp1250")


def _single_byte_choice(sample: bytes) -> str:
    """The single-byte code page a non-Cyrillic sample reads best in (:func:`_plausibility`).

    Candidates: cp1252, cp1250 and charset-normalizer's first three guesses;
    a tie goes to the earlier one (cp1252 first: the most common).  Needed
    because charset-normalizer alone, on price-list samples, took French
    cp1252 text for mac_latin2 ("tÍte" for "tête") and a short "Café" line
    for cp1006; its guesses still decide for scripts the two code pages do not
    cover (Greek, Turkish, Baltic …).  latin-1 when nothing decodes.
    """
    candidates = list(_LATIN_CODE_PAGES)
    try:
        from charset_normalizer import from_bytes

        for guess in list(from_bytes(sample))[:3]:
            if guess.encoding and guess.encoding not in candidates:
                candidates.append(str(guess.encoding))
    except Exception:  # pragma: no cover - detector trouble is not fatal
        pass
    best, best_score = "latin-1", float("-inf")
    for enc in candidates:
        try:
            text = sample.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if len(text) != len(sample):  # a multi-byte guess (UTF-16, Shift-JIS …): not a single-byte code page
            continue
        score = _plausibility(text)
        if score > best_score:
            best, best_score = enc, score
    return best


def _plausibility(text: str) -> int:
    """How much ``text``'s non-ASCII characters look like real words: +1 for each letter, −3 for each sign
    of a wrong code page — a non-letter between two letters ("Za¿ó³æ" is Polish read as cp1252), a capital
    inside a lower-case word ("tÍte" is French read as mac_latin2), a letter of another script than its
    neighbour's, or a control or unassigned character."""
    import unicodedata

    score = 0
    n = len(text)
    for i, ch in enumerate(text):
        if ch < "\x80":
            continue
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < n else " "
        if ch.isalpha():
            score += 1
            if ch.isupper() and prev.isalpha() and prev.islower():
                score -= 4
            elif prev.isalpha() and prev >= "\x80" and _script(prev) != _script(ch):
                score -= 4
        elif prev.isalpha() and nxt.isalpha():
            score -= 3
        elif unicodedata.category(ch) in ("Cc", "Cn", "Co"):
            score -= 3
    return score - 3 * _misfit_words(text)


#: Accented letters of the languages written in cp1252 and cp1250 (lower case), one set a language
#: (or a group whose words mix in one list).  Not covered: Icelandic/Faroese (their ``ý``/``ø`` mixes
#: would look like Czech read as cp1252) and Estonian (``õ`` beside ``ö`` is Hungarian's ``ő``).
_LANGUAGE_LETTERS: tuple[frozenset[str], ...] = tuple(frozenset(s) for s in (
    "àâæçéèêëîïôœùûüÿ",  # French
    "àèéìíîòóùú",  # Italian
    "áàéèíïñóòúüç",  # Spanish, Catalan
    "áâãàçéêíóôõúü",  # Portuguese
    "äöüßé",  # German
    "áéèëïóöüâêô",  # Dutch
    "æøåéèóôüäö",  # Danish, Norwegian
    "åäöéüšž",  # Swedish, Finnish
    "áäčďéěíĺľňóôŕřšťúůýž",  # Czech, Slovak
    "ąćęłńóśźż",  # Polish
    "áéíóöőúüű",  # Hungarian
    "čćđšžäöü",  # Slovene, Croatian (and German words beside them)
    "ăâîşţșț",  # Romanian
))


def _shared_letters() -> frozenset[str]:
    out = set()
    for b in range(0x80, 0x100):
        a, c = bytes([b]).decode("cp1252", "replace"), bytes([b]).decode("cp1250", "replace")
        if a == c and a.isalpha():
            out.add(a.lower())
    return frozenset(out)


#: Letters cp1252 and cp1250 read alike (á é í ó ú ý ä ö ü ß š ž …): they cannot tell the two apart.
_SHARED_LETTERS = _shared_letters()
_WORD = re.compile(r"[^\W\d_]+")


def _misfit_words(text: str) -> int:
    """Words of ``text`` that tell cp1252 from cp1250 and are not spelt in the text's language.

    Only words with an accented letter the two code pages read differently count (Czech ``č ř ě ů ň``
    are French/Nordic ``è ø ì ù ò`` in cp1252; French ``è à ê`` are ``č ŕ ę`` in cp1250).  Each such
    word fits a language when all its accented letters are that language's (:data:`_LANGUAGE_LETTERS`);
    the result is how many of them do not fit the language most of them fit.  Czech read as cp1252
    ("tøípólový", "mìdìný") and Portuguese read as cp1250 ("açőes") fit none; a tie between the code
    pages still goes to cp1252.
    """
    checked: list[frozenset[str]] = []
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        accented = frozenset(ch for ch in word.lower() if ch >= "\x80")
        if accented <= _SHARED_LETTERS:
            continue
        checked.append(accented)
    if not checked:
        return 0
    best = max(sum(1 for acc in checked if acc <= lang) for lang in _LANGUAGE_LETTERS)
    return len(checked) - best


def _script(ch: str) -> str:
    """The script word of a letter's Unicode name ("LATIN", "GREEK", "CYRILLIC" …)."""
    import unicodedata

    return unicodedata.name(ch, "?").split(" ", 1)[0]


#: Bytes of the sample :func:`_mac_rather_than_cp1251` looks at.
MAC_CHECK_BYTES = 16 * 1024
#: Letter pairs as mac_cyrillic writes Russian: a capital (А–Я, 0x80–0x9F) before a letter (capital or
#: а–ю, 0xE0–0xFE), or я (0xDF) after a small letter.
_MAC_CYRILLIC_PAIRS = re.compile(rb"[\x80-\x9f][\x80-\x9f\xe0-\xfe]|[\xe0-\xfe]\xdf")
#: The same as cp1251 writes them: a capital (А–Ю, 0xC0–0xDE) before a letter (0xC0–0xFF), or я (0xFF)
#: after a small letter.  (Я, 0xDF, is я in mac_cyrillic, so it tells nothing as a first byte.)
_CP1251_PAIRS = re.compile(rb"[\xc0-\xde][\xc0-\xff]|[\xe0-\xfe]\xff")


def _mac_rather_than_cp1251(sample: bytes) -> bool:
    """Whether a sample taken for cp1251 reads as Russian only in mac_cyrillic.

    In: the sample's bytes.  The two code pages share the small letters
    а–ю (0xE0–0xFE) but put the capitals and я elsewhere, so mac_cyrillic
    text read as cp1251 has words such as "Љабель" and "землЯ", and cp1251
    text read as mac_cyrillic has "ЂЋампаї".  Out: true when the letter pairs
    of capitalised words and of я after a small letter (:data:`_MAC_CYRILLIC_PAIRS`,
    :data:`_CP1251_PAIRS`) are at least three and more than twice as many
    the mac_cyrillic way as the cp1251 way; false (cp1251, the common case)
    otherwise, also when the sample has too few such pairs to tell.  Only
    the first :data:`MAC_CHECK_BYTES` of the sample are looked at (plenty of
    words, and quick).
    """
    head = sample[:MAC_CHECK_BYTES]
    mac = len(_MAC_CYRILLIC_PAIRS.findall(head))
    if mac < 3:
        return False
    return mac > 2 * len(_CP1251_PAIRS.findall(head))


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
    good = len(_NOT_ASCII_OR_FFFD.findall(text))
    return 0 < bad <= 3 and good >= 8 * bad


def sniff_delimiter(text: str) -> str:
    """The delimiter among ``, ; TAB |`` giving the most records of one width (≥ 2 fields).

    Records are read as :func:`_records` reads them (with the delimiter's own
    :func:`row_shape`), so a quote that is never closed does not hide the
    lines after it from the count.
    """
    return _sniff(_sample_lines(text)[:SHAPE_SAMPLE_LINES])[0]


def _sniff(lines: list[str]) -> tuple[str, dict[str, RowShape | None]]:
    """:func:`sniff_delimiter` of sample ``lines``, and the :func:`row_shape` it found for each delimiter."""
    best, best_key = ",", (-1, 0)
    shapes: dict[str, RowShape | None] = {}
    for delim in DELIMITERS:
        try:
            shape = shapes[delim] = row_shape(lines, delim)
            records = _records(lines, delim, shape)
            widths = [len(values) for _, values, _, _ in records if any(c.strip() for c in values)]
        except (csv.Error, CorruptFile):
            continue
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        key = (count, width)
        if key > best_key:
            best, best_key = delim, key
    return best, shapes


_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LEADING_JUNK = re.compile("^(?:\ufeff|\u00ef\u00bb\u00bf|[\x00-\x08\x1a])+")
#: Stands in a line for a quote read as a plain character: NUL bytes are dropped before parsing, so it is
#: free (the csv module reads NUL as an ordinary character since Python 3.11).
_LITERAL_QUOTE = "\x00"
_strip = str.strip
#: Characters that may follow the quote closing a well-formed quoted field.
_AFTER_CLOSE = ("", "\r", "\n", " ", "\t")


def _sample_lines(text: str) -> list[str]:
    """The whole physical lines of a sample (line ends kept); the last is dropped when the sample cut it."""
    lines = list(io.StringIO(text, newline=""))
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end in the middle of a record
    return lines


@attrs.frozen
class RowShape:
    """What an ordinary record of a CSV file looks like.

    ``width`` fields; amounts in the ``numeric`` columns and mostly other
    text in the ``text`` columns (0-based indexes).
    """

    width: int
    numeric: tuple[int, ...]
    text: tuple[int, ...] = ()

    def row_like(self, fields: list[str]) -> bool:
        """Whether the fields of one physical line read as a whole record of this shape.

        Exactly ``width`` fields; every filled numeric cell (at least one)
        reads as an amount; and, when the file has text columns, one of
        them holds something that is not an amount.  Always false for a file
        without a numeric column: then there is no telling a row from text.
        """
        if len(fields) != self.width or not self.numeric:
            return False
        numbers = [fields[i] for i in self.numeric if fields[i].strip()]
        if not numbers or not all(is_amount(v) for v in numbers):
            return False
        return not self.text or any(fields[i].strip() and not is_amount(fields[i]) for i in self.text)


def row_shape(lines: Iterable[str], delimiter: str) -> RowShape | None:
    """The usual record of ``lines`` (physical lines of a sample): its width, numeric and text columns.

    ``None`` when the commonest width is under two fields.  Among the
    records of that width, a column is numeric when at least two of its
    cells and seven in ten of its filled cells read as amounts, and text
    when that holds for cells that do not.
    """
    records = [
        values for _, values, _, error in _records(lines, delimiter) if error is None and any(v.strip() for v in values)
    ]
    if not records:
        return None
    width = Counter(len(r) for r in records).most_common(1)[0][0]
    if width < 2:
        return None
    numeric: list[int] = []
    text: list[int] = []
    for i in range(width):
        cells = [r[i] for r in records if len(r) == width and r[i].strip()]
        amounts = sum(1 for c in cells if is_amount(c))
        if amounts >= 2 and amounts * 10 >= len(cells) * 7:
            numeric.append(i)
        elif len(cells) - amounts >= 2 and (len(cells) - amounts) * 10 >= len(cells) * 7:
            text.append(i)
    return RowShape(width, tuple(numeric), tuple(text))


def _line_fields(line: str, delimiter: str, literal: int | None = None) -> list[str]:
    """The fields of one physical line read on its own; the quote at offset ``literal`` is a plain character."""
    if literal is not None:
        line = line[:literal] + _LITERAL_QUOTE + line[literal + 1 :]
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


#: One CSV record: the physical line it starts on, its fields, what was repaired in it (notes), and why it
#: could not be read (``None`` when it was; the fields are then empty).  A plain tuple: one is made per line.
_Record = tuple[int, list[str], tuple[RowNote, ...], str | None]


class _Feed:
    """Numbered physical lines for the csv module (NUL bytes dropped); lines may be handed out again.

    ``taken`` collects ``(line number, text)`` of the lines handed out since
    the caller last cleared it; ``exhausted`` turns true once the file has
    no more lines.
    """

    def __init__(self, lines: Iterable[str]) -> None:
        #: the file's numbered lines not handed out yet (NULs still in them)
        self.numbered = enumerate(lines, 1)
        #: lines to hand out again first (NULs dropped)
        self.back: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []
        self.exhausted = False

    def lines(self) -> Iterator[str]:
        """The lines still to parse: those handed back first, then the file's.

        Call it again after :meth:`push_back` (or after taking lines from
        ``numbered`` directly); the iterator it gave before must not be used
        any more.
        """
        back, taken = self.back, self.taken
        while back:
            item = back.popleft()
            taken.append(item)
            yield item[1]
        for item in self.numbered:
            if "\x00" in item[1]:
                item = (item[0], item[1].replace("\x00", ""))
            taken.append(item)
            yield item[1]
        self.exhausted = True

    def push_back(self, lines: list[tuple[int, str]]) -> None:
        """Hand ``lines`` out again, in order, before any further line of the file."""
        self.back.extendleft(reversed(lines))


@attrs.frozen
class _Quoted:
    """A quoted field of a record: offsets (in the record's text) of its opening and closing quote
    (``end`` ``None``: never closed), its 0-based column, and whether the closing quote is followed by
    the delimiter, a line end or a blank, as in a well-formed file."""

    start: int
    end: int | None
    column: int
    clean: bool


def _quoted_fields(text: str, delimiter: str, ends: re.Pattern[str]) -> Iterator[_Quoted]:
    """The quoted fields of one record's text, found the way the csv module reads them.

    A quote opens a field only at the field's start; inside it ``""`` is an
    escaped quote and a lone quote closes it (text after it, up to the next
    delimiter, still belongs to the field).  ``ends`` matches the delimiter
    or a line-end character.  Stops at the first line end outside quotes.
    """
    pos, column, n = 0, 0, len(text)
    while pos < n:
        if text[pos] == '"':
            close = pos + 1
            while True:
                close = text.find('"', close)
                if close < 0 or text[close + 1 : close + 2] != '"':
                    break
                close += 2
            if close < 0:
                yield _Quoted(pos, None, column, False)
                return
            after = text[close + 1 : close + 2]
            yield _Quoted(pos, close, column, after == delimiter or after in _AFTER_CLOSE)
            pos = close + 1
        m = ends.search(text, pos)
        if m is None or m.group() != delimiter:
            return
        pos, column = m.end(), column + 1


def _runaway(
    lines: list[str], delimiter: str, shape: RowShape | None, ends: re.Pattern[str]
) -> tuple[int, int, int, int] | None:
    """The first quoted field of a record that is not a real multi-line cell, or ``None``.

    ``lines`` are the record's physical lines.  A quoted field is a runaway
    when it is never closed (it ran to the end of the file, or to the field
    limit); or when it spans lines and its closing quote is followed by
    something other than the delimiter, a line end or a blank (that quote
    opened a later cell); or when it spans lines that read as whole records
    of the file's ``shape`` (:meth:`RowShape.row_like`): a line inside it,
    or both the line where it opens and the line where it closes, each read
    on its own with that quote as a plain character.  Returns ``(index of
    the line where it opens, offset of its quote in that line, its column,
    number of lines after that line it took in)``.
    """
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line))
    for q in _quoted_fields("".join(lines), delimiter, ends):
        first = bisect.bisect_right(starts, q.start) - 1
        opening = q.start - starts[first]
        if q.end is None:
            return first, opening, q.column, len(lines) - 1 - first
        last = bisect.bisect_right(starts, q.end) - 1
        if last == first:
            continue
        closing = q.end - starts[last]
        if not q.clean or (shape is not None and _spans_rows(lines, first, opening, last, closing, delimiter, shape)):
            return first, opening, q.column, last - first
    return None


def _spans_rows(
    lines: list[str], first: int, opening: int, last: int, closing: int, delimiter: str, shape: RowShape
) -> bool:
    """Whether the quoted field from ``lines[first]`` (its quote at offset ``opening``) to ``lines[last]``
    (closing quote at ``closing``) spans whole records of ``shape``."""
    if any(shape.row_like(_line_fields(line, delimiter)) for line in lines[first + 1 : last]):
        return True
    return shape.row_like(_line_fields(lines[first], delimiter, opening)) and shape.row_like(
        _line_fields(lines[last], delimiter, closing)
    )


def _quote_note(line: str, offset: int, column: int, swallowed: int, delimiter: str, cut: bool = False) -> RowNote:
    """The ``unterminated_quote`` note for the cell whose quote opens at ``offset`` of ``line``.

    ``swallowed`` is the number of lines the cell took in (at least that many
    when ``cut``: the csv module stopped at the field limit).
    """
    cell = line[offset:].rstrip("\r\n").split(delimiter, 1)[0]
    shown = cell if len(cell) <= 40 else cell[:40] + "…"
    if swallowed:
        message = (
            f"The cell {shown!r} starts with a double quote that is never closed, which made the next "
            f"{'at least ' if cut else ''}{swallowed} line(s) part of this cell; the quote was read as a plain "
            "character and those lines as rows of their own."
        )
    else:
        message = f"The cell {shown!r} starts with a double quote that is never closed; it was read as a plain character."
    return RowNote(type="unterminated_quote", message=message, column=column)


def _record_error(exc: csv.Error) -> str:
    """Why the csv module refused a record, for a person."""
    if "field larger than field limit" in str(exc):
        return f"a field is longer than {MAX_CSV_FIELD_CHARS:,} characters"
    return str(exc)


def _records(lines: Iterable[str], delimiter: str, shape: RowShape | None = None) -> Iterator[_Record]:
    """The CSV records of ``lines`` (physical lines, line ends kept), with runaway quotes repaired.

    A quoted field that is not a real multi-line cell (:func:`_runaway`) has
    its opening quote read as a plain character: its record is parsed again
    from its first line, so the lines the quote took in come back as records
    of their own, and the record gets a note ``unterminated_quote`` (its
    column and the lines concerned).  A record the csv module refuses (a
    field over :data:`MAX_CSV_FIELD_CHARS`) has ``error`` set and no values;
    reading goes on with the next line.  NUL bytes are dropped.  Raises
    :class:`CorruptFile` only when the parser stops making progress.

    A line without a double quote or NUL (and shorter than the field limit)
    is a whole record that the csv module would split at the delimiter and
    nothing else, so it is split here without it; any other line and the
    lines a record takes in after it go through the csv module.
    """
    if csv.field_size_limit() < MAX_CSV_FIELD_CHARS:
        csv.field_size_limit(MAX_CSV_FIELD_CHARS)
    feed = _Feed(lines)
    numbered, back = feed.numbered, feed.back
    ends = re.compile("[" + re.escape(delimiter) + "\r\n]")
    notes: dict[int, list[RowNote]] = {}
    taken = feed.taken
    last = 0
    reader: Iterator[list[str]] | None = None
    while True:
        if not back:
            item = next(numbered, None)
            if item is None:
                feed.exhausted = True
                return
            number, line = item
            if '"' not in line and "\x00" not in line and len(line) <= MAX_CSV_FIELD_CHARS:
                body = line.rstrip("\r\n")
                last = number
                yield number, body.split(delimiter) if body else [], (), None
                continue
            back.append((number, line.replace("\x00", "")) if "\x00" in line else item)
            reader = None
        if reader is None:
            reader = csv.reader(feed.lines(), delimiter=delimiter)
        taken.clear()
        error: str | None = None
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if not taken:
                raise CorruptFile(f"The CSV file cannot be parsed near line {last + 1}: {exc}") from exc
            record, error = [], _record_error(exc)
        if (len(taken) > 1 or (feed.exhausted and '"' in taken[0][1])) and _repair(
            taken, delimiter, shape, ends, feed, notes, cut=error is not None
        ):
            reader = None
            continue
        last = taken[-1][0]
        found = tuple(n for number, _ in taken for n in notes.pop(number, ())) if notes else ()
        if found and error is None:
            record = [v.replace(_LITERAL_QUOTE, '"') for v in record]
        if error is None and len(taken) == 1 and '"' in taken[0][1]:
            stray = _text_after_quotes(taken[0][1], record, delimiter, ends)
            if stray:
                found += stray
        yield taken[0][0], record, found, error


def _text_after_quotes(line: str, record: list[str], delimiter: str, ends: re.Pattern[str]) -> tuple[RowNote, ...]:
    """Keep as written the cells of a one-line record whose quoted text is followed by more text.

    The csv module reads ``"Труба 1/2" латунь`` as ``Труба 1/2 латунь``: it drops both quotes, and the
    second was an inch mark.  A writer that quotes cells would have doubled that quote and closed the
    cell after ``латунь``, so this line comes from one that writes each cell's text as it is: the text
    between the delimiters, quotes and all, is the cell (``"Труба 1/2" латунь``), and that is what
    ``record`` gets (in place).  Returns a ``quote_kept`` note for each such cell.
    """
    notes: list[RowNote] = []
    for q in _quoted_fields(line, delimiter, ends):
        if q.end is None or q.column >= len(record):
            continue
        m = ends.search(line, q.end + 1)
        stop = m.start() if m is not None else len(line)
        if not line[q.end + 1 : stop].strip():
            continue
        raw = line[q.start : stop].replace(_LITERAL_QUOTE, '"')
        record[q.column] = raw
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        notes.append(RowNote(
            type="quote_kept",
            message=f"The cell {shown!r} has text after its closing double quote; its quotes were kept as written.",
            column=q.column,
        ))
    return tuple(notes)


def _repair(
    taken: list[tuple[int, str]],
    delimiter: str,
    shape: RowShape | None,
    ends: re.Pattern[str],
    feed: _Feed,
    notes: dict[int, list[RowNote]],
    cut: bool = False,
) -> bool:
    """Read the runaway quote of the record made of ``taken`` as a plain character and queue its lines again.

    Adds the note to ``notes`` under the record's first line (``cut``: the
    csv module refused the record at the field limit).  False (and nothing
    done) when the record has no runaway quote.
    """
    found = _runaway([line for _, line in taken], delimiter, shape, ends)
    if found is None:
        return False
    index, offset, column, swallowed = found
    number, line = taken[index]
    notes.setdefault(taken[0][0], []).append(_quote_note(line, offset, column, swallowed, delimiter, cut))
    again = list(taken)
    again[index] = (number, line[:offset] + _LITERAL_QUOTE + line[offset + 1 :])
    feed.push_back(again)
    return True


#: Most ways of re-joining a record's fields :func:`_readings` tries before it calls the record ambiguous.
MAX_REJOIN_TRIES = 2000


def _readings(fields: list[str], column: int, delimiter: str, shape: RowShape) -> list[list[str]] | None:
    """The ways to line up ``fields`` with ``shape`` by re-joining, with the delimiter, runs of the fields from
    ``column`` on (where a never-closed quote opened, so any of its delimiters may be text): every split of
    those fields into the remaining columns, in order, whose numeric cells are amounts or empty.  At most two
    are returned (two are enough to call the record ambiguous); ``None`` when there are too many splits to
    try (:data:`MAX_REJOIN_TRIES`): ambiguous too."""
    width = shape.width
    numeric = set(shape.numeric)
    found: list[list[str]] = []
    tries = 0
    head = fields[:column]

    def fits(col: int, part: list[str]) -> bool:
        """Whether ``part`` (fields) joined may be the cell of column ``col``: any text in a text column; in a
        numeric column nothing, or an amount of one field, or of fields that meet digit to digit (a number
        whose separator is the delimiter, ``1`` + ``234,50``; only for ``,`` and ``.``)."""
        if col not in numeric:
            return True
        if len(part) > 1 and (delimiter not in ",." or not all(
            _DIGIT_END.search(a.rstrip()) and _DIGIT_START.match(b) for a, b in zip(part, part[1:])
        )):
            return False
        cell = delimiter.join(part)
        return not cell.strip() or is_amount(cell)

    def place(col: int, start: int, acc: list[str]) -> bool:
        """Fill columns ``col`` … from ``fields[start:]``; false when the search must stop."""
        nonlocal tries
        if col == width - 1:
            part = fields[start:]
            while len(part) > 1 and not part[-1].strip():
                part = part[:-1]  # empty trailing fields: the same reading as without them
            if fits(col, part):
                reading = head + acc + [delimiter.join(part)]
                if reading not in found:
                    found.append(reading)
            return len(found) < 2
        left = width - 1 - col  # columns still to fill after this one, one field each at least
        for end in range(start + 1, len(fields) - left + 1):
            tries += 1
            if tries > MAX_REJOIN_TRIES:
                return False
            if not fits(col, fields[start:end]):
                continue
            if not place(col + 1, end, acc + [delimiter.join(fields[start:end])]):
                return False
        return True

    if len(fields) - column < width - column or column >= width:
        return found
    if not place(column, column, []) and len(found) < 2:
        return None
    return found


_DIGIT_END = re.compile(r"\d$")
_DIGIT_START = re.compile(r"^\s*\d")


def _split_number(fields: list[str], column: int, delimiter: str) -> int | None:
    """A column after ``column`` (where a never-closed quote opened) whose cell, joined to the cell before it
    with the delimiter, reads as one decimal number ("3" and "5" of ``"Кабель 3,5 мм``): the delimiter was
    a decimal mark inside the quote-opened text, and a price read there would be a piece of a number.
    ``None`` when there is none (always for a delimiter that is not a decimal mark)."""
    if delimiter not in ",.":
        return None
    for i in range(column + 1, len(fields)):
        if _DIGIT_START.match(fields[i]) and _DIGIT_END.search(fields[i - 1].rstrip()):
            return i
    return None


def _fit_quoted_cell(
    record: list[str], notes: tuple[RowNote, ...], delimiter: str, shape: RowShape
) -> tuple[list[str], tuple[RowNote, ...], tuple[str, int | None] | None]:
    """Line up a record in which a never-closed quote opened a cell, or refuse it.

    In: the record's fields (at least ``shape.width``), its notes (an
    ``unterminated_quote`` note names the 0-based column where the quote
    opened), the delimiter and the file's usual record.  The delimiters
    after the quote may be text of the quote-opened cell
    (``X1,"Кабель ВВГ,100`` reads as three fields, ``X1,"Кабель 3,5 мм,250``
    as four for three columns), so the readings are the ways to re-join runs
    of the fields from that column on into the remaining columns
    (:func:`_readings`, numeric cells amounts or empty); a record whose only
    extra fields are empty trailing ones also reads as it stands.

    Out: ``(fields, notes, None)`` with the one reading (its note saying how
    the cell was read when fields were re-joined), or the record unchanged
    when the quote opened past the table's columns.  ``(record, notes
    without that quote's note, (reason, column))``: the row is refused (an
    ``unreadable_row`` error for that row and the quote's column), never read
    by a guess, when several quotes opened, when there is no reading or more
    than one (``"Кабель 3,5 мм,250,50"``: 250,50 or 50), or when the reading's
    amount would come from inside the quote-opened text (:func:`_split_number`:
    ``X1,"Кабель 3,5`` is not a price 5).
    """
    width = shape.width
    quoted = [
        k for k, note in enumerate(notes)
        if note.type == "unterminated_quote" and note.column is not None and note.column < width
    ]
    if not quoted:
        return record, notes, None  # no quote, or only past the table's columns: nothing in them moved
    k = quoted[0]
    column = notes[k].column
    assert column is not None
    cell = record[column] if column < len(record) else ""
    shown = cell if len(cell) <= 40 else cell[:40] + "…"
    kept = tuple(n for i, n in enumerate(notes) if i not in quoted)
    extra = len(record) - width
    readings: list[list[str]] | None
    if len(quoted) > 1 and extra:
        readings = None
    else:
        readings = _readings(record, column, delimiter, shape)
    if readings is None or len(readings) != 1:
        reason = (
            f"The cell {shown!r} starts with a double quote that is never closed, and the row has {len(record)} fields "
            f"where the table has {width} columns; "
            + ("they can be lined up with the columns in more than one way" if readings else
               "which of them belong to that cell cannot be told for sure")
            + ", so the row is not read (its values could land in the wrong columns). Close the quote in the file "
            "and send it again."
        )
        return record, kept, (reason, column)
    reading = readings[0]
    split = _split_number(reading, column, delimiter)
    if split is not None:
        number = f"{reading[split - 1].split()[-1]}{delimiter}{reading[split].split()[0] if reading[split].split() else ''}"
        reason = (
            f"The cell {shown!r} starts with a double quote that is never closed, and the value of column "
            f"{split + 1} ({reading[split][:40]!r}) would come from inside the quoted text: with the cell before it "
            f"it reads as one number ({number!r}), so the {delimiter!r} was probably part of the text and the row "
            "is not read (its price is in doubt). Close the quote in the file and send it again."
        )
        return record, kept, (reason, column)
    if reading == record[:width] and not any(v.strip() for v in record[width:]):
        return record, notes, None  # as it stands (only empty trailing fields are extra)
    note = notes[k]
    joined = reading[column]
    shown = joined if len(joined) <= 60 else joined[:60] + "…"
    message = (
        f"{note.message} The row had {extra} field(s) more than the table's {width} columns: the cell was read "
        f"as {shown!r} (the {delimiter!r} in it kept as text), so the cells after it keep their columns."
    )
    fixed = notes[:k] + (attrs.evolve(note, message=message),) + notes[k + 1 :]
    return reading, fixed, None


def _csv_rows(
    path: str, encoding: str, delimiter: str, repair: bool = False, shape: RowShape | None = None
) -> Iterator[RawRow]:
    """The records of a CSV file as rows (:func:`_records`); a record the csv module refuses is a row with ``error`` set.

    ``shape`` is the file's usual record (:func:`row_shape`), used to tell a
    runaway quote from a cell with line breaks and to line up a record that
    such a quote left with more fields than the table has columns
    (:func:`_fit_quoted_cell`: re-joined, or refused as a row with ``error``
    and ``error_column`` set); ``repair`` undoes mojibake cell by cell.
    """
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        first = True
        for line, record, notes, error in _records(fh, delimiter, shape):
            if error is not None:
                yield RawRow(
                    row=line, values=[], notes=notes,
                    error=f"The CSV record could not be read ({error}); the row is skipped.",
                )
                continue
            if notes and shape is not None and len(record) >= shape.width:
                record, notes, refused = _fit_quoted_cell(record, notes, delimiter, shape)
                if refused is not None:
                    message, column = refused
                    yield RawRow(line, list(record), error=message, notes=notes, error_column=column,
                                 line=delimiter.join(record))
                    continue
            if first and record:
                record[0] = _LEADING_JUNK.sub("", record[0])
                first = False
            if repair:
                record = [repair_mojibake(v) for v in record]
            # blank cells are empty (None); most records have none, which map() tells without a Python call a cell
            values: list[CellValue]
            if all(map(_strip, record)):
                values = record  # type: ignore[assignment]  # list[str] is a list of cell values
            else:
                values = [v if v.strip() else None for v in record]
            yield RawRow(line, values, None, None, None, None, notes)  # row, values, formats, level, page, error, notes


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
    control = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
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
    lines = _sample_lines(text)[:SHAPE_SAMPLE_LINES]
    shapes: dict[str, RowShape | None] = {}
    if delimiter:
        delim = delimiter
    else:
        delim, shapes = _sniff(lines)
    size = os.path.getsize(path)
    n_lines = max(text.count("\n"), 1)
    estimate = n_lines if size <= len(sample) else int(n_lines * size / max(len(sample), 1))
    repair = mojibake_share(text) >= 0.6 and len(_CYRILLIC.findall(text)) >= 6
    shape = shapes[delim] if delim in shapes else row_shape(lines, delim)
    source = SheetSource(name=None, rows=lambda: _csv_rows(path, enc, delim, repair, shape), estimated_rows=estimate)
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
