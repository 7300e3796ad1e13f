import hashlib
import json
from pathlib import Path

import pytest

from ingestion.download import Downloader, sanitize_name, sidecar_path
from ingestion.errors import DownloadFailed, FileTooLarge, SourceNotFound, SourceRefused


@pytest.mark.parametrize(
    "name, safe",
    [
        ("price.xlsx", "price.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("Прайс лист 2024.xls", "2024.xls"),
        ("..", "download"),
        ("", "download"),
        (".hidden", "hidden"),
        ("Café menu.csv", "Cafe_menu.csv"),
    ],
)
def test_sanitize_name_never_escapes(name: str, safe: str) -> None:
    assert sanitize_name(name) == safe


def test_sanitize_name_caps_length_and_keeps_extension() -> None:
    out = sanitize_name("a" * 500 + ".xlsx")
    assert len(out) <= 120 and out.endswith(".xlsx")


def test_http_download_streams_hashes_and_writes_sidecar(tmp_path: Path, http_dir: tuple[str, Path]) -> None:
    base, folder = http_dir
    body = b"sku;name;price\n1;A;1,50\n" * 1000
    (folder / "list.csv").write_bytes(body)
    seen: list[int] = []
    d = Downloader(tmp_path / "up", max_bytes=10 * 1024 * 1024)
    got = d.fetch(f"{base}/list.csv", "job1", extra_meta={"supplier_id": "s1"}, progress=lambda n, t: seen.append(n))
    assert Path(got.path) == tmp_path / "up" / "job1_list.csv"
    assert Path(got.path).read_bytes() == body
    assert got.sha256 == hashlib.sha256(body).hexdigest()
    assert seen and seen[-1] == len(body)
    meta = json.loads(sidecar_path(got.path).read_text())
    assert meta["sha256"] == got.sha256 and meta["job_id"] == "job1" and meta["supplier_id"] == "s1"
    assert meta["original_name"] == "list.csv" and meta["size"] == len(body)
    # a redelivery reuses the finished file
    again = d.fetch(f"{base}/list.csv", "job1")
    assert again.sha256 == got.sha256


def test_404_is_permanent(tmp_path: Path, http_dir: tuple[str, Path]) -> None:
    base, _ = http_dir
    with pytest.raises(SourceNotFound, match="404"):
        Downloader(tmp_path, max_bytes=1000).fetch(f"{base}/missing.csv", "j")


def test_size_limit_is_enforced_while_reading(tmp_path: Path, http_dir: tuple[str, Path]) -> None:
    base, folder = http_dir
    (folder / "big.csv").write_bytes(b"x" * 5000)
    with pytest.raises(FileTooLarge, match="MAX_FILE_SIZE_MB"):
        Downloader(tmp_path / "up", max_bytes=1000).fetch(f"{base}/big.csv", "j")
    assert not list((tmp_path / "up").iterdir())  # no partial file left


def test_connection_refused_is_transient(tmp_path: Path) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(DownloadFailed):
        Downloader(tmp_path, max_bytes=1000, connect_timeout=2).fetch(f"http://127.0.0.1:{port}/x.csv", "j")


def test_local_paths(tmp_path: Path) -> None:
    src = tmp_path / "src.csv"
    src.write_text("a;b\n", encoding="utf-8")
    d = Downloader(tmp_path / "up", max_bytes=1000)
    assert Path(d.fetch(str(src), "j").path).read_text() == "a;b\n"
    assert Path(d.fetch(src.as_uri(), "j2").path).exists()
    with pytest.raises(SourceNotFound, match="no such file"):
        d.fetch(str(tmp_path / "nope.csv"), "j3")
    with pytest.raises(SourceNotFound, match="not a file"):
        d.fetch(str(tmp_path), "j4")
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(FileTooLarge):
        d.fetch(str(big), "j5")


def test_other_schemes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceRefused, match="scheme"):
        Downloader(tmp_path, max_bytes=1000).fetch("ftp://127.0.0.1/x.csv", "j")
