"""The compose file's API proxy (deploy/caddy/Caddyfile) run for real with Debian's caddy:
two API replicas behind one address, the replicas found by a DNS name as compose's DNS
answers `api` (a small DNS server here stands in for it), requests spread over both, and a
replica that is gone skipped, a POST included. Only the listen port, the replicas' port and
the resolver differ from the file compose mounts."""

import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

CADDY = shutil.which("caddy")
pytestmark = pytest.mark.skipif(
    CADDY is None, reason="caddy is not installed (Debian: apt-get install caddy; .ci/run does)"
)
REPLICAS = ("127.0.0.1", "127.0.0.2")  # two addresses, one port: as two containers


def dns_answer(query: bytes, addresses: tuple[str, ...]) -> bytes:
    """A reply to a one-question DNS query: every address for A, nothing for the rest."""
    end = 12
    while query[end]:
        end += query[end] + 1
    question = query[12 : end + 5]
    qtype = struct.unpack("!H", query[end + 1 : end + 3])[0]
    records = [
        struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(a)
        for a in (addresses if qtype == 1 else ())
    ]
    header = query[:2] + struct.pack("!HHHHH", 0x8180, 1, len(records), 0, 0)
    return header + question + b"".join(records)


@pytest.fixture
def dns() -> Iterator[int]:
    """A DNS server on 127.0.0.1 over UDP and TCP (Caddy's resolver asks over TCP) that
    answers every name with both replicas."""
    tcp = socket.create_server(("127.0.0.1", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", tcp.getsockname()[1]))
    for sock in (tcp, udp):
        sock.settimeout(0.2)
    stop = threading.Event()

    def over_udp() -> None:
        while not stop.is_set():
            try:
                query, peer = udp.recvfrom(512)
            except TimeoutError:
                continue
            udp.sendto(dns_answer(query, REPLICAS), peer)

    def over_tcp() -> None:
        while not stop.is_set():
            try:
                conn, _ = tcp.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    while size := conn.recv(2):
                        query = conn.recv(struct.unpack("!H", size)[0])
                        reply = dns_answer(query, REPLICAS)
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
                except OSError:
                    pass

    threads = [threading.Thread(target=f, daemon=True) for f in (over_udp, over_tcp)]
    for thread in threads:
        thread.start()
    yield tcp.getsockname()[1]
    stop.set()
    for thread in threads:
        thread.join()
    tcp.close()
    udp.close()


def replica(host: str, port: int) -> ThreadingHTTPServer:
    class Answer(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            body = f"{host} {self.headers.get('X-Forwarded-For')}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _reply

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def caddyfile(proxy_port: int, replica_port: int, dns_port: int) -> str:
    text = (ROOT / "deploy/caddy/Caddyfile").read_text()
    resolver = f"\n\t\t\tresolvers 127.0.0.1:{dns_port}"
    swaps = {
        ":8000 {": f":{proxy_port} {{",
        "dynamic a api 8000 {": f"dynamic a api {replica_port} {{{resolver}",
    }
    for old, new in swaps.items():
        assert text.count(old) == 1, f"the Caddyfile no longer says {old!r}"
        text = text.replace(old, new)
    return text


def call(port: int, method: str = "GET") -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/ready", method=method, data=None)
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
        return str(answer.read().decode())


def test_the_proxy_spreads_requests_over_every_replica_and_skips_a_gone_one(
    dns: int, tmp_path: Path
) -> None:
    proxy_port, replica_port = free_port(), free_port()
    servers = [replica(host, replica_port) for host in REPLICAS]
    config = tmp_path / "Caddyfile"
    config.write_text(caddyfile(proxy_port, replica_port, dns))
    assert CADDY
    caddy = subprocess.Popen(
        [CADDY, "run", "--adapter", "caddyfile", "--config", str(config)],
        env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
             "XDG_DATA_HOME": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "caddy.log").open("wb"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                first = call(proxy_port)
                break
            except OSError:
                assert caddy.poll() is None, (tmp_path / "caddy.log").read_text()[-2000:]
                assert time.monotonic() < deadline, (tmp_path / "caddy.log").read_text()[-2000:]
                time.sleep(0.2)
        seen = [first] + [call(proxy_port) for _ in range(9)]
        assert {s.split()[0] for s in seen} == set(REPLICAS), seen  # both replicas serve
        assert all(s.split()[1] == "127.0.0.1" for s in seen)  # the client, forwarded

        servers[1].shutdown()
        servers[1].server_close()  # that replica gone: its port refuses connections
        after = [call(proxy_port, "POST" if i % 2 else "GET") for i in range(10)]
        assert {s.split()[0] for s in after} == {REPLICAS[0]}, after
    finally:
        caddy.terminate()
        caddy.wait(10)
        for server in servers:
            server.shutdown()
            server.server_close()
