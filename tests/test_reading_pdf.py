"""PDF reading: camelot tables → one row stream → items (``ingestion.reading.pdf_reader``).

The PDFs are drawn here with pypdfium2 (the PDF engine camelot itself brings):
Helvetica text objects and vector ruling lines, no files from outside.
"""

from __future__ import annotations

import ctypes
from decimal import Decimal
from pathlib import Path
from typing import Sequence
from unittest import mock

import pytest

pdfium = pytest.importorskip("pypdfium2")
pytest.importorskip("camelot")
import pypdfium2.raw as pdfium_raw  # noqa: E402

from ingestion.errors import CorruptFile, UnsupportedFormat  # noqa: E402
from ingestion.reading import Item, open_price_list  # noqa: E402
from ingestion.reading.pdf_reader import open_pdf  # noqa: E402

PAGE_W, PAGE_H = 595.0, 842.0


class Drawing:
    """A tiny PDF writer over pypdfium2: text and lines, in PDF points (origin bottom left)."""

    def __init__(self) -> None:
        self.doc = pdfium.PdfDocument.new()
        self.page: object | None = None

    def new_page(self) -> None:
        self._finish_page()
        self.page = self.doc.new_page(PAGE_W, PAGE_H)

    def _finish_page(self) -> None:
        if self.page is not None:
            pdfium_raw.FPDFPage_GenerateContent(self.page.raw)  # type: ignore[attr-defined]

    def text(self, s: str, x: float, y: float, size: float = 9.0) -> None:
        obj = pdfium_raw.FPDFPageObj_NewTextObj(self.doc.raw, b"Helvetica", ctypes.c_float(size))
        encoded = (s + "\0").encode("utf-16-le")
        buf = (ctypes.c_ushort * (len(encoded) // 2)).from_buffer_copy(encoded)
        pdfium_raw.FPDFText_SetText(obj, buf)
        pdfium_raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
        pdfium_raw.FPDFPage_InsertObject(self.page.raw, obj)  # type: ignore[attr-defined]

    def line(self, x0: float, y0: float, x1: float, y1: float) -> None:
        path = pdfium_raw.FPDFPageObj_CreateNewPath(ctypes.c_float(x0), ctypes.c_float(y0))
        pdfium_raw.FPDFPath_LineTo(path, ctypes.c_float(x1), ctypes.c_float(y1))
        pdfium_raw.FPDFPageObj_SetStrokeColor(path, 0, 0, 0, 255)
        pdfium_raw.FPDFPageObj_SetStrokeWidth(path, ctypes.c_float(0.8))
        pdfium_raw.FPDFPath_SetDrawMode(path, pdfium_raw.FPDF_FILLMODE_NONE, True)
        pdfium_raw.FPDFPage_InsertObject(self.page.raw, path)  # type: ignore[attr-defined]

    def rect(self, x: float, y: float, w: float, h: float) -> None:
        """A filled grey rectangle (a picture-like drawing without text)."""
        path = pdfium_raw.FPDFPageObj_CreateNewRect(ctypes.c_float(x), ctypes.c_float(y), ctypes.c_float(w), ctypes.c_float(h))
        pdfium_raw.FPDFPageObj_SetFillColor(path, 128, 128, 128, 255)
        pdfium_raw.FPDFPath_SetDrawMode(path, pdfium_raw.FPDF_FILLMODE_ALTERNATE, False)
        pdfium_raw.FPDFPage_InsertObject(self.page.raw, path)  # type: ignore[attr-defined]

    def ruled_table(
        self,
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        top: float = 740.0,
        height: float = 18.0,
        x: float = 50.0,
        merged: Sequence[tuple[int, int, int]] = (),
    ) -> None:
        """Cells with text and full ruling; ``merged`` = (column, first row, last row) without inner rules."""
        xs = [x]
        for w in widths:
            xs.append(xs[-1] + w)
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v:
                    self.text(v, xs[j] + 3, top - (i + 1) * height + 5)
        for i in range(len(rows) + 1):
            y = top - i * height
            for j in range(len(widths)):
                inside = any(c == j and first < i <= last for c, first, last in merged)
                if not inside:
                    self.line(xs[j], y, xs[j + 1], y)
        for xx in xs:
            self.line(xx, top, xx, top - len(rows) * height)

    def save(self, path: Path) -> Path:
        self._finish_page()
        self.page = None
        self.doc.save(str(path))
        return path


def _items(path: Path) -> list[Item]:
    return [r for r in open_price_list(path).records() if isinstance(r, Item)]


def test_ruled_table_over_two_pages_is_one_stream_with_pages(tmp_path: Path) -> None:
    d = Drawing()
    pages = [
        [("SKU", "Name", "Price"), ("A-1", "Red widget", "10.50"), ("A-2", "Blue widget", "11.00")],
        [("SKU", "Name", "Price"), ("A-3", "Green widget", "12.25"), ("A-4", "Grey widget", "1,299.00")],
    ]
    for n, rows in enumerate(pages, start=1):
        d.new_page()
        d.text("ACME Ltd - price list", 50, 790, 14)
        d.ruled_table(rows, widths=(70, 200, 80))
        d.text(f"Page {n} of 2", 270, 30)
    pdf = d.save(tmp_path / "ruled.pdf")

    sources, details = open_pdf(str(pdf))
    assert len(sources) == 1 and sources[0].name is None
    rows = list(sources[0].rows())
    assert [r.values for r in rows if r.values[0] == "SKU"] == [["SKU", "Name", "Price"]]  # repeat dropped
    assert [r.page for r in rows] == [1, 1, 1, 2, 2]
    assert [r.row for r in rows] == sorted(r.row for r in rows) and rows[0].row == 1
    assert details["pdf_flavor"] == "lattice" and details["pdf_pages"] == 2
    assert [t["page"] for t in details["pdf_tables"]] == [1, 2]
    assert all(0 <= t["accuracy"] <= 100 for t in details["pdf_tables"])

    items = _items(pdf)
    assert [(i.sku, i.name, i.price, i.page) for i in items] == [
        ("A-1", "Red widget", Decimal("10.50"), 1),
        ("A-2", "Blue widget", Decimal("11.00"), 1),
        ("A-3", "Green widget", Decimal("12.25"), 2),
        ("A-4", "Grey widget", Decimal("1299.00"), 2),
    ]


def test_unruled_table_is_read_with_stream_and_page_furniture_dropped(tmp_path: Path) -> None:
    d = Drawing()
    data = [
        [("SKU", "Product", "Price"), ("B-10", "Steel bolt M8", "0.35"), ("B-11", "Steel bolt M10", "0.52")],
        [("SKU", "Product", "Price"), ("B-12", "Steel nut M8", "0.12"), ("B-13", "Steel nut M10", "0.18")],
    ]
    for n, rows in enumerate(data, start=1):
        d.new_page()
        d.text("Fasteners Co. price list 2024", 50, 790, 12)
        for i, (sku, name, price) in enumerate(rows):
            y = 740 - i * 16
            d.text(sku, 50, y)
            d.text(name, 130, y)
            d.text(price, 330, y)
        d.text(f"Page {n} of 2", 270, 30)
    pdf = d.save(tmp_path / "stream.pdf")

    sources, details = open_pdf(str(pdf))
    assert details["pdf_flavor"] == "stream"
    texts = [v for s in sources for r in s.rows() for v in r.values if v]
    assert not any("Page" in t or "Fasteners Co." in t for t in texts)
    items = _items(pdf)
    assert [(i.sku, i.price, i.page) for i in items] == [
        ("B-10", Decimal("0.35"), 1),
        ("B-11", Decimal("0.52"), 1),
        ("B-12", Decimal("0.12"), 2),
        ("B-13", Decimal("0.18"), 2),
    ]
    assert items[0].name == "Steel bolt M8"


def test_stream_name_split_around_its_record_line_is_joined(tmp_path: Path) -> None:
    d = Drawing()
    d.new_page()
    d.text("SKU", 50, 740)
    d.text("Product", 130, 740)
    d.text("Price", 380, 740)
    d.text("C-1", 50, 722)
    d.text("Oak table", 130, 722)
    d.text("120.00", 380, 722)
    d.text("Dining set", 130, 708)
    d.text("C-2", 50, 700)
    d.text("480.00", 380, 700)
    d.text("(table + four chairs)", 130, 692)
    d.text("C-3", 50, 674)
    d.text("Pine shelf", 130, 674)
    d.text("45.00", 380, 674)
    pdf = d.save(tmp_path / "wrapped.pdf")

    items = _items(pdf)
    assert [(i.sku, i.name) for i in items] == [
        ("C-1", "Oak table"),
        ("C-2", "Dining set (table + four chairs)"),
        ("C-3", "Pine shelf"),
    ]


def test_merged_name_cell_over_variant_rows_gives_one_name_per_variant(tmp_path: Path) -> None:
    d = Drawing()
    d.new_page()
    rows = [
        ("Name", "DN", "Price"),
        ("Gate valve 017W", "40", "77,49"),
        ("", "50", "78,20"),
        ("", "65", "87,44"),
        ("Ball valve 12F", "15", "10,00"),
        ("", "20", "12,00"),
    ]
    d.ruled_table(rows, widths=(200, 60, 80), merged=[(0, 1, 3), (0, 4, 5)])
    pdf = d.save(tmp_path / "variants.pdf")

    items = _items(pdf)
    assert [(i.name, i.price) for i in items] == [
        ("Gate valve 017W DN40", Decimal("77.49")),
        ("Gate valve 017W DN50", Decimal("78.20")),
        ("Gate valve 017W DN65", Decimal("87.44")),
        ("Ball valve 12F DN15", Decimal("10.00")),
        ("Ball valve 12F DN20", Decimal("12.00")),
    ]


def _pdf_from_content(content: str) -> bytes:
    """A one-page PDF (Helvetica as /F1) whose page content stream is ``content``."""
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_text_clipped_out_of_view_is_ignored(tmp_path: Path) -> None:
    ops = ["0.8 w"]
    xs, ys = (50, 120, 320, 400), (740, 722, 704)
    for y in ys:
        ops.append(f"{xs[0]} {y} m {xs[-1]} {y} l S")
    for x in xs:
        ops.append(f"{x} {ys[0]} m {x} {ys[-1]} l S")
    cells = [("SKU", "Name", "Price"), ("D-1", "Brass tap", "9.90")]
    for i, row in enumerate(cells):
        for j, v in enumerate(row):
            ops.append(f"BT /F1 9 Tf {xs[j] + 3} {ys[i + 1] + 5} Td ({v}) Tj ET")
    # drawn inside the name cell but clipped to a 1-pt strip elsewhere: invisible
    ops.append("q 50 760 300 1 re W n BT /F1 9 Tf 200 709 Td (Hidden keyword) Tj ET Q")
    pdf = tmp_path / "hidden.pdf"
    pdf.write_bytes(_pdf_from_content("\n".join(ops)))

    sources, details = open_pdf(str(pdf))
    assert details["pdf_hidden_text_objects"] == 1
    assert [(i.sku, i.name) for i in _items(pdf)] == [("D-1", "Brass tap")]


def test_pdf_without_text_layer_is_refused(tmp_path: Path) -> None:
    d = Drawing()
    d.new_page()
    d.rect(50, 400, 300, 200)  # a picture of a table, no text
    d.new_page()  # and an empty page
    pdf = d.save(tmp_path / "scanned.pdf")

    with pytest.raises((UnsupportedFormat, CorruptFile), match=r"no text layer \(scanned document\)"):
        open_price_list(pdf)


def test_too_many_pages_is_refused(tmp_path: Path) -> None:
    import ingestion.reading.pdf_reader as pdf_reader

    d = Drawing()
    for n in range(3):
        d.new_page()
        d.text(f"page {n}", 50, 700)
    pdf = d.save(tmp_path / "long.pdf")
    with mock.patch.object(pdf_reader, "MAX_PDF_PAGES", 2), pytest.raises(UnsupportedFormat, match="3 pages; at most 2"):
        open_price_list(pdf)


def test_damaged_pdf_is_a_corrupt_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n%garbage without objects\n")
    with pytest.raises(CorruptFile):
        open_price_list(bad)
