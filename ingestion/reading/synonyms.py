"""Multilingual header vocabulary: which header text means which column role.

Languages covered: Russian, Ukrainian, Belarusian, Polish, German, English,
Spanish, Bulgarian, French, Italian, Portuguese, Czech, Slovak, Hungarian,
Dutch and the basic header words of Swedish, Danish and Norwegian.

Accents are kept by :func:`norm_header` (it only case-folds), so a pattern
for an accented word lists both spellings where suppliers drop the accents
(``r[ée]f[ée]rence``, ``n[aá]zev``); ``\b`` works on accented letters as on
any other letter.

Every pattern is a regular expression applied to :func:`norm_header` text
(case-folded, ``ё`` → ``е``, punctuation turned into spaces) and carries a
weight: 3 = the header clearly names the role ("Артикул", "Nr katalogowy"),
2 = a usual but looser word ("Код", "Name"), 1 = a weak hint ("Товар").  The
pseudo-role ``ignore`` wins over the others for headers that look like a role
but are not one (a VAT rate, a discount, a barcode, a country, an image URL).

German compounds are matched by their last word (``Listenpreis``,
``Stückpreis`` → price; ``Artikelbezeichnung`` → name).  A price "after a
discount" (``Цена со скидкой``, ``Discounted price``, ``Preis nach Rabatt``)
is a price column of kind ``special`` (weight 6, so it beats ``ignore``); the
discount itself (``Скидка, %``, ``Rabatt``) and totals (``Сумма``, ``Summe``,
``Total``) stay ignored.
"""

from __future__ import annotations

import re
from typing import Final

#: (role, weight, pattern) — order inside a weight does not matter.
_ROLE_PATTERNS: Final[list[tuple[str, int, str]]] = [
    # --- sku ---------------------------------------------------------------
    ("sku", 3, r"\bартикул|\bартыкул|\bsku\b|\bart\.?\s*-?\s*nr\b|\bartikel\s*-?\s*n(?:r|ummer)|"
     r"\barticle\b|\barticul|\bnr\.?\s*katalog|\bnumer\s*katalog|\bkatalog\w*\s*n|\bcat\.?\s*no\b|"
     r"\bpart\s*(?:no|number|#)|\bref\.?\b|\breferenc|\bкод\s+товар|\bкод\s+тов\b|\bindeks\b|"
     r"\bвендор\s*код|\bкаталожн\w*\s+номер|\bномер\s+по\s+каталог|\bвнутр\w*\s+код|\bitem\s*(?:no|number|code|#)|"
     r"\bproduct\s*(?:code|id|no)\b|\bcodigo\b|\bcódigo\b|\bsymbol\b|\bart\b|\bарт\b|"
     # French, Italian, Portuguese
     r"\br[ée]f[ée]rence|\br[ée]f\b|\brefer[eê]ncia|\bcode\s+(?:article|produit)|\bn[°o]\s*\.?\s*(?:d\s+)?article|"
     r"\bnum[ée]ro\s+(?:d\s+)?article|\bcod(?:ice|\.)?\s*(?:articolo|prodotto|art\b)|\bc[óo]d(?:igo|\.)?\s*(?:do\s+)?(?:artigo|produto)|"
     # Czech, Slovak, Hungarian, Nordic, Dutch
     r"\bkat(?:alogov[éeá]|al[óo]gov[ée])?\.?\s*[čc](?:[íi]slo|\.)|\bobj(?:edn[aá]c[íi]|edn[aá]vacie)?\.?\s*[čc](?:[íi]slo|\.)|"
     r"\bk[óo]d\s+(?:zbo[žz][íi]|tovaru|v[ýy]robku|polo[žz]ky)|\b[čc][íi]slo\s+(?:zbo[žz][íi]|tovaru|v[ýy]robku|polo[žz]ky)|"
     r"\bcikksz[áa]m|\bterm[ée]kk[óo]d|\bvare\s*-?\s*n(?:r|ummer)|\bart\.?\s*nr|\bartikelcode|\bbestelnummer|\bbestellnummer|"
     r"\bbestell\s*-?\s*nr\b"),
    ("sku", 2, r"\bкод\b|\bkod\b|\bcode\b|\bk[óo]d\b|\bcodice\b|\b[čc][íi]slo\b|\barticolo\b|\bartigo\b|\bкод\s*1с|\bpart\b|\bmpn\b|\bmodel\s*(?:no|number)|"
     r"\bhersteller\s*-?\s*(?:nr|nummer|artikel\w*|teile\w*)\b"),
    # --- name --------------------------------------------------------------
    ("name", 3, r"\bнаименован|\bнайменуван|\bнайменнє|\bназвани|\bназва\b|\bназва\s|\bназвa|\bнайменне|"
     r"\bnazwa|\b\w*bezeichnung|\bbenennung|\bноменклатур|\bnombre|\bproduct\s*name|\bitem\s*name|"
     r"\bназвание|\bимя\s+товар|\bнаим\b|\bнаимен|"
     r"\bd[ée]signation|\blibell[ée]|\bd[ée]nomination|\bdenominazione|\bdesigna[çc][ãa]o|"
     r"\bn[áa]zev\b|\bn[áa]zov\b|\bmegnevez[ée]s|\bben[äa]mning|\bbenævnelse|\bbetegnelse|\bvarenavn|\bproduktnamn|\bproduktnavn"),
    ("name", 2, r"\bname\b|\btitle\b|\bproduct\b|\bprodukt\b|\bproducto\b|\bdescripci[oó]n\b|\bitem\b|"
     r"\bartikel\b|\bтовар\w*\b|\bпродукт|\bпродукция\b|\bизделие|\bвыроб|\bмодель\b|\bmodel\b|"
     r"\bпозиция\b|\bописание\s+товара|\bнайменування\b|\bartykuł\b|\bartykul\b|\bwyr[oó]b|\bstoff\b|\bware\b|"
     r"\bproduit\b|\bprodotto\b|\bproduto\b|\bnome\b|\bdescrizione\b|\bdescri[çc][ãa]o\b|\bzbo[žz][íi]\b|\btovar\b|"
     r"\bpolo[žz]ka\b|\bv[ýy]robek\b|\bterm[ée]k\b|\bnév\b|\bnamn\b|\bnavn\b|\bnaam\b|\bomschrijving\b"),
    # --- price -------------------------------------------------------------
    ("price", 3, r"\bцен[аыеуи]?\b|\bстоимост|\bprice\b|\bprices\b|\bpreis|\bcen[aey]\b|\bcena\w*|\bprecio|"
     r"\bціна|\bцiна|\bвартість|\bвартiсть|\bкошт|\bpvp\b|\bpreço|\bcost\b|\bkosten\b|\bкошт\w*|\bцена\w*|\bцэна|\bкошт|"
     r"\bprix\b|\bp\.?\s*u\.?\s*(?:ht|ttc|net)\b|\bprezz[oi]\b|\bpre[çc]o|\bár\b|\begys[ée]g[áa]r|\b\w+[áa]r\s*\(?(?:huf|ft)|"
     r"\bpris\b|\bprijs\b|\bpriis|\bhinta\b|\b\w+preise?\b|^прайс(?:\s|$)"),
    ("price", 2, r"\bvk\b|\bek\b"),
    # a price after (or before) a discount is a price, although it names the discount (beats ``ignore``)
    ("price", 6, r"\b(?:цен\w*|стоимост\w*|ціна|вартість|price|preis|prix|precio|cena)\s+"
     r"(?:со|с|после|с\s+учетом|з|після|з\s+урахуванням|без|до|after|with|before|without|nach|mit|ohne|vor|"
     r"apr[èe]s|avec|sans|con|sin|po|ze|bez|przed)\s+(?:скидк|знижк|discount|rabatt?|remise|descuento|upust|slev)|"
     r"\bdiscount(?:ed)?\s+price|\brabattpreis|\bcena\s+rabatowa"),
    # bare price kinds ("Розница", "Опт.") are price columns when nothing else fits
    ("price", 1, r"\bрозн|\bроздр|\bопт\b|\bопт\.|\bоптов|\bмелк\w*\s*опт|\bгурт|\bretail\b|\bwholesale\b|"
     r"\bhurt\w*|\bdetal\w*|\bnetto\b|\bbrutto\b|\btarifs?\b|\bpu\b|\blistino\b|\bnett[óo]\b|\bbrutt[óo]\b|\bнетто\b|\bбрутто\b|\bдилер|\bdealer\b|\buvp\b|\bррц\b|\bmsrp\b|\brrp\b"),
    # --- currency ----------------------------------------------------------
    ("currency", 3, r"\bвалют|\bcurrency\b|\bwaluta\b|\bw[äa]hrung\b|\bmoneda\b|\bвалута\b|\bвал\b|\bвал\.|\bcurr\b|"
     r"\bdevise\b|\bvaluta\b|\bmoeda\b|\bm[ěe]na\b|\bp[ée]nznem\b|\bvaluuta\b"),
    # --- unit --------------------------------------------------------------
    ("unit", 3, r"\bед\.?\s*изм|\bединиц|\bодиниц|\bод\.?\s*вим|\bадз\.?\s*вым|\bunit\b|\buom\b|\bjednostk|"
     r"\bj\.?\s*m\.?\b|\bjm\b|\beinheit\b|\bme\b|\bunidad|\bмерна\s+единица|\bмярка\b|\bед\.?\s*изм\.?|\bизм\b|"
     r"\bunit[ée]\b|\bunit[àa]\b|\bu\.?\s*m\.?\b|\bu\.\s*v\.|\bjednotk|\bm\.?\s*j\.?\b|\bmj\b|\begys[ée]g\b|\benhet\b|"
     r"\benhed\b|\beenheid\b|\bmenn?yis[ée]gi\s+egys|\bmengeneinheit|\bverkaufseinheit|\bbestelleinheit"),
    ("unit", 2, r"\bед\b|\bед\.|\bод\b|\bод\.|\bunits\b|\bедин\b|\buv\b|\bum\b|\bme\.|\bm\.e\."),
    # --- stock -------------------------------------------------------------
    ("stock", 3, r"\bостат|\bналичи|\bнаявн|\bналичност|\bзалиш|\bstock\b|\bin\s*stock|\bbestand\b|"
     r"\blagerbestand|\bstan\b|\bstan\s*mag|\bilo[sś][cć]\b|\bilosc|\bexistencia|\bdisponib|\bavailab|"
     r"\bverf[üu]gbar|\bна\s+складе|\bнаяўн|\bрэшт|\bqty\b|\bquantity\b|\bколичеств|\bкол-?\s*во\b|"
     r"\bкількість|\bcantidad|\bmenge\b|\bauf\s+lager|\bинвентар|\binventory\s*(?:qty|quantity)|"
     r"\bquantit[ée]\b|\bquantit[àa]\b|\bquantidade\b|\bqt[ée]\b|\bgiacenz|\bestoque\b|\bexist[êe]ncia|\ben\s+stock\b|"
     r"\bskladem\b|\bna\s+sklad[eě]\b|\bmno[žz]stv[íio]\b|\bdostupnost|\bk[ée]szlet|\bmennyis[ée]g\b|"
     r"\bon\s*hand\b|\blagersaldo|\bi\s+lager\b|\bp[åa]\s+lager\b|\bbeholdning|\bvoorraad\b|\bantal\b|\bantall\b|\bsaldo\b"),
    ("stock", 1, r"\bсклад\b|\blager\b|\bmagazyn|\bsklad\b|\bmagazzino\b|\bmagasin\b|\bdispo\b"),
    # --- brand -------------------------------------------------------------
    ("brand", 3, r"\bпроизводител|\bвиробник|\bвытворц|\bбренд|\bbrand\b|\bmarka\b|\bhersteller\b(?!\s*-?\s*(?:nr|nummer|artikel|teile))|"
     r"\bmarca\b|\bмарка\b|\btrademark\b|\bmanufacturer\b|\bproducent\b|\bпроизводител\w*|\bторгов\w*\s+марк|\bvendor\b|"
     r"\bmarque\b|\bfabricant\b|\bproduttore\b|\bfabricante\b|\bv[ýy]robc[ea]\b|\bzna[čc]ka\b|\bgy[áa]rt[óo]\b|\bm[áa]rka\b|"
     r"\btillverkare\b|\bvarum[äa]rke\b|\bproducent\b|\bfabrikant\b|\bfabrikat\b|\bmerk\b|\bm[æa]rke\b|\bleverand[øo]r\b"),
    ("brand", 2, r"\bmfr\b|\bmfg\b"),
    # --- category ----------------------------------------------------------
    ("category", 3, r"\bкатегори|\bкатэгор|\bрозділ|\bраздел|\bkategori|\bcategor|\bkategorie\b|"
     r"\bgrupa\b|\bgrupy\b|\bpodgrup|\bgruppe\b|\bwarengruppe|\bгрупп|\bгруп[аи]\b|\bгрупа|\bproduct\s*type\b|\bтип\s+товар|"
     r"\bcat[ée]gor|\bkateg[óo]ri|\bfamille\b|\bfamiglia\b|\bfam[íi]lia\b|\bskupina\b|\bcsoport\b|\bvaregruppe|\bvarugrupp|\bproductgroep"),
    ("category", 1, r"\btype\b|\bтип\b|\bвид\b|\bсерия\b|\bserie\b|\bseries\b"),
    # --- description ------------------------------------------------------
    ("description", 3, r"\bописани|\bопис\b|\bopis\b|\bdescription|\bbeschreibung|\bbody\b|\bхарактеристик|"
     r"\bподробн|\bcharakterystyk|\bmerkmal|\bкомментар|\bпримечани|\bnotes?\b|\bуваги|\bдетали\b|"
     r"\bpopis\b|\ble[íi]r[áa]s\b|\bbeskrivning|\bbeskrivelse|\bcaract[ée]ristiques|\bremarques?\b|\bpozn[áa]mka|\bobservations?\b"),
    # --- group key: rows of one product share it (Shopify "Handle") ---------
    ("group", 3, r"\bhandle\b|\bparent\s*(?:sku|handle)\b"),
    # --- not a role, although it looks like one ---------------------------
    ("ignore", 5, r"\bштрих|\bbarcode|\bean\b|\bgtin\b|\bupc\b|\bisbn\b|\bскидк|\bзнижк|\bdiscount|\brabat|"
     r"\bupust|\bdescuento|\bстрана|\bкраїн|\bcountry|\bkraj\b|\bherkunft|\bземля\b|\bimage|\bфото|\bзображ|"
     r"\bизображ|\bкартинк|\bзображення|\bссылк|\bпосилан|\burl\b|\blink\b|\bseo\b|\bвес\b|\bвага\b|\bwaga\b|"
     r"\bgewicht\b|\bweight\b|\bgrams\b|\bобъем|\bобъём|\bvolume\b|\bсумма\b|\bсума\b|\bsumme\b|\bsuma\b|"
     r"\btotal\b|\bamount\b|\bитого\b|\bсрок\b|\bczas\b|\blead\s*time|\blieferzeit|\bгарант|\bwarranty|"
     r"\bgwarancj|\btags?\b|\bpublished\b|\bstatus\b|\bстатус\b|\bpolicy\b|\btracker\b|\bтекст\b|"
     r"\bfulfillment\b|\brequires\b|\btaxable\b|\bgift\b|\bидентификатор|\bid\b|\bномер\s+групп|\bnumer\b|\bnr\s+podgrup|"
     r"\bпорядок|\bsort\b|\b№\b|\bп/п\b|\bпп\b|\blp\b|\bno\.?\s*$|\bdate\b|\bдата\b|"
     # French, Italian, Portuguese, Czech/Slovak, Hungarian, Nordic, Dutch: barcode, discount, country, weight, total
     r"\bcode\s*-?\s*barres?|\bcodice\s+a\s+barre|\bc[óo]digo\s+de\s+barras|\b[čc][áa]rov[ýy]\s+k[óo]d|\bvonalk[óo]d|\bstreckkod|\bstregkode|"
     r"\bremise\b|\bsconto\b|\bdesconto\b|\bsleva\b|\bzľava\b|\bkedvezm[ée]ny|\bkorting\b|\bpays\b|\bpaese\b|\bpa[íi]s\b|"
     r"\bzem[ěe]\b|\bkrajina\b|\bpoids\b|\bpeso\b|\bhmotnost\b|\bhmotnos[ťt]\b|\bv[áa]ha\b|\bs[úu]ly\b|\bvikt\b|\bvægt\b|\bvekt\b|"
     r"\bgewicht\b|\bmontant\b|\bimporto\b|\bcelkem\b|\bspolu\b|\bösszesen\b|\bpo[řr]\.?\s*[čc]|\bpo[řr]adov[éeá]\s+[čc][íi]slo|\bsorsz[áa]m"),
]

#: Headers that only name a tax rate ("НДС", "VAT 23%") — not a price by themselves.
_VAT_ONLY = re.compile(
    r"^(?:ставка\s+|stawka\s+|taux\s+(?:de\s+)?|sazba\s+|aliquota\s+|al[íi]quota\s+(?:de\s+)?)?"
    r"(?:ндс|пдв|vat|mwst|ust|iva|ддс|пдв|tva|dph|[áa]fa|moms|btw|moms|alv)\b[\s%\d.,]*$"
)

#: Headers of the quantity a price refers to, not of a price: German ``Preiseinheit`` (``Preiseinh.``,
#: ``Preis-Einheit``, the abbreviation ``PE``: "the price is per 100"), ``Price unit``, and ``Цена за`` /
#: ``Ціна за`` / ``Cena za`` / ``Price per`` / ``Preis pro`` / ``Preis je`` (``Prix par``, ``Precio por``,
#: ``Prezzo per``) with nothing after (the cells below say "100" or "100 шт").  Applied to :func:`norm_header`
#: text; written with a slash ("Price/unit", "Preis/Einheit") or naming the unit ("Цена за шт.") the header is a
#: price per unit, and it is a price.
_PRICE_QUANTITY: Final = re.compile(
    r"\bpreis-?einh(?:eit(?:en)?|\.|\b)|"
    r"^(?:pe|price\s+unit|price\s+per|preis\s+(?:pro|je)|prix\s+par|precio\s+por|prezzo\s+per|"
    r"цена\s+за|ціна\s+за|cena\s+za)$"
)

_COMPILED: Final[list[tuple[str, int, re.Pattern[str]]]] = [
    (role, weight, re.compile(pattern)) for role, weight, pattern in _ROLE_PATTERNS
]

#: Price kinds, checked in order; the first that matches names the column's kind.
_KIND_PATTERNS: Final[list[tuple[str, re.Pattern[str]]]] = [
    # a price for a pack or a number of pieces ("Price per 100", "Цена за упаковку", "Price/100"): kept, but
    # never the main price when another price column is there (a trial: "Price per 100" before "Price"
    # became the price).  A price per unit or piece is an ordinary price.
    ("per_pack", re.compile(r"\b(?:per|за|pro|je)\s+(?:[2-9]|\d{2,})\b|\bper\s+(?:pack\w*|box\w*|case|carton\w*|set|"
                            r"dozen)\b|\bза\s+(?:упак\w*|уп\b|коробк\w*|пачк\w*|набор\w*|комплект\w*|рулон\w*|бухт\w*)")),
    ("compare_at", re.compile(r"compare\s*at|\bold\s*price|\bстар\w*\s+цен|\bстара\s+ціна|\bprevious|\bперечеркн|\bдо\s+скидки|"
                           r"\bбез\s+(?:скидк|знижк)|\bдо\s+знижк|\b(?:before|without)\s+discount|\b(?:ohne|vor)\s+rabatt")),
    ("purchase", re.compile(r"\bcost\s+per|\bunit\s+cost|\bзакуп|\bzakup|\bpurchase|\beinkauf|\bcompra\b|\bвходн|\bсебестоим|\bachat\b|\bacquisto\b|\bn[áa]kup|\bbeszerz|\bek\b")),
    ("wholesale", re.compile(r"\bопт|\bгурт|\bwholesale|\bhurt|\bgro(?:ß|ss)handel|\bmayorista|\bедро\b|\bедров|\bde\s+gros\b|\bingrosso|\bvelkoobch|\bveľkoobch|\bvoc\b|\bnagyker")),
    ("dealer", re.compile(r"\bдилер|\bdealer|\bпартн[её]р|\bpartner|\bдистриб|\bdistrib")),
    ("special", re.compile(r"\bакци|\bспец|\bspecial|\bpromo|\bsale\s+price|\bрасспрод|\bpromocj|\bскидк|\bзнижк|"
                            r"\bdiscount|\brabatt?|\bremise|\bdescuento|\bupust|\baktion|\bsonderpreis|\bangebot")),
    ("retail", re.compile(r"\bрозн|\bроздр|\bretail|\bdetal|\beinzelhandel|\buvp\b|\bррц\b|\bmsrp\b|\brrp\b|\bpvp\b|\bminorista|\bдребно|\bpublic\b|\bpubblico|\bdettaglio|\bmaloobch|\bmoc\b|\bkisker|\bvejl|\blisten\w*preis|\blist\s*price|\blistprice|\bkatalogpreis")),
    ("sale", re.compile(r"\bпродаж|\bsprzeda|\bverkauf|\bventa\b|\bvk\b|\bselling\b")),
    ("netto", re.compile(r"\bnetto|\bнетто\b|\bnet\b|\bбез\s+ндс|\bбез\s+пдв|\bexcl|\bexkl|\bzzgl|\bohne\s+mwst|\bbez\s+vat|\bбез\s+ддс|\bsin\s+iva|\bht\b|\bhors\s+tax|\bsenza\s+iva|\biva\s+esclusa|\bsem\s+iva|\bbez\s+dph|\bnett[óo]\b|\bexcl|\bekskl|\bexkl")),
    ("brutto", re.compile(r"\bbrutto|\bбрутто\b|\bgross\b|\bс\s+ндс|\bз\s+пдв|\bincl|\binkl|\bmit\s+mwst|\bz\s+vat|\bс\s+ддс|\bcon\s+iva|\bttc\b|\biva\s+inclusa|\bcom\s+iva|\bs\s+dph|\bbrutt[óo]\b")),
]

_PUNCT = re.compile(r"[\s_/\\|()\[\]{}:;,\"'*«»“”„!?<>=+]+")


def norm_header(text: str) -> str:
    """Header text folded for matching: lower case, ``ё``→``е``, punctuation → space."""
    t = text.casefold().replace("ё", "е").replace("\u00a0", " ")
    t = _PUNCT.sub(" ", t)
    return " ".join(t.split())


def role_scores(text: str) -> dict[str, int]:
    """Every role the header text hints at, with the strongest weight found.

    A header that equals a pattern's whole text gets one extra point, so
    ``Title`` beats ``SEO Title`` and ``Код`` beats ``Код GTIN``.  A header
    naming the quantity a price refers to (``Preiseinheit``, ``PE``, ``Price
    unit``, a bare ``Цена за``, ``Price per``, ``Preis pro``, ``Preis je``) is ``ignore`` (weight 7), never ``price``.
    """
    t = norm_header(text)
    if not t:
        return {}
    out: dict[str, int] = {}
    for role, weight, rx in _COMPILED:
        m = rx.search(t)
        if m is None:
            continue
        w = weight + (1 if m.group(0).strip(" .") == t.strip(" .") else 0)
        if w > out.get(role, 0):
            out[role] = w
    if _VAT_ONLY.match(t):
        out["ignore"] = 6
    if "price" in out and "/" not in text and _PRICE_QUANTITY.search(t) is not None:
        del out["price"]  # "Preiseinheit", "Price unit", "Цена за": the quantity the price is for
        out["ignore"] = 7
    return out


def header_role(text: str) -> tuple[str | None, int]:
    """The single role a header names and its weight; ``(None, 0)`` when none.

    ``ignore`` is returned as a role (the column is known *not* to be data we
    map).  Ties go to the more specific role in the order sku, price, stock,
    unit, currency, brand, category, description, name.
    """
    scores = role_scores(text)
    if not scores:
        cur = currency_only_header(text)
        return ("price", 1) if cur else (None, 0)
    order = ("ignore", "group", "sku", "price", "stock", "unit", "currency", "brand", "category", "description", "name")
    best = max(scores.items(), key=lambda kv: (kv[1], -order.index(kv[0])))
    return best


def currency_only_header(text: str) -> bool:
    """True when a header is just a currency mark, maybe with a VAT note (" € без ПДВ")."""
    from ingestion.reading.currency import currency_from_text

    t = norm_header(text)
    if not t or currency_from_text(text) is None:
        return False
    rest = re.sub(r"[€$£₴₽₸¥]|\b(?:eur|usd|rub|uah|pln|chf|byn|kzt|bgn|gbp|sek|czk|руб\w*|грн\w*|zł|zl|р)\b\.?", " ", t)
    rest = re.sub(r"\b(?:без|з|с|bez|z|excl\w*|incl\w*|inkl\w*|exkl\w*|ohne|mit|ндс|пдв|vat|mwst|ддс|iva)\b", " ", rest)
    return not rest.strip(" .%0123456789")


def price_kind(text: str) -> str:
    """Kind of a price column from its header: retail, wholesale, purchase … or ``price``."""
    t = norm_header(text)
    for kind, rx in _KIND_PATTERNS:
        if rx.search(t):
            return kind
    return "price"


#: Single-cell rows with these words are notes, totals or footers, not sections.
NOTE_RE: Final = re.compile(
    r"^\s*[*#•※]|\bитого|\bвсего\b|\bразом\b|\bусього|\btotal\b|\bsumme\b|\brazem\b|\bsuma\b|"
    r"\bпримечани|\bпримітк|\bnote\b|\buwaga|\bhinweis|\b(?:тел|телефон\w*|phone|tel|факс|fax)\.?\s*[:.]?\s*[+(\d]|"
    r"\be-?mail|@|https?://|www\.|\b(?:адрес|adres|address|anschrift)\w*\s*:|\bцены\s+указан|\bціни\s+вказан|"
    r"\bprices?\s+(?:are|include|exclude)|\bpreise\s+(?:sind|inkl|zzgl)|\bceny\s+(?:s[aą]|podane|netto|brutto)|"
    r"\bдиректор|\bменеджер\b|\bбухгалтер|\bподпис|\bм\.п\.|\bстраница\b|\bpage\s+\d|\bseite\s+\d|\bstrona\s+\d|"
    r"\bпрайс|\bprice\s*list|\bpreisliste|\bcennik\b|\bдата\s*:|\bот\s+\d{1,2}[./]\d{1,2}[./]\d{2,4}|"
    r"^\s*\d{1,2}[./]\d{1,2}[./]\d{2,4}\s*$|\b(?:ооо|оао|зао|ип|тов|пп|sp\.?\s*z\s*o\.?\s*o|gmbh|llc|ltd)\b",
    re.IGNORECASE,
)

#: Price cells meaning "ask us": no price, a ``price_on_request`` warning.
ON_REQUEST_RE: Final = re.compile(
    r"по\s+запрос|по\s+запиту|за\s+запитом|по\s+звонку|договорн|звоните|уточняйт|уточнюйт|"
    r"on\s+request|upon\s+request|request|call\b|ask\b|contact\s+us|\bpoa\b|\btba\b|\btbd\b|"
    r"auf\s+anfrage|anfrage|na\s+zapytanie|zapytaj|zapytanie|a\s+consultar|consultar|"
    r"bajo\s+pedido|под\s+заказ|при\s+поиск|при\s+запитван|по\s+договор|запит|cena\s+do\s+uzgodnienia|uzgodnien",
    re.IGNORECASE,
)


#: Headers of columns holding a variant's option value ("Option1 Value", "Размер", "Farbe").
OPTION_RE: Final = re.compile(
    r"\boption\s*\d*\s*value\b|\bвариант\w*|\bмодификац\w*|\bразмер\w*|\bрозмір\w*|\bsize\b|\bcolou?r\b|"
    r"\bцвет\w*|\bколір\b|\bколер\b|\brozmiar\b|\bkolor\b|\bfarbe\b|\bgr(?:ö|oe|o)(?:ß|ss)e\b|\btalla\b|\bwariant\w*"
)

#: A cell that is only a web address (an image or product link), not a note about the list.
LINK_RE: Final = re.compile(r"^\s*(?:https?://|www\.)\S+\s*$", re.IGNORECASE)
