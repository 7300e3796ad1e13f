"""``open_price_list``: a file in, a lazily read :class:`PriceList` out.

The format is chosen by content, never by the file name:

* ``D0 CF 11 E0`` (OLE2 compound document) → XLS via xlrd;
* a ZIP holding ``xl/workbook.xml`` → XLSX via openpyxl (other ZIPs, e.g.
  ``.docx``/``.ods``, are refused with :class:`UnsupportedFormat`);
* ``%PDF`` → PDF tables via camelot (:mod:`ingestion.reading.pdf_reader`);
* anything else that decodes as text → CSV/TSV.

Per sheet: the first rows are buffered for layout detection, then the rest
is streamed, so memory stays flat for big files.  Every row passes
:class:`RowGuard` first: a text cell over :data:`MAX_CELL_CHARS` characters
(Excel's cell limit) is cut with a warning ``cell_truncated``, and a row the
reader could not read (a CSV field over the size limit) gives an error
``unreadable_row`` instead of failing the file, what a reader repaired in
a row (``RawRow.notes``: an unterminated CSV quote) gives a warning, and
control characters (BEL, ESC, DEL, C1) are removed from text cells with one
warning ``control_characters`` per file.  After the last sheet, a warning
``missing_currency`` says how many items with a price have no currency
(none of the file's marks and no default currency named one).  Hidden sheets, sheets
without a header row and empty sheets are skipped (listed in
``PriceList.details["skipped_sheets"]``) unless ``ReadOptions.sheet`` names
one.  When no sheet has a header, ``records()`` raises :class:`NoItems`.
"""

from __future__ import annotations

import errno
import itertools
import os
import zipfile
from typing import Any, Iterator

import attrs

from ingestion.errors import CorruptFile, NoItems, Problem, UnsupportedFormat
from ingestion.reading.csv_reader import open_csv
from ingestion.reading.layout import (
    HEADER_SCAN_ROWS,
    VALUE_SAMPLE_ROWS,
    Layout,
    column_letter,
    detect_layout,
    split_blocks,
)
from ingestion.reading.model import Item, PriceList, ReadOptions, SheetLayout
from ingestion.reading.normalize import CONTROL_CHARS, controls_beyond_ansi, strip_controls
from ingestion.reading.pdf_reader import open_pdf
from ingestion.reading.rows import SheetInterpreter
from ingestion.reading.source import RawRow, SheetSource
from ingestion.reading.xls_reader import open_xls
from ingestion.reading.xlsx_reader import open_xlsx

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Longest text kept in one cell, in characters: Excel's own cell limit.  Longer texts are cut to it.
MAX_CELL_CHARS = 32_767


@attrs.frozen
class _Held:
    """A row-level finding of :class:`RowGuard`, turned into a :class:`Problem` once the layout is known."""

    raw: RawRow
    column: int | None
    type: str
    level: str
    message: str


class RowGuard:
    """Wraps one sheet's row stream and enforces the per-cell limits for every format.

    * A text cell longer than :data:`MAX_CELL_CHARS` characters is cut to that
      length; a warning ``cell_truncated`` (row, column) is held for it.
    * A row the reader could not read or refused (``RawRow.error``, e.g. a
      CSV field over :data:`~ingestion.reading.csv_reader.MAX_CSV_FIELD_CHARS`,
      or a CSV record a never-closed quote left unalignable) is not passed
      on; an error ``unreadable_row`` is held for it (with
      ``RawRow.error_column`` and the fields as read, when the reader gives them).
    * What the reader repaired in a row it did read (``RawRow.notes``, e.g.
      a CSV quote that was never closed) is held as a warning (row, column).
    * Control characters in a text cell (BEL, ESC, DEL, C1 controls:
      :data:`~ingestion.reading.normalize.CONTROL_CHARS`) are removed, a space
      left where they separated words
      (:func:`~ingestion.reading.normalize.strip_controls`); a cell left blank
      becomes empty.  A warning ``control_characters`` is held for the first
      such cell of the file only (``noted`` is shared by the file's sheets).
      An ANSI sequence (``\x1b[31m``) is removed whole; the columns whose
      cells held other control characters are kept in ``RawRow.controls``:
      a price read from such a cell is in doubt (the row interpreter refuses it).

    Held findings are handed out in row order by :meth:`take`.
    """

    def __init__(self, rows: Iterator[RawRow], noted: set[str] | None = None) -> None:
        self._rows = rows
        self.held: list[_Held] = []
        #: once-per-file warnings already held (shared by the guards of one file's sheets)
        self.noted: set[str] = noted if noted is not None else set()
        self._guarded = self._guard()

    def __iter__(self) -> Iterator[RawRow]:
        return self._guarded

    def __next__(self) -> RawRow:
        return next(self._guarded)

    def _guard(self) -> Iterator[RawRow]:
        """The rows, guarded (see the class docstring).  One generator per guard: ``for raw in guard``
        resumes it directly, without a method call per row, and may stop and go on again."""
        held, noted = self.held, self.noted
        limit, printable, controls = MAX_CELL_CHARS, str.isprintable, CONTROL_CHARS.search
        for raw in self._rows:
            if raw.notes:
                for note in raw.notes:
                    held.append(_Held(raw, note.column, note.type, "warning", note.message))
            if raw.error is not None:
                held.append(_Held(raw, raw.error_column, "unreadable_row", "error", raw.error))
                continue
            for v in raw.values:  # a plain loop: this runs for every row of every file
                # isprintable() is false for any control character (and for TAB, NBSP …): only then the pattern
                if type(v) is str and (len(v) > limit or (not printable(v) and controls(v) is not None)):
                    break
            else:
                yield raw
                continue
            values = list(raw.values)
            doubtful: set[int] = set()
            for i, v in enumerate(values):
                if isinstance(v, str) and controls(v) is not None:
                    if controls_beyond_ansi(v):
                        doubtful.add(i)
                    cleaned = strip_controls(v)
                    v = values[i] = cleaned if cleaned.strip() else None
                    if "control_characters" not in noted:
                        noted.add("control_characters")
                        held.append(_Held(
                            raw, i, "control_characters", "warning",
                            "The cell holds control characters (invisible codes such as BEL, ESC or DEL that the "
                            "exporting program left in the text); they were removed from it and from every other "
                            "cell of the file, with a space kept where they separated words. This is noted once "
                            "per file.",
                        ))
                if isinstance(v, str) and len(v) > limit:
                    values[i] = v[:limit]
                    held.append(_Held(
                        raw, i, "cell_truncated", "warning",
                        f"The cell holds {len(v):,} characters; it was cut to {limit:,} (Excel's cell limit).",
                    ))
            yield attrs.evolve(raw, values=values, controls=frozenset(doubtful) if doubtful else None)

    def take(self, sheet: str | None, labels: list[str], upto: int | None = None) -> list[Problem]:
        """Problems for the held findings of rows up to ``upto`` (all when ``None``), in row order."""
        out: list[Problem] = []
        keep: list[_Held] = []
        for h in self.held:
            if upto is not None and h.raw.row > upto:
                keep.append(h)
                continue
            column = None
            if h.column is not None:
                column = labels[h.column] if h.column < len(labels) else column_letter(h.column)
            row_data = None
            if h.raw.error is not None and h.raw.values:
                # a refused row: its fields as read go to the log, so nothing is lost
                row_data = {
                    (labels[i] if i < len(labels) else f"col{i + 1}"): v
                    for i, v in enumerate(h.raw.values) if v is not None and v != ""
                }
            if h.raw.error is not None and h.raw.line is not None:
                row_data = dict(row_data or {}, line=h.raw.line)  # the record as the file holds it
            out.append(Problem(
                type=h.type, level=h.level, message=h.message,  # type: ignore[arg-type]
                sheet=sheet, row=h.raw.row, column=column, page=h.raw.page, row_data=row_data or None,
            ))
        self.held[:] = keep  # in place: the row generator holds this list
        return out


def sniff_format(path: str) -> str:
    """``xls``, ``xlsx``, ``pdf`` or ``csv`` from the file's first bytes.

    Raises :class:`UnsupportedFormat` for ZIP files that are not workbooks,
    and :class:`CorruptFile` for an empty file.
    """
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise CorruptFile("The file is empty.")
    if head.startswith(OLE2_MAGIC):
        return "xls"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile as exc:
            raise CorruptFile(f"The file looks like a ZIP/XLSX but is damaged ({exc}).") from exc
        if "xl/workbook.xml" in names or any(n.endswith("/workbook.xml") and n.startswith("xl") for n in names):
            return "xlsx"
        if "content.xml" in names and "mimetype" in names:
            raise UnsupportedFormat("OpenDocument spreadsheets (.ods) are not read; save the file as .xlsx or .csv.")
        raise UnsupportedFormat("The file is a ZIP archive but not an Excel workbook; send .xlsx, .xls or .csv.")
    if head.startswith((b"\x09\x04", b"\x09\x02", b"\x09\x00")):
        return "xls"  # BIFF2-4 stream without an OLE2 container
    return "csv"


def _sources(path: str, kind: str, options: ReadOptions) -> tuple[list[SheetSource], dict[str, Any]]:
    if kind == "xls":
        return open_xls(path, options.encoding)
    if kind == "xlsx":
        return open_xlsx(path)
    if kind == "csv":
        src, details = open_csv(path, options.encoding, options.delimiter)
        return [src], details
    if kind == "pdf":
        return open_pdf(path)
    raise UnsupportedFormat(f"Unknown format {kind!r}.")


def open_price_list(path: str | os.PathLike[str], options: ReadOptions = ReadOptions()) -> PriceList:
    """Open a supplier price list; read it with ``PriceList.records()``.

    Raises :class:`UnsupportedFormat` (non-workbook archives, binary files,
    PDFs without a text layer or over ``MAX_PDF_PAGES`` pages),
    :class:`CorruptFile` (damaged XLS/XLSX/PDF, empty file),
    :class:`FileNotFoundError` for a missing path and
    :class:`IsADirectoryError` for a directory (or anything else that is not
    a regular file).  Row-level trouble is yielded as :class:`Problem` values
    by ``records()``.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise FileNotFoundError(errno.ENOENT, "No such file", p)
    if not os.path.isfile(p):
        raise IsADirectoryError(errno.EISDIR, "Not a file", p)
    kind = sniff_format(p)
    sources, details = _sources(p, kind, options)
    all_names = [s.name for s in sources if s.name is not None]
    if options.sheet is not None and kind != "csv":
        chosen = [s for s in sources if s.name == options.sheet]
        if not chosen:
            chosen = [s for s in sources if (s.name or "").casefold() == options.sheet.casefold()]
        if not chosen and options.sheet.isdigit():
            i = int(options.sheet) - 1
            chosen = sources[i : i + 1]
        if not chosen:
            raise NoItems(f"There is no sheet {options.sheet!r}; the sheets are: {', '.join(all_names)}.")
        sources = chosen
    details = dict(details)
    details["sheets"] = all_names
    details["skipped_sheets"] = []
    estimate = sum(s.estimated_rows or 0 for s in sources if not s.hidden or options.sheet) or None
    result = PriceList(file_type=kind, records=lambda: iter(()), rows_total=estimate, details=details)
    forced = options.sheet is not None

    def records() -> Iterator[Item | Problem]:
        read_any = False
        noted: set[str] = set()  # once-per-file warnings given (RowGuard)
        tally = [0, 0]  # items with a price but no currency, items with a price (every sheet read)
        yield from details.pop("problems", [])  # reader-level notes (PDF table accuracy)
        for src in sources:
            if src.hidden and not forced:
                details["skipped_sheets"].append({"sheet": src.name, "reason": "hidden sheet"})
                continue
            rows = RowGuard(src.rows(), noted)
            head: list[RawRow] = []
            for raw in rows:
                if any(v is not None for v in raw.values):
                    head.append(raw)
                if len(head) >= HEADER_SCAN_ROWS + VALUE_SAMPLE_ROWS:
                    break
            if not head:
                details["skipped_sheets"].append({"sheet": src.name, "reason": "empty sheet"})
                yield from rows.take(src.name, [])
                continue
            found = detect_layout(head, options)
            if found is None:
                details["skipped_sheets"].append({"sheet": src.name, "reason": "no header row found"})
                yield from rows.take(src.name, [])
                continue
            layout, data_idx = found
            if not forced and is_table_of_contents(head[data_idx:], layout, all_names, src.name):
                details["skipped_sheets"].append({"sheet": src.name, "reason": "table of contents"})
                yield from rows.take(src.name, layout.labels)
                continue
            read_any = True
            yield from _read_sheet(src.name, layout, data_idx, head, rows, options, result, tally)
        if not read_any:
            skipped = "; ".join(f"{s['sheet'] or 'table'}: {s['reason']}" for s in details["skipped_sheets"])
            raise NoItems(
                "No header row with item columns (name, price, SKU) was found"
                + (f" ({skipped})" if skipped else "")
                + ". Set header_row / column_mapping for this supplier."
            )
        if tally[0]:
            yield missing_currency(tally[0], tally[1])

    result.records = records
    return result


def missing_currency(without: int, priced: int) -> Problem:
    """The file-level warning ``missing_currency``: ``without`` of the file's ``priced`` items (items with a
    price) have no currency — nothing in their cells, a currency column, the number formats or the price
    headers named one, and no default currency was set (``ReadOptions.currency``)."""
    return Problem(
        type="missing_currency",
        level="warning",
        message=(
            f"{without:,} of the {priced:,} item{'' if priced == 1 else 's'} with a price "
            f"{'has' if without == 1 else 'have'} no currency: nothing in the file (the price "
            "cells, a currency column, the number formats, the price header) names one and the supplier has no "
            "default currency, so they are stored without one. Set the supplier's default currency (its "
            "'currency' setting), or add a currency column or the currency in the price header (\"Цена, руб\") "
            "and send the list again."
        ),
    )


def is_table_of_contents(data: list[RawRow], layout: Layout, sheet_names: list[str], this: str | None) -> bool:
    """A sheet whose name column (any text column when it has none) mostly lists the workbook's other sheets.

    Such a contents page is skipped unless ``ReadOptions.sheet`` names it.  True when at least two sampled names and three in five of them are names
    of other sheets (case and spacing ignored).
    """
    others = {" ".join(n.casefold().split()) for n in sheet_names if n != this}
    if not others:
        return False
    name = layout.first("name")
    columns = [name] if name is not None else [c for c in layout.columns if c.role != "price"]
    for col in columns:
        names: list[str] = []
        for r in data[:VALUE_SAMPLE_ROWS]:
            v = r.values[col.index] if col.index < len(r.values) else None
            if isinstance(v, str) and v.strip():
                names.append(" ".join(v.casefold().split()))
        hits = sum(1 for n in names if n in others)
        if hits >= 2 and hits * 5 >= len(names) * 3:
            return True
    return False


def _guard_problems(
    rows: RowGuard, sheet: str | None, labels: list[str], interp: SheetInterpreter, upto: int | None = None
) -> Iterator[Problem]:
    """The row guard's held findings up to row ``upto`` (all when ``None``) as problems; each error counts
    as a failed row of ``interp`` (the sheet's first table)."""
    for problem in rows.take(sheet, labels, upto):
        if problem.level == "error":
            interp.failed_rows += 1
        yield problem


def _slice(raw: RawRow, lo: int, hi: int) -> RawRow:
    """The part of a row from column ``lo`` to ``hi`` (0-based, ``hi`` excluded), as a row of its own
    (``errors`` re-keyed to the part's columns)."""
    errors = raw.errors
    if errors is not None:
        errors = {c - lo: e for c, e in errors.items() if lo <= c < hi} or None
    return attrs.evolve(
        raw, values=raw.values[lo:hi], formats=raw.formats[lo:hi] if raw.formats is not None else None, errors=errors
    )


def _read_sheet(
    sheet: str | None,
    layout: Layout,
    data_idx: int,
    head: list[RawRow],
    rows: RowGuard,
    options: ReadOptions,
    result: PriceList,
    tally: list[int] | None = None,
) -> Iterator[Item | Problem]:
    """Items and problems of one sheet whose layout is known.

    Tables placed side by side (:func:`~ingestion.reading.layout.split_blocks`)
    are read as separate tables, row by row.  After the last row a warning
    ``high_error_rate`` is given when more than half of the sheet's data rows
    (items plus failed rows) failed: the layout was probably misread (DESIGN §9;
    the pipeline decides what to do with the file).  ``tally`` (items with a
    price but no currency, items with a price) is added to once the sheet is read.
    """
    blocks: list[tuple[int, int, Layout]] = []
    for lo, hi in split_blocks(head, layout):
        found = detect_layout([_slice(r, lo, hi) for r in head], options)
        if found is not None and found[0].first("name") is not None:
            blocks.append((lo, hi, found[0]))
    if len(blocks) < 2:
        blocks = [(0, -1, layout)]
    interps: list[tuple[int, int, SheetInterpreter, SheetLayout]] = []
    for n, (lo, hi, lay) in enumerate(blocks, start=1):
        sheet_layout = SheetLayout(
            sheet=sheet,
            header_rows=list(lay.header_rows),
            columns=lay.mapping(),
            currency=lay.currency,
            decimal_separators=lay.decimal_separators(),
        )
        result.layouts.append(sheet_layout)
        for note in lay.notes:
            yield Problem(type="layout_note", message=note, level="warning" if "price" in note else "info", sheet=sheet)
        for finding in lay.findings:
            yield attrs.evolve(finding, sheet=sheet)
        if hi >= 0:
            yield Problem(type="side_by_side_tables", level="info", sheet=sheet,
                          message=f"Table {n} of {len(blocks)} side by side on the sheet: columns "
                                  f"{column_letter(lo)}–{column_letter(hi - 1)} are read as their own table.")
        interp = SheetInterpreter(sheet, lay, options, outline=any(r.level for r in head))
        interps.append((lo, hi, interp, sheet_layout))
    last_header = layout.last_header_row
    first_interp = interps[0][2]
    if len(interps) == 1 and interps[0][1] < 0:
        # one table (nearly every sheet): the same loop without the per-table bookkeeping
        _lo, _hi, interp, sheet_layout = interps[0]
        interpret = interp.interpret
        held = rows.held  # the guard's findings: the same list all along (RowGuard.take empties it in place)
        for raw in itertools.chain(head[data_idx:], rows):
            if held:
                yield from _guard_problems(rows, sheet, layout.labels, first_interp, raw.row)
            if raw.row <= last_header:
                continue
            out = interpret(raw)
            if out:
                if len(out) == 1:
                    yield out[0]  # the common row: one item (cheaper than delegating to the list)
                else:
                    yield from out
                sheet_layout.rows_read = interp.rows_read
                sheet_layout.items = interp.items
            elif sheet_layout.rows_read != interp.rows_read:
                sheet_layout.rows_read = interp.rows_read
    else:
        for raw in itertools.chain(head[data_idx:], rows):
            if rows.held:
                yield from _guard_problems(rows, sheet, layout.labels, first_interp, raw.row)
            if raw.row <= last_header:
                continue
            for lo, hi, interp, sheet_layout in interps:
                part = raw if hi < 0 else _slice(raw, lo, hi)
                yield from interp.interpret(part)
                sheet_layout.rows_read = interp.rows_read
                sheet_layout.items = interp.items
    yield from _guard_problems(rows, sheet, layout.labels, first_interp)
    for _lo, _hi, interp, _sl in interps:
        if tally is not None:
            tally[0] += interp.no_currency
            tally[1] += interp.priced
        data_rows = interp.items + interp.failed_rows
        if data_rows >= 4 and interp.failed_rows * 2 > data_rows:
            yield Problem(
                type="high_error_rate",
                level="warning",
                sheet=sheet,
                message=(
                    f"{interp.failed_rows} of {data_rows} data rows on sheet {sheet or '(table)'!r} could not be read: "
                    "the layout was probably misread. Check the header row and column roles in the preview."
                ),
            )
