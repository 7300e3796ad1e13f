"""Match supplier items to catalog products: block, score survivors, decide.

For each item (DESIGN §8, matching cost: never score the whole catalog with an
expensive scorer):

1. **Block**: collect catalog rows that share the item's SKU, its exact normalised
   name (one dict look-up: an identical name is found even when all its words are
   common), a code, a code core,
   or a word held by at most ``max(MIN_RARE_DF, min(RARE_DF_FRACTION × N, RARE_DF_MAX))``
   products (an attribute token — unit, IP rating, size — only adds weight to rows found
   otherwise, and so does a code or word held by more, up to ``RARE_DF_FRACTION × N``: in
   a large catalog a word of thousands of products would bring thousands of rows per item;
   an item sharing nothing else keeps the ``max_survivors // ATTRIBUTE_ONLY_SHARE`` rows
   sharing the most attribute weight), through
   the catalog's inverted indexes; rows are ranked by the summed IDF weight of what
   they share, and the best ``max_survivors`` (plus every SKU / same-name / exact-code
   hit) go on.
   An item sharing nothing rare gets, in a catalog of at most ``FALLBACK_MAX_ROWS``, one
   ``process.extract(token_sort_ratio, score_cutoff=FALLBACK_CUTOFF)`` pass over the whole
   catalog instead (C loop, cheap scorer).
2. **Score** the survivors with :func:`~ingestion.matching.scoring.score_row` (what the
   item needs from the catalog is computed once, in an
   :class:`~ingestion.matching.scoring.ItemContext`).  A survivor that provably scores
   below :attr:`Matcher.cutoff` — the lowest of the candidate floor, the potential
   threshold and the auto threshold minus the margin — is dropped as soon as its code
   relation and text similarity show it (a ``conflict`` row before its similarity is
   even computed): it could not be shown, linked, or keep the best one from being
   linked, so decisions and candidates are those of scoring everything.
3. **Decide**: ``auto`` when the best score ≥ ``auto_threshold`` and the runner-up
   (another product) is at least ``auto_margin`` points lower; ``review`` when the
   best score ≥ ``potential_threshold``; else ``new``.

Cost: one item against a catalog of tens of thousands of products is a few dozen
survivors scored, each mostly set operations on precomputed entries (see
:mod:`~ingestion.matching.index`); names are normalised once (cached by name).

Thresholds default to the service settings (auto 95, potential 70, 5 candidates).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Container, Iterable, Sequence

from rapidfuzz import fuzz, process

from ingestion.matching.index import Catalog, Entry, prepare, sorted_text
from ingestion.matching.records import Candidate, Decision, Item, MatchResult
from ingestion.matching.scoring import ItemContext, score_row

__all__ = [
    "Matcher",
    "MIN_RARE_DF",
    "RARE_DF_FRACTION",
    "DEFAULT_AUTO_THRESHOLD",
    "DEFAULT_POTENTIAL_THRESHOLD",
    "DEFAULT_MAX_CANDIDATES",
]

#: A word shared by at most this many products always counts for blocking.
MIN_RARE_DF = 50
#: ... or by at most this fraction of the catalog, whichever is larger.
RARE_DF_FRACTION = 0.02
#: ... but a word shared by more than this many products brings no rows of its own however large the
#: catalog: it only adds its weight to rows found otherwise (summing posting lists of 2 % of a 600k
#: catalog was a third of the matching time at bench/e2e.py's full scale).
RARE_DF_MAX = 1000
#: A code shared with at most this many products keeps them all as candidates, however many
#: other candidates there are; a commoner code ("d20", "3м") only adds weight.
MUST_MAX_ROWS = 8
#: The score of two names that read the same (identical normalised names score 100).
IDENTICAL = 100.0
#: An item sharing nothing rare but attribute tokens keeps max_survivors // this many rows.
ATTRIBUTE_ONLY_SHARE = 4
#: token_sort_ratio (0–100) a row needs in the whole-catalog fallback (items sharing no rare word).
FALLBACK_CUTOFF = 60.0
#: ... and only in catalogs up to this size: in a large one an item sharing no rare word
#: has no plausible product, and the pass would cost ~N comparisons per item.
FALLBACK_MAX_ROWS = 5000

from ingestion.settings import (
    DEFAULT_MATCH_AUTO_THRESHOLD as DEFAULT_AUTO_THRESHOLD,
    DEFAULT_MATCH_MAX_CANDIDATES as DEFAULT_MAX_CANDIDATES,
    DEFAULT_MATCH_POTENTIAL_THRESHOLD as DEFAULT_POTENTIAL_THRESHOLD,
)


def _top_rows(acc: dict[int, float], n: int) -> list[int]:
    """The ``n`` rows of ``acc`` (row → summed weight) with the largest weights, largest first; among
    equal weights the row met first (``acc``'s order) first — ``heapq.nlargest(n, acc, key=acc.get)``,
    i.e. ``sorted(acc, key=acc.get, reverse=True)[:n]``.

    Cost: one C sort of the weights to find the n-th largest, one pass keeping the rows at or above
    it, and a sort of those few (``nlargest`` calls the key from Python for every row).
    """
    if n <= 0:
        return []
    if len(acc) <= n:
        return sorted(acc, key=acc.__getitem__, reverse=True)
    weights = sorted(acc.values(), reverse=True)
    least = weights[n - 1]
    # every row of the result weighs at least `least`; rows weighing exactly `least` keep acc's order
    keep = [r for r, w in acc.items() if w >= least]
    keep.sort(key=acc.__getitem__, reverse=True)
    return keep[:n]


def _summed_weights(lists: Iterable[tuple[Iterable[int], float]]) -> dict[int, float]:
    """Row → summed weight over ``(rows, weight)`` posting lists, rows in the order first met.  Built with
    dict operations that run in C (a row list at a time); only rows met twice are added up in Python."""
    acc: dict[int, float] = {}
    for rows, w in lists:
        if not acc:
            acc = dict.fromkeys(rows, w)
            continue
        more = dict.fromkeys(rows, w)
        for r in acc.keys() & more.keys():
            more[r] = acc[r] + w
        acc.update(more)
    return acc


def _add_to_found(acc: dict[int, float], rows: list[int], w: float) -> None:
    """Add ``w`` to the rows of ``acc`` that are in ``rows`` (a posting list: ascending row numbers).
    A long list is not walked: each row of ``acc`` is looked up in it by bisection."""
    if len(rows) <= 8 * len(acc):
        for r in acc.keys() & rows:
            acc[r] += w
        return
    hi = len(rows)
    for r in acc:
        i = bisect_left(rows, r)
        if i < hi and rows[i] == r:
            acc[r] += w


class Matcher:
    """Scores items against a :class:`Catalog` and decides auto / review / new.

    ``auto_threshold``, ``potential_threshold``: scores 0–100; ``potential_threshold``
    must not exceed ``auto_threshold`` (``ValueError`` otherwise).  ``max_candidates`` ≥ 1.
    ``candidate_floor``: a review lists candidates scoring at least this much (default:
    the potential threshold minus 20), so a manager also sees near-misses.
    ``auto_margin``: points the best product must lead the next one by to be linked automatically.
    ``max_survivors``: candidates kept by blocking (besides SKU / exact-code / same-name hits).
    ``prune``: skip the full scoring of candidates that provably score below :attr:`cutoff`;
    decisions and review candidates are the same either way, only the score reported with a
    ``new`` decision (the best candidate scored in full, or 0.0) can be lower.
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        auto_threshold: float = DEFAULT_AUTO_THRESHOLD,
        potential_threshold: float = DEFAULT_POTENTIAL_THRESHOLD,
        max_candidates: int = DEFAULT_MAX_CANDIDATES,
        candidate_floor: float | None = None,
        auto_margin: float = 3.0,
        max_survivors: int = 40,
        prune: bool = True,
    ) -> None:
        if not 0 <= potential_threshold <= auto_threshold <= 100:
            raise ValueError(
                f"need 0 <= potential ({potential_threshold}) <= auto ({auto_threshold}) <= 100"
            )
        if max_candidates < 1:
            raise ValueError(f"max_candidates must be >= 1, got {max_candidates}")
        self.catalog = catalog
        self.auto_threshold = float(auto_threshold)
        self.potential_threshold = float(potential_threshold)
        self.max_candidates = max_candidates
        self.candidate_floor = (
            max(0.0, self.potential_threshold - 20.0) if candidate_floor is None else float(candidate_floor)
        )
        self.auto_margin = auto_margin
        self.max_survivors = max_survivors
        self.prune = prune
        #: Scores below this change no decision and are never shown (below the candidate floor,
        #: the potential threshold, and the auto threshold minus the margin).
        self.cutoff = max(0.0, min(self.candidate_floor, self.potential_threshold, self.auto_threshold - auto_margin))

    # -- blocking ------------------------------------------------------------------------

    def block(self, item: Entry) -> list[int]:
        """Catalog rows worth scoring for ``item``, best-sharing first (SKU / same-name / exact-code
        hits always kept)."""
        cat = self.catalog
        n = len(cat)
        # words up to add_df count for the ranking; only those up to rare_df bring rows of their own
        add_df = max(MIN_RARE_DF, int(RARE_DF_FRACTION * n))
        rare_df = min(add_df, max(MIN_RARE_DF, RARE_DF_MAX))
        must: set[int] = set(cat.same_name(item))
        if item.sku:
            must.update(cat.sku_index.get(item.sku, ()))
        # (rows, weight) of every rare code, core and word, in the order they are added up; and of the
        # commoner ones that only add weight to rows found otherwise
        lists: list[tuple[list[int], float]] = []
        common: list[tuple[list[int], float]] = []
        for code in item.codes:
            rows = cat.code_index.get(code, [])
            if len(rows) <= MUST_MAX_ROWS:
                must.update(rows)
            w = cat.weight(code, True)
            if rows and len(rows) <= rare_df:
                lists.append((rows, w))
            elif rows and len(rows) <= add_df:
                common.append((rows, w))
        for core in item.cores:
            rows = cat.core_index.get(core, [])
            if rows and len(rows) <= rare_df:
                lists.append((rows, cat.weight(core, True) * 0.8))
            elif rows and len(rows) <= add_df:
                common.append((rows, cat.weight(core, True) * 0.8))
        codes = item.norm.codes
        units, attributes = item.norm.units, item.norm.attributes
        # attribute tokens ("16a", "ip44", "3x2.5") are shared by many different products: they add
        # weight to rows found otherwise but bring in no row of their own (matching trial: rows that
        # shared only "ip31" with an item were 70 % of all rows scored), unless nothing else is shared
        attribute_lists: list[tuple[list[int], float]] = []
        for tok in item.norm.tokens:
            if tok in codes:
                continue
            rows = cat.postings.get(tok, [])
            if not rows:
                continue
            if len(rows) > rare_df:
                if len(rows) <= add_df:
                    common.append((rows, cat.weight(tok)))
                continue
            if tok in units or tok in attributes:
                attribute_lists.append((rows, cat.weight(tok)))
            else:
                lists.append((rows, cat.weight(tok)))
        acc = _summed_weights(lists)
        survivors = self.max_survivors
        if acc:
            for rows, w in attribute_lists:
                _add_to_found(acc, rows, w)
            for rows, w in common:
                _add_to_found(acc, rows, w)
        else:
            # only attributes in common: the few rows sharing the most of them
            survivors = self.max_survivors // ATTRIBUTE_ONLY_SHARE or 1
            acc = _summed_weights(attribute_lists)
        ranked = _top_rows(acc, survivors)
        seen = set(ranked)
        rows = ranked + [r for r in must if r not in seen]
        if not rows and item.norm.text and 0 < n <= FALLBACK_MAX_ROWS:
            # Nothing rare in common: one cheap whole-catalog pass (C loop) with a cutoff:
            # token_sort_ratio, as fuzz.ratio on names whose tokens the catalog keeps sorted.
            rows = [
                r
                for _, _, r in process.extract(
                    sorted_text(item.norm.text),
                    cat.sorted_texts,
                    scorer=fuzz.ratio,
                    processor=None,
                    limit=self.max_survivors // 4 or 1,
                    score_cutoff=FALLBACK_CUTOFF,
                )
            ]
        return rows

    # -- scoring -------------------------------------------------------------------------

    def score(self, item: Entry) -> list[Candidate]:
        """Surviving candidates of ``item`` with scores (0–100), best first; ties by catalog order.

        With ``prune`` (the default) a candidate that provably scores below :attr:`cutoff`
        is left out: it could neither be shown, nor be linked, nor keep the best one from
        being linked.
        """
        return [Candidate(pid, s) for pid, s in self._ranked(item, None)]

    def _ranked(
        self, item: Entry, limit: int | None, exclude: Container[str] = frozenset()
    ) -> list[tuple[str, float]]:
        """``(product id, score)`` of the best ``limit`` (all when None) products, best first; a product in
        ``exclude`` only when it scores :data:`IDENTICAL` (its name reads the same)."""
        rows = self.block(item)
        if not rows:
            return []
        cat = self.catalog
        entries = cat.entries
        ctx = ItemContext(cat, item)
        below = self.cutoff if self.prune else 0.0
        scored: list[tuple[float, int]] = []
        for r in rows:
            s = score_row(ctx, r, None, below)
            if s is not None:
                scored.append((-s, r))
        scored.sort()
        best: dict[str, float] = {}
        for s, r in scored:
            pid = entries[r].id
            if pid not in best and (s <= -IDENTICAL or pid not in exclude):
                best[pid] = -s
                if limit is not None and len(best) >= limit:
                    break
        return list(best.items())

    def decide(self, item_id: str, candidates: Sequence[Candidate]) -> MatchResult:
        """Turn scored candidates (best first) into a :class:`MatchResult`."""
        if not candidates or candidates[0].score < self.potential_threshold:
            best_score = candidates[0].score if candidates else 0.0
            return MatchResult(item_id, "new", None, best_score, [])
        top = candidates[0]
        runner_up = candidates[1].score if len(candidates) > 1 else 0.0
        decision: Decision = (
            "auto"
            if top.score >= self.auto_threshold and top.score - runner_up >= self.auto_margin
            else "review"
        )
        shown = [c for c in candidates if c.score >= self.candidate_floor][: self.max_candidates]
        return MatchResult(item_id, decision, top.product_id, top.score, shown)

    def match_one(self, item: Item) -> MatchResult:
        """Score and decide one item."""
        return self.match_entry(prepare(item))

    def match_entry(self, entry: Entry, exclude: Container[str] = frozenset()) -> MatchResult:
        """Score and decide one already prepared item (:func:`~ingestion.matching.index.prepare`).

        ``exclude``: product ids that are not this item's product unless their names read the same
        (score :data:`IDENTICAL`): the pipeline passes the products its supplier already offers under
        another SKU — another SKU of one list is another product, unless the list repeats a name.
        """
        # decide() reads the best, the runner-up and at most max_candidates shown ones
        ranked = self._ranked(entry, max(2, self.max_candidates), exclude)
        return self.decide(entry.id, [Candidate(pid, s) for pid, s in ranked])

    def match(self, items: Iterable[Item]) -> list[MatchResult]:
        """Score and decide a batch of items, in input order."""
        return [self.match_one(it) for it in items]
