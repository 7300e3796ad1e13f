"""What the reading layer hands out: options in, items, layouts and problems out.

The reading layer is pure (DESIGN §10): a file path and :class:`ReadOptions` in,
a stream of :class:`Item` and :class:`~ingestion.errors.Problem` out.  It knows
nothing of Dramatiq, Peewee, Redis or HTTP.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Iterator

import attrs

from ingestion.errors import Problem

#: Column roles the layout detector assigns.
ROLES = (
    "sku",
    "name",
    "price",
    "currency",
    "unit",
    "stock",
    "brand",
    "category",
    "description",
)


@attrs.frozen
class ReadOptions:
    """Per-supplier overrides (``suppliers.meta``) and preview options.

    Every field left ``None`` means "detect it".  ``header_row`` is 1-based as
    the file shows it; ``column_mapping`` maps a header text or a column letter
    (``"C"``) to a role from :data:`ROLES` (or ``price:<kind>`` for a named price
    kind such as ``price:wholesale``); ``currency`` is an ISO 4217 code used
    when neither cell, number format nor header gives one; ``decimal_separator``
    is ``","`` or ``"."``.
    """

    sheet: str | None = None
    header_row: int | None = None
    column_mapping: dict[str, str] = attrs.field(factory=dict)
    currency: str | None = None
    decimal_separator: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    #: Column label → decimal mark the supplier's earlier lists showed; used only for a
    #: price column whose own values cannot tell ("1,234" / "1.500" everywhere).
    column_decimal_separators: dict[str, str] = attrs.field(factory=dict)


@attrs.define
class Item:
    """One supplier item as read from one row.

    A slotted attrs class, not a frozen one: one is made for every row read,
    and a frozen class sets each field through ``object.__setattr__`` (five
    times the cost).  Treat items as values all the same: make changed copies
    with ``attrs.evolve``.

    Money is :class:`~decimal.Decimal` in the currency's major unit (roubles,
    euros — never cents).  ``prices`` keeps every price column of the row by
    kind (``retail``, ``wholesale``, ``netto``, ``brutto``, ``price`` …);
    ``price`` is the one chosen as the item's price.  ``currency`` is ISO 4217
    or ``None`` when nothing in the file says.  ``raw`` maps header text to the
    row's raw cell text so a manager can see the source; ``attributes`` holds
    the cells of columns no role took.
    """

    row: int
    name: str
    sheet: str | None = None
    sku: str | None = None
    price: Decimal | None = None
    prices: dict[str, Decimal] = attrs.field(factory=dict)
    currency: str | None = None
    unit: str | None = None
    stock: Decimal | None = None
    available: bool | None = None
    brand: str | None = None
    category_path: tuple[str, ...] = ()
    description: str | None = None
    page: int | None = None
    raw: dict[str, Any] = attrs.field(factory=dict)
    #: Values of columns no role took (a size, a colour), by column label; they tell apart
    #: rows that share a name when the file has no SKU.
    attributes: dict[str, str] = attrs.field(factory=dict)
    #: Of those, the values that qualify the name (a size column under the name's own
    #: header, or a column with no header); they tell apart rows that share a name.
    name_parts: tuple[str, ...] = ()


@attrs.define
class SheetLayout:
    """What detection decided for one sheet (or the one table of a CSV).

    ``header_rows`` are 1-based; ``columns`` maps a column's header text (or
    letter when it has none) to its role.
    """

    sheet: str | None
    header_rows: list[int] = attrs.field(factory=list)
    columns: dict[str, str] = attrs.field(factory=dict)
    currency: str | None = None
    #: Price column label → decimal mark, where the column's own values decided it.
    decimal_separators: dict[str, str] = attrs.field(factory=dict)
    rows_read: int = 0
    items: int = 0


@attrs.define
class PriceList:
    """An opened price list.

    ``file_type`` is ``csv``, ``xlsx``, ``xls`` or ``pdf`` (from content, not
    the file name); ``rows_total`` is an estimate of data rows for progress
    (``None`` when unknown); ``layouts`` fills in as sheets are read;
    ``records()`` yields items and row problems in file order and may be
    consumed once.
    """

    file_type: str
    records: Callable[[], Iterator[Item | Problem]]
    rows_total: int | None = None
    layouts: list[SheetLayout] = attrs.field(factory=list)
    details: dict[str, Any] = attrs.field(factory=dict)
