"""A PostgreSQL wire proxy for tests and benchmarks: counts round trips, drops connections.

It stands between the application and the server on 127.0.0.1 and forwards bytes
unchanged. A *round trip* is counted each time the server starts answering after the
client has sent something: what the driver waits for, whatever it sends (a query, a
prepared statement, a pipeline). ``drop`` decides, at each message the client sends and
at each answer the server gives, whether to cut that connection there (both sockets shut
at once, as a dead network or a killed backend would look to the application).

Connect with ``sslmode=disable``: the proxy reads the protocol's messages in clear.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Message:
    """One frontend message: its type byte (b"" for the startup packet) and payload."""

    kind: bytes
    payload: bytes

    @property
    def query(self) -> str:
        """The SQL of a simple query ('Q') or a Parse ('P'), else ''."""
        if self.kind == b"Q":
            return self.payload.rstrip(b"\0").decode(errors="replace")
        if self.kind == b"P":
            _name, _, rest = self.payload.partition(b"\0")
            return rest.partition(b"\0")[0].decode(errors="replace")
        return ""


@dataclass
class Link:
    """One proxied connection."""

    number: int
    round_trips: int = 0
    sent: list[Message] = field(default_factory=list)  # what the client sent, in order
    closed: bool = False


# drop(link, where, message): where is "before" (the client's message, not yet forwarded),
# "after" (the server's answer to it arrived, not yet forwarded) or "forwarded" (the answer
# reached the client).
Dropper = Callable[[Link, str, Message], bool]


class PgProxy:
    def __init__(self, upstream_port: int = 5432, drop: Dropper | None = None) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.drop = drop
        self.links: list[Link] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def round_trips(self) -> int:
        with self._lock:
            return sum(link.round_trips for link in self.links)

    def reset(self) -> None:
        with self._lock:
            for link in self.links:
                link.round_trips = 0
                link.sent.clear()

    def close(self) -> None:
        self._stopping = True
        self._listener.close()

    def __enter__(self) -> PgProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            with self._lock:
                link = Link(len(self.links))
                self.links.append(link)
            threading.Thread(target=self._serve, args=(link, client), daemon=True).start()

    def _drops(self, link: Link, where: str, message: Message | None) -> bool:
        return self.drop is not None and message is not None and self.drop(link, where, message)

    def _serve(self, link: Link, client: socket.socket) -> None:
        server = socket.create_connection(self.upstream)
        for sock in (client, server):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, "client")
        selector.register(server, selectors.EVENT_READ, "server")
        pending = b""  # client bytes not yet split into whole messages
        started = False  # the startup packet (no type byte) has gone
        awaiting = False  # the client sent something the server has not answered yet
        last: Message | None = None  # the client's last whole message
        try:
            while True:
                for key, _mask in selector.select():
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    data = sock.recv(65536)
                    if not data:
                        return
                    if key.data == "client":
                        pending += data
                        messages, pending, started = _split(pending, started)
                        for message in messages:
                            link.sent.append(message)
                            last = message
                            if self._drops(link, "before", message):
                                return
                            server.sendall(_encode(message))
                        awaiting = awaiting or bool(messages)
                    else:
                        answering = awaiting
                        if awaiting:
                            with self._lock:
                                link.round_trips += 1
                            awaiting = False
                            if self._drops(link, "after", last):
                                return
                        client.sendall(data)
                        if answering and self._drops(link, "forwarded", last):
                            return
        except OSError:
            return
        finally:
            link.closed = True
            selector.close()
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def _split(data: bytes, started: bool) -> tuple[list[Message], bytes, bool]:
    messages = []
    while True:
        if not started:
            if len(data) < 4:
                break
            (length,) = struct.unpack("!I", data[:4])
            if len(data) < length:
                break
            messages.append(Message(b"", data[4:length]))
            # An SSL or GSSAPI encryption request (answered by one byte, 'N' here) comes
            # before the startup packet, also without a type byte.
            code = struct.unpack("!I", data[4:8])[0] if length >= 8 else 0
            data, started = data[length:], code not in (80877103, 80877104)
            continue
        if len(data) < 5:
            break
        (length,) = struct.unpack("!I", data[1:5])
        if len(data) < 1 + length:
            break
        messages.append(Message(data[:1], data[5 : 1 + length]))
        data = data[1 + length :]
    return messages, data, started


def _encode(message: Message) -> bytes:
    return message.kind + struct.pack("!I", len(message.payload) + 4) + message.payload
