"""The catalog index: normalised products plus inverted indexes for candidate blocking.

:class:`Catalog` is built once from products and grows with :meth:`Catalog.add`
(amortised O(tokens of the product); no rebuild).  Token weights are inverse
document frequencies computed from the live counts; each product's total weight
(its "norm") is computed when it is added, and every norm again each time the
catalog has grown by more than :data:`NORM_REFRESH_GROWTH` since the last refresh
(so a run adding products one by one stays linear, and a norm depends only on the
catalog's history, not on which rows happened to be scored).

Everything the scorer reads of one side that does not depend on the rest of the
catalog (long words, code candidates, code tokens, colours, attributes, bare numbers) is
computed once, by :func:`prepare`, and kept on the :class:`Entry`; which of a
product's codes are specific (depends on counts) is cached per row and reset when a
count crosses the limit (:meth:`Catalog.row_specific_codes`).  Scoring a pair is then
set operations and dictionary look-ups.
"""

from __future__ import annotations

import math
from decimal import Decimal
import re
from array import array
from collections import Counter
from functools import lru_cache
from typing import Iterable

import attrs
import numpy as np

from ingestion.matching.brands import _ALIAS_RE, canonical_brand, name_brands
from ingestion.matching.normalize import (
    _UNIT_RE,
    COLOURS,
    CURVE_LETTERS,
    VARIANT_MARK,
    NormalizedName,
    code_core,
    normalize_name,
    normalize_uncached,
    shared,
)
from ingestion.matching.records import Item, Product

__all__ = [
    "Catalog", "Entry", "CODE_WEIGHT", "NORM_REFRESH_GROWTH", "prepare", "as_product", "attribute_groups", "sorted_text",
    "record_fields",
]

#: Weight multiplier of a model number / code over a word of the same rarity.
CODE_WEIGHT = 2.5
#: Relative catalog growth after which cached product norms are recomputed.
NORM_REFRESH_GROWTH = 0.10

_NONE: frozenset[str] = frozenset()
#: Storage units compared on one scale, in GB (as devices are sold: 1 TB = 1000 GB).
_TO_GB = {"tb": Decimal(1000), "mb": Decimal("0.001")}

#: "6disc", "24port", "2line": a number glued to a word of 3+ letters (the word decides, see scoring).
_NUMBER_WORD = re.compile(r"^(?:\d+([a-z]{3,})|([a-z]{3,})\d+)$")
_UNIT_SPLIT = re.compile(r"^(\d+(?:\.\d+)?)([a-z]+)$")
#: A short code that names a rating or a variant, not a model (matching trial: "S201 C6" was linked to
#: "S201 C10"): 1–3 letters then 1–3 digits ("c16", "ip44", "s201", "a60"), or 1–3 digits then 1–2 letters ("3p").
_SHORT_LETTERS_FIRST = re.compile(r"^([^\W\d_]{1,3})(\d{1,3})$")
_SHORT_DIGITS_FIRST = re.compile(r"^(\d{1,3})([^\W\d_]{1,2})$")
#: Circuit-breaker trip curves (IEC 60898: B, C, D; also K, Z): "c16" and "b16" differ in the letter.
_CURVE_LETTERS = CURVE_LETTERS
_IP = re.compile(r"^ip[0-9x][0-9x]$")
#: A model series of letters then digits, longer than a short code (matching trial: "ВА47-63" was
#: linked where "ВА47-29" was meant; the dash is gone from the key): 1–3 letters and 4 digits
#: ("ba4729"), or 4 letters and 2–4 digits.  Two names with a series of the same letters and the
#: same number of digits, and no value in common, name different series.
_SERIES = re.compile(r"^(?:([^\W\d_]{1,3})(\d{4})|([^\W\d_]{4})(\d{2,4}))$")
#: The longest code token an attribute can come from (a series: 4 letters + 4 digits).
_ATTRIBUTE_CODE_LEN = 8
#: A SKU of ASCII letter/digit groups joined by single dashes, starting with a letter (see _sku_key).
_PLAIN_SKU = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
_ANY_DIGIT = re.compile(r"[0-9]")


@attrs.frozen
class Entry:
    """A product or item after normalisation: what the scorer reads.

    ``codes`` include the normalised SKU key when one is given; ``cores`` are the
    codes without trailing letter suffixes; ``brand`` and ``category`` are
    canonical tokens or None.

    The fields after ``category`` are derived from the others by :func:`prepare`
    (they take no part in equality; tuples, since a catalog holds many entries):
    ``code_candidates`` (codes long enough to be specific, sorted) and ``glued_words`` (for each
    candidate, in the same order, the word of a "number glued to a word" code — "6disc" → "disc" —
    or None), ``colours`` (colour words),
    ``bare_numbers`` (bare numbers of 2+ digits), ``attributes`` (attribute group → the values
    given in it, see :func:`attribute_groups`: what must agree between two names of one product)
    and ``brands`` (the explicit brand and the built-in brands named in the name,
    :func:`~ingestion.matching.brands.name_brands`; the catalog's own brand vocabulary is added
    when scoring, :meth:`Catalog.brands_of`).  :attr:`long_tokens` and :attr:`code_tokens` are
    computed when asked for (the scorer reads them of the item, once per item).

    Memory (a worker keeps one entry per catalog product, hundreds of thousands; ≈1.1 KB each with
    its norm, e2e bench): values that repeat from entry to entry — the category, ``brands``,
    ``colours``, ``attributes`` and its groups, ``glued_words`` (patterns such as ``(None, "apt",
    "art")``), the norm's units and attributes — are one object per distinct value in the process
    (:func:`~ingestion.matching.normalize.shared`); a product's ``cores`` is its ``codes`` object
    when the two are the same set; empty ones are the shared empty tuple / set.  The candidates and their words are two
    flat tuples rather than one tuple of pairs (a pair is 56 bytes), and nothing kept here is a
    copy of what the norm holds.  Equal entries compare equal whatever objects they share.
    """

    id: str
    name: str
    norm: NormalizedName
    codes: frozenset[str]
    cores: frozenset[str]
    sku: str | None
    brand: str | None
    category: str | None
    code_candidates: tuple[str, ...] = attrs.field(eq=False, default=())
    glued_words: tuple[str | None, ...] = attrs.field(eq=False, default=())
    colours: tuple[str, ...] = attrs.field(eq=False, default=())
    bare_numbers: tuple[str, ...] = attrs.field(eq=False, default=())
    attributes: tuple[tuple[str, frozenset[str]], ...] = attrs.field(eq=False, default=())
    brands: frozenset[str] = attrs.field(eq=False, default=frozenset())

    def made_from(self, name: str, brand: str | None, category: str | None) -> bool:
        """True when ``prepare(Product(self.id, name, brand=brand, category=category))`` gives this
        entry again, field for field: a product without a SKU whose name, canonical brand and
        category are those it was made from (by :func:`prepare` or :func:`as_product`).  A catalog
        reload keeps such an entry instead of normalising the name again, and needs to keep nothing
        but the entry to tell (:func:`prepare` derives everything else from the name, and reads the
        brand and the category only through :func:`record_fields`)."""
        fields = (self.brand, self.category)
        return self.sku is None and self.name == name and fields == record_fields(brand, category)

    @property
    def long_tokens(self) -> tuple[str, ...]:
        """The tokens of 5+ characters, in name order (computed: the scorer reads
        :attr:`ItemContext.long_tokens <ingestion.matching.scoring.ItemContext>` of the item and
        tests a product's tokens against the item's long codes instead)."""
        return tuple([t for t in self.norm.tokens if len(t) >= 5])

    @property
    def code_tokens(self) -> tuple[str, ...]:
        """The tokens that are codes, in name order (computed, as :attr:`long_tokens`)."""
        codes = self.norm.codes
        return tuple([t for t in self.norm.tokens if t in codes]) if codes else ()


def sorted_text(text: str) -> str:
    """``text``'s space-separated tokens sorted and joined by one space: RapidFuzz's
    ``token_sort_ratio(a, b)`` is ``ratio(sorted_text(a), sorted_text(b))`` (it splits on whitespace
    and sorts by code point, as ``sorted`` does), so a catalog can keep its names sorted once."""
    return " ".join(sorted(text.split()))


def _sku_key(sku: str | None) -> str | None:
    """The SKU as a code key: its normalised tokens joined ("AB-000-0005" → "ab0000005"); None when empty.

    The common shape — ASCII letters and digits in dash-joined groups, starting with a letter, with a
    digit, no brand alias and no number+unit inside — is one code token whatever else normalisation
    does, so it is lower-cased and its dashes dropped directly (≈1 µs instead of a full
    :func:`normalize_uncached`, and no cache entry for a string met once).
    """
    if not sku:
        return None
    if _PLAIN_SKU.fullmatch(sku) and _ANY_DIGIT.search(sku):
        lowered = sku.lower()
        if _ALIAS_RE.search(lowered) is None and _UNIT_RE.search(lowered) is None:
            return lowered.replace("-", "")
    key = normalize_uncached(sku)  # a SKU is met once: keep it out of the name cache
    joined = "".join(key.tokens)
    return joined or None


def _strong(code: str) -> bool:
    """A code long enough to be evidence on its own (4+ characters)."""
    return len(code) >= 4


@lru_cache(maxsize=1 << 14)
def _code_facts(code: str) -> tuple[str | None, tuple[str, str | None] | None]:
    """Per code key, cached: its core when that is strong evidence (4+ characters, the code holds a
    digit) else None; and ``(code, glued word or None)`` when the code is long enough to be
    specific (4+ characters, or 3 starting with a letter) else None."""
    core = code_core(code)
    strong_core = core if _strong(core) and any(map(str.isdigit, code)) else None
    candidate: tuple[str, str | None] | None = None
    if len(code) >= 4 or (len(code) >= 3 and code[0].isalpha()):
        m = _NUMBER_WORD.match(code)
        # the word recurs across codes ("apt" of every "арт.NNNN"): one string (see shared)
        candidate = (code, shared(m.group(1) or m.group(2)) if m else None)
    return strong_core, candidate


def _code_candidates(codes: Iterable[str]) -> tuple[tuple[str, str | None], ...]:
    """Codes long enough to be specific (4+ characters, or 3 starting with a letter), each with the
    word of a "number glued to a word" spelling ("6disc" → "disc") or None; sorted for stability."""
    return tuple(sorted(c for c in (_code_facts(code)[1] for code in codes) if c is not None))


@lru_cache(maxsize=1 << 14)
def _token_attributes(token: str, kind: str) -> tuple[tuple[str, str], ...]:
    """``(group, value)`` pairs one token gives (cached; ``kind`` is "unit", "attr" or "code")."""
    if kind == "unit":
        m = _UNIT_SPLIT.match(token)
        if m is None:
            return ()
        unit, value = m.group(2), m.group(1)
        if unit in _TO_GB:  # "1tb" against "512gb", "256mb" against "256gb" (a second trial): one scale
            gb = Decimal(value) * _TO_GB[unit]
            return (("gb", format(gb.normalize(), "f")),)
        return ((unit, value),)
    if kind == "attr":
        if token[0] == VARIANT_MARK:  # "~plus"; "~" alone: the base model (see normalize)
            return (("variant", token[1:] or "base"),)
        if _IP.match(token):
            return (("ip", token[2:]),)
        if len(token) == 1:  # a breaker curve written apart ("16А C"): see attribute_groups
            return (("curve", token),) if token in _CURVE_LETTERS else ()
        if token[0].isdigit():
            return (("x", token.rstrip("abcdefghijklmnopqrstuvwxyzабвгдеежзийклмнопрстуфхцчшщъыьэюя")),)
    m = _SHORT_LETTERS_FIRST.match(token)
    if m:
        letters, digits = m.group(1), m.group(2)
        pairs = [(letters + "#", digits)]
        if len(letters) == 1 and letters in _CURVE_LETTERS:
            pairs.append(("curve#", token))
            pairs.append(("curve", letters))
        return tuple(pairs)
    m = _SHORT_DIGITS_FIRST.match(token)
    if m:
        if m.group(2) == "pn":  # "1P+N" (see normalize): a pole count of its own, against "1p" / "2p"
            return (("#p", m.group(1) + "+n"),)
        return (("#" + m.group(2), m.group(1)),)
    m = _SERIES.match(token)
    if m:
        letters, digits = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return ((f"{letters}#{len(digits)}", digits),)
    return ()


@lru_cache(maxsize=1 << 14)
def attribute_groups(
    units: frozenset[str], attributes: frozenset[str], code_tokens: tuple[str, ...]
) -> tuple[tuple[str, frozenset[str]], ...]:
    """What must agree between two names of one product: attribute group → values, sorted by group.

    In: a name's unit tokens, attribute tokens and code tokens (:class:`NormalizedName`).
    Out: units by unit ("16a" → ``("a", {"16"})``), IP ratings (``("ip", {"44"})``), ``x``-joined
    sizes (``("x", {"3x2.5"})``), short codes by their letters ("c16" → ``("c#", {"16"})``, "3p" →
    ``("#p", {"3"})``), longer model series by their letters and digit count ("ba4729" →
    ``("ba#4", {"4729"})``) and breaker curves with their rating (``("curve#", {"c16"})``) and alone
    (``("curve", {"c"})``).  A curve written apart from its rating ("16А C", "(C)", "тип C": a
    one-letter attribute token, see :mod:`ingestion.matching.normalize`) gives the curve and, with
    each amp rating of the name, what the glued spelling gives ("16А C" → ``("curve#", {"c16"})``,
    ``("c#", {"16"})``), so "16А C" agrees with "C16" and conflicts with "B16", "16А B" and "C10".
    A model variant (``~plus`` / ``~`` attribute, see :mod:`ingestion.matching.normalize`) gives
    ``("variant", {"plus"})`` / ``("variant", {"base"})``: "S24+" conflicts with "S24" and "S24 Ultra".
    Two names with the same group and no value in common name different products (the matching
    trial: "S201 C6" / "S201 C10", "3х2,5" / "3х1,5", "4000K" / "3000K", "IP44" / "IP65", "16А C" /
    "16А B").
    """
    by_group: dict[str, set[str]] = {}
    for kind, tokens in (("unit", units), ("attr", attributes), ("code", code_tokens)):
        for t in tokens:
            for group, value in _token_attributes(t, kind):
                by_group.setdefault(group, set()).add(value)
    amps = by_group.get("a")
    if amps and "curve" in by_group:
        for letter in [t for t in attributes if len(t) == 1 and t in _CURVE_LETTERS]:
            for amp in amps:
                by_group.setdefault("curve#", set()).add(letter + amp)
                by_group.setdefault(letter + "#", set()).add(amp)
    # groups and their values repeat from name to name ("variant" / {"base"}): one object each (see shared)
    return shared(tuple([shared((group, frozenset(values))) for group, values in sorted(by_group.items())]))


def _code_parts(codes: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...], tuple[str | None, ...]]:
    """The cores, the specific-code candidates (sorted) and their glued words (:class:`Entry`) of a set
    of code keys."""
    cores: list[str] = []
    candidates: list[tuple[str, str | None]] = []
    for c in codes:
        core, candidate = _code_facts(c)
        if core is not None:
            cores.append(core)
        if candidate is not None:
            candidates.append(candidate)
    if not candidates:
        return (frozenset(cores) if cores else _NONE), (), ()
    candidates.sort()
    # the words repeat as a pattern from name to name ((None, "apt", "art")): one tuple (see shared)
    words = shared(tuple([word for _code, word in candidates]))
    return (frozenset(cores) if cores else _NONE), tuple([code for code, _word in candidates]), words


def _product_cores(codes: frozenset[str], cores: frozenset[str]) -> frozenset[str]:
    """A product's cores: its ``codes`` object itself when the two are the same set (no code has a
    letter suffix or a weak core: most names), so the entry keeps one set instead of two.

    Only for products (:func:`prepare` of a :class:`Product`, :func:`as_product`): an item's cores
    are iterated when it is blocked, in an order that decides among candidates of equal weight
    (:mod:`~ingestion.matching.matcher`), and two equal sets may iterate in different orders; a
    product's cores are only looked up and tested for overlap."""
    return codes if cores == codes else cores


@lru_cache(maxsize=1 << 12)
def record_fields(brand: str | None, category: str | None) -> tuple[str | None, str | None]:
    """``(Entry.brand, Entry.category)`` of a record with these brand and category fields: the
    canonical brand (:func:`~ingestion.matching.brands.canonical_brand`) and the category
    case-folded with its spaces collapsed, each None when empty.  Cached, and each value one object
    in the process (:func:`~ingestion.matching.normalize.shared`): a catalog has a few hundred
    brands and sections for hundreds of thousands of products."""
    canonical = canonical_brand(brand) if brand else None
    section = " ".join(category.casefold().split()) if category else None
    return (shared(canonical) if canonical else None), (shared(section) if section else None)


def prepare(record: Product | Item) -> Entry:
    """Normalise a product or item into an :class:`Entry` (never raises)."""
    norm = normalize_name(record.name)
    sku = _sku_key(record.sku)
    codes = norm.codes
    if sku and sku not in codes:
        codes = codes | {sku}
    cores, candidates, words = _code_parts(codes)
    if not isinstance(record, Item):
        cores = _product_cores(codes, cores)
    brand, category = record_fields(record.brand, record.category)
    tokens = norm.tokens
    brands = name_brands(tokens)
    if brand:
        brands = brands | {brand}
    brands = shared(brands) if brands else _NONE  # brand sets repeat across entries (see shared)
    name_codes = norm.codes
    # only a code token of at most _ATTRIBUTE_CODE_LEN characters can name an attribute ("c16", "3p"):
    # leaving the others out gives the same groups and lets attribute_groups' cache hit
    short_codes: list[str] = []
    bare: list[str] = []
    colours: list[str] = []
    for t in tokens:
        if t in name_codes and len(t) <= _ATTRIBUTE_CODE_LEN:
            short_codes.append(t)
        if len(t) >= 2 and t.isdigit():
            bare.append(t)
        if t in COLOURS:
            colours.append(t)
    return Entry(
        id=str(record.id),
        name=record.name,
        norm=norm,
        codes=codes,
        cores=cores,
        sku=sku,
        brand=brand,
        category=category,
        code_candidates=candidates,
        glued_words=words,
        colours=shared(tuple(colours)) if colours else (),
        bare_numbers=tuple(bare),
        attributes=(
            attribute_groups(norm.units, norm.attributes, tuple(short_codes))
            if norm.units or norm.attributes or short_codes
            else ()
        ),
        brands=brands,
    )


def as_product(entry: Entry, product_id: str) -> Entry:
    """The entry of a product made from an item: what :func:`prepare` gives for a :class:`Product`
    with the item's name, brand and category, id ``product_id`` and no SKU — without normalising
    the name again (a draft product made from an item it could not match)."""
    if entry.sku is None:
        codes, cores, candidates, words = entry.codes, entry.cores, entry.code_candidates, entry.glued_words
    else:
        codes = entry.norm.codes
        cores, candidates, words = _code_parts(codes)
    cores = _product_cores(codes, cores)
    # the constructor, not attrs.evolve (which looks every field up by name): a draft per "new" item
    return Entry(
        str(product_id), entry.name, entry.norm, codes, cores, None, entry.brand, entry.category,
        candidates, words, entry.colours,
        entry.bare_numbers, entry.attributes, entry.brands,
    )


def _post(index: dict[str, list[int]], key: str, row: int) -> None:
    """Add ``row`` to ``index[key]``.  A new key gets a list of exactly one row, 64 bytes
    (``index.setdefault(key, []).append(row)`` makes an empty list on every call and gives a new key
    room for four rows, 88 bytes): most keys of a catalog's indexes — codes, cores, names — are one
    product's."""
    rows = index.get(key)
    if rows is None:
        index[key] = [row]
    else:
        rows.append(row)


def _one_row(rows: list[int] | None, row: int) -> list[int]:
    """``rows`` when it is the one-row list ``[row]`` — made for this row under the same key in another
    index a moment ago — else a new ``[row]`` (see :class:`Catalog`: one-row lists are shared)."""
    return rows if rows is not None and len(rows) == 1 and rows[0] == row else [row]


class _NormTable:
    """The token ids of every catalog row, in two flat arrays, so that all norms are recomputed with a
    few vector operations (a refresh of a 30k-product catalog: ≈5 ms instead of ≈50 ms of Python).

    :attr:`ids` holds every row's tokens one row after another, in token order: each its token's
    1-based id, negated for a code (weight multiplier :data:`CODE_WEIGHT`; a word's is 1.0);
    :attr:`lengths` holds each row's number of tokens.  Memory: 4 bytes a token and 4 a row (≈30
    bytes a product; a fixed-width table of 16 ids and multipliers a row took 128, plus its growth
    reserve).  ``array.array``: appending a row is one C call, and the arrays are handed to numpy
    when the norms are refreshed.  A refresh costs ≈2 ms at 30k rows and ≈80 ms at 600k (the
    fixed-width table: ≈4 and ≈50 ms); refreshes come every 10 % of growth, so a run that grows the
    catalog to 600k products spends about a second on them in all.
    """

    def __init__(self) -> None:
        self.ids = array("i")
        self.lengths = array("I")

    @property
    def rows(self) -> int:
        """How many rows the table holds."""
        return len(self.lengths)

    def append(self, signed_ids: list[int]) -> None:
        """Add the next row: the ids of one entry's tokens in token order, a code's negated."""
        self.ids.extend(signed_ids)
        self.lengths.append(len(signed_ids))

    def norms(self, weights: np.ndarray) -> list[float]:
        """Every row's ``0.0 + w1·m1 + w2·m2 + …`` in token order (``weights[id]``, float64; ``m`` 1.0 or
        :data:`CODE_WEIGHT`): token position after token position, each adding one term to every
        row that has a token there, so each row sees exactly the additions of a Python loop (float64
        products, one rounding each; ``w·1.0`` is ``w``)."""
        n = self.rows
        if n == 0:
            return []
        ids = np.array(self.ids, dtype=np.int32)  # copies: the arrays must stay free to grow
        lengths = np.array(self.lengths, dtype=np.int64)
        terms = weights[np.abs(ids)]
        np.multiply(terms, CODE_WEIGHT, out=terms, where=ids < 0)  # a code's term: w·CODE_WEIGHT
        # rows longest first: the rows with a token at position j are then the first `longer[j]` ones,
        # and position j of each is `at + j` in `terms` (a 16-bit key sorts by radix, in linear time)
        longest = int(lengths.max())
        key: np.ndarray = (longest - lengths).astype(np.uint16) if longest < 1 << 16 else -lengths
        order = np.argsort(key, kind="stable")
        at = (np.cumsum(lengths) - lengths)[order]
        longer = n - np.cumsum(np.bincount(lengths))  # longer[j]: rows with more than j tokens
        total = np.zeros(n, dtype=np.float64)
        for j, k in enumerate(longer.tolist()):
            if k == 0:
                break
            total[:k] += terms[at[:k] + j]
        norms = np.empty(n, dtype=np.float64)
        norms[order] = total
        return norms.tolist()  # type: ignore[no-any-return]


class Catalog:
    """Products indexed for matching.

    ``Catalog(products)`` normalises and indexes each product; ``add(product)``
    appends one more (a product id seen before replaces nothing: ids are taken as
    given, duplicates are indexed twice).  Lookups return internal row numbers
    (``int``) into :attr:`entries`; :attr:`texts` holds the normalised names in the same
    order (for whole-catalog RapidFuzz calls).

    The indexes map a key to its rows, ascending (:attr:`postings`: token → rows; :attr:`code_index`,
    :attr:`core_index`, :attr:`sku_index`); their lists are read-only to callers.  Most keys are one
    product's (its model code, written as a token, a code and its own core), so a one-row list is
    made once and shared by :attr:`postings`, :attr:`code_index` and :attr:`core_index` under the
    same key (one 64-byte list instead of three); the catalog never appends to a one-row list — a
    second row gives that index a new list of two — so sharing one changes no index but its own.
    """

    def __init__(self, products: Iterable[Product] = ()) -> None:
        self.entries: list[Entry] = []
        self.texts: list[str] = []
        self._sorted_texts: list[str] = []  # see sorted_texts
        self.postings: dict[str, list[int]] = {}
        self.code_index: dict[str, list[int]] = {}
        self.core_index: dict[str, list[int]] = {}
        self.sku_index: dict[str, list[int]] = {}
        #: normalised name text → the row with exactly that name, or the list of rows when there are
        #: several (see :meth:`same_name`): most names are one product's, and a one-row list is 64 bytes
        self.name_index: dict[str, int | list[int]] = {}
        self.first_tokens: Counter[str] = Counter()
        self.explicit_brands: set[str] = set()
        self._norms: list[float] = []
        #: token → its 1-based id (the order tokens entered :attr:`postings`), for :class:`_NormTable`
        self._token_ids: dict[str, int] = {}
        self._table = _NormTable()
        self._norms_at: int = 0
        # Specific codes per row (see row_specific_codes), valid for _specific_limit; rows holding a
        # code whose count passes the limit, or a glued word that becomes a word of its own, are reset.
        self._specific: list[frozenset[str] | None] = []
        self._specific_limit: int = -1
        self._spec_word_rows: dict[str, list[int]] = {}
        self._bulk = True
        for p in products:
            self.add(p)
        self._bulk = False
        self.refresh_norms()

    @classmethod
    def of_entries(cls, entries: Iterable[Entry]) -> Catalog:
        """A catalog of already prepared products (:func:`prepare`), e.g. kept from an earlier load."""
        catalog = cls()
        catalog._bulk = True
        for entry in entries:
            catalog.add_entry(entry)
        catalog._bulk = False
        catalog.refresh_norms()
        return catalog

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, product: Product) -> int:
        """Index one product; returns its row number.  Cost: O(its tokens)."""
        return self.add_entry(prepare(product))

    def add_entry(self, entry: Entry) -> int:
        """Index an already prepared product (:func:`prepare`, :func:`as_product`); returns its row number.
        Cost: O(its tokens), and now and then (:data:`NORM_REFRESH_GROWTH`) O(catalog) for the norms."""
        row = self._index(entry)
        self._grow_norms()
        return row

    def add_entries(self, entries: Iterable[Entry]) -> list[int]:
        """Index several prepared products at once; returns their row numbers.

        The catalog ends exactly as after :meth:`add_entry` for each in turn (the same norms, bit
        for bit), but the norms are refreshed at most once: where adding one by one would refresh
        them (a point that depends on sizes only), every earlier refresh of the batch is overwritten
        anyway.  Cost: O(their tokens) plus at most one O(catalog) refresh — adding the products
        another process made, thousands at a time, no longer refreshes all norms every 10 %.
        """
        batch = list(entries)
        if self._bulk:
            return [self._index(e) for e in batch]
        at, last, size = self._norms_at, -1, len(self.entries)
        for i in range(len(batch)):
            size += 1
            if size > at * (1.0 + NORM_REFRESH_GROWTH):  # as _grow_norms decides
                at, last = size, i
        rows: list[int] = []
        for i, entry in enumerate(batch):
            rows.append(self._index(entry))
            if i == last:
                self.refresh_norms()
            elif i > last:
                self._norms.append(self.entry_weight(entry))
        return rows

    def _index(self, entry: Entry) -> int:
        """Add ``entry`` to the entries and the indexes (not to the norms); returns its row number."""
        row = len(self.entries)
        self.entries.append(entry)
        self.texts.append(entry.norm.text)
        specific = self._specific
        specific.append(None)
        token_ids = self._token_ids
        postings, code_index, core_index = self.postings, self.code_index, self.core_index
        # A one-row list may be shared by postings, code_index and core_index (see the class
        # docstring): a second row replaces it with a new list of two instead of appending.
        for tok in entry.norm.tokens:
            rows = postings.get(tok)
            if rows is None:
                postings[tok] = [row]
                token_ids[tok] = len(postings)
                for r in self._spec_word_rows.get(tok, ()):  # "6disc" stops being specific once "disc" is a word
                    specific[r] = None
            elif len(rows) == 1:
                postings[tok] = [rows[0], row]
            else:
                rows.append(row)
        limit = self._specific_limit
        for code in entry.codes:
            rows = code_index.get(code)
            if rows is None:
                code_index[code] = _one_row(postings.get(code), row)  # a code token's: its postings' list
            else:
                if len(rows) == 1:
                    rows = code_index[code] = [rows[0], row]
                else:
                    rows.append(row)
                if len(rows) == limit + 1:  # the code just became too common to identify
                    for r in rows:
                        specific[r] = None
        for word in entry.glued_words:
            if word is not None:
                _post(self._spec_word_rows, word, row)
        for core in entry.cores:
            rows = core_index.get(core)
            if rows is None:
                core_index[core] = _one_row(code_index.get(core), row)  # a core that is a code: its list
            elif len(rows) == 1:
                core_index[core] = [rows[0], row]
            else:
                rows.append(row)
        if entry.sku:
            _post(self.sku_index, entry.sku, row)
        text = entry.norm.text
        if text:
            rows_ = self.name_index.get(text)
            if rows_ is None:
                self.name_index[text] = row
            elif isinstance(rows_, int):
                self.name_index[text] = [rows_, row]
            else:
                rows_.append(row)
        if entry.norm.tokens and entry.norm.tokens[0].isalpha():
            self.first_tokens[entry.norm.tokens[0]] += 1
        if entry.brand:
            self.explicit_brands.add(entry.brand)
        codes = entry.norm.codes
        self._table.append([-token_ids[t] if t in codes else token_ids[t] for t in entry.norm.tokens])
        return row

    @property
    def sorted_texts(self) -> list[str]:
        """Each name's tokens sorted and space-joined (:func:`sorted_text`: what token_sort_ratio
        compares), row by row, for whole-catalog ``fuzz.ratio`` passes that equal ``token_sort_ratio``
        without re-sorting.

        Made on first use and brought up to date on each later one (O(rows added since)), not when a
        product is added: the matcher reads them only in a small catalog (its whole-catalog fallback),
        so a large catalog never holds a second copy of every name (≈170 bytes a product).
        """
        done, texts = self._sorted_texts, self.texts
        if len(done) < len(texts):
            done.extend([sorted_text(texts[r]) for r in range(len(done), len(texts))])
        return done

    def same_name(self, entry: Entry) -> list[int]:
        """Rows whose normalised name text equals ``entry``'s, ascending (one dict look-up; [] for an
        empty name).  The list must not be changed."""
        hit = self.name_index.get(entry.norm.text) if entry.norm.text else None
        if hit is None:
            return []
        return [hit] if isinstance(hit, int) else hit

    # -- weights ---------------------------------------------------------------------------

    def df(self, token: str) -> int:
        """How many products hold ``token`` (0 if none)."""
        return len(self.postings.get(token, ()))

    def weight(self, token: str, is_code: bool = False) -> float:
        """IDF weight of a token, ×:data:`CODE_WEIGHT` for codes: ``log(1 + (N + 1) / (df + 1))``."""
        n = len(self.entries)
        w = math.log(1.0 + (n + 1) / (self.df(token) + 1))
        return w * CODE_WEIGHT if is_code else w

    def entry_weight(self, entry: Entry) -> float:
        """Sum of token weights of an entry (codes weighted up)."""
        codes = entry.norm.codes
        return sum(self.weight(t, t in codes) for t in entry.norm.tokens)

    def norm(self, row: int) -> float:
        """Cached :meth:`entry_weight` of a product: computed when it was added, and again for every
        product each time the catalog has grown by :data:`NORM_REFRESH_GROWTH` (so a value depends
        on the catalog's history only, not on which rows were scored when)."""
        return self._norms[row]

    def refresh_norms(self) -> None:
        """Recompute every product's norm with the current counts (after a bulk load)."""
        n1 = len(self.entries) + 1
        log = math.log
        # A weight depends on the token's count only: math.log once per distinct count (as the
        # per-token formula gives it, bit for bit), then spread to the tokens by their ids.
        counts = np.fromiter(map(len, self.postings.values()), dtype=np.int64, count=len(self.postings))
        distinct, which = np.unique(counts, return_inverse=True)
        by_count = np.array([log(1.0 + n1 / (d + 1)) for d in distinct.tolist()], dtype=np.float64)
        weights = np.concatenate((np.zeros(1), by_count[which.reshape(-1)]))
        # Per entry: 0.0 + w1·m1 + w2·m2 + … in token order (m = CODE_WEIGHT for a code, else 1.0:
        # w·1.0 is w exactly), the additions of a Python loop (see _NormTable.norms).
        self._norms = self._table.norms(weights)
        self._norms_at = len(self.entries)

    def _grow_norms(self) -> None:
        if self._bulk:
            return
        if len(self.entries) > self._norms_at * (1.0 + NORM_REFRESH_GROWTH):
            self.refresh_norms()
        else:
            self._norms.append(self.entry_weight(self.entries[-1]))

    # -- codes -----------------------------------------------------------------------------

    def row_specific_codes(self, row: int, limit: int) -> frozenset[str]:
        """:meth:`specific_codes` of catalog row ``row``, cached until the catalog's counts change them."""
        if limit != self._specific_limit:
            self._specific = [None] * len(self.entries)
            self._specific_limit = limit
        hit = self._specific[row]
        if hit is None:
            entry = self.entries[row]
            found = self.specific_codes(entry, limit)
            # a subset of the entry's codes: when all of them, the entry's set itself (one set fewer)
            hit = (entry.codes if len(found) == len(entry.codes) else frozenset(found)) if found else _NONE
            self._specific[row] = hit
        return hit

    def specific_codes(self, entry: Entry, limit: int) -> set[str]:
        """The entry's codes that identify: long enough, held by at most ``limit`` products, and not a
        number glued to a word the catalog also uses on its own ("6disc" when "disc" is a word here)."""
        code_index, postings = self.code_index, self.postings
        return {
            c
            for c, word in zip(entry.code_candidates, entry.glued_words)
            if len(code_index.get(c, ())) <= limit and (word is None or not postings.get(word))
        }

    # -- brands ----------------------------------------------------------------------------

    def is_brand(self, token: str) -> bool:
        """True when ``token`` is a brand here: given as a brand, or the first word of 2+ product names."""
        return token in self.explicit_brands or self.first_tokens.get(token, 0) >= 2

    def brands_of(self, entry: Entry) -> frozenset[str]:
        """Every brand ``entry`` names: :attr:`Entry.brands` (its brand field, built-in brands in its
        name) plus the name tokens that are a brand field value somewhere in the catalog."""
        found = self.explicit_brands.intersection(entry.norm.tokens)
        return entry.brands.union(found) if found else entry.brands

    def brand_of(self, entry: Entry) -> str | None:
        """The explicit brand, else the first name token when :meth:`is_brand` says it is one."""
        if entry.brand:
            return entry.brand
        toks = entry.norm.tokens
        if toks and self.is_brand(toks[0]):
            return toks[0]
        return None
