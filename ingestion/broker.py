"""Broker set-up, in one place (DESIGN §2, §6, §8).

* Production (``RABBITMQ_URL`` set): RabbitMQ broker, Results middleware on a
  Redis backend (``REDIS_URL``).
* Embedded local mode and unit tests (no ``RABBITMQ_URL``): Dramatiq's
  in-process ``StubBroker`` with the in-memory results backend; a worker runs in
  the same process.

``ingestion.actors`` imports this module first, so ``dramatiq ingestion.actors``
works with nothing but the environment.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.broker import MessageProxy
from dramatiq.middleware import CurrentMessage, Middleware, SkipMessage
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend, StubBackend
from periodiq import PeriodiqMiddleware

from ingestion.settings import Settings, get_settings

logger = logging.getLogger(__name__)

#: How long actor results are kept in the results backend (ms).
RESULT_TTL_MS = 24 * 3600 * 1000
#: A periodic message older than this (seconds) is dropped by periodiq; generous so a
#: busy queue does not silently lose a daily run.
PERIODIC_SKIP_DELAY = 3600


class WorkerLogging(Middleware):
    """JSON logs with ``job_id``/``supplier_id`` in worker processes (``LOG_FORMAT``, default json)."""

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        if isinstance(broker, StubBroker):  # in-process: the CLI or the tests own the logging
            return
        from ingestion.logs import configure

        configure()


#: The kwarg that marks a message whose envelope did not have the right shape.
INVALID_ENVELOPE = "__invalid_envelope__"
#: Largest encoded message body accepted (bytes); our messages carry ids and paths, never rows.
MAX_MESSAGE_BYTES = 256 * 1024


class CheckedJSONEncoder(dramatiq.JSONEncoder):
    """Dramatiq's JSON encoding; an envelope whose ``args`` is not a list or ``kwargs`` not an
    object is decoded with empty arguments and marked, so :class:`MessageShape` can reject it
    (Dramatiq itself could not even log such a message)."""

    def decode(self, data: bytes) -> dict[str, Any]:
        message: dict[str, Any] = super().decode(data)
        if isinstance(message, dict) and len(data) > MAX_MESSAGE_BYTES:
            message["args"] = []
            message["kwargs"] = {INVALID_ENVELOPE: f"message of {len(data)} bytes is larger than {MAX_MESSAGE_BYTES}"}
        elif isinstance(message, dict) and not (
            isinstance(message.get("args", []), list) and isinstance(message.get("kwargs", {}), dict)
        ):
            message["args"] = []
            message["kwargs"] = {INVALID_ENVELOPE: "args must be a JSON list and kwargs a JSON object"}
        return message


class FreshDatabaseConnection(Middleware):
    """Before each message, drop a database connection that died (a PostgreSQL restart), so
    a worker thread never keeps failing on a dead connection."""

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        from ingestion.models.db import drop_dead_connection

        drop_dead_connection()


class MessageShape(Middleware):
    """Dead-letter at once a message whose envelope had the wrong shape (see :class:`CheckedJSONEncoder`).

    Such a message cannot reach the actor (calling it would fail the same way on
    every retry), so it is failed without retries and logged with the reason.
    """

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        reason = message.kwargs.get(INVALID_ENVELOPE) if isinstance(message.kwargs, dict) else "kwargs is not an object"
        if reason is None:
            return
        logger.warning("rejected message %s for %s: %s", message.message_id, message.actor_name, reason)
        message.fail()
        raise SkipMessage()


def build_broker(settings: Settings) -> dramatiq.Broker:
    """A broker for ``settings``: RabbitMQ + Redis results, or the in-process stub."""
    broker: dramatiq.Broker
    if settings.rabbitmq_url:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=settings.rabbitmq_url)
        backend: StubBackend | RedisBackend = RedisBackend(url=settings.redis_url)
    else:
        broker = StubBroker()
        backend = StubBackend()
    broker.add_middleware(Results(backend=backend, result_ttl=RESULT_TTL_MS))  # type: ignore[no-untyped-call]
    broker.add_middleware(MessageShape())
    broker.add_middleware(FreshDatabaseConnection())
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(WorkerLogging())
    broker.add_middleware(PeriodiqMiddleware(skip_delay=PERIODIC_SKIP_DELAY))  # type: ignore[no-untyped-call]
    if isinstance(broker, StubBroker):
        broker.emit_after("process_boot")  # starts the time-limit watcher of the in-process worker
    return broker


def setup_broker(settings: Settings | None = None) -> dramatiq.Broker:
    """Build the broker for the current settings and make it Dramatiq's global one."""
    dramatiq.set_encoder(CheckedJSONEncoder())
    broker = build_broker(settings or get_settings())
    dramatiq.set_broker(broker)
    return broker


broker = setup_broker()
