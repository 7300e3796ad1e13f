"""All actors; ``dramatiq ingestion.actors`` runs them and ``periodiq ingestion.actors`` schedules the periodic ones.

The broker is set up first (:mod:`ingestion.broker`), from the environment.
"""

from ingestion.broker import broker
from ingestion.actors.ingest import download_file, ingest, parse_task
from ingestion.actors.jobs import reject_job, release_job, retry_job_task
from ingestion.actors.matching import expire_review_queue_task, match_decision, match_items_task
from ingestion.actors.ml import download_and_trigger_ml, ml_sweep_task, poll_ml_job_status_task
from ingestion.actors.ops import cleanup_shared_files_task, master_sync_task

__all__ = [
    "broker",
    "cleanup_shared_files_task",
    "download_and_trigger_ml",
    "download_file",
    "expire_review_queue_task",
    "ingest",
    "master_sync_task",
    "match_decision",
    "match_items_task",
    "ml_sweep_task",
    "parse_task",
    "poll_ml_job_status_task",
    "reject_job",
    "release_job",
    "retry_job_task",
]
