"""``preview``: show what the reader decided for a file, without writing anything.

:func:`build_preview` returns the JSON document the sample scorer and other
services read (contract in ``shared/tools/score_samples.py``)::

    {"status": "ok" | "failed", "error": str | None,
     "file": str, "file_type": "csv" | "xls" | "xlsx" | "pdf" | None,
     "rows_total": int | None,
     "sheets": [str], "skipped_sheets": [{"sheet": str, "reason": str}],
     "layouts": [{"sheet", "header_rows", "columns": {label: role}, "currency",
                  "rows_read", "items"}],
     "counts": {"items": int, "errors": int, "warnings": int, "info": int},
     "details": {...},        # encoding, delimiter, BIFF version, pdf_tables [{page, order, ...}] ...
     "items": [{"sheet", "row", "page": int | None, "sku", "name", "price": "12.50" | None,
                "prices": {kind: "12.50"}, "currency", "unit", "stock",
                "available", "brand", "category_path": [str], "description"}],
     "problems": [Problem.to_dict()]}

Items pass the store's row checks (:mod:`ingestion.checks`): a row an
ingestion would refuse (negative or too large price, SKU too long) is not an
item here either and its problem is listed; prices are shown rounded as they
would be stored; a repeated SKU keeps the later row (``duplicate_sku``
warning) and rows without SKUs that share a name stay separate items
(``repeated_name`` note), so ``counts.items`` is what an ingestion would store;
each layout's ``items`` counts the same way (the refused rows and the rows a
later repeat replaced are left out; ``rows_read`` is every data row the reader
read), so the layouts' ``items`` add up to ``counts.items``.

``page`` is the 1-based PDF page an item was read from (``None`` for other
formats).  ``details`` keeps every reader detail that is JSON data (scalars,
and lists/dicts of them, such as ``pdf_tables``); other values are left out.

It never raises for a bad file: ``status`` is ``failed`` and ``error`` says why
(a missing path: "No such file: …"; a directory: "Not a file: …").  The
command line refuses a ``--currency`` that is not an ISO 4217 code the reader
knows (:func:`~ingestion.reading.currency.known_code`) and a ``--header-row``
below 1 with exit status 2, before reading anything.
:func:`render_text` makes the human report; :func:`main` is the command line
(``python -m ingestion.preview [--json] ... FILE``), also used by the
``ingestion preview`` CLI.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any

import attrs

from ingestion.checks import ListKeys, check_item
from ingestion.errors import IngestionError, Problem
from ingestion.reading import Item, ReadOptions, open_price_list
from ingestion.reading.currency import KNOWN_CODES, known_code
from ingestion.reading.model import SheetLayout
from ingestion.reading.normalize import format_money

#: Exit code of a file that could not be read (the same as ``ingestion.cli.EXIT_UNREADABLE``).
EXIT_UNREADABLE = 4


def _dec(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def _is_json_data(value: Any, depth: int = 0) -> bool:
    """True for JSON data: scalars, and lists/tuples/dicts (string keys) of JSON data, nested at most 8 deep."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if depth >= 8:
        return False
    if isinstance(value, (list, tuple)):
        return all(_is_json_data(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json_data(v, depth + 1) for k, v in value.items())
    return False


def item_to_dict(item: Item) -> dict[str, Any]:
    """The JSON form of one item (money as text with two or more decimals)."""
    return {
        "sheet": item.sheet,
        "row": item.row,
        "page": item.page,
        "sku": item.sku,
        "name": item.name,
        "price": format_money(item.price),
        "prices": {k: format_money(v) for k, v in item.prices.items()},
        "currency": item.currency,
        "unit": item.unit,
        "stock": _dec(item.stock),
        "available": item.available,
        "brand": item.brand,
        "category_path": list(item.category_path),
        "description": (item.description[:300] if item.description else None),
    }


class _LayoutTally:
    """Which layout (sheet, or table of a sheet) each item came from, and how many of each one's items are kept.

    The reader counts the items of each layout (``SheetLayout.items``) a little
    after it hands them out, in the order it hands them out; so the items not
    yet accounted for, oldest first, belong to the layouts whose counts grew
    since the last look.  Items are numbered in the order they arrive
    (:meth:`arrived`); :meth:`refuse` and :meth:`replace` take back one the
    store would not keep; :meth:`kept` gives each layout's kept items.
    """

    def __init__(self, layouts: list[SheetLayout]) -> None:
        self.layouts = layouts
        self.counted: list[int] = []  # each layout's item count at the last look
        self.layout_of: list[int] = []  # item number -> layout index (-1: not known yet)
        self.settled = 0  # items before this number have their layout
        self.gone: set[int] = set()  # item numbers the store would not keep
        self.open_from = 0  # the first layout whose count may still grow

    def look(self) -> None:
        """Give the items not yet accounted for to the layouts whose counts grew.

        Only the layouts of the sheet being read can still grow (a sheet's
        counts are final before the next sheet's layouts are added), so the
        layouts of earlier sheets are not looked at again.
        """
        layouts, counted = self.layouts, self.counted
        known = len(counted)
        for index in range(self.open_from, len(layouts)):
            now = layouts[index].items
            before = counted[index] if index < known else 0
            if now > before:
                for _ in range(now - before):
                    if self.settled < len(self.layout_of):
                        self.layout_of[self.settled] = index
                        self.settled += 1
            if index < known:
                counted[index] = now
            else:
                counted.append(now)
        if len(layouts) > known:  # a sheet began: the layouts before its own are final
            first = len(layouts) - 1
            while first > self.open_from and layouts[first - 1].sheet == layouts[-1].sheet:
                first -= 1
            self.open_from = first

    def arrived(self) -> int:
        """Note one item handed out by the reader; returns its number."""
        self.layout_of.append(-1)
        return len(self.layout_of) - 1

    def drop(self, number: int) -> None:
        """The store would not keep item ``number`` (refused by its checks, or replaced by a later row)."""
        self.gone.add(number)

    def kept(self) -> list[int]:
        """Per layout (same order as ``layouts``), the items the store would keep."""
        self.look()
        out = [0] * len(self.layouts)
        for number, index in enumerate(self.layout_of):
            if index >= 0 and number not in self.gone:
                out[index] += 1
        return out


def build_preview(path: str, options: ReadOptions = ReadOptions(), limit: int | None = None) -> dict[str, Any]:
    """Read ``path`` and describe the result as a JSON-able dict (shape in the module docstring).

    ``limit`` caps the number of items listed (counts still cover the whole file).
    Never raises for a bad file; programming errors are reported as
    ``status: failed`` too, with the exception type in ``error``.
    """
    doc: dict[str, Any] = {
        "status": "ok",
        "error": None,
        "file": str(path),
        "file_type": None,
        "rows_total": None,
        "sheets": [],
        "skipped_sheets": [],
        "layouts": [],
        "counts": {"items": 0, "errors": 0, "warnings": 0, "info": 0},
        "details": {},
        "items": [],
        "problems": [],
    }
    items: list[dict[str, Any]] = doc["items"]
    problems: list[dict[str, Any]] = doc["problems"]
    counts: dict[str, int] = doc["counts"]
    price_list = None
    try:
        price_list = open_price_list(path, options)
        doc["file_type"] = price_list.file_type
        doc["rows_total"] = price_list.rows_total
        listed: dict[str, dict[str, Any]] = {}  # key -> its listed item
        numbered: dict[str, int] = {}  # key -> the number of its item in the tally
        keys = ListKeys()
        tally = _LayoutTally(price_list.layouts)

        def note(problem: Problem) -> None:
            counts[{"error": "errors", "warning": "warnings"}.get(problem.level, "info")] += 1
            problems.append(problem.to_dict())

        for rec in price_list.records():
            tally.look()
            if not isinstance(rec, Item):
                note(rec)
                continue
            number = tally.arrived()
            # The store's checks, so the preview shows what an ingestion would keep.
            checked, found = check_item(rec)
            for problem in found:
                note(problem)
            if checked is None:
                tally.drop(number)
                continue
            if checked[:4] != (rec.price, rec.stock, rec.currency, rec.unit or None):
                rec = attrs.evolve(rec, price=checked.price, stock=checked.stock, currency=checked.currency,
                                   unit=checked.unit)
            key, _, replaces, key_problem = keys.assign(rec)
            if key_problem is not None:
                note(key_problem)
            if replaces:
                earlier = listed.pop(key, None)
                if earlier is not None:
                    items.remove(earlier)
                if key in numbered:
                    tally.drop(numbered[key])
            else:
                counts["items"] += 1
            numbered[key] = number
            if limit is None or len(items) < limit:
                listed[key] = item_to_dict(rec)
                items.append(listed[key])
    except IngestionError as exc:
        doc["status"] = "failed"
        doc["error"] = exc.message
        problems.append(exc.problem.to_dict())
    except FileNotFoundError:
        doc["status"] = "failed"
        doc["error"] = f"No such file: {path}"
    except IsADirectoryError:
        doc["status"] = "failed"
        doc["error"] = f"Not a file: {path} is a directory or another non-regular file"
    except OSError as exc:
        doc["status"] = "failed"
        doc["error"] = f"The file cannot be read: {path} ({exc.strerror or exc})"
    except Exception as exc:  # a reader bug must not look like a crash to the caller
        doc["status"] = "failed"
        doc["error"] = f"The file could not be read ({type(exc).__name__}: {exc})"
    kept: list[int] | None = None
    if price_list is not None and doc["status"] == "ok":
        kept = tally.kept()
    if price_list is not None:
        details = dict(price_list.details)
        doc["sheets"] = details.pop("sheets", [])
        doc["skipped_sheets"] = details.pop("skipped_sheets", [])
        doc["details"] = {k: v for k, v in details.items() if _is_json_data(v)}
        doc["layouts"] = [
            {
                "sheet": lay.sheet,
                "header_rows": lay.header_rows,
                "columns": lay.columns,
                "currency": lay.currency,
                "rows_read": lay.rows_read,
                "items": kept[n] if kept is not None else lay.items,
            }
            for n, lay in enumerate(price_list.layouts)
        ]
    return doc


def render_text(doc: dict[str, Any], rows: int = 10, max_problems: int = 20) -> str:
    """A readable report of a preview document: sheets, header rows, column roles, first rows, problems."""
    out: list[str] = []
    out.append(f"File: {doc.get('file')}  ({doc.get('file_type') or 'unknown type'})")
    if doc.get("status") != "ok":
        out.append(f"FAILED: {doc.get('error')}")
    details = doc.get("details") or {}
    if details:
        out.append("Detected: " + ", ".join(f"{k}={v!r}" for k, v in details.items()))
    if doc.get("sheets"):
        out.append("Sheets: " + ", ".join(str(s) for s in doc["sheets"]))
    for s in doc.get("skipped_sheets") or []:
        out.append(f"  skipped {s.get('sheet')!r}: {s.get('reason')}")
    c = doc.get("counts") or {}
    out.append(
        f"Items: {c.get('items', 0)}   errors: {c.get('errors', 0)}   warnings: {c.get('warnings', 0)}"
        + (f"   (about {doc['rows_total']} rows in the file)" if doc.get("rows_total") else "")
    )
    items = doc.get("items") or []
    for lay in doc.get("layouts") or []:
        out.append("")
        out.append(f"== Sheet {lay.get('sheet') or '(table)'}: header row(s) {', '.join(map(str, lay.get('header_rows') or []))}"
                   f"; currency {lay.get('currency') or 'unknown'}; {lay.get('items', 0)} items of {lay.get('rows_read', 0)} rows")
        for label, role in (lay.get("columns") or {}).items():
            out.append(f"   {label!s:<40} -> {role}")
        sheet_items = [i for i in items if i.get("sheet") == lay.get("sheet")][:rows]
        if sheet_items:
            out.append("   first rows:")
            for it in sheet_items:
                price = it.get("price") or "-"
                extra = " ".join(f"{k}={v}" for k, v in (it.get("prices") or {}).items()) if len(it.get("prices") or {}) > 1 else ""
                cat = " > ".join(it.get("category_path") or [])
                out.append(
                    f"   {it.get('row')!s:>6}  {(it.get('sku') or '')[:16]:<16} {it.get('name', '')[:60]:<60} "
                    f"{price:>12} {it.get('currency') or '':<3} {extra}" + (f"  [{cat}]" if cat else "")
                )
    problems = doc.get("problems") or []
    if problems:
        out.append("")
        out.append(f"Problems ({len(problems)}):")
        for p in problems[:max_problems]:
            where = ":".join(str(x) for x in (p.get("sheet"), p.get("row")) if x is not None)
            col = f" [{p['column']}]" if p.get("column") else ""
            out.append(f"   {p.get('level', 'error'):<7} {where:<20} {p.get('type')}{col}: {p.get('message')}")
        if len(problems) > max_problems:
            out.append(f"   … and {len(problems) - max_problems} more (use --json for all)")
    return "\n".join(out)


def _header_row(text: str) -> int:
    """``--header-row``: a whole number ≥ 1 (rows are 1-based as the file shows them)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a row number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{n} is not a row number: rows are counted from 1")
    return n


def _currency(text: str) -> str:
    """``--currency``: an ISO 4217 code the reader knows (``EUR``, ``PLN``, ``RUB`` …), returned upper-case."""
    code = known_code(text)
    if code is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 4217 currency code this reader knows ({', '.join(sorted(KNOWN_CODES))})"
        )
    return code


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="ingestion preview", description="Show how a price list would be read, without storing it.",
        epilog=f"exit codes: 0 the file was read, {EXIT_UNREADABLE} it could not be read (the reason on stderr; "
               "with --json the document says status 'failed' and the error), 1 unknown --supplier, "
               "2 bad options or settings, 141 standard output closed early (e.g. | head)",
    )
    ap.add_argument("file")
    ap.add_argument("--json", action="store_true", help="print the JSON document instead of the report")
    ap.add_argument("--sheet", help="read only this sheet (name or 1-based number)")
    ap.add_argument("--header-row", type=_header_row, help="1-based header row, as the file shows it")
    ap.add_argument("--currency", type=_currency, help="ISO 4217 currency when the file does not say")
    ap.add_argument("--decimal-separator", choices=[",", "."], help="decimal mark of the price columns")
    ap.add_argument("--encoding", help="text encoding of a CSV (or code page of an old XLS)")
    ap.add_argument("--delimiter", help="CSV delimiter (use '\\t' or 'tab' for TAB)")
    ap.add_argument("--map", action="append", default=[], metavar="COLUMN=ROLE",
                    help="force a column role, e.g. --map C=price:wholesale --map 'Артикул=sku'")
    ap.add_argument("--rows", type=int, default=10, help="rows shown per sheet in the report")
    return ap


def options_from_args(args: argparse.Namespace) -> ReadOptions:
    """ReadOptions from parsed command-line arguments."""
    mapping = {}
    for m in args.map:
        key, _, role = m.rpartition("=")
        if key:
            mapping[key] = role
    delim = args.delimiter
    if delim in ("\\t", "tab", "TAB"):
        delim = "\t"
    return ReadOptions(
        sheet=args.sheet,
        header_row=args.header_row,
        column_mapping=mapping,
        currency=args.currency,
        decimal_separator=args.decimal_separator,
        encoding=args.encoding,
        delimiter=delim,
    )


def failure_line(doc: dict[str, Any]) -> str:
    """The one-line reason, for stderr, why the file of a failed preview document could not be read."""
    return f"ingestion preview: cannot read {doc.get('file')}: {doc.get('error') or 'unknown error'}"


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns 0 when the file was read, :data:`EXIT_UNREADABLE` (4) when it could not be.

    The report (or with ``--json`` the JSON document, whose ``status`` is
    ``failed`` and ``error`` says why) goes to stdout either way; a file that
    could not be read also gets one line with the reason on stderr.  Bad
    options (an unknown ``--currency``, ``--header-row`` below 1) exit with
    status 2 and a message on stderr (argparse's ``SystemExit``).
    """
    args = _parser().parse_args(argv)
    doc = build_preview(args.file, options_from_args(args))
    if doc["status"] != "ok":  # the reason first: it is there even when stdout is closed early
        sys.stderr.write(failure_line(doc) + "\n")
        sys.stderr.flush()
    from ingestion.cli import write_out  # the command line's chunked writer (a large write can lose a closed pipe)

    if args.json:
        write_out(json.dumps(doc, ensure_ascii=False, default=str) + "\n")
    else:
        write_out(render_text(doc, rows=args.rows) + "\n")
    return 0 if doc["status"] == "ok" else EXIT_UNREADABLE


if __name__ == "__main__":
    from ingestion.cli import run_guarded

    sys.exit(run_guarded(main, sys.argv[1:]))
