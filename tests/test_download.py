import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest

from ingestion.download import Downloader, sanitize_name, sidecar_path
from ingestion.errors import DownloadFailed, FileTooLarge, SourceNotFound, SourceRefused

LOCAL = ("127.0.0.1",)


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
    d = Downloader(tmp_path / "up", max_bytes=10 * 1024 * 1024, allowed_hosts=LOCAL)
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
        Downloader(tmp_path, max_bytes=1000, allowed_hosts=LOCAL).fetch(f"{base}/missing.csv", "j")


def test_size_limit_is_enforced_while_reading(tmp_path: Path, http_dir: tuple[str, Path]) -> None:
    base, folder = http_dir
    (folder / "big.csv").write_bytes(b"x" * 5000)
    with pytest.raises(FileTooLarge, match="MAX_FILE_SIZE_MB"):
        Downloader(tmp_path / "up", max_bytes=1000, allowed_hosts=LOCAL).fetch(f"{base}/big.csv", "j")
    assert not list((tmp_path / "up").iterdir())  # no partial file left


def test_connection_refused_is_transient(tmp_path: Path) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(DownloadFailed):
        Downloader(tmp_path, max_bytes=1000, connect_timeout=2, allowed_hosts=LOCAL).fetch(
            f"http://127.0.0.1:{port}/x.csv", "j")


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


# --- the address guard: refusals are checked with loopback URLs and by classifying addresses,
# never by sending traffic to a private, metadata or public address.
@pytest.mark.parametrize(
    "ip, reason",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.10", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "reserved"),
        ("224.0.0.1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
    ],
)
def test_blocked_addresses(ip: str, reason: str) -> None:
    import ipaddress

    from ingestion.netguard import blocked_reason

    got = blocked_reason(ipaddress.ip_address(ip))
    assert got is not None and reason in got


def test_public_addresses_pass_the_check_without_any_connection() -> None:
    import ipaddress

    from ingestion.netguard import AddressGuard, blocked_reason

    assert blocked_reason(ipaddress.ip_address("93.184.216.34")) is None
    assert AddressGuard().resolve("93.184.216.34", 443) == "93.184.216.34"  # a literal: nothing is resolved or sent


def test_loopback_is_refused_by_default(tmp_path: Path, http_dir: tuple[str, Path]) -> None:
    base, folder = http_dir
    (folder / "p.csv").write_text("a;b\n")
    with pytest.raises(SourceRefused, match="loopback"):
        Downloader(tmp_path, max_bytes=1000).fetch(f"{base}/p.csv", "j")
    with pytest.raises(SourceRefused, match="loopback"):
        Downloader(tmp_path, max_bytes=1000).fetch(base.replace("127.0.0.1", "localhost") + "/p.csv", "j")
    with pytest.raises(SourceRefused, match="DOWNLOAD_ALLOWED_HOSTS"):
        Downloader(tmp_path, max_bytes=1000, allowed_hosts=("10.0.0.0/8",)).fetch(f"{base}/p.csv", "j")
    assert Downloader(tmp_path, max_bytes=1000, allowed_hosts=("127.0.0.0/8",)).fetch(f"{base}/p.csv", "j").size == 4


class _Redirects(http.server.BaseHTTPRequestHandler):
    target = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
        elif self.path == "/away":
            self.send_response(302)
            self.send_header("Location", self.target)
        else:
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"a;b")
            return
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_redirects_are_checked_at_every_hop(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirects)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    _Redirects.target = f"http://127.0.0.1:{port}/file"
    try:
        by_name = Downloader(tmp_path, max_bytes=1000, allowed_hosts=("localhost",))
        assert by_name.fetch(f"http://localhost:{port}/file", "j1").size == 3
        with pytest.raises(SourceRefused, match="127.0.0.1"):  # allowed by name, redirected to a refused address
            by_name.fetch(f"http://localhost:{port}/away", "j2")
        with pytest.raises(SourceRefused, match="too many redirects"):
            Downloader(tmp_path, max_bytes=1000, allowed_hosts=LOCAL).fetch(f"http://127.0.0.1:{port}/loop", "j3")
    finally:
        server.shutdown()
        server.server_close()


def test_local_paths_only_under_allowed_roots(tmp_path: Path) -> None:
    inside = tmp_path / "shared"
    inside.mkdir()
    (inside / "p.csv").write_text("a;b\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("password")
    (inside / "link.csv").symlink_to(outside)
    d = Downloader(tmp_path / "up", max_bytes=1000, allowed_roots=[str(inside)])
    assert d.fetch(str(inside / "p.csv"), "j1").size == 4
    for bad in (str(outside), str(inside / "link.csv"), str(inside / ".." / "secret.txt"), "/etc/hostname"):
        with pytest.raises(SourceRefused, match="DOWNLOAD_ALLOWED_ROOTS"):
            d.fetch(bad, "j2")
