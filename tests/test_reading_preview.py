"""The preview document, report and command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion.preview import EXIT_UNREADABLE, build_preview, main, render_text
from ingestion.reading import ReadOptions, open_price_list
from reading_fixtures import write_csv, write_xlsx


def test_document_shape(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "p.xlsx", [["Артикул", "Наименование", "Цена, €"], ["#A1 ", "Насос", "12,5"], ["A2", None, 3]])
    doc = build_preview(str(path))
    assert doc["status"] == "ok" and doc["error"] is None
    assert doc["file_type"] == "xlsx" and doc["sheets"] == ["Прайс"]
    (item,) = doc["items"]
    assert item == {
        "sheet": "Прайс", "row": 2, "page": None, "sku": "A1", "name": "Насос", "price": "12.50", "prices": {"price": "12.50"},
        "currency": "EUR", "unit": None, "stock": None, "available": None, "brand": None, "category_path": [],
        "description": None,
    }
    (problem,) = doc["problems"]
    assert problem["type"] == "missing_name" and problem["row"] == 3 and problem["level"] == "error"
    assert doc["layouts"][0]["header_rows"] == [1]
    assert doc["counts"] == {"items": 1, "errors": 1, "warnings": 0, "info": 0}
    json.dumps(doc)


@pytest.mark.parametrize("content", [b"%PDF-1.7 fake", b"", b"PK\x03\x04broken zip"])
def test_bad_files_fail_cleanly(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(content)
    doc = build_preview(str(path))
    assert doc["status"] == "failed" and doc["error"]
    assert build_preview(str(tmp_path / "missing.csv"))["status"] == "failed"


def test_corrupt_xls(tmp_path: Path) -> None:
    path = tmp_path / "x.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    doc = build_preview(str(path))
    assert doc["status"] == "failed" and "xls" in doc["error"].lower()


def test_render_text_and_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(tmp_path / "t.csv", [["Name", "Price"], ["Lamp", "$8.00"], ["Chair", "on request"]], delimiter="\t")
    text = render_text(build_preview(str(path)))
    assert "Lamp" in text and "price_on_request" in text and "header row(s) 1" in text
    assert main(["--json", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [i["price"] for i in doc["items"]] == ["8.00", None]
    assert main(["--currency", "EUR", "--delimiter", "tab", str(path)]) == 0
    assert "Lamp" in capsys.readouterr().out
    capsys.readouterr()
    assert main([str(tmp_path / "nope.csv")]) == EXIT_UNREADABLE == 4
    out = capsys.readouterr()
    assert "FAILED: No such file" in out.out and f"cannot read {tmp_path / 'nope.csv'}: No such file" in out.err


def test_json_of_an_unreadable_file_still_prints_the_document(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert main(["--json", str(path)]) == EXIT_UNREADABLE
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["status"] == "failed" and doc["error"]
    assert doc["error"] in out.err and str(path) in out.err


def test_sheet_counts_are_what_an_ingestion_keeps(tmp_path: Path) -> None:
    # A1 is given again on the second sheet (that row wins); negative prices are refused by the store's checks.
    path = write_xlsx(
        tmp_path / "two.xlsx",
        [["Артикул", "Наименование", "Цена", None, "Артикул", "Наименование", "Цена"],
         ["A1", "Насос", 10, None, "B1", "Кран", 5],
         ["A2", "Насос 2", -3, None, "B2", "Кран 2", 6],
         ["A3", "Насос 3", 4, None, "B3", "Кран 3", -1],
         ["A4", "Насос 4", 4, None, "B4", "Кран 4", 2]],
        extra_sheets={"Второй": [["Артикул", "Наименование", "Цена"], ["A1", "Насос новый", 11], ["C1", "Труба", 7],
                                 ["C2", "Труба 2", -7]]},
    )
    doc = build_preview(str(path))
    assert doc["status"] == "ok"
    # side by side on the first sheet: A-table keeps A3, A4; B-table keeps B1, B2, B4; the second sheet A1, C1
    assert [(lay["sheet"], lay["items"], lay["rows_read"]) for lay in doc["layouts"]] == [
        ("Прайс", 2, 4), ("Прайс", 3, 4), ("Второй", 2, 3)]
    assert doc["counts"]["items"] == 7 == sum(lay["items"] for lay in doc["layouts"])
    assert sorted(i["sku"] for i in doc["items"]) == ["A1", "A3", "A4", "B1", "B2", "B4", "C1"]
    kinds = [p["type"] for p in doc["problems"]]
    assert kinds.count("negative_price") == 3 and kinds.count("duplicate_sku") == 1
    # the reader's own counts (what the preview showed before) include the refused and replaced rows
    price_list = open_price_list(str(path))
    for _ in price_list.records():
        pass
    assert [lay.items for lay in price_list.layouts] == [4, 4, 3]


def test_csv_sheet_count_leaves_out_refused_and_replaced_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["Артикул", "Наименование", "Цена"], ["A1", "Насос", "10"],
                                          ["A2", "Кран", "-5"], ["A1", "Насос 2", "12"], ["A4", "Муфта", "3"]])
    doc = build_preview(str(path), limit=1)
    (layout,) = doc["layouts"]
    assert layout["items"] == doc["counts"]["items"] == 2 and layout["rows_read"] == 4
    assert len(doc["items"]) == 1  # the listing is cut, the counts are not


def test_options_pass_through(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "o.xlsx", [["x"], ["Name", "Price"], ["A", 1]])
    doc = build_preview(str(path), ReadOptions(header_row=2, currency="PLN"))
    assert doc["items"][0]["currency"] == "PLN"


# --- a large output cut short: `ingestion preview --rows 20000 big.csv | head -1` ----------------
def _big_csv(path: Path, rows: int = 20_000) -> Path:
    return write_csv(path, [["Артикул", "Наименование", "Цена"]]
                     + [[f"A{i:06d}", f"Кабель медный номер {i} с длинным описанием", f"{i % 900 + 1},50"]
                        for i in range(rows)])


def _first_bytes_then_close(args: list[str], size: int | None) -> tuple[int, str, bytes]:
    """Run ``ingestion ARGS``, read its first line (``size`` None) or first ``size`` bytes, then close the pipe;
    ``(exit code, stderr, what was read)``."""
    import subprocess
    import sys

    proc = subprocess.Popen([str(Path(sys.executable).parent / "ingestion"), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    got = proc.stdout.readline() if size is None else proc.stdout.read(size)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=300), err, got


def test_a_large_output_cut_short_exits_141(tmp_path: Path) -> None:
    path = _big_csv(tmp_path / "big.csv")
    code, err, first = _first_bytes_then_close(["preview", "--rows", "20000", str(path)], None)
    assert (code, err) == (141, "") and first.strip()
    code, err, first = _first_bytes_then_close(["preview", "--json", str(path)], 1000)
    assert (code, err) == (141, "") and first.startswith(b'{"status": "ok"')


def test_output_is_written_in_flushed_chunks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import io
    from unittest import mock

    from ingestion import cli

    class Recorder(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.writes: list[str] = []
            self.flushes = 0

        def write(self, text: str) -> int:
            self.writes.append(text)
            return super().write(text)

        def flush(self) -> None:
            self.flushes += 1

    path = _big_csv(tmp_path / "big.csv", rows=50)
    out = Recorder()
    with mock.patch.object(cli, "OUTPUT_CHUNK_CHARS", 1000), mock.patch.object(cli.sys, "stdout", out):
        assert main(["--json", str(path)]) == 0
    text = out.getvalue()
    assert json.loads(text)["counts"]["items"] == 50 and len(text) > 5000
    assert all(len(w) <= 1000 for w in out.writes) and len(out.writes) == -(-len(text) // 1000)
    assert out.flushes >= len(out.writes)
