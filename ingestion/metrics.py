"""The service's own Prometheus metrics, beside Dramatiq's (``dramatiq_messages_total`` …).

Exported by Dramatiq's Prometheus middleware (``dramatiq_prom_host``,
``dramatiq_prom_port``; default port 9191) from every worker process.  The
metrics are created on first use, after Dramatiq has switched
``prometheus_client`` to its multiprocess mode in the worker.

* ``ingestion_job_phase_total{phase}`` — jobs entering a phase (``complete``,
  ``failed`` … count outcomes);
* ``ingestion_rows_total{kind}`` — rows ``read``, items ``stored``, rows ``failed``;
* ``ingestion_download_bytes_total`` — bytes downloaded;
* ``ingestion_ml_polls_total{result}`` — ml-analyze status polls by answer
  (``pending``, ``processing``, ``completed``, ``failed``, ``unknown``, ``unavailable``);
* ``ingestion_match_decisions_total{decision}`` — ``auto``, ``review``, ``new``;
* ``ingestion_parse_seconds{file_type}`` — time to read and store one file.
"""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

logger = logging.getLogger(__name__)


_lock = threading.Lock()


def _metrics() -> dict[str, Any] | None:
    """The metrics, made once per process (worker threads may race here)."""
    with _lock:
        return _make()


@functools.cache
def _make() -> dict[str, Any] | None:
    try:
        import prometheus_client as prom
    except ImportError:  # metrics are optional in the embedded mode
        return None
    return {
        "phase": prom.Counter("ingestion_job_phase", "Jobs entering a phase.", ["phase"]),
        "rows": prom.Counter("ingestion_rows", "Rows read, items stored, rows failed.", ["kind"]),
        "download": prom.Counter("ingestion_download_bytes", "Bytes downloaded."),
        "ml": prom.Counter("ingestion_ml_polls", "ml-analyze status polls by answer.", ["result"]),
        "match": prom.Counter("ingestion_match_decisions", "Matching decisions.", ["decision"]),
        "parse": prom.Histogram(
            "ingestion_parse_seconds", "Time to read and store one file.", ["file_type"],
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1500),
        ),
    }


def _inc(name: str, amount: float = 1, **labels: str) -> None:
    if amount <= 0:
        return
    m = _metrics()
    if m is None:
        return
    try:
        metric = m[name].labels(**labels) if labels else m[name]
        metric.inc(amount)
    except Exception:  # a metric must never break a job
        logger.debug("metric %s not recorded", name, exc_info=True)


def phase(name: str) -> None:
    _inc("phase", phase=name)


def rows(read: int = 0, stored: int = 0, failed: int = 0) -> None:
    _inc("rows", read, kind="read")
    _inc("rows", stored, kind="stored")
    _inc("rows", failed, kind="failed")


def download_bytes(n: int) -> None:
    _inc("download", n)


def ml_poll(result: str) -> None:
    _inc("ml", result=result)


def match_decisions(auto: int, review: int, new: int) -> None:
    _inc("match", auto, decision="auto")
    _inc("match", review, decision="review")
    _inc("match", new, decision="new")


def parse_seconds(file_type: str, seconds: float) -> None:
    m = _metrics()
    if m is not None:
        try:
            m["parse"].labels(file_type=file_type).observe(seconds)
        except Exception:
            logger.debug("parse time not recorded", exc_info=True)
