"""Reading comes before matching inside one worker process.

A worker process runs several messages at once (``--threads``), but Python runs one thread at a
time: a list being read and a list being matched in the same process share one core.  Reading
is what publishes a supplier's prices (what suppliers and buyers wait for); matching can catch up
a little later.  So while this process reads a list (:func:`reading`, around the read-and-store
part of the parse step), a matching run pauses between its batches (:func:`yield_to_reading`),
never inside one (a batch is a transaction holding row locks), and at most for a bounded time per
batch, so a steady stream of lists never stops matching altogether.

Measured on ``bench/e2e.py`` (2 worker processes, 2 threads each): see the README's benchmark notes.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Iterator

__all__ = ["reading", "yield_to_reading", "readers"]

_active = 0
_changed = threading.Condition()


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """Mark this thread as reading a list for the duration of the block (nests; thread-safe)."""
    global _active
    with _changed:
        _active += 1
    try:
        yield
    finally:
        with _changed:
            _active -= 1
            _changed.notify_all()


def readers() -> int:
    """How many threads of this process are reading a list now."""
    return _active


def yield_to_reading(max_wait: float) -> float:
    """Wait while a thread of this process reads a list, at most ``max_wait`` seconds; returns the
    seconds waited (0.0 at once when nobody reads).  Call it between transactions only."""
    if _active == 0 or max_wait <= 0:
        return 0.0
    started = time.monotonic()
    end = started + max_wait
    with _changed:
        while _active > 0:
            left = end - time.monotonic()
            if left <= 0:
                break
            _changed.wait(left)
    return time.monotonic() - started
