"""The reader's fast paths give what the general code gives (bench/read_speed.py measures their speed).

* XLSX: the string-search/regex sheet parser (``_regex_rows``) and the expat
  one (``_expat_rows``) agree, and both agree with openpyxl itself, on
  workbooks written by openpyxl (normal and write-only) and on hand-edited
  sheet XML (prefixes, comments, CDATA, entities, odd attributes, rich text);
* CSV: records of lines without quotes are split without the csv module,
  exactly as the csv module splits them;
* prices, currencies and "on request": the plain-number path, the
  digit-free skeletons and the quick amount tests agree with the full parser;
* encoding detection: the byte-count Cyrillic score equals the text one.
"""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator
from unittest import mock

import openpyxl
import pytest
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.cell import range_boundaries

from ingestion.errors import CorruptFile
from ingestion.reading import csv_reader, xlsx_reader
from ingestion.reading.currency import _MARKS, currency_from_text
from ingestion.reading.normalize import (
    _asks_for_quote,
    _parse_price_text,
    clean_text,
    is_amount,
    normalize_unit,
    parse_price,
    parse_stock,
    price_like,
)
from ingestion.reading.source import RawRow
from ingestion.reading.synonyms import ON_REQUEST_RE

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# openpyxl's own notes on the hand-written workbooks (no default style, an extension it drops)
pytestmark = [pytest.mark.filterwarnings("ignore:Workbook contains no default style:UserWarning"),
              pytest.mark.filterwarnings("ignore:Unknown extension:UserWarning")]


# ---------------------------------------------------------------- XLSX
def _cell_value(cell: Any) -> Any:
    """What the reader hands out for an openpyxl cell (data_only; errors empty; blank text empty)."""
    v = cell.value
    if v is None or getattr(cell, "data_type", None) == "e":
        return None
    if isinstance(v, str):
        return v if v.strip() else None
    if isinstance(v, (int, float, bool, datetime, date)):
        return v
    if isinstance(v, time):
        return v.isoformat()
    return v.total_seconds() if hasattr(v, "total_seconds") else str(v)


def _cell_format(cell: Any, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return None
    f = getattr(cell, "number_format", None)
    return str(f) if f and f != "General" else None


def openpyxl_rows(path: Path, streamed: bool) -> dict[str, list[tuple[int, list[Any], list[Any], int | None]]]:
    """Rows of every sheet as openpyxl shows them: normal mode (every row, padded, outline levels, merged
    ranges up to 10,000 cells filled) or read-only mode after ``reset_dimensions()`` (rows as in the file)."""
    out: dict[str, list[tuple[int, list[Any], list[Any], int | None]]] = {}
    with open(path, "rb") as fh:
        wb = openpyxl.load_workbook(fh, read_only=streamed, data_only=True)
        for ws in wb.worksheets:
            rows: list[tuple[int, list[Any], list[Any], int | None]] = []
            if streamed:
                merges = [m for m in xlsx_reader.streamed_merges(ws.parent._archive, ws._worksheet_path)
                          if (m[2] - m[0] + 1) * (m[3] - m[1] + 1) <= 10000 and m[:2] != m[2:]]
                ws.reset_dimensions()
                for idx, row in enumerate(ws.iter_rows(), start=1):
                    values = [_cell_value(c) for c in row]
                    formats = [_cell_format(c, v) for c, v in zip(row, values)]
                    for min_col, min_row, max_col, max_row in merges:  # top-left value over the range
                        if min_row <= idx <= max_row:
                            top = rows[min_row - 1] if min_row < idx else (idx, values, formats, None)
                            v = top[1][min_col - 1] if min_col - 1 < len(top[1]) else None
                            f = top[2][min_col - 1] if min_col - 1 < len(top[2]) else None
                            values.extend([None] * (max_col - len(values)))
                            formats.extend([None] * (max_col - len(formats)))
                            for c in range(min_col - 1, max_col):
                                if (idx, c + 1) != (min_row, min_col):
                                    values[c], formats[c] = v, f
                    rows.append((idx, values, formats, None))
            else:
                fill: dict[tuple[int, int], tuple[int, int]] = {}
                for rng in ws.merged_cells.ranges:
                    if (rng.max_row - rng.min_row + 1) * (rng.max_col - rng.min_col + 1) <= 10000:
                        for r in range(rng.min_row, rng.max_row + 1):
                            for c in range(rng.min_col, rng.max_col + 1):
                                if (r, c) != (rng.min_row, rng.min_col):
                                    fill[(r, c)] = (rng.min_row, rng.min_col)
                for row in ws.iter_rows(min_row=1, min_col=1):
                    r = row[0].row
                    cells = [ws.cell(*fill[(r, i)]) if (r, i) in fill else c for i, c in enumerate(row, start=1)]
                    values = [_cell_value(c) for c in cells]
                    level = ws.row_dimensions[r].outline_level if r in ws.row_dimensions else 0
                    rows.append((r, values, [_cell_format(c, v) for c, v in zip(cells, values)], int(level or 0)))
            out[str(ws.title)] = rows
    return out


def ours(path: Path, streamed: bool) -> dict[str, list[tuple[int, list[Any], list[Any], int | None]]]:
    with mock.patch.object(xlsx_reader, "FULL_LOAD_CELLS", -1 if streamed else 10**9):
        sources, details = xlsx_reader.open_xlsx(str(path))
        assert details["read_only"] is streamed
        out = {}
        for src in sources:
            assert src.name is not None
            out[src.name] = [(r.row, r.values, r.formats or [], r.level) for r in src.rows()]
    return out


def both_parsers(path: Path) -> None:
    """The regex parser, when it takes the part, and the expat parser give the same rows and merges."""
    with open(path, "rb") as fh:
        book, sheets = xlsx_reader._open_workbook(fh)
        for sheet in sheets:
            by_expat: list[str] = []
            expected = list(xlsx_reader._expat_rows(book, sheet.part, by_expat))
            chosen: list[str] = []
            assert list(xlsx_reader._sheet_rows(book, sheet.part, chosen)) == expected
            assert chosen == by_expat
            try:
                plain: list[str] = []
                assert list(xlsx_reader._regex_rows(book, sheet.part, plain)) == expected
                assert plain == by_expat
            except xlsx_reader._NotPlain:
                pass


def _rich_workbook(path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Прайс"
    ws.append(["Код", "Наименование", "Цена", "Дата", "Флаг", "Пусто"])
    ws.append(["001", "Кабель & провод <ВВГ> \"3х2,5\" 'нг'", 12.5, datetime(2026, 1, 2, 3, 4), True, "   "])
    ws.append(["002", "Строка\r\nс переносом\nи ещё", 1e-7, date(2025, 12, 31), False, ""])
    ws.append([3, "Время", 1234567.891, time(13, 30), None, "=1+2"])
    ws.append([None, "Ошибка", "#N/A", None, None, 7])
    ws["C5"].data_type = "e"
    ws.append(["004", CellRichText(["Жирный ", TextBlock(InlineFont(b=True), "текст"), " и обычный"]), 5, None, None, 0])
    ws["C2"].number_format = '#,##0.00" грн."'
    ws["C3"].number_format = "0.00E+00"
    ws["C4"].number_format = "[$€-407] #,##0.00"
    ws["D2"].number_format = "dd.mm.yyyy hh:mm"
    ws["D3"].number_format = "yyyy-mm-dd"
    ws["D4"].number_format = "hh:mm"
    ws["F4"].number_format = "[h]:mm:ss"
    ws.cell(row=9, column=8, value="далеко")
    ws.cell(row=12, column=2, value="после пропуска")
    ws.append(["Раздел"])
    ws.merge_cells("A13:C13")
    ws.merge_cells("A14:B15")
    ws["A14"] = "слито"
    ws.merge_cells("J1:K1")
    for r in (7, 8):
        ws.row_dimensions[r].outline_level = 2
        ws.row_dimensions[r].hidden = True
    second = wb.create_sheet("Скрытый")
    second.sheet_state = "hidden"
    second.append(["a", "b"])
    wb.create_sheet("Пустой")
    wb.save(path)
    return path


def _write_only_workbook(path: Path) -> Path:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Лист")
    ws.append(["Прайс-лист"])
    ws.append([])
    ws.append(["Артикул", "Наименование", "Цена"])
    for i in range(50):
        ws.append([f"A-{i}", f"Товар {i} & Co", i * 1.25 if i % 7 else None])
    wb.save(path)
    return path


@pytest.mark.parametrize("streamed", [False, True])
def test_xlsx_cells_as_openpyxl_reads_them(tmp_path: Path, streamed: bool) -> None:
    for path in (_rich_workbook(tmp_path / "rich.xlsx"), _write_only_workbook(tmp_path / "wo.xlsx")):
        both_parsers(path)
        assert ours(path, streamed) == openpyxl_rows(path, streamed)


def _sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/worksheets/sheet1.xml").decode("utf-8")


def _with_sheet_xml(src: Path, dst: Path, xml: str) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = xml.encode("utf-8") if info.filename == "xl/worksheets/sheet1.xml" else zin.read(info.filename)
            zout.writestr(info.filename, data)
    return dst


def _edits(xml: str) -> Iterator[tuple[str, str]]:
    """Hand edits of a sheet part: each keeps it well-formed, some make it not "plain"."""
    yield "prefixed", re.sub(r"<(/?)(?!\?)([A-Za-z])", r"<\1x:\2", xml).replace(f'xmlns="{NS}"', f'xmlns:x="{NS}"')
    yield "comment", xml.replace("<sheetData>", "<sheetData><!-- a comment <row r=\"99\"/> -->", 1)
    yield "cdata", xml.replace("<t>", "<t><![CDATA[<b>&amp;</b>]]>", 1)
    yield "pi", xml.replace("<sheetData>", "<sheetData><?pi data?>", 1)
    yield "no refs", re.sub(r' r="[A-Z]+[0-9]+"', "", xml)
    yield "no row numbers", re.sub(r'<row r="[0-9]+"', "<row", xml)
    yield "odd attributes", re.sub(r'<c r="([A-Z]+[0-9]+)"', r"<c foo='a&gt;b' r = '\1' ", xml)
    yield "spaced", xml.replace("><", ">\n  <")
    yield "references", xml.replace("Наименование", "Наим&#13;ено&#x432;ание &amp; &lt;к&gt; &quot;&apos;")
    yield "crlf", xml.replace("Наименование", "Наим\r\nенование\rи")
    yield "empty value", xml.replace("<v>", "<v/><v>", 1)
    yield "types", xml.replace('t="n"', 't="str"', 1).replace('t="s"', 't="e"', 1)
    yield "phonetic", xml.replace("<is><t>", '<is><rPh sb="0" eb="1"><t>фон</t></rPh><r><t>ран</t></r><t>', 1)
    yield "default redeclared", xml.replace("<sheetData>", f'<sheetData xmlns="{NS}">', 1)
    yield "other namespace", xml.replace("</worksheet>", '<extLst xmlns:x14="urn:x14"><x14:c r="A1"/></extLst></worksheet>')
    plain_rows = re.sub(r' (?:outlineLevel|spans)="[^"]*"', "", xml)
    yield "outline", re.sub(r'<row r="([0-9]+)"', r'<row r="\1" outlineLevel="1" spans="1:3"', plain_rows)
    yield "numeric row", xml.replace('<row r="2"', '<row r="2.0"', 1)


@pytest.mark.parametrize("kind", ["normal", "write_only"])
def test_hand_edited_sheet_xml_reads_the_same_both_ways(tmp_path: Path, kind: str) -> None:
    rows = [["Код", "Наименование", "Цена"], ["001", "Болт", 1.5], ["002", "Гайка & винт", 2], [None, "Раздел", None]]
    if kind == "normal":
        wb = Workbook()
        ws = wb.active
        for r in rows:
            ws.append(r)
    else:
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("S")
        for r in rows:
            ws.append(r)
    src = tmp_path / "src.xlsx"
    wb.save(src)
    xml = _sheet_xml(src)
    for name, edited in _edits(xml):
        path = _with_sheet_xml(src, tmp_path / f"{name.replace(' ', '_')}.xlsx", edited)
        both_parsers(path)


def test_not_well_formed_sheet_is_a_corrupt_file(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["Код", "Наименование", "Цена"])
    wb.active.append(["1", "Болт", 2])
    src = tmp_path / "src.xlsx"
    wb.save(src)
    xml = _sheet_xml(src)
    for bad in (xml.replace("</row>", "", 1), xml.replace("<sheetData>", "<sheetData><!-- x", 1),
                xml.replace("</c>", "", 1)):
        path = _with_sheet_xml(src, tmp_path / "bad.xlsx", bad)
        with open(path, "rb") as fh:
            book, sheets = xlsx_reader._open_workbook(fh)
            with pytest.raises(CorruptFile):
                list(xlsx_reader._sheet_rows(book, sheets[0].part, []))


def test_small_xml_slips_are_read_where_expat_refuses_them(tmp_path: Path) -> None:
    """A bare "&" in a text or a repeated attribute: not well-formed XML, but the cells are unambiguous."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("S")
    ws.append(["Код", "Наименование", "Цена"])
    ws.append(["1", "Tom and Jerry", 2])
    src = tmp_path / "src.xlsx"
    wb.save(src)
    xml = _sheet_xml(src).replace("Tom and Jerry", "Tom & Jerry").replace('<c r="A1"', '<c r="A1" a="1" a="2"', 1)
    path = _with_sheet_xml(src, tmp_path / "slips.xlsx", xml)
    with open(path, "rb") as fh:
        book, sheets = xlsx_reader._open_workbook(fh)
        rows = list(xlsx_reader._sheet_rows(book, sheets[0].part, []))
        with pytest.raises(CorruptFile):
            list(xlsx_reader._expat_rows(book, sheets[0].part, []))
    assert rows == [(1, 0, [(1, "Код", None), (2, "Наименование", None), (3, "Цена", None)]),
                    (2, 0, [(1, "1", None), (2, "Tom & Jerry", None), (3, 2, None)])]


def test_streamed_merges_match_the_parsed_ones(tmp_path: Path) -> None:
    path = _rich_workbook(tmp_path / "m.xlsx")
    with open(path, "rb") as fh:
        book, sheets = xlsx_reader._open_workbook(fh)
        refs: list[str] = []
        list(xlsx_reader._sheet_rows(book, sheets[0].part, refs))
        assert sorted(xlsx_reader.streamed_merges(book.archive, sheets[0].part)) == sorted(
            tuple(range_boundaries(r)) for r in refs)  # type: ignore[misc]


SHARED_STRINGS = (
    '<si><t>Код</t></si><si><t xml:space="preserve"> Наименование </t></si><si><t>Цена, руб</t></si>'
    '<si><r><rPr><b/></rPr><t>Жирный</t></r><r><t xml:space="preserve"> текст</t></r></si>'
    '<si><t>Болт &amp; гайка _x005F_x0041_ok</t><rPh sb="0" eb="1"><t>фонетика</t></rPh></si>'
    "<si><t/></si><si><t>   </t></si><si><t>Строка\r\nс переносом &#13;</t></si>"
)


def _shared_strings_workbook(path: Path, sheet_xml: str) -> Path:
    """A workbook written by hand, as Excel writes one: shared strings, styles with number formats."""
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Прайс" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            "</Relationships>"),
        "xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}" count="8" uniqueCount="8">{SHARED_STRINGS}</sst>',
        "xl/styles.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{NS}">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="#,##0.00&quot; грн.&quot;"/></numFmts>'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            "</styleSheet>"),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text.encode("utf-8"))
    return path


EXCEL_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    f'<worksheet xmlns="{NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac" '
    'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">'
    '<dimension ref="A1:E6"/><sheetData>'
    '<row r="1" spans="1:5" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
    '<c r="C1" t="s"><v>2</v></c></row>'
    '<row r="2" spans="1:5" ht="15" customHeight="1"><c r="A2" s="3"><v>1001</v></c><c r="B2" t="s"><v>3</v></c>'
    '<c r="C2" s="1"><v>1234.5</v></c><c r="D2" s="2"><v>45000</v></c><c r="E2" t="b"><v>1</v></c></row>'
    '<row r="3" spans="1:5" outlineLevel="1" hidden="1"><c r="A3" s="3" t="str"><f>A2</f><v>1001</v></c>'
    '<c r="B3" t="s"><v>4</v></c><c r="C3" s="1"><f>C2*2</f><v>2469</v></c><c r="D3" t="e"><v>#N/A</v></c>'
    '<c r="E3" s="3"/></row>'
    '<row r="5"><c r="B5" t="s"><v>5</v></c><c r="C5" t="s"><v>6</v></c><c r="D5" t="s"><v>7</v></c>'
    '<c r="E5" t="d"><v>2024-05-06T07:08:09</v></c></row>'
    '<row r="6"><c r="A6" t="inlineStr"><is><t>инлайн</t></is></c><c r="B6"><v>1.5E+3</v></c><c r="C6"><v>-0.25</v></c></row>'
    '</sheetData><mergeCells count="1"><mergeCell ref="B5:C5"/></mergeCells>'
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    '<extLst><ext uri="{x}" xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"/></extLst>'
    "</worksheet>"
)


@pytest.mark.parametrize("streamed", [False, True])
def test_excel_written_workbook_as_openpyxl_reads_it(tmp_path: Path, streamed: bool) -> None:
    path = _shared_strings_workbook(tmp_path / "excel.xlsx", EXCEL_SHEET)
    both_parsers(path)
    assert ours(path, streamed) == openpyxl_rows(path, streamed)
    for name, edited in _edits(EXCEL_SHEET):
        both_parsers(_shared_strings_workbook(tmp_path / f"{name.replace(' ', '_')}.xlsx", edited))


def test_shared_strings_as_openpyxl_reads_them(tmp_path: Path) -> None:
    from openpyxl.reader.strings import read_string_table

    path = _shared_strings_workbook(tmp_path / "s.xlsx", EXCEL_SHEET)
    with zipfile.ZipFile(path) as zf:
        with zf.open("xl/sharedStrings.xml") as fh:
            expected = [str(s) for s in read_string_table(fh)]
        assert "Болт & гайка _x0041_ok" in expected and "Жирный текст" in expected
        assert xlsx_reader.read_shared_strings(zf, "xl/sharedStrings.xml") == expected


# ---------------------------------------------------------------- CSV
def _random_lines(rnd: random.Random, n: int) -> list[str]:
    parts = ["a", "Болт М6", "", " ", "1 234,56", "x\x00y", '"q"', '"a;b"', "12", "\t", "|", ",", "'"]
    ends = ["\n", "\r\n", "\r", ""]
    lines = []
    for _ in range(n):
        fields = [rnd.choice(parts) for _ in range(rnd.randint(0, 5))]
        lines.append(";".join(fields) + rnd.choice(ends[:3]))
    return lines


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_csv_lines_without_quotes_split_as_the_csv_module_splits_them(delimiter: str) -> None:
    rnd = random.Random(5)
    for _ in range(200):
        lines = [ln.replace(";", delimiter) for ln in _random_lines(rnd, rnd.randint(1, 12))]
        lines = [ln for ln in lines if '"' not in ln]
        text = "".join(lines)
        expected = [[v.replace("\x00", "") for v in rec] for rec in csv.reader(io.StringIO(text.replace("\x00", ""), newline=""), delimiter=delimiter)]
        got = [rec for _, rec, _, err in csv_reader._records(io.StringIO(text, newline=""), delimiter)]
        assert got == expected, repr(text)


def test_csv_fast_and_quoted_lines_mix(tmp_path: Path) -> None:
    text = 'Код;Наименование;Цена\n1;Болт;1,5\n2;"Гайка; М8\nдлинная";2\n3;Шайба;3\n4;"Винт ""особый""";4\r\n5;x\x00y;5\n'
    got = [(n, rec) for n, rec, _, _ in csv_reader._records(io.StringIO(text, newline=""), ";")]
    assert got == [(1, ["Код", "Наименование", "Цена"]), (2, ["1", "Болт", "1,5"]), (3, ["2", "Гайка; М8\nдлинная", "2"]),
                   (5, ["3", "Шайба", "3"]), (6, ["4", 'Винт "особый"', "4"]), (7, ["5", "xy", "5"])]


def test_cyrillic_score_from_byte_counts() -> None:
    rnd = random.Random(3)
    words = ["Привет мир ёжик ", "Цена, руб ", "Наименование ", "Ціна грн "]
    for _ in range(150):
        chunks = [rnd.choice(words).encode(rnd.choice(["cp1251", "cp866", "koi8_r", "utf-8"]), errors="replace") for _ in range(20)]
        sample = b"".join(chunks) + bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 50)))
        counts = [sample.count(b) for b in range(0x80, 0x100)]
        for enc in ("cp1251", "cp866", "koi8_r"):
            assert csv_reader._cyrillic_score_of_bytes(counts, enc) == csv_reader._cyrillic_score(
                sample.decode(enc, errors="replace"))


# ---------------------------------------------------------------- prices, currencies
PRICE_TEXTS = [
    "1 234,56", "1 234", "1,234", "1.234", "0,500", "00,500", "12,5", "12.50", "1\u00a0234,5", "1 234 567,89",
    "999999999999999", "1000000000000001", "1234567890123456,5", "1 000 000 000 000 000,1", "0", "007",
    "1 23", "12 345 6", "1,234.56", "1.234,56", "-5", "(5)", "$8.00", "41.00р.", "2 CHF", "1 234,56 руб.", "11=90",
    "1.5e3", "1e400", "nan", "по запросу", "Цена по запросу 100", "call 555", "₽100", "100р", "100 р.", "р.100",
    "5 $", "руб.", "USD", "Кабель ВВГнг-LS 3х2,5 арт.123", "три рубля", "#VALUE!", "-", "…", "<b>1 234</b> руб",
    "&#49;&#50;", "1&nbsp;234", "١٢٣", "12\u202f345,6", " 12 ", "12 ", "²", "Request a quote: 12",
]


def test_plain_price_path_agrees_with_the_full_parser() -> None:
    rnd = random.Random(7)
    texts = list(PRICE_TEXTS)
    for _ in range(3000):
        head = str(rnd.randint(0, 10 ** rnd.randint(1, 18)))
        if rnd.random() < 0.4 and len(head) > 3:
            groups = []
            while len(head) > 3:
                head, groups = head[:-3], [head[-3:]] + groups
            head = rnd.choice([" ", "\u00a0"]).join([head] + groups)
        texts.append(head + (rnd.choice([",", "."]) + str(rnd.randint(0, 9999)).zfill(rnd.randint(1, 4)) if rnd.random() < 0.7 else ""))
    for text in texts:
        for mark in (None, ",", "."):
            full = _parse_price_text(clean_text(text), mark)
            assert parse_price(text, mark) == full, (text, mark)
            assert is_amount(text, mark) == (full.amount is not None), (text, mark)
        full = _parse_price_text(clean_text(text), None)
        assert price_like(text) == (full.amount is not None or full.on_request), text


def test_float_cells_as_the_general_number_path_reads_them() -> None:
    from ingestion.reading.normalize import _bounded, _decimal_from_float

    rnd = random.Random(11)
    floats = [0.0, -0.0, 1.5, 0.1 + 0.2, 1e-7, 123456.789, 1e15, -1e15, 999999999999999.9, 1e16, -2.5e17,
              float("nan"), float("inf"), float("-inf")] + [rnd.uniform(-1e16, 1e16) for _ in range(500)]
    for value in floats:
        if value != value or value in (float("inf"), float("-inf")):
            expected = parse_price(Decimal("NaN"))
        else:
            expected = _bounded(_decimal_from_float(value), None)
        assert parse_price(value) == expected, value


def test_currency_and_on_request_on_digit_skeletons() -> None:
    def reference(text: str) -> str | None:
        t = text.casefold().replace("\u00a0", " ")
        return next((code for rx, code in _MARKS if rx.search(t)), None)

    for text in PRICE_TEXTS + ["Цена, руб", "(BYN)", "12 br", "kč 5", "5 zł", "c$5", "Fr. 5", "5 fr.", "1р2", "р 5",
                               "12р.", "12 руб 50 коп", "по запиту 5", "5 звоните", "12ask", "ask 12"]:
        assert currency_from_text(text) == reference(text), text
        assert _asks_for_quote(text) == bool(ON_REQUEST_RE.search(text)), text


def test_memoised_units_and_stock_cells() -> None:
    for text in ["шт", "шт.", " Шт ", "кг", "м2", "компл", "pcs", "бухта", ""]:
        assert normalize_unit(text) == normalize_unit(text) == (normalize_unit(text + "") if text else None)
    assert parse_stock("12") == (Decimal(12), True)
    assert parse_stock("0") == (Decimal(0), False)
    assert parse_stock(">10") == (Decimal(10), True)
    assert parse_stock("нет") == (None, False)
    assert parse_stock(" 5 шт") == (Decimal(5), True)


def test_raw_rows_keep_their_shape() -> None:
    row = RawRow(3, ["a", None], None, None, None, None, ())
    assert (row.row, row.values, row.formats, row.level, row.page, row.error, row.notes) == (3, ["a", None], None, None, None, None, ())
