"""XLSX reader on openpyxl.

* ``data_only=True``: formulas give their cached values; error cells
  (``#VALUE!``, data type ``e``) are empty.
* Small workbooks (stated size up to :data:`FULL_LOAD_CELLS` cells) are loaded
  normally.  Larger ones are streamed in read-only mode, which trusts the
  file's stated dimensions (so ``reset_dimensions()`` is called first) and has
  no merged-cell list: the ``<mergeCell>`` elements are then read from the
  sheet's XML after ``</sheetData>`` with a byte scan (no XML parsing).
  Either way merged ranges are resolved: every cell of a range (up to
  10,000 cells) carries the top-left value.
* Hidden rows, including rows of collapsed outline groups, are data like any
  other; hidden sheets are marked ``hidden``.
* Number formats are kept per cell (a currency may live only there).
* **Resource limits, checked before openpyxl parses anything** (a "zip
  bomb" is a small file that unpacks to gigabytes): the ZIP directory's
  uncompressed sizes must not add up to more than
  :data:`MAX_UNCOMPRESSED_BYTES`, and no part larger than
  :data:`RATIO_CHECK_BYTES` may be compressed more than
  :data:`MAX_COMPRESSION_RATIO` to 1 (real sheet XML compresses 5–30:1);
  otherwise :class:`~ingestion.errors.UnsupportedFormat`.  The stated sizes
  can be trusted as upper bounds: :mod:`zipfile` stops at the stated size
  and fails on the CRC when a part holds more.  Over-long cells are cut
  later, for every format (:data:`ingestion.reading.api.MAX_CELL_CHARS`).
"""

from __future__ import annotations

import re
import zipfile
from functools import partial
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator

import openpyxl
from openpyxl.utils.cell import range_boundaries

from ingestion.errors import CorruptFile, UnsupportedFormat
from ingestion.reading.normalize import CellValue
from ingestion.reading.source import RawRow, SheetSource

#: Workbooks stating at most this many cells are loaded fully (merged cells resolved).
FULL_LOAD_CELLS = 400_000
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


def _value(cell: Any) -> CellValue:
    v = cell.value
    if v is None:
        return None
    if getattr(cell, "data_type", None) == "e":
        return None
    if isinstance(v, str):
        return v if v.strip() else None
    if isinstance(v, (int, float, bool, datetime, date)):
        return v
    if isinstance(v, time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return v.total_seconds()
    return str(v)


def _fmt(cell: Any) -> str | None:
    f = getattr(cell, "number_format", None)
    return str(f) if f and f != "General" else None


_MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+\d+:[A-Z]+\d+)\"")
_CHUNK = 1 << 20


def streamed_merges(ws: Any) -> list[tuple[int, int, int, int]]:
    """Merged ranges of a read-only worksheet as 1-based ``(min_col, min_row, max_col, max_row)``.

    Reads the sheet part in 1 MiB chunks and looks for ``<mergeCell ref=...>``
    only after ``</sheetData>``; ``[]`` when the part cannot be read.
    """
    out: list[tuple[int, int, int, int]] = []
    try:
        fh = ws.parent._archive.open(ws._worksheet_path)
    except (AttributeError, KeyError, OSError):
        return out
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
            for m in _MERGE_REF.finditer(buf[:cut] if cut > 0 else buf):
                try:
                    b = range_boundaries(m.group(1).decode("ascii"))
                except ValueError:
                    continue
                if None not in b:
                    out.append((int(b[0] or 0), int(b[1] or 0), int(b[2] or 0), int(b[3] or 0)))
            tail = buf[cut:] if cut > 0 else b""
        if tail:
            for m in _MERGE_REF.finditer(tail):
                b = range_boundaries(m.group(1).decode("ascii"))
                out.append((int(b[0] or 0), int(b[1] or 0), int(b[2] or 0), int(b[3] or 0)))
    return out


def _stream_rows(ws: Any) -> Iterator[RawRow]:
    merges = [m for m in streamed_merges(ws) if (m[2] - m[0] + 1) * (m[3] - m[1] + 1) <= 10000 and m[:2] != m[2:]]
    by_top: dict[int, list[tuple[int, int, int, int]]] = {}
    for m in merges:
        by_top.setdefault(m[1], []).append(m)
    active: list[tuple[int, int, int, int, CellValue, str | None]] = []  # ranges + top-left value/format
    ws.reset_dimensions()
    for idx, row in enumerate(ws.iter_rows(), start=1):
        values = [_value(c) for c in row]
        formats = [_fmt(c) if v is not None and not isinstance(v, str) else None for c, v in zip(row, values)]
        if merges:
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
        yield RawRow(row=idx, values=values, formats=formats)


def _full_rows(ws: Any) -> Iterator[RawRow]:
    fill: dict[tuple[int, int], tuple[int, int]] = {}
    for rng in ws.merged_cells.ranges:
        if (rng.max_row - rng.min_row + 1) * (rng.max_col - rng.min_col + 1) > 10000:
            continue
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    fill[(r, c)] = (rng.min_row, rng.min_col)
    dims = ws.row_dimensions
    for row in ws.iter_rows(min_row=1, min_col=1):
        if not row:
            continue
        r = row[0].row
        values: list[CellValue] = []
        formats: list[str | None] = []
        for c_idx, cell in enumerate(row, start=1):
            src = cell
            if (r, c_idx) in fill:
                src = ws.cell(*fill[(r, c_idx)])
            v = _value(src)
            values.append(v)
            formats.append(_fmt(src) if v is not None and not isinstance(v, str) else None)
        level = dims[r].outline_level if r in dims else 0
        yield RawRow(row=r, values=values, formats=formats, level=int(level or 0))


def open_xlsx(path: str) -> tuple[list[SheetSource], dict[str, Any]]:
    """One :class:`SheetSource` per worksheet, plus what was learnt (``{"read_only": bool}``).

    Raises :class:`UnsupportedFormat` for a workbook over the resource limits
    (:func:`check_zip_limits`) and :class:`CorruptFile` for one openpyxl
    cannot open.
    """
    check_zip_limits(path)
    try:
        # a file object, not the name: openpyxl refuses names ending in .xls
        handle = open(path, "rb")  # noqa: SIM115 - stays open while the read-only workbook streams
        ro = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise CorruptFile(f"The .xlsx file cannot be opened ({exc}); re-save it from Excel and send it again.") from exc
    stated = 0
    for ws in ro.worksheets:
        try:
            stated += int(ws.max_row or 0) * int(ws.max_column or 0)
        except (TypeError, ValueError):
            stated += FULL_LOAD_CELLS + 1
    if stated <= FULL_LOAD_CELLS:
        ro.close()
        handle.close()
        try:
            with open(path, "rb") as fh:
                wb = openpyxl.load_workbook(fh, read_only=False, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on broken parts
            raise CorruptFile(f"The .xlsx file cannot be opened ({exc}).") from exc
        sources = [
            SheetSource(
                name=str(ws.title),
                rows=partial(_full_rows, ws),
                estimated_rows=int(ws.max_row or 0),
                hidden=ws.sheet_state != "visible",
            )
            for ws in wb.worksheets
        ]
        return sources, {"read_only": False}
    sources = [
        SheetSource(
            name=str(ws.title),
            rows=partial(_stream_rows, ws),
            estimated_rows=int(ws.max_row or 0) or None,
            hidden=ws.sheet_state != "visible",
        )
        for ws in ro.worksheets
    ]
    return sources, {"read_only": True}
