"""Dask clusters: ours speaks TLS on loopback with no HTTP server; unusable schedulers fail in one line."""

import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from greedy.pipeline.cluster import ClusterUnavailable, connect, local_cluster

ROOT = Path(__file__).resolve().parents[1]


def _server(answer: bytes | None) -> int:
    """A local TCP service that accepts and then sends ``answer`` (None: says nothing, keeps the line open)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            if answer:
                conn.sendall(answer)
            threading.Timer(30, conn.close).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("refused", "nothing listens at tcp://127.0.0.1:.*refused"),
        ("silent", "accepted the connection but did not answer"),
        ("not dask", "does not speak Dask's protocol"),
        ("malformed", "is not an address of a Dask scheduler; expected tcp://HOST:PORT"),
        ("tls without a CA", "needs --tls-ca-file"),
    ],
)
def test_an_unusable_scheduler_fails_in_one_line_within_the_timeout(kind, message):
    address = {
        "refused": lambda: f"tcp://127.0.0.1:{_free_port()}",
        "silent": lambda: f"tcp://127.0.0.1:{_server(None)}",
        "not dask": lambda: f"tcp://127.0.0.1:{_server(b'HTTP/1.1 400 Bad Request' + bytes(64) * 4)}",
        "malformed": lambda: "notaurl",
        "tls without a CA": lambda: "tls://127.0.0.1:9",
    }[kind]()
    start = time.perf_counter()
    with pytest.raises(ClusterUnavailable, match=message) as err:
        connect(address, timeout=2)
    # One deadline for everything (1.5 s of slack for a loaded machine): a 2 s timeout is not 3.5 s.
    assert "\n" not in str(err.value) and time.perf_counter() - start < 2 + 1.5


def test_the_command_line_reports_an_unusable_scheduler_without_a_traceback():
    out = subprocess.run(
        [sys.executable, "-m", "greedy", "run", "problem", "--force", "--root", str(ROOT)]
        + ["--scheduler", f"tcp://127.0.0.1:{_free_port()}", "--connect-timeout", "2"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("greedy: error: nothing listens at")


def _answers_http(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as conn:
        conn.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        conn.settimeout(3)
        try:
            return conn.recv(5) == b"HTTP/"
        except (TimeoutError, ConnectionError):
            return False


def _listening() -> set[tuple[str, int]]:
    me = psutil.Process()
    return {
        (c.laddr.ip, c.laddr.port)
        for p in [me, *me.children(recursive=True)]
        for c in p.net_connections("inet")
        if c.status == psutil.CONN_LISTEN
    }


def test_our_cluster_speaks_tls_on_loopback_only_and_serves_no_http():
    from distributed import Client

    before = _listening()  # other tests' services in this process
    cluster = local_cluster(2)
    try:
        assert cluster.scheduler_address.startswith("tls://127.0.0.1:")
        with Client(cluster) as client:
            assert client.submit(sum, [1, 2]).result() == 3
            assert sorted(w["name"] for w in client.scheduler_info()["workers"].values()) == [0, 1]
        ours = _listening() - before  # the scheduler, the nannies and the workers
        assert len(ours) >= 5 and all(ip == "127.0.0.1" for ip, _ in ours)
        assert not any(_answers_http(port) for _, port in ours)
        # Without this run's credentials no one gets in: not in plain TCP, not with a certificate of their own.
        with pytest.raises(ClusterUnavailable, match="does not speak|did not answer|no Dask scheduler"):
            connect(cluster.scheduler_address.replace("tls://", "tcp://"), timeout=2)
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        port = int(cluster.scheduler_address.rsplit(":", 1)[1])
        with pytest.raises((ssl.SSLError, ConnectionError)):
            with socket.create_connection(("127.0.0.1", port), timeout=3) as raw:
                with context.wrap_socket(raw) as tls:
                    tls.sendall(b"x")
                    tls.recv(1)
    finally:
        cluster.close()


def test_a_tls_scheduler_is_reached_with_certificate_files(tmp_path):
    """--tls-ca-file, --tls-cert and --tls-key: the client's side of a scheduler that speaks TLS."""
    from greedy.pipeline.cluster import TlsFiles

    cluster = local_cluster(1)
    try:
        security = cluster.security
        files = {}
        for name, pem in (("ca", security.tls_ca_file), ("cert", security.tls_client_cert)):
            files[name] = tmp_path / f"{name}.pem"
            files[name].write_text(pem)
        files["key"] = tmp_path / "key.pem"
        files["key"].write_text(security.tls_client_key)
        tls = TlsFiles(str(files["ca"]), str(files["cert"]), str(files["key"]))
        client = connect(cluster.scheduler_address, timeout=5, tls=tls)
        try:
            assert client.submit(sum, [2, 3]).result() == 5
        finally:
            client.close()
        with pytest.raises(ClusterUnavailable, match="needs --tls-ca-file"):
            connect(cluster.scheduler_address, timeout=2)
    finally:
        cluster.close()
