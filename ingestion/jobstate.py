"""Job state that other services read (DESIGN §3).

Redis hash ``job:<job_id>`` (TTL 7 days, refreshed on every update) and the set
``jobs:active`` of running jobs.  Every field is a string, as Redis keeps it:
numbers in decimal, booleans ``true``/``false``, absent values ``""``,
``error_details`` a JSON list of problems, times ISO 8601 UTC.

Phases ``downloading → parsing | analyzing → matching → complete | failed``
(and ``held``); statuses ``pending, processing, completed, failed``.

:class:`MemoryJobStore` keeps the same strings in process for the embedded mode.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any, Mapping, Protocol, cast

import redis

FIELDS = (
    "job_id",
    "supplier_id",
    "supplier_name",
    "phase",
    "status",
    "file_type",
    "source_url",
    "download_bytes",
    "download_total",
    "items_processed",
    "items_total",
    "matches_found",
    "review_queue_count",
    "error_count",
    "error",
    "error_details",
    "can_retry",
    "retry_count",
    "max_retries",
    "ml_job_id",
    "created_at",
    "started_at",
    "completed_at",
    "diff_summary",
)

PHASES = ("downloading", "parsing", "analyzing", "matching", "complete", "failed", "held")
TERMINAL_PHASES = ("complete", "failed", "held")
STATUSES = ("pending", "processing", "completed", "failed")
ACTIVE_SET = "jobs:active"
DEFAULT_MAX_RETRIES = 3


def job_key(job_id: str) -> str:
    return f"job:{job_id}"


def aux_key(job_id: str) -> str:
    """The service's own bookkeeping of a job (failed step, download, ML polling), beside the public hash."""
    return f"job:{job_id}:aux"


def now_iso() -> str:
    """The current UTC time as ISO 8601 with a ``Z``."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode(value: Any) -> str:
    """The string form a job-state field is stored in."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def new_job_fields(job_id: str, **fields: Any) -> dict[str, str]:
    """All fields of a new job: zeros and empty strings, then ``fields`` over them."""
    base: dict[str, Any] = {name: "" for name in FIELDS}
    base.update(
        job_id=job_id,
        phase="downloading",
        status="pending",
        download_bytes=0,
        items_processed=0,
        matches_found=0,
        review_queue_count=0,
        error_count=0,
        error_details=[],
        can_retry=False,
        retry_count=0,
        max_retries=DEFAULT_MAX_RETRIES,
        created_at=now_iso(),
    )
    base.update(fields)
    unknown = set(base) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown job-state fields: {sorted(unknown)}")
    return {k: encode(v) for k, v in base.items()}


class JobStore(Protocol):
    """Where job state lives; both implementations keep the same strings."""

    def create(self, job_id: str, **fields: Any) -> bool:
        """Create the job; ``False`` (and nothing changed) when it already exists."""

    def update(self, job_id: str, **fields: Any) -> None:
        """Set ``fields`` (encoded), refresh the TTL and the active set."""

    def get(self, job_id: str) -> dict[str, str] | None:
        """The job's fields, or ``None`` for an unknown (or expired) job."""

    def active(self) -> set[str]:
        """Ids of jobs not in a terminal phase."""

    def get_aux(self, job_id: str) -> dict[str, str]:
        """The job's private bookkeeping (empty when none)."""

    def set_aux(self, job_id: str, **fields: Any) -> None:
        """Set private bookkeeping fields (encoded like the public ones), with the job's TTL."""

    def add_aux(self, job_id: str, **amounts: int) -> None:
        """Add ``amounts`` to private integer counters (a missing one counts from 0), atomically."""


def _check(fields: Mapping[str, Any]) -> dict[str, str]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown job-state fields: {sorted(unknown)}")
    return {k: encode(v) for k, v in fields.items()}


_CREATE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1
"""


class RedisJobStore:
    """Job state in Redis, shared by every worker and read by other services."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self.client = client
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_url(cls, url: str, ttl_seconds: int) -> "RedisJobStore":
        client = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30
        )
        return cls(client, ttl_seconds)

    def create(self, job_id: str, **fields: Any) -> bool:
        # One server-side script: the hash is written whole or not at all.
        values = new_job_fields(job_id, **fields)
        flat = [x for pair in values.items() for x in pair]
        created = self.client.eval(_CREATE_SCRIPT, 2, job_key(job_id), ACTIVE_SET, self.ttl_seconds, job_id, *flat)
        return bool(created)

    def update(self, job_id: str, **fields: Any) -> None:
        values = _check(fields)
        key = job_key(job_id)
        pipe = self.client.pipeline()
        pipe.hset(key, mapping=cast("Mapping[Any, Any]", values))
        pipe.expire(key, self.ttl_seconds)
        phase = values.get("phase")
        if phase in TERMINAL_PHASES:
            pipe.srem(ACTIVE_SET, job_id)
        elif phase:
            pipe.sadd(ACTIVE_SET, job_id)
        pipe.execute()

    def get(self, job_id: str) -> dict[str, str] | None:
        data: dict[str, str] = self.client.hgetall(job_key(job_id))  # type: ignore[assignment]
        return data or None

    def active(self) -> set[str]:
        return set(self.client.smembers(ACTIVE_SET))  # type: ignore[arg-type]

    def get_aux(self, job_id: str) -> dict[str, str]:
        return dict(self.client.hgetall(aux_key(job_id)))  # type: ignore[arg-type]

    def set_aux(self, job_id: str, **fields: Any) -> None:
        values = {k: encode(v) for k, v in fields.items()}
        pipe = self.client.pipeline()
        pipe.hset(aux_key(job_id), mapping=cast("Mapping[Any, Any]", values))
        pipe.expire(aux_key(job_id), self.ttl_seconds)
        pipe.execute()

    def add_aux(self, job_id: str, **amounts: int) -> None:
        pipe = self.client.pipeline()  # MULTI/EXEC: the counters move together
        for name, amount in amounts.items():
            pipe.hincrby(aux_key(job_id), name, int(amount))
        pipe.expire(aux_key(job_id), self.ttl_seconds)
        pipe.execute()


class MemoryJobStore:
    """Job state kept in this process (embedded mode and unit tests)."""

    def __init__(self) -> None:
        self._jobs: dict[str, dict[str, str]] = {}
        self._aux: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def create(self, job_id: str, **fields: Any) -> bool:
        with self._lock:
            if job_id in self._jobs:
                return False
            self._jobs[job_id] = new_job_fields(job_id, **fields)
            return True

    def update(self, job_id: str, **fields: Any) -> None:
        values = _check(fields)
        with self._lock:
            self._jobs.setdefault(job_id, {"job_id": job_id}).update(values)

    def get(self, job_id: str) -> dict[str, str] | None:
        with self._lock:
            data = self._jobs.get(job_id)
            return dict(data) if data else None

    def active(self) -> set[str]:
        with self._lock:
            return {j for j, d in self._jobs.items() if d.get("phase") not in TERMINAL_PHASES}

    def get_aux(self, job_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self._aux.get(job_id, {}))

    def set_aux(self, job_id: str, **fields: Any) -> None:
        with self._lock:
            self._aux.setdefault(job_id, {}).update({k: encode(v) for k, v in fields.items()})

    def add_aux(self, job_id: str, **amounts: int) -> None:
        with self._lock:
            aux = self._aux.setdefault(job_id, {})
            for name, amount in amounts.items():
                aux[name] = str(int(aux.get(name) or 0) + int(amount))
