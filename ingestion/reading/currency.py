"""Currency marks in cell text, headers and number formats → ISO 4217 codes.

Only unambiguous marks are mapped: ``kr`` (SEK/NOK/DKK), ``¥`` (JPY/CNY) and
``у.е.`` (a "conventional unit") give ``None`` — unknown rather than guessed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

_ISO_CODES: Final = frozenset(
    "RUB RUR USD EUR UAH PLN CHF BYN BYR KZT BGN GBP SEK NOK DKK CZK HUF RON MDL GEL AMD AZN "
    "UZS KGS TJS TRY CNY JPY CAD AUD LTL LVL EEK".split()
)

#: The ISO 4217 codes a currency setting may name (old codes ``RUR``/``BYR`` map to ``RUB``/``BYN``).
KNOWN_CODES: Final = _ISO_CODES

#: ISO 4217 codes without a mark of their own in :data:`_MARKS`, read only beside an amount (case-folded).
_BESIDE_AMOUNT: Final = tuple(
    "aed sar qar kwd bhd omr jod ils inr pkr hkd sgd nzd zar brl mxn ars clp cop pen krw thb idr myr php vnd "
    "egp rsd hrk isk ron gel amd azn tjs tmt mnt ltl lvl eek".split()
)

# (pattern on case-folded text, ISO code); checked in order, first hit wins (an empty code: the match itself).
_MARKS: Final[list[tuple[re.Pattern[str], str]]] = [
    (re.compile(r"бел\w*\.?\s*р(?:уб)?|\bbyn\b|\bbyr\b|\bбр\b|\bbr\b(?!\w)"), "BYN"),
    (re.compile(r"₽|(?<![^\W\d_])руб|\bрублей|\bрубля|\bрубль|\brub\b|\brur\b|(?<![а-яa-z])р\.(?![а-яa-z])|(?<=\d)\s?р\b|(?<=\d)р(?![а-яa-z])"), "RUB"),
    (re.compile(r"€|\beur\b|\beuro\b|\bевро\b|\bєвро\b|\beuros\b"), "EUR"),
    (re.compile(r"₴|\bгрн|\bгривн|\buah\b"), "UAH"),
    (re.compile(r"\bzł|\bzl\b|\bpln\b|\bзлот"), "PLN"),
    (re.compile(r"\bchf\b|\bsfr\b|\bfr\.(?=\s|$)|\bшвейц"), "CHF"),
    (re.compile(r"₸|\bkzt\b|\bтенге\b|\bтг\b|(?<![^\W\d_])тнг(?![^\W\d_])"), "KZT"),
    (re.compile(r"\bkgs\b|(?<![^\W\d_])сом(?![^\W\d_])"), "KGS"),
    (re.compile(r"\buzs\b|(?<![^\W\d_])сум(?![^\W\d_])"), "UZS"),
    (re.compile(r"\bhuf\b|\bforint|\bфоринт"), "HUF"),
    (re.compile(r"\bлв\b|\bлв\.|\bbgn\b|\bлева\b"), "BGN"),
    (re.compile(r"£|\bgbp\b"), "GBP"),
    (re.compile(r"\bkč|\bczk\b"), "CZK"),
    (re.compile(r"\bsek\b"), "SEK"),
    (re.compile(r"\bnok\b"), "NOK"),
    (re.compile(r"\bdkk\b"), "DKK"),
    (re.compile(r"\bmdl\b|\bлей\b"), "MDL"),
    (re.compile(r"\btry\b|₺"), "TRY"),
    (re.compile(r"\bcny\b|\brmb\b|\bюан"), "CNY"),
    (re.compile(r"\bjpy\b"), "JPY"),
    (re.compile(r"\bcad\b|c\$"), "CAD"),
    (re.compile(r"\baud\b|a\$"), "AUD"),
    (re.compile(r"\$|\busd\b|\bдолл|\bдолар|\bdollar|\bdolar|(?<![^\W\d_])дол(?:\.|(?![^\W\d_]))"), "USD"),
    # other ISO codes, only beside an amount ("100 AED", "AED 100"): some are words too ("all", "top", "php")
    (re.compile(r"(?<=0)\s?(?:" + "|".join(_BESIDE_AMOUNT) + r")(?![^\W\d_])|(?<![^\W\d_])(?:"
                + "|".join(_BESIDE_AMOUNT) + r")\.?\s?(?=0)"), ""),
]

_FMT_LITERAL = re.compile(r'"([^"]*)"|\[\$([^\]-]*)(?:-[0-9A-Fa-f]+)?\]|\\(.)')
_FMT_CODES = re.compile(r'"[^"]*"|\[[^\]]*\]|[#0.,;?%\s_()\\*-]')
#: Every pattern of :data:`_MARKS` consumes a letter or one of these signs: text with neither names no currency.
_MARK_CHAR = re.compile(r"[^\W\d_]|[₽€₴₸£₺$]")
_DIGIT_RUN = re.compile(r"\d+")
#: The forint's mark "Ft", as written (case kept: "ft" and "FT" are feet).
_FORINT = re.compile(r"(?<![^\W\d_])Ft(?![^\W\d_])")


def currency_from_text(text: str) -> str | None:
    """ISO 4217 code named by a currency mark in ``text``; ``None`` when none or ambiguous.

    >>> currency_from_text("Цена, руб"), currency_from_text("$8.00"), currency_from_text("2 CHF")
    ('RUB', 'USD', 'CHF')
    """
    if not text or _MARK_CHAR.search(text) is None:
        return None
    code = _currency_of(_DIGIT_RUN.sub("0", text))
    if code is None and "Ft" in text and _FORINT.search(text) is not None:
        return "HUF"
    return code


@lru_cache(maxsize=8192)
def _currency_of(text: str) -> str | None:
    """:func:`currency_from_text` of text holding a letter or sign, its digit runs cut to one ``0``.

    No pattern of :data:`_MARKS` holds a digit or matches over one (some look
    for a digit *beside* the mark, which the cut keeps), so the answer is the
    same as for the full text; cut, price texts such as "1 234,56 руб." repeat
    and the memo serves them.
    """
    t = text.casefold().replace("\u00a0", " ")
    for rx, code in _MARKS:
        m = rx.search(t)
        if m:
            return code or m.group().strip(" .0").upper()
    return None


def currency_from_format(number_format: str | None) -> str | None:
    """Currency carried only by a number format: ``0.00" грн."``, ``#,##0.00"₴"``, ``[$€-407]``.

    Only the format's literal text is looked at, so ``0.00`` or ``General`` give ``None``.
    Memoised: a sheet uses a handful of formats over all its cells.
    """
    if not number_format or number_format in ("General", "@"):
        return None
    return _format_currency(number_format)


@lru_cache(maxsize=1024)
def _format_currency(number_format: str) -> str | None:
    """:func:`currency_from_format` of a format other than ``General``/``@``."""
    literals = []
    for m in _FMT_LITERAL.finditer(number_format):
        literals.append(m.group(1) or m.group(2) or m.group(3) or "")
    # bare currency symbols outside quotes (e.g. "#,##0.00 €" or "₽#,##0")
    literals.append(_FMT_CODES.sub(" ", number_format))
    return currency_from_text(" ".join(literals))


def known_code(value: str | None) -> str | None:
    """``value`` as one of the ISO 4217 codes this reader knows (case ignored; ``RUR`` → ``RUB``), else ``None``.

    Only codes are accepted, not marks: ``"eur"`` → ``"EUR"``, ``"руб"`` → ``None``.
    Used to validate a supplier's or the command line's currency setting.
    """
    if not value:
        return None
    v = value.strip().upper()
    if v not in _ISO_CODES:
        return None
    return "RUB" if v == "RUR" else ("BYN" if v == "BYR" else v)


def iso_code(value: str | None) -> str | None:
    """A supplier's currency setting or a currency cell → ISO code (``"руб."`` → ``RUB``)."""
    if not value:
        return None
    v = value.strip().upper()
    if v in _ISO_CODES:
        return "RUB" if v == "RUR" else ("BYN" if v == "BYR" else v)
    return currency_from_text(value)
