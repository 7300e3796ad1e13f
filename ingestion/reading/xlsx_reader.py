"""XLSX reader: openpyxl for the workbook, a streaming parser of its own for the cells.

* **Who reads what.**  openpyxl's workbook reader reads the package
  manifest, the workbook part (sheet list, states — hidden sheets are marked
  ``hidden`` —, each sheet's part, the date epoch) and the stylesheet (number
  format and date kind of every cell style): :func:`_open_workbook`.  The
  cells and the shared strings are parsed here, by openpyxl's own rules for
  values (:func:`_sheet_rows`, :func:`read_shared_strings`): sheet XML written
  the plain way (Excel, LibreOffice, openpyxl) with string search and regular
  expressions, anything else with expat.  openpyxl builds Python objects per
  XML element and per cell and reads ≈5k rows/s; this reads several times that.
* Values as openpyxl gives them with ``data_only=True``: formulas give their
  cached values; error cells (``#VALUE!``, type ``e``) are empty, their text
  kept in ``RawRow.errors`` (:func:`_take_errors`); numbers in
  a date-formatted style are dates (times as ISO text, durations as seconds);
  blank text is empty.
* Small workbooks (stated size, or for a sheet stating none its XML's length
  over :data:`XML_BYTES_PER_CELL`, up to :data:`FULL_LOAD_CELLS` cells) are read
  whole when opened, shaped as openpyxl's normal mode shows them (every row,
  as wide as the widest, with outline levels: :class:`_WholeSheet`).  Larger
  ones are streamed row by row, shaped as openpyxl's read-only mode shows them
  after ``reset_dimensions()`` (the stated dimensions are not trusted; no
  outline levels: :func:`_stream_rows`); their merged ranges are found with a
  byte scan of the sheet's XML after ``</sheetData>`` (no XML parsing).
  Either way merged ranges are resolved: every cell of a range (up to
  :data:`MAX_MERGE_FILL` cells) carries the top-left value.
* Hidden rows, including rows of collapsed outline groups, are data like any
  other.
* Number formats are kept per cell (a currency may live only there).
* **Resource limits, checked before anything is parsed** (a "zip
  bomb" is a small file that unpacks to gigabytes): the ZIP directory's
  uncompressed sizes must not add up to more than
  :data:`MAX_UNCOMPRESSED_BYTES`, and no part larger than
  :data:`RATIO_CHECK_BYTES` may be compressed more than
  :data:`MAX_COMPRESSION_RATIO` to 1 (real sheet XML compresses 5–30:1);
  otherwise :class:`~ingestion.errors.UnsupportedFormat`.  The stated sizes
  can be trusted as upper bounds: :mod:`zipfile` stops at the stated size
  and fails on the CRC when a part holds more.  XML entity declarations are
  refused.  Over-long cells are cut later, for every format
  (:data:`ingestion.reading.api.MAX_CELL_CHARS`).
"""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from datetime import date, datetime, time, timedelta
from functools import partial
from operator import itemgetter
from typing import IO, Any, Callable, Iterable, Iterator
from xml.parsers import expat

import attrs
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.utils.cell import column_index_from_string, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.xml.constants import SHARED_STRINGS

from ingestion.errors import CorruptFile, UnsupportedFormat
from ingestion.reading.normalize import FORMULA_MARK, CellValue, ErrorCell
from ingestion.reading.source import RawRow, SheetSource

#: Workbooks stating at most this many cells are loaded fully (merged cells resolved).
FULL_LOAD_CELLS = 400_000
#: Bytes of sheet XML taken for one cell when a sheet states no size (the shortest cells, a shared-string
#: or number ``<c r="A1" t="s"><v>0</v></c>``, take ≈30): a sheet without ``<dimension>`` — every sheet
#: openpyxl's write-only mode writes — is sized by its part's uncompressed length, so a large one is streamed.
XML_BYTES_PER_CELL = 32
#: Upper bound of the sum of the uncompressed sizes of a workbook's ZIP parts, in bytes (500 MiB).
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
#: A part compressed more than this many times (uncompressed / compressed size) is a zip bomb …
MAX_COMPRESSION_RATIO = 200
#: … when it also unpacks to more than this many bytes (50 MiB); small parts may compress well.
RATIO_CHECK_BYTES = 50 * 1024 * 1024


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB"


def check_zip_limits(path: str) -> None:
    """Refuse a workbook whose parts would unpack to too much (module docstring, resource limits).

    Reads only the ZIP directory.  Raises :class:`UnsupportedFormat` when the
    uncompressed sizes add up to more than :data:`MAX_UNCOMPRESSED_BYTES` or a
    part over :data:`RATIO_CHECK_BYTES` is compressed more than
    :data:`MAX_COMPRESSION_RATIO`:1, and :class:`CorruptFile` when the ZIP
    directory cannot be read.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptFile(f"The .xlsx file cannot be opened ({exc}); re-save it from Excel and send it again.") from exc
    total = 0
    for info in infos:
        size = max(int(info.file_size), 0)
        total += size
        ratio = size / max(int(info.compress_size), 1)
        if size > RATIO_CHECK_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise UnsupportedFormat(
                f"The .xlsx part {info.filename!r} unpacks to {_mib(size)} from {info.compress_size:,} bytes "
                f"({ratio:,.0f}:1, limit {MAX_COMPRESSION_RATIO}:1): the file is not read (a ZIP bomb or a damaged "
                "workbook). Re-save it from Excel or send it as .csv."
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise UnsupportedFormat(
            f"The .xlsx file unpacks to {_mib(total)} (limit {_mib(MAX_UNCOMPRESSED_BYTES)}): it is too large to read. "
            "Split it into smaller files or send it as .csv."
        )


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW, _C, _V, _IS, _T, _R, _RPH, _SI, _MERGE, _F = (
    f"{_NS} {n}" for n in ("row", "c", "v", "is", "t", "r", "rPh", "si", "mergeCell", "f")
)
_NAMES = (_ROW, _C, _V, _IS, _T, _R, _RPH, _SI, _MERGE, _F)
#: Bytes of a ZIP part handed to expat at a time.
_READ_BYTES = 1 << 16
#: Merged ranges larger than this many cells are not filled with their top-left value.
MAX_MERGE_FILL = 10_000

#: One parsed ``<row>``: its 1-based number, outline level and cells as (1-based column, value, number format).
_Row = tuple[int, int, list[tuple[int, CellValue, str | None]]]

_COLUMNS: dict[str, int] = {}


def _column(ref: str) -> int:
    """1-based column of a cell reference (``"C12"`` → 3); :class:`CorruptFile` when it is not one."""
    letters = ref.rstrip("0123456789")
    col = _COLUMNS.get(letters)
    if col is None:
        try:
            col = column_index_from_string(letters)
        except ValueError as exc:
            raise CorruptFile(f"The .xlsx file has a cell reference {ref[:20]!r} that is not one.") from exc
        _COLUMNS[letters] = col
    return col


def _refuse_entities(*_args: Any) -> None:
    raise CorruptFile("The .xlsx file declares XML entities; such parts are not read.")


def _expat(start: Any, end: Any, chars: Any) -> Any:
    """An expat parser with namespaces (``"<uri> <local name>"``), buffered text and entity declarations refused.

    Element names this module looks for are handed to the handlers as the
    module's own string objects (expat's intern table is seeded with them),
    so handlers may compare them with ``is``.
    """
    p = expat.ParserCreate(namespace_separator=" ", intern={n: n for n in _NAMES})
    p.buffer_text = True
    p.buffer_size = _READ_BYTES
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.EntityDeclHandler = _refuse_entities
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    return p


def _feed(parser: Any, fh: IO[bytes], what: str) -> Iterator[None]:
    """Hand ``fh`` to ``parser`` chunk by chunk, pausing after each (the handlers collect what they found).

    Raises :class:`CorruptFile` for XML that does not parse or a part that fails its CRC.
    """
    try:
        while True:
            chunk = fh.read(_READ_BYTES)
            parser.Parse(chunk, not chunk)
            yield
            if not chunk:
                return
    except expat.ExpatError as exc:
        raise CorruptFile(f"The .xlsx file cannot be read: {what} is not well-formed XML ({exc}).") from exc
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise CorruptFile(f"The .xlsx file cannot be read: {what} is damaged ({exc}).") from exc


_XSTRING_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_xstring(text: str) -> str:
    """``text`` with the ``_xHHHH_`` escapes of OOXML's string type (ST_Xstring, ECMA-376 part 1
    §22.9.2.19) decoded: Excel writes a character XML cannot hold — most often a carriage return in a
    cell with line breaks, ``_x000D_`` — as its code in hex between ``_x`` and ``_``, and a literal
    ``_x…_`` with its underscore escaped (``_x005F_x000D_``).  openpyxl leaves these escapes in the text
    (it only drops ``x005F_``), which put ``_x000D_`` into product names.  One left-to-right pass, so an
    escaped underscore never starts another escape."""
    if "_x" not in text:
        return text
    return _XSTRING_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _rich_text(
    container: str, done: Callable[[str], None], unescape: bool = False
) -> tuple[Callable[[str, dict[str, str]], None], Callable[[str], None], Callable[[str], None]]:
    """Expat handlers (start, end, character data) that put together the text of each ``container`` element.

    ``container`` is ``<si>`` (a shared string) or ``<is>`` (an inline
    string); its text is, as openpyxl reads it (``rich_text=False``), its
    plain ``<t>`` text followed by the ``<t>`` text of each rich-text run
    ``<r>``, phonetic runs (``<rPh>``) left out.  ``done`` is called with that
    text at the container's end (its ``_xHHHH_`` escapes decoded when
    ``unescape``: :func:`unescape_xstring`).  Other elements are not looked at,
    so a caller may hand these handlers every element or only those four.
    """
    buf: list[str] = []
    runs: list[str] = []
    plain: str | None = None
    run_t: str | None = None
    inside = collecting = in_r = False
    in_rph = 0

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal inside, collecting, in_r, run_t, plain, in_rph
        if name is _T:
            if inside and not in_rph:
                collecting = True
                buf.clear()
        elif name is _R:
            if inside:
                in_r, run_t = True, None
        elif name is container:
            inside = True
            plain = None
            runs.clear()
        elif name is _RPH:
            in_rph += 1

    def end(name: str) -> None:
        nonlocal inside, collecting, in_r, run_t, plain, in_rph
        if name is _T:
            if collecting:
                collecting = False
                if in_r:
                    run_t = "".join(buf)
                else:
                    plain = "".join(buf)
        elif name is container:
            if inside:
                inside = False
                text = (plain or "") + "".join(runs) if runs else (plain or "")
                done(unescape_xstring(text) if unescape else text)
        elif name is _R:
            if in_r:
                in_r = False
                if run_t is not None:
                    runs.append(run_t)
        elif name is _RPH:
            in_rph -= 1

    def chars(data: str) -> None:
        if collecting:
            buf.append(data)

    return start, end, chars


def read_shared_strings(archive: zipfile.ZipFile, part: str) -> list[str]:
    """The shared-string table of a workbook, as openpyxl reads it (``rich_text=False``).

    Each ``<si>`` gives its plain ``<t>`` text followed by the ``<t>`` texts of
    its rich-text runs (:func:`_rich_text`); phonetic runs (``<rPh>``) are
    left out and ``_xHHHH_`` escapes are decoded (:func:`unescape_xstring`;
    openpyxl only removes ``x005F_``).  Raises
    :class:`CorruptFile` for a damaged part.
    """
    out: list[str] = []
    start, end, chars = _rich_text(_SI, out.append, unescape=True)
    try:
        fh = archive.open(part)
    except (KeyError, OSError, zipfile.BadZipFile) as exc:
        raise CorruptFile(f"The .xlsx file cannot be read: its shared strings are missing ({exc}).") from exc
    with fh:
        for _ in _feed(_expat(start, end, chars), fh, "the shared-string table"):
            pass
    return out


class _Book:
    """What every sheet of a workbook needs: the archive, shared strings (read once, when first needed),
    the number format and date kind of each cell style, and the date epoch."""

    def __init__(self, wb: Any, archive: zipfile.ZipFile, strings_part: str | None) -> None:
        self.archive = archive
        self._strings_part = strings_part
        self._strings: list[str] | None = None
        custom = list(wb._number_formats)
        formats: list[str | None] = []
        for style in wb._cell_styles:
            fid = int(style.numFmtId or 0)
            if fid < BUILTIN_FORMATS_MAX_SIZE:
                f: Any = BUILTIN_FORMATS.get(fid, "General")
            else:
                f = custom[fid - BUILTIN_FORMATS_MAX_SIZE] if fid - BUILTIN_FORMATS_MAX_SIZE < len(custom) else None
            formats.append(str(f) if f and f != "General" else None)
        #: cell style index → number format (``None`` for General)
        self.formats = formats
        self.date_styles = frozenset(int(i) for i in wb._date_formats)
        self.timedelta_styles = frozenset(int(i) for i in wb._timedelta_formats)
        self.epoch = wb.epoch
        #: error cells (type ``e``) read so far: the row builders look for :class:`ErrorCell` values only
        #: while fewer have been found in rows than this says
        self.error_cells = 0

    @property
    def strings(self) -> list[str]:
        """The shared-string table (:func:`read_shared_strings`), read on first use."""
        if self._strings is None:
            self._strings = read_shared_strings(self.archive, self._strings_part) if self._strings_part else []
        return self._strings

    def cell(
        self, t: str, v: str | None, s: str | int, inline: str | None, where: str, formula: str | None = None
    ) -> tuple[CellValue, str | None]:
        """One cell's value and number format, by openpyxl's rules with ``data_only`` (see :func:`_sheet_rows`).

        ``t``, ``s``: the cell's type and style attributes (``"n"``, ``0``
        when absent); ``v``: the text of its first ``<v>`` (``None`` when
        none or empty); ``inline``: the text of its ``<is>`` (``None`` when
        none); ``where`` names the cell in errors.  The format is given for
        non-text values only.  Raises :class:`CorruptFile` for a value that
        is not what its type says (or a shared-string index out of range).

        ``formula``: the text of the cell's ``<f>`` (``""`` for a shared
        formula's), ``None`` when it has none.  A numeric cell with a formula
        and no value was saved without its result (openpyxl writes formulas
        so; Excel recalculates them when it opens the file): it is an
        :class:`~ingestion.reading.normalize.ErrorCell` ``"=" + formula``
        (:data:`~ingestion.reading.normalize.FORMULA_MARK`), so that a price
        column can say so instead of reading an empty cell.
        """
        if formula is not None and v is None and t == "n":
            self.error_cells += 1
            return ErrorCell(FORMULA_MARK + " ".join(formula.split())[:200]), None
        value: Any = None
        style: int | None = None
        try:
            if t == "n":
                if v is not None:
                    value = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
                    style = int(s) if s else 0
                    if style in self.date_styles:
                        try:
                            value = from_excel(value, self.epoch, timedelta=style in self.timedelta_styles)
                        except (OverflowError, ValueError):
                            return None, None  # openpyxl: an error cell
                    else:
                        return value, self.formats[style] if 0 <= style < len(self.formats) else None
            elif t == "s":
                if v is not None:
                    value = (self._strings if self._strings is not None else self.strings)[int(v)]
            elif t == "inlineStr":
                value = unescape_xstring(inline) if inline else inline
            elif t == "b":
                if v is not None:
                    value = bool(int(v))
            elif t == "d":
                if v is not None:
                    value = from_ISO8601(v)  # type: ignore[no-untyped-call]
            elif t == "e":
                if v is not None and v.strip():
                    self.error_cells += 1
                    return ErrorCell(v.strip()), None  # the row builder makes it empty (_take_errors)
            else:
                value = v  # "str" (a formula's text) and unknown types: the text
        except (ValueError, IndexError) as exc:
            raise CorruptFile(
                f"The .xlsx file has a cell ({where}, type {t!r}) whose value {str(v)[:30]!r} cannot be read."
            ) from exc
        if value is None:
            return None, None
        if type(value) is str:
            return (value if value.strip() else None), None
        value = _plain(value)
        if value is None or type(value) is str:
            return value, None
        if style is None:
            try:
                style = int(s) if s else 0
            except ValueError:
                style = 0
        return value, self.formats[style] if 0 <= style < len(self.formats) else None


def _plain(value: Any) -> CellValue:
    """A converted cell value as the readers hand it out: blank text → ``None``, time → ISO text,
    duration → seconds, anything unexpected → its text."""
    if isinstance(value, str):
        return value if value.strip() else None
    if value is None or isinstance(value, (int, float, bool, datetime, date)):
        return value  # type: ignore[no-any-return]
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)


def _expat_rows(book: _Book, part: str, merges: list[str]) -> Iterator[_Row]:
    """:func:`_sheet_rows` with expat, for any well-formed sheet part.

    The elements are those of the SpreadsheetML namespace wherever they sit
    (names come from expat interned as this module's constants, so they are
    compared by identity): the cells of each ``<row>``, the first ``<v>`` of
    a cell, its ``<is>`` (plain ``<t>`` text, then the ``<t>`` of each run;
    phonetic runs left out), and ``<mergeCell>`` references.
    """
    columns = _COLUMNS
    cell = book.cell
    done: list[_Row] = []
    cells: list[tuple[int, CellValue, str | None]] = []
    buf: list[str] = []
    row_no = level = col_counter = 0
    in_row = in_c = in_is = collecting = False
    c_ref: str | None = None
    c_t = "n"
    c_s: str | int = 0
    v_text: str | None = None
    inline: str | None = None
    C, V, ROW, T, IS, R, RPH, MERGE, F = _C, _V, _ROW, _T, _IS, _R, _RPH, _MERGE, _F
    formula: str | None = None  # the text of the current cell's <f>, None when it has none
    in_f = False
    f_buf: list[str] = []

    def set_inline(text: str) -> None:
        nonlocal inline
        inline = text

    rich_start, rich_end, rich_chars = _rich_text(IS, set_inline)

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal in_c, c_ref, c_t, c_s, v_text, inline, collecting, in_row, row_no, level, col_counter, in_is
        nonlocal formula, in_f
        if name is C:
            if in_row:
                in_c = True
                c_ref = attrs.get("r")
                c_t = attrs.get("t", "n")
                c_s = attrs.get("s", 0)
                v_text = inline = formula = None
        elif name is F:
            if in_c and formula is None and not in_is:
                in_f = True
                f_buf.clear()
        elif name is V:
            if in_c and v_text is None and not in_is:
                collecting = True
                buf.clear()
        elif name is ROW:
            row_no, level = _row_number(attrs, row_no)
            col_counter = 0
            in_row = True
        elif name is IS:
            if in_c:
                in_is = True
                rich_start(name, attrs)
        elif name is T or name is R or name is RPH:
            rich_start(name, attrs)
        elif name is MERGE:
            ref = attrs.get("ref")
            if ref:
                merges.append(ref)

    def end(name: str) -> None:
        nonlocal in_c, v_text, collecting, in_row, cells, col_counter, in_is, formula, in_f
        if name is F:
            if in_f:
                in_f = False
                formula = "".join(f_buf)
        elif name is C:
            if not in_c:
                return
            in_c = False
            if c_ref:
                col = columns.get(c_ref.rstrip("0123456789")) or _column(c_ref)
            else:
                col = col_counter + 1
            col_counter = col
            value, fmt = cell(c_t, v_text or None, c_s, inline, c_ref or str(col),
                              formula if not v_text and c_t == "n" else None)
            cells.append((col, value, fmt))
        elif name is V:
            if collecting and not in_is:
                collecting = False
                v_text = "".join(buf)
        elif name is ROW:
            if in_row:
                done.append((row_no, level, cells))
                cells = []
                in_row = False
        elif name is IS:
            if in_is:
                in_is = False
                rich_end(name)  # sets inline
        elif name is T or name is R or name is RPH:
            rich_end(name)

    def chars(data: str) -> None:
        if collecting:
            buf.append(data)
        elif in_f:
            f_buf.append(data)
        elif in_f:
            f_buf.append(data)
        elif in_is:
            rich_chars(data)

    try:
        fh = book.archive.open(part)
    except (KeyError, OSError, zipfile.BadZipFile) as exc:
        raise CorruptFile(f"The .xlsx file cannot be read: the sheet part {part!r} is missing ({exc}).") from exc
    with fh:
        for _ in _feed(_expat(start, end, chars), fh, f"the sheet part {part!r}"):
            if done:
                yield from done
                done.clear()


def _sheet_rows(book: _Book, part: str, merges: list[str]) -> Iterator[_Row]:
    """The ``<row>`` elements of one sheet part, in file order, as openpyxl's parser reads them with ``data_only``.

    Cell values follow openpyxl's rules (:meth:`_Book.cell`): ``t="n"`` (or
    none) numbers are ``int`` unless they hold ``.``/``E`` (then ``float``)
    and become dates, times or durations when the cell's style has a date
    format (a serial outside the date range: empty, as openpyxl's error
    cell); ``s`` shared strings; ``str`` formula text; ``inlineStr`` the
    ``<is>`` text; ``b`` booleans; ``d`` ISO 8601 dates; ``e`` errors are
    :class:`~ingestion.reading.normalize.ErrorCell` texts (the row builders
    make them empty, :func:`_take_errors`); a formula gives its cached
    value.  Then :func:`_plain`.  The number format is given for non-text
    values only.  A cell without a
    reference follows the previous one; a row without a number follows the
    previous row.  ``<mergeCell>`` references are appended to ``merges`` as
    they are met (after the rows).

    A part written the plain way is read with string search and regular
    expressions (:func:`_regex_rows`, several times faster than element
    callbacks); at anything else it meets (before the rows it affects) it
    stops, and the part is read again with expat (:func:`_expat_rows`),
    from the first row not yet handed out.  Raises :class:`CorruptFile` for
    XML that does not parse (where expat reads it), a shared-string index
    out of range, or a number, boolean, date or reference that is not one.
    """
    done = 0
    try:
        for row in _regex_rows(book, part, merges):
            yield row
            done += 1
    except _NotPlain:
        # a tag the patterns cannot be sure of: read the part again with expat, after the rows already given
        merges.clear()
        for k, row in enumerate(_expat_rows(book, part, merges)):
            if k >= done:
                yield row


class _NotPlain(Exception):
    """Raised by :func:`_regex_rows` at what its patterns do not read for sure (see :func:`_plain_head`)."""


_DECL_ENCODING = re.compile(r"""encoding\s*=\s*["']([^"']*)""")
_NS_DECLARATION = re.compile(r"""xmlns(:[^\s=]+)?\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _plain_head(text: str) -> int:
    """Where the root start tag of a sheet part (decoded from UTF-8) ends, when it is written the plain way.

    Plain: an optional XML declaration naming UTF-8 (or no encoding), then
    the root element, unprefixed, declaring the SpreadsheetML namespace as
    the default namespace, and no prefix for it.  Raises :class:`_NotPlain`
    otherwise.  (:func:`_regex_rows` checks the rest: no ``<!`` — comment,
    CDATA, DOCTYPE —, no other ``<?``, no other default-namespace declaration
    and no prefix for the SpreadsheetML namespace anywhere.)
    """
    pos = 0
    if text.startswith("<?xml"):
        end = text.find("?>")
        if end < 0:
            raise _NotPlain("XML declaration")
        m = _DECL_ENCODING.search(text, 0, end)
        if m is not None and m.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
            raise _NotPlain("encoding")
        pos = end + 2
    i = text.find("<", pos)
    j = text.find(">", i)
    if i < 0 or j < 0 or text[pos:i].strip():
        raise _NotPlain("root")
    tag = text[i + 1 : j].rstrip("/")
    name = tag.split(None, 1)[0] if tag.strip() else ""
    if not name or ":" in name or "'" in tag or tag.count('"') % 2:
        raise _NotPlain("root")
    attrs = _attrs(tag[len(name):])
    if attrs.get("xmlns") != _NS or any(k.startswith("xmlns:") and v == _NS for k, v in attrs.items()):
        raise _NotPlain("namespace")
    return j + 1


def _check_plain(piece: str, start: int) -> None:
    """Raise :class:`_NotPlain` when ``piece[start:]`` holds a comment, CDATA section, DOCTYPE or processing
    instruction, a default-namespace declaration, or a prefix for the SpreadsheetML namespace."""
    if piece.find("<!", start) >= 0 or piece.find("<?", start) >= 0:
        raise _NotPlain("markup")
    if piece.find("xmlns", start) >= 0:
        for m in _NS_DECLARATION.finditer(piece, start):
            if m.group(1) is None or (m.group(2) or m.group(3)) == _NS:
                raise _NotPlain("namespace")


#: The attributes of a start tag (quoted values may hold ``>``).
_ATTRS = r"""((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*"""
_ATTR = re.compile(r"""([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CELL_TAG = re.compile(r"<c" + _ATTRS + r"(?:/>|>(.*?)</c>)", re.S)
#: A cell as Excel, LibreOffice and openpyxl write it: attributes ``r``, ``s``, ``t`` in that order (the
#: last two optional), then nothing, a lone ``<v>``, an ``<is>`` with one ``<t>``, or other content.  Groups:
#: letters of ``r``, s, t, the ``<v>`` text, the ``<t>`` text, other content.
_CELL_PLAIN = re.compile(
    r'<c r="([A-Z]{1,3})[0-9]+"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?'
    r'(?:/>|>(?:<v>([^<]*)</v></c>|<is><t(?: xml:space="preserve")?>([^<]*)</t></is></c>|(.*?)</c>))',
    re.S,
)
_V_TAG = re.compile(r"<v" + _ATTRS + r"(?:/>|>([^<]*)</v>)")
_IS_TAG = re.compile(r"<is" + _ATTRS + r"(?:/>|>(.*?)</is>)", re.S)
_MERGE_TAG = re.compile(r"<mergeCell" + _ATTRS + r"/?>")
#: An ``<is>`` holding one plain ``<t>`` (what writers put there).
_ONE_T = re.compile(r"<t" + _ATTRS + r"(?:/>|>([^<]*)</t>)")
#: The tags that matter inside an ``<is>``: ``t``, ``r`` and ``rPh`` starts and ends.
_IS_PART = re.compile(r"<(/?)(t|r|rPh)(?=[\s/>])" + _ATTRS + r"(/?)>")
_ANY_TAG = re.compile(r"<[^>]*>")
_REFERENCE = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_TAG_END = (" ", "\t", "\n", "\r", "/", ">")


def _reference(m: re.Match[str]) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    return chr(int(m.group(2)) if m.group(2) else int(m.group(3), 16))


def _text(raw: str) -> str:
    """Character data as an XML parser reports it: line ends normalised to ``\n``, references replaced."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    return _REFERENCE.sub(_reference, raw) if "&" in raw else raw


def _attrs(raw: str) -> dict[str, str]:
    """The attributes of a start tag (``_ATTRS``' group) as an XML parser reports them (values normalised)."""
    out: dict[str, str] = {}
    for name, dq, sq in _ATTR.findall(raw):
        value = dq or sq
        if "\t" in value or "\n" in value or "\r" in value:
            value = value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\t", " ")
        out[name] = _REFERENCE.sub(_reference, value) if "&" in value else value
    return out


def _inline_text(raw: str) -> str:
    """The text of an ``<is>``'s content: its plain ``<t>`` text, then the ``<t>`` of each run (not phonetic runs)."""
    m = _ONE_T.fullmatch(raw)
    if m is not None:
        return _text(m.group(2) or "")
    plain: str | None = None
    runs: list[str] = []
    run_t: str | None = None
    in_r = False
    in_rph = 0
    t_start: int | None = None
    for m in _IS_PART.finditer(raw):
        closing, tag, closed = m.group(1), m.group(2), m.group(4)
        if tag == "t":
            if closing:
                if t_start is not None:
                    text = _text(_ANY_TAG.sub("", raw[t_start:m.start()]))
                    t_start = None
                    if in_r:
                        run_t = text
                    else:
                        plain = text
            elif not in_rph:
                if closed:
                    if in_r:
                        run_t = ""
                    else:
                        plain = ""
                else:
                    t_start = m.end()
        elif tag == "r":
            if closing or closed:
                if in_r and run_t is not None:
                    runs.append(run_t)
                in_r = False
            if not closing and not closed:
                in_r, run_t = True, None
        elif not closed:
            in_rph += -1 if closing else 1
    return (plain or "") + "".join(runs)


def _cell_content(inner: str, t: str) -> tuple[str | None, str | None]:
    """(text of the first ``<v>``, text of the ``<is>`` when ``t`` is ``inlineStr``) of a cell's content."""
    if t == "inlineStr":
        m = _IS_TAG.search(inner)
        return None, (_inline_text(m.group(2) or "") if m is not None else None)
    m = _V_TAG.search(inner)
    return (_text(m.group(2)) if m is not None and m.group(2) else None), None


_F_TAG = re.compile(r"<f(?=[\s/>])" + _ATTRS + r"(?:/>|>([^<]*)</f>)")


def _formula_text(inner: str) -> str | None:
    """The text of a cell content's ``<f>`` (``""`` when empty: a shared formula's other cells), ``None`` when none."""
    m = _F_TAG.search(inner)
    if m is None:
        return None
    return _text(m.group(2) or "")


def _row_number(attrs: dict[str, str], previous: int) -> tuple[int, int]:
    """(number, outline level) of a ``<row>`` with these attributes: ``r`` (a row without one follows the
    ``previous``), ``outlineLevel`` (0 when absent or not a number).  :class:`CorruptFile` for an ``r`` that is
    not a whole number."""
    r = attrs.get("r")
    if r is None:
        number = previous + 1
    else:
        try:
            number = int(r)
        except ValueError:
            try:
                f = float(r)
            except ValueError:
                f = 0.5
            if not f.is_integer():
                raise CorruptFile(f"The .xlsx file has a row number {r[:20]!r} that is not one.") from None
            number = int(f)
    level = 0
    if "outlineLevel" in attrs:
        try:
            level = int(attrs["outlineLevel"] or 0)
        except ValueError:
            level = 0
    return number, level


def _regex_rows(book: _Book, part: str, merges: list[str]) -> Iterator[_Row]:
    """:func:`_sheet_rows` with string search and regular expressions, for a part written the plain way.

    The part is decoded chunk by chunk and read up to its last ``</row>``:
    each ``<row>`` (self-closing or not), the ``<c>`` elements in it (cells
    written the usual way in one pattern, :data:`_CELL_PLAIN`; a row with any
    other cell with the general one), a cell's first ``<v>`` and its ``<is>``,
    then the ``<mergeCell>`` references.  Well-formed XML without comments or
    CDATA holds no ``<`` in text or attribute values, so these patterns find
    exactly the elements.  Each piece is checked before it is read
    (:func:`_plain_head`, :func:`_check_plain`); what is not plain, a start
    tag whose end cannot be told for sure (a quote in an attribute), an
    element that is not closed (a row or cell running into the next) or text
    that is not UTF-8 raises :class:`_NotPlain`.  The XML is not otherwise
    validated: a part with, say, a bare ``&`` in a text or a repeated
    attribute is read (expat refuses it as not well-formed).
    """
    cell = book.cell
    columns = _COLUMNS
    formats, dates = book.formats, book.date_styles
    n_formats = len(formats)
    strings: list[str] | None = None
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    row_no = 0
    head = True
    with book.archive.open(part) as fh:
        while True:
            chunk = fh.read(_READ_BYTES * 4)
            try:
                pending += decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise _NotPlain("not UTF-8") from exc
            cut = len(pending) if not chunk else pending.rfind("</row>") + 6
            if cut < 6 and chunk:
                continue
            piece, pending = pending[:cut], pending[cut:]
            pos = _plain_head(piece) if head else 0
            head = False
            _check_plain(piece, pos)
            while True:
                i = piece.find("<row", pos)
                if i < 0:
                    break
                if piece[i + 4 : i + 5] not in _TAG_END:
                    pos = i + 4  # <rowBreaks> …
                    continue
                j = piece.find(">", i)
                tag = piece[i + 4 : j]
                if j < 0 or "'" in tag or tag.count('"') % 2:
                    raise _NotPlain(tag)
                closed = tag.endswith("/")
                if closed:
                    tag = tag[:-1]
                    content = ""
                    pos = j + 1
                else:
                    k = piece.find("</row>", j)
                    if k < 0 or piece.find("<row", j, k) >= 0:
                        raise _NotPlain("row not closed")
                    content = piece[j + 1 : k]
                    pos = k + 6
                level = 0
                r_text = tag[4 : tag.find('"', 4)] if tag.startswith(' r="') else ""
                if r_text.isdigit() and r_text.isascii() and "outlineLevel" not in tag:
                    row_no = int(r_text)  # <row r="12" …>, the usual row, without the attribute parser
                else:
                    row_no, level = _row_number(_attrs(tag) if tag else {}, row_no)
                cells: list[tuple[int, CellValue, str | None]] = []
                if content:
                    found = _CELL_PLAIN.findall(content)
                    # every cell matched (other "<c…" tags, such as <color> in rich text, send the row the long way)
                    if len(found) == content.count("<c"):
                        escaped = "&" in content or "\r" in content
                        for letters, s, t, v, text, inner in found:
                            col = columns.get(letters) or _column(letters)
                            if escaped:
                                v, text = _text(v), _text(text)
                            if not t or t == "n":
                                if v:
                                    style = int(s) if s else 0
                                    if style not in dates:
                                        try:
                                            number = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
                                        except ValueError:
                                            number = None  # cell() says why
                                        if number is not None:
                                            cells.append((col, number, formats[style] if style < n_formats else None))
                                            continue
                                t = "n"
                            elif t == "inlineStr" and not inner:
                                if "_x" in text:
                                    text = unescape_xstring(text)
                                cells.append((col, text if text.strip() else None, None))
                                continue
                            elif t == "s" and v and strings is not None:
                                try:
                                    shared = strings[int(v)]
                                except (ValueError, IndexError):
                                    shared = None  # cell() says why
                                if shared is not None:
                                    cells.append((col, shared if shared.strip() else None, None))
                                    continue
                            inline = formula = None
                            if inner:
                                v, inline = _cell_content(inner, t)
                                if not v and t == "n" and "<f" in inner:
                                    formula = _formula_text(inner)
                            elif t == "inlineStr":
                                inline = text
                            value, fmt = cell(t, v or None, s, inline, letters, formula)
                            if t == "s" and strings is None:
                                strings = book.strings
                            cells.append((col, value, fmt))
                    else:
                        col_counter = 0
                        for c in _CELL_TAG.finditer(content):
                            inner = c.group(2) or ""
                            if "<c " in inner or "<c>" in inner or "<c/" in inner:
                                raise _NotPlain("cell not closed")
                            ca = _attrs(c.group(1))
                            ref = ca.get("r")
                            col = (columns.get(ref.rstrip("0123456789")) or _column(ref)) if ref else col_counter + 1
                            col_counter = col
                            t = ca.get("t", "n")
                            v, inline = _cell_content(inner, t) if inner else (None, None)
                            formula = _formula_text(inner) if not v and t == "n" and "<f" in inner else None
                            cells.append((col, *cell(t, v or None, ca.get("s", 0), inline, ref or str(col), formula)))
                yield row_no, level, cells
            if "<mergeCell" in piece:
                for m in _MERGE_TAG.finditer(piece):
                    ref = _attrs(m.group(1)).get("ref")
                    if ref:
                        merges.append(ref)
            if not chunk:
                return


def _merge_boxes(refs: Iterable[str]) -> list[tuple[int, int, int, int]]:
    """Merged-range references as 1-based ``(min_col, min_row, max_col, max_row)``; references that are
    not cell ranges (``"A:A"``, junk) are left out."""
    out: list[tuple[int, int, int, int]] = []
    for ref in refs:
        try:
            b = range_boundaries(ref)
        except (ValueError, TypeError):
            continue
        if None not in b:
            out.append((int(b[0] or 0), int(b[1] or 0), int(b[2] or 0), int(b[3] or 0)))
    return out


_MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+\d+:[A-Z]+\d+)\"")
_CHUNK = 1 << 20


def streamed_merges(archive: zipfile.ZipFile, part: str) -> list[tuple[int, int, int, int]]:
    """Merged ranges of a sheet part as 1-based ``(min_col, min_row, max_col, max_row)``, before its rows are read.

    Reads the part in 1 MiB chunks and looks for ``<mergeCell ref=...>``
    only after ``</sheetData>`` (a byte scan, no XML parsing); ``[]`` when the
    part cannot be read.
    """
    refs: list[str] = []
    try:
        fh = archive.open(part)
    except (KeyError, OSError, zipfile.BadZipFile):
        return []
    try:
        with fh:
            tail = b""
            after = False
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                buf = tail + chunk
                if not after:
                    pos = buf.find(b"</sheetData>")
                    if pos < 0:
                        tail = buf[-16:]
                        continue
                    after = True
                    buf = buf[pos:]
                cut = buf.rfind(b"<")
                refs.extend(m.group(1).decode("ascii") for m in _MERGE_REF.finditer(buf[:cut] if cut > 0 else buf))
                tail = buf[cut:] if cut > 0 else b""
            if tail:
                refs.extend(m.group(1).decode("ascii") for m in _MERGE_REF.finditer(tail))
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        return []
    return _merge_boxes(refs)


def _stream_rows(book: _Book, part: str) -> Iterator[RawRow]:
    """Rows of a large sheet as openpyxl's read-only mode gives them (``reset_dimensions()``).

    Each ``<row>`` is as wide as its last cell; rows the file skips come as
    empty rows; a row number that goes back is dropped; no outline levels.
    Merged ranges (:func:`streamed_merges`, up to :data:`MAX_MERGE_FILL`
    cells) are filled with their top-left value and format.
    """
    merges = [m for m in streamed_merges(book.archive, part)
              if (m[2] - m[0] + 1) * (m[3] - m[1] + 1) <= MAX_MERGE_FILL and m[:2] != m[2:]]
    by_top: dict[int, list[tuple[int, int, int, int]]] = {}
    for m in merges:
        by_top.setdefault(m[1], []).append(m)
    active: list[tuple[int, int, int, int, CellValue, str | None]] = []  # ranges + top-left value/format
    counter = 1
    found = 0  # error cells taken out of rows so far (see _take_errors)

    def resolve(idx: int, values: list[CellValue], formats: list[str | None]) -> None:
        nonlocal active
        for m in by_top.pop(idx, []):
            c0 = m[0] - 1
            active.append((*m, values[c0] if c0 < len(values) else None, formats[c0] if c0 < len(formats) else None))
        if active:
            active = [a for a in active if a[3] >= idx]
            for min_col, min_row, max_col, _max_row, v, f in active:
                if len(values) < max_col:
                    values.extend([None] * (max_col - len(values)))
                    formats.extend([None] * (max_col - len(formats)))
                for c in range(min_col - 1, max_col):
                    if (idx, c + 1) != (min_row, min_col):
                        values[c], formats[c] = v, f

    for number, _level, cells in _sheet_rows(book, part, []):
        while counter < number:
            values: list[CellValue] = []
            formats: list[str | None] = []
            if merges:
                resolve(counter, values, formats)
            yield RawRow(row=counter, values=values, formats=formats)
            counter += 1
        errors = None
        if book.error_cells > found:
            cells, errors = _take_errors(cells)
            found += len(errors) if errors else 0
        if number < counter:
            continue
        width = cells[-1][0] if cells else 0
        values = [None] * width
        formats = [None] * width
        for col, v, f in cells:
            if col <= width:
                values[col - 1] = v
                formats[col - 1] = f
        if merges:
            resolve(counter, values, formats)
        if errors:
            errors = {c: e for c, e in errors.items() if c < width and values[c] is None}
        yield RawRow(row=counter, values=values, formats=formats, errors=errors or None)
        counter += 1


def _take_errors(
    cells: list[tuple[int, CellValue, str | None]],
) -> tuple[list[tuple[int, CellValue, str | None]], dict[int, str] | None]:
    """The cells of one parsed row with their :class:`ErrorCell` values made empty, and those errors.

    In: a row's cells as ``(1-based column, value, format)``.  Out: the same
    cells, each error cell's value ``None`` (as openpyxl's ``data_only``
    reading shows it), and ``{0-based column: error text}`` for
    ``RawRow.errors`` (``None`` when the row has no error cell).  Only called
    while the book has counted more error cells than the rows gave so far,
    so a sheet without error cells pays nothing for it.
    """
    errors: dict[int, str] = {}
    out = cells
    for k, (col, value, _fmt) in enumerate(cells):
        if type(value) is ErrorCell:
            if out is cells:
                out = list(cells)
            out[k] = (col, None, None)
            errors[col - 1] = str(value)
    return out, errors or None


class _WholeSheet:
    """A small sheet read whole, shaped as openpyxl's normal mode shows it (``iter_rows(min_row=1, min_col=1)``).

    Every row from 1 to the last row with a cell or merged range, each as
    wide as the widest (missing cells ``None``), with its outline level.
    A cell covered by a merged range (not its top-left) holds nothing, unless
    the range has at most :data:`MAX_MERGE_FILL` cells: then it carries the
    range's top-left value and format.
    """

    def __init__(self, book: _Book, part: str) -> None:
        refs: list[str] = []
        self.rows: dict[int, list[tuple[int, CellValue, str | None]]] = {}
        self.levels: dict[int, int] = {}
        #: row number → {0-based column: error text} of its error cells (see :func:`_take_errors`)
        self.errors: dict[int, dict[int, str]] = {}
        max_col = 0
        found = 0
        for number, level, cells in _sheet_rows(book, part, refs):
            self.levels[number] = level
            if book.error_cells > found:
                cells, errors = _take_errors(cells)
                if errors:
                    found += len(errors)
                    self.errors.setdefault(number, {}).update(errors)
            if cells:
                self.rows.setdefault(number, []).extend(cells)
                max_col = max(max_col, *map(itemgetter(0), cells))
        self.merges = _merge_boxes(refs)
        max_row = max(self.rows, default=0)
        for m in self.merges:
            max_col, max_row = max(max_col, m[2]), max(max_row, m[3])
        self.max_row, self.max_col = max(max_row, 1), max(max_col, 1)

    def rows_out(self) -> Iterator[RawRow]:
        """The sheet's rows (see the class docstring)."""
        width = self.max_col
        grid: dict[int, tuple[list[CellValue], list[str | None]]] = {}  # rows the merges touched

        def build(r: int) -> tuple[list[CellValue], list[str | None]]:
            values: list[CellValue] = [None] * width
            formats: list[str | None] = [None] * width
            for col, v, f in self.rows.get(r, ()):
                values[col - 1], formats[col - 1] = v, f
            return values, formats

        def row(r: int) -> tuple[list[CellValue], list[str | None]]:
            got = grid.get(r)
            if got is None:
                got = grid[r] = build(r)
            return got

        fills: dict[tuple[int, int], tuple[int, int]] = {}
        if self.merges:
            # covered cells hold nothing; small ranges are then filled from their top-left cell
            for min_col, min_row, max_col, max_row in self.merges:
                for r in range(min_row, max_row + 1):
                    values, formats = row(r)
                    for c in range(min_col - 1 if r > min_row else min_col, max_col):
                        values[c] = formats[c] = None
            for min_col, min_row, max_col, max_row in self.merges:
                if (max_row - min_row + 1) * (max_col - min_col + 1) > MAX_MERGE_FILL:
                    continue
                for r in range(min_row, max_row + 1):
                    for c in range(min_col, max_col + 1):
                        if (r, c) != (min_row, min_col):
                            fills[(r, c)] = (min_row, min_col)
        sources = {src: (row(src[0])[0][src[1] - 1], row(src[0])[1][src[1] - 1]) for src in set(fills.values())}
        errors_by_row = self.errors
        for r in range(1, self.max_row + 1):
            touched = grid.pop(r, None)
            values, formats = touched if touched is not None else build(r)
            if fills:
                for c in range(1, width + 1):
                    src = fills.get((r, c))
                    if src is not None:
                        values[c - 1], formats[c - 1] = sources[src]
            errors = None
            if errors_by_row and r in errors_by_row:
                errors = {c: e for c, e in errors_by_row[r].items() if values[c] is None} or None
            # row, values, formats, level, page, error, notes, errors
            yield RawRow(r, values, formats, self.levels.get(r, 0), None, None, (), errors)


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\sref=\"([^\"]*)\"")
_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData[\s/>]")


def stated_size(archive: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """(rows, columns) a sheet part states in its ``<dimension>`` before ``<sheetData>``; ``(0, 0)`` when it
    states none (as openpyxl's read-only sheets, without parsing the rows to find out)."""
    buf = b""
    try:
        with archive.open(part) as fh:
            while True:
                chunk = fh.read(_READ_BYTES)
                buf += chunk
                data = _SHEET_DATA.search(buf)
                dim = _DIMENSION.search(buf, 0, data.start() if data else len(buf))
                if dim is not None:
                    break
                if data is not None or not chunk:
                    return 0, 0
    except (KeyError, OSError, zipfile.BadZipFile, EOFError, zlib.error):
        return 0, 0
    try:
        min_col, min_row, max_col, max_row = range_boundaries(dim.group(1).decode("ascii", "replace"))
    except (ValueError, TypeError):
        return 0, 0
    return int(max_row or 0), int(max_col or 0)


def _cells_by_length(archive: zipfile.ZipFile, part: str) -> int:
    """Cells a sheet part that states no size may hold, from its uncompressed length
    (:data:`XML_BYTES_PER_CELL`); 0 when the part is missing (opening it fails later, with its reason)."""
    try:
        return archive.getinfo(part).file_size // XML_BYTES_PER_CELL
    except KeyError:
        return 0


@attrs.frozen
class _SheetEntry:
    """A worksheet of the workbook: its name, state (``visible``, ``hidden``, ``veryHidden``) and ZIP part."""

    name: str
    state: str | None
    part: str


def _open_workbook(handle: IO[bytes]) -> tuple[_Book, list[_SheetEntry]]:
    """The workbook's :class:`_Book` and worksheets, read with openpyxl's workbook reader.

    Only the package manifest, the workbook part and the stylesheet are read
    (openpyxl's own ``read()`` would also read every shared string and, for a
    sheet without a leading ``<dimension>``, parse the whole sheet to size it).
    Chart sheets and sheets whose part is missing are left out, as openpyxl does.
    Raises what openpyxl raises for a damaged workbook.
    """
    reader = ExcelReader(handle, read_only=True, data_only=True)
    reader.read_manifest()
    ct = reader.package.find(SHARED_STRINGS)  # type: ignore[no-untyped-call]
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)  # type: ignore[no-untyped-call]
    sheets = [
        _SheetEntry(str(sheet.name), sheet.state, str(rel.target))
        for sheet, rel in reader.parser.find_sheets()
        if rel.target in reader.valid_files and "chartsheet" not in str(rel.Type)
    ]
    return _Book(reader.wb, reader.archive, ct.PartName[1:] if ct is not None else None), sheets


def open_xlsx(path: str) -> tuple[list[SheetSource], dict[str, Any]]:
    """One :class:`SheetSource` per worksheet, plus what was learnt (``{"read_only": bool}``).

    ``read_only`` is false for small workbooks (stated size up to
    :data:`FULL_LOAD_CELLS` cells; a sheet stating no size is sized by its
    XML's length, :data:`XML_BYTES_PER_CELL`), whose
    sheets are read here and now (:class:`_WholeSheet`); larger ones are
    streamed (:func:`_stream_rows`).  Raises :class:`UnsupportedFormat` for a
    workbook over the resource limits (:func:`check_zip_limits`) and
    :class:`CorruptFile` for one that cannot be opened (a damaged sheet of a
    large workbook raises it from ``rows()``).
    """
    check_zip_limits(path)
    # a file object, not the name: openpyxl refuses names ending in .xls
    handle = open(path, "rb")  # noqa: SIM115 - stays open while the workbook streams
    try:
        book, sheets = _open_workbook(handle)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, AttributeError, IndexError) as exc:
        handle.close()
        raise CorruptFile(f"The .xlsx file cannot be opened ({exc}); re-save it from Excel and send it again.") from exc
    sizes = [stated_size(book.archive, sheet.part) for sheet in sheets]
    if sum(rows * cols or _cells_by_length(book.archive, sheet.part)
           for (rows, cols), sheet in zip(sizes, sheets)) <= FULL_LOAD_CELLS:
        sources = []
        try:
            for sheet in sheets:
                whole = _WholeSheet(book, sheet.part)
                sources.append(SheetSource(
                    name=sheet.name, rows=whole.rows_out, estimated_rows=whole.max_row, hidden=sheet.state != "visible",
                ))
        finally:
            book.archive.close()
            handle.close()
        return sources, {"read_only": False}
    sources = [
        SheetSource(
            name=sheet.name,
            rows=partial(_stream_rows, book, sheet.part),
            estimated_rows=rows or None,
            hidden=sheet.state != "visible",
        )
        for sheet, (rows, _cols) in zip(sheets, sizes)
    ]
    return sources, {"read_only": True}
