"""The remote hook's HTTP link (http.client, one keep-alive connection) against a real server."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from collector._sidecar._errors import SidecarUrlError
from collector._sidecar._poster import Poster
from collector.errors import ConfigError

from ._procs import free_port


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn
    seen: ClassVar[list[tuple[str, str, bytes, int]]] = []
    close_after_answer = False

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.path, self.headers.get("Authorization", ""), body, self.client_address[1]))
        status = 200 if self.path.endswith("/ok") else 422
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
        if self.close_after_answer:
            # Like a server whose keep-alive timer ran out: the client learns only on its next request.
            self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"seen": [], "close_after_answer": False})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


def test_posts_keep_one_connection_and_carry_the_path_prefix_and_token(server: tuple[str, type[Recorder]]) -> None:
    url, handler = server
    poster = Poster(url + "/audit/", {"Authorization": "Bearer t0k"}, timeout=5)
    assert poster.post("/ok", [b"o", memoryview(b"ne")]) == (200, "")
    assert poster.post("/refuse", [b"two"]) == (422, "")
    assert [(p, a, b) for p, a, b, _ in handler.seen] == [
        ("/audit/ok", "Bearer t0k", b"one"),
        ("/audit/refuse", "Bearer t0k", b"two"),
    ]
    assert handler.seen[0][3] == handler.seen[1][3]  # same client port: the connection was kept
    poster.close()


def test_a_connection_the_server_closed_is_replaced_and_the_request_sent_once(
    server: tuple[str, type[Recorder]],
) -> None:
    url, handler = server
    handler.close_after_answer = True
    poster = Poster(url, {}, timeout=5)
    for n in range(3):
        assert poster.post("/ok", [b"%d" % n]) == (200, "")
    assert [b for _, _, b, _ in handler.seen] == [b"0", b"1", b"2"]
    assert len({port for *_, port in handler.seen}) == 3


def test_an_idle_connection_is_replaced_before_use(
    server: tuple[str, type[Recorder]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn drops keep-alive connections idle for 5 s: one idle past the bound is not reused.
    import collector._sidecar._poster as poster_module

    url, handler = server
    poster = Poster(url, {}, timeout=5)
    monkeypatch.setattr(poster_module, "_IDLE_REUSE_S", 0.0)
    for n in range(2):
        assert poster.post("/ok", [b"%d" % n]) == (200, "")
    assert handler.seen[0][3] != handler.seen[1][3]


def test_an_unreachable_sidecar_is_a_status_0_with_the_reason_never_an_exception() -> None:
    poster = Poster(f"http://127.0.0.1:{free_port()}", {}, timeout=2)
    assert poster.post("/ok", [b"x"]) == (0, "ConnectionRefusedError")
    assert poster.post("/ok", [b"x"]) == (0, "ConnectionRefusedError")


@pytest.mark.parametrize("url", ["127.0.0.1:8700", "ftp://host", "http://", "http://host:99999"])
def test_a_bad_sidecar_url_is_a_clear_error(url: str) -> None:
    with pytest.raises(ConfigError, match="AUDIT_SIDECAR_URL") as raised:
        Poster(url, {}, timeout=1)
    assert isinstance(raised.value, SidecarUrlError)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "audit-sidecar-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_https_verifies_the_sidecar_against_ssl_cert_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert_path, key_path = _self_signed(tmp_path)
    handler = type("Handler", (Recorder,), {"seen": [], "close_after_answer": False})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{httpd.server_address[1]}"
    try:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        assert Poster(url, {}, timeout=5).post("/ok", [b"x"]) == (0, "SSLCertVerificationError")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
        assert Poster(url, {}, timeout=5).post("/ok", [b"secure"]) == (200, "")
        assert [b for _, _, b, _ in handler.seen] == [b"secure"]
    finally:
        httpd.shutdown()
        httpd.server_close()
