"""XLS (BIFF5/7/8) reader on xlrd.

* ``formatting_info=True`` where xlrd manages it, for number formats (a
  currency sometimes lives only there: ``0.00" грн."``), merged cells and
  outline levels; without it when xlrd refuses.
* Compound-document damage: 1C and other exporters write compound documents
  that xlrd rejects ("Workbook corruption") although the data is fine.  The
  file is opened strictly first; on that error it is re-opened with
  ``ignore_workbook_corruption=True`` and a warning problem
  ``damaged_workbook`` is handed out (``details["problems"]``).
* A BIFF5/7 file without a CODEPAGE record is decoded as latin-1 by xlrd;
  when that text looks like cp1251 mojibake the file is re-opened with
  ``encoding_override="cp1251"`` (or the supplier's ``encoding`` option).
* Merged ranges are resolved: every cell of a range carries the top-left value.
* Error cells (``#VALUE!``) are empty, their text kept in ``RawRow.errors``
  (so a price column can say which error it held); dates become
  :class:`datetime`.
"""

from __future__ import annotations

import io
from datetime import datetime
from functools import partial
from typing import Any, Iterator

import xlrd
from xlrd.compdoc import CompDocError

from ingestion.errors import CorruptFile, Problem
from ingestion.reading.normalize import CellValue
from ingestion.reading.source import RawRow, SheetSource


def _open(path: str, encoding: str | None, formatting: bool, tolerant: bool = False) -> Any:
    return xlrd.open_workbook(
        path,
        formatting_info=formatting,
        encoding_override=encoding,
        ignore_workbook_corruption=tolerant,
        logfile=io.StringIO(),
        on_demand=False,
    )


def _mojibake_ratio(book: Any) -> float:
    """Share of letters in the first rows that are latin-1 characters cp1251 uses for Cyrillic."""
    hits = letters = 0
    for sheet in book.sheets()[:3]:
        for r in range(min(sheet.nrows, 200)):
            for v in sheet.row_values(r):
                if isinstance(v, str):
                    for ch in v:
                        if ch.isalpha():
                            letters += 1
                            if "\u00c0" <= ch <= "\u00ff":
                                hits += 1
    return hits / letters if letters else 0.0


def open_book(path: str, encoding: str | None = None) -> tuple[Any, bool]:
    """Open an XLS workbook, choosing the code page as the module docstring says.

    Returns the xlrd book and whether compound-document damage had to be
    ignored to open it.  Raises :class:`CorruptFile` when xlrd cannot open it.
    """
    book: Any = None
    last: Exception | None = None
    tolerant = False
    for formatting in (True, False):
        try:
            book = _open(path, encoding, formatting, tolerant)
            break
        except NotImplementedError as exc:
            last = exc
        except CompDocError as exc:
            last = exc
            tolerant = True
            try:
                book = _open(path, encoding, formatting, tolerant)
                break
            except Exception as exc2:  # noqa: BLE001 - try without formatting next
                last = exc2
        except Exception as exc:  # xlrd raises XLRDError, struct/Index errors on damaged files
            last = exc
    if book is None:
        raise CorruptFile(f"The .xls file cannot be opened ({last}); re-save it from Excel and send it again.") from last
    if encoding is None and getattr(book, "codepage", None) is None and book.biff_version < 80:
        if _mojibake_ratio(book) > 0.3:
            fmt = bool(book.formatting_info)
            book = _open(path, "cp1251", fmt, tolerant)
    return book, tolerant


def _number_format(book: Any, xf_index: int) -> str | None:
    try:
        xf = book.xf_list[xf_index]
        fmt = book.format_map.get(xf.format_key)
        return str(fmt.format_str) if fmt is not None else None
    except (IndexError, AttributeError):
        return None


def _sheet_rows(book: Any, sheet: Any) -> Iterator[RawRow]:
    """The rows of one xlrd sheet: merged ranges filled from their top-left cell, number formats (when
    xlrd read them), outline levels, and the text of each error cell in ``RawRow.errors``."""
    fill: dict[tuple[int, int], tuple[int, int]] = {}
    for rlo, rhi, clo, chi in sheet.merged_cells:
        if (rhi - rlo) * (chi - clo) > 10000:
            continue
        for r in range(rlo, rhi):
            for c in range(clo, chi):
                if (r, c) != (rlo, clo):
                    fill[(r, c)] = (rlo, clo)
    has_fmt = bool(book.formatting_info)
    rowinfo = getattr(sheet, "rowinfo_map", {}) or {}
    for r in range(sheet.nrows):
        cells = sheet.row(r)
        values: list[CellValue] = []
        formats: list[str | None] | None = [] if has_fmt else None
        errors: dict[int, str] | None = None
        for c, cell in enumerate(cells):
            src = cell
            if (r, c) in fill:
                fr, fc = fill[(r, c)]
                src = sheet.cell(fr, fc)
            elif cell.ctype == xlrd.XL_CELL_ERROR:
                if errors is None:
                    errors = {}
                errors[c] = xlrd.error_text_from_code.get(cell.value, "#ERROR")
            values.append(_value(book, src))
            if formats is not None:
                formats.append(_number_format(book, src.xf_index) if src.ctype in (xlrd.XL_CELL_NUMBER,) else None)
        info = rowinfo.get(r)
        level = int(info.outline_level) if info is not None else (0 if has_fmt else None)
        yield RawRow(row=r + 1, values=values, formats=formats, level=level, errors=errors)


def _value(book: Any, cell: Any) -> CellValue:
    ct = cell.ctype
    if ct in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    if ct == xlrd.XL_CELL_TEXT:
        v = str(cell.value)
        return v if v.strip() else None
    if ct == xlrd.XL_CELL_NUMBER:
        return float(cell.value)
    if ct == xlrd.XL_CELL_DATE:
        try:
            dt: datetime = xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
            return dt
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return float(cell.value)
    if ct == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return None


def open_xls(path: str, encoding: str | None = None) -> tuple[list[SheetSource], dict[str, Any]]:
    """One :class:`SheetSource` per sheet, plus what was learnt (BIFF version, code page)."""
    book, damaged = open_book(path, encoding)
    sources = []
    for sheet in book.sheets():
        sources.append(
            SheetSource(
                name=str(sheet.name),
                rows=partial(_sheet_rows, book, sheet),
                estimated_rows=int(sheet.nrows),
                hidden=bool(getattr(sheet, "visibility", 0)),
            )
        )
    details = {
        "biff_version": book.biff_version,
        "encoding": book.encoding,
        "codepage": getattr(book, "codepage", None),
        "formatting_info": bool(book.formatting_info),
    }
    if damaged:
        details["damaged_workbook"] = True
        details["problems"] = [
            Problem(
                type="damaged_workbook",
                level="warning",
                message="The .xls file's compound-document structure is damaged (a common exporter fault); "
                "it was read anyway. Check the item count; re-saving it from Excel repairs it.",
            )
        ]
    return sources, details
