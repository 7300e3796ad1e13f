"""Helpers that write small price-list files for the reading tests (made here, never copied)."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from typing import Any, Sequence

from openpyxl import Workbook

from ingestion.errors import Problem
from ingestion.reading import Item, ReadOptions, open_price_list


def write_csv(path: Path, rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", delimiter: str = ";",
              lineterminator: str = "\r\n") -> Path:
    """Write ``rows`` with the csv module in the given encoding/delimiter."""
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter, lineterminator=lineterminator)
        for r in rows:
            w.writerow(r)
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], *, merges: Sequence[str] = (), title: str = "Прайс",
               formats: dict[str, str] | None = None, extra_sheets: dict[str, Sequence[Sequence[Any]]] | None = None) -> Path:
    """Write ``rows`` (row 1 first) to an XLSX with optional merged ranges and number formats."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(list(r))
    for rng in merges:
        ws.merge_cells(rng)
    for ref, fmt in (formats or {}).items():
        ws[ref].number_format = fmt
    for name, srows in (extra_sheets or {}).items():
        other = wb.create_sheet(name)
        for r in srows:
            other.append(list(r))
    wb.save(path)
    return path


def patch_zip_text(src: Path, dst: Path, replacements: dict[str, str]) -> Path:
    """Copy the ZIP ``src`` to ``dst`` with placeholder texts replaced in every part.

    openpyxl cuts strings to 32,767 characters when a workbook is written, so
    over-long cells are made by writing a placeholder and replacing it here.
    """
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            for old, new in replacements.items():
                data = data.replace(old.encode("utf-8"), new.encode("utf-8"))
            zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return dst


def read_all(
    path: Path, options: ReadOptions = ReadOptions(), *, currency_note: bool = False
) -> tuple[list[Item], list[Problem]]:
    """Every item and problem of a file.

    Most fixtures name no currency, so their files end with the file-level
    warning ``missing_currency``; it is left out of ``problems`` unless
    ``currency_note`` asks for it (the tests of that warning do).
    """
    items: list[Item] = []
    problems: list[Problem] = []
    for rec in open_price_list(path, options).records():
        if isinstance(rec, Item):
            items.append(rec)
        elif currency_note or rec.type != "missing_currency":
            problems.append(rec)
    return items, problems
