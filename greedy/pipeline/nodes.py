"""Dask's scheduler and worker without the HTTP server each starts (metrics, health and dashboard routes):
the study's own cluster talks TLS on 127.0.0.1 and nothing else."""

from __future__ import annotations

from distributed import Scheduler, Worker


class _NoHttpServer:
    """Dask starts an HTTP server (metrics, health, dashboard routes) in every scheduler and worker."""

    def start_http_server(self, routes, dashboard_address, default_port=0, ssl_options=None) -> None:
        from distributed.http.routing import RoutingApplication

        self.http_application = RoutingApplication([])  # what closing the node walks; nothing listens


class QuietScheduler(_NoHttpServer, Scheduler):
    """A scheduler without an HTTP server."""


class QuietWorker(_NoHttpServer, Worker):
    """A worker without an HTTP server."""
