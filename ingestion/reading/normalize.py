"""Cell values → clean item fields: prices, SKUs, names, units, stock.

Every function here is pure and total: it never raises on bad input, it says
what it could not read (``ParsedPrice.error``) so the caller can log it.
"""

from __future__ import annotations

import html
import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Final, NamedTuple

from ingestion.reading.currency import currency_from_text
from ingestion.reading.synonyms import ON_REQUEST_RE, currency_only_header

#: A cell value as the readers hand it out.
CellValue = str | int | float | Decimal | bool | datetime | date | None

#: Spreadsheet error literals (English and Russian Excel); such cells are empty.
ERROR_LITERALS: Final = frozenset(
    "#VALUE! #N/A #REF! #DIV/0! #NAME? #NUM! #NULL! #GETTING_DATA #SPILL! #CALC! "
    "#ЗНАЧ! #ЗНАЧЕН! #Н/Д #ССЫЛКА! #ДЕЛ/0! #ИМЯ? #ЧИСЛО! #ПУСТО! #АРГ!".split()
)

#: Start of ``ParsedPrice.error`` for a price cell holding a spreadsheet error (the error's text follows).
EXCEL_ERROR_REASON: Final = "the price cell holds the Excel error "


#: Start of an ``ErrorCell``'s text for a formula cell saved without a result (no cached value: the
#: program that wrote the file never calculated it); the formula's text follows (``"=1/0"``, ``"="`` when unknown).
FORMULA_MARK: Final = "="

#: Starts of ``ParsedPrice.error`` for a cell that holds a number which is not, or not surely, the price: the
#: row is refused even when another price column has an amount (:func:`doubtful`).
PERCENT_REASON: Final = "a percentage, not a price"
UNIT_REASON: Final = "the number has a unit of measure"
MULTIPLIER_REASON: Final = "the number is followed by"
CONTROL_REASON: Final = "the cell held control characters"
MARK_REASON: Final = "its decimal mark is in doubt"
TIMES_REASON: Final = "the number has a multiplication sign"
RANGE_REASON: Final = "a range of amounts or roubles-kopecks"
EXPONENT_REASON: Final = "the number is written in exponent notation"
LETTER_O_REASON: Final = "a letter O stands beside its digits"
#: (A whole number of kopecks or cents, "50 коп.", is read as 0.50; a fraction of one, "50,5 коп.", is refused so.)
MINOR_REASON: Final = "the amount is in kopecks or cents"
_DOUBT_REASONS: Final = (PERCENT_REASON, UNIT_REASON, MULTIPLIER_REASON, CONTROL_REASON, MARK_REASON, TIMES_REASON,
                         RANGE_REASON, EXPONENT_REASON, LETTER_O_REASON, MINOR_REASON)


#: Start of ``ParsedPrice.error`` for a price cell saying the item is not available ("нет в наличии", "ожидается",
#: "out of stock"): no amount, and the row is an item without a price that is not available (:func:`unavailable`).
UNAVAILABLE_REASON: Final = "the price cell says the item is not available"
#: Whole price cells saying the item is not to be had now.  Bare "нет"/"no" are not among them: a price cell
#: holding only that is refused (the price is missing, not the item).
_UNAVAILABLE: Final = re.compile(
    r"(?:нет|немає|нема)\s+(?:в\s+наличии|в\s+наявності|на\s+складе|на\s+складі)|отсутству\w*|"
    r"временно\s+(?:нет|отсутству\w*)|ожида\w*|очіку\w*|в\s+пути|снят\w*\s+с\s+производства|"
    r"out\s+of\s+stock|sold\s+out|not\s+available|unavailable|not\s+in\s+stock|discontinued|"
    r"brak\s+(?:w\s+magazynie|na\s+stanie)|niedostępn\w*|ausverkauft|nicht\s+(?:verfügbar|lieferbar|auf\s+lager)|"
    r"agotado|няма\s+наличност",
    re.IGNORECASE,
)


def unavailable(parsed: "ParsedPrice") -> bool:
    """Whether a parsed price cell says the item is not available (:data:`UNAVAILABLE_REASON`) instead of a price."""
    error = parsed.error
    return error is not None and error.startswith(UNAVAILABLE_REASON)


def doubtful(parsed: "ParsedPrice") -> bool:
    """Whether a parsed price cell holds a number that must not be taken for a price, or a spreadsheet
    error: a percentage, a measure or count, a multiplied amount, digits mixed with control characters, an
    amount whose decimal mark is in doubt, an Excel error or a formula without a saved result."""
    error = parsed.error
    return error is not None and error.startswith(_DOUBT_REASONS + (EXCEL_ERROR_REASON,))


class ErrorCell(str):
    """The text of a spreadsheet error cell (``"#DIV/0!"``), as a reader's cell parser hands it to its row
    builder.  Never a value of a ``RawRow``: the row builder puts ``None`` there and the text in
    ``RawRow.errors``."""

    __slots__ = ()


def excel_error(code: str) -> "ParsedPrice":
    """What :func:`parse_price` says of a price cell holding the spreadsheet error ``code`` (``"#N/A"``):
    no amount, and an ``error`` naming it (:data:`EXCEL_ERROR_REASON`)."""
    return ParsedPrice(error=EXCEL_ERROR_REASON + code)


def excel_error_code(parsed: "ParsedPrice") -> str | None:
    """The spreadsheet error a parsed price cell held (``"#DIV/0!"``), or ``None`` when it held none."""
    error = parsed.error
    if error is not None and error.startswith(EXCEL_ERROR_REASON):
        return error[len(EXCEL_ERROR_REASON):]
    return None


#: Largest price magnitude read, in the currency's major unit (10^15).  Larger values (``"1e300"``,
#: a 20-digit number) are typos or junk, not prices: ``ParsedPrice.error`` says "too large".
MAX_AMOUNT: Final = Decimal(10) ** 15

_TAG = re.compile(r"<[^>]{0,200}>")
_NOT_FINITE = re.compile(r"^[-+−–]?\s*(?:nan|inf|infinity|∞)$", re.IGNORECASE)
_SCIENTIFIC = re.compile(r"^([-+−–]?)\s*(\d+(?:[.,]\d+)?[eE][-+−]?\d{1,6})$")
#: "(5)", "$(5.00)", "(1 234,50) руб": the accounting way of writing a negative amount.
_ACCOUNTING = re.compile(r"^([^\d()]{0,8})\(\s*(\d[^()]*?)\s*\)([^\d()]{0,12})$")
#: "-5", "−7", "-$5.00", "– 5 €": a minus before the number, maybe with a currency sign between.
_LEADING_MINUS = re.compile(r"^[-−–]\s*[^\w\s]{0,3}\s*\d")
_NUMBER = re.compile(r"[-−–]?\s?\d[\d\s\u00a0\u202f'’`.,]*")
_KOPECKS = re.compile(r"^\s*(\d[\d\s]*)\s*([=-])\s*(\d{2})\s*$")
#: "12 руб. 50 коп.", "100 р 00 коп", "12р.50к.", "100 грн. 50 коп.": roubles (hryvnias) and kopecks in words.
_RUB_KOP = re.compile(
    r"^(\d[\d\s]*?)\s*(?:руб(?:\.|лей|ля|ль)?|р\.?|грн\.?|гривен|гривні?|гривн[аяы])\s*"
    r"(\d{1,2})\s*(?:коп(?:\.|еек|ейки|ейка|ійок|ійки|ійка)?|к\.?)$",
    re.IGNORECASE,
)
#: An amount in a currency's minor unit only, a whole number: "50 коп.", "5 копеек", "99 cents", "99 центов", "99 ct", "99¢",
#: "99c", "99 ц." (a trial: both were read as 99.00),
#: "50 groszy", and "75 к." (two digits: "5 к." may be five thousand).  Group ``amount``: the digits (maybe
#: grouped by spaces); ``word``: the unit's word (its currency: :data:`_MINOR_CURRENCY`).
_MINOR_ONLY: Final = re.compile(
    r"^(?P<amount>\d{1,3}(?: \d{3})+|\d+) ?(?:(?P<word>коп(?:еек|ейки|ейка|ійок|ійки|ійка)?|kop|cents?|ct|c|"
    r"цент(?:а|ов|ів|и)?|ц|groszy?|grosze)"
    r"\.?|(?P<sign>¢))$|^(?P<two>\d\d) ?к\.$",
    re.IGNORECASE,
)
#: The currency a minor unit's word implies (case-folded, without a final dot); words not here imply none
#: (cents: the file's currency).  Kopecks are roubles unless the column or the file says hryvnias or Belarusian
#: roubles (:func:`minor_unit_currency` lets the row builder see that).  Russian "цент"/"центов" are cents too.
_MINOR_CURRENCY: Final = {
    "коп": "RUB", "копеек": "RUB", "копейки": "RUB", "копейка": "RUB", "kop": "RUB", "к": "RUB",
    "копійок": "UAH", "копійки": "UAH", "копійка": "UAH",
    "grosz": "PLN", "groszy": "PLN", "grosze": "PLN",
}
#: A word naming the kind of price before the amount: "розница 250", "опт. 120", "цена: 100", "retail 250".
_KIND_WORD = re.compile(
    r"^(?:розница|розничная|розн|оптовая|опт|мелкий опт|крупный опт|цена|стоимость|price|retail|wholesale|"
    r"dealer|дилер|дилерская)\.?\s*:?\s*(?=[-−–$€£¥₽(]?\s*\d)",
    re.IGNORECASE,
)
#: A VAT remark at the end: "(НДС 20%)", "вкл. НДС 20%", "в т.ч. НДС", "incl. VAT", "excl. VAT", "+ VAT", "с НДС".
_VAT_REMARK = re.compile(
    r"[\s,;]*[(\[]?\s*(?:(?:в\s?т\.?\s?ч\.?|вкл(?:ючая|ючено|\.)?|включ\w*|с|без|incl\.?|including|inclusive of|"
    r"excl\.?|excluding|exclusive of|inkl\.?|exkl\.?|zzgl\.?|plus|with|without|w/o|z|bez|\+)\s*)?"
    r"(?:\d{1,2}(?:[.,]\d{1,2})?\s*%\s*)?"  # "+ 23% VAT"
    r"(?:ндс|vat|mwst|ust|пдв|tva|iva|btw)\.?(?:\s*\d{1,2}(?:[.,]\d{1,2})?\s*%)?"
    r"(?:\s*не\s*облаг\w*\.?|\s*не\s*предусм\w*\.?|\s*not\s*applicable)?\s*[)\]]?\s*$",
    re.IGNORECASE,
)
#: The unit a price is given per, at the end: "/м2", "/кв.м", " за 1 шт", " за кв.м", "/пог.м", " per pc".  Group
#: ``unit``: a word that must be a unit for the suffix to be one.
_PER_UNIT = re.compile(
    r"\s*(?:/|(?<![^\W\d_])(?:за|per|pro|je|za|na)\s)\s*(?:1\s*)?"
    r"(?:(?:кв|куб|пог|п)\.?\s?(?:м|метр)\.?|[мm][23²³]|[^\W\d_]{1,8}\s?[·⋅∙*]\s?[^\W\d_]{1,8}\.?|"
    r"(?P<unit>[^\W\d_]{1,12})\.?)\s*$",
    re.IGNORECASE,
)
#: The quantity a price is for, in parentheses at the end: "100 руб. (1 шт)", "100 USD (1 pc)", "(за 1 м)".
#: Group ``unit``: must be a unit for the remark to be one.
_FOR_ONE = re.compile(
    r"\s*[(\[]\s*(?:за|per|for|/)?\s*1\s*(?P<unit>[^\W\d_]{1,12}|[мm][23²³])\.?\s*[)\]]\s*$", re.IGNORECASE
)
#: The pack a price is for, at the end: "100 в упак.", "100 в упаковке", "100 руб. за упаковку", "100 в коробке".
#: Read like :data:`_PER_UNIT` ("в" here is "in", not volts: "220 В" stays a voltage).
_PER_PACK: Final = re.compile(
    r"\s+(?:в|во|за|/)\s*(?:1\s*)?(?:упак(?:овк[аеуи]|\.)?|уп\.?|пачк[аеу]|коробк[аеу]|комплект[еу]?|набор[еу]?)\s*$",
    re.IGNORECASE,
)
_NUMBER_JUNK = re.compile(r"[\s'’`]")
#: A decimal mark with no whole part before it (",50", ".50", "$.99"): a zero is meant.  Not after a letter, a
#: digit or another mark, so "12р.50к." and "1.234,50" are left alone.
_BARE_FRACTION = re.compile(r"(?<![\w.,])[.,](?=\d)")
_DIGITS_AND_MARKS = re.compile(r"[\d.,]+")
_LONG_WORD = re.compile(r"[^\W\d_]{3,}")
_NOT_WORD = re.compile(r"[^\w]")
#: A price written the plain way: ASCII digits, maybe grouped by threes with a space or NBSP, maybe one
#: decimal mark.  :func:`parse_price` reads such text without the full parser, by the same rules as
#: :func:`parse_number` (same result): a single mark followed by exactly three digits is a thousands
#: separator unless ``decimal_separator`` names it or the whole part is ``0``.
_PLAIN_AMOUNT = re.compile(r"([0-9]{1,3}(?:[ \u00a0][0-9]{3})+|[0-9]+)(?:([.,])([0-9]+))?")
_FLOAT_SKU = re.compile(r"\d+\.0+")


def is_number(value: CellValue) -> bool:
    """True for numeric cell values (not booleans)."""
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def cell_text(value: CellValue) -> str:
    """A cell value as the text a person would see (numbers without a trailing ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(round(value, 10))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


#: Characters that show nothing and stand for no space: zero-width space, word joiner, soft hyphen, the
#: left-to-right and right-to-left marks.  :func:`clean_text` removes them ("1\u200b234" is 1234).
_INVISIBLE: Final = re.compile("[\u200b\u2060\u00ad\u200e\u200f]")


def clean_text(value: CellValue) -> str:
    """Text with HTML tags/entities removed and whitespace runs collapsed (``""`` for ``None``).

    Called several times per row, so the common case (a plain string) takes no
    regex: ``str.split()`` splits on exactly the characters ``\\s`` matches.
    """
    t = value if type(value) is str else cell_text(value)
    if not t:
        return ""
    if "<" in t or "&" in t:
        t = html.unescape(_TAG.sub(" ", t))
    if "\u00a0" in t or "\ufeff" in t:
        t = t.replace("\u00a0", " ").replace("\ufeff", "")
    if not t.isascii() and _INVISIBLE.search(t) is not None:
        t = _INVISIBLE.sub("", t)  # "1\u200b234,50", "1\u00ad234": nothing a person sees
    return " ".join(t.split())


#: Control characters that have no place in a cell's text: C0 controls other than TAB, LF and CR, DEL, and
#: the C1 controls U+0080–U+009F.
CONTROL_CHARS: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_BETWEEN_WORDS: Final = re.compile("(?<=\\w)[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+(?=\\w)")


#: An ANSI control sequence (CSI: ``ESC [`` or the 8-bit ``\x9b``, parameter and intermediate bytes, a final
#: letter), such as the colour codes ``\x1b[31m`` … ``\x1b[0m`` a terminal program leaves in its output.
ANSI_SEQUENCE: Final = re.compile("(?:\x1b\\[|\x9b)[0-?]*[ -/]*[@-~]")


def strip_controls(text: str) -> str:
    """``text`` without its control characters (:data:`CONTROL_CHARS`: BEL, ESC, DEL, C1 …).

    An ANSI control sequence (:data:`ANSI_SEQUENCE`: ``"\x1b[31m"``) is
    removed whole, its parameters and final letter with it.  Then a run of
    control characters between two letters or digits becomes one space (they
    stood where a space was: ``"Кабель\x07ВВГ"`` → ``"Кабель ВВГ"``); any
    other run is removed (``"ВВГ\x1b"`` → ``"ВВГ"``).  TAB, LF and CR are
    kept.  Text without control characters comes back as it is.
    """
    if CONTROL_CHARS.search(text) is None:
        return text
    if "\x1b" in text or "\x9b" in text:
        text = ANSI_SEQUENCE.sub("", text)
    return CONTROL_CHARS.sub("", _CONTROL_BETWEEN_WORDS.sub(" ", text))


def controls_beyond_ansi(text: str) -> bool:
    """Whether ``text`` holds a control character outside the ANSI sequences :func:`strip_controls` removes whole."""
    if "\x1b" in text or "\x9b" in text:
        text = ANSI_SEQUENCE.sub("", text)
    return CONTROL_CHARS.search(text) is not None


def is_error_literal(value: CellValue) -> bool:
    """True for spreadsheet error texts such as ``#VALUE!`` / ``#ЗНАЧЕН!``."""
    return isinstance(value, str) and "#" in value and value.strip().upper() in ERROR_LITERALS


class ParsedPrice(NamedTuple):
    """What a price cell says.

    ``amount`` in the currency's major unit; ``currency`` ISO 4217 when the
    cell names one; ``on_request`` when the cell says "ask us"; ``error`` a
    short reason when the cell is not empty but holds no readable price;
    ``empty`` when there is nothing at all.  An immutable named tuple: one
    is made for every price cell read, and a tuple is several times cheaper
    to make than an attrs instance.
    """

    amount: Decimal | None = None
    currency: str | None = None
    on_request: bool = False
    error: str | None = None
    empty: bool = False


#: ``_new_price(ParsedPrice, (amount, currency, on_request, error, empty))``: a ParsedPrice without the keyword
#: handling of its ``__new__`` (half the cost, for the price cells read the plain way).
_new_price = tuple.__new__


def _decimal_from_float(value: float) -> Decimal:
    return Decimal(repr(round(value, 6)))


def parse_number(text: str, decimal_separator: str | None = None) -> Decimal | None:
    """A number written with any of the usual separators, or ``None``.

    ``"1 234,56"``, ``"1.234,56"``, ``"1,234.56"``, ``"12,5"``, ``"1'234.50"``.
    When the text alone is ambiguous (``"1,234"``, ``"1.234"``) the
    ``decimal_separator`` hint decides; without one a single separator followed
    by exactly three digits is read as a thousands separator.
    """
    t = text.strip().replace("\u00a0", " ").replace("\u202f", " ").replace("−", "-").replace("–", "-")
    neg = t.startswith("-")
    t = t.lstrip("-").strip()
    t = _NUMBER_JUNK.sub("", t)
    if not t or not t[0].isdigit():
        return None
    if not _DIGITS_AND_MARKS.fullmatch(t):
        return None
    has_dot, has_comma = "." in t, "," in t
    if has_dot and has_comma:
        dec = "." if t.rfind(".") > t.rfind(",") else ","
        thou = "," if dec == "." else "."
        if t.count(dec) > 1:
            return None
        t = t.replace(thou, "").replace(dec, ".")
    elif has_dot or has_comma:
        sep = "." if has_dot else ","
        parts = t.split(sep)
        if len(parts) > 2:
            if any(len(p) != 3 for p in parts[1:]):
                return None
            t = "".join(parts)
        else:
            head, tail = parts
            if len(tail) == 3 and head not in ("0", "") and decimal_separator != sep:
                t = head + tail  # "1,234" -> 1234 unless the column uses ',' as decimal mark
            else:
                t = head + "." + tail
    if t.endswith("."):
        t = t[:-1]
    try:
        d = Decimal(t)
    except InvalidOperation:
        return None
    return -d if neg else d


def parse_price(value: CellValue, decimal_separator: str | None = None) -> ParsedPrice:
    """Read a price cell.

    Numbers pass through as :class:`~decimal.Decimal` (floats are rounded to
    6 places to undo binary noise).  Text may carry a currency mark
    (``"$8.00"``, ``"41.00р."``, ``"2 CHF"``, ``"1 234,56 руб."``), HTML, or
    roubles=kopecks (``"11=90"``); "on request" words give ``on_request``.
    A cell holding only a currency mark (``"руб."``, ``"USD"``, ``"€"``) has
    no amount: ``error`` says so and ``currency`` names it.  Blanks give
    ``empty``; a spreadsheet error written as text (``"#DIV/0!"``, as a CSV
    export writes it) gives no amount and an ``error`` naming it
    (:func:`excel_error`), never an empty cell: the row is refused, not taken
    for an item without a price.

    Negative amounts are read as negative (refusing them is the store's
    business): a leading minus (``"-5"``, ``"−7"``, ``"-$5.00"``) or the
    accounting parentheses (``"(5)"``, ``"$(5.00)"``, ``"(1 234,50) руб"``;
    only a currency mark may stand outside them).  Scientific notation
    (``"1.5e3"``) is read when the value is in range.  ``error`` is set to
    ``"not a finite number"`` for NaN/Infinity (text or float cells) and to
    ``"too large"`` for magnitudes over :data:`MAX_AMOUNT` (``"1e300"``,
    ``"1e400"``).  A number with a unit of measure or of sale (``"5 мм"``,
    ``"12 шт"``), a percent (``"5%"``) or a multiplier (``"5 тыс. руб"``)
    is not a price: no amount, and ``error`` says why (a unit the price is
    given per, ``"100 руб/шт"``, ``"$5 each"``, is read).

    Also read: a price-kind word before the amount (``"розница 250"``,
    ``"опт. 120"``, ``"retail 250"``), the unit the price is per at the end
    (``"150 руб/м2"``, ``"100 за 1 шт"``, ``"100 руб/пог.м"``), a VAT remark
    at the end (``"100 руб. (НДС 20%)"``, ``"100 в т.ч. НДС"``, ``"100 excl.
    VAT"``: the amount as written), roubles and kopecks in words (``"12 руб.
    50 коп."`` → 12.50).  Also doubtful (no amount, :func:`doubtful`): a
    multiplier however short (``"5к"``, ``"5 тр"``, ``"5k"``, ``"5 Tsd."``,
    ``"5 kEUR"``, ``"5 Mill. €"``), a multiplication sign (``"x100"``,
    ``"2×"``), a duration, current or voltage or count (``"12 мес"``,
    ``"16А"``, ``"220В"``, ``"5 dozen"``), a letter O beside the digits
    (``"25О"``), a whole number in exponent form written as text (``"5e3"``;
    ``"1.5e3"`` as a program writes a float is read, as is any number cell),
    and ``"10-15"``: a dash followed by two digits is kopecks (``"100-50"`` →
    100.50) unless they exceed the whole part, when it may be a range.
    An amount in a minor unit only, a whole number, is read in the major
    unit: ``"50 коп."`` → 0.50 RUB (``"50 копійок"`` → UAH; in a column or
    file of UAH or BYN the row builder keeps that currency), ``"75 к."``
    (two digits; ``"5 к."`` may be five thousand: doubtful), ``"99 cents"``,
    ``"99 центов"``, ``"99 ct"``, ``"99¢"`` → 0.99 with no currency of its own, ``"50
    groszy"`` → 0.50 PLN; a fraction of one (``"50,5 коп."``) is doubtful.
    A per-pack remark at the end (``"100 в упак."``, ``"100 в упаковке"``,
    ``"100 руб. за упаковку"``) is read like a per-unit one (``"220 В"`` is
    still a voltage).
    A decimal mark with no whole part is a fraction (``",50"`` → 0.50);
    ``"12р.50к."`` and ``"100 грн. 50 коп."`` are read as ``"12 руб. 50
    коп."``; a quantity of one in parentheses (``"100 руб. (1 шт)"``) and
    ``"+ 23% VAT"`` / ``"(НДС не облаг.)"`` are remarks.  A cell saying the
    item is not available (``"нет в наличии"``, ``"out of stock"``; not bare
    ``"нет"``) gives no amount and an ``error`` starting
    :data:`UNAVAILABLE_REASON` (:func:`unavailable`).
    """
    if type(value) is str:  # the common case first: a text cell, most often a plain number
        m = _PLAIN_AMOUNT.fullmatch(value)
        if m is None:
            return _parse_price_text(clean_text(value), decimal_separator)
        head, sep, tail = m.groups()  # see _PLAIN_AMOUNT; inlined: this runs for nearly every price cell
        if " " in head or "\u00a0" in head:
            head = head.replace(" ", "").replace("\u00a0", "")
        if sep is None:
            number = head
        elif len(tail) == 3 and head != "0" and decimal_separator != sep:
            number = head + tail
        else:
            if len(head) > 15:
                return _bounded(Decimal(head + "." + tail), None)
            return _new_price(ParsedPrice, (Decimal(head + "." + tail), None, False, None, False))
        if len(number) > 15:
            return _bounded(Decimal(number), None)
        return _new_price(ParsedPrice, (Decimal(number), None, False, None, False))
    if type(value) is float and -1e15 < value < 1e15:  # a number cell; NaN and infinities fail the test
        return _new_price(ParsedPrice, (_decimal_from_float(value), None, False, None, False))
    if value is None or isinstance(value, bool):
        return ParsedPrice(empty=True)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return ParsedPrice(error="not a finite number")
        return _bounded(value, None)
    if isinstance(value, int):
        return _bounded(Decimal(value), None)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ParsedPrice(error="not a finite number")
        return _bounded(_decimal_from_float(value), None)
    if isinstance(value, (datetime, date)):
        return ParsedPrice(error="a date, not a price")
    return _parse_price_text(clean_text(value), decimal_separator)


_DIGIT = re.compile(r"\d")


def is_amount(value: CellValue, decimal_separator: str | None = None) -> bool:
    """Whether :func:`parse_price` reads an amount in ``value`` (same answer, quicker for text).

    Text without a digit holds no amount, so it is refused without the full
    parser (unless it has ``&``: an HTML character reference may stand for a
    digit); other text skips the currency look-up where it cannot change the answer.
    """
    if type(value) is not str or _PLAIN_AMOUNT.fullmatch(value) is not None:
        return parse_price(value, decimal_separator).amount is not None
    if "&" not in value and _DIGIT.search(value) is None:
        return False
    return _parse_price_text(clean_text(value), decimal_separator, amount_only=True).amount is not None


def price_like(value: CellValue) -> bool:
    """Whether :func:`parse_price` reads an amount or "on request" in ``value`` (same answer, quicker).

    For column statistics, where only that question is asked of many cells.
    """
    if type(value) is not str or _PLAIN_AMOUNT.fullmatch(value) is not None:
        p = parse_price(value)
        return p.amount is not None or p.on_request
    text = clean_text(value)
    p = _parse_price_text(text, None, amount_only=True)
    if p.amount is not None:
        return True
    return not p.empty and _asks_for_quote(text)


_DIGIT_RUN = re.compile(r"\d+")


def _asks_for_quote(text: str) -> bool:
    """``ON_REQUEST_RE`` found in ``text`` ("по запросу", "on request").

    The pattern holds no digit and each of its matches lies between digits,
    never over one, so it is looked for in the text with every run of digits
    cut to one ``0``: price texts ("1 234,56 руб.") then repeat, and the
    answer is memoised.
    """
    return _asks_for_quote_skeleton(_DIGIT_RUN.sub("0", text))


@lru_cache(maxsize=4096)
def _asks_for_quote_skeleton(text: str) -> bool:
    """:func:`_asks_for_quote` of text whose digit runs are cut to ``0``."""
    return ON_REQUEST_RE.search(text) is not None


def _parse_price_text(text: str, decimal_separator: str | None, amount_only: bool = False) -> ParsedPrice:
    """:func:`parse_price` of a text cell after :func:`clean_text` (the full parser).

    ``amount_only``: the caller asks only whether there is an amount:
    ``amount`` and ``empty`` are as without it, but the currency and "on
    request" words are looked for only where they decide the amount, so
    ``currency`` may be ``None``, ``on_request`` is never set and ``error``
    may be less specific.
    """
    if not text or text in ("-", "—", "–", "...", "…"):
        return ParsedPrice(empty=True)
    if text[0] == "#" and is_error_literal(text):
        return excel_error(text.upper())
    if not amount_only and _asks_for_quote(text):
        return ParsedPrice(on_request=True, currency=currency_from_text(text))
    if not amount_only and _UNAVAILABLE.fullmatch(text.strip(" .!()")) is not None:
        return ParsedPrice(error=f"{UNAVAILABLE_REASON} ({text[:40]!r})")
    if _NOT_FINITE.match(text):
        return ParsedPrice(error="not a finite number")
    m = _SCIENTIFIC.match(text)
    if m:
        try:
            sci = Decimal(m.group(2).replace(",", ".").replace("−", "-"))
        except InvalidOperation:
            return ParsedPrice(error=f"unreadable number {text[:40]!r}")
        if amount_only and _asks_for_quote(text):
            return ParsedPrice(error="on request")
        if abs(sci) > MAX_AMOUNT:
            return _bounded(sci, None)  # before formatting: "1e999999" has a million digits
        if _BARE_EXPONENT.fullmatch(m.group(2)):
            # "5e3", "1E2": a whole number, a letter e and digits, typed by hand (or a code), not a program's float
            return ParsedPrice(error=f"{EXPONENT_REASON} ({text[:40]!r}): write the whole amount")
        exp = sci.as_tuple().exponent
        if isinstance(exp, int) and exp > 0:
            sci = sci.quantize(Decimal(1))  # 1.5E+3 -> 1500
        elif isinstance(exp, int) and exp < -6:
            sci = sci.quantize(Decimal("0.000001"))  # as floats are: six places
        return _bounded(-sci if m.group(1) else sci, None)
    currency = None if amount_only else currency_from_text(text)
    original = text
    if not text[0].isdigit() or not text[-1].isdigit() or "/" in text:
        text = _strip_remarks(text)
    negative = False
    acc = _ACCOUNTING.match(text)
    outside = (acc.group(1) + " " + acc.group(3)) if acc else ""
    words = _LONG_WORD.findall(outside)
    if acc and (not words or (len(words) == 1 and currency_from_text(outside))):
        # "(5)", "$(5.00)", "(5) руб": only a currency mark may stand outside the parentheses
        negative = True
        text = f"{acc.group(1)} {acc.group(2)} {acc.group(3)}".strip()
    elif _LEADING_MINUS.match(text):
        negative = True
    m = (_MINOR_ONLY.match(text.lstrip("-−– ")) if negative else _MINOR_ONLY.match(text)) if (
        negative or text[:1].isdigit()) else None
    if m is not None:  # "50 коп.", "99 cents": a hundredth of the major unit each
        word = m.group("word")
        minor = Decimal((m.group("amount") or m.group("two")).replace(" ", "")).scaleb(-2)
        implied = _MINOR_CURRENCY.get(word.casefold() if word else "к" if m.group("two") else "")
        return _bounded(-minor if negative else minor, currency or implied)
    m = _KOPECKS.match(text) or _RUB_KOP.match(text)
    if m:
        if amount_only and _asks_for_quote(original):
            return ParsedPrice(error="on request")
        whole = m.group(1).replace(" ", "")
        if m.re is _RUB_KOP:
            kopecks = m.group(2).zfill(2)
        else:
            kopecks = m.group(3)
            if m.group(2) == "-" and int(kopecks) > int(whole):
                # "10-15": from 10 to 15, or 10 roubles 15 kopecks? ("100-50" cannot be a range: kopecks)
                return ParsedPrice(error=f"{RANGE_REASON} ({text[:40]!r}): write one amount, such as 10.15",
                                   currency=currency)
        return ParsedPrice(amount=Decimal(whole + "." + kopecks), currency=currency)
    if "." in text or "," in text:
        text = _BARE_FRACTION.sub(r"0\g<0>", text)  # ",50" is 0.50, not 50
    numbers = [n.strip(" \u00a0\u202f'’`.,") for n in _NUMBER.findall(text)]
    numbers = [n for n in numbers if any(ch.isdigit() for ch in n)]
    if not numbers:
        if currency is not None and currency_only_header(text):
            return ParsedPrice(error=f"only a currency mark ({original[:40]!r}), no amount", currency=currency)
        return ParsedPrice(error=f"no number in {original[:40]!r}", currency=currency)  # the cell, not what is left
    if len(numbers) > 1:
        return ParsedPrice(error=f"several numbers in {text[:40]!r}", currency=currency)
    not_price = _not_a_price(_DIGIT_RUN.sub("0", text))
    if not_price is not None:
        return ParsedPrice(error=not_price, currency=currency)
    leftover = _NOT_WORD.sub("", _NUMBER.sub(" ", text))
    if len(leftover) > 6 and (currency_from_text(text) if amount_only else currency) is None:
        return ParsedPrice(error=f"text around the number in {text[:40]!r}", currency=currency)
    amount = parse_number(numbers[0], decimal_separator)
    if amount is None:
        return ParsedPrice(error=f"unreadable number {text[:40]!r}", currency=currency)
    if amount_only and _asks_for_quote(original):
        return ParsedPrice(error="on request")
    if negative and amount > 0:
        amount = -amount
    return _bounded(amount, currency)


#: Words that make the number beside them a measure or a count, not a money amount: units of sale (every alias
#: of :func:`normalize_unit` that is not also a currency mark, such as ``бр``) and units of length, mass,
#: volume, area, power and the like.  "5 мм", "12 шт", "3 кг" in a price cell are a size or a quantity.
_MEASURE_WORDS: Final = frozenset(
    "мм см дм км мкм mm cm dm km µm um дюйм дюйма дюймов inch inches ft lb lbs oz мг mg кв куб sq "
    "м² м³ m² m³ мм² mm² вт квт w kw kwh квтч ва ква kva гц кгц мгц hz khz mhz ом ohm мпа кпа бар bar атм psi "
    "час часа часов ч мин сек мес месяц месяца месяцев дн день дня дней сут суток нед неделя недели недель "
    "год года годы лет month months mo day days week weeks year years yr yrs h hr hrs "
    "а a в v ампер вольт amp amps volt volts ач мач ah mah dozen dozens дюжина дюжины дюжин пар".split()
)
#: Words that multiply the number ("5 тыс. руб" is 5000 roubles, "2 т.р." 2000): read as they stand they
#: would store a price a thousand times too small.
_MULTIPLIER: Final = re.compile(
    r"(?<![^\W\d_])(?:тыс|млн|млрд|thousand|million|billion|mln|tys|mio|tsd|"
    r"(?:mill?|т\.?\s?р|[кk](?:eur|usd|rub|руб|pln|uah|грн|chf|gbp|byn|kzt|р)?)(?![^\W\d_]|-))",
    re.IGNORECASE,
)
#: A currency's minor unit ("50 коп.", "99 cents"): read as it stands the price would be 100 times too large.
_MINOR_UNIT: Final = re.compile(
    r"(?<![^\W\d_])(?:коп(?:еек|ейки|ейка|\.)?|kop|cents?|ct|цент(?:а|ов|ів|и)?|grosz[a-z]*)(?![^\W\d_])",
                                re.IGNORECASE)
#: A letter O (Latin or Cyrillic) glued to the digits, where a zero was meant ("25О", "1О0").
_LETTER_O: Final = re.compile(r"0[oо](?![^\W\d_])|(?<![^\W\d_])[oо]0", re.IGNORECASE)
#: A multiplication sign beside the number ("x100", "2×", "100 х"): a count or a pack, not a price.
_TIMES: Final = re.compile(r"(?<![^\W\d_])[xх×]\s?0|0\s?[xх×](?![^\W\d_])", re.IGNORECASE)
_PERCENT: Final = re.compile(r"[%‰]|(?<![^\W\d_])(?:процент|percent|procent|prozent)", re.IGNORECASE)
#: A word of a price cell, and what stands before it when it is the unit a price is given per ("100 руб/шт",
#: "50 за м", "$5 per pc"): such a unit is the unit of sale, not a measure of the number.
_WORD_IN_PRICE: Final = re.compile(
    r"(/\s*|(?<![^\W\d_])(?:за|per|pro|je|za|na)\s+)?([^\W\d_]+)", re.IGNORECASE
)


@lru_cache(maxsize=4096)
def _not_a_price(skeleton: str) -> str | None:
    """Why a price cell's text (its digit runs cut to ``0``) holds a measure, a count or a share and not a
    money amount, or ``None`` when it may be a price.

    A percent sign or word ("5%"), a unit of measure or of sale ("5 мм", "12 шт", "3 кг") — unless it is the
    unit the price is given per ("100 руб/шт", "50 за м", "$5 per pc", "$5 each") —, or a multiplier word
    ("5 тыс. руб") makes the cell doubtful: :func:`parse_price` then gives no amount and says why, so the
    row is refused rather than stored with a wrong price.  Currency marks and words such as "от", "from",
    "с НДС" are not such words.
    """
    if _PERCENT.search(skeleton):
        return PERCENT_REASON
    m = _MULTIPLIER.search(skeleton)
    if m is not None:
        return f"{MULTIPLIER_REASON} {m.group()!r} (a multiplier): write the whole amount"
    m = _MINOR_UNIT.search(skeleton)
    if m is not None:
        return f"{MINOR_REASON} ({m.group()!r}), not in the currency's main unit, and not a whole number of them: write the amount in the main unit"
    if _LETTER_O.search(skeleton) is not None:
        return f"{LETTER_O_REASON} (\"25O\" for 250?): write the amount in digits"
    m = _TIMES.search(skeleton)
    if m is not None:
        return f"{TIMES_REASON} ({m.group().replace('0', '').strip()!r}): a count or a pack, not a price"
    for m in _WORD_IN_PRICE.finditer(skeleton):
        if m.group(1) is not None:
            continue  # "/шт", "за м": the unit of sale the price is per
        word = m.group(2).casefold()
        if word in _PRICE_UNIT_WORDS and m.group(2) != "Ft":  # "Ft" is the forint ("ft", "FT": feet)
            return f"{UNIT_REASON} ({m.group(2)!r}): a size or a quantity, not a price"
    return None


_BARE_EXPONENT: Final = re.compile(r"\d+[eE]\d+")


def _strip_remarks(text: str) -> str:
    """``text`` without what does not change the amount: a price-kind word before it ("розница 250"), then at
    the end a VAT remark ("100 руб. (НДС 20%)", "100 incl. VAT") and the unit or pack the price is per
    ("150 руб/м2", "100 за 1 шт", "100 в упак.", "100 в упаковке").  A per-unit word that is not a unit stays (and the text is then judged with it)."""
    m = _KIND_WORD.match(text)
    if m is not None:
        text = text[m.end():]
    m = _VAT_REMARK.search(text)
    if m is not None and m.start() > 0:
        text = text[: m.start()]
    m = _FOR_ONE.search(text)
    if m is not None and m.start() > 0:
        unit = m.group("unit")
        if unit.casefold() in _PRICE_UNIT_WORDS or _is_unit_text(unit):
            text = text[: m.start()]
    m = _PER_PACK.search(text)
    if m is not None and m.start() > 0:
        return text[: m.start()].strip() or text
    m = _PER_UNIT.search(text)
    if m is not None and m.start() > 0:
        unit = m.group("unit")
        if unit is None or unit.casefold() in _PRICE_UNIT_WORDS or _is_unit_text(unit):
            text = text[: m.start()]
    return text.strip() or text


def kopecks_only(value: CellValue) -> bool:
    """Whether a price cell is an amount in kopecks only, with no currency of its own ("50 коп.", "75 к.").

    :func:`parse_price` gives such a cell the currency ``"RUB"``; the row
    builder asks this to let a column or file in hryvnias or Belarusian
    roubles (whose minor unit is also the kopeck) keep its own currency.
    ``False`` for anything else, such as ``"50 копійок"`` (hryvnias by its
    own word) or ``"12 руб. 50 коп."``.
    """
    if type(value) is not str or not value:
        return False
    return _kopecks_only_text(value)


@lru_cache(maxsize=1024)
def _kopecks_only_text(value: str) -> bool:
    """:func:`kopecks_only` of a non-empty text cell (memoised: such cells repeat)."""
    text = clean_text(value)
    if not text or currency_from_text(text) is not None:
        return False
    parsed = _parse_price_text(text, None)
    return parsed.amount is not None and parsed.currency == "RUB"


#: Currencies a minor unit's word implies (:data:`_MINOR_CURRENCY`), each with the currencies whose minor unit the
#: word also names: kopecks are roubles', hryvnias' and Belarusian roubles'; groszy only zlotys'.
MINOR_UNIT_CURRENCIES: Final = {
    "RUB": frozenset({"RUB", "UAH", "BYN"}),
    "UAH": frozenset({"RUB", "UAH", "BYN"}),
    "PLN": frozenset({"PLN"}),
}
#: Text that may hold a minor unit's word naming a currency: a cheap test before :func:`minor_unit_currency`.
_MINOR_WORD_HINT: Final = re.compile(r"коп|к\.|kop|grosz", re.IGNORECASE)


def minor_unit_currency(value: CellValue) -> str | None:
    """The currency (ISO 4217) a price cell's minor-unit word implies, when the cell is an amount in that unit
    only and names no currency of its own: ``"50 коп."`` → ``"RUB"``, ``"50 копійок"`` → ``"UAH"``, ``"50
    groszy"`` → ``"PLN"``.  ``None`` for anything else: ``"99 cents"`` (no currency of its own), ``"12 руб. 50
    коп."``, ``"100"``, a number cell.  The row builder compares it with the row's currency
    (:data:`MINOR_UNIT_CURRENCIES`): kopecks in a USD column are not USD cents.  Never raises.
    """
    if type(value) is not str or not value or _MINOR_WORD_HINT.search(value) is None:
        return None
    return _minor_unit_currency_text(value)


@lru_cache(maxsize=1024)
def _minor_unit_currency_text(value: str) -> str | None:
    """:func:`minor_unit_currency` of a non-empty text cell with a minor unit's word (memoised)."""
    text = clean_text(value)
    if not text or currency_from_text(text) is not None:
        return None
    parsed = _parse_price_text(text, None)
    if parsed.amount is None or parsed.currency not in MINOR_UNIT_CURRENCIES:
        return None
    return parsed.currency


def _bounded(amount: Decimal, currency: str | None) -> ParsedPrice:
    """``amount`` as a price, or an error when its magnitude exceeds :data:`MAX_AMOUNT`."""
    if abs(amount) > MAX_AMOUNT:
        return ParsedPrice(error=f"too large: over {MAX_AMOUNT:,.0f}", currency=currency)
    return ParsedPrice(amount=amount, currency=currency)


def format_money(amount: Decimal | None) -> str | None:
    """Decimal → text with at least two decimals (``Decimal("12.5")`` → ``"12.50"``)."""
    if amount is None:
        return None
    exp = amount.as_tuple().exponent
    if isinstance(exp, int) and exp > -2:
        amount = amount.quantize(Decimal("0.01"))
    return format(amount, "f")


def normalize_sku(value: CellValue) -> str | None:
    """SKU as text: leading zeros kept, ``586786748.0`` → ``"586786748"``, ``"# B7764 "`` → ``"B7764"``."""
    if type(value) is str:
        t = clean_text(value)
        if t[:1] in ("#", "№"):
            t = t.lstrip("#№").strip()
        if "." in t and _FLOAT_SKU.fullmatch(t):
            t = t.split(".")[0]
        return t or None
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, (int, Decimal)):
        return str(value)
    t = clean_text(value)
    t = t.lstrip("#№").strip()
    if _FLOAT_SKU.fullmatch(t):
        t = t.split(".")[0]
    return t or None


def normalize_name(value: CellValue) -> str:
    """Item name: HTML removed, whitespace collapsed."""
    return clean_text(value)


_UNITS: Final[dict[str, str]] = {}
for _canon, _aliases in {
    "pcs": "шт штук штука штуки pcs pc piece pieces szt sztuk sztuka stk stück stueck st ea each од одн unit units бр брой ud uds unidad unidades ks",
    "set": "компл комплект комплекты к-т кт set sets kpl komplet zestaw satz juego",
    "pack": "уп упак упаковка pack pk pkg opak opakowanie pack packung paq",
    "pair": "пара пар pair pairs para paar",
    "kg": "кг kg килограмм kilogram kilo",
    "g": "г гр g gram грамм",
    "t": "т тн тонна t tonne ton",
    "l": "л литр l liter litre litr",
    "ml": "мл ml",
    "m": "м м.п пм мп п.м m meter metre metr mb lfm",
    "m2": "м2 м² кв.м квм m2 m² sqm",
    "m3": "м3 м³ куб.м m3 m³",
    "roll": "рул рулон roll rolka rolle",
    "box": "кор коробка box karton",
    "bag": "меш мешок bag worek sack",
}.items():
    for _a in _aliases.split():
        _UNITS[_a] = _canon

#: :data:`_MEASURE_WORDS` and the unit-of-sale aliases that are not currency marks ("бр" is a Belarusian rouble).
_PRICE_UNIT_WORDS: Final = _MEASURE_WORDS | frozenset(
    w for w in _UNITS if "." not in w and "-" not in w and currency_from_text(f"0 {w}") is None and w != "each"
)

_UNIT_WORD: Final = re.compile(r"^[^\d\W]{1,12}\.?\d?$|^[мm][23²³]$|^(?:кв|куб)\.?\s?м$|^к-т$|^п\.м$")


def normalize_unit(value: CellValue) -> str | None:
    """Unit of sale: common aliases in any covered language → a short code.

    ``шт``/``szt``/``Stk``/``pcs`` → ``pcs``, ``компл``/``zestaw`` → ``set``,
    ``кг`` → ``kg``, ``м2`` → ``m2`` …; anything else → its own cleaned text.
    """
    if type(value) is str:
        return _unit_of_text(value)
    t = clean_text(value)
    if not t:
        return None
    return _unit_code(t)


@lru_cache(maxsize=4096)
def _unit_of_text(value: str) -> str | None:
    """:func:`normalize_unit` of a text cell (memoised: a file repeats a few unit cells, as they are written)."""
    t = clean_text(value)
    return _unit_code(t) if t else None


@lru_cache(maxsize=4096)
def _unit_code(t: str) -> str:
    """:func:`normalize_unit` of cleaned, non-empty text (memoised: a file repeats a few units)."""
    key = t.casefold().strip().rstrip(".").replace(" ", "")
    if key in _UNITS:
        return _UNITS[key]
    key2 = key.replace(".", "")
    return _UNITS.get(key2, t)


def looks_like_unit(value: CellValue) -> bool:
    """True when a cell reads as a unit of sale (used to find unlabelled unit columns)."""
    return _is_unit_text(clean_text(value))


@lru_cache(maxsize=4096)
def _is_unit_text(text: str) -> bool:
    """:func:`looks_like_unit` of cleaned text (memoised)."""
    t = text.casefold().rstrip(".").replace(" ", "")
    return bool(t) and (t in _UNITS or t.replace(".", "") in _UNITS)


_AVAILABLE_YES: Final = re.compile(
    r"^\+|^(?:да|есть|є|так|yes|y|tak|ja|sí|si|true|в наличии|є в наявності|в наявності|наличие|"
    r"available|in stock|instock|auf lager|verfügbar|lieferbar|dostępn\w*|na stanie|много|достаточно|"
    r"many|plenty|disponible|en stock|налично|в наличност|ok)\b",
    re.IGNORECASE,
)
_AVAILABLE_NO: Final = re.compile(
    r"^-$|^(?:нет|немає|ні|no|n|nie|nein|false|отсутств\w*|нет в наличии|немає в наявності|out of stock|"
    r"outofstock|sold out|brak|niedostępn\w*|nicht verfügbar|nicht lieferbar|agotado|под заказ|на заказ|"
    r"під замовлення|ожидается|очікується|zamówienie|на замовлення|няма|backorder|preorder)\b",
    re.IGNORECASE,
)


_STOCK_AMOUNT: Final = re.compile(
    r"[<>≥≤]?\s*(?:более|больше|понад|більше|over|more than|ponad|über|mehr als|от|from)?\s*"
    r"(\d[\d\s.,]*)\s*\+?\s*(?:шт\.?|pcs|szt\.?|stk\.?|ед\.?)?",
    re.IGNORECASE,
)


def parse_stock(value: CellValue) -> tuple[Decimal | None, bool | None]:
    """Stock cell → (quantity, available).

    Numbers give the quantity and ``available = quantity > 0``; ``">10"``,
    ``"10+"``, ``"более 10"`` give 10 and ``True``; words such as "есть",
    "in stock", "dostępny" give ``(None, True)``, "нет", "brak", "под заказ"
    give ``(None, False)``; anything else ``(None, None)``.
    """
    if type(value) is str:
        return _stock_of_text(value)
    if value is None or isinstance(value, bool):
        return (None, value if isinstance(value, bool) else None)
    if isinstance(value, (int, float, Decimal)):
        q = _decimal_from_float(value) if isinstance(value, float) else Decimal(value)
        return (q, q > 0)
    return _stock_of_text(clean_text(value))


@lru_cache(maxsize=4096)
def _stock_of_text(value: str) -> tuple[Decimal | None, bool | None]:
    """:func:`parse_stock` of a text cell (memoised: stock cells repeat; the answer is immutable)."""
    if value.isascii() and value.isdigit():
        q = Decimal(value)  # "12": what the pattern below and parse_number make of it
        return (q, q > 0)
    t = clean_text(value)
    if not t or is_error_literal(t):
        return (None, None)
    m = _STOCK_AMOUNT.fullmatch(t)
    if m:
        qty = parse_number(m.group(1).strip())
        if qty is not None:
            return (qty, qty > 0)
    if _AVAILABLE_NO.search(t):
        return (None, False)
    if _AVAILABLE_YES.search(t):
        return (None, True)
    return (None, None)


# ---------------------------------------------------------------- mojibake
def _cp1251_back() -> dict[str, int]:
    table: dict[str, int] = {}
    for b in range(256):
        try:
            table[bytes([b]).decode("cp1251")] = b
        except UnicodeDecodeError:
            table[chr(b)] = b  # 0x98 is undefined in cp1251; Windows decoders pass it through as U+0098
    return table


_CP1251_BACK: Final = _cp1251_back()
#: What cp1251 makes of UTF-8 continuation bytes 0x80–0xBF.
_CONT_CHARS: Final = "".join(ch for ch, b in _CP1251_BACK.items() if 0x80 <= b <= 0xBF)
_MOJIBAKE_PAIR: Final = re.compile("[РС][" + re.escape(_CONT_CHARS) + "\ufffd]")
_CYRILLIC_BLOCK: Final = re.compile(r"[\u0400-\u04ff]")


def mojibake_share(text: str) -> float:
    """Share of Cyrillic-block characters in ``text`` that belong to "UTF-8 read as cp1251" pairs.

    Real Russian text scores near 0 ("Прайс" has no such pair); "РџСЂР°Р№СЃ"
    scores near 1.  Empty or non-Cyrillic text scores 0.
    """
    cyr = len(_CYRILLIC_BLOCK.findall(text))
    if cyr == 0:
        return 0.0
    pairs = _MOJIBAKE_PAIR.findall(text)
    return min(1.0, sum(len(_CYRILLIC_BLOCK.findall(p)) for p in pairs) / cyr)


def repair_mojibake(text: str) -> str:
    """Undo one round of "UTF-8 bytes decoded as cp1251" ("РџСЂР°Р№СЃ" → "Прайс").

    The text is encoded back to cp1251 and decoded as UTF-8; text that is not
    such mojibake (a character cp1251 cannot hold, or bytes that are not
    UTF-8) is returned unchanged, so applying it to clean text is safe.
    """
    if not text or not _MOJIBAKE_PAIR.search(text):
        return text
    out = bytearray()
    prev = ""
    for ch in text:
        b = _CP1251_BACK.get(ch)
        if b is None:
            if ch == "\ufffd" and prev in ("Р", "С"):
                b = 0x98  # the one byte cp1251 lacks, replaced when the text was mis-decoded
            else:
                return text
        out.append(b)
        prev = ch
    raw = bytes(out)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        fixed = raw.decode("utf-8", errors="replace")
        return fixed if fixed.count("\ufffd") * 20 <= len(fixed) else text
