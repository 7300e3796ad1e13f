"""Reading before matching: a matching run waits between batches while the process reads a list."""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

from ingestion import priority


@contextlib.contextmanager
def a_list_being_read() -> Iterator[None]:
    """Another thread reads a list for as long as the block runs."""
    started, finish = threading.Event(), threading.Event()

    def read() -> None:
        with priority.reading():
            started.set()
            finish.wait(30)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert started.wait(10)
        yield
    finally:
        finish.set()
        reader.join(10)


def test_nobody_reading_means_no_wait() -> None:
    assert priority.readers() == 0
    assert priority.yield_to_reading(30.0) == 0.0


def test_a_run_waits_until_the_reading_ends() -> None:
    waited: list[float] = []
    with a_list_being_read():
        assert priority.readers() == 1
        matcher = threading.Thread(target=lambda: waited.append(priority.yield_to_reading(60.0)))
        matcher.start()
        matcher.join(0.2)
        assert matcher.is_alive(), "the matching run went on while a list was being read"
    matcher.join(10)
    assert not matcher.is_alive() and waited and waited[0] > 0
    assert priority.readers() == 0


def test_the_wait_is_bounded_so_matching_never_stops_for_good() -> None:
    with a_list_being_read():
        done = threading.Event()
        threading.Thread(target=lambda: (priority.yield_to_reading(0.05), done.set())).start()
        assert done.wait(20), "a bounded wait did not end while the reading went on"
        assert priority.readers() == 1


def test_a_failed_read_still_ends_the_wait() -> None:
    try:
        with priority.reading():
            assert priority.readers() == 1
            raise ValueError("unreadable")
    except ValueError:
        pass
    assert priority.readers() == 0
