"""The matcher CLI: CSV in, one JSON object per item out."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.matching.cli import main


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    catalog = _write(
        tmp_path / "catalog.csv",
        [
            {"id": "10", "name": "Sony PS-LX350H belt-drive turntable", "sku": "", "price": ""},
            {"id": "11", "name": "Panasonic KX-TG6700B cordless telephone", "sku": "", "price": "99.5"},
            {"id": "12", "name": "Panasonic KX-TG6702B cordless telephone, 2 handsets", "sku": "", "price": ""},
        ],
    )
    items = _write(
        tmp_path / "items.csv",
        [
            {"id": "a", "name": "sony turntable pslx350h", "price": "120"},
            {"id": "b", "name": "panasonic cordless telephone", "price": ""},
            {"id": "c", "name": "garden hose 30 m", "price": ""},
        ],
    )
    return catalog, items


def test_json_lines_shape(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    catalog, items = files
    assert main(["--catalog", str(catalog), "--items", str(items), "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in lines] == ["a", "b", "c"]
    for o in lines:
        assert set(o) == {"id", "decision", "product_id", "score", "candidates"}
        assert o["decision"] in ("auto", "review", "new")
        for c in o["candidates"]:
            assert set(c) == {"product_id", "score"}
    assert lines[0]["decision"] == "auto" and lines[0]["product_id"] == "10"
    assert lines[1]["decision"] == "review" and {c["product_id"] for c in lines[1]["candidates"]} >= {"11", "12"}
    assert lines[2]["decision"] == "new" and lines[2]["product_id"] is None


def test_max_candidates_option(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    catalog, items = files
    assert main(["--catalog", str(catalog), "--items", str(items), "--json", "--max-candidates", "1"]) == 0
    for line in capsys.readouterr().out.splitlines():
        assert len(json.loads(line)["candidates"]) <= 1


def test_missing_name_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path / "bad.csv", [{"id": "1", "title": "x"}])
    assert main(["--catalog", str(bad), "--items", str(bad), "--json"]) == 2
    assert "name" in capsys.readouterr().err


def test_bad_thresholds_exit_2(files: tuple[Path, Path]) -> None:
    catalog, items = files
    with pytest.raises(SystemExit) as e:
        main(["--catalog", str(catalog), "--items", str(items), "--auto-threshold", "50"])
    assert e.value.code == 2


def test_runs_as_module(files: tuple[Path, Path]) -> None:
    catalog, items = files
    p = subprocess.run(
        [sys.executable, "-m", "ingestion.matching.cli", "--catalog", str(catalog), "--items", str(items), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(p.stdout.splitlines()) == 3


# --- reading the CSVs: delimiters, encodings, long fields, bad rows ------------------------
def _text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_semicolon_cp1251_and_tab_files_are_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = _text(tmp_path / "catalog.csv",
                    "id;name;sku\r\n10;Кабель ВВГнг 3x2,5 мм;K-1\r\n11;Лампа светодиодная 10 Вт E27;L-10\r\n",
                    "cp1251")
    items = _text(tmp_path / "items.tsv", "ID\tName\n"
                  "a\tКабель ВВГнг 3x2,5 мм\nb\tЛампа светодиодная 10 Вт E27\n", "utf-8-sig")
    assert main(["--catalog", str(catalog), "--items", str(items), "--json"]) == 0, capsys.readouterr().err
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(o["id"], o["decision"], o["product_id"]) for o in lines] == [("a", "auto", "10"), ("b", "auto", "11")]
    # the same with the delimiter and encoding given
    assert main(["--catalog", str(catalog), "--items", str(catalog), "--encoding", "cp1251", "--delimiter", ";",
                 "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_a_field_longer_than_the_csv_module_default_is_read(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    long_name = "Насос циркуляционный " + "с описанием " * 20_000  # ~240 KiB, over csv's 128 KiB default
    catalog = _text(tmp_path / "catalog.csv", f'id,name\n1,"{long_name}"\n2,Кран шаровой 1/2\n')
    items = _text(tmp_path / "items.csv", "id,name\nx,Кран шаровой 1/2\n")
    assert main(["--catalog", str(catalog), "--items", str(items), "--json"]) == 0, capsys.readouterr().err
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["product_id"] == "2"


def test_a_field_over_the_reader_limit_names_file_and_line(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from ingestion.reading.csv_reader import MAX_CSV_FIELD_CHARS

    catalog = tmp_path / "huge.csv"
    with catalog.open("w", encoding="utf-8") as f:
        f.write('id,name\n1,ok\n2,"' + "x" * (MAX_CSV_FIELD_CHARS + 10) + '"\n3,fine\n')
    items = _text(tmp_path / "items.csv", "id,name\nx,ok\n")
    assert main(["--catalog", str(catalog), "--items", str(items)]) == 2
    err = capsys.readouterr().err
    assert f"{catalog}:3: The CSV record could not be read (a field is longer than" in err


def test_duplicate_ids_and_empty_names_are_refused_with_their_lines(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    catalog = _text(tmp_path / "catalog.csv", "id;name\n1;Насос\n\n2;\n1;Кран\n;Труба\n")
    items = _text(tmp_path / "items.csv", "id,name\na,Насос\na,Насос снова\n")
    assert main(["--catalog", str(catalog), "--items", str(items), "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == ""  # nothing matched
    assert out.err.splitlines() == [
        f"ingestion match: {catalog}:4: empty name for id '2'",
        f"ingestion match: {catalog}:5: duplicate id '1' (first given at line 2)",
        f"ingestion match: {catalog}:6: empty id",
        f"ingestion match: {items}:3: duplicate id 'a' (first given at line 2)",
    ]


def test_unreadable_inputs_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _text(tmp_path / "good.csv", "id,name\n1,Насос\n")
    assert main(["--catalog", str(tmp_path / "missing.csv"), "--items", str(good)]) == 2
    assert f"{tmp_path / 'missing.csv'}: cannot be read" in capsys.readouterr().err
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(1, 32)) * 100)
    assert main(["--catalog", str(good), "--items", str(binary)]) == 2
    assert f"{binary}: The file is binary" in capsys.readouterr().err
    empty = _text(tmp_path / "empty.csv", "\n\n")
    assert main(["--catalog", str(empty), "--items", str(good)]) == 2
    assert f"{empty}: the file is empty" in capsys.readouterr().err
    headless = _text(tmp_path / "headless.csv", "1;Насос;100\n2;Кран;50\n")
    assert main(["--catalog", str(headless), "--items", str(good)]) == 2
    assert f"{headless}:1: the header needs 'id' and 'name' columns" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(files: tuple[Path, Path]) -> None:
    catalog, items = files
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingestion.matching.cli", "--catalog", str(catalog), "--items", str(items)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141 and err == ""


# --- records that do not fit the header, or that the reader had to repair -------------------
def test_a_record_with_more_fields_than_the_header_is_refused(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    catalog = _text(tmp_path / "catalog.csv", "id,name\nc1,Кабель ВВГ 3х2\n")
    items = _text(tmp_path / "items.csv", "id,name\ni1,Кабель ВВГ 3х2,5\ni2,Труба\n")
    assert main(["--catalog", str(catalog), "--items", str(items), "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == ""  # nothing matched, nothing linked
    assert out.err.splitlines() == [
        f"ingestion match: {items}:2: 3 fields where the header has 2 (extra: '5'): a value that contains the "
        "delimiter ',' must be enclosed in double quotes, or give --delimiter if the file uses another one"
    ]
    # quoted, the same name is read whole; empty trailing fields (a trailing delimiter) lose nothing
    quoted = _text(tmp_path / "quoted.csv", 'id,name,\ni1,"Кабель ВВГ 3х2,5",\n')
    assert main(["--catalog", str(catalog), "--items", str(quoted), "--json"]) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["id"] == "i1"


@pytest.mark.parametrize("text, line", [
    ('id,name\ni1,"Кабель\n', 2),  # the quote is never closed, at the end of the file
    ('id,name\ni0,Кран\ni1,"Кабель\ni2,Труба\ni3,Муфта\n', 3),  # … and it took the lines after it in
])
def test_a_record_the_reader_repaired_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                                 line: int) -> None:
    catalog = _text(tmp_path / "catalog.csv", "id,name\nc1,Кабель\n")
    items = _text(tmp_path / "items.csv", text)
    assert main(["--catalog", str(catalog), "--items", str(items), "--json"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    (problem,) = out.err.splitlines()
    assert problem.startswith(f"ingestion match: {items}:{line}: The cell '\"Кабель' starts with a double quote")
    assert "unterminated_quote" in problem and "close or remove the quote" in problem


def test_a_repaired_header_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = _text(tmp_path / "catalog.csv", 'id,"name\n1,Кабель\n2,Труба\n')
    items = _text(tmp_path / "items.csv", "id,name\nx,Кабель\n")
    assert main(["--catalog", str(catalog), "--items", str(items)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"ingestion match: {catalog}:1: ") and "unterminated_quote" in err[0]


# --- files that are not CSV ------------------------------------------------------------------
def test_a_workbook_or_pdf_is_refused_with_how_to_get_a_csv(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from reading_fixtures import write_xlsx

    items = _text(tmp_path / "items.csv", "id,name\nx,Кабель\n")
    workbook = write_xlsx(tmp_path / "price_list.xlsx", [["id", "name"], ["1", "Кабель"]])
    pdf = _text(tmp_path / "list.pdf", "%PDF-1.7 not much more")
    for path, what in ((workbook, "an Excel workbook (XLSX)"), (pdf, "a PDF document")):
        assert main(["--catalog", str(path), "--items", str(items)]) == 2
        (err,) = capsys.readouterr().err.splitlines()
        assert err == (f"ingestion match: {path}: `ingestion match` reads CSV/TSV text files only, and this is "
                       f"{what}; export the sheet as CSV (Excel or LibreOffice: File → Save As → \"CSV UTF-8\") "
                       "and give that file")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(1, 32)) * 100)
    assert main(["--catalog", str(items), "--items", str(binary)]) == 2
    err = capsys.readouterr().err
    assert "reads CSV/TSV only" in err and "export the sheet as CSV" in err and "XLSX" not in err


def test_a_quote_kept_as_written_is_read_not_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = _text(tmp_path / "c.csv", 'id,name\np1,"Труба латунная 1/2"" ВР"\n')
    items = _text(tmp_path / "i.csv", 'id,name\ni1,"Труба латунная 1/2" ВР\n')  # a writer that never escapes
    assert main(["--catalog", str(catalog), "--items", str(items), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[0])
    assert result["id"] == "i1" and result["decision"] == "auto" and result["product_id"] == "p1"
