"""Layout detection: where the header is and which column plays which role.

Inputs are the first rows of one sheet (:class:`~ingestion.reading.source.RawRow`);
the output is a :class:`Layout` or ``None`` when no header row is found.

1. **Header row**: each of the first :data:`HEADER_SCAN_ROWS` rows is scored by
   the roles its short text cells name (:mod:`ingestion.reading.synonyms`);
   numeric cells count against it (headers are words).  The best row wins if
   it names at least two different roles (or the supplier's ``header_row``
   option says where it is).  Logo, contact and title blocks above it score
   nothing and are skipped.
1b. **Header without a name word** (``'' | '' | DN | Cena PLN``: the cell over
   the names is blank): when no row qualifies, a row of short words that
   names a price or SKU (and maybe other item roles, not the name) is still the
   header if the values below confirm it — its price columns hold amounts
   and an untitled column holds long, mostly distinct texts, which becomes
   the name (:func:`find_nameless_header`, the test :func:`infer_headerless`
   uses for names); an ``info`` problem ``name_from_values`` says so.
2. **Two-row headers**: when the next row holds only short words that name a
   role, a price kind ("опт", "розница", "netto") or a currency, it is a
   sub-header: each column's text becomes "parent child" and the child's own
   role wins when it has one ("Розничная" / "Ед." → unit).  Bare currency
   marks beside other text do not make a sub-header: "Кабель | руб." is an
   item row whose price cell names only the currency.
3. **Roles** come from the header words; the values below then settle what
   words cannot: among several "name" columns (a merged header cell) the one
   with the longest texts wins and a code-like neighbour becomes the SKU; a
   "price" column whose values are units ("шт") becomes the unit column; a
   sheet without a name header takes its description column or the column
   with the most text as the name.
4. **Number locale** per price column: the share of values written with a
   decimal comma vs. a decimal dot decides how ``"1,234"`` is read.
5. Supplier overrides (``column_mapping`` by header text or column letter)
   are applied last and always win.
6. **No header at all** (no row names two roles): the roles come from the
   values alone (:func:`infer_headerless`): a column of mostly prices →
   price, long lettered texts → name, short distinct codes → SKU, small
   whole numbers → stock; an ``info`` problem ``no_header`` says so.
7. **Product groups** (shop exports): a ``group`` column (a "Handle" header,
   or an unmapped column whose value repeats on the untitled rows under each
   titled row) ties variant and image rows to their product; columns named
   like an option ("Option1 Value", "Размер", "Farbe") name the variant.
8. **What the values teach the row classifier**: the shape classes of the SKUs
   of priced rows (:func:`sku_class`) and the columns in which text-only
   (section) rows start.
9. **Ambiguous number locale**: when a price column's text values are all
   like ``"1,234"``/``"1.500"`` (a single separator before three digits), the
   file's language and currency choose the decimal mark (DESIGN §9: flag the
   ambiguous ones) and an ``info`` problem ``ambiguous_number_locale`` says so.
   Each price column also keeps the marks its sampled values show as a
   thousands separator (``"1,234,567"``) or a decimal mark (``"12,50"``);
   the row interpreter refuses a value the guess would read against them.
   The marks (not the roles) are counted over every row the reader holds
   when the layout is detected, also those past the value sample (up to
   :data:`HEADER_SCAN_ROWS` more), so values above and below such evidence
   are judged alike; evidence further down is seen only from where it stands.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Iterable

import attrs

from ingestion.errors import Problem
from ingestion.reading.currency import currency_from_text, iso_code
from ingestion.reading.model import ReadOptions
from ingestion.reading.normalize import (
    CellValue,
    clean_text,
    is_number,
    looks_like_unit,
    parse_price,
    price_like,
)
from ingestion.reading.source import RawRow
from ingestion.reading.synonyms import (
    OPTION_RE,
    currency_only_header,
    header_role,
    norm_header,
    price_kind,
)

HEADER_SCAN_ROWS = 60
VALUE_SAMPLE_ROWS = 300
#: Priced rows with a SKU needed before the SKU shapes they show are trusted to tell items from sections.
SKU_EVIDENCE_ROWS = 5
SINGLE_ROLES = ("sku", "name", "currency", "unit", "brand", "category", "description", "group")
#: Decimal mark of prices by currency, used only when a column's values cannot tell.
_DOT_CURRENCIES = frozenset("USD GBP CHF CNY JPY CAD AUD".split())
_COMMA_CURRENCIES = frozenset("RUB UAH BYN KZT PLN EUR BGN CZK HUF RON MDL GEL SEK NOK DKK TRY".split())
_ROLE_BONUS = {"name": 3, "price": 3, "sku": 2}


def column_letter(index: int) -> str:
    """0-based column index → spreadsheet letter (0 → ``A``, 26 → ``AA``)."""
    s = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        s = chr(65 + rem) + s
    return s


@attrs.define
class Column:
    """One column as detection sees it: header text, role, price kind and header currency."""

    index: int
    header: str
    role: str | None = None
    weight: int = 0
    kind: str | None = None
    currency: str | None = None
    decimal_separator: str | None = None
    #: True when the column's own values decided its decimal mark (worth remembering).
    locale_from_values: bool = False
    #: Marks the sampled values use as a thousands separator ("1,234,567": ``","``) → such a value.
    thousands_marks: dict[str, str] = attrs.field(factory=dict)
    #: Marks the sampled values use as a decimal mark ("12,50": ``","``) → such a value.
    decimal_marks: dict[str, str] = attrs.field(factory=dict)

    @property
    def label(self) -> str:
        """Header text, or the column letter when the header cell is empty."""
        return self.header or column_letter(self.index)


@attrs.define
class Layout:
    """What detection decided for one sheet.

    ``header_rows`` are 1-based; ``columns`` lists every column of the header
    width; ``labels`` are unique display names (header text or letter) used as
    keys of raw row data; ``currency`` is the sheet-wide currency from the
    price headers or options, ``None`` when unknown.
    """

    header_rows: list[int]
    columns: list[Column]
    labels: list[str]
    currency: str | None = None
    notes: list[str] = attrs.field(factory=list)
    #: typed findings for the sheet (``no_header``, ``ambiguous_number_locale``); ``sheet`` unset
    findings: list[Problem] = attrs.field(factory=list)
    #: indices of columns naming a variant's options (see module docstring, 7)
    option_cols: list[int] = attrs.field(factory=list)
    #: shape classes of the SKUs of priced sample rows; ``None`` when no priced row has a SKU
    sku_classes: frozenset[tuple[bool, bool, bool]] | None = None
    #: how many priced sample rows had a SKU (below :data:`SKU_EVIDENCE_ROWS` the classes are a weak hint)
    sku_evidence: int = 0
    #: columns in which the sample's text-only rows (sections) start
    section_cols: frozenset[int] = frozenset()

    def role_columns(self, role: str) -> list[Column]:
        """Columns with ``role``, left to right."""
        return [c for c in self.columns if c.role == role]

    def first(self, role: str) -> Column | None:
        """The column with ``role`` (single-valued roles), or ``None``."""
        cols = self.role_columns(role)
        return cols[0] if cols else None

    @property
    def last_header_row(self) -> int:
        return self.header_rows[-1] if self.header_rows else 0

    def decimal_separators(self) -> dict[str, str]:
        """Column label → decimal mark, for the price columns whose own values decided it."""
        return {
            label: c.decimal_separator
            for c, label in zip(self.columns, self.labels)
            if c.role == "price" and c.locale_from_values and c.decimal_separator
        }

    def mapping(self) -> dict[str, str]:
        """Column label → role (``price:<kind>`` for prices) for reports."""
        out = {}
        for c, label in zip(self.columns, self.labels):
            if c.role and c.role != "ignore":
                out[label] = f"price:{c.kind}" if c.role == "price" and c.kind else c.role
        return out


# ---------------------------------------------------------------- header row
def _short_text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    t = clean_text(value)
    return t if t and len(t) <= 60 else None


def score_header_row(row: RawRow) -> tuple[float, set[str]]:
    """How much a row looks like a header: role weights found, minus numeric cells."""
    roles: dict[str, int] = {}
    numbers = 0
    texts = 0
    for v in row.values:
        if v is None:
            continue
        if is_number(v):
            numbers += 1
            continue
        t = _short_text(v)
        if t is None:
            continue
        texts += 1
        role, w = header_role(t)
        if role and role != "ignore" and w > roles.get(role, 0):
            roles[role] = w
    if not roles:
        return 0.0, set()
    score = float(sum(min(w, 4) + _ROLE_BONUS.get(r, 0) for r, w in roles.items()))
    score -= 3 * numbers
    return score, set(roles)


def find_header_row(rows: list[RawRow]) -> int | None:
    """Index (into ``rows``) of the best header row, or ``None`` when no row qualifies."""
    best, best_score = None, 0.0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score, roles = score_header_row(row)
        if len(roles) < 2 or not roles & {"name", "price", "sku"}:
            continue
        if score > best_score:
            best, best_score = i, score
    return best


#: Roles a header row may name without naming the name column (step 1b).
_NAMELESS_ROLES = frozenset({"price", "sku", "unit", "stock", "currency", "brand", "category"})


def find_nameless_header(rows: list[RawRow]) -> tuple[int, int] | None:
    """A header row that names a price but no name column, and the name column below it (step 1b).

    For headers like ``'' | '' | DN | Cena PLN`` whose cell over the names is
    blank.  A candidate row names a price or a SKU (and maybe other item
    roles, never ``name``) in at least two short text cells and holds no
    number.  It is kept only when the values below confirm it: every price
    column it names (when it names none: the first column under a blank
    header cell) reads as amounts in four of five filled cells (at least
    three), and a
    column whose header cell names no role holds what
    :func:`infer_headerless` takes for names — filled on half the rows or
    more, mostly lettered texts of eight characters or more on average, and
    mostly distinct (half or more of the values differ).  Returns
    ``(index into rows, name column index)`` of the best-scoring such row,
    or ``None``.
    """
    best: tuple[int, int] | None = None
    best_score = 0.0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score, roles = score_header_row(row)
        if not roles & {"price", "sku"} or not roles <= _NAMELESS_ROLES or score <= best_score:
            continue
        texts = [v for v in row.values if _short_text(v)]
        if len(texts) < 2 or any(is_number(v) for v in row.values):
            continue
        below = [r for r in rows[i + 1 : i + 1 + VALUE_SAMPLE_ROWS] if any(v is not None for v in r.values)]
        if len(below) < 3:
            continue
        width = max(len(row.values), max(len(r.values) for r in below))
        stats = _column_stats(below, width)
        head_roles: list[str | None] = []
        for j in range(width):
            t = _short_text(row.values[j]) if j < len(row.values) else None
            head_roles.append(header_role(t)[0] if t else None)
        price_idx = [j for j, r in enumerate(head_roles) if r == "price"]
        if not price_idx:
            # a SKU header over codes, prices under a blank cell: _resolve takes the first such column
            price_idx = [
                j for j in range(width)
                if head_roles[j] is None and not (j < len(row.values) and _short_text(row.values[j]))
                and stats[j].filled >= 3 and _price_fit(stats[j]) >= 0.8
            ][:1]
            if not price_idx:
                continue
        if not all(stats[j].filled >= 3 and _price_fit(stats[j]) >= 0.8 for j in price_idx):
            continue
        pool: list[int] = []
        for j in range(width):
            s = stats[j]
            if head_roles[j] not in (None, "ignore") or j in price_idx or s.filled * 2 < len(below) or not s.texts:
                continue
            if s.text_len / s.texts < 8 or s.lettered * 10 < s.filled * 6:
                continue
            values = {clean_text(r.values[j]) for r in below if j < len(r.values) and r.values[j] is not None}
            if len(values) * 2 < s.filled:
                continue
            pool.append(j)
        if pool:
            best = (i, max(pool, key=lambda j: (_name_fit(stats[j]), -j)))
            best_score = score
    return best


def _is_subheader(row: RawRow, header: RawRow) -> bool:
    """A row right under the header holding only short role/kind/currency words.

    Bare currency marks alone do not make a sub-header of a row that also
    holds other text: "Кабель ВВГ | руб." is an item whose price cell names
    only the currency.
    """
    hits = 0
    seen = 0
    bare = 0  # hits that are only a currency mark
    for i, v in enumerate(row.values):
        if v is None:
            continue
        if not isinstance(v, str):
            return False
        t = clean_text(v)
        if not t:
            continue
        if len(t) > 40 or parse_price(t).amount is not None:
            return False
        seen += 1
        role, _ = header_role(t)
        hv = header.values[i] if i < len(header.values) else None
        if (role and role != "ignore") or price_kind(t) != "price" or currency_from_text(t):
            hits += 1
            bare += currency_only_header(t)
        elif isinstance(hv, str) and clean_text(hv) == t:
            hits += 1
    if seen == 1:
        # one word under a filled header cell is a section row ("Кабели"), not a sub-header,
        # unless it sits under an empty or merged (repeated) header cell
        i = next(i for i, v in enumerate(row.values) if v is not None and clean_text(v))
        hv = clean_text(header.values[i]) if i < len(header.values) else ""
        neighbours = {clean_text(header.values[j]) for j in (i - 1, i + 1) if 0 <= j < len(header.values)}
        if hv and hv not in neighbours:
            return False
    if bare == hits < seen:
        return False
    return seen > 0 and hits >= max(1, (seen + 1) // 2)


def _combine(parent: str, child: str) -> tuple[str, str | None, int]:
    """Header text of a two-row header column and its role (child's role first)."""
    if not child or child == parent:
        role, w = header_role(parent)
        return parent, role, w
    if not parent:
        role, w = header_role(child)
        return child, role, w
    text = f"{parent} {child}"
    c_role, c_w = header_role(child)
    if c_role and c_w >= 2:
        return text, c_role, c_w
    role, w = header_role(text)
    return text, role, w


# ---------------------------------------------------------------- value fits
@attrs.define
class _Stats:
    filled: int = 0
    numbers: int = 0
    texts: int = 0
    text_len: int = 0
    lettered: int = 0
    prices: int = 0
    units: int = 0
    codes: int = 0
    comma_dec: int = 0
    dot_dec: int = 0
    ambiguous: int = 0
    #: mark → a value using it as a thousands separator more than once ("1,234,567")
    grouped: dict[str, str] | None = None
    #: mark → a value using it as a decimal mark ("12,50", "1.234,5")
    decimal: dict[str, str] | None = None


_CODE = re.compile(r"^[#№]?\s*[\w./\-]{1,24}$")
_DEC_COMMA = re.compile(r"\d,\d{1,2}(?!\d)|\d\.\d{3},\d")
_DEC_DOT = re.compile(r"\d\.\d{1,2}(?!\d)|\d,\d{3}\.\d")
_AMBIGUOUS = re.compile(r"(?<![\d.,])\d{1,3}[.,]\d{3}(?![\d.,])")
#: A number grouped by threes with the same mark at least twice ("1,234,567", "1.234.567"): that mark is a
#: thousands separator.  Group 1: the mark.
GROUPED_NUMBER = re.compile(r"(?<![\d.,])\d{1,3}([.,])\d{3}\1\d{3}(?!\d)")


def _column_stats(rows: Iterable[RawRow], width: int) -> list[_Stats]:
    stats = [_Stats() for _ in range(width)]
    for row in rows:
        for i, v in enumerate(row.values[:width]):
            if v is None:
                continue
            s = stats[i]
            s.filled += 1
            if is_number(v):
                s.numbers += 1
                s.prices += 1
                s.codes += 1
                continue
            t = clean_text(v)
            if not t:
                continue
            s.texts += 1
            s.text_len += min(len(t), 200)
            if re.search(r"[^\W\d_]{2}", t):
                s.lettered += 1
            if price_like(t):
                s.prices += 1
            if looks_like_unit(t):
                s.units += 1
            if _CODE.match(t) and any(ch.isdigit() for ch in t):
                s.codes += 1
            if "," in t or "." in t:
                _count_marks(s, t)
    return stats


def _count_marks(s: _Stats, t: str) -> None:
    """Add what the cleaned text ``t`` (holding ``","`` or ``"."``) shows of its decimal mark to ``s``: a decimal
    comma or dot (``"12,50"``, ``"1.234,5"``), a value either mark would read (``"1.234"``), a mark grouping
    thousands twice (``"1,234,567"``)."""
    if _DEC_COMMA.search(t):
        s.comma_dec += 1
        s.decimal = s.decimal or {}
        s.decimal.setdefault(",", t[:40])
    elif _DEC_DOT.search(t):
        s.dot_dec += 1
        s.decimal = s.decimal or {}
        s.decimal.setdefault(".", t[:40])
    elif _AMBIGUOUS.search(t):
        s.ambiguous += 1
    if (g := GROUPED_NUMBER.search(t)) is not None:
        s.grouped = s.grouped or {}
        s.grouped.setdefault(g.group(1), t[:40])


def _add_held_marks(stats: list[_Stats], rows: list[RawRow], columns: list[Column]) -> None:
    """Add to the price columns' ``stats`` the marks of ``rows``: the rows the caller holds past the value
    sample (at most :data:`HEADER_SCAN_ROWS`), so that a value above a later ``"1.234,50"`` is read by the same
    evidence as one below it.  Only the mark counts change; the columns' roles were chosen on the sample."""
    prices = [c.index for c in columns if c.role == "price" and c.index < len(stats)]
    if not prices or not rows:
        return
    for row in rows:
        values = row.values
        for i in prices:
            v = values[i] if i < len(values) else None
            if type(v) is not str or ("," not in v and "." not in v):
                continue
            t = clean_text(v)
            if t:
                _count_marks(stats[i], t)


def _name_fit(s: _Stats) -> float:
    if s.filled == 0:
        return 0.0
    avg = s.text_len / max(s.texts, 1)
    return (s.lettered / s.filled) * min(avg, 20) / 20 * min(s.filled, 5) / 5 + min(avg, 80) / 800


def _price_fit(s: _Stats) -> float:
    return s.prices / s.filled if s.filled else 0.0


# ---------------------------------------------------------------- detection
def detect_layout(rows: list[RawRow], options: ReadOptions = ReadOptions()) -> tuple[Layout, int] | None:
    """Find the header and column roles in the first rows of a sheet.

    Returns the layout and the index (into ``rows``) of the first row after the
    header, or ``None`` when no header row is found.  ``options.header_row``
    (1-based) forces the header row; ``options.column_mapping`` forces roles.
    """
    if not rows:
        return None
    name_from_values: int | None = None
    if options.header_row is not None:
        idx = next((i for i, r in enumerate(rows) if r.row == options.header_row), None)
        if idx is None:
            return None
    else:
        found = find_header_row(rows)
        if found is None:
            nameless = find_nameless_header(rows)
            if nameless is not None:
                found, name_from_values = nameless
        if found is None and not options.column_mapping:
            return infer_headerless(rows, options)
        idx = found if found is not None else 0
    header = rows[idx]
    header_rows = [header.row]
    width = max(len(header.values), max((len(r.values) for r in rows[idx : idx + VALUE_SAMPLE_ROWS]), default=0))
    parents = [clean_text(v) if isinstance(v, str) else clean_text(v) for v in header.values] + [""] * width
    parents = parents[:width]
    children = [""] * width
    data_idx = idx + 1
    if data_idx < len(rows) and rows[data_idx].row == header.row + 1 and _is_subheader(rows[data_idx], header):
        sub = rows[data_idx]
        children = [(clean_text(v) if v is not None else "") for v in sub.values] + [""] * width
        children = children[:width]
        header_rows.append(sub.row)
        data_idx += 1

    columns: list[Column] = []
    for i in range(width):
        text, role, weight = _combine(parents[i], children[i])
        col = Column(index=i, header=text, role=role, weight=weight)
        columns.append(col)

    sample = rows[data_idx : data_idx + VALUE_SAMPLE_ROWS]
    stats = _column_stats(sample, width)
    if name_from_values is not None and name_from_values < width:
        columns[name_from_values].role, columns[name_from_values].weight = "name", 1
    _resolve(columns, stats)
    notes: list[str] = []
    _apply_overrides(columns, options, notes)
    _add_held_marks(stats, rows[data_idx + VALUE_SAMPLE_ROWS:], columns)

    layout = _finish(columns, stats, sample, options, header_rows, notes)
    name_col = layout.first("name")
    if name_from_values is not None and name_col is not None and name_col.index == name_from_values:
        layout.findings.insert(0, Problem(
            type="name_from_values",
            level="info",
            column=layout.labels[name_col.index],
            message=(
                f"The header row {header.row} names no name column; column {column_letter(name_col.index)} "
                "was taken as the name from its values (long, mostly distinct texts). "
                "Map this supplier's columns if it is wrong."
            ),
        ))
    return layout, data_idx


def _finish(
    columns: list[Column],
    stats: list[_Stats],
    sample: list[RawRow],
    options: ReadOptions,
    header_rows: list[int],
    notes: list[str],
) -> Layout:
    """Price kinds, currencies, number locale, groups and what the values teach (steps 4, 7–9)."""
    for col in columns:
        if col.role == "price":
            col.kind = col.kind or price_kind(col.header)
            col.currency = currency_from_text(col.header)
    sheet_currency = next((c.currency for c in columns if c.role == "price" and c.currency), None)
    if sheet_currency is None and options.currency:
        sheet_currency = iso_code(options.currency)
    labels = _labels(columns)
    findings: list[Problem] = []
    for col in columns:
        if col.role != "price":
            continue
        s = stats[col.index]
        col.thousands_marks, col.decimal_marks = dict(s.grouped or {}), dict(s.decimal or {})
        remembered = options.column_decimal_separators.get(labels[col.index])
        if options.decimal_separator in (",", "."):
            col.decimal_separator = options.decimal_separator
        elif s.comma_dec > s.dot_dec:
            col.decimal_separator, col.locale_from_values = ",", True
        elif s.dot_dec > s.comma_dec:
            col.decimal_separator, col.locale_from_values = ".", True
        elif s.ambiguous:
            if remembered in (",", "."):
                sep, why = remembered, "as in the supplier's earlier lists, where the values told"
            else:
                sep, why = locale_decimal(col.currency or sheet_currency, _language_texts(columns, sample))
            col.decimal_separator = sep
            findings.append(Problem(
                type="ambiguous_number_locale",
                level="info",
                column=labels[col.index],
                message=(
                    f"Every number in the price column {labels[col.index]!r} reads either way (\"1,234\" / \"1.500\"); "
                    f"{sep!r} is taken as the decimal mark ({why}). Set decimal_separator for this supplier if it is wrong."
                ),
            ))
    if not any(c.role == "price" for c in columns):
        notes.append("no price column found: items are read without prices")
    if not any(c.role == "group" for c in columns):
        _find_group(columns, sample)
    option_cols = [
        c.index for c in columns
        if c.role is None and c.header and OPTION_RE.search(norm_header(c.header))
    ] if any(c.role == "group" for c in columns) else []
    sku_classes, sku_evidence, section_cols = _learn_rows(columns, sample)
    return Layout(
        header_rows=header_rows,
        columns=columns,
        labels=labels,
        currency=sheet_currency,
        notes=notes,
        findings=findings,
        option_cols=option_cols,
        sku_classes=sku_classes,
        sku_evidence=sku_evidence,
        section_cols=section_cols,
    )


_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_COMMA_LANG = re.compile(r"[ąćęłńśźżäöüßñáéíóúčřšžě]", re.IGNORECASE)


def locale_decimal(currency: str | None, texts: Iterable[str]) -> tuple[str, str]:
    """Decimal mark (``","`` or ``"."``) for numbers that cannot tell, and why.

    The currency decides first (USD, GBP, CHF, CNY, JPY, CAD, AUD → ``"."``;
    RUB, UAH, EUR, PLN and the other European ones → ``","``); then the file's
    language: Cyrillic text or Polish/German/Czech/Spanish letters → ``","``;
    otherwise ``"."`` (English).
    """
    if currency in _DOT_CURRENCIES:
        return ".", f"currency {currency}"
    if currency in _COMMA_CURRENCIES:
        return ",", f"currency {currency}"
    joined = " ".join(texts)
    if _CYRILLIC.search(joined):
        return ",", "Cyrillic text"
    if _COMMA_LANG.search(joined):
        return ",", "European-language text"
    return ".", "English or unknown language"


def _language_texts(columns: list[Column], sample: list[RawRow]) -> list[str]:
    out = [c.header for c in columns if c.header]
    for row in sample[:50]:
        out.extend(v for v in row.values if isinstance(v, str))
    return out


def sku_class(value: CellValue) -> tuple[bool, bool, bool] | None:
    """Shape class of a code-like cell: (has a digit, has a letter, has an inner space).

    ``None`` when the value is empty or reads as prose rather than a code
    (longer than 40 characters or more than two spaces).  Whole numbers are
    ``(True, False, False)``.
    """
    if value is None or isinstance(value, bool):
        return None
    if is_number(value):
        return (True, False, False)
    t = clean_text(value).lstrip("#№").strip()
    if not t or len(t) > 40 or t.count(" ") > 2:
        return None
    digit = any(ch.isdigit() for ch in t)
    letter = bool(re.search(r"[^\W\d_]", t))
    if not digit and not letter:
        return None
    return (digit, letter, " " in t)


def _learn_rows(
    columns: list[Column], sample: list[RawRow]
) -> tuple[frozenset[tuple[bool, bool, bool]] | None, int, frozenset[int]]:
    """What the sample teaches the row classifier (step 8).

    Returns the shape classes (:func:`sku_class`) of the SKUs of priced rows
    (``None`` when no priced row has a SKU; with :data:`SKU_EVIDENCE_ROWS` or
    more such rows, shapes seen on fewer than one in twenty are dropped as
    noise), the number of priced rows with a SKU, and the columns in which
    two or more text-only rows start (section rows).
    """
    sku = next((c for c in columns if c.role == "sku"), None)
    prices = [c for c in columns if c.role == "price"]
    classes: Counter[tuple[bool, bool, bool]] = Counter()
    starts: Counter[int] = Counter()
    for row in sample:
        vals = row.values
        priced = any(
            c.index < len(vals) and parse_price(vals[c.index], c.decimal_separator).amount is not None for c in prices
        )
        if priced and sku is not None and sku.index < len(vals):
            k = sku_class(vals[sku.index])
            if k is not None:
                classes[k] += 1
        if not priced and not any(is_number(v) for v in vals):
            texts = {clean_text(v) for v in vals if v is not None} - {""}
            if len(texts) == 1:
                starts[next(i for i, v in enumerate(vals) if v is not None and clean_text(v))] += 1
    total = sum(classes.values())
    if total == 0:
        sku_classes = None
    elif total >= SKU_EVIDENCE_ROWS:
        sku_classes = frozenset(k for k, n in classes.items() if n >= max(1, total // 20))
    else:
        sku_classes = frozenset(classes)  # few examples: every shape seen counts
    section_cols = frozenset(i for i, n in starts.items() if n >= 2)
    return sku_classes, total, section_cols


def _find_group(columns: list[Column], sample: list[RawRow]) -> None:
    """Mark an unmapped column as ``group`` when its value ties untitled rows to the titled row above.

    The column must be filled on (nearly) every row, hold a distinct value on
    (nearly) every titled row, and repeat the last titled row's value on at
    least two untitled rows (and on nine in ten of those that have it).
    """
    name = next((c for c in columns if c.role == "name"), None)
    if name is None:
        return
    for col in columns:
        if col.role is not None or col.index == name.index:
            continue
        filled = titled = nameless = follows = 0
        seen: set[str] = set()
        current: str | None = None
        for row in sample:
            vals = row.values
            v = clean_text(vals[col.index]) if col.index < len(vals) and isinstance(vals[col.index], str) else ""
            n = clean_text(vals[name.index]) if name.index < len(vals) else ""
            if not any(x is not None for x in vals):
                continue
            if v:
                filled += 1
            if n:
                titled += 1
                if v:
                    seen.add(v)
                current = v or None
            elif v:
                nameless += 1
                if v == current:
                    follows += 1
        rows = sum(1 for r in sample if any(x is not None for x in r.values))
        if (
            follows >= 2
            and follows * 10 >= nameless * 9
            and rows and filled * 10 >= rows * 9
            and titled >= 2 and len(seen) * 10 >= titled * 9
        ):
            col.role = "group"
            return


def _labels(columns: list[Column]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in columns:
        label = c.label
        if label in seen:
            seen[label] += 1
            label = f"{label} ({column_letter(c.index)})"
        else:
            seen[label] = 1
        out.append(label)
    return out


def _resolve(columns: list[Column], stats: list[_Stats]) -> None:
    """Settle duplicate roles and fill missing ones from the values (see module docstring)."""
    header_count: dict[str, int] = {}
    for c in columns:
        if c.header:
            header_count[c.header] = header_count.get(c.header, 0) + 1
    spare: list[Column] = []  # columns whose role may be re-read from their values

    # price columns whose values are not prices (a merged price header over a unit column)
    prices = [c for c in columns if c.role == "price"]
    if prices:
        for c in prices:
            s = stats[c.index]
            if s.filled >= 3 and _price_fit(s) < 0.2 and (
                header_count.get(c.header, 0) > 1 or any(_price_fit(stats[o.index]) >= 0.5 for o in prices if o is not c)
            ):
                c.role = None
                spare.append(c)

    for role in SINGLE_ROLES:
        cands = [c for c in columns if c.role == role]
        if len(cands) <= 1:
            if cands and role == "name" and stats[cands[0].index].filled == 0 and header_count.get(cands[0].header, 0) > 1:
                pass
            continue
        top = max(c.weight for c in cands)
        best_pool = [c for c in cands if c.weight == top]
        if role == "name":
            winner = max(best_pool, key=lambda c: (_name_fit(stats[c.index]), -c.index))
        else:
            winner = max(best_pool, key=lambda c: (stats[c.index].filled > 0, -c.index))
        for c in cands:
            if c is not winner:
                c.role = None
                if header_count.get(c.header, 0) > 1:
                    spare.append(c)
    spare.extend(c for c in columns if c.role is None and not c.header)

    def has(role: str) -> bool:
        return any(c.role == role for c in columns)

    name_col = next((c for c in columns if c.role == "name"), None)
    if name_col is not None and _name_fit(stats[name_col.index]) == 0.0:
        # the name header sits over an empty column (merged header); move it right
        better = [
            c for c in spare + [c for c in columns if c.role is None]
            if c.index > name_col.index and _name_fit(stats[c.index]) > 0.2
        ]
        if better:
            target = min(better, key=lambda c: c.index)
            target.role, target.weight = "name", name_col.weight
            name_col.role = None
            name_col = target

    for c in sorted(spare, key=lambda c: c.index):
        if c.role is not None:
            continue
        s = stats[c.index]
        if s.filled < 2:
            continue
        if not has("unit") and s.units / s.filled >= 0.6:
            c.role = "unit"
        elif (
            not has("sku")
            and name_col is not None
            and c.index < name_col.index
            and s.codes / s.filled >= 0.7
        ):
            c.role = "sku"
        elif not has("name") and _name_fit(s) > 0.2:
            c.role = "name"
            name_col = c

    if not has("name"):
        desc = next((c for c in columns if c.role == "description"), None)
        if desc is not None:
            desc.role = "name"
        else:
            pool = [c for c in columns if c.role is None and _name_fit(stats[c.index]) > 0.2]
            if pool:
                best = max(pool, key=lambda c: _name_fit(stats[c.index]))
                best.role = "name"
    if not has("price"):
        pool = [
            c for c in columns
            if c.role is None and not c.header and stats[c.index].filled >= 3 and _price_fit(stats[c.index]) >= 0.8
        ]
        if pool:
            pool[0].role = "price"


def _apply_overrides(columns: list[Column], options: ReadOptions, notes: list[str]) -> None:
    if not options.column_mapping:
        return
    by_letter = {column_letter(c.index): c for c in columns}
    by_text = {norm_header(c.header): c for c in columns if c.header}
    for key, target in options.column_mapping.items():
        col = by_letter.get(key.strip().upper()) or by_text.get(norm_header(key))
        if col is None:
            notes.append(f"column_mapping: no column {key!r} in the header")
            continue
        role, _, kind = target.partition(":")
        if role in SINGLE_ROLES:
            for other in columns:
                if other.role == role and other is not col:
                    other.role = None
        col.role = role or None
        col.weight = 99
        col.kind = kind or ("price" if role == "price" else None)


_NUMERIC_TEXT = re.compile(r"^[\s\d.,'\u00a0-]+$")


def header_like(row: RawRow, layout: "Layout") -> bool:
    """A repeated header (or sub-header) inside the data.

    The row must repeat the sheet's own header: at least two of its cells (and
    at least half of its non-empty cells) are words of that column's header
    label, and no cell holds a number.  Synonym words alone are not enough:
    an item named "Товар без цены" is not a header.
    """
    hits = filled = 0
    for i, v in enumerate(row.values):
        if v is None:
            continue
        if is_number(v):
            return False
        text = str(v).strip()
        if not text:
            continue
        if _NUMERIC_TEXT.match(text):
            return False
        filled += 1
        label = layout.labels[i].casefold() if i < len(layout.labels) else ""
        t = " ".join(text.casefold().split())
        if len(t) >= 2 and t in " ".join(label.split()):
            hits += 1
    return hits >= 2 and hits * 2 >= filled


# ---------------------------------------------------------------- no header
def _numbers(values: Iterable[CellValue]) -> list[float]:
    out: list[float] = []
    for v in values:
        if v is None:
            continue
        if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
            out.append(float(v))
            continue
        p = parse_price(v)
        if p.amount is not None:
            out.append(float(p.amount))
    return out


def _is_counter(nums: list[float]) -> bool:
    """A running row number ("№ п/п"): nearly every step is +1."""
    if len(nums) < 3:
        return False
    steps = sum(1 for a, b in zip(nums, nums[1:]) if b - a == 1)
    return steps * 10 >= (len(nums) - 1) * 8


def infer_headerless(rows: list[RawRow], options: ReadOptions = ReadOptions()) -> tuple[Layout, int] | None:
    """Column roles from the values alone, for a sheet with no header row (module docstring, 6).

    Needs a name column (mostly lettered texts, eight characters on average)
    and a price column (four in five cells read as amounts; running row
    numbers are not prices).  Among several number columns the one with
    fractions (else larger values) is the price and a column of small whole
    numbers is the stock; a column of short distinct codes is the SKU; unit
    words make the unit column.  A row of short texts right above the data
    means a header this module cannot read: then ``None`` (no guessing).
    Returns the layout (``header_rows`` empty, an ``info`` finding
    ``no_header``) and the index of the first data row, or ``None``.
    """
    sample = [r for r in rows[:VALUE_SAMPLE_ROWS] if any(v is not None for v in r.values)]
    if len(sample) < 2:
        return None
    widths = Counter(len([v for v in r.values]) - next((i for i, v in enumerate(reversed(r.values)) if v is not None), 0)
                     for r in sample)
    width = widths.most_common(1)[0][0]
    if width < 2:
        return None
    stats = _column_stats(sample, width)
    n_rows = len(sample)
    cols = [Column(index=i, header="") for i in range(width)]
    # name: the most "name-like" column of long lettered texts
    name_pool = [
        c for c in cols
        if stats[c.index].filled * 2 >= n_rows
        and stats[c.index].texts
        and stats[c.index].text_len / stats[c.index].texts >= 8
        and stats[c.index].lettered * 10 >= stats[c.index].filled * 6
    ]
    if not name_pool:
        return None
    name = max(name_pool, key=lambda c: _name_fit(stats[c.index]))
    name.role = "name"
    numeric: list[tuple[Column, list[float]]] = []
    for c in cols:
        s = stats[c.index]
        if c.role or s.filled * 2 < n_rows or _price_fit(s) < 0.8:
            continue
        nums = _numbers(r.values[c.index] if c.index < len(r.values) else None for r in sample)
        if nums and not _is_counter(nums):
            numeric.append((c, nums))
    if not numeric:
        return None

    def fraction_share(nums: list[float]) -> float:
        return sum(1 for x in nums if x != int(x)) / len(nums)

    price_col, price_nums = max(numeric, key=lambda cn: (fraction_share(cn[1]) > 0, sorted(cn[1])[len(cn[1]) // 2]))
    price_col.role = "price"
    for c, nums in numeric:
        if c.role:
            continue
        distinct = len(set(nums))
        if all(x == int(x) and 0 <= x < 100000 for x in nums) and distinct * 2 <= len(nums) + 1 and not any(
            o.role == "stock" for o in cols
        ):
            c.role = "stock"
        elif all(x == int(x) for x in nums) and distinct == len(nums) and min(nums) >= 1000 and not any(
            o.role == "sku" for o in cols
        ):
            c.role = "sku"
    for c in cols:
        s = stats[c.index]
        if c.role or not s.filled:
            continue
        if not any(o.role == "unit" for o in cols) and s.units * 10 >= s.filled * 6:
            c.role = "unit"
        elif (
            not any(o.role == "sku" for o in cols)
            and s.codes * 10 >= s.filled * 8
            and s.texts
            and s.text_len / max(s.texts, 1) <= 24
        ):
            vals = [clean_text(r.values[c.index]) for r in sample if c.index < len(r.values) and r.values[c.index] is not None]
            if len(set(vals)) * 10 >= len(vals) * 9:
                c.role = "sku"
    # where the data starts: the first row with a name and a price
    start = next(
        (
            i for i, r in enumerate(rows)
            if name.index < len(r.values) and isinstance(r.values[name.index], str)
            and price_col.index < len(r.values) and parse_price(r.values[price_col.index]).amount is not None
        ),
        None,
    )
    if start is None:
        return None
    if start > 0:
        above = rows[start - 1]
        shorts = [v for v in above.values if _short_text(v)]
        over_price = price_col.index < len(above.values) and isinstance(above.values[price_col.index], str)
        if len(shorts) >= 2 and over_price:
            return None  # a header in words this module does not know: do not guess
    notes: list[str] = []
    _apply_overrides(cols, options, notes)
    layout = _finish(cols, stats, sample, options, [], notes)
    roles = ", ".join(f"{label}={c.role}" for c, label in zip(cols, layout.labels) if c.role)
    layout.findings.insert(0, Problem(
        type="no_header",
        level="info",
        message=f"No header row was found; column roles were inferred from the values ({roles}).",
    ))
    return layout, start


# ---------------------------------------------------------------- side by side
def split_blocks(rows: list[RawRow], layout: Layout) -> list[tuple[int, int]]:
    """Column ranges ``[lo, hi)`` of tables placed side by side on one sheet.

    Two or more blocks whose headers repeat the same roles (each with a name
    and a price or SKU), separated by a column that is empty in the header
    and in the sampled rows, are read as separate tables.  ``[]`` when the
    sheet holds one table.  ``rows`` are the buffered first rows of the sheet.
    """
    if not layout.header_rows:
        return []
    width = len(layout.columns)
    last = layout.last_header_row
    data = [r for r in rows if r.row > last][:VALUE_SAMPLE_ROWS]
    header_filled = [bool(c.header) for c in layout.columns]

    def empty(i: int) -> bool:
        return not header_filled[i] and all(i >= len(r.values) or r.values[i] is None for r in data)

    blocks: list[tuple[int, int]] = []
    lo: int | None = None
    for i in range(width + 1):
        if i == width or empty(i):
            if lo is not None:
                blocks.append((lo, i))
                lo = None
        elif lo is None:
            lo = i
    if len(blocks) < 2:
        return []

    def roles(b: tuple[int, int]) -> list[str]:
        out = []
        for c in layout.columns[b[0]:b[1]]:
            role, _ = header_role(c.header) if c.header else (None, 0)
            if role and role != "ignore":
                out.append(role)
        return out

    keep = [b for b in blocks if "name" in roles(b) and {"price", "sku"} & set(roles(b))]
    if len(keep) < 2 or len({tuple(sorted(set(roles(b)))) for b in keep}) != 1:
        return []
    return keep
