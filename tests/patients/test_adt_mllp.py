"""The MLLP listener on a real socket (127.0.0.1): size limit, idle timeout, connection cap, TLS,
and every malformed frame answered or closed; plus the framer alone on awkward chunkings."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.errors import ConfigurationError
from pipeline.patients.adt import AdtProcessor
from pipeline.patients.index import resolve
from pipeline.patients.mllp import BadFrame, Frame, ListenerConfig, MllpFramer, serve, tls_context
from pipeline.patients.tables import AdtMessage

pytestmark = pytest.mark.integration

PID = "PID|1||{mrn}^^^HOSP^MR||REYES^ANA||19851224|F"


def msg(control: str, mrn: str = "30000001", *, pad: int = 0) -> bytes:
    lines = [f"MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301120000||ADT^A04|{control}|P|2.5",
             "EVN|A04|20260301120000", PID.format(mrn=mrn)]
    if pad:
        lines.append("NTE|1||" + "x" * pad)
    return "\r".join(lines).encode()


def framed(payload: bytes) -> bytes:
    return b"\x0b" + payload + b"\x1c\x0d"


class Listener:
    """`serve` on its own event loop in a thread; `stop()` ends it the way Ctrl-C would."""

    def __init__(self, engine, config: ListenerConfig) -> None:
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(engine, config), daemon=True)

    def _run(self, engine, config: ListenerConfig) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._loop.set_exception_handler(lambda _loop, context: self.errors.append(
                context.get("exception") or RuntimeError(context["message"])))
            self._stop = asyncio.Event()

            def started(port: int) -> None:
                self.port = port
                self._ready.set()

            await serve(AdtProcessor(engine), "127.0.0.1", 0, config, started=started, stop=self._stop)

        asyncio.run(main())

    def start(self) -> Listener:
        self._thread.start()
        assert self._ready.wait(10), "listener did not start"
        return self

    def stop(self) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive()


@contextmanager
def listening(engine, **config) -> Iterator[Listener]:
    listener = Listener(engine, ListenerConfig(**config)).start()
    try:
        yield listener
    finally:
        listener.stop()
    assert listener.errors == []  # no task died with an unhandled error


def read_answer(sock: socket.socket) -> str:
    """One framed answer; "" when the listener closed the connection instead."""
    data = b""
    while not data.endswith(b"\x1c\x0d"):
        chunk = sock.recv(65536)
        if not chunk:
            return ""
        data += chunk
    assert data.startswith(b"\x0b")
    return data[1:-2].decode()


def read_answer_or_reset(sock: socket.socket) -> str:
    try:
        return read_answer(sock)
    except ConnectionResetError:
        return ""


def closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


# ------------------------------------------------------------------------------------ framer


def test_framer_finds_frames_split_anywhere() -> None:
    stream = framed(b"MSH|one") + b"\r\n" + framed(b"MSH|tw\x1co")  # a lone 0x1C is content
    for size in (1, 2, 3, 7, len(stream)):
        framer = MllpFramer(100)
        events = [e for i in range(0, len(stream), size) for e in framer.feed(stream[i:i + size])]
        assert events == [Frame(b"MSH|one"), Frame(b"MSH|tw\x1co")], size
        assert not framer.in_frame


def test_framer_counts_an_oversized_message_without_keeping_it() -> None:
    framer = MllpFramer(10)
    events = framer.feed(b"\x0bMSH|" + b"y" * 100_000)
    events += framer.feed(b"z" * 100_000 + b"\x1c\x0d" + framed(b"MSH|ok"))
    assert isinstance(events[0], BadFrame) and not events[0].close
    assert "200004 bytes, over the limit of 10" in events[0].reason and events[0].head.startswith(b"MSH|")
    assert len(events[0].head) <= 4096 and len(framer._buffer) == 0
    assert events[1] == Frame(b"MSH|ok")


def test_framer_reports_a_cut_message_and_bytes_outside_a_frame() -> None:
    framer = MllpFramer(100)
    events = framer.feed(b"\x0bMSH|cut\x0bMSH|whole\x1c\x0d")
    assert events[0] == BadFrame(events[0].reason, b"MSH|cut") and "cut short" in events[0].reason
    assert events[1] == Frame(b"MSH|whole")
    events = MllpFramer(100).feed(b"GET / HTTP/1.1\r\n\r\n")
    assert len(events) == 1 and events[0].close and "outside an MLLP block" in events[0].reason


# ------------------------------------------------------------------------------ real socket


def test_a_message_over_the_limit_gets_a_nak_and_the_connection_stays(engine) -> None:
    with listening(engine, max_message_bytes=64 * 1024) as listener, \
            socket.create_connection(("127.0.0.1", listener.port), timeout=10) as sock:
        sock.sendall(framed(msg("BIG1", pad=200 * 1024)))
        nak = read_answer(sock)
        sock.sendall(framed(msg("SMALL1")))
        ack = read_answer(sock)
    assert "MSA|AR|BIG1|" in nak and "over the limit of 65536" in nak and "ERR|" in nak
    assert "MSA|AA|SMALL1" in ack
    with engine.connect() as conn:
        assert resolve(conn, "30000001") is not None
        assert conn.execute(select(AdtMessage.control_id)).scalars().all() == ["SMALL1"]


def test_the_default_limit_takes_messages_over_64_kib(engine) -> None:
    with listening(engine) as listener, socket.create_connection(("127.0.0.1", listener.port), timeout=10) as sock:
        sock.sendall(framed(msg("MID1", pad=300 * 1024)))
        assert "MSA|AA|MID1" in read_answer(sock)


@pytest.mark.parametrize(("stream", "answer", "closes"), [
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "outside an MLLP block", True),
    (b"\x0b" + msg("CUT1")[:40] + framed(msg("NEXT1")), "cut short", False),
    (framed(b"\xff\xfe garbage \x00"), "cannot be parsed", False),
    (framed(b""), "cannot be parsed", False),
    (framed(b"MSH|^~\\&|A|B|C|D|2026||ADT^A04|" + b"9" * 80 + b"|P|2.5\rPID|1||1^^^H^MR||X^Y"),
     "MSH-10 control id is longer than 64", False),
])
def test_every_malformed_frame_is_answered_or_closed(engine, stream: bytes, answer: str, closes: bool) -> None:
    with listening(engine) as listener, socket.create_connection(("127.0.0.1", listener.port), timeout=10) as sock:
        sock.sendall(stream)
        first = read_answer(sock)
        assert answer in first and ("MSA|AR|" in first)
        if closes:
            assert closed_by_peer(sock)
        elif b"NEXT1" in stream:
            assert "MSA|AA|NEXT1" in read_answer(sock)
        else:  # the connection still takes messages
            sock.sendall(framed(msg("AFTER1")))
            assert "MSA|AA|AFTER1" in read_answer(sock)


def test_an_idle_connection_is_closed(engine, caplog) -> None:
    caplog.set_level(logging.INFO, logger="pipeline.patients.mllp")
    with listening(engine, idle_timeout=0.3) as listener, \
            socket.create_connection(("127.0.0.1", listener.port), timeout=10) as sock:
        sock.sendall(b"\x0b" + msg("HALF1")[:30])  # half a message, then silence
        assert read_answer(sock) == ""
    assert any("idle for 0.3s" in r.getMessage() for r in caplog.records)


def test_connections_beyond_the_cap_are_closed_and_the_others_served(engine) -> None:
    with listening(engine, max_connections=2) as listener:
        first = socket.create_connection(("127.0.0.1", listener.port), timeout=10)
        second = socket.create_connection(("127.0.0.1", listener.port), timeout=10)
        try:
            first.sendall(framed(msg("CAP1")))  # both are surely accepted before the third
            second.sendall(framed(msg("CAP2", "30000002")))
            assert "MSA|AA|CAP1" in read_answer(first) and "MSA|AA|CAP2" in read_answer(second)
            with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as third:
                assert closed_by_peer(third)
            first.close()  # a place frees up once the listener has seen it close: poll with a deadline
            deadline, answer = time.monotonic() + 10, ""
            while not answer and time.monotonic() < deadline:
                with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as again:
                    again.sendall(framed(msg("CAP3", "30000003")))
                    answer = read_answer_or_reset(again)
                time.sleep(0 if answer else 0.05)  # polling interval
            assert "MSA|AA|CAP3" in answer
        finally:
            first.close()
            second.close()


def test_a_sender_that_vanishes_mid_message_leaves_the_listener_serving(engine) -> None:
    with listening(engine) as listener:
        with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as sock:
            sock.sendall(b"\x0b" + msg("GONE1")[:50])
        with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as sock:
            sock.sendall(framed(msg("STAY1")))
            assert "MSA|AA|STAY1" in read_answer(sock)


# ---------------------------------------------------------------------------------------- TLS


def _self_signed(folder: Path, name: str, issuer: tuple | None = None) -> tuple[Path, Path, tuple]:
    """A certificate for 127.0.0.1 made here with `cryptography` (signed by `issuer`, else by itself)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    sign_key, sign_name = (issuer[0], issuer[1]) if issuer else (key, subject)
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(sign_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
            .sign(sign_key, hashes.SHA256()))
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path, (key, subject)


def test_tls_listener_answers_over_tls_and_refuses_plain_tcp(engine, tmp_path: Path) -> None:
    cert, key, _ = _self_signed(tmp_path, "listener")
    client = ssl.create_default_context(cafile=str(cert))
    with listening(engine, tls=tls_context(cert, key)) as listener:
        with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as raw, \
                client.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            assert sock.version() in ("TLSv1.2", "TLSv1.3")
            sock.sendall(framed(msg("TLS1")))
            assert "MSA|AA|TLS1" in read_answer(sock)
        with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as plain:
            plain.sendall(framed(msg("PLAIN1")))  # not a TLS handshake: no ACK, the connection ends
            assert read_answer(plain) == ""
    with engine.connect() as conn:
        assert conn.execute(select(AdtMessage.control_id)).scalars().all() == ["TLS1"]


def test_tls_with_a_client_ca_requires_a_signed_client_certificate(engine, tmp_path: Path) -> None:
    server_cert, server_key, _ = _self_signed(tmp_path, "listener")
    ca_cert, _, ca = _self_signed(tmp_path, "sender-ca")
    sender_cert, sender_key, _ = _self_signed(tmp_path, "sender", issuer=ca)
    with listening(engine, tls=tls_context(server_cert, server_key, ca_cert)) as listener:
        good = ssl.create_default_context(cafile=str(server_cert))
        good.load_cert_chain(sender_cert, sender_key)
        with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as raw, \
                good.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            sock.sendall(framed(msg("MTLS1")))
            assert "MSA|AA|MTLS1" in read_answer(sock)
        anonymous = ssl.create_default_context(cafile=str(server_cert))
        with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as raw:
            with pytest.raises((ssl.SSLError, ConnectionError)):
                with anonymous.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
                    sock.sendall(framed(msg("ANON1")))
                    if read_answer(sock) == "":  # TLS 1.3 reports the refusal on the first read
                        raise ConnectionResetError("closed")


def test_tls_settings_problems_are_reported_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        tls_context(tmp_path / "cert.pem", None, tmp_path / "ca.pem")
    assert len(info.value.problems) == 1 and "set both or neither" in info.value.problems[0]
    with pytest.raises(ConfigurationError) as info:
        tls_context(None, None, tmp_path / "ca.pem")
    assert "needs adt_tls_cert" in str(info.value)
    (tmp_path / "cert.pem").write_text("not a certificate")
    (tmp_path / "key.pem").write_text("not a key")
    with pytest.raises(ConfigurationError, match="cannot be loaded"):
        tls_context(tmp_path / "cert.pem", tmp_path / "key.pem")
    assert tls_context(None, None) is None


def test_adt_listen_with_half_the_tls_settings_exits_2_naming_them(tmp_path: Path, monkeypatch, capsys) -> None:
    from pipeline.cli import main

    monkeypatch.setenv("PIPELINE_ADT_TLS_CERT", str(tmp_path / "cert.pem"))
    assert main(["--home", str(tmp_path), "adt", "listen", "--port", "0"]) == 2
    assert "adt_tls_key (PIPELINE_ADT_TLS_KEY)" in capsys.readouterr().err
    monkeypatch.delenv("PIPELINE_ADT_TLS_CERT")
    monkeypatch.setenv("PIPELINE_ADT_MAX_MESSAGE_BYTES", "0")
    assert main(["--home", str(tmp_path), "adt", "listen", "--port", "0"]) == 2
    assert "adt_max_message_bytes (PIPELINE_ADT_MAX_MESSAGE_BYTES): Value error, must be 1 or more" in \
        capsys.readouterr().err


def test_stopping_closes_open_connections_cleanly(engine) -> None:
    listener = Listener(engine, ListenerConfig()).start()
    with socket.create_connection(("127.0.0.1", listener.port), timeout=10) as sock:
        sock.sendall(framed(msg("OPEN1")))
        assert "MSA|AA|OPEN1" in read_answer(sock)
        listener.stop()  # Ctrl-C with a sender still connected
        assert closed_by_peer(sock)
    assert listener.errors == []


def test_adt_listen_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listener = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "--home", str(tmp_path), "adt", "listen",
                                 "--port", str(port)], env=dict(os.environ), stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while (sock := _try_connect(port)) is None:
            assert listener.poll() is None and time.monotonic() < deadline, "listener did not start"
            time.sleep(0.1)  # polling interval
        with sock:
            sock.sendall(framed(msg("TERM1")))
            assert "MSA|AA|TERM1" in read_answer(sock)
            listener.send_signal(signal.SIGTERM)
            assert closed_by_peer(sock)
        _, err = listener.communicate(timeout=30)
    finally:
        listener.kill()
    assert listener.returncode == 0 and "MLLP listener stopped" in err and "Traceback" not in err


def _try_connect(port: int) -> socket.socket | None:
    try:
        return socket.create_connection(("127.0.0.1", port), timeout=10)
    except ConnectionRefusedError:
        return None
