"""Fetch a price list into ``UPLOADS_DIR``: an http/https URL or a local path.

The file is streamed to ``{job_id}_{sanitized name}`` through a ``.part`` file
with the size limit enforced while reading, hashed (sha256) on the way, and
described by a ``<file>.meta.json`` sidecar.  A repeat of the same job (an
at-least-once redelivery) finds the finished file and its sidecar and reuses
them.

Errors: :class:`SourceNotFound` (404/410, missing path, not a file),
:class:`FileTooLarge`, :class:`SourceRefused` (other 4xx, unsupported scheme)
are permanent; :class:`DownloadFailed` (connection trouble, timeouts, 5xx,
429) is transient.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, BinaryIO, Callable, Sequence
from urllib.parse import unquote, urljoin, urlsplit

import attrs
import urllib3

from ingestion.errors import DownloadFailed, FileTooLarge, SourceNotFound, SourceRefused
from ingestion.jobstate import now_iso
from ingestion.netguard import AddressGuard, check_local_path

CHUNK_SIZE = 256 * 1024
MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_NAME_LENGTH = 120
USER_AGENT = "ingestion-service/0.1 (price-list downloader)"

ProgressCallback = Callable[[int, int | None], None]


@attrs.frozen
class DownloadedFile:
    """A fetched file: where it lies, its size in bytes and its sha256 (hex)."""

    path: str
    original_name: str
    size: int
    sha256: str
    content_type: str | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def sanitize_name(name: str) -> str:
    """A safe file name from a URL's or path's last part.

    Keeps ASCII letters, digits, ``.``, ``_`` and ``-``; folds accents;
    replaces everything else (path separators, Cyrillic, spaces) with ``_``;
    never starts with a dot; at most 120 characters; ``"download"`` when
    nothing is left.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")
    if len(base) > MAX_NAME_LENGTH:
        stem, dot, ext = base.rpartition(".")
        if dot and len(ext) <= 10:
            base = stem[: MAX_NAME_LENGTH - len(ext) - 1] + "." + ext
        else:
            base = base[:MAX_NAME_LENGTH]
    return base or "download"


def sidecar_path(path: str | Path) -> Path:
    return Path(f"{path}.meta.json")


class Downloader:
    """Fetches sources into ``uploads_dir`` with a byte limit and timeouts (seconds).

    ``allowed_hosts`` and ``allowed_roots`` are the address guard's exceptions
    and local folders (:mod:`ingestion.netguard`); ``allowed_roots=None``
    allows any local path.
    """

    def __init__(
        self,
        uploads_dir: str | Path,
        max_bytes: int,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        allowed_hosts: Sequence[str] = (),
        allowed_roots: Sequence[str] | None = None,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        self.uploads_dir = Path(uploads_dir)
        self.max_bytes = max_bytes
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self.guard = AddressGuard(allowed_hosts)
        self.allowed_roots = allowed_roots
        self.pool = pool or urllib3.PoolManager()

    def fetch(
        self,
        source: str,
        job_id: str,
        extra_meta: dict[str, Any] | None = None,
        progress: ProgressCallback | None = None,
    ) -> DownloadedFile:
        """Fetch ``source`` for ``job_id``; returns the stored file.

        ``progress(bytes_so_far, total_or_None)`` is called as chunks arrive.
        """
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        scheme = urlsplit(source).scheme.lower()
        if scheme in ("http", "https"):
            original = unquote(urlsplit(source).path.rsplit("/", 1)[-1])
            opener: Callable[[str], _Opened] = self._open_http
        elif scheme == "file" or scheme == "" or (len(scheme) == 1 and os.name == "nt"):
            local = unquote(urlsplit(source).path) if scheme == "file" else source
            original = Path(local).name
            opener = self._open_local
            source = local
        else:
            raise SourceRefused(f"unsupported source scheme {scheme!r}: use http, https or a local path")

        target = self.uploads_dir / f"{job_id}_{sanitize_name(original)}"
        reused = self._reuse(target, source)
        if reused is not None:
            return reused

        digest = hashlib.sha256()
        size = 0
        part = target.with_name(target.name + ".part")
        with opener(source) as (stream, total, content_type):
            if total is not None and total > self.max_bytes:
                raise FileTooLarge(self._too_large(total))
            try:
                with open(part, "wb") as out:
                    for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise FileTooLarge(self._too_large(size, at_least=True))
                        digest.update(chunk)
                        out.write(chunk)
                        if progress:
                            progress(size, total)
            except urllib3.exceptions.HTTPError as exc:
                part.unlink(missing_ok=True)
                raise DownloadFailed(f"download of {source} broke off after {size} bytes: {exc}") from None
            except BaseException:
                part.unlink(missing_ok=True)
                raise
        os.replace(part, target)
        result = DownloadedFile(
            path=str(target),
            original_name=original,
            size=size,
            sha256=digest.hexdigest(),
            content_type=content_type,
            source=source,
        )
        meta = {**result.to_dict(), "job_id": job_id, "downloaded_at": now_iso(), **(extra_meta or {})}
        tmp = sidecar_path(target).with_suffix(".part")
        tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(tmp, sidecar_path(target))
        return result

    # --- helpers ------------------------------------------------------------------
    def _too_large(self, size: int, at_least: bool = False) -> str:
        limit_mb = self.max_bytes / (1024 * 1024)
        got = f"more than {limit_mb:g} MB" if at_least else f"{size / (1024 * 1024):.1f} MB"
        return f"file is too large: {got}, the limit is {limit_mb:g} MB (MAX_FILE_SIZE_MB)"

    def _reuse(self, target: Path, source: str) -> DownloadedFile | None:
        meta_path = sidecar_path(target)
        if not (target.is_file() and meta_path.is_file()):
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("source") != source or meta.get("size") != target.stat().st_size:
                return None
            return DownloadedFile(
                path=str(target),
                original_name=meta["original_name"],
                size=meta["size"],
                sha256=meta["sha256"],
                content_type=meta.get("content_type"),
                source=source,
            )
        except (ValueError, KeyError, OSError):
            return None

    def _open_http(self, url: str) -> "_Opened":
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            response = self._get_once(current)
            if response.status not in REDIRECT_STATUSES:
                break
            location = response.headers.get("Location")
            response.drain_conn()
            response.release_conn()
            if not location:
                raise SourceRefused(f"{current} answered HTTP {response.status} without a Location")
            current = urljoin(current, location)
            if urlsplit(current).scheme.lower() not in ("http", "https"):
                raise SourceRefused(f"{url} redirects to a non-HTTP address ({current[:200]})")
        else:
            raise SourceRefused(f"too many redirects fetching {url} (more than {MAX_REDIRECTS})")
        status = response.status
        if status >= 400:
            response.drain_conn()
            response.release_conn()
            if status in (404, 410):
                raise SourceNotFound(f"source not found: {current} answered HTTP {status}")
            if status == 429 or status >= 500:
                raise DownloadFailed(f"{current} answered HTTP {status} (server error)")
            raise SourceRefused(f"{current} answered HTTP {status}")
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        return _Opened(response, total, response.headers.get("Content-Type"), response.release_conn)

    def _get_once(self, url: str) -> urllib3.BaseHTTPResponse:
        """One GET of ``url`` without following redirects, connected to the address the guard checked."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        if scheme not in ("http", "https") or not host:
            raise SourceRefused(f"unsupported source {url[:200]!r}: use an http(s) URL or a local path")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise SourceRefused(f"bad port in {url[:200]!r}") from None
        address = self.guard.resolve(host, port)
        pool_kwargs: dict[str, Any] = {"server_hostname": host, "assert_hostname": host} if scheme == "https" else {}
        pool = self.pool.connection_from_host(address, port, scheme, pool_kwargs=pool_kwargs)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = host if parts.port is None else f"{host}:{parts.port}"
        if ":" in host and not host.startswith("["):
            host_header = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
        try:
            return pool.urlopen(
                "GET",
                target,
                headers={"Host": host_header, "User-Agent": USER_AGENT},
                redirect=False,
                retries=False,
                preload_content=False,
                timeout=self.timeout,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise DownloadFailed(f"cannot reach {url}: {_reason(exc)}") from None

    def _open_local(self, path: str) -> "_Opened":
        p = Path(path)
        check_local_path(path, self.allowed_roots)
        if not p.exists():
            raise SourceNotFound(f"source not found: no such file {path}")
        if not p.is_file():
            raise SourceNotFound(f"source is not a file: {path}")
        try:
            handle = open(p, "rb")
        except OSError as exc:
            raise SourceRefused(f"cannot open {path}: {exc.strerror}") from None
        return _Opened(handle, p.stat().st_size, None, handle.close)


class _Opened:
    """A byte stream with its announced size, usable as a context manager."""

    def __init__(
        self, stream: Any, total: int | None, content_type: str | None, close: Callable[[], None]
    ) -> None:
        self.stream: BinaryIO = stream
        self.total = total
        self.content_type = content_type
        self._close = close

    def __enter__(self) -> tuple[BinaryIO, int | None, str | None]:
        return self.stream, self.total, self.content_type

    def __exit__(self, *exc: object) -> None:
        self._close()


def _reason(exc: Exception) -> str:
    """A short cause for a connection error ("connection refused", "timed out")."""
    text = str(getattr(exc, "reason", None) or exc)
    for short in ("Connection refused", "timed out", "Name or service not known", "Connection reset"):
        if short.lower() in text.lower():
            return short.lower()
    return text[:200]
