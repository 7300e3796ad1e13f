"""The command line, run as a user runs it (a subprocess of the installed script)."""

import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
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


# --- held lists: what `ingest` says, and `release` / `reject` -----------------------------
def _list(path: Path, price_factor: int = 1) -> Path:
    """40 items; the first 20 prices multiplied by ``price_factor`` (3: half the prices move by 200%)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(["Артикул", "Наименование", "Цена, руб", "Остаток"])
        for i in range(40):
            out.writerow([f"S{i:03d}", f"Товар {i}", f"{(100 + i) * (price_factor if i < 20 else 1)},00", str(i % 5)])
    return path


def _price(folder: Path, sku: str) -> str:
    with sqlite3.connect(folder / "ingestion.db") as db:
        row = db.execute("SELECT price FROM supplier_items WHERE supplier_sku = ?", (sku,)).fetchone()
    return str(row[0])


def _held(folder: Path, job_id: str) -> subprocess.CompletedProcess[str]:
    """Ingest a first list of a supplier, then a re-sent one whose prices moved too much (held as ``job_id``)."""
    assert cli("ingest", str(_list(folder / "first.csv")), "--supplier", "Скачок", cwd=folder).returncode == 0
    return cli("ingest", str(_list(folder / "moved.csv", 3)), "--supplier", "Скачок", "--job-id", job_id, cwd=folder)


def test_a_held_list_says_it_is_held_why_and_how_to_decide(tmp_path: Path) -> None:
    held = _held(tmp_path, "held-1")
    assert held.returncode == 3, held.stdout + held.stderr
    text = held.stdout
    assert "held by the guard-rails" in text and "NOTHING WAS PUBLISHED" in text
    assert "held because 20 of 40 prices moved by more than 50%" in text
    assert "0 items stored (40 items wait in the held list)" in text and "40 items stored" not in text
    assert "ingestion release held-1" in text and "ingestion reject held-1" in text
    assert _price(tmp_path, "S000").startswith("100")  # nothing published

    again = cli("ingest", str(tmp_path / "moved.csv"), "--supplier", "Скачок", "--job-id", "held-2", "--json",
                cwd=tmp_path)
    assert again.returncode == 3
    summary = json.loads(again.stdout)
    assert summary["phase"] == "held" and summary["items_stored"] == 0 and summary["items_held"] == 40
    assert summary["held_reasons"] == ["20 of 40 prices moved by more than 50% (the limit is 30% of them)"]
    assert summary["next_steps"]["release"] == "ingestion release held-2"


def test_release_publishes_a_held_list_and_matches_it(tmp_path: Path) -> None:
    assert _held(tmp_path, "held-r").returncode == 3
    released = cli("release", "held-r", "--by", "anna", cwd=tmp_path)
    assert released.returncode == 0, released.stdout + released.stderr
    assert "released by anna and published" in released.stdout and "20 items written" in released.stdout
    assert "matching:" in released.stdout
    assert _price(tmp_path, "S000").startswith("300")
    with sqlite3.connect(tmp_path / "ingestion.db") as db:
        assert db.execute("SELECT status, decided_by FROM ingestion_runs WHERE job_id = 'held-r'").fetchone() == (
            "released", "anna")
    twice = cli("release", "held-r", cwd=tmp_path)
    assert twice.returncode == 6 and "already released by anna" in twice.stderr
    late = cli("reject", "held-r", cwd=tmp_path)
    assert late.returncode == 6 and "holds no list to reject" in late.stderr


def test_reject_drops_a_held_list_with_the_reason(tmp_path: Path) -> None:
    assert _held(tmp_path, "held-x").returncode == 3
    out = cli("reject", "held-x", "--reason", "the supplier sent the wrong file", "--by", "boris", "--json",
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["status"] == "rejected" and doc["reason"] == "the supplier sent the wrong file"
    assert doc["rows_dropped"] > 0
    assert _price(tmp_path, "S000").startswith("100")  # the current list stays
    with sqlite3.connect(tmp_path / "ingestion.db") as db:
        logged = [r[0] for r in db.execute("SELECT message FROM parsing_logs WHERE job_id = 'held-x'")]
    assert any("the supplier sent the wrong file" in m for m in logged)
    assert any("rejected by boris" in m for m in logged)
    after = cli("release", "held-x", cwd=tmp_path)
    assert after.returncode == 6 and "already rejected by boris" in after.stderr


def test_an_out_of_date_held_list_cannot_be_released(tmp_path: Path) -> None:
    assert _held(tmp_path, "held-old").returncode == 3
    newer = cli("ingest", str(_list(tmp_path / "newer.csv")), "--supplier", "Скачок", "--job-id", "newer",
                cwd=tmp_path)
    assert newer.returncode == 0
    out = cli("release", "held-old", cwd=tmp_path)
    assert out.returncode == 7 and "out of date" in out.stderr and "ingestion reject held-old" in out.stderr
    assert cli("reject", "held-old", cwd=tmp_path).returncode == 0


def test_release_or_reject_of_an_unknown_job(tmp_path: Path) -> None:
    nowhere = cli("release", "no-such-job", cwd=tmp_path)
    assert nowhere.returncode == 5 and "no job 'no-such-job'" in nowhere.stderr
    assert not (tmp_path / "ingestion.db").exists()  # looking did not create a database here
    src = write_price_list(tmp_path / "price.csv")
    assert cli("ingest", str(src), "--supplier", "Электромир", "--job-id", "done", cwd=tmp_path).returncode == 0
    unknown = cli("reject", "no-such-job", cwd=tmp_path)
    assert unknown.returncode == 5 and "no job 'no-such-job'" in unknown.stderr
    published = cli("release", "done", cwd=tmp_path)
    assert published.returncode == 6 and "was published at once" in published.stderr


def test_exit_codes_are_in_the_help() -> None:
    from ingestion.cli import EXIT_CODES, EXIT_UNREADABLE, build_parser
    from ingestion.preview import EXIT_UNREADABLE as PREVIEW_UNREADABLE

    assert PREVIEW_UNREADABLE == EXIT_UNREADABLE
    text = build_parser().format_help()
    for code, meaning in EXIT_CODES.items():
        assert f"{code:<4} {meaning}" in text
    help_ = cli("release", "--help", cwd=ROOT)
    assert help_.returncode == 0 and "7    release: the held list is out of date" in help_.stdout
    assert "4 it could not be read" in cli("preview", "--help", cwd=ROOT).stdout


# --- preview of a file that cannot be read ----------------------------------------------
def test_preview_of_an_unreadable_file_exits_4_with_the_reason_on_stderr(tmp_path: Path) -> None:
    missing = cli("preview", str(tmp_path / "nope.csv"), cwd=tmp_path)
    assert missing.returncode == 4
    assert f"cannot read {tmp_path / 'nope.csv'}: No such file" in missing.stderr
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    as_json = cli("preview", "--json", str(broken), cwd=tmp_path)
    assert as_json.returncode == 4 and "cannot read" in as_json.stderr
    doc = json.loads(as_json.stdout)
    assert doc["status"] == "failed" and doc["error"] and doc["error"] in as_json.stderr
    src = write_price_list(tmp_path / "price.csv")
    assert cli("ingest", str(src), "--supplier", "Память", cwd=tmp_path).returncode == 0
    for_supplier = cli("preview", "--supplier", "Память", "--json", str(broken), cwd=tmp_path)
    assert for_supplier.returncode == 4 and json.loads(for_supplier.stdout)["status"] == "failed"
    assert "cannot read" in for_supplier.stderr
    assert cli("preview", str(src), cwd=tmp_path).returncode == 0


# --- output cut short: `… | head -1` --------------------------------------------------------
def _closed_stdout(*args: str, cwd: Path, **env: str) -> tuple[int, str]:
    """Run the command with its standard output a pipe nobody reads (closed at once); ``(exit code, stderr)``."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("RABBITMQ_URL", "REDIS_URL", "DATABASE_URL")}
    full_env.update(env)
    proc = subprocess.Popen([str(BIN / "ingestion"), *args], cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    return proc.wait(timeout=300), err


def test_a_closed_pipe_ends_each_command_quietly(tmp_path: Path) -> None:
    src = write_price_list(tmp_path / "price.csv")
    code, err = _closed_stdout("ingest", str(src), "--supplier", "Труба", "--job-id", "piped", cwd=tmp_path)
    assert (code, err) == (141, "")
    for args in (("preview", str(src)), ("preview", "--json", str(src)), ("diff", "piped"),
                 ("diff", "piped", "--json"), ("ingest", str(src), "--supplier", "Труба", "--json")):
        code, err = _closed_stdout(*args, cwd=tmp_path)
        assert (code, err) == (141, ""), args
    code, err = _closed_stdout("preview", str(tmp_path / "nope.csv"), cwd=tmp_path)
    assert code == 141 and "Traceback" not in err and "cannot read" in err  # the reason is still given


def test_a_closed_pipe_ends_job_quietly(tmp_path: Path) -> None:
    from conftest import REDIS_TEST_URL

    from ingestion.jobstate import RedisJobStore

    job_id = f"pipe-{uuid.uuid4().hex[:12]}"
    store = RedisJobStore.from_url(REDIS_TEST_URL, 60)
    store.create(job_id, supplier_name="Труба", phase="complete", status="completed")
    try:
        shown = cli("job", job_id, cwd=tmp_path, REDIS_URL=REDIS_TEST_URL)
        assert shown.returncode == 0 and json.loads(shown.stdout)["job_id"] == job_id
        code, err = _closed_stdout("job", job_id, cwd=tmp_path, REDIS_URL=REDIS_TEST_URL)
        assert (code, err) == (141, "")
    finally:
        import redis

        redis.Redis.from_url(REDIS_TEST_URL).delete(f"job:{job_id}")


# --- diff / job: unknown jobs and held lists that are out of date --------------------------
def test_diff_and_job_of_an_unknown_job_exit_5(tmp_path: Path) -> None:
    from conftest import REDIS_TEST_URL

    nowhere = cli("diff", "no-such-job", cwd=tmp_path)
    assert nowhere.returncode == 5 and "no job 'no-such-job'" in nowhere.stderr
    assert not (tmp_path / "ingestion.db").exists()  # looking did not create a database here
    src = write_price_list(tmp_path / "price.csv")
    assert cli("ingest", str(src), "--supplier", "Электромир", "--job-id", "done", cwd=tmp_path).returncode == 0
    unknown = cli("diff", "no-such-job", "--json", cwd=tmp_path)
    assert unknown.returncode == 5 and "no job 'no-such-job'" in unknown.stderr and unknown.stdout == ""
    known = cli("diff", "done", cwd=tmp_path)
    assert known.returncode == 0 and known.stdout.startswith("job done: published")
    job = cli("job", f"no-such-job-{uuid.uuid4().hex}", cwd=tmp_path, REDIS_URL=REDIS_TEST_URL)
    assert job.returncode == 5 and "no job" in job.stderr
    for command in ("diff", "job"):
        assert "5    unknown job" in cli(command, "--help", cwd=ROOT).stdout


def test_diff_says_when_a_held_list_can_no_longer_be_released(tmp_path: Path) -> None:
    assert _held(tmp_path, "held-old").returncode == 3
    fresh = cli("diff", "held-old", "--json", cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    held = json.loads(fresh.stdout)["held"]
    assert held["can_be_released"] is True and held["why_not"] is None and held["newer_held_job_ids"] == []

    # a newer list of the supplier is held too: this one is out of date (it would roll the prices back), and
    # diff names the newer held list (session 11: it used to say both could still be released)
    again = cli("ingest", str(tmp_path / "moved.csv"), "--supplier", "Скачок", "--job-id", "held-new", cwd=tmp_path)
    assert again.returncode == 3
    both = cli("diff", "held-old", cwd=tmp_path)
    assert both.returncode == 0 and both.stdout.startswith("job held-old: held, OUT OF DATE")
    assert "which is held too (job held-new)" in both.stdout
    assert json.loads(cli("diff", "held-old", "--json", cwd=tmp_path).stdout)["held"]["newer_held_job_ids"] == [
        "held-new"]

    # a newer list was published: the held one is out of date, and diff says so and names the newer job
    assert cli("ingest", str(_list(tmp_path / "newer.csv")), "--supplier", "Скачок", "--job-id", "newer",
               cwd=tmp_path).returncode == 0
    stale = cli("diff", "held-old", cwd=tmp_path)
    assert stale.returncode == 0, stale.stderr
    first, second = stale.stdout.splitlines()[:2]
    assert first.startswith("job held-old: held, OUT OF DATE — it can no longer be released")
    assert "out of date" in second and "current list is now job newer" in second
    assert "ingestion reject held-old" in second
    doc = json.loads(cli("diff", "held-old", "--json", cwd=tmp_path).stdout)
    assert doc["status"] == "held" and doc["held"]["can_be_released"] is False
    assert doc["held"]["current_job_id"] == "newer" and "current list is now job newer" in doc["held"]["why_not"]
    assert cli("release", "held-old", cwd=tmp_path).returncode == 7  # what diff said
