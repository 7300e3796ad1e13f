"""The preview document, report and command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion.preview import build_preview, main, render_text
from ingestion.reading import ReadOptions
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
    assert main([str(tmp_path / "nope.csv")]) == 1


def test_options_pass_through(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "o.xlsx", [["x"], ["Name", "Price"], ["A", 1]])
    doc = build_preview(str(path), ReadOptions(header_row=2, currency="PLN"))
    assert doc["items"][0]["currency"] == "PLN"
