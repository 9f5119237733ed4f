"""Dask clusters for the study: one of our own, or one someone already runs, reached cleanly or not at all.

Our own cluster listens on 127.0.0.1 only, speaks TLS with credentials made for this run alone (so
no other local user can submit work to it), and starts no HTTP server. A scheduler someone runs is
named by a ``tcp://`` or ``tls://`` address; a connection that is refused, silent, not Dask or
malformed ends in one line that says so, within the connect timeout.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass

DEFAULT_CONNECT_TIMEOUT = 5.0
ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(\d{1,5})$")


class ClusterUnavailable(RuntimeError):
    """No usable Dask scheduler: the message is one line that names the address and why."""


@dataclass(frozen=True)
class TlsFiles:
    """Certificate options for a ``tls://`` scheduler: the CA to trust and this client's certificate and key."""

    ca_file: str | None = None
    cert: str | None = None
    key: str | None = None

    def security(self):
        from distributed.security import Security

        return Security(
            tls_ca_file=self.ca_file, tls_client_cert=self.cert, tls_client_key=self.key, require_encryption=True
        )


def local_cluster(workers: int):
    """Single-threaded worker processes on 127.0.0.1, TLS with temporary credentials, no HTTP; named 0, 1, ..."""
    import logging

    from distributed import Nanny, SpecCluster
    from distributed.security import Security

    from greedy.pipeline.nodes import QuietScheduler, QuietWorker

    security = Security.temporary()
    common = {"host": "127.0.0.1", "protocol": "tls://", "security": security, "dashboard": False}
    scheduler = {"cls": QuietScheduler, "options": {**common, "dashboard_address": None, "port": 0}}
    worker = {"cls": Nanny, "options": {**common, "nthreads": 1, "worker_class": QuietWorker}}
    return SpecCluster(
        scheduler=scheduler,
        workers={i: worker for i in range(workers)},
        security=security,
        silence_logs=logging.WARNING,
    )


def check_address(address: str) -> str:
    """A scheduler address must be tcp://HOST:PORT or tls://HOST:PORT."""
    match = ADDRESS.match(address)
    if not match or not 0 < int(match.group(3)) < 65536:
        raise ClusterUnavailable(
            f"--scheduler {address!r} is not an address of a Dask scheduler; expected tcp://HOST:PORT or tls://HOST:PORT"
        )
    return address


def _probe(address: str, timeout: float) -> None:
    """Fail at once, in plain words, where nothing listens or the host is unknown."""
    import socket

    match = ADDRESS.match(address)
    host, port = match.group(2).strip("[]"), int(match.group(3))
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except ConnectionRefusedError:
        raise ClusterUnavailable(f"nothing listens at {address}: the connection was refused") from None
    except socket.gaierror as err:
        raise ClusterUnavailable(f"the host of {address} is unknown: {err.strerror}") from None
    except OSError as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ClusterUnavailable(f"no Dask scheduler answered at {address} within {timeout:g} s: {reason}") from None


def connect(address: str, timeout: float = DEFAULT_CONNECT_TIMEOUT, tls: TlsFiles | None = None):
    """A client of the scheduler at ``address``, or ClusterUnavailable within ``timeout`` seconds (one
    deadline for the probe, Dask's handshake and the wait for an answer)."""
    import time

    deadline = time.monotonic() + timeout
    check_address(address)
    if address.startswith("tls://") and not (tls and tls.ca_file):
        raise ClusterUnavailable(f"--scheduler {address}: a tls:// scheduler needs --tls-ca-file (and usually a cert)")
    _probe(address, timeout)
    from distributed import Client

    security = tls.security() if address.startswith("tls://") and tls else None
    outcome: dict[str, object] = {}

    def make_client() -> None:
        try:
            outcome["client"] = Client(address, timeout=max(0.1, deadline - time.monotonic()), security=security)
        except BaseException as err:  # noqa: BLE001 - reported below, in one line
            outcome["error"] = err

    # Dask's own timeout covers the connection, not a peer that accepts and then never answers.
    attempt = threading.Thread(target=make_client, daemon=True)
    attempt.start()
    attempt.join(max(0.0, deadline - time.monotonic()))
    if "client" in outcome:
        return outcome["client"]
    err = outcome.get("error")
    if err is None:
        raise ClusterUnavailable(
            f"the service at {address} accepted the connection but did not answer within {timeout:g} s"
        )
    if isinstance(err, OSError | TimeoutError | asyncio.TimeoutError):
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ClusterUnavailable(f"no Dask scheduler answered at {address} within {timeout:g} s: {reason}")
    # A service that is not Dask answers with bytes Dask reads as an absurd message length.
    raise ClusterUnavailable(
        f"the service at {address} does not speak Dask's protocol ({type(err).__name__}: {err})"[:300]
    )
