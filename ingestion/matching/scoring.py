"""Evidence → score (0–100) for one item/product pair.

The score is built from two parts:

* **text similarity** in [0, 1]: the mean of an IDF-weighted token overlap
  (rare words and codes count more: see :class:`~ingestion.matching.index.Catalog`)
  and RapidFuzz ``token_set_ratio`` / 100 on the normalised names;
* **code relation** between the two sides' model numbers / SKUs, which picks the
  score band.  A model number is the most specific thing in a product name, so it
  decides which band the text similarity moves in:

  ========== ============================================================ =================
  relation   meaning                                                       score
  ========== ============================================================ =================
  identical  same token set after normalisation                            100
  sku        equal SKU fields (5+ characters with a digit)                 96 + 4·sim
  exact      a shared specific code (4+ chars), or a short equal SKU       90 + 10·sim
  core       codes equal up to a trailing letter suffix (colour, variant)  70 + 22·sim
             (a core held by more products than a specific code may be is
             no evidence: matching trial, "ВА47-29" / "ДПО-40" series)
  none       no comparable codes (one side has none, or catalogue number)  94·sim^0.7
  mismatch   both have model codes, unrelated                              80·sim^0.7
  conflict   same family, different number ("pslx350h" vs "pslx300h")     50·sim
  ========== ============================================================ =================

  A *specific* code is held by few catalog products (:data:`COMMON_CODE_DF`) and is
  not a number glued to an ordinary word ("6-disc", "24port").  The exponent 0.7
  lifts mid-range text similarity so that a plausible but code-less pair reaches
  review instead of "new".  Next to a shared code, two other codes that clash make the
  pair ``core``; a code joined from a glued code and the word after it ("EP-320 blue" →
  ``ep320blue``, :attr:`~ingestion.matching.normalize.NormalizedName.suffix_joins`) takes
  no part in that test (public benchmark).

  Then: a brand conflict (both brands known, neither in the other's name)
  multiplies by 0.6 (0.85 when a brand was only guessed from the first word), or
  takes 8 points off a shared-code score; different colour words take 5 points
  off a code match or multiply by 0.93 (colours are compared as the English words
  :data:`~ingestion.matching.normalize.COLOUR_NAMES` reads Russian ones as: "черный" is
  "black"); an attribute conflict multiplies by 0.8 (:data:`ATTRIBUTE_CLASH_FACTOR`), else
  disjoint bare numbers ("2007" vs "2003") by 0.9; a category conflict (both given, different)
  multiplies by 0.9.

  An *attribute conflict* (matching trial: "ABB S201 C6" was auto-linked to
  "ABB S201 C10" at 97.6) is one attribute group on both sides with no value in
  common (:func:`~ingestion.matching.index.attribute_groups`): the same unit
  ("16a" / "25a", "16gb" / "32gb", "3000k" / "4000k", "220v" / "12v"), an IP rating
  ("ip44" / "ip65"), an ``x``-joined size ("3x2.5" / "3x1.5"), a short code with the
  same letters and another number ("c6" / "c10", "s201" / "s202", "1p" / "3p") or
  another breaker curve ("c16" / "b16", "16А C" / "16А B", "(C)" / "(D)", "тип C" / "C16" against
  "B16"; a curve letter apart from its rating is read by
  :mod:`~ingestion.matching.normalize`), a breaking capacity ("4.5ka" / "6ka"), a longer model
  series of the same letters and digit count ("ba4729" / "ba4763", i.e. "ВА47-29" / "ВА47-63"), a
  model variant ("S24+" / "S24" / "S24 Ultra", "Note 13 Pro Max" / "Note 13 Pro").
  Products that differ in one are different products, so the pair can at most go to review.

  A *brand conflict* counts as an attribute conflict too (hostile test: "EKF ВА47-63 1P C16" and
  "IEK ВА47-29 3P C16" were auto-linked to "ABB S201 C16", "ABB S202 C16" to an IEK breaker):
  both sides name a brand and share none.  A side's brands are its brand field, the built-in
  makers in its name (:data:`~ingestion.matching.brands.KNOWN_BRANDS`, Cyrillic spellings via
  the aliases) and the name tokens that are a brand field value in the catalog
  (:meth:`~ingestion.matching.index.Catalog.brands_of`); a side naming none is no conflict.
  It is not counted again when the first-word brand penalty above has already kept the pair
  off auto.  A side whose brand field names one maker and whose name names others
  (:func:`~ingestion.matching.brands.contradicting_brands`; hostile trial: "Автомат Schneider Easy9
  C16 1P" with the brand field "IEK" was auto-linked to an IEK breaker) has contradictory brand
  evidence: its field and its name brands must each meet the other side's brands, so a pair
  agreeing on the field alone, or on the name alone, is a conflict (review at most); a product
  naming no brand is none (the model decides).  Identical names with different brand fields, or
  with a side whose brand evidence may be contradictory, are scored, not linked at 100.

  Identical names (the same token set) score 100 and, when the name is *specific*
  (it holds a model code of 4+ characters or has 5+ tokens), a category
  disagreement does not lower them (matching trial: two suppliers listing the same
  product under differently named sections ended in review at 90).

  Auto-linking therefore needs a shared specific code and a text similarity of at
  least one half with no conflict, or identical names — conservative on purpose,
  since a wrong automatic link costs more than a review.

Speed: what one item needs from the catalog (token weights, its specific codes, its
brand, its sets) is computed once per item in an :class:`ItemContext`; what one
product needs is kept on its :class:`~ingestion.matching.index.Entry` and, for its
specific codes, cached by the catalog.  Every penalty only lowers a band's score, so
the band bounds the result: :func:`score_row` given a ``below`` stops as soon as the
relation and the text similarity show a row cannot reach it (a ``conflict`` row
without even computing the overlap).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import AbstractSet, Iterable, Literal

from rapidfuzz.fuzz import token_set_ratio as _token_set_ratio

from ingestion.matching.brands import contradicting_brands
from ingestion.matching.index import CODE_WEIGHT, Catalog, Entry, _code_candidates
from ingestion.matching.normalize import COLOURS, code_family

__all__ = [
    "CodeRelation",
    "ItemContext",
    "code_limit",
    "code_relation",
    "text_similarity",
    "weighted_overlap",
    "pair_score",
    "score_row",
    "COLOURS",
]

CodeRelation = Literal["sku", "exact", "core", "none", "mismatch", "conflict"]


#: A code held by more catalog products than this (or this fraction of the catalog) is a spec
#: ("1080p", "2line"), not a model number: it counts as a plain word.
COMMON_CODE_DF = 5
COMMON_CODE_FRACTION = 0.0005

COLOUR_CLASH_POINTS = 5.0
#: Multiplier for an attribute conflict (a rating, unit value, size or IP class that differs).
ATTRIBUTE_CLASH_FACTOR = 0.8
#: A name with at least this many tokens is specific enough for an identical name to link across
#: categories even without a model code.
SPECIFIC_NAME_TOKENS = 5
BRAND_CLASH_POINTS = 8.0
NUMBER_CLASH_FACTOR = 0.9

_EMPTY: frozenset[str] = frozenset()


def code_limit(catalog: Catalog) -> int:
    """How many products may hold a code that still identifies: ``max(COMMON_CODE_DF, COMMON_CODE_FRACTION × N)``."""
    return max(COMMON_CODE_DF, int(COMMON_CODE_FRACTION * len(catalog)))


class ItemContext:
    """What scoring one item needs from the catalog, computed once per item (not once per pair).

    ``weights`` maps each item token to its IDF weight (not multiplied for codes);
    ``weight`` is :meth:`Catalog.entry_weight` of the item and ``code_weight`` the part
    of it its code tokens carry; ``codes`` its specific codes (:meth:`Catalog.specific_codes`);
    ``brand`` :meth:`Catalog.brand_of` the item; ``tokens``, ``long_tokens``, ``colours``,
    ``bare_numbers`` the item's tuples as sets, ``long_codes`` its specific codes of 5+ characters
    (those a product's long token can meet: a product keeps no long tokens of its own), ``units``
    its attribute values by attribute group (:func:`~ingestion.matching.index.attribute_groups`,
    units included) and
    ``cores`` the item's code cores held by at most ``limit`` products (a series
    shared by many products, "ВА47-29", is no evidence: matching trial) and
    ``specific_name`` whether an identical name links across categories (a model code of
    4+ characters, or :data:`SPECIFIC_NAME_TOKENS` tokens); ``brands`` every brand the item
    names (:meth:`Catalog.brands_of`) and ``brand_parts`` its field brand and its name brands when
    they contradict each other (:func:`~ingestion.matching.brands.contradicting_brands`), else ().
    Valid while the catalog does not change.
    """

    __slots__ = (
        "catalog", "item", "n", "limit", "weights", "weight", "code_weight", "codes", "brand",
        "tokens", "long_tokens", "long_codes", "colours", "bare_numbers", "units", "code_shapes", "code_heads",
        "specific_name", "cores", "brands", "brand_parts",
    )

    def __init__(self, catalog: Catalog, item: Entry) -> None:
        self.catalog = catalog
        self.item = item
        n = len(catalog)
        self.n = n
        self.limit = max(COMMON_CODE_DF, int(COMMON_CODE_FRACTION * n))
        postings = catalog.postings
        codes = item.norm.codes
        weights: dict[str, float] = {}
        total = 0.0
        code_total = 0.0
        log = math.log
        n1 = n + 1
        for t in item.norm.tokens:
            w = log(1.0 + n1 / (len(postings.get(t, ())) + 1))
            weights[t] = w
            if t in codes:
                total += w * CODE_WEIGHT
                code_total += w * CODE_WEIGHT  # the same additions, in token order, as a second loop
            else:
                total += w
        self.weights = weights
        self.weight = total
        self.code_weight = code_total
        self.codes: AbstractSet[str] = catalog.specific_codes(item, self.limit)
        self.code_shapes = [(a, len(a), *_code_shape(a)) for a in self.codes]
        self.code_heads = (
            frozenset(a[:3] for a in self.codes),
            frozenset(fam for a, _, digits, fam, _ in self.code_shapes if fam and not digits),
            frozenset(len(a) for a, la, digits, _, _ in self.code_shapes if digits and la >= 5),
        )
        self.brand = catalog.brand_of(item)
        self.brands = catalog.brands_of(item)
        parts = contradicting_brands(item.brand, item.norm.tokens, catalog.explicit_brands)
        self.brand_parts: tuple[frozenset[str], ...] = parts or ()
        self.tokens = frozenset(item.norm.tokens)
        self.long_tokens = frozenset(item.long_tokens)
        self.long_codes = frozenset([c for c in self.codes if len(c) >= 5])
        self.colours = frozenset(item.colours)
        self.bare_numbers = frozenset(item.bare_numbers)
        self.units = dict(item.attributes)
        core_index = catalog.core_index
        self.cores = frozenset(c for c in item.cores if len(core_index.get(c, ())) <= self.limit)
        self.specific_name = len(item.norm.tokens) >= SPECIFIC_NAME_TOKENS or any(
            len(t) >= 4 for t in item.code_tokens
        )


def _specific_codes(catalog: Catalog, codes: Iterable[str]) -> set[str]:
    """Specific codes among ``codes`` (see :meth:`Catalog.specific_codes`); for callers without an entry."""
    limit = code_limit(catalog)
    postings, code_index = catalog.postings, catalog.code_index
    return {
        c
        for c, word in _code_candidates(codes)
        if len(code_index.get(c, ())) <= limit and (word is None or not postings.get(word))
    }


@lru_cache(maxsize=1 << 15)
def _code_shape(code: str) -> tuple[bool, str, bool]:
    """``(all digits, family, holds a digit)`` of a code key, cached (codes recur pair after pair)."""
    return code.isdigit(), code_family(code), any(map(str.isdigit, code))


@lru_cache(maxsize=1 << 16)
def _code_shapes(codes: frozenset[str]) -> tuple[tuple[str, int, bool, str, bool, str], ...]:
    """``(code, length, all digits, family, holds a digit, first three characters)`` of each code of a
    product's specific-code set, cached by the set (the catalog keeps one set object per row, and a
    row is scored for many items)."""
    return tuple((c, len(c), *_code_shape(c), c[:3]) for c in codes)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _clash(a: Iterable[str], b: AbstractSet[str]) -> bool:
    """Two code sets clash when some pair looks like one family with another number.

    Letter-bearing codes clash when they share their leading letters or a 3+ character
    prefix yet neither is a prefix of the other ("pslx350h" / "pslx300h", "kxts208w" /
    "kxtsc14w"); digit-only codes clash when they have the same length (5+) and differ.
    """
    for x in a:
        x_digits, fam_x, _ = _code_shape(x)
        for y in b:
            if x == y or x.startswith(y) or y.startswith(x):
                continue
            y_digits, fam_y, _ = _code_shape(y)
            if x_digits and y_digits:
                if len(x) == len(y) and len(x) >= 5:
                    return True
                continue
            if x_digits or y_digits:
                continue
            if (fam_x and fam_x == fam_y) or _common_prefix(x, y) >= 3:
                return True
    return False


def _written(codes: AbstractSet[str], entry: Entry) -> AbstractSet[str]:
    """``codes`` (a set of code keys) without ``entry``'s suffix joins
    (:attr:`~ingestion.matching.normalize.NormalizedName.suffix_joins`).

    A glued code and the word written after it ("EP-320 blue" → ``ep320blue``, "RX-V363 home" →
    ``rxv363home``) only serve to meet the other side's code: next to a shared code, one that meets
    nothing is no second model making the shared one a near match (public benchmark: "ep-320 lp"
    against "ep-320 blue" fell to review).
    """
    joins = entry.norm.suffix_joins
    return codes - joins if joins else codes


def _other_models(mine: AbstractSet[str], theirs: AbstractSet[str]) -> bool:
    """Both sides have model codes (letters and digits) and none of one side's is part of one of the
    other side's ("12volt" is part of "mount12volt": the same words written together)."""
    a = [c for c in mine if not c.isdigit() and any(map(str.isdigit, c))]
    b = [c for c in theirs if not c.isdigit() and any(map(str.isdigit, c))]
    return bool(a and b) and not any(x in y or y in x for x in a for y in b)


def _relation(ctx: ItemContext, product: Entry, pc: AbstractSet[str]) -> CodeRelation:
    """:func:`code_relation` of the context's item and ``product``, whose specific codes are ``pc``."""
    item = ctx.item
    if item.sku and product.sku and item.sku == product.sku:
        return "sku" if len(item.sku) >= 5 and any(map(str.isdigit, item.sku)) else "exact"
    ic = ctx.codes
    # the item's codes among the product's tokens of 5+ characters = its codes of 5+ characters among them
    ptokens = product.norm.tokens
    if (pc or ic) and not (
        ic.isdisjoint(pc) and pc.isdisjoint(ctx.long_tokens) and ctx.long_codes.isdisjoint(ptokens)
    ):
        shared = (ic & pc) | (pc & ctx.long_tokens) | ctx.long_codes.intersection(ptokens)
        if shared:
            rest_i, rest_p = ic - shared, pc - shared
            if all(map(str.isdigit, shared)) and _other_models(rest_i, rest_p):
                # Only a number in common, and each side a model code (letters and digits) the other does
                # not have: a near match at most (the trial: "Philips B333-10 18746" was auto-linked to
                # "Philips A721-25 18746").  One side without a model code keeps the number's evidence
                # (the public benchmark: "Nikon … 25334" is "Nikon EN-EL3E … 25334").
                return "core"
            # A shared code next to two clashing ones (same family, other number) is only a near match.
            if rest_i and rest_p:
                return "core" if _clash(_written(rest_i, item), _written(rest_p, product)) else "exact"
            return "exact"
    cores = ctx.cores
    if cores and product.cores and not cores.isdisjoint(product.cores):
        return "core"
    if not ic or not pc:
        return "none"
    # A prefix relation (shorter side 4+ characters) or a clash needs equal first three characters,
    # an equal family or two digit codes of one length: without any, neither test can hold.
    heads, families, digit_lengths = ctx.code_heads
    shapes = _code_shapes(pc)  # pc is the catalog's cached set of the row: a dictionary hit
    for b, lb, b_digits, fam_b, _, head in shapes:
        if head in heads:
            break
        if (lb in digit_lengths) if b_digits else (fam_b in families):
            break
    else:
        return "mismatch" if not all(map(str.isdigit, ic)) and not all(map(str.isdigit, pc)) else "none"
    # One pass over the code pairs for both tests: a prefix relation (shorter side 4+ characters
    # with a digit) makes it "core" whatever else; else a clash (see _clash) makes it "conflict".
    # (Both are "any pair" tests, so the order the pairs are met in does not matter.)
    clash = False
    for a, la, a_digits, fam_a, a_has_digit in ctx.code_shapes:
        for b, lb, b_digits, fam_b, b_has_digit, _ in shapes:
            if la <= lb:
                if b.startswith(a):
                    if la >= 4 and a_has_digit:
                        return "core"
                    continue
            elif a.startswith(b):
                if lb >= 4 and b_has_digit:
                    return "core"
                continue
            if clash:
                continue
            if a_digits and b_digits:
                clash = la == lb and la >= 5
            elif not (a_digits or b_digits):
                # (codes are 3+ characters long: see index._code_facts)
                clash = bool(fam_a and fam_a == fam_b) or (a[:3] == b[:3] and la >= 3 and lb >= 3)
    if clash:
        return "conflict"
    # Model code on both sides, unrelated.  A model code against a catalogue number is no evidence.
    return "mismatch" if not all(map(str.isdigit, ic)) and not all(map(str.isdigit, pc)) else "none"


def code_relation(catalog: Catalog, item: Entry, product: Entry) -> CodeRelation:
    """How the model numbers / SKUs of an item and a product relate (see the module table).

    Only *specific* codes count: held by at most ``max(COMMON_CODE_DF, COMMON_CODE_FRACTION × N)``
    catalog products.  A product code may also be met by a plain 5+ character item word
    (and the other way round): "mbaclrsee" equals the code of "mba-clr-see".
    """
    ctx = ItemContext(catalog, item)
    return _relation(ctx, product, _specific_codes(catalog, product.codes))


def _overlap(ctx: ItemContext, row: int, product: Entry) -> float:
    shared = ctx.tokens.intersection(product.norm.tokens)
    item_weight = ctx.weight
    if not shared or item_weight <= 0:
        return 0.0
    catalog = ctx.catalog
    weights = ctx.weights
    icodes, pcodes = ctx.item.norm.codes, product.norm.codes
    sw = 0.0
    for t in shared:
        sw += weights[t] * CODE_WEIGHT if (t in icodes or t in pcodes) else weights[t]
    pw = catalog.norm(row)
    # A side's codes cannot be matched when the other side names no code: leave them out.
    if not pcodes and icodes:
        item_weight -= ctx.code_weight
    if not icodes and pcodes:
        n1 = ctx.n + 1
        postings = catalog.postings
        # (the product's code tokens in name order: Entry.code_tokens, without making the tuple)
        pw -= sum(
            math.log(1.0 + n1 / (len(postings.get(t, ())) + 1)) * CODE_WEIGHT
            for t in product.norm.tokens
            if t in pcodes
        )
    ci = min(1.0, sw / item_weight) if item_weight > 0 else 0.0
    cp = min(1.0, sw / pw) if pw > 0 else 0.0
    return 0.5 * ci + 0.5 * cp


def weighted_overlap(catalog: Catalog, item: Entry, item_weight: float, row: int) -> float:
    """IDF-weighted overlap in [0, 1]: mean of shared/item weight and shared/product weight.

    ``item_weight`` is :meth:`Catalog.entry_weight` of ``item``.
    """
    ctx = ItemContext(catalog, item)
    ctx.weight = item_weight
    return _overlap(ctx, row, catalog.entries[row])


def text_similarity(overlap: float, token_set: float) -> float:
    """Text similarity in [0, 1] from a weighted overlap (0–1) and a token_set_ratio (0–100)."""
    return 0.5 * overlap + 0.5 * (token_set / 100.0)


def _attribute_conflict(ctx: ItemContext, product: Entry) -> bool:
    """The same attribute group on both sides with no value in common ("16gb" vs "32gb", "c6" vs
    "c10", "ip44" vs "ip65"; groups: :func:`~ingestion.matching.index.attribute_groups`), or with as
    many values on each side, two or more, but not the same ones ("8gb 128gb" vs "8gb 256gb": the
    trial found phones of one RAM and other storage auto-linked)."""
    units = ctx.units
    if not units or not product.attributes:
        return False
    for unit, values in product.attributes:
        mine = units.get(unit)
        if mine is not None and (mine.isdisjoint(values) or (len(mine) == len(values) > 1 and mine != values)):
            # (two values each, not the same two: "8/128GB" against "8/256GB", RAM and storage)
            return True
    return False


def _brand_conflict(ctx: ItemContext, product: Entry) -> bool:
    """Both sides name a brand (brand field, a built-in brand or a catalog brand in the name, see
    :meth:`Catalog.brands_of`) and they share none: "EKF ВА47-63" against "ABB S201".  A side whose
    brand field contradicts its name (:func:`~ingestion.matching.brands.contradicting_brands`) must
    meet the other side with both: "Schneider Easy9" with the field "IEK" against an IEK breaker."""
    bi = ctx.brands
    if not bi:
        return False
    bp = ctx.catalog.brands_of(product)
    if not bp:
        return False
    if bi.isdisjoint(bp):
        return True
    for part in ctx.brand_parts:
        if part.isdisjoint(bp):
            return True
    # a product's field and name brands differ only when it names 2+ brands (Entry.brands holds both)
    if product.brand and len(product.brands) > 1:
        parts = contradicting_brands(product.brand, product.norm.tokens, ctx.catalog.explicit_brands)
        if parts is not None and (parts[0].isdisjoint(bi) or parts[1].isdisjoint(bi)):
            return True
    return False


def _colour_conflict(ctx: ItemContext, product: Entry) -> bool:
    ci = ctx.colours
    return bool(ci and product.colours and ci.isdisjoint(product.colours))


def _number_conflict(ctx: ItemContext, product: Entry) -> bool:
    """Both names carry bare numbers (2+ digits: versions, years, sizes) and share none,
    not even inside the other side's codes ("office 2007" vs "office 2003")."""
    ni, np_ = ctx.bare_numbers, product.bare_numbers
    if not ni or not np_ or not ni.isdisjoint(np_):
        return False
    text_i, text_p = " ".join(ctx.item.codes), " ".join(product.codes)
    return not any(n in text_p for n in ni) and not any(n in text_i for n in np_)


def _brand_penalty(ctx: ItemContext, product: Entry) -> float:
    """Multiplier for clashing brands: 0.6 when both brands were given, 0.85 when one was guessed
    from a name's first word; 1.0 when they agree, one contains the other, or one is unknown."""
    bi = ctx.brand
    if not bi:
        return 1.0
    bp = ctx.catalog.brand_of(product)
    if not bp or bi.startswith(bp) or bp.startswith(bi):
        return 1.0
    if bi in product.norm.tokens or bp in ctx.tokens:
        return 1.0
    return 0.6 if ctx.item.brand and product.brand else 0.85


def _band(rel: CodeRelation, sim: float) -> float:
    """The score band of a code relation at text similarity ``sim`` (0–1), before any penalty."""
    if rel == "sku":
        return 96.0 + 4.0 * sim
    if rel == "exact":
        return 90.0 + 10.0 * sim
    if rel == "core":
        return 70.0 + 22.0 * sim
    if rel == "none":
        return 94.0 * float(sim**0.7)
    if rel == "mismatch":
        return 80.0 * float(sim**0.7)
    return 50.0 * sim


def score_row(ctx: ItemContext, row: int, token_set: float | None = None, below: float = 0.0) -> float | None:
    """The 0–100 score of the context's item against catalog row ``row``.

    ``token_set`` is RapidFuzz ``token_set_ratio`` (0–100) of the two normalised names
    (computed here when None).  With ``below`` > 0 a row that provably scores below it
    is not scored in full: None is returned instead (the code relation and the text
    similarity bound the score before any penalty is looked at).  Otherwise the score,
    rounded to 2 decimals.
    """
    item = ctx.item
    product = ctx.catalog.entries[row]
    category_factor = 0.9 if item.category and product.category and item.category != product.category else 1.0
    ptokens = product.norm.tokens
    tokens = ctx.tokens
    if tokens and len(ptokens) == len(tokens) and tokens.issuperset(ptokens):
        # identical names: nothing can conflict; a specific one links whatever the sections say —
        # unless the brand fields differ, or a side's brand field may contradict its name (a product
        # naming 2+ brands, see contradicting_brands): those are scored, the brand check below decides
        if (
            ctx.specific_name
            and not (item.brand and product.brand and item.brand != product.brand)
            and not ctx.brand_parts
            and not (product.brand and len(product.brands) > 1)
        ):
            return 100.0
        score = 100.0
        penalty = 1.0
    else:
        pc = ctx.catalog.row_specific_codes(row, ctx.limit) if product.code_candidates else _EMPTY
        rel = _relation(ctx, product, pc)
        # Every penalty below only lowers the band's score, so band × category factor bounds the
        # result (0.01 of slack for the final rounding); the bound is tried before each costly step,
        # with the similarity parts not yet known taken at their maximum (1).
        if rel == "conflict" and 50.0 * category_factor + 0.01 < below:
            return None
        overlap = _overlap(ctx, row, product)
        if below > 0.0 and token_set is None and _band(rel, 0.5 * overlap + 0.5) * category_factor + 0.01 < below:
            return None
        if token_set is None:
            token_set = _token_set_ratio(item.norm.text, product.norm.text)
        sim = 0.5 * overlap + 0.5 * (token_set / 100.0)
        score = _band(rel, sim)
        if min(100.0, score) * category_factor + 0.01 < below:
            return None
        penalty = _brand_penalty(ctx, product)
        if rel == "exact" or rel == "sku":
            # a shared code across two makers: keep it on top, but never link it unseen
            score -= BRAND_CLASH_POINTS if penalty < 1.0 else 0.0
        else:
            score *= penalty
        if _colour_conflict(ctx, product):
            score = score - COLOUR_CLASH_POINTS if rel in ("exact", "sku", "core") else score * 0.93
    # a brand conflict is an attribute conflict, unless the brand penalty has already kept it off auto
    if _attribute_conflict(ctx, product) or (penalty == 1.0 and _brand_conflict(ctx, product)):
        score *= ATTRIBUTE_CLASH_FACTOR
    elif _number_conflict(ctx, product):
        score *= NUMBER_CLASH_FACTOR
    if category_factor != 1.0:
        score *= category_factor
    return round(min(100.0, max(0.0, score)), 2)


def pair_score(catalog: Catalog, item: Entry, item_weight: float, row: int, token_set: float) -> float:
    """The 0–100 score of one item against catalog row ``row``; ``token_set`` is its token_set_ratio.

    ``item_weight`` is :meth:`Catalog.entry_weight` of ``item``.  To score many rows for one
    item, build one :class:`ItemContext` and call :func:`score_row` instead.
    """
    ctx = ItemContext(catalog, item)
    ctx.weight = item_weight
    score = score_row(ctx, row, token_set)
    assert score is not None  # never None without a `below`
    return score
