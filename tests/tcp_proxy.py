"""A loopback TCP proxy a test puts in front of a server (PostgreSQL, Redis) to partition it without touching it.

* `freeze()`: connections stay open and new ones are accepted, but nothing is forwarded either way (a server
  that hangs, or a network that drops packets while both kernels still acknowledge what reaches them);
* `cut()`: every connection is closed and new ones are refused at once (a server that went away);
* `heal()`: forwarding resumes; connections frozen meanwhile carry on with what they had queued.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._flowing = threading.Event()
        self._flowing.set()
        self._refusing = False
        self._closing = False
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", self.port), backlog=128)
        self._thread = threading.Thread(target=self._accept, daemon=True, name="tcp-proxy")
        self._thread.start()

    # ------------------------------------------------------------ what the test does

    def freeze(self) -> None:
        self._flowing.clear()

    def cut(self) -> None:
        self._refusing = True
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            _close(a)
            _close(b)

    def heal(self) -> None:
        self._refusing = False
        self._flowing.set()

    def close(self) -> None:
        self._closing = True
        self.cut()
        _close(self._server)
        self._flowing.set()

    # ------------------------------------------------------------ forwarding

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self._refusing:
                _close(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        self._flowing.wait()  # frozen: the client is connected, and nobody answers
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._pairs.append((client, upstream))
        try:
            self._pump(client, upstream)
        finally:
            _close(client)
            _close(upstream)

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peer = {a: b, b: a}
        while not self._closing:
            self._flowing.wait()
            try:
                readable, _, _ = select.select([a, b], [], [], 0.1)
            except (OSError, ValueError):
                return
            if not self._flowing.is_set():
                continue  # froze while waiting: leave the bytes where they are
            for sock in readable:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                try:
                    peer[sock].sendall(data)
                except OSError:
                    return


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
