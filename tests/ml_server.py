"""A small real HTTP server that speaks the ml-analyze contract (DESIGN §3), for tests.

``FakeML.health`` is the /health answer (or an int HTTP status); each ML job
walks through the status documents queued in ``FakeML.script`` (the last one
repeats); ``FakeML.requests`` records every POST body.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from typing import Any


class FakeML:
    def __init__(self) -> None:
        self.health: str | int = "healthy"
        self.trigger_status = 202
        self.script: list[dict[str, Any]] = [{"status": "completed", "progress_percentage": 100,
                                              "items_processed": 10, "items_total": 10}]
        self.jobs: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []
        self.delay = 0.0
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if fake.delay:
                    time.sleep(fake.delay)
                if self.path == "/health":
                    if isinstance(fake.health, int):
                        self._send(fake.health, {"detail": "down"})
                    else:
                        self._send(200, {"status": fake.health})
                    return
                if self.path.startswith("/analyze/status/"):
                    job_id = self.path.rsplit("/", 1)[-1]
                    steps = fake.jobs.get(job_id)
                    if steps is None:
                        self._send(404, {"detail": "unknown job"})
                        return
                    doc = steps.pop(0) if len(steps) > 1 else steps[0]
                    self._send(200, {"job_id": job_id, "errors": [], **doc})
                    return
                self._send(404, {"detail": "no route"})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                if fake.trigger_status != 202:
                    self._send(fake.trigger_status, {"detail": "refused"})
                    return
                job_id = uuid.uuid4().hex
                fake.jobs[job_id] = [dict(s) for s in fake.script]
                self._send(202, {"job_id": job_id, "status": "pending", "message": "queued"})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
