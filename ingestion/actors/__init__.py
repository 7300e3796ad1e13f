"""All actors; ``dramatiq ingestion.actors`` runs them.

The broker is set up first (:mod:`ingestion.broker`), from the environment.
"""

from ingestion.broker import broker
from ingestion.actors.ingest import download_file, ingest, parse_task
from ingestion.actors.matching import expire_review_queue_task, match_decision, match_items_task

__all__ = [
    "broker",
    "download_file",
    "expire_review_queue_task",
    "ingest",
    "match_decision",
    "match_items_task",
    "parse_task",
]
