"""All actors; ``dramatiq ingestion.actors`` runs them.

The broker is set up first (:mod:`ingestion.broker`), from the environment.
"""

from ingestion.broker import broker
from ingestion.actors.ingest import download_file, ingest, parse_task

__all__ = ["broker", "download_file", "ingest", "parse_task"]
