"""Cleanup of the shared uploads folder (``cleanup_shared_files_task``).

Deletes uploads and their ``.meta.json`` sidecars older than
``FILE_CLEANUP_TTL_HOURS`` (by modification time), never a file of an active
job (file names start with ``{job_id}_``), and removes orphan sidecars whose
file is gone; ``.part`` files of downloads that died are removed once stale.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import attrs

SIDECAR_SUFFIX = ".meta.json"
PART_SUFFIX = ".part"


@attrs.define
class CleanupReport:
    """What a cleanup did (or, with ``dry_run``, would do); sizes in bytes."""

    dry_run: bool
    deleted_files: list[str] = attrs.field(factory=list)
    deleted_sidecars: list[str] = attrs.field(factory=list)
    orphan_sidecars: list[str] = attrs.field(factory=list)
    kept_active: list[str] = attrs.field(factory=list)
    freed_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "deleted_files": len(self.deleted_files),
            "deleted_sidecars": len(self.deleted_sidecars),
            "orphan_sidecars": len(self.orphan_sidecars),
            "kept_active": len(self.kept_active),
            "freed_bytes": self.freed_bytes,
            "files": self.deleted_files[:50],
        }


def _job_of(name: str, active: set[str]) -> str | None:
    for job_id in active:
        if name.startswith(f"{job_id}_"):
            return job_id
    return None


def cleanup_uploads(
    uploads_dir: str | Path, ttl_hours: float, active_jobs: set[str], *, dry_run: bool = False, now: float | None = None
) -> CleanupReport:
    """Clean ``uploads_dir`` as described above; returns the report. A missing folder is an empty one."""
    folder = Path(uploads_dir)
    report = CleanupReport(dry_run=dry_run)
    if not folder.is_dir():
        return report
    cutoff = (now or time.time()) - ttl_hours * 3600

    def remove(path: Path, into: list[str]) -> None:
        try:
            size = path.stat().st_size
            if not dry_run:
                path.unlink()
        except FileNotFoundError:
            return
        into.append(path.name)
        report.freed_bytes += size

    for entry in sorted(folder.iterdir()):
        name = entry.name
        if not entry.is_file() or name.endswith(SIDECAR_SUFFIX):
            continue
        try:
            mtime = entry.stat().st_mtime
        except FileNotFoundError:
            continue
        if mtime >= cutoff:
            continue
        if _job_of(name, active_jobs):
            report.kept_active.append(name)
            continue
        remove(entry, report.deleted_files)
        sidecar = entry.with_name(name + SIDECAR_SUFFIX)
        if sidecar.exists():
            remove(sidecar, report.deleted_sidecars)
    for sidecar in sorted(folder.glob(f"*{SIDECAR_SUFFIX}")):
        target = sidecar.with_name(sidecar.name[: -len(SIDECAR_SUFFIX)])
        if target.exists() or (not dry_run and sidecar.name in report.deleted_sidecars):
            continue
        if sidecar.name in report.deleted_sidecars or _job_of(sidecar.name, active_jobs):
            continue
        remove(sidecar, report.orphan_sidecars)
    return report


