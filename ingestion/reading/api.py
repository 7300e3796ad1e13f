"""``open_price_list``: a file in, a lazily read :class:`PriceList` out.

The format is chosen by content, never by the file name:

* ``D0 CF 11 E0`` (OLE2 compound document) → XLS via xlrd;
* a ZIP holding ``xl/workbook.xml`` → XLSX via openpyxl (other ZIPs, e.g.
  ``.docx``/``.ods``, are refused with :class:`UnsupportedFormat`);
* ``%PDF`` → :class:`UnsupportedFormat` for now;
* anything else that decodes as text → CSV/TSV.

Per sheet: the first rows are buffered for layout detection, then the rest
is streamed, so memory stays flat for big files.  Hidden sheets, sheets
without a header row and empty sheets are skipped (listed in
``PriceList.details["skipped_sheets"]``) unless ``ReadOptions.sheet`` names
one.  When no sheet has a header, ``records()`` raises :class:`NoItems`.
"""

from __future__ import annotations

import itertools
import os
import zipfile
from typing import Any, Iterator

from ingestion.errors import CorruptFile, NoItems, Problem, UnsupportedFormat
from ingestion.reading.csv_reader import open_csv
from ingestion.reading.layout import HEADER_SCAN_ROWS, VALUE_SAMPLE_ROWS, detect_layout
from ingestion.reading.model import Item, PriceList, ReadOptions, SheetLayout
from ingestion.reading.rows import SheetInterpreter
from ingestion.reading.source import RawRow, SheetSource
from ingestion.reading.xls_reader import open_xls
from ingestion.reading.xlsx_reader import open_xlsx

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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
    raise UnsupportedFormat(f"Unknown format {kind!r}.")


def open_price_list(path: str | os.PathLike[str], options: ReadOptions = ReadOptions()) -> PriceList:
    """Open a supplier price list; read it with ``PriceList.records()``.

    Raises :class:`UnsupportedFormat` (PDF for now, non-workbook archives,
    binary files), :class:`CorruptFile` (damaged XLS/XLSX, empty file) and
    :class:`FileNotFoundError` for a missing path.  Row-level trouble is
    yielded as :class:`Problem` values by ``records()``.
    """
    p = os.fspath(path)
    if not os.path.isfile(p):
        raise FileNotFoundError(p)
    kind = sniff_format(p)
    if kind == "pdf":
        raise UnsupportedFormat("PDF price lists are not read yet")
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
        for src in sources:
            if src.hidden and not forced:
                details["skipped_sheets"].append({"sheet": src.name, "reason": "hidden sheet"})
                continue
            rows = src.rows()
            head: list[RawRow] = []
            for raw in rows:
                if any(v is not None for v in raw.values):
                    head.append(raw)
                if len(head) >= HEADER_SCAN_ROWS + VALUE_SAMPLE_ROWS:
                    break
            if not head:
                details["skipped_sheets"].append({"sheet": src.name, "reason": "empty sheet"})
                continue
            found = detect_layout(head, options)
            if found is None:
                details["skipped_sheets"].append({"sheet": src.name, "reason": "no header row found"})
                continue
            layout, data_idx = found
            read_any = True
            sheet_layout = SheetLayout(
                sheet=src.name,
                header_rows=list(layout.header_rows),
                columns=layout.mapping(),
                currency=layout.currency,
            )
            result.layouts.append(sheet_layout)
            for note in layout.notes:
                yield Problem(type="layout_note", message=note, level="warning" if "price" in note else "info",
                              sheet=src.name)
            interp = SheetInterpreter(src.name, layout, options, outline=any(r.level for r in head))
            for raw in itertools.chain(head[data_idx:], rows):
                if raw.row <= layout.last_header_row:
                    continue
                for rec in interp.interpret(raw):
                    yield rec
                sheet_layout.rows_read = interp.rows_read
                sheet_layout.items = interp.items
        if not read_any:
            skipped = "; ".join(f"{s['sheet'] or 'table'}: {s['reason']}" for s in details["skipped_sheets"])
            raise NoItems(
                "No header row with item columns (name, price, SKU) was found"
                + (f" ({skipped})" if skipped else "")
                + ". Set header_row / column_mapping for this supplier."
            )

    result.records = records
    return result
