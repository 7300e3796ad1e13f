"""Logging: JSON lines that carry the current ``job_id`` and ``supplier_id``.

:func:`job_context` sets both for the code it wraps (the actors wrap each
step); a filter adds them to every log record of that thread.
``LOG_FORMAT=json`` (the default for workers, see :func:`configure`) switches
every handler of the root logger to python-json-logger's formatter;
``LOG_FORMAT=text`` keeps Dramatiq's plain lines.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from typing import Iterator

from pythonjsonlogger.json import JsonFormatter

_job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)
_supplier_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("supplier_id", default=None)
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(processName)s %(threadName)s %(message)s"


@contextlib.contextmanager
def job_context(job_id: str | None, supplier_id: str | None = None) -> Iterator[None]:
    """Log records made inside carry ``job_id`` and ``supplier_id``."""
    t1 = _job_id.set(job_id)
    t2 = _supplier_id.set(supplier_id)
    try:
        yield
    finally:
        _job_id.reset(t1)
        _supplier_id.reset(t2)


class JobContextFilter(logging.Filter):
    """Adds ``job_id`` and ``supplier_id`` (or ``None``) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = _job_id.get()
        record.supplier_id = _supplier_id.get()
        return True


def configure(fmt: str | None = None) -> None:
    """Install the job filter on the root handlers and, for ``json``, the JSON formatter."""
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "json").lower()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        if not any(isinstance(f, JobContextFilter) for f in handler.filters):
            handler.addFilter(JobContextFilter())
        if fmt == "json":
            handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "asctime": "time"}))
