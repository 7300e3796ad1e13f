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

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend, StubBackend
from periodiq import PeriodiqMiddleware

from ingestion.settings import Settings, get_settings

#: How long actor results are kept in the results backend (ms).
RESULT_TTL_MS = 24 * 3600 * 1000
#: A periodic message older than this (seconds) is dropped by periodiq; generous so a
#: busy queue does not silently lose a daily run.
PERIODIC_SKIP_DELAY = 3600


def build_broker(settings: Settings) -> dramatiq.Broker:
    """A broker for ``settings``: RabbitMQ + Redis results, or the in-process stub."""
    broker: dramatiq.Broker
    if settings.rabbitmq_url:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=settings.rabbitmq_url)
        backend: StubBackend | RedisBackend = RedisBackend(url=settings.redis_url)
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
        backend = StubBackend()
    broker.add_middleware(Results(backend=backend, result_ttl=RESULT_TTL_MS))  # type: ignore[no-untyped-call]
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(PeriodiqMiddleware(skip_delay=PERIODIC_SKIP_DELAY))  # type: ignore[no-untyped-call]
    return broker


def setup_broker(settings: Settings | None = None) -> dramatiq.Broker:
    """Build the broker for the current settings and make it Dramatiq's global one."""
    broker = build_broker(settings or get_settings())
    dramatiq.set_broker(broker)
    return broker


broker = setup_broker()
