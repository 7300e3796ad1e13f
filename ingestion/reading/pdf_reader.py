"""PDF reader: the tables of a PDF price list as one uniform row stream (DESIGN §5).

Tables are read with camelot (2.x, pdfium renderer, no system packages):

1. **Checks first** (pypdfium2, which camelot brings): a damaged or
   password-protected file → :class:`CorruptFile`; more than
   :data:`MAX_PDF_PAGES` pages → :class:`UnsupportedFormat`; no extractable
   text on any page → :class:`UnsupportedFormat` whose message contains
   ``"no text layer (scanned document)"``.
2. **Invisible text is dropped**: text objects that lie wholly outside their
   clipping path (drawn, then hidden — a trick some generators use for
   search keywords) would otherwise be mixed into the cells.  Pages that
   have such objects are rewritten into a temporary copy before parsing.
3. **Lattice, then stream**: every page is read with ``flavor="lattice"``
   (``engine="vector"``: ruling lines from the PDF's vector graphics, no
   rendering); pages where lattice finds no usable table (at least 2 rows and
   2 columns with text) are read again with ``flavor="stream"``
   (whitespace-separated columns).
4. **Cells**: a cell's text lines are joined with a space (a line ending in
   ``-`` is joined without one); empty cells are ``None``; a lattice cell
   that is vertically merged with the cell above (no ruling line between
   them) carries the merged cell's text, as the XLS/XLSX readers do.
5. **Tables are joined** across pages and within a page into one
   :class:`SheetSource` while their column count stays the same and they
   either start without a header of their own or repeat the first table's
   header (the repeat is dropped).  A table with another width or header
   starts a new source, named ``"table N"`` (a single source is unnamed, so
   ``Item.sheet`` is ``None``).
6. **Page furniture is dropped**: page numbers ("Страница 2 из 9",
   "Page 2 of 9", "Strona 2 z 9", "- 2 -") and running titles/footers — a
   row with a single text cell seen at the top or bottom of the tables of
   two or more pages.
7. **Wrapped names** are joined: in a stream table a text-only row (one
   cell) directly above and/or below a row whose same cell is empty is that
   row's text split around it ("Aoi Dining Set" / SKU line / "(table + four
   chairs)"); a one-cell row starting in lower case (or with ``(``) after an
   item continues the item's text.  Under a vertically merged name cell, rows
   that differ only by a variant column (header ``DN``, ``PN``, ``Ø``,
   ``Size``, ``Rozmiar``, ``Размер``, ``Typ``…) get names composed as
   ``"<merged name> DN<variant>"`` (designators are fused with the value,
   words are separated by a space).

Row numbers: PDFs have no row numbers a user can see, so ``RawRow.row`` is a
running 1-based number of the table rows as camelot read them (across all
tables and pages, counting header and dropped rows), and ``RawRow.page`` is
the 1-based page the row is on.

Details (``open_pdf``'s second value): ``pdf_pages``, ``pdf_flavor``
(``lattice``, ``stream`` or ``lattice+stream``), ``pdf_table_count``,
``pdf_min_accuracy`` (camelot's accuracy in percent, lowest table),
``pdf_hidden_text_objects`` and ``pdf_tables``: one dict per table
``{page, order, flavor, rows, cols, accuracy, whitespace}`` (percent).
``problems`` holds info :class:`Problem` values for tables whose accuracy is
below :data:`LOW_ACCURACY` or whose whitespace is above
:data:`HIGH_WHITESPACE`.

Speed: camelot reads ≈50–250 rows/s (DESIGN §8); parsing is done when the
file is opened, the rows are then served from memory.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from typing import Any, Iterator

import attrs

from ingestion.errors import CorruptFile, Problem, UnsupportedFormat
from ingestion.reading.source import RawRow, SheetSource

#: Refuse PDFs with more pages than this (camelot needs ≈0.01–1 s per page).
MAX_PDF_PAGES = 500
#: Camelot accuracy (percent) below which a table is reported as an info problem.
LOW_ACCURACY = 80.0
#: Camelot whitespace (percent of empty cells) above which a table is reported.
HIGH_WHITESPACE = 75.0
#: Rows at the top/bottom of a page searched for running titles/footers.
EDGE_ROWS = 3

_PAGE_NO = re.compile(
    r"^(?:[-–—]\s*\d{1,4}\s*[-–—]"
    r"|(?:(?:страница|стр|page|pg|strona|str|seite|s|p)\.?\s*)?\d{1,4}\s*"
    r"(?:(?:из|of|z|von|/|із|з)\s*\d{1,4})?)$",
    re.IGNORECASE,
)
_NUMBERISH = re.compile(r"^[\s\d.,'\u00a0%$€£¥₽zł-]+$")
#: Variant column headers fused with their value ("DN" + "40" → "DN40").
_DESIGNATORS = {"dn", "pn", "ø", "⌀", "d", "du", "ду", "dy", "nps", "od"}
#: Variant column headers put before the value with a space.
_VARIANT_WORDS = {
    "size", "rozmiar", "размер", "розмір", "größe", "grösse", "grosse", "typ", "type", "тип",
    "wariant", "variant", "вариант", "исполнение", "wymiar", "wymiary", "średnica", "diameter", "диаметр",
}


@attrs.define
class _Row:
    page: int
    number: int
    values: list[str | None]
    top: float | None = None
    bottom: float | None = None
    merged: list[bool] = attrs.field(factory=list)  # cell is merged with the cell above
    dropped: bool = False


@attrs.define
class _Table:
    page: int
    order: int
    flavor: str
    rows: list[_Row]
    accuracy: float
    whitespace: float

    @property
    def width(self) -> int:
        return len(self.rows[0].values) if self.rows else 0


def _cell_text(text: str) -> str | None:
    """Camelot cell text → one line: lines joined by a space (``-`` line ends joined directly)."""
    out = ""
    for line in (ln.strip() for ln in text.replace("\r", "\n").split("\n")):
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith("-") and not out.endswith(" -"):
            out += line
        else:
            out += " " + line
    out = re.sub(r"\s+", " ", out).strip()
    return out or None


def _norm(v: str | None) -> str:
    return re.sub(r"\s+", " ", (v or "")).strip().casefold()


def _is_page_furniture(values: list[str | None], page: int) -> bool:
    texts = [v for v in values if v]
    if not texts or len(texts) > 2:
        return False
    joined = " ".join(texts).strip()
    if _PAGE_NO.match(joined):
        digits = re.findall(r"\d+", joined)
        # a bare number must be this page's number; "x of y" / "Page x" forms always count
        return not joined.isdigit() or (bool(digits) and int(digits[0]) == page)
    return False


# ---------------------------------------------------------------- pdfium checks
def _inspect(path: str) -> tuple[int, list[int], int]:
    """Page count, 1-based pages with hidden text and the number of hidden text objects.

    Raises CorruptFile / UnsupportedFormat as described in the module docstring.
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.casefold():
            raise CorruptFile("The PDF is password-protected; send it without a password.") from exc
        raise CorruptFile(f"The PDF is damaged and cannot be opened ({msg}).") from exc
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise CorruptFile("The PDF has no pages.")
        if n_pages > MAX_PDF_PAGES:
            raise UnsupportedFormat(
                f"The PDF has {n_pages} pages; at most {MAX_PDF_PAGES} pages are read. "
                "Split the file or send the price list as .xlsx or .csv."
            )
        chars = 0
        hidden_pages: list[int] = []
        hidden_total = 0
        for i in range(n_pages):
            page = pdf[i]
            tp = page.get_textpage()
            text = tp.get_text_range()
            chars += sum(1 for ch in text if not ch.isspace())
            tp.close()
            hidden = len(_hidden_text_objects(page))
            if hidden:
                hidden_pages.append(i + 1)
                hidden_total += hidden
            page.close()
        if chars == 0:
            raise UnsupportedFormat(
                "The PDF has no text layer (scanned document): its pages are images. "
                "Run OCR on it or send the price list as .xlsx or .csv."
            )
        return n_pages, hidden_pages, hidden_total
    finally:
        pdf.close()


def _clip_box(obj: Any) -> tuple[float, float, float, float] | None:
    """Intersection of the bounding boxes of an object's clipping paths (PDF points), if any."""
    import ctypes

    import pypdfium2.raw as raw

    clip = raw.FPDFPageObj_GetClipPath(obj.raw)
    if not clip:
        return None
    n = raw.FPDFClipPath_CountPaths(clip)
    if n <= 0:
        return None
    box: tuple[float, float, float, float] | None = None
    for i in range(n):
        segs = raw.FPDFClipPath_CountPathSegments(clip, i)
        xs: list[float] = []
        ys: list[float] = []
        for s in range(max(segs, 0)):
            seg = raw.FPDFClipPath_GetPathSegment(clip, i, s)
            x, y = ctypes.c_float(), ctypes.c_float()
            if raw.FPDFPathSegment_GetPoint(seg, x, y):
                xs.append(x.value)
                ys.append(y.value)
        if not xs:
            continue
        b = (min(xs), min(ys), max(xs), max(ys))
        box = b if box is None else (max(box[0], b[0]), max(box[1], b[1]), min(box[2], b[2]), min(box[3], b[3]))
    return box


def _hidden_text_objects(page: Any) -> list[Any]:
    """Text objects of a page that lie wholly outside their clipping path (not visible)."""
    import pypdfium2.raw as raw

    hidden: list[Any] = []
    for obj in page.get_objects(max_depth=1):
        if obj.type != raw.FPDF_PAGEOBJ_TEXT:
            continue
        box = _clip_box(obj)
        if box is None:
            continue
        left, bottom, right, top = obj.get_bounds()
        tol = 0.5
        if (
            box[2] < box[0] or box[3] < box[1]
            or right < box[0] - tol or left > box[2] + tol or top < box[1] - tol or bottom > box[3] + tol
        ):
            hidden.append(obj)
    return hidden


def _without_hidden_text(path: str, pages: list[int], out_path: str) -> None:
    """Write a copy of ``path`` whose ``pages`` (1-based) lack their hidden text objects."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        for n in pages:
            page = pdf[n - 1]
            for obj in _hidden_text_objects(page):
                page.remove_obj(obj)
                obj.close()
            page.gen_content()
            page.close()
        pdf.save(out_path)
    finally:
        pdf.close()


# ---------------------------------------------------------------- camelot
def _camelot_tables(path: str, pages: str, flavor: str) -> list[Any]:
    from camelot.io import read_pdf

    kwargs: dict[str, Any] = {"engine": "vector"} if flavor == "lattice" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = read_pdf(path, pages=pages, flavor=flavor, suppress_stdout=True, **kwargs)
        except Exception as exc:  # camelot raises plain exceptions for damaged content
            raise CorruptFile(f"The PDF's tables cannot be read ({type(exc).__name__}: {exc}).") from exc
    return list(found)


def _convert(table: Any, flavor: str, counter: list[int]) -> _Table:
    """A camelot table → :class:`_Table` with cleaned cell texts and merged-cell flags."""
    rows: list[_Row] = []
    cells = table.cells
    for i, crow in enumerate(cells):
        values = [_cell_text(c.text) for c in crow]
        merged = [flavor == "lattice" and i > 0 and not c.top and not cells[i - 1][j].bottom for j, c in enumerate(crow)]
        counter[0] += 1
        top = bottom = None
        if i < len(table.rows):
            top, bottom = float(table.rows[i][0]), float(table.rows[i][1])
        rows.append(_Row(page=int(table.page), number=counter[0], values=values, top=top, bottom=bottom, merged=merged))
    report = table.parsing_report
    return _Table(
        page=int(table.page),
        order=int(report.get("order") or 1),
        flavor=flavor,
        rows=rows,
        accuracy=float(report.get("accuracy") or 0.0),
        whitespace=float(report.get("whitespace") or 0.0),
    )


def _usable(t: Any) -> bool:
    df = t.df
    if df.shape[0] < 2 or df.shape[1] < 2:
        return False
    filled = sum(1 for row in df.itertuples(index=False) for v in row if str(v).strip())
    return filled >= 3


def _read_tables(path: str, n_pages: int) -> tuple[list[_Table], str]:
    lattice = [t for t in _camelot_tables(path, "all", "lattice") if _usable(t)]
    done = {int(t.page) for t in lattice}
    missing = [p for p in range(1, n_pages + 1) if p not in done]
    stream: list[Any] = []
    if missing:
        stream = [t for t in _camelot_tables(path, ",".join(map(str, missing)), "stream") if _usable(t)]
    found = sorted(
        [(t, "lattice") for t in lattice] + [(t, "stream") for t in stream],
        key=lambda tf: (int(tf[0].page), int(tf[0].parsing_report.get("order") or 1)),
    )
    counter = [0]
    tables = [_convert(t, f, counter) for t, f in found]
    flavor = "+".join(f for f, ts in (("lattice", lattice), ("stream", stream)) if ts) or "none"
    return tables, flavor


# ---------------------------------------------------------------- row fixing
def _fill_merged(table: _Table) -> None:
    """A lattice cell merged with the one above takes its text (merged ranges resolved)."""
    for i, row in enumerate(table.rows):
        if i == 0:
            continue
        above = table.rows[i - 1]
        for j, m in enumerate(row.merged):
            if m and row.values[j] is None and above.values[j] is not None:
                row.values[j] = above.values[j]


def _variant_column(header: list[str | None]) -> tuple[int, bool] | None:
    """(index, fused) of a size/variant column in a header row, if there is one."""
    for j, h in enumerate(header):
        key = _norm(h).rstrip(".:")
        if key in _DESIGNATORS:
            return j, True
        if key in _VARIANT_WORDS:
            return j, False
    return None


def _is_fragment(row: _Row) -> int | None:
    """Column of the one text cell of a text-only row (letters, not a number), else None."""
    filled = [j for j, v in enumerate(row.values) if v]
    if len(filled) != 1:
        return None
    v = row.values[filled[0]] or ""
    if _NUMBERISH.match(v) or not re.search(r"[^\W\d_]", v):
        return None
    return filled[0]


def _is_record(row: _Row) -> bool:
    return sum(1 for v in row.values if v) >= 2


def _gap(a: _Row, b: _Row) -> float | None:
    """Vertical distance between two rows' centres (points), when known."""
    if a.top is None or b.top is None or a.bottom is None or b.bottom is None:
        return None
    return abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2)


def _join_wrapped(rows: list[_Row]) -> None:
    """Join name fragments with their record (see module docstring, point 7)."""
    live = [r for r in rows if not r.dropped]
    for i, row in enumerate(live):
        if row.dropped or not _is_record(row):
            continue
        prev = live[i - 1] if i > 0 else None
        nxt = live[i + 1] if i + 1 < len(live) else None
        for j, v in enumerate(row.values):
            if v is not None:
                continue
            before = prev if prev is not None and not prev.dropped and _is_fragment(prev) == j else None
            after = nxt if nxt is not None and _is_fragment(nxt) == j else None
            if after is not None and i + 2 < len(live):
                # the fragment below may rather open the next record (its own cell empty too)
                nn = live[i + 2]
                if _is_record(nn) and j < len(nn.values) and nn.values[j] is None:
                    g_own, g_next = _gap(row, after), _gap(after, nn)
                    if g_own is None or g_next is None or g_next < g_own:
                        after = None
            if before is None and after is None:
                continue
            parts = [r.values[j] for r in (before, after) if r is not None]
            parts.insert(1 if before is not None else 0, None)
            row.values[j] = " ".join(p for p in parts if p) or None
            for r in (before, after):
                if r is not None:
                    r.dropped = True
    # lower-case / "(" continuation lines under a record's filled cell
    live = [r for r in rows if not r.dropped]
    for i in range(1, len(live)):
        row = live[i]
        col = _is_fragment(row)
        if col is None:
            continue
        j = col
        prev = live[i - 1]
        if not _is_record(prev) or j >= len(prev.values) or not prev.values[j]:
            continue
        text = row.values[j] or ""
        ptext = prev.values[j] or ""
        if text[:1].islower() or text[:1] in "(,;/&+" or ptext.endswith(("-", ",", "/", "&", "+")):
            sep = "" if ptext.endswith("-") and not ptext.endswith(" -") else " "
            prev.values[j] = ptext + sep + text
            row.dropped = True


def _drop_running_lines(tables: list[_Table]) -> None:
    """Drop page numbers and short text rows repeated at page tops/bottoms."""
    by_page: dict[int, list[_Row]] = {}
    for t in tables:
        by_page.setdefault(t.page, []).extend(t.rows)
    seen: dict[tuple[str, ...], set[int]] = {}
    for page, rows in by_page.items():
        edge = rows[:EDGE_ROWS] + rows[-EDGE_ROWS:]
        for r in edge:
            texts = [v for v in r.values if v]
            if len(texts) != 1 or _NUMBERISH.match(texts[0]):
                continue
            seen.setdefault(tuple(_norm(v) for v in texts), set()).add(page)
    running = {k for k, pages in seen.items() if len(pages) >= 2}
    for page, rows in by_page.items():
        for r in rows:
            if _is_page_furniture(r.values, page):
                r.dropped = True
                continue
            texts = [v for v in r.values if v]
            if texts and tuple(_norm(v) for v in texts) in running and r in rows[:EDGE_ROWS] + rows[-EDGE_ROWS:]:
                r.dropped = True


def _looks_like_header(row: _Row) -> bool:
    texts = [v for v in row.values if v]
    return len(texts) >= 2 and not any(_NUMBERISH.match(v) for v in texts)


@attrs.define
class _Group:
    header: list[str | None] | None
    width: int
    tables: list[_Table] = attrs.field(factory=list)


def _group_tables(tables: list[_Table]) -> list[_Group]:
    """Join tables that continue each other (same width; no own header or the same header)."""
    groups: list[_Group] = []
    for t in tables:
        if not t.rows:
            continue
        first = t.rows[0]
        cur = groups[-1] if groups else None
        if cur is not None and cur.width == t.width:
            same_header = cur.header is not None and [_norm(v) for v in first.values] == [_norm(v) for v in cur.header]
            if same_header:
                first.dropped = True
                cur.tables.append(t)
                continue
            if not _looks_like_header(first) or cur.header is None:
                cur.tables.append(t)
                continue
            # same width but a header of its own that differs: a new table
        header = list(first.values) if _looks_like_header(first) else None
        groups.append(_Group(header=header, width=t.width, tables=[t]))
    return groups


def _prepare(group: _Group) -> list[_Row]:
    header = group.header
    variant = _variant_column(header) if header else None
    rows: list[_Row] = []
    for t in group.tables:
        _fill_merged(t)
        if variant is not None and header is not None:
            _compose_group(t, variant, (header[variant[0]] or "").strip())
        for r in t.rows:
            if header is not None and r is not group.tables[0].rows[0] and not r.dropped:
                if [_norm(v) for v in r.values] == [_norm(v) for v in header]:
                    r.dropped = True
        rows.extend(t.rows)
    if any(t.flavor == "stream" for t in group.tables):
        _join_wrapped(rows)
    return [r for r in rows if not r.dropped]


def _compose_group(table: _Table, variant: tuple[int, bool], label: str) -> None:
    """Name := merged multi-row text + variant value (``"… 017W" + "DN" + "40"``).

    Only the table's wordiest column is composed, and only when it has
    vertically merged blocks (a name spanning its variant rows).
    """
    vcol, fused = variant
    prefix = label if fused else label + " "

    def letters(j: int) -> int:
        return sum(len(re.findall(r"[^\W\d_]", r.values[j] or "")) for r in table.rows if not r.merged[j])

    candidates = [j for j in range(table.width) if j != vcol and any(r.merged[j] for r in table.rows)]
    if not candidates:
        return
    j = max(candidates, key=letters)
    for row in table.rows:
        text = row.values[j]
        v = row.values[vcol] if vcol < len(row.values) else None
        if text and v and re.search(r"[^\W\d_]{3}", text) and not _NUMBERISH.match(text):
            row.values[j] = f"{text} {prefix}{v}"


# ---------------------------------------------------------------- entry point
def open_pdf(path: str) -> tuple[list[SheetSource], dict[str, Any]]:
    """Read the tables of a PDF into row sources (rules in the module docstring).

    Returns ``(sources, details)``: one :class:`SheetSource` per run of joined
    tables (rows carry ``page``), and the details described in the module
    docstring (``details["problems"]`` is a list of info :class:`Problem`).
    Raises :class:`CorruptFile` (damaged, password-protected, unreadable
    tables) and :class:`UnsupportedFormat` (too many pages; no text layer).
    """
    n_pages, hidden_pages, hidden_total = _inspect(path)
    tmp: str | None = None
    try:
        src = path
        if hidden_pages:
            fd, tmp = tempfile.mkstemp(suffix=".pdf", prefix="ingestion-pdf-")
            os.close(fd)
            _without_hidden_text(path, hidden_pages, tmp)
            src = tmp
        tables, flavor = _read_tables(src, n_pages)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    problems: list[Problem] = []
    table_info: list[dict[str, Any]] = []
    for t in tables:
        table_info.append(
            {"page": t.page, "order": t.order, "flavor": t.flavor, "rows": len(t.rows), "cols": t.width,
             "accuracy": round(t.accuracy, 2), "whitespace": round(t.whitespace, 2)}
        )
        if t.accuracy < LOW_ACCURACY or t.whitespace > HIGH_WHITESPACE:
            problems.append(
                Problem(
                    type="pdf_table_quality",
                    message=(
                        f"Table {t.order} on page {t.page} was read with {t.flavor} at {t.accuracy:.0f}% accuracy "
                        f"and {t.whitespace:.0f}% empty cells; check its rows."
                    ),
                    level="info",
                    page=t.page,
                )
            )
    _drop_running_lines(tables)
    groups = _group_tables(tables)
    sources: list[SheetSource] = []
    for k, g in enumerate(groups, start=1):
        rows = _prepare(g)
        if not rows:
            continue
        raw_rows = [RawRow(row=r.number, values=list(r.values), page=r.page) for r in rows]
        name = None if len(groups) == 1 else f"table {k}"

        def gen(raw_rows: list[RawRow] = raw_rows) -> Iterator[RawRow]:
            yield from raw_rows

        sources.append(SheetSource(name=name, rows=gen, estimated_rows=len(raw_rows)))
    details: dict[str, Any] = {
        "pdf_pages": n_pages,
        "pdf_flavor": flavor,
        "pdf_table_count": len(tables),
        "pdf_min_accuracy": min((t.accuracy for t in tables), default=None),
        "pdf_hidden_text_objects": hidden_total,
        "pdf_tables": table_info,
        "problems": problems,
    }
    return sources, details
