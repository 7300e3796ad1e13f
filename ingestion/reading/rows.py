"""Row classification and item building for one sheet with a known layout.

Each data row becomes exactly one of:

* **empty / repeated header / note / footer / noise** → nothing (not an item,
  not a problem);
* **section** → updates the category path given to the items below it;
* **item** → an :class:`~ingestion.reading.model.Item`, maybe with a warning
  :class:`~ingestion.errors.Problem` (``price_on_request``, ``missing_price``);
* **bad row** → an error ``Problem`` (``missing_name``, ``bad_price``) and
  reading goes on.

Rules, in order (a sheet "has prices" when a price column was found):

1. no value at all → empty; a repeated header row → skipped.
2. some price cell holds an amount → item (error ``missing_name`` when the
   name is empty, unless the row is a total/note line).
3. a price cell says "on request" → item without price + ``price_on_request``.
   A price cell saying the item is not available ("нет в наличии",
   "ожидается", "out of stock": :func:`~ingestion.reading.normalize.unavailable`)
   → item without price, ``available=False``, + warning ``not_available``
   (bare "нет" is not such a cell: rule 5).
4. a price cell holds text that is a price *header word* ("Стоимость") → a
   caption: section.  A bare currency mark ("руб.", "USD", "€", "грн") is
   not such a word: a named row with only that in its price cell is an item
   row without an amount (rule 5), and a row holding nothing but a
   currency mark is a units line under the header (nothing).
5. a price cell holds other unreadable text → error ``bad_price`` (the
   reason says what the cell holds: "only a currency mark", "no number"…).
   A price cell holding a spreadsheet error (``#DIV/0!``, ``#N/A``: an XLSX
   ``e`` cell, an XLS error cell, that text in a CSV) → the row is
   classified as in rule 6, but where rule 6 would keep an item without
   price the row is refused with an error ``bad_price`` naming the error
   ("the price cell holds the Excel error #DIV/0!"); a section, note or
   header row stays what it is.  A formula saved without its result (an
   XLSX written by a program that does not calculate) counts as such an
   error cell, and the message says to let Excel recalculate and save.
   **The price column decides**: an error cell, or a number that is not
   surely a price (a unit or percent beside it, control characters among
   its digits, a decimal mark the column's values contradict:
   :func:`~ingestion.reading.normalize.doubtful`), in the column the price
   is taken from (the first in the price choice order below) refuses the
   row with an error ``bad_price`` even when another price column has an
   amount: that amount is not taken in its place.  In another price column
   it is a ``bad_price`` warning on the item.  A row with a SKU and a name
   whose price cell holds text that does not read is refused so, never
   taken for a caption or a section ("A2 | Автомат | розница 25О").
6. no price at all (the price cells are empty): a row with a name and a unit or stock value, or a
   name and a SKU of a shape the sheet's priced rows use
   (:func:`~ingestion.reading.layout.sku_class`: digits, letters, inner
   space — learnt from every priced sample row with a SKU, even one or two),
   is an item without price (``missing_price`` warning).  While fewer than
   :data:`~ingestion.reading.layout.SKU_EVIDENCE_ROWS` priced rows show
   SKUs (or none does), a name with a bare code (:func:`plain_code`: no
   space, no lower-case word) or with a SKU and one more value is an item
   too.  A SKU of another shape with a short text beside it and no
   price is a group/section row (Wilo's ``008_Star-ZD | PG1`` above items
   with SKUs like ``4111288``).  A name beside another mapped value (brand,
   description, category) is an item without price; so is a name-only row
   that does not look like this sheet's sections: sitting at the items'
   outline level, or only in the name column while the sheet's sections
   start in a column left of it.  A row whose text is a note/total/contact
   line is skipped; a row with a single distinct text (maybe a merged cell)
   is a section.  In a sheet without a price column, a row with a name and
   one more mapped value is an item.
7. **product groups** (shop exports with a ``group`` column, e.g. Shopify's
   "Handle"): an untitled row with the group key of the titled row above is
   part of that product.  With its own price it is a variant item named
   "title (option values)" that inherits the brand and category; without a
   price or SKU (an image row) it is a continuation and gives nothing.
8. **no silent loss**: any other row with values that is neither an item nor
   structure (empty, repeated header, section, note/total, group
   continuation) gives a warning ``unrecognized_row`` with the row's cells.
   A URL in a priced row does not make it a note.

Errors in the SKU and name columns, before the rules: a SKU cell holding a
spreadsheet error (``#REF!``, ``#N/A``, as a cell or as text) or a formula
saved without its result refuses a named row (or any row that would be an
item) with an error ``bad_sku`` naming the SKU column and the error: the
item is never stored keyed by its name instead.  Such a cell in the name
column makes the row nameless, and its ``missing_name`` error names the cause.

Section depth: when the reader knows the row's outline level (XLS/XLSX
grouping) the section sits at that level; otherwise consecutive section rows
nest, and a section after items replaces the deepest level.

Price choice (``Item.price``) — every price column is kept in ``Item.prices``
by kind; ``price`` is taken from the first kind in this order that has an
amount in the row: a column the supplier mapped to plain ``price``, then
``retail``, ``price`` (no kind named), ``sale``, ``brutto``, ``netto``,
``special``, ``dealer``, ``wholesale``, ``purchase``, ``compare_at``; within a
kind the leftmost column wins.

Currency of an item: the price cell's own mark ("$8.00", "2 CHF") → the
currency column → the price cell's number format (``0.00" грн."``) → the
price column's header ("Цена, руб") → ``ReadOptions.currency`` → ``None``
(counted: the file ends with a ``missing_currency`` warning).

Doubtful price cells, before the rules: a cell whose control characters the
row guard removed (``RawRow.controls``) gives no amount; in a price column
whose decimal mark was guessed (neither the supplier's setting nor the
column's values decided it), a value such as ``"12.345"`` gives no amount
when the column's values show its mark the other way (:meth:`SheetInterpreter._check_marks`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from ingestion.errors import Problem
from ingestion.limits import MAX_KEY_LENGTH, MAX_PRICE
from ingestion.reading.currency import currency_from_format, iso_code
from ingestion.reading.layout import SKU_EVIDENCE_ROWS, Column, Layout, header_like, sku_class
from ingestion.reading.model import Item, ReadOptions
from ingestion.reading.layout import GROUPED_NUMBER
from ingestion.reading.normalize import (
    CONTROL_REASON,
    FORMULA_MARK,
    MARK_REASON,
    MINOR_REASON,
    MINOR_UNIT_CURRENCIES,
    ParsedPrice,
    cell_text,
    clean_text,
    doubtful,
    excel_error,
    excel_error_code,
    is_error_literal,
    kopecks_only,
    minor_unit_currency,
    normalize_sku,
    normalize_unit,
    parse_price,
    parse_stock,
    unavailable,
)
from ingestion.reading.source import RawRow
from ingestion.reading.synonyms import LINK_RE, NOTE_RE, currency_only_header, header_role

#: What :meth:`SheetInterpreter.interpret` makes of a price cell that held control characters (``RawRow.controls``).
_CONTROLLED = ParsedPrice(
    error=f"{CONTROL_REASON} (invisible codes such as BEL) among its characters, so its digits cannot be trusted; "
    "fix the cell in the file"
)
#: A number with one mark followed by exactly three digits ("12.345", "1,234"), its whole part not 0: its
#: reading depends on the column's decimal mark.  Group 1: the mark.
_ONE_MARK = re.compile(r"(?<![\d.,])(?!0[.,])\d{1,3}([.,])\d{3}(?![\d.,])")
#: A mark followed by one or two digits ("12,50"): a decimal mark.  Group 1: the mark.
_DECIMAL = re.compile(r"\d([.,])\d{1,2}(?![\d])")

#: Currencies besides the rouble whose minor unit is the kopeck ("50 коп." in such a column is theirs).
_KOPECK_CURRENCIES = frozenset({"UAH", "BYN"})
#: An amount under half a cent rounds to 0.00 where it is stored (two decimals): no price.
_HALF_CENT = Decimal("0.005")
_ZERO = Decimal(0)

KIND_ORDER = ("retail", "price", "sale", "brutto", "netto", "special", "dealer", "wholesale", "purchase", "compare_at")
MAX_DEPTH = 8


_LOWER_WORD = re.compile(r"[^\W\d_A-ZА-ЯЁ]{3}")




def _refused_by_store(item: Item) -> bool:
    """Whether :func:`ingestion.checks.check_item` refuses ``item``, an item with a price: a SKU too long, a
    negative price or one the store cannot hold.  Such an item is not counted in ``missing_currency``."""
    price = item.price
    if item.sku is not None and len(item.sku) > MAX_KEY_LENGTH:
        return True
    return price is not None and (not price.is_finite() or not 0 <= price <= MAX_PRICE)


def plain_code(value: Any) -> bool:
    """A SKU cell that reads as a bare code: no inner space and no lower-case word.

    ``"A2"``, ``"KX-100"``, ``"4111288"``, ``"00123"`` are plain codes;
    ``"008_Star-ZD"`` (a group name with a word in it) and ``"PG 1 group"`` are
    not.  Used only while the sheet's priced rows show too few SKUs to learn
    their shapes from (rule 6).
    """
    k = sku_class(value)
    if k is None or k[2]:
        return False
    return not _LOWER_WORD.search(clean_text(value))


class SheetInterpreter:
    """Turns the data rows of one sheet into items, problems and sections."""

    def __init__(self, sheet: str | None, layout: Layout, options: ReadOptions, outline: bool = False) -> None:
        self.sheet = sheet
        self.layout = layout
        self.options = options
        self.path: list[str] = []
        self._last_was_section = False
        self._levels_used = outline
        self.name_col = layout.first("name")
        self.sku_col = layout.first("sku")
        self.unit_col = layout.first("unit")
        self.currency_col = layout.first("currency")
        self.brand_col = layout.first("brand")
        self.category_col = layout.first("category")
        self.desc_col = layout.first("description")
        self.stock_cols = layout.role_columns("stock")
        self.price_cols = layout.role_columns("price")
        self.has_prices = bool(self.price_cols)
        #: the price column when there is exactly one
        self._one_price = self.price_cols[0] if len(self.price_cols) == 1 else None
        self._roled = {c.index for c in layout.columns if c.role and c.role != "ignore"}
        name_header = self.name_col.header.split(" (")[0].strip().casefold() if self.name_col and self.name_col.header else None
        self._qualifier_cols = [
            c.index for c in layout.columns
            if c.index not in self._roled
            and (not c.header or (name_header is not None and c.header.split(" (")[0].strip().casefold() == name_header))
        ]
        self.default_currency = iso_code(options.currency) if options.currency else None
        self._price_keys = self._kind_keys(self.price_cols)
        self._order = self._price_order(self.price_cols)
        #: price column index → its place in the price choice order (rule "Price choice")
        self._rank = {c.index: i for i, c in enumerate(self._order)}
        #: indices (within the header width) of the columns no role took, left to right
        self._unroled = [i for i in range(len(layout.labels)) if i not in self._roled]
        self._path_of: list[str] | None = None  # the list self._path_tuple was made from
        self._path_tuple: tuple[str, ...] = ()
        self.group_col = layout.first("group")
        self._group: tuple[str, Item] | None = None  # (group key, the group's titled item)
        self._item_levels: dict[int, int] = {}
        self.items = 0
        self.rows_read = 0
        #: data rows that gave an error problem (for the sheet's error-rate guard)
        self.failed_rows = 0
        #: items without a price, and items with a price but no currency (for the file's ``missing_currency``)
        self.unpriced = 0
        self.no_currency = 0
        #: items with a price that the store will refuse (:func:`_refused_by_store`: a negative price …)
        self.unkept = 0
        #: price columns whose decimal mark neither the supplier's setting nor the column's own values decided:
        #: column index → (marks seen as thousands separators, marks seen as decimal marks; each → a value)
        self._undecided: dict[int, tuple[dict[str, str], dict[str, str]]] = {}
        if options.decimal_separator not in (",", "."):
            for c in self.price_cols:
                if not c.locale_from_values:
                    self._undecided[c.index] = (dict(c.thousands_marks), dict(c.decimal_marks))
        self._mark_idx = tuple(self._undecided)

    @staticmethod
    def _kind_keys(cols: list[Column]) -> dict[int, str]:
        keys: dict[int, str] = {}
        used: dict[str, int] = {}
        for c in cols:
            kind = c.kind or "price"
            used[kind] = used.get(kind, 0) + 1
            keys[c.index] = kind if used[kind] == 1 else f"{kind}_{used[kind]}"
        return keys

    @staticmethod
    def _price_order(cols: list[Column]) -> list[Column]:
        def rank(c: Column) -> tuple[int, int]:
            if c.weight == 99 and (c.kind or "price") == "price":
                return (-1, c.index)
            kind = c.kind or "price"
            return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), c.index)

        return sorted(cols, key=rank)

    # ------------------------------------------------------------ helpers
    def _cell(self, row: RawRow, col: Column | None) -> Any:
        if col is None or col.index >= len(row.values):
            return None
        return row.values[col.index]

    def row_data(self, row: RawRow) -> dict[str, Any]:
        """Header label → raw cell text for the row's non-empty cells (``col<n>`` beyond the header)."""
        labels = self.layout.labels
        width = len(labels)
        out: dict[str, Any] = {}
        for i, v in enumerate(row.values):
            if v is None:
                continue
            out[labels[i] if i < width else f"col{i + 1}"] = v if type(v) is str else cell_text(v)
        if row.errors:
            for i, code in row.errors.items():
                out[labels[i] if i < width else f"col{i + 1}"] = code
        return out

    def _problem(self, row: RawRow, type_: str, message: str, level: str = "error", column: Column | None = None) -> Problem:
        return Problem(
            type=type_,
            message=message,
            level=level,  # type: ignore[arg-type]
            sheet=self.sheet,
            row=row.row,
            column=(self.layout.labels[column.index] if column is not None else None),
            page=row.page,
            row_data=self.row_data(row),
        )

    def _section(self, row: RawRow, text: str) -> None:
        text = text[:200]
        if row.level is not None and self._levels_used:
            depth = max(0, min(row.level, MAX_DEPTH - 1))
            self.path = self.path[:depth] + [text]
        elif self._last_was_section:
            self.path = (self.path + [text])[-MAX_DEPTH:]
        else:
            self.path = self.path[:-1] + [text]
        self._last_was_section = True

    def _texts(self, row: RawRow) -> list[str]:
        out: list[str] = []
        for v in row.values:
            if v is None:
                continue
            t = clean_text(v)
            if t and t not in out:
                out.append(t)
        return out

    # ------------------------------------------------------------ main entry
    def interpret(self, row: RawRow) -> list[Item | Problem]:
        """Classify one data row; returns the item and/or problems it gives (maybe none).

        Counts ``rows_read``, ``items`` and ``failed_rows`` (rows that gave an
        error or ``unrecognized_row``) for the sheet's error-rate guard.
        """
        values = row.values
        width = len(values)
        if values.count(None) == width:
            return []
        self.rows_read += 1
        name_col = self.name_col
        # clean_text is what normalize_name does (called directly: this runs for every row)
        name = clean_text(values[name_col.index] if name_col is not None and name_col.index < width else None)
        one = self._one_price
        if one is not None:  # one price column (most sheets): no comprehension to set up
            parsed = [(one, parse_price(values[one.index] if one.index < width else None, one.decimal_separator))]
        else:
            parsed = [
                (c, parse_price(values[c.index] if c.index < width else None, c.decimal_separator))
                for c in self.price_cols
            ]
        if row.errors is not None:  # spreadsheet error cells (empty values) in price columns say so
            errors = row.errors
            parsed = [(c, excel_error(errors[c.index]) if c.index in errors else p) for c, p in parsed]
        if row.controls is not None:  # control characters were removed from these cells: their digits are in doubt
            controls = row.controls
            parsed = [(c, _CONTROLLED if c.index in controls and not p.empty else p) for c, p in parsed]
        marks = self._mark_idx
        if marks and (len(marks) > 1 or (marks[0] < width and type(values[marks[0]]) is str)):
            parsed = self._check_marks(values, parsed)
        if (parsed[0][1].currency is not None) if len(parsed) == 1 else any(p.currency for _, p in parsed):
            parsed = self._check_minor_units(row, parsed)  # "50 коп." under USD: not read (kopecks are roubles')
        if name and name[0] == "#" and is_error_literal(name):
            name = ""  # an error in the name column ("#N/A" written as text): no name, and the message says why
        sku_col = self.sku_col
        sku_value = values[sku_col.index] if sku_col is not None and sku_col.index < width else None
        if sku_col is not None and (row.errors is not None or (type(sku_value) is str and "#" in sku_value)):
            sku_error = self._error_in(row, sku_col)
            if sku_error is not None:
                return self._sku_error_row(row, name, parsed, sku_error)
        if self.group_col is None:
            if name and parsed and (parsed[0][1].amount is not None if len(parsed) == 1
                                    else all(p.amount is not None for _, p in parsed)):
                # the common row: a name and an amount in every price column (rule 2, nothing to report)
                return self._item(row, name, parsed, [])
            key = ""
        else:
            key = clean_text(self._cell(row, self.group_col))
        parent: Item | None = None
        if key and not name and self._group is not None and self._group[0] == key:
            parent = self._group[1]
        out = self._classify(row, name, parent, parsed)
        if (len(out) != 1 or type(out[0]) is not Item) and any(
            isinstance(r, Problem) and (r.level == "error" or r.type == "unrecognized_row") for r in out
        ):
            self.failed_rows += 1
        if self.group_col is not None and name:
            item = next((r for r in out if isinstance(r, Item)), None)
            self._group = (key, item) if key and item is not None else None
        return out

    def _classify(
        self, row: RawRow, name: str, parent: Item | None, parsed: list[tuple[Column, ParsedPrice]]
    ) -> list[Item | Problem]:
        """Rules 2–8 for a non-empty row whose price cells (every price column, left to right) read as ``parsed``."""
        amounts = [cp for cp in parsed if cp[1].amount is not None]
        on_request: list[tuple[Column, ParsedPrice]] = []
        bad: list[tuple[Column, ParsedPrice]] = []
        if len(amounts) != len(parsed):
            on_request = [cp for cp in parsed if cp[1].on_request]
            rank = self._rank
            bad = sorted((cp for cp in parsed if cp[1].error is not None), key=lambda cp: rank[cp[0].index])
        sku_raw = self._cell(row, self.sku_col)

        if parent is not None:
            # an untitled row of the product above (rule 7)
            if not amounts and not on_request and not bad and normalize_sku(sku_raw) is None:
                return []  # an image/continuation row
            name = self._variant_name(row, parent)
            if not amounts and not on_request and not bad:
                out = self._item(row, name, [], [], inherit=parent)
                if self.has_prices:
                    out.append(self._problem(row, "missing_price", "The variant has no price.", level="warning",
                                             column=self.price_cols[0]))
                return out

        if not amounts:
            if not any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row.values) and header_like(row, self.layout):
                return []

        if amounts:
            if not name:
                texts = self._texts(row)
                if self._is_note(texts) and self._sku_like(sku_raw) is not True:
                    return []
                self._last_was_section = False
                return [self._problem(row, "missing_name", self._no_name_message(row), column=self.name_col)]
            if bad and bad[0][0] is self._order[0] and doubtful(bad[0][1]):
                # the column the price is taken from holds an error or a doubtful number: not the next kind's price
                self._last_was_section = False
                return [self._refusal(row, bad[0], instead=True)]
            return self._item(row, name, amounts, bad, inherit=parent)

        if on_request:
            if not name:
                return [self._problem(row, "missing_name", "The row has no name.", column=self.name_col)]
            col = on_request[0][0]
            out = self._item(row, name, [], [], inherit=parent)
            out.append(
                self._problem(
                    row,
                    "price_on_request",
                    f"Price on request ({cell_text(self._cell(row, col))!r}): the item is kept without a price.",
                    level="warning",
                    column=col,
                )
            )
            return out

        if bad and name and all(unavailable(p) for _, p in bad):
            # "нет в наличии", "out of stock" in the price cell: an item without a price, not available
            col = bad[0][0]
            out = self._item(row, name, [], [], inherit=parent)
            item = out[0]
            assert isinstance(item, Item)
            item.available = False
            out.append(
                self._problem(
                    row,
                    "not_available",
                    f"The price cell says the item is not available ({cell_text(self._cell(row, col))!r}): "
                    "it is kept without a price, as not available.",
                    level="warning",
                    column=col,
                )
            )
            return out

        if bad:
            text_bad = [cp for cp in bad if excel_error_code(cp[1]) is None]
            if not text_bad:  # only spreadsheet errors: rule 5's own case
                return self._excel_error_row(row, name, sku_raw, bad[0])
            bad = text_bad  # unreadable text speaks for the row before an error cell beside it
            texts = self._texts(row)
            if len(texts) == 1:
                # one text over the whole row (a merged section/note cell), not a price;
                # a lone currency mark is a units line ("руб."), not a section
                if not NOTE_RE.search(texts[0]) and not currency_only_header(texts[0]):
                    self._section(row, texts[0])
                return []
            col, p = bad[0]
            text = clean_text(self._cell(row, col))
            if header_role(text)[0] == "price" and not currency_only_header(text) and not (
                name and normalize_sku(sku_raw)
            ):
                # a caption row: "Трансформатор сварочный ТДМ | Стоимость | #VALUE!"; a row with a SKU and a name
                # is an item whatever its price cell says ("A2 | Автомат | розница 25О"): refused below
                self._section(row, name or text)
                return []
            if not name:
                texts = self._texts(row)
                if len(texts) <= 1 or any(NOTE_RE.search(t) for t in texts):
                    return []
            return [self._refusal(row, (col, p))]

        return self._no_price(row, name, sku_raw)

    def _error_in(self, row: RawRow, col: Column) -> str | None:
        """The spreadsheet error (``"#REF!"``) or formula without a saved result (``"=..."``) in ``row``'s cell of
        ``col``, or ``None``: an XLSX/XLS error cell (``RawRow.errors``) or that error written as text (a CSV)."""
        if row.errors is not None and col.index in row.errors:
            return row.errors[col.index]
        value = self._cell(row, col)
        if is_error_literal(value):
            return str(value).strip().upper()
        return None

    @staticmethod
    def _error_words(code: str) -> str:
        """How a message names a cell's spreadsheet error ``code``: the error, or the formula saved without result."""
        if code.startswith(FORMULA_MARK):
            formula = f" ({code[:60]})" if len(code) > 1 else ""
            return (f"a formula{formula} with no saved result (the program that wrote the file never calculated it; "
                    "open the file in Excel, let it recalculate, save, and send it again)")
        return f"the Excel error {code} (fix the formula or the value in the file)"

    def _no_name_message(self, row: RawRow) -> str:
        """The ``missing_name`` message of a priced row: its name cell's error when it holds one."""
        code = self._error_in(row, self.name_col) if self.name_col is not None else None
        if code is None:
            return "The row has a price but no name."
        return f"The name cell holds {self._error_words(code)}, so the row has no name and is not read as an item."

    def _sku_error_row(
        self, row: RawRow, name: str, parsed: list[tuple[Column, ParsedPrice]], code: str
    ) -> list[Item | Problem]:
        """A row whose SKU cell holds a spreadsheet error or a formula without result (``code``).

        A row with a name (the SKU cell is not empty: it holds an error) is an item whose SKU is unknown, and
        any other row that would give an item: it is refused with an error ``bad_sku`` naming the SKU column
        and the error, never stored keyed by its name nor taken for a section.  A row without a name is
        classified as any other (``missing_name``, a note …).
        """
        out = [] if name else self._classify(row, name, None, parsed)
        items = [r for r in out if type(r) is Item]
        if not items and not name:
            if any(isinstance(r, Problem) and (r.level == "error" or r.type == "unrecognized_row") for r in out):
                self.failed_rows += 1
            return out
        for item in items:
            self.items -= 1
            if item.price is None:
                self.unpriced -= 1
            elif _refused_by_store(item):
                self.unkept -= 1
            elif item.currency is None:
                self.no_currency -= 1
        self.failed_rows += 1
        self._last_was_section = False
        message = (f"The SKU cell holds {self._error_words(code)}, so the item's SKU is unknown: "
                   "the row is not read as an item.")
        return [self._problem(row, "bad_sku", message, column=self.sku_col)]

    def _excel_error_row(
        self, row: RawRow, name: str, sku_raw: Any, cell: tuple[Column, ParsedPrice]
    ) -> list[Item | Problem]:
        """Rule 5 for a row whose price cells hold spreadsheet errors (``#DIV/0!``) and no amount.

        In: the row, its name and SKU cell, and the first error cell (by the
        price choice order) with what :func:`parse_price` made of it.  Out:
        what the row gives.

        The row is classified as a row without price (rule 6): a section,
        note or header stays one; where rule 6 would keep an item without a
        price, the row is refused instead with an error ``bad_price`` naming
        the error, its row and column (a formula that failed is not a price
        left blank).
        """
        out = self._no_price(row, name, sku_raw)
        if not any(type(r) is Item for r in out):
            return out
        self.items -= 1
        self.unpriced -= 1
        return [self._refusal(row, cell)]

    @property
    def priced(self) -> int:
        """Items with a price read so far that the store keeps (not :func:`_refused_by_store`)."""
        return self.items - self.unpriced - self.unkept

    def _kind_label(self, col: Column) -> str:
        """How a message names a price column: "price", or "wholesale price" for a column of a named kind."""
        key = self._price_keys[col.index]
        return "price" if key == "price" else f"{key} price"

    def _refusal(self, row: RawRow, cell: tuple[Column, ParsedPrice], instead: bool = False) -> Problem:
        """The error ``bad_price`` that refuses ``row`` for its price cell ``cell`` (column, what it reads as).

        The message names what the cell holds: a spreadsheet error, a formula
        saved without a result (what to do in Excel), or text that is not a
        sure price (the reason).  ``instead``: another price column has an
        amount, which is not taken in this column's place.
        """
        col, parsed = cell
        label = self._kind_label(col)
        code = excel_error_code(parsed)
        refused = "the row is not read as an item" + (
            ", and the price in the other price column is not taken in its place" if instead else "")
        if code is not None and code.startswith(FORMULA_MARK):
            formula = f" ({code[:60]})" if len(code) > 1 else ""
            message = (
                f"The {label} cell holds a formula{formula} with no saved result (the program that wrote the file "
                f"never calculated it), so there is no price to read: {refused}. Open the file in Excel, let it "
                "recalculate, save, and send it again."
            )
        elif code is not None:
            message = (
                f"The {label} cell holds the Excel error {code}, not a price: {refused} "
                "(fix the formula or the value in the file)."
            )
        else:
            text = clean_text(self._cell(row, col))
            message = f"The {label} {text!r} cannot be read as a number ({parsed.error})."
            if instead:
                message += f" {refused[0].upper()}{refused[1:]}."
        return self._problem(row, "bad_price", message, column=col)

    def _check_marks(
        self, values: list[Any], parsed: list[tuple[Column, ParsedPrice]]
    ) -> list[tuple[Column, ParsedPrice]]:
        """``parsed`` with the amounts of undecided price columns whose reading depends on the decimal mark,
        where the column's values disagree, refused (``MARK_REASON``).

        A price column whose mark neither the supplier's setting nor its
        sampled values decided reads ``"12.345"`` by a guess (thousands
        separator unless the guess says decimal mark).  The values it shows
        are remembered as they come: a mark grouping thousands twice
        (``"1,234,567"``) or a mark with one or two decimals (``"12,50"``).
        When such a value tells the mark of a value like ``"12.345"`` the
        other way than its reading (``"1,234,567"`` says ``","`` groups
        thousands, so ``"."`` would be the decimal mark, while ``"12.345"``
        is read as 12345), the value is refused: one reading is a thousand
        times the other.
        """
        width = len(values)
        out = parsed
        for k, (c, p) in enumerate(parsed):
            seen = self._undecided.get(c.index)
            if seen is None or p.amount is None or c.index >= width:
                continue
            v = values[c.index]
            if type(v) is not str or ("," not in v and "." not in v):
                continue
            thousands, decimals = seen
            t = clean_text(v)
            g = GROUPED_NUMBER.search(t)
            if g is not None:
                thousands.setdefault(g.group(1), t[:40])
                continue
            m = _ONE_MARK.search(t)
            if m is None:
                d = _DECIMAL.search(t)
                if d is not None:
                    decimals.setdefault(d.group(1), t[:40])
                continue
            mark = m.group(1)
            other = "." if mark == "," else ","
            as_thousands = c.decimal_separator != mark
            if as_thousands:
                example = decimals.get(mark) or thousands.get(other)
            else:
                example = thousands.get(mark) or decimals.get(other)
            if example is None:
                continue
            as_decimal = parse_price(v, mark).amount
            grouped = parse_price(v, other).amount
            reason = (
                f"{MARK_REASON}: the column also holds {example!r}, so {t[:40]!r} may be {as_decimal} or {grouped}; "
                "the row is not read. Set the supplier's decimal separator, or write the amounts one way"
            )
            if out is parsed:
                out = list(parsed)
            out[k] = (c, ParsedPrice(error=reason, currency=p.currency))
        return out

    def _check_minor_units(
        self, row: RawRow, parsed: list[tuple[Column, ParsedPrice]]
    ) -> list[tuple[Column, ParsedPrice]]:
        """``parsed`` with each amount written in a minor unit of another currency than the row's refused.

        ``"50 коп."`` reads 0.50 RUB by its word; in a column, row or file of
        another currency (``Price, USD``, a ``Currency`` cell saying EUR, the
        supplier's default) the cell is not read: kopecks are not cents, and
        0.50 RUB stored for a USD item is wrong either way.  The refusal
        (:data:`MINOR_REASON`, doubtful: the row is refused even when another
        price column has an amount) names both currencies.  Kopecks in a
        column of hryvnias or Belarusian roubles are theirs
        (:data:`MINOR_UNIT_CURRENCIES`); a row naming no currency keeps the word's.
        """
        out = parsed
        for k, (c, p) in enumerate(parsed):
            if p.amount is None or p.currency is None:
                continue
            value = self._cell(row, c)
            implied = minor_unit_currency(value)
            if implied is None:
                continue
            other = self._currency(row, (c, p._replace(currency=None)))
            if other is None or other in MINOR_UNIT_CURRENCIES[implied]:
                continue
            reason = (
                f"{MINOR_REASON} of {implied} ({clean_text(value)[:40]!r}) but the row's currency is {other}: "
                f"write the amount in {other}, or the currency as {implied}"
            )
            if out is parsed:
                out = list(parsed)
            out[k] = (c, ParsedPrice(error=reason, currency=p.currency))
        return out

    def _no_price(self, row: RawRow, name: str, sku_raw: Any) -> list[Item | Problem]:
        """Rule 6 (and 8): a non-empty row with no amount, no "on request" and no unreadable price text."""
        texts = self._texts(row)
        unit = self._cell(row, self.unit_col)
        stock_vals = [self._cell(row, c) for c in self.stock_cols]
        sku = normalize_sku(sku_raw)
        has_stock = any(v is not None for v in stock_vals)
        if name and not sku and unit is None and not has_stock and NOTE_RE.search(name):
            return []  # a total or a note in the name column ("Итого позиций: 280"), not an item
        if name:
            if not self.has_prices:
                if sku or unit is not None or has_stock or len(texts) >= 2 and self._mapped_values(row) >= 2:
                    return self._item(row, name, [], [])
            elif unit is not None or has_stock or self._item_without_price(row, name, sku_raw, texts):
                out = self._item(row, name, [], [])
                out.append(
                    self._problem(row, "missing_price", "The item has no price.", level="warning",
                                  column=self.price_cols[0])
                )
                return out
        if not texts:
            return []
        if any(NOTE_RE.search(t) for t in texts):
            return []
        if len(texts) == 1 or (name and len(texts) <= 3 and self._sku_like(sku_raw) is not True):
            self._section(row, name or texts[0])
            return []
        return [
            self._problem(
                row,
                "unrecognized_row",
                "The row is neither an item nor a section, header or note, so it was not read; "
                "check the detected layout or map this supplier's columns.",
                level="warning",
            )
        ]

    def _is_note(self, texts: list[str]) -> bool:
        """A note/total/contact text in the row; a bare web address does not count (rule 8)."""
        return any(NOTE_RE.search(t) and not LINK_RE.match(t) for t in texts)

    def _sku_like(self, value: Any) -> bool | None:
        """Whether a SKU cell has the shape of the SKUs of this sheet's priced rows; ``None`` when unknown."""
        k = sku_class(value)
        if k is None:
            return False
        if self.layout.sku_classes is None:
            return None
        return k in self.layout.sku_classes

    def _item_without_price(self, row: RawRow, name: str, sku_raw: Any, texts: list[str]) -> bool:
        """Rule 6: a named row without price that is an item, not a section."""
        like = self._sku_like(sku_raw)
        if like is True:
            return True
        weak = like is None or self.layout.sku_evidence < SKU_EVIDENCE_ROWS
        if weak and sku_class(sku_raw) is not None and (len(texts) >= 3 or plain_code(sku_raw)):
            return True
        for col in (self.brand_col, self.desc_col, self.category_col):
            if col is None or self.name_col is None or col.index == self.name_col.index:
                continue
            other = clean_text(self._cell(row, col))
            if other and other != name:
                return True
        if len(texts) == 1 and self.name_col is not None and self.layout.section_cols:
            first = next(i for i, v in enumerate(row.values) if v is not None and clean_text(v))
            if first == self.name_col.index and all(c < self.name_col.index for c in self.layout.section_cols):
                return True
        return False

    def _variant_name(self, row: RawRow, parent: Item) -> str:
        """"Title (option values)" for a variant row of a product group (rule 7)."""
        opts: list[str] = []
        for i in self.layout.option_cols:
            v = clean_text(row.values[i]) if i < len(row.values) else ""
            if v and v not in opts:
                opts.append(v)
        return f"{parent.name} ({', '.join(opts)})" if opts else parent.name

    def _mapped_values(self, row: RawRow) -> int:
        n = 0
        for c in self.layout.columns:
            if c.role and c.role != "ignore" and c.index < len(row.values) and row.values[c.index] is not None:
                n += 1
        return n

    def _attributes(self, row: RawRow) -> dict[str, str]:
        """Values of the columns no role took (a size, a colour, a diameter), by column label.

        Cells beyond the header width count as such columns (label ``col<n>``).
        """
        out: dict[str, str] = {}
        values = row.values
        width = len(values)
        labels = self.layout.labels
        for i in self._unroled:
            if i >= width:
                break
            v = values[i]
            if v is not None:
                text = clean_text(v)
                if text:
                    out[labels[i]] = text[:200]
        for i in range(len(labels), width):
            v = values[i]
            if v is not None:
                text = clean_text(v)
                if text:
                    out[f"col{i + 1}"] = text[:200]
        return out

    def _name_parts(self, row: RawRow, name: str) -> tuple[str, ...]:
        """Values that qualify the name: cells of unroled columns under the name's own header
        (a merged "Номенклатура" over a size column) or with no header at all."""
        parts: list[str] = []
        for i in self._qualifier_cols:
            v = row.values[i] if i < len(row.values) else None
            text = clean_text(v) if v is not None else ""
            if text and text.casefold() != name.casefold() and text not in parts:
                parts.append(text[:100])
        return tuple(parts)

    def _item(
        self,
        row: RawRow,
        name: str,
        amounts: list[tuple[Column, ParsedPrice]],
        bad: list[tuple[Column, ParsedPrice]],
        inherit: Item | None = None,
    ) -> list[Item | Problem]:
        self._last_was_section = False
        keys = self._price_keys
        prices: dict[str, Decimal] = {}
        zeros: list[tuple[Column, ParsedPrice]] | None = None
        for c, p in amounts:
            given = p.amount
            assert given is not None
            if given < _HALF_CENT and given >= _ZERO:  # 0, "0,00", "0.001": no price (it would pull a minimum to 0)
                zeros = [(c, p)] if zeros is None else zeros + [(c, p)]
                continue
            prices[keys[c.index]] = given
        if zeros is not None:
            amounts = [cp for cp in amounts if cp not in zeros]
        chosen: tuple[Column, ParsedPrice] | None = None
        if len(amounts) == 1:
            chosen = amounts[0]  # every price column is in the choice order
        elif amounts:
            by_index = {c.index: (c, p) for c, p in amounts}
            for c in self._order:
                if c.index in by_index:
                    chosen = by_index[c.index]
                    break
        price = chosen[1].amount if chosen else None
        if chosen is None:
            currency = None
        elif chosen[1].currency:
            currency = chosen[1].currency
            if currency == "RUB" and kopecks_only(self._cell(row, chosen[0])):
                # "50 коп." in a column or file of hryvnias or Belarusian roubles: their kopecks
                other = self._currency(row, (chosen[0], chosen[1]._replace(currency=None)))
                if other in _KOPECK_CURRENCIES:
                    currency = other
        elif self.currency_col is None and (
            row.formats is None or chosen[0].index >= len(row.formats) or row.formats[chosen[0].index] is None
        ):
            currency = chosen[0].currency or self.default_currency  # what _currency comes to
        else:
            currency = self._currency(row, chosen)
        if currency is None and price is None:
            self.unpriced += 1
        values = row.values
        width = len(values)
        stock: Decimal | None = None
        available: bool | None = None
        for c in self.stock_cols:
            q, a = parse_stock(values[c.index] if c.index < width else None)
            if q is not None:
                stock = q if stock is None else stock + q
            if a is not None:
                available = a if available is None else (available or a)
        if stock is not None:
            available = stock > 0 or bool(available)
        category = clean_text(self._cell(row, self.category_col)) if self.category_col is not None else ""
        if self._path_of is not self.path:  # the path changes only at sections: its tuple is kept till then
            self._path_of, self._path_tuple = self.path, tuple(self.path)
        path = self._path_tuple
        if category:
            path = path + (category,) if not path or path[-1] != category else path
        elif inherit is not None:
            path = inherit.category_path
        brand = clean_text(self._cell(row, self.brand_col)) if self.brand_col is not None else ""
        description = clean_text(self._cell(row, self.desc_col))[:4000] if self.desc_col is not None else ""
        sku_col, unit_col = self.sku_col, self.unit_col
        item = Item(  # by position (cheaper than keywords): row, name, sheet, sku, price, prices, currency, unit,
            # stock, available, brand, category_path, description, page, raw, attributes, name_parts
            row.row,
            name,
            self.sheet,
            normalize_sku(values[sku_col.index] if sku_col is not None and sku_col.index < width else None),
            price,
            prices,
            currency,
            normalize_unit(values[unit_col.index] if unit_col is not None and unit_col.index < width else None),
            stock,
            available,
            brand or (inherit.brand if inherit else None),
            path,
            description or None,
            row.page,
            self.row_data(row),
            self._attributes(row) if self._unroled or width > len(self.layout.labels) else {},
            self._name_parts(row, name) if self._qualifier_cols else (),
        )
        self.items += 1
        if price is not None and _refused_by_store(item):
            self.unkept += 1  # the store refuses it (ingestion.checks): not an item with a price of the file's
        elif currency is None and price is not None:
            self.no_currency += 1
        out: list[Item | Problem] = [item]
        if zeros is not None:
            for c, p in zeros:
                text = cell_text(self._cell(row, c))
                rounded = "" if p.amount == 0 else " once rounded to two decimals"
                kept = "the item is kept without a price" if price is None else (
                    f"it is not taken for the item's price (the {self._kind_label(chosen[0])} is)" if chosen else "")
                out.append(self._problem(
                    row, "zero_price", f"The {self._kind_label(c)} {text!r} is zero{rounded}, not a price: {kept}.",
                    level="warning", column=c))
        for c, p in bad:
            code = excel_error_code(p)
            label = self._kind_label(c)
            if code is not None and code.startswith(FORMULA_MARK):
                message = (f"The {label} cell holds a formula with no saved result; it is not read (open the file "
                           "in Excel, let it recalculate, save, and send it again).")
            elif code is not None:
                message = f"The {label} cell holds the Excel error {code}; it is not read."
            else:
                text = cell_text(self._cell(row, c))
                message = f"The {label} {text!r} cannot be read ({p.error})."
            out.append(self._problem(row, "bad_price", message, level="warning", column=c))
        return out

    def _currency(self, row: RawRow, chosen: tuple[Column, ParsedPrice]) -> str | None:
        col, parsed = chosen
        if parsed.currency:
            return parsed.currency
        if self.currency_col is not None:
            cur_cell = self._cell(row, self.currency_col)
            if isinstance(cur_cell, str) and cur_cell.strip():
                code = iso_code(cur_cell)
                if code:
                    return code
        formats = row.formats
        if formats is not None and col.index < len(formats) and formats[col.index] is not None:
            code = currency_from_format(formats[col.index])
            if code:
                return code
        if col.currency:
            return col.currency
        return self.default_currency
