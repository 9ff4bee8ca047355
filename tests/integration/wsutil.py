"""WebSocket helpers for the edge tests.

- `Client` wraps Debian's python3-websockets for message-level tests.
- `RawSocket` speaks the WebSocket framing by hand (RFC 6455), for what a
  library would refuse to send or would hide: pings from the server, bad
  UTF-8, fragmented and oversized messages.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct

import websockets

TWS = "graphql-transport-ws"
LEGACY = "graphql-ws"


class Client:
    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def open(cls, url: str, protocol: str | None = TWS, **kw) -> "Client":
        ws = await websockets.connect(url, subprotocols=[protocol] if protocol else None,
                                      max_size=None, **kw)
        return cls(ws)

    async def send(self, msg) -> None:
        await self.ws.send(msg if isinstance(msg, (str, bytes)) else json.dumps(msg))

    async def recv(self, timeout: float = 10.0) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def nothing(self, timeout: float = 0.3) -> None:
        """Assert that no message arrives within timeout."""
        try:
            msg = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            return
        raise AssertionError(f"unexpected message {msg}")

    async def closed(self, timeout: float = 10.0) -> tuple[int, str]:
        """Wait for the server to close; return (code, reason). Messages
        that arrive first are skipped."""
        try:
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        except websockets.ConnectionClosed:
            return self.ws.close_code, self.ws.close_reason

    async def init(self, payload=None) -> None:
        msg = {"type": "connection_init"}
        if payload is not None:
            msg["payload"] = payload
        await self.send(msg)
        ack = await self.recv()
        assert ack["type"] == "connection_ack", ack

    async def subscribe(self, id: str, query: str, variables=None, **extra) -> None:
        payload = {"query": query, **extra}
        if variables is not None:
            payload["variables"] = variables
        kind = "subscribe" if self.ws.subprotocol == TWS else "start"
        await self.send({"type": kind, "id": id, "payload": payload})

    async def close(self) -> None:
        await self.ws.close()


class RawSocket:
    """A minimal client that frames by hand (masked, as clients must).
    source binds the client's end to that address (127.0.0.2: another
    client address on the same machine); host is the edge's."""

    def __init__(self, port: int, protocol: str | None = TWS, path: str = "/graphql",
                 source: str | None = None, host: str = "127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=10,
                                             source_address=(source, 0) if source else None)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        if protocol:
            lines.append(f"Sec-WebSocket-Protocol: {protocol}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            head += chunk
        self.status_line, _, rest = head.partition(b"\r\n")
        fields = rest.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        self.headers = {k.strip().lower(): v.strip()
                        for k, _, v in (f.partition(":") for f in fields if f)}
        self.buf = head.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in head else b""

    @property
    def status(self) -> int:
        return int(self.status_line.split()[1])

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        mask = os.urandom(4)
        head = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def send_text(self, text) -> None:
        data = text if isinstance(text, bytes) else (
            text if isinstance(text, str) else json.dumps(text)).encode()
        self.send_frame(0x1, data)

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed without a close frame")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self) -> tuple[int, bytes]:
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        assert not b1 & 0x80, "server frames must not be masked"
        return b0 & 0x0F, self._read(n)

    def recv_close(self) -> tuple[int, str]:
        """Read frames until a close frame; return (code, reason)."""
        while True:
            op, data = self.recv_frame()
            if op == 0x8:
                code = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else 1005
                return code, data[2:].decode()

    def close(self) -> None:
        self.sock.close()
