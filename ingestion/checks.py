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
from typing import NamedTuple

import attrs

from ingestion.errors import Level, Problem
from ingestion.reading.model import Item

CENT = Decimal("0.01")
STOCK_STEP = Decimal("0.001")
MAX_PRICE = Decimal("999999999999.99")  # NUMERIC(14, 2)
MAX_STOCK = Decimal("99999999999.999")  # NUMERIC(14, 3)
MAX_KEY_LENGTH = 255
MAX_UNIT_LENGTH = 32
MAX_SHEET_LENGTH = 255

_NO_PROBLEMS: tuple[Problem, ...] = ()


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


def row_problem(item: Item, type_: str, message: str, column: str | None = None, level: Level = "error") -> Problem:
    """A problem of ``item``'s row (sheet, row, page and raw cells filled from the item)."""
    return Problem(
        type=type_, message=message, level=level, sheet=item.sheet, row=item.row, column=column, row_data=item.raw,
        page=item.page,
    )


def check_item(item: Item) -> tuple[Checked | None, tuple[Problem, ...]]:
    """``(values, problems)`` for one item; ``values`` is ``None`` when the row cannot be stored.

    ``problems`` holds the error that failed the row, or the warnings of a
    row that was adjusted (empty for a clean row).  Never raises.
    """
    if item.sku and len(item.sku) > MAX_KEY_LENGTH:
        return None, (row_problem(item, "sku_too_long", f"SKU longer than {MAX_KEY_LENGTH} characters", "sku"),)
    problems: list[Problem] | None = None
    price = item.price
    if price is not None:
        if not price.is_finite() or abs(price) > MAX_PRICE:
            return None, (row_problem(item, "price_out_of_range", f"price {item.price} cannot be stored", "price"),)
        if price < 0:
            return None, (row_problem(item, "negative_price", f"price {item.price} is negative", "price"),)
        price = price.quantize(CENT, rounding=ROUND_HALF_UP)
        if price != item.price:
            problems = [row_problem(item, "price_rounded", f"price {item.price} rounded to {price} (two decimals are kept)",
                                    "price", level="warning")]
    stock = item.stock
    if stock is not None:
        if not stock.is_finite() or abs(stock) > MAX_STOCK:
            problems = (problems or []) + [row_problem(
                item, "stock_out_of_range", f"stock {item.stock} cannot be stored; left empty", "stock", level="warning"
            )]
            stock = None
        else:
            stock = stock.quantize(STOCK_STEP, rounding=ROUND_HALF_UP)
    currency = item.currency if item.currency and len(item.currency) == 3 else None
    unit = item.unit or None
    if unit and len(unit) > MAX_UNIT_LENGTH:
        problems = (problems or []) + [row_problem(
            item, "unit_too_long", f"unit {unit[:40]!r}… cut to {MAX_UNIT_LENGTH} characters", "unit", level="warning"
        )]
        unit = unit[:MAX_UNIT_LENGTH]
    sheet = item.sheet[:MAX_SHEET_LENGTH] if item.sheet else None
    return Checked(price, stock, currency, unit, sheet), tuple(problems) if problems else _NO_PROBLEMS


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
        column="name" if from_name else "sku",
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
            return ListKey(key, from_name, False, None)
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
            column="name",
            row_data=item.raw,
            page=item.page,
        )
        return ListKey(suffixed, True, False, problem)
