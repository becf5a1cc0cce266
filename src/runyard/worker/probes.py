"""`/healthz`, `/readyz` and `/metrics` of a `runyard worker`, on a port of its own
(`RUNYARD_WORKER_PROBE_PORT`), for supervisors and Prometheus.

A worker serves no HTTP otherwise, so this is a plain standard-library server on a thread:
it answers the same bodies as `runyard serve` does on its own port (docs/operations.md).
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry

from runyard import metrics
from runyard.services.operations import HealthService

log = logging.getLogger(__name__)


class ProbeServer:
    def __init__(
        self,
        host: str,
        port: int,
        health: HealthService,
        registry: CollectorRegistry,
        metrics_token: str | None,
    ) -> None:
        handler = _handler(health, registry, metrics_token)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="runyard-probes", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(
    health: HealthService, registry: CollectorRegistry, metrics_token: str | None
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                self._json(200, {"status": "ok"})
            elif path == "/readyz":
                readiness = health.readiness()
                body = {
                    "status": "ready" if readiness.ready else "not ready",
                    "checks": readiness.checks,
                }
                self._json(200 if readiness.ready else 503, body)
            elif path == "/metrics":
                self._metrics()
            else:
                self._json(404, {"reason": "Not found"})

        def _metrics(self) -> None:
            if metrics_token is not None:
                sent = self.headers.get("Authorization", "")
                if not hmac.compare_digest(sent.encode(), f"Bearer {metrics_token}".encode()):
                    self._json(401, {"reason": "/metrics needs the metrics token"})
                    return
            self._send(200, metrics.CONTENT_TYPE, metrics.exposition(registry))

        def _json(self, status: int, body: object) -> None:
            self._send(status, "application/json", json.dumps(body).encode())

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            # Probes arrive every few seconds: keep them out of the worker's log.
            log.debug("probe: " + format, *args)

    return Handler
