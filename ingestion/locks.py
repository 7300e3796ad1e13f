"""Named locks for work that must not run twice at once (a second scheduler, a second sync).

With ``REDIS_URL`` the lock is a Redis lock (redis-py's ``Lock``: a key set with
NX and an expiry, released only by its holder), shared by every process and
machine; in the embedded mode it is a lock of this process.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import redis

from ingestion.settings import get_settings

_local_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


@contextlib.contextmanager
def try_lock(name: str, ttl_seconds: int) -> Iterator[bool]:
    """Take the lock ``name`` without waiting; yields whether it was taken.

    The lock expires after ``ttl_seconds`` even if its holder dies.
    """
    url = get_settings().redis_url
    if url:
        client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        lock = client.lock(name, timeout=ttl_seconds, blocking=False)
        held = bool(lock.acquire(blocking=False))
        try:
            yield held
        finally:
            if held:
                with contextlib.suppress(redis.exceptions.LockError):
                    lock.release()
        return
    with _guard:
        local = _local_locks.setdefault(name, threading.Lock())
    held = local.acquire(blocking=False)
    try:
        yield held
    finally:
        if held:
            local.release()
