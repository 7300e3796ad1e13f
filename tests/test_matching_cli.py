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
