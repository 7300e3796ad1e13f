"""Whether an item's values fit the store, row by row (shared by the store and ``preview``).

:func:`check_item` takes one :class:`~ingestion.reading.model.Item` as the
reader gave it and returns the values as the schema holds them, with the
problems found:

* a SKU longer than 255 characters fails the row (``sku_too_long``);
* a price that is not a finite number or does not fit ``NUMERIC(14, 2)``
  fails the row (``price_out_of_range``), a negative one too
  (``negative_price``); more than two decimals are rounded half up with a
  ``price_rounded`` warning (prices are :class:`~decimal.Decimal` in the
  item's currency, never floats);
* a stock that is not finite or does not fit ``NUMERIC(14, 3)`` is left empty
  with a ``stock_out_of_range`` warning, otherwise kept to three decimals;
* a currency that is not a three-letter ISO 4217 code is left empty;
* a unit longer than 32 characters is cut with a ``unit_too_long`` warning;
* a sheet name is cut to 255 characters.

A problem names its column as the reader's problems do: the header text the
user sees in the file (``Цена, руб.``), found by :func:`source_column` from
the item's raw cells; the field's name (``price``) only when the row does not
tell.

:func:`item_key` gives the key a supplier's item is stored under;
:class:`ListKeys` gives the keys of one list row by row: a SKU given twice is
a duplicate (the later row wins, ``duplicate_sku`` warning), while rows
without SKUs that share a name are different offers the file does not tell
apart (sizes or colours left out), so each is kept under the name and its
occurrence (``name #2``, ``name #3`` …; ``repeated_name`` note) — never
silently collapsed.

The limits are the column types of ``supplier_items`` (migrations/0001).
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, NamedTuple

import attrs

from ingestion.errors import Level, Problem
from ingestion.limits import MAX_KEY_LENGTH, MAX_PRICE, MAX_SHEET_LENGTH, MAX_STOCK, MAX_UNIT_LENGTH
from ingestion.reading.model import Item
from ingestion.reading.normalize import normalize_name, normalize_sku, normalize_unit, parse_price, parse_stock

CENT = Decimal("0.01")
STOCK_STEP = Decimal("0.001")

_NO_PROBLEMS: tuple[Problem, ...] = ()
#: ``_new_tuple(Checked, (...))``: a named tuple made without the keyword handling of its ``__new__``
#: (what :func:`check_item` and :meth:`ListKeys.assign` do for every row).
_new_tuple = tuple.__new__


class Checked(NamedTuple):
    """An item's values as ``supplier_items`` holds them (``None`` where empty)."""

    price: Decimal | None
    stock: Decimal | None
    currency: str | None
    unit: str | None
    sheet: str | None


def item_key(item: Item) -> tuple[str, bool]:
    """``(supplier_sku, derived_from_name)`` for an item.

    Without a SKU the key is the name plus the values that qualify it
    (:attr:`Item.name_parts`: ``Бурт DIZAYN | 63`` — rows that share a name and
    differ in a size column under the same header stay apart).  A key longer than 255 characters is cut and given a
    hash suffix so two long keys that share a beginning stay apart.
    """
    if item.sku:
        return item.sku, False
    key = " | ".join([" ".join(item.name.split()), *(" ".join(v.split()) for v in item.name_parts)]).casefold()
    if len(key) > MAX_KEY_LENGTH:
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
        key = key[: MAX_KEY_LENGTH - 17] + "#" + digest
    return key, True


def _price_cells(text: Any) -> list[Decimal]:
    """The amounts a raw price cell may have been read as (decimal mark undecided: every reading)."""
    amounts = []
    for mark in (None, ",", "."):
        amount = parse_price(text, mark).amount
        if amount is not None and amount not in amounts:
            amounts.append(amount)
    return amounts


def _stock_cell(text: Any) -> Decimal | None:
    return parse_stock(text)[0]


#: How a raw cell is read for each field :func:`source_column` can place, and the item's value it must give.
_READERS: dict[str, tuple[Callable[[Any], Any], Callable[[Item], Any]]] = {
    "price": (_price_cells, lambda item: item.price),
    "sku": (normalize_sku, lambda item: item.sku),
    "name": (normalize_name, lambda item: item.name),
    "stock": (_stock_cell, lambda item: item.stock),
    "unit": (normalize_unit, lambda item: item.unit),
}


def source_column(item: Item, field: str) -> str:
    """The header text of the column ``item``'s ``field`` came from, as the reader names columns in its problems.

    The item does not carry its columns, but ``item.raw`` maps each header
    text to the row's cell text: the column is the first whose cell reads as
    the item's value (``price``: the chosen price; ``sku``, ``name``,
    ``stock``, ``unit``).  ``field`` itself when no cell does (an item made
    without raw cells, or a value no cell gives).  Only called for rows with a
    problem, so its cost does not matter.
    """
    reader = _READERS.get(field)
    if reader is None or not item.raw:
        return field
    read, value_of = reader
    value = value_of(item)
    if value is None:
        return field
    for label, text in item.raw.items():
        if text is None or text == "":
            continue
        try:
            got = read(text)
            if got == value or (type(got) is list and value in got):
                return str(label)
        except (ArithmeticError, ValueError, TypeError):  # a cell no reader takes (or a NaN) is not the column
            continue
    return field


def row_problem(item: Item, type_: str, message: str, column: str | None = None, level: Level = "error") -> Problem:
    """A problem of ``item``'s row (sheet, row, page and raw cells filled from the item).

    ``column`` is a field (``price``, ``sku``, ``stock``, ``unit``); the
    problem names the file's header of that field (:func:`source_column`).
    """
    return Problem(
        type=type_, message=message, level=level, sheet=item.sheet, row=item.row,
        column=source_column(item, column) if column else None, row_data=item.raw, page=item.page,
    )


def check_item(item: Item) -> tuple[Checked | None, tuple[Problem, ...]]:
    """``(values, problems)`` for one item; ``values`` is ``None`` when the row cannot be stored.

    ``problems`` holds the error that failed the row, or the warnings of a
    row that was adjusted (empty for a clean row): a negative price fails the
    row (``negative_price``, quoting the cell); a price that is zero once
    rounded to cents is no price (warning ``zero_price``, the item kept).  Never raises.  Runs for
    every row a list has: comparisons are chained and ``quantize`` gets its
    rounding positionally (half the cost of the keyword).
    """
    sku = item.sku
    if sku and len(sku) > MAX_KEY_LENGTH:
        return None, (row_problem(item, "sku_too_long", f"SKU longer than {MAX_KEY_LENGTH} characters", "sku"),)
    problems: list[Problem] | None = None
    given = price = item.price
    if price is not None:
        if not price.is_finite() or not -MAX_PRICE <= price <= MAX_PRICE:
            return None, (row_problem(item, "price_out_of_range", f"price {given} cannot be stored", "price"),)
        if price < 0:
            column = source_column(item, "price")
            cell = item.raw.get(column) if item.raw else None
            quoted = f" (the cell reads {str(cell)[:60]!r})" if cell not in (None, "") else ""
            return None, (row_problem(item, "negative_price", f"price {given} is negative{quoted}", "price"),)
        price = price.quantize(CENT, ROUND_HALF_UP)
        if price == 0:  # the reader keeps such a cell as no price; an item made elsewhere gets the same
            cell = item.raw.get(source_column(item, "price")) if item.raw else None
            quoted = f" (the cell reads {str(cell)[:60]!r})" if cell not in (None, "") else ""
            problems = [row_problem(item, "zero_price", f"price {given} is zero{quoted}: the item is kept without "
                                    "a price", "price", level="warning")]
            price = None
        elif price != given:
            problems = [row_problem(item, "price_rounded", f"price {given} rounded to {price} (two decimals are kept)",
                                    "price", level="warning")]
    stock = item.stock
    if stock is not None:
        if stock.is_finite() and -MAX_STOCK <= stock <= MAX_STOCK:
            stock = stock.quantize(STOCK_STEP, ROUND_HALF_UP)
        else:
            problems = (problems or []) + [row_problem(
                item, "stock_out_of_range", f"stock {item.stock} cannot be stored; left empty", "stock", level="warning"
            )]
            stock = None
    currency = item.currency
    if currency and len(currency) != 3:
        currency = None
    unit = item.unit or None
    if unit and len(unit) > MAX_UNIT_LENGTH:
        problems = (problems or []) + [row_problem(
            item, "unit_too_long", f"unit {unit[:40]!r}… cut to {MAX_UNIT_LENGTH} characters", "unit", level="warning"
        )]
        unit = unit[:MAX_UNIT_LENGTH]
    sheet = item.sheet
    if sheet and len(sheet) > MAX_SHEET_LENGTH:
        sheet = sheet[:MAX_SHEET_LENGTH]
    checked: Checked = _new_tuple(Checked, (price, stock, currency or None, unit, sheet or None))
    return checked, tuple(problems) if problems else _NO_PROBLEMS


def _where(row: int | None, sheet: str | None) -> str:
    return f"row {row}" + (f" of sheet {sheet!r}" if sheet else "")


def duplicate_problem(
    item: Item, key: str, from_name: bool, earlier_row: int | None, earlier_sheet: str | None = None
) -> Problem:
    """The ``duplicate_sku`` warning of a row whose key (SKU, or name when the file has none) came before
    (at ``earlier_row`` of ``earlier_sheet``)."""
    where = _where(earlier_row, earlier_sheet)
    return Problem(
        type="duplicate_sku",
        level="warning",
        message=f"{'name' if from_name else 'SKU'} {key!r} already given at {where}; this row's values win",
        sheet=item.sheet,
        row=item.row,
        column=source_column(item, "name" if from_name else "sku"),
        row_data=item.raw,
        page=item.page,
    )


def _suffixed(base: str, occurrence: int) -> str:
    suffix = f" #{occurrence}"
    return base[: MAX_KEY_LENGTH - len(suffix)] + suffix


class ListKey(NamedTuple):
    """Where a row goes: its ``key``, whether the key came from the name, whether it replaces an earlier row of
    the same key, and the problem to log about it (``None`` for a first-seen key)."""

    key: str
    from_name: bool
    replaces_earlier: bool
    problem: Problem | None


@attrs.define
class ListKeys:
    """The keys of one list, given row by row (see the module docstring for the rules)."""

    last_row: dict[str, tuple[int | None, str | None]] = attrs.field(factory=dict)  # key -> (row, sheet)
    occurrences: dict[str, int] = attrs.field(factory=dict)

    def assign(self, item: Item) -> ListKey:
        key, from_name = item_key(item)
        here = (item.row, item.sheet)
        earlier = self.last_row.get(key)
        if earlier is None:
            self.last_row[key] = here
            first: ListKey = _new_tuple(ListKey, (key, from_name, False, None))
            return first
        if not from_name:
            self.last_row[key] = here
            return ListKey(key, False, True, duplicate_problem(item, key, False, *earlier))
        occurrence = self.occurrences.get(key, 1) + 1
        while _suffixed(key, occurrence) in self.last_row:
            occurrence += 1
        self.occurrences[key] = occurrence
        suffixed = _suffixed(key, occurrence)
        self.last_row[suffixed] = here
        where = _where(*earlier)
        problem = Problem(
            type="repeated_name",
            level="info",
            message=f"no SKU, and the name {item.name!r} was already given at {where}; kept as a separate item "
            f"(key {suffixed!r}) — a SKU column would tell such rows apart",
            sheet=item.sheet,
            row=item.row,
            column=source_column(item, "name"),
            row_data=item.raw,
            page=item.page,
        )
        return ListKey(suffixed, True, False, problem)
