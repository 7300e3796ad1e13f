"""Command line: match a CSV of supplier items against a CSV catalog, print decisions.

``python -m ingestion.matching.cli --catalog CATALOG.csv --items ITEMS.csv [--json]
[--auto-threshold N] [--potential-threshold N] [--max-candidates N] [--encoding E] [--delimiter D]``

Both CSVs have a header with ``id,name`` and optional ``sku,brand,category,price``
(other columns are ignored; header names are matched case-insensitively).
They are read as the service reads supplier CSVs
(:func:`ingestion.reading.csv_reader.open_csv`): the encoding (UTF-8 with or
without BOM, UTF-16, cp1251, cp866, koi8-r …) and the delimiter (``, ; TAB |``)
are detected unless given, quoted fields may span lines, and a field may be
up to 10 MiB long.  Every row needs a non-empty ``id`` and ``name``, and ids
must be unique within a file; a record with more (non-empty) fields than the
header has columns (an unquoted delimiter inside a name: ``i1,Кабель 3х2,5``)
a record the reader could only read by repairing it (a double quote that
is never closed) and a record whose text the reader re-decoded (text that
had been mis-decoded once before the file was saved, "РљР°Р±РµР»СЊ" for
"Кабель": its ``text_repaired`` problem) are refused rather than guessed at;
every problem is reported
as ``FILE:LINE: what`` (lines as a text editor counts them) and nothing is
matched then.  Only CSV/TSV text is read: a workbook (XLSX, XLS), a PDF or
another binary file is refused with a hint to export the sheet as CSV.

With ``--json`` one JSON object per item per line:
``{"id", "decision": "auto"|"review"|"new", "product_id", "score", "candidates":
[{"product_id", "score"}, ...]}`` (scores 0–100); without it a tab-separated
summary.  Writes nothing.  Exit 0 on success, 2 on bad arguments or unreadable /
malformed input (messages on stderr), 141 when standard output was closed early
(``| head``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Iterator

from ingestion.errors import IngestionError, UnsupportedFormat
from ingestion.matching.index import Catalog
from ingestion.matching.matcher import (
    DEFAULT_AUTO_THRESHOLD,
    DEFAULT_MAX_CANDIDATES,
    DEFAULT_POTENTIAL_THRESHOLD,
    Matcher,
)
from ingestion.matching.records import Item, MatchResult, Product
from ingestion.reading.api import sniff_format
from ingestion.reading.csv_reader import open_csv
from ingestion.reading.normalize import repair_mojibake

__all__ = ["InputError", "main", "read_rows", "result_to_json"]

#: The columns read from each file (``id`` and ``name`` are required).
COLUMNS = ("id", "name", "sku", "brand", "category")
#: Problems listed per file before the rest are only counted.
MAX_PROBLEMS = 20


class InputError(Exception):
    """A CSV that cannot be read or does not fit: ``problems`` are ``FILE:LINE: what`` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _cell(values: list[str | None], index: int | None) -> str | None:
    if index is None or index >= len(values):
        return None
    value = values[index]
    return value.strip() if isinstance(value, str) and value.strip() else None


#: What :func:`~ingestion.reading.api.sniff_format` calls a file that is not CSV text, for a person.
_NOT_CSV = {"xlsx": "an Excel workbook (XLSX)", "xls": "an Excel workbook (XLS)", "pdf": "a PDF document"}
#: How to get a file ``match`` reads.
_EXPORT_HINT = ("export the sheet as CSV (Excel or LibreOffice: File → Save As → \"CSV UTF-8\") "
                "and give that file")


def _not_csv(path: Path) -> str | None:
    """Why ``path`` is not a file ``match`` reads when its first bytes say it is a workbook, a PDF or a ZIP
    archive; ``None`` for anything else (text, or a file that cannot be opened: :func:`open_csv` says why)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    if not head:
        return None
    try:
        kind = sniff_format(str(path))
    except IngestionError:
        kind = "zip" if head.startswith(b"PK") else "csv"
    what = _NOT_CSV.get(kind) or ("a ZIP archive (such as an OpenDocument spreadsheet)" if kind == "zip" else None)
    if what is None:
        return None
    return f"`ingestion match` reads CSV/TSV text files only, and this is {what}; {_EXPORT_HINT}"


def read_rows(path: Path, encoding: str | None = None, delimiter: str | None = None) -> Iterator[dict[str, str | None]]:
    """The rows of a CSV as dicts with keys id, name, sku, brand, category (empty → None), in file order.

    ``encoding`` and ``delimiter`` are detected when not given.  The first
    non-empty line is the header; blank lines are skipped.  The whole file is
    checked before the first row is given: raises :class:`InputError` listing
    every problem as ``FILE:LINE: what`` — a file that cannot be opened or is
    not text (a workbook, a PDF: with the hint to export the sheet as CSV),
    no ``id`` or ``name`` column, a record that cannot be read (a field over
    the size limit), a record the reader repaired (a never-closed double
    quote: its ``unterminated_quote`` note), a record whose text the reader
    re-decoded (mis-decoded once before the file was saved: the reader's
    ``text_repaired`` problem, with the text as written and as re-decoded), a
    record with non-empty fields past the header's columns (an unquoted
    delimiter in a value), an empty id or name, an id given twice (with the
    line that gave it first).  A damaged header stops the check there.
    """
    not_csv = _not_csv(path)
    if not_csv:
        raise InputError([f"{path}: {not_csv}"])
    try:
        source, details = open_csv(str(path), encoding=encoding, delimiter=delimiter)
        raw_rows = list(source.rows())
    except UnsupportedFormat as exc:
        raise InputError([f"{path}: The file is binary, not CSV/TSV text: `ingestion match` reads CSV/TSV only; "
                          f"{_EXPORT_HINT}"]) from exc
    except IngestionError as exc:
        raise InputError([f"{path}: {exc.message}"]) from exc
    except OSError as exc:
        raise InputError([f"{path}: cannot be read: {exc.strerror or exc}"]) from exc
    redecoded = (
        _redecoded_records(path, details["encoding"], details["delimiter"], [raw.row for raw in raw_rows])
        if details.get("repaired_mojibake") else {}
    )
    problems: list[str] = []
    rows: list[dict[str, str | None]] = []
    columns: dict[str, int] | None = None
    width = 0  # the header's fields
    first_line: dict[str, int] = {}  # id -> the line that gave it
    for raw in raw_rows:
        if raw.error:
            problems.append(f"{path}:{raw.row}: {raw.error.removesuffix('; the row is skipped.')}")
            continue
        repaired = [n for n in raw.notes if n.type not in _TRUSTED_NOTES]
        if repaired:  # repaired by the reader (a quote never closed): its fields cannot be trusted
            for note in repaired:
                problems.append(f"{path}:{raw.row}: {_repaired(note.type, note.message)}")
            if columns is None:  # the header itself: the rows cannot be told apart without it
                raise InputError(problems)
            continue
        if raw.row in redecoded:  # re-decoded by the reader: what the file says is not what was read
            problems.append(f"{path}:{raw.row}: {_redecoded(*redecoded[raw.row])}")
            if columns is None:
                raise InputError(problems)
            continue
        values = [v if isinstance(v, str) else None for v in raw.values]
        if not any(v and v.strip() for v in values):
            continue
        if columns is not None and len(values) > width and any(v and v.strip() for v in values[width:]):
            extra = [v.strip() for v in values[width:] if v and v.strip()]
            problems.append(
                f"{path}:{raw.row}: {len(values)} fields where the header has {width} (extra: "
                f"{', '.join(repr(v) for v in extra[:3])}{', …' if len(extra) > 3 else ''}): a value that contains "
                f"the delimiter {details.get('delimiter')!r} must be enclosed in double quotes, or give "
                "--delimiter if the file uses another one"
            )
            continue
        if columns is None:
            width = len(values)
            labels = [(v or "").strip().lower() for v in values]
            columns = {}
            for index, label in enumerate(labels):
                if label in COLUMNS and label not in columns:
                    columns[label] = index
            missing = [c for c in ("id", "name") if c not in columns]
            if missing:
                shown = ", ".join(repr(v) for v in labels if v) or "nothing"
                raise InputError([
                    f"{path}:{raw.row}: the header needs {' and '.join(repr(m) for m in missing)} "
                    f"column{'s' if len(missing) > 1 else ''}; it has {shown} "
                    f"(read as {details.get('encoding')}, delimiter {details.get('delimiter')!r}; "
                    "give --encoding/--delimiter if that is wrong)"
                ])
            continue
        row = {key: _cell(values, columns.get(key)) for key in COLUMNS}
        item_id = row["id"]
        if item_id is None:
            problems.append(f"{path}:{raw.row}: empty id")
        elif item_id in first_line:
            problems.append(f"{path}:{raw.row}: duplicate id {item_id!r} (first given at line {first_line[item_id]})")
        else:
            first_line[item_id] = raw.row
        if row["name"] is None:
            problems.append(f"{path}:{raw.row}: empty name" + (f" for id {item_id!r}" if item_id else ""))
        rows.append(row)
    if columns is None:
        problems.append(f"{path}: the file is empty (a header with 'id' and 'name' columns is needed)")
    if problems:
        more = len(problems) - MAX_PROBLEMS
        raise InputError(problems[:MAX_PROBLEMS] + ([f"{path}: … and {more} more problems"] if more > 0 else []))
    yield from rows


#: Reader notes that leave a record's fields as written (a quote followed by more text kept in the cell):
#: such a record is read, not refused.
_TRUSTED_NOTES = frozenset({"quote_kept"})


def _repaired(kind: str, message: str) -> str:
    """The problem line of a record the CSV reader repaired (its note's ``kind`` and ``message``)."""
    return (f"{message} ({kind}: `match` does not guess at a damaged record; close or remove the quote in the "
            "file and run again)")


#: Characters of a cell's text quoted in a ``text_repaired`` problem.
_EXCERPT_CHARS = 40


def _redecoded_records(path: Path, encoding: str, delimiter: str, starts: list[int]) -> dict[int, tuple[str, str]]:
    """The records of a file the CSV reader re-decoded whose text it changed: by the record's first line,
    ``(a cell as written, as the reader re-decoded it)``.

    ``starts`` are the first lines of the reader's records, in order (a record
    runs to the line before the next one starts).  The records are read again
    as written — in ``encoding``, split at ``delimiter`` — and a record counts
    when the reader's repair (:func:`~ingestion.reading.normalize.repair_mojibake`,
    applied cell by cell) changes one of its cells.
    """
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        lines = [line.replace("\x00", "") for line in fh]
    found: dict[int, tuple[str, str]] = {}
    for index, start in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(lines)
        text = "".join(lines[start - 1:end])
        try:
            cells = [cell for record in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in record]
        except csv.Error:  # the reader refused or repaired such a record anyway; look at its text as it stands
            cells = text.replace("\r", "\n").replace("\n", delimiter).split(delimiter)
        for cell in cells:
            fixed = repair_mojibake(cell)
            if fixed != cell:
                found[start] = (cell, fixed)
                break
    return found


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS - 1] + "…"


def _redecoded(written: str, read: str) -> str:
    """The problem line of a record whose text the CSV reader re-decoded: one of its cells ``written`` in the
    file, and what the reader ``read`` it as."""
    return (f"the text {_excerpt(written)!r} had been mis-decoded once before the file was saved (UTF-8 read as "
            f"cp1251) and would be matched as {_excerpt(read)!r} (text_repaired: `match` does not guess at damaged "
            "text; save the file again as UTF-8 from its original, or fix this text, and run again)")


def result_to_json(result: MatchResult) -> dict[str, object]:
    """The CLI's JSON object for one result."""
    return {
        "id": result.item_id,
        "decision": result.decision,
        "product_id": result.product_id,
        "score": result.score,
        "candidates": [{"product_id": c.product_id, "score": c.score} for c in result.candidates],
    }


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="ingestion match", description="Match supplier items to catalog products.",
        epilog="Reads CSV/TSV text only (export a workbook's sheet as CSV first). "
               "exit codes: 0 success, 2 bad arguments or unreadable/malformed CSV — a row with more fields than "
               "the header, a quote never closed, re-decoded text, an empty or repeated id… (every problem on "
               "stderr as FILE:LINE: what), 141 standard output closed early (e.g. | head)",
    )
    ap.add_argument("--catalog", required=True, type=Path, help="catalog CSV: id,name[,sku,brand,category,price]")
    ap.add_argument("--items", required=True, type=Path, help="items CSV: id,name[,sku,brand,category,price]")
    ap.add_argument("--json", action="store_true", help="print one JSON object per item per line")
    ap.add_argument("--auto-threshold", type=float, default=DEFAULT_AUTO_THRESHOLD, help="score (0-100) to link automatically")
    ap.add_argument("--potential-threshold", type=float, default=DEFAULT_POTENTIAL_THRESHOLD, help="score (0-100) to ask for review")
    ap.add_argument("--max-candidates", type=int, default=DEFAULT_MAX_CANDIDATES, help="candidates kept for review")
    ap.add_argument("--encoding", help="text encoding of both CSVs (default: detected per file)")
    ap.add_argument("--delimiter", help="delimiter of both CSVs: , ; | or tab (default: detected per file)")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the matcher CLI on ``argv``; returns the exit status (0 ok, 2 bad arguments or input).

    Decisions go to stdout; input problems (every one found in both files) to stderr.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        Matcher(
            Catalog(),
            auto_threshold=args.auto_threshold,
            potential_threshold=args.potential_threshold,
            max_candidates=args.max_candidates,
        )
    except ValueError as e:
        parser.error(str(e))
    delimiter = "\t" if args.delimiter in ("\\t", "tab", "TAB") else args.delimiter
    problems: list[str] = []
    catalog_rows: list[dict[str, str | None]] = []
    item_rows: list[dict[str, str | None]] = []
    for path, into in ((args.catalog, catalog_rows), (args.items, item_rows)):
        try:
            into.extend(read_rows(path, args.encoding, delimiter))
        except InputError as e:
            problems.extend(e.problems)
    if problems:
        for line in problems:
            print(f"ingestion match: {line}", file=sys.stderr)
        return 2
    catalog = Catalog(Product(str(r["id"]), r["name"] or "", r["sku"], r["brand"], r["category"]) for r in catalog_rows)
    matcher = Matcher(
        catalog,
        auto_threshold=args.auto_threshold,
        potential_threshold=args.potential_threshold,
        max_candidates=args.max_candidates,
    )
    items = [Item(str(r["id"]), r["name"] or "", r["sku"], r["brand"], r["category"]) for r in item_rows]
    out = sys.stdout
    for result in matcher.match(items):
        if args.json:
            out.write(json.dumps(result_to_json(result), ensure_ascii=False) + "\n")
        else:
            cands = ", ".join(f"{c.product_id}:{c.score:g}" for c in result.candidates)
            out.write(f"{result.item_id}\t{result.decision}\t{result.product_id or ''}\t{result.score:g}\t{cands}\n")
    return 0


if __name__ == "__main__":
    from ingestion.cli import run_guarded

    sys.exit(run_guarded(main, sys.argv[1:]))
