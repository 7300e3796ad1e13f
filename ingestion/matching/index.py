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
import re
from collections import Counter
from functools import lru_cache, reduce
from operator import add, mul
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
)
from ingestion.matching.records import Item, Product

__all__ = [
    "Catalog", "Entry", "CODE_WEIGHT", "NORM_REFRESH_GROWTH", "prepare", "as_product", "attribute_groups", "sorted_text",
]

#: Weight multiplier of a model number / code over a word of the same rarity.
CODE_WEIGHT = 2.5
#: Relative catalog growth after which cached product norms are recomputed.
NORM_REFRESH_GROWTH = 0.10

_NONE: frozenset[str] = frozenset()
#: ``(1.0,) * k`` for small k (the token multipliers of a name without codes)
_ONES: tuple[tuple[float, ...], ...] = tuple((1.0,) * k for k in range(64))

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
    ``long_tokens`` (tokens of 5+ characters), ``code_candidates`` (codes long enough
    to be specific, each with the word of a "number glued to a word" code or None),
    ``code_tokens`` (tokens that are codes, in name order), ``colours`` (colour words),
    ``unit_values`` (unit → the values given in it), ``bare_numbers`` (bare numbers
    of 2+ digits), ``attributes`` (attribute group → the values given in it, see
    :func:`attribute_groups`: what must agree between two names of one product) and
    ``brands`` (the explicit brand and the built-in brands named in the name,
    :func:`~ingestion.matching.brands.name_brands`; the catalog's own brand vocabulary is added
    when scoring, :meth:`Catalog.brands_of`).
    """

    id: str
    name: str
    norm: NormalizedName
    codes: frozenset[str]
    cores: frozenset[str]
    sku: str | None
    brand: str | None
    category: str | None
    long_tokens: tuple[str, ...] = attrs.field(eq=False, default=())
    code_candidates: tuple[tuple[str, str | None], ...] = attrs.field(eq=False, default=())
    code_tokens: tuple[str, ...] = attrs.field(eq=False, default=())
    colours: tuple[str, ...] = attrs.field(eq=False, default=())
    unit_values: tuple[tuple[str, frozenset[str]], ...] = attrs.field(eq=False, default=())
    bare_numbers: tuple[str, ...] = attrs.field(eq=False, default=())
    attributes: tuple[tuple[str, frozenset[str]], ...] = attrs.field(eq=False, default=())
    brands: frozenset[str] = attrs.field(eq=False, default=frozenset())


def sorted_text(text: str) -> str:
    """``text``'s space-separated tokens sorted and joined by one space: RapidFuzz's
    ``token_sort_ratio(a, b)`` is ``ratio(sorted_text(a), sorted_text(b))`` (it splits on whitespace
    and sorts by code point, as ``sorted`` does), so a catalog can keep its names sorted once."""
    return " ".join(sorted(text.split()))


def _multipliers(norm: NormalizedName) -> tuple[float, ...]:
    """The weight multiplier of each token of ``norm``: :data:`CODE_WEIGHT` for a code, else 1.0."""
    tokens, codes = norm.tokens, norm.codes
    if not codes and len(tokens) < len(_ONES):
        return _ONES[len(tokens)]
    return tuple([CODE_WEIGHT if t in codes else 1.0 for t in tokens])


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
        candidate = (code, (m.group(1) or m.group(2)) if m else None)
    return strong_core, candidate


def _code_candidates(codes: Iterable[str]) -> tuple[tuple[str, str | None], ...]:
    """Codes long enough to be specific (4+ characters, or 3 starting with a letter), each with the
    word of a "number glued to a word" spelling ("6disc" → "disc") or None; sorted for stability."""
    return tuple(sorted(c for c in (_code_facts(code)[1] for code in codes) if c is not None))


@lru_cache(maxsize=1 << 12)
def _unit_values(units: frozenset[str]) -> tuple[tuple[str, frozenset[str]], ...]:
    by_unit: dict[str, set[str]] = {}
    for u in units:
        m = _UNIT_SPLIT.match(u)
        if m:
            by_unit.setdefault(m.group(2), set()).add(m.group(1))
    return tuple((unit, frozenset(values)) for unit, values in sorted(by_unit.items()))


@lru_cache(maxsize=1 << 14)
def _token_attributes(token: str, kind: str) -> tuple[tuple[str, str], ...]:
    """``(group, value)`` pairs one token gives (cached; ``kind`` is "unit", "attr" or "code")."""
    if kind == "unit":
        m = _UNIT_SPLIT.match(token)
        return ((m.group(2), m.group(1)),) if m else ()
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
    return tuple((group, frozenset(values)) for group, values in sorted(by_group.items()))


def _code_parts(codes: frozenset[str]) -> tuple[frozenset[str], tuple[tuple[str, str | None], ...]]:
    """The cores and the specific-code candidates of a set of code keys."""
    cores: list[str] = []
    candidates: list[tuple[str, str | None]] = []
    for c in codes:
        core, candidate = _code_facts(c)
        if core is not None:
            cores.append(core)
        if candidate is not None:
            candidates.append(candidate)
    candidates.sort()
    return (frozenset(cores) if cores else _NONE), tuple(candidates)


def prepare(record: Product | Item) -> Entry:
    """Normalise a product or item into an :class:`Entry` (never raises)."""
    norm = normalize_name(record.name)
    sku = _sku_key(record.sku)
    codes = norm.codes
    if sku and sku not in codes:
        codes = codes | {sku}
    cores, candidates = _code_parts(codes)
    category = " ".join(record.category.casefold().split()) if record.category else None
    tokens = norm.tokens
    brand = canonical_brand(record.brand) if record.brand else None
    brands = name_brands(tokens)
    if brand:
        brands = brands | {brand}
    name_codes = norm.codes
    long_tokens: list[str] = []
    code_tokens: list[str] = []
    bare: list[str] = []
    colours: list[str] = []
    for t in tokens:
        if len(t) >= 5:
            long_tokens.append(t)
        if t in name_codes:
            code_tokens.append(t)
        if len(t) >= 2 and t.isdigit():
            bare.append(t)
        if t in COLOURS:
            colours.append(t)
    # only a code token of at most _ATTRIBUTE_CODE_LEN characters can name an attribute ("c16", "3p"):
    # leaving the others out gives the same groups and lets attribute_groups' cache hit
    short_codes = tuple([t for t in code_tokens if len(t) <= _ATTRIBUTE_CODE_LEN])
    return Entry(
        id=str(record.id),
        name=record.name,
        norm=norm,
        codes=codes,
        cores=cores,
        sku=sku,
        brand=brand,
        category=category or None,
        long_tokens=tuple(long_tokens),
        code_candidates=candidates,
        code_tokens=tuple(code_tokens),
        colours=tuple(colours),
        unit_values=_unit_values(norm.units) if norm.units else (),
        bare_numbers=tuple(bare),
        attributes=(
            attribute_groups(norm.units, norm.attributes, short_codes)
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
        codes, cores, candidates = entry.codes, entry.cores, entry.code_candidates
    else:
        codes = entry.norm.codes
        cores, candidates = _code_parts(codes)
    # the constructor, not attrs.evolve (which looks every field up by name): a draft per "new" item
    return Entry(
        str(product_id), entry.name, entry.norm, codes, cores, None, entry.brand, entry.category,
        entry.long_tokens, candidates, entry.code_tokens, entry.colours, entry.unit_values,
        entry.bare_numbers, entry.attributes, entry.brands,
    )


class _NormTable:
    """The token ids and weight multipliers of every catalog row, as numpy arrays, so that all norms
    are recomputed with a few vector operations (a refresh of a 30k-product catalog: ≈5 ms instead
    of ≈50 ms of Python).

    Row ``r`` holds its tokens' ids (1-based; 0 pads, with weight 0.0) and multipliers (1.0 or
    :data:`CODE_WEIGHT`, 0.0 padding) in token order.  A row with more than :attr:`WIDTH` tokens is
    kept out of the arrays and listed in :attr:`wide` (its norm is summed in Python).  Memory:
    ``WIDTH × 8`` bytes a row.
    """

    WIDTH = 16

    def __init__(self) -> None:
        self.ids = np.zeros((0, self.WIDTH), dtype=np.int32)
        self.mults = np.zeros((0, self.WIDTH), dtype=np.float32)  # 1.0 / 2.5 / 0.0 are exact in float32
        self.rows = 0
        self.used = 1  # columns any row uses
        self.wide: list[int] = []

    def append(self, token_ids: list[int], mults: tuple[float, ...]) -> None:
        """Add the next row (``token_ids`` and ``mults`` of one entry, in token order)."""
        row, k = self.rows, len(token_ids)
        if row == len(self.ids):
            size = max(1024, 2 * row)
            ids = np.zeros((size, self.WIDTH), dtype=np.int32)
            ids[:row] = self.ids
            mults_ = np.zeros((size, self.WIDTH), dtype=np.float32)
            mults_[:row] = self.mults
            self.ids, self.mults = ids, mults_
        if k > self.WIDTH:
            self.wide.append(row)
        elif k:
            self.ids[row, :k] = token_ids
            self.mults[row, :k] = mults
            self.used = max(self.used, k)
        self.rows = row + 1

    def norms(self, weights: np.ndarray) -> list[float]:
        """Every row's ``0.0 + w1·m1 + w2·m2 + …`` in token order (``weights[id]``, float64; ``weights[0]``
        is 0.0): column after column, so each row sees exactly the additions of a Python loop
        (float64 products, one rounding each; padding adds 0.0, which changes nothing).  The
        :attr:`wide` rows come out 0.0: the caller sums them."""
        n = self.rows
        if n == 0:
            return []
        ids, mults = self.ids[:n], self.mults[:n]
        total = weights[ids[:, 0]] * mults[:, 0].astype(np.float64)
        for j in range(1, self.used):
            total += weights[ids[:, j]] * mults[:, j].astype(np.float64)
        return total.tolist()  # type: ignore[no-any-return]


class Catalog:
    """Products indexed for matching.

    ``Catalog(products)`` normalises and indexes each product; ``add(product)``
    appends one more (a product id seen before replaces nothing: ids are taken as
    given, duplicates are indexed twice).  Lookups return internal row numbers
    (``int``) into :attr:`entries`; :attr:`texts` holds the normalised names in the same
    order (for whole-catalog RapidFuzz calls).
    """

    def __init__(self, products: Iterable[Product] = ()) -> None:
        self.entries: list[Entry] = []
        self.texts: list[str] = []
        #: each name's tokens sorted and space-joined (what token_sort_ratio compares), for
        #: whole-catalog ``fuzz.ratio`` passes that equal ``token_sort_ratio`` without re-sorting
        self.sorted_texts: list[str] = []
        self.postings: dict[str, list[int]] = {}
        self.code_index: dict[str, list[int]] = {}
        self.core_index: dict[str, list[int]] = {}
        self.sku_index: dict[str, list[int]] = {}
        #: normalised name text → rows with exactly that name (see :meth:`same_name`)
        self.name_index: dict[str, list[int]] = {}
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
        self.sorted_texts.append(sorted_text(entry.norm.text))
        specific = self._specific
        specific.append(None)
        token_ids = self._token_ids
        for tok in entry.norm.tokens:
            rows = self.postings.get(tok)
            if rows is None:
                self.postings[tok] = [row]
                token_ids[tok] = len(self.postings)
                for r in self._spec_word_rows.get(tok, ()):  # "6disc" stops being specific once "disc" is a word
                    specific[r] = None
            else:
                rows.append(row)
        limit = self._specific_limit
        for code in entry.codes:
            rows = self.code_index.get(code)
            if rows is None:
                self.code_index[code] = [row]
            else:
                rows.append(row)
                if len(rows) == limit + 1:  # the code just became too common to identify
                    for r in rows:
                        specific[r] = None
        for _code, word in entry.code_candidates:
            if word is not None:
                self._spec_word_rows.setdefault(word, []).append(row)
        for core in entry.cores:
            self.core_index.setdefault(core, []).append(row)
        if entry.sku:
            self.sku_index.setdefault(entry.sku, []).append(row)
        if entry.norm.text:
            self.name_index.setdefault(entry.norm.text, []).append(row)
        if entry.norm.tokens and entry.norm.tokens[0].isalpha():
            self.first_tokens[entry.norm.tokens[0]] += 1
        if entry.brand:
            self.explicit_brands.add(entry.brand)
        self._table.append([token_ids[t] for t in entry.norm.tokens], _multipliers(entry.norm))
        return row

    def same_name(self, entry: Entry) -> list[int]:
        """Rows whose normalised name text equals ``entry``'s (one dict look-up; [] for an empty name)."""
        return self.name_index.get(entry.norm.text, []) if entry.norm.text else []

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
        norms = self._table.norms(weights)
        if self._table.wide:
            w = weights.tolist()
            ids = self._token_ids
            for r in self._table.wide:
                norm = self.entries[r].norm
                norms[r] = reduce(add, map(mul, [w[ids[t]] for t in norm.tokens], _multipliers(norm)), 0.0)
        self._norms = norms
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
            hit = frozenset(self.specific_codes(self.entries[row], limit))
            self._specific[row] = hit
        return hit

    def specific_codes(self, entry: Entry, limit: int) -> set[str]:
        """The entry's codes that identify: long enough, held by at most ``limit`` products, and not a
        number glued to a word the catalog also uses on its own ("6disc" when "disc" is a word here)."""
        code_index, postings = self.code_index, self.postings
        return {
            c
            for c, word in entry.code_candidates
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
