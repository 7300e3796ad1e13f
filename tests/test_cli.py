"""The command line, run as a user runs it (a subprocess of the installed script)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from test_actors import write_price_list

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("RABBITMQ_URL", "REDIS_URL", "DATABASE_URL")}
    full_env.update(env)
    return subprocess.run([str(BIN / "ingestion"), *args], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=300)


def test_ingest_runs_the_pipeline_locally_and_summarises(tmp_path: Path) -> None:
    src = write_price_list(tmp_path / "price.csv")
    out = cli("ingest", str(src), "--supplier", "Электромир", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["phase"] == "complete"
    assert summary["items_stored"] == 3 and summary["rows_failed"] == 1
    assert summary["first_problems"][0]["row"] == 6
    assert (tmp_path / "ingestion.db").exists()  # the embedded default: a SQLite file here

    text = cli("ingest", str(src), "--supplier", "электромир", cwd=tmp_path)
    assert text.returncode == 0
    assert "3 items stored" in text.stdout and "1 rows failed" in text.stdout and "row 6" in text.stdout


def test_ingest_of_a_missing_file_fails_with_the_reason(tmp_path: Path) -> None:
    out = cli("ingest", str(tmp_path / "nope.xlsx"), "--supplier", "X", cwd=tmp_path)
    assert out.returncode == 1
    assert "failed" in out.stdout and "no such file" in out.stdout


def test_migrate_and_plain_yoyo(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    first = cli("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert first.returncode == 0 and "0001_initial" in first.stdout
    again = cli("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert "up to date" in again.stdout
    yoyo = shutil.which("yoyo", path=str(BIN))
    assert yoyo
    plain = subprocess.run([yoyo, "apply", "--batch", "--database", f"sqlite:///{tmp_path / 'b.db'}",
                            str(ROOT / "migrations")], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    import sqlite3

    tables = {r[0] for r in sqlite3.connect(tmp_path / "b.db").execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"suppliers", "supplier_items", "price_history", "parsing_logs", "products", "match_review_queue"} <= tables


def test_a_bad_setting_stops_with_the_variable_name(tmp_path: Path) -> None:
    out = cli("migrate", cwd=tmp_path, MAX_FILE_SIZE_MB="ten")
    assert out.returncode == 2 and "MAX_FILE_SIZE_MB" in out.stderr


def test_job_needs_redis(tmp_path: Path) -> None:
    out = cli("job", "abc", cwd=tmp_path)
    assert out.returncode == 2 and "REDIS_URL" in out.stderr


def test_preview_for_a_supplier_says_which_layout_applies(tmp_path: Path) -> None:
    src = write_price_list(tmp_path / "price.csv")
    assert cli("ingest", str(src), "--supplier", "Память", cwd=tmp_path).returncode == 0
    same = cli("preview", "--supplier", "память", "--json", str(src), cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["supplier"]["layout"].startswith("remembered")
    other = tmp_path / "other.csv"
    other.write_text("Код;Товар;Стоимость\nX1;Вещь;5\n", encoding="utf-8")
    changed = json.loads(cli("preview", "--supplier", "Память", "--json", str(other), cwd=tmp_path).stdout)
    assert "layout_changed" in changed["supplier"]["layout"]
    unknown = cli("preview", "--supplier", "Никто", str(other), cwd=tmp_path)
    assert unknown.returncode == 1 and "no supplier" in unknown.stderr
