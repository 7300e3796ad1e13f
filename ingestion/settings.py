"""Service settings: one attrs class, read once from the environment (DESIGN §3).

Defaults give the embedded local mode: a SQLite file, the in-process broker,
job state kept in process, uploads in ``./uploads``.  Setting ``RABBITMQ_URL``
and ``REDIS_URL`` (and a PostgreSQL ``DATABASE_URL``) gives production.

A value that does not parse raises :class:`~ingestion.errors.ConfigError`
naming the variable and what is wrong with it, so start-up stops at once.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, TypeVar

import attrs

from ingestion.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///ingestion.db"
DEFAULT_UPLOADS_DIR = "uploads"
DEFAULT_ML_ANALYZE_URL = "http://ml-analyze:8001"
DEFAULT_MAX_FILE_SIZE_MB = 50
DEFAULT_ML_POLL_INTERVAL_SECONDS = 5
DEFAULT_FILE_CLEANUP_TTL_HOURS = 24
DEFAULT_SYNC_INTERVAL_HOURS = 8
DEFAULT_MATCH_AUTO_THRESHOLD = 95
DEFAULT_MATCH_POTENTIAL_THRESHOLD = 70
DEFAULT_MATCH_MAX_CANDIDATES = 5
#: A list with at least twice this many unmatched items gets runs on other workers sharing its matching.
DEFAULT_MATCH_SHARE_ITEMS = 5000
#: ... at most this many (one per MATCH_SHARE_ITEMS items beyond the first block).
DEFAULT_MATCH_SHARERS = 3
DEFAULT_JOB_STATE_TTL_SECONDS = 7 * 24 * 3600
DEFAULT_UPSERT_BATCH_SIZE = 1000
DEFAULT_PROGRESS_EVERY_ROWS = 2000
DEFAULT_DOWNLOAD_MAX_RETRIES = 5
DEFAULT_HTTP_CONNECT_TIMEOUT = 10.0
DEFAULT_HTTP_READ_TIMEOUT = 60.0
DEFAULT_QUEUE_NAME = "ingestion"
DEFAULT_ML_JOB_TIMEOUT_MINUTES = 30
DEFAULT_MAX_ROWS_PER_FILE = 2_000_000
DEFAULT_ML_READ_TIMEOUT = 30.0

T = TypeVar("T")


def _to_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false (1/0, yes/no)")


def _to_positive_int(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError("must be a positive whole number") from None
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _to_count(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError("must be a whole number, 0 or more") from None
    if value < 0:
        raise ValueError("must be a whole number, 0 or more")
    return value


def _to_positive_float(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError("must be a positive number") from None
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number")
    return value


def _to_share(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError("must be a share between 0 and 1 (0.5 = 50%)") from None
    if not 0 <= value <= 1:
        raise ValueError("must be a share between 0 and 1 (0.5 = 50%)")
    return value


def _to_score(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError("must be a whole-number score between 0 and 100") from None
    if not 0 <= value <= 100:
        raise ValueError("must be a score between 0 and 100")
    return value


def _to_optional_str(raw: str) -> str | None:
    return raw.strip() or None


def _to_url(schemes: tuple[str, ...]) -> Callable[[str], str | None]:
    def parse(raw: str) -> str | None:
        raw = raw.strip()
        if not raw:
            return None
        scheme = raw.split("://", 1)[0].lower() if "://" in raw else ""
        if scheme not in schemes:
            raise ValueError(f"must be a URL starting with one of {', '.join(s + '://' for s in schemes)}")
        return raw

    return parse


def _to_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _database_url(raw: str) -> str:
    url = _to_url(("sqlite", "postgres", "postgresql"))(raw)
    if url is None:
        raise ValueError("must not be empty")
    return url


def _env_field(var: str, parse: Callable[[str], Any], default: Any) -> Any:
    return attrs.field(default=default, metadata={"env": var, "parse": parse})


@attrs.frozen
class Settings:
    """All settings of the service; build with :meth:`from_env`.

    Sizes are in megabytes, intervals in the unit their name gives, match
    thresholds are RapidFuzz scores 0–100.
    """

    database_url: str = _env_field("DATABASE_URL", _database_url, DEFAULT_DATABASE_URL)
    rabbitmq_url: str | None = _env_field("RABBITMQ_URL", _to_url(("amqp", "amqps")), None)
    redis_url: str | None = _env_field("REDIS_URL", _to_url(("redis", "rediss", "unix")), None)
    uploads_dir: str = _env_field("UPLOADS_DIR", str, DEFAULT_UPLOADS_DIR)
    #: Hosts (names, IPs or CIDR networks) a download may reach although they are loopback/private.
    download_allowed_hosts: tuple[str, ...] = _env_field("DOWNLOAD_ALLOWED_HOSTS", _to_list, ())
    #: Folders local sources may come from (besides UPLOADS_DIR); ``*`` allows any path.
    download_allowed_roots: tuple[str, ...] = _env_field("DOWNLOAD_ALLOWED_ROOTS", _to_list, ())
    ml_analyze_url: str = _env_field("ML_ANALYZE_URL", str, DEFAULT_ML_ANALYZE_URL)
    use_ml_processing: bool = _env_field("USE_ML_PROCESSING", _to_bool, True)
    ml_fallback_to_local: bool = _env_field("ML_FALLBACK_TO_LOCAL", _to_bool, False)
    #: Where ml-analyze finds the uploads folder (``http(s)://…/`` or ``file:///…/``); unset: it is told the
    #: file's absolute path on the shared volume.
    ml_file_url_base: str | None = _env_field("ML_FILE_URL_BASE", _to_url(("http", "https", "file")), None)
    #: Read every file here, whatever USE_ML_PROCESSING and the supplier say (the local ``ingest`` command).
    never_use_ml: bool = _env_field("INGESTION_NEVER_USE_ML", _to_bool, False)
    ml_poll_interval_seconds: int = _env_field(
        "ML_POLL_INTERVAL_SECONDS", _to_positive_int, DEFAULT_ML_POLL_INTERVAL_SECONDS
    )
    ml_job_timeout_minutes: int = _env_field(
        "ML_JOB_TIMEOUT_MINUTES", _to_positive_int, DEFAULT_ML_JOB_TIMEOUT_MINUTES
    )
    ml_read_timeout: float = _env_field("ML_READ_TIMEOUT", _to_positive_float, DEFAULT_ML_READ_TIMEOUT)
    max_file_size_mb: float = _env_field("MAX_FILE_SIZE_MB", _to_positive_float, DEFAULT_MAX_FILE_SIZE_MB)
    file_cleanup_ttl_hours: int = _env_field(
        "FILE_CLEANUP_TTL_HOURS", _to_positive_int, DEFAULT_FILE_CLEANUP_TTL_HOURS
    )
    sync_interval_hours: int = _env_field("SYNC_INTERVAL_HOURS", _to_positive_int, DEFAULT_SYNC_INTERVAL_HOURS)
    master_sheet_url: str | None = _env_field("MASTER_SHEET_URL", _to_optional_str, None)
    match_auto_threshold: int = _env_field("MATCH_AUTO_THRESHOLD", _to_score, DEFAULT_MATCH_AUTO_THRESHOLD)
    match_potential_threshold: int = _env_field(
        "MATCH_POTENTIAL_THRESHOLD", _to_score, DEFAULT_MATCH_POTENTIAL_THRESHOLD
    )
    match_max_candidates: int = _env_field(
        "MATCH_MAX_CANDIDATES", _to_positive_int, DEFAULT_MATCH_MAX_CANDIDATES
    )
    #: A list with at least twice this many unmatched items has its matching shared with runs on other
    #: workers (one per this many items beyond the first block, at most ``match_sharers``); 0: never.
    match_share_items: int = _env_field("MATCH_SHARE_ITEMS", _to_count, DEFAULT_MATCH_SHARE_ITEMS)
    match_sharers: int = _env_field("MATCH_SHARERS", _to_count, DEFAULT_MATCH_SHARERS)
    queue_name: str = _env_field("INGESTION_QUEUE", str, DEFAULT_QUEUE_NAME)
    job_state_ttl_seconds: int = _env_field(
        "JOB_STATE_TTL_SECONDS", _to_positive_int, DEFAULT_JOB_STATE_TTL_SECONDS
    )
    guard_enabled: bool = _env_field("GUARD_ENABLED", _to_bool, True)
    guard_max_gone_share: float = _env_field("GUARD_MAX_GONE_SHARE", _to_share, 0.5)
    guard_max_price_move_share: float = _env_field("GUARD_MAX_PRICE_MOVE_SHARE", _to_share, 0.3)
    guard_price_move: float = _env_field("GUARD_PRICE_MOVE", _to_positive_float, 0.5)
    guard_max_error_share: float = _env_field("GUARD_MAX_ERROR_SHARE", _to_share, 0.2)
    guard_hold_on_currency_change: bool = _env_field("GUARD_HOLD_ON_CURRENCY_CHANGE", _to_bool, True)
    held_ttl_days: int = _env_field("HELD_TTL_DAYS", _to_positive_int, 14)
    max_rows_per_file: int = _env_field("MAX_ROWS_PER_FILE", _to_positive_int, DEFAULT_MAX_ROWS_PER_FILE)
    upsert_batch_size: int = _env_field("UPSERT_BATCH_SIZE", _to_positive_int, DEFAULT_UPSERT_BATCH_SIZE)
    progress_every_rows: int = _env_field(
        "PROGRESS_EVERY_ROWS", _to_positive_int, DEFAULT_PROGRESS_EVERY_ROWS
    )
    download_max_retries: int = _env_field(
        "DOWNLOAD_MAX_RETRIES", _to_positive_int, DEFAULT_DOWNLOAD_MAX_RETRIES
    )
    http_connect_timeout: float = _env_field(
        "HTTP_CONNECT_TIMEOUT", _to_positive_float, DEFAULT_HTTP_CONNECT_TIMEOUT
    )
    http_read_timeout: float = _env_field("HTTP_READ_TIMEOUT", _to_positive_float, DEFAULT_HTTP_READ_TIMEOUT)

    @property
    def max_file_size_bytes(self) -> int:
        return int(self.max_file_size_mb * 1024 * 1024)

    @property
    def local_source_roots(self) -> list[str] | None:
        """Folders local sources may come from: ``UPLOADS_DIR`` and ``DOWNLOAD_ALLOWED_ROOTS``; ``None`` for any."""
        if "*" in self.download_allowed_roots:
            return None
        return [self.uploads_dir, *self.download_allowed_roots]

    @property
    def is_local(self) -> bool:
        """True in the embedded mode: no RabbitMQ configured."""
        return self.rabbitmq_url is None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Read every setting from ``environ`` (default ``os.environ``).

        Raises :class:`ConfigError` naming the first variable whose value is
        wrong, e.g. ``MAX_FILE_SIZE_MB='ten': must be a positive number``.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            var = field.metadata["env"]
            if var not in env:
                continue
            try:
                values[field.name] = field.metadata["parse"](env[var])
            except ValueError as exc:
                raise ConfigError(f"{var}={env[var]!r}: {exc}") from None
        settings = cls(**values)
        if settings.match_potential_threshold > settings.match_auto_threshold:
            raise ConfigError(
                "MATCH_POTENTIAL_THRESHOLD must not be above MATCH_AUTO_THRESHOLD "
                f"({settings.match_potential_threshold} > {settings.match_auto_threshold})"
            )
        if settings.rabbitmq_url and not settings.redis_url:
            raise ConfigError("REDIS_URL is required when RABBITMQ_URL is set (job state and results live in Redis)")
        return settings


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def set_settings(settings: Settings | None) -> None:
    """Replace the process-wide settings (tests and the CLI); ``None`` re-reads the environment."""
    global _current
    _current = settings
