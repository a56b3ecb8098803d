"""The MLLP listener for the ADT feed: HL7 v2 messages framed as 0x0B message 0x1C 0x0D over TCP or TLS.

Every message framed right gets an ACK from `AdtProcessor`. What cannot be read is answered or
closed, never left hanging:
    a message over `adt_max_message_bytes`   NAK (AR) with the reason, once its end arrives; the
                                             connection stays (its bytes are counted, not kept)
    a new 0x0B before the end of a message   NAK (AR) for the cut message; the new one is read
    bytes outside a frame                    NAK (AR), then the connection is closed (the sender
                                             does not speak MLLP, or lost the framing)
    no byte for `adt_idle_timeout` seconds   the connection is closed
    more than `adt_max_connections` at once  the new connection is closed at once
    a failure inside the listener            NAK (AE, resend later); the connection stays
`MllpFramer` turns bytes into frames and knows nothing of sockets, so it is tested and fuzzed alone.
(The `hl7` package's MLLP reader is not used: over its limit it raises ValueError and drops its
buffer in the middle of a message, so the rest arrives as a broken frame and the sender gets no answer.)
With `adt_tls_cert` and `adt_tls_key` the listener speaks TLS (1.2 or newer); with
`adt_tls_client_ca` it also requires a client certificate signed by that CA.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigurationError
from pipeline.patients.adt import AdtProcessor, reject_unread
from pipeline.settings import Settings

log = logging.getLogger(__name__)

START = b"\x0b"
END = b"\x1c\x0d"
HEAD_BYTES = 4096  # of a message not read whole, what is kept to address the NAK to its MSH
READ_CHUNK = 1 << 16
_MARK = re.compile(rb"[\x0b\x1c]")
_BETWEEN_FRAMES = b"\r\n\t \x00"  # tolerated between frames (some senders end a frame with CR LF)
_NO_FRAMING = str.maketrans("", "", "\x0b\x1c")  # never inside an answer, whatever the message held

NOT_FRAMED = "data outside an MLLP block; frame each message as 0x0B message 0x1C 0x0D"
CUT_SHORT = "message cut short: a new start block (0x0B) came before its end (0x1C 0x0D); send it again"


@dataclass(frozen=True, slots=True)
class Frame:
    payload: bytes


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame not handed on: answered with a NAK carrying `reason`; `close` ends the connection after it."""

    reason: str
    head: bytes
    close: bool = False


class MllpFramer:
    """Bytes in (any chunking), frames out. Memory stays under `max_bytes` + `HEAD_BYTES` per connection."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._inside = False
        self._buffer = bytearray()
        self._size = 0
        self._oversized = False
        self._end_pending = False  # the last chunk ended with 0x1C
        self._closed = False

    @property
    def in_frame(self) -> bool:
        return self._inside

    def feed(self, data: bytes) -> list[Frame | BadFrame]:
        events: list[Frame | BadFrame] = []
        i, n = 0, len(data)
        while i < n and not self._closed:
            if not self._inside:
                start = data.find(START, i)
                junk = data[i:n if start < 0 else start]
                if junk.strip(_BETWEEN_FRAMES):
                    self._closed = True
                    events.append(BadFrame(NOT_FRAMED, junk[:HEAD_BYTES], close=True))
                    break
                if start < 0:
                    break
                self._begin()
                i = start + 1
                continue
            if self._end_pending:
                self._end_pending = False
                if data[i:i + 1] == b"\r":
                    events.append(self._finish())
                    i += 1
                    continue
                self._take(b"\x1c")  # a lone 0x1C is part of the message
            mark = _MARK.search(data, i)
            stop = mark.start() if mark else n
            self._take(data[i:stop])
            if mark is None:
                break
            i = stop + 1
            if data[stop:stop + 1] == START:
                events.append(BadFrame(CUT_SHORT, self._head()))
                self._begin()
            elif i < n and data[i:i + 1] == b"\r":
                events.append(self._finish())
                i += 1
            elif i < n:
                self._take(b"\x1c")
            else:
                self._end_pending = True
        return events

    def _begin(self) -> None:
        self._inside, self._oversized, self._size = True, False, 0
        self._buffer.clear()

    def _take(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._oversized:
            return
        if self._size > self.max_bytes:
            self._oversized = True
            self._buffer = bytearray((self._buffer + chunk)[:HEAD_BYTES])
            return
        self._buffer += chunk

    def _head(self) -> bytes:
        return bytes(self._buffer[:HEAD_BYTES])

    def _finish(self) -> Frame | BadFrame:
        self._inside = False
        if self._oversized:
            return BadFrame(f"message is {self._size} bytes, over the limit of {self.max_bytes} "
                            "(adt_max_message_bytes); split it or raise the limit", self._head())
        payload = bytes(self._buffer)
        self._buffer.clear()
        return Frame(payload)


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    max_message_bytes: int = 1 << 20
    idle_timeout: float = 300.0
    max_connections: int = 32
    tls: ssl.SSLContext | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ListenerConfig:
        return cls(settings.adt_max_message_bytes, settings.adt_idle_timeout, settings.adt_max_connections,
                   tls_context(settings.adt_tls_cert, settings.adt_tls_key, settings.adt_tls_client_ca))


def tls_context(cert: Path | None, key: Path | None, client_ca: Path | None = None) -> ssl.SSLContext | None:
    """A server TLS context (TLS 1.2+) from PEM files, or None without a certificate; every problem at once."""
    problems = []
    if bool(cert) != bool(key):
        problems.append("adt_tls_cert (PIPELINE_ADT_TLS_CERT) and adt_tls_key (PIPELINE_ADT_TLS_KEY) "
                        "go together: set both or neither")
    if client_ca and not cert:
        problems.append("adt_tls_client_ca (PIPELINE_ADT_TLS_CLIENT_CA) needs adt_tls_cert and adt_tls_key")
    if problems:
        raise ConfigurationError(problems)
    if not cert or not key:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"adt_tls_cert / adt_tls_key ({cert}, {key}): cannot be loaded "
                                 f"({getattr(exc, 'strerror', None) or exc}); give a PEM certificate and "
                                 "its private key") from exc
    if client_ca:
        try:
            context.load_verify_locations(cafile=client_ca)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"adt_tls_client_ca ({client_ca}): cannot be loaded; give a PEM CA "
                                     "bundle") from exc
        context.verify_mode = ssl.CERT_REQUIRED
    return context


async def serve(processor: AdtProcessor, host: str, port: int, config: ListenerConfig | None = None, *,
                started: Callable[[int], None] | None = None, stop: asyncio.Event | None = None) -> None:
    """Answer ADT messages over MLLP until `stop` is set (forever when None).

    `started(port)` is called once listening (port 0 picks a free port)."""
    config = config or ListenerConfig()
    listener = _Listener(processor, config)
    server = await asyncio.start_server(listener.handle, host, port, ssl=config.tls)
    try:
        async with server:
            actual = server.sockets[0].getsockname()[1]
            log.info("MLLP listener on %s:%d (%s, messages up to %d bytes, idle timeout %gs, %d connections)",
                     host, actual, "TLS" if config.tls else "plain TCP", config.max_message_bytes,
                     config.idle_timeout, config.max_connections)
            if started:
                started(actual)
            if stop is None:
                await server.serve_forever()
            else:
                await stop.wait()
    finally:
        await listener.shutdown()


class _Listener:
    def __init__(self, processor: AdtProcessor, config: ListenerConfig) -> None:
        self.processor = processor
        self.config = config
        self.open = 0
        self._conversations: dict[asyncio.Task, asyncio.StreamWriter] = {}

    async def shutdown(self, grace: float = 30.0) -> None:
        """Close every connection and let each finish the message it is applying (its answer is then
        lost with the connection, and the sender resends it: a repeat of an applied one is a duplicate)."""
        for writer in self._conversations.values():
            writer.close()  # the conversation reads end of stream and returns
        if self._conversations:
            await asyncio.wait(list(self._conversations), timeout=grace)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer(writer)
        if self.open >= self.config.max_connections:
            log.warning("MLLP: connection from %s closed: %d connections open (adt_max_connections)",
                        peer, self.open)
            await _close(writer)
            return
        self.open += 1
        task = asyncio.current_task()
        if task is not None:
            self._conversations[task] = writer
        try:
            await self._converse(reader, writer, peer)
        except (ConnectionError, ssl.SSLError) as exc:
            log.info("MLLP: connection from %s lost (%s)", peer, type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - the listener's edge: one connection, never the task
            log.error("MLLP: connection from %s ended by an internal error (%s)", peer, type(exc).__name__)
            log.debug("MLLP internal error", exc_info=True)
        finally:
            self.open -= 1
            self._conversations.pop(task, None)  # type: ignore[arg-type]
            await _close(writer)

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> None:
        framer = MllpFramer(self.config.max_message_bytes)
        while True:
            try:
                data = await asyncio.wait_for(reader.read(READ_CHUNK), self.config.idle_timeout)
            except TimeoutError:
                log.info("MLLP: connection from %s idle for %gs (adt_idle_timeout); closed",
                         peer, self.config.idle_timeout)
                return
            if not data:
                if framer.in_frame:
                    log.warning("MLLP: connection from %s closed in the middle of a message", peer)
                return
            for event in framer.feed(data):
                answer = (await self._answer(event, peer)).translate(_NO_FRAMING)
                writer.write(START + answer.encode("utf-8") + END)
                await writer.drain()
                if isinstance(event, BadFrame) and event.close:
                    return

    async def _answer(self, event: Frame | BadFrame, peer: str) -> str:
        if isinstance(event, BadFrame):
            log.warning("MLLP: from %s: %s", peer, event.reason)
            return reject_unread(event.head, event.reason)
        text = event.payload.decode("utf-8", errors="replace")
        try:
            outcome = await asyncio.to_thread(self.processor.apply, text)
        except Exception as exc:  # noqa: BLE001 - answered AE so the sender resends; logged without content
            log.error("MLLP: from %s: message not applied, internal error (%s)", peer, type(exc).__name__)
            log.debug("ADT internal error", exc_info=True)
            return reject_unread(event.payload[:HEAD_BYTES], "internal error in the receiver; resend the "
                                 "message later", code="AE")
        return outcome.ack


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else "?"


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with suppress(ConnectionError, ssl.SSLError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 5)
