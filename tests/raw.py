"""A raw-bytes peer for tests: frames in and out over a real socket, no SDK."""
from __future__ import annotations

import asyncio

from protocol.framing import FrameDecoder, encode_frame
from protocol.kinds import Kind
from protocol.messages import session as ms
from protocol.registry import decode_message, encode_message


class Raw:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.decoder = FrameDecoder(1 << 20)
        self.frames: list = []

    @classmethod
    async def open(cls, port: int) -> "Raw":
        r, w = await asyncio.open_connection("127.0.0.1", port)
        return cls(r, w)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def send_msg(self, msg, request_id: int = 1, kind: int | None = None) -> None:
        self.send(encode_frame(kind if kind is not None else msg.__message__.kind, encode_message(msg), request_id))

    async def login(self, user: str, password: str | None = None, request_id: int = 1, **kw):
        self.send_msg(ms.LoginRequest(user=user, password=password or f"pass-{user}", **kw), request_id)
        return await self.next()

    async def next(self, timeout: float = 3.0):
        while not self.frames:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                raise ConnectionError("closed by peer")
            self.frames += self.decoder.feed(data)
        return self.frames.pop(0)

    async def next_of(self, kind: int, timeout: float = 3.0):
        while True:
            f = await self.next(timeout)
            if f.kind == kind:
                return f

    async def closed(self, timeout: float = 3.0) -> bool:
        """True when the peer closes the connection within timeout (frames before it are kept)."""
        try:
            while True:
                data = await asyncio.wait_for(self.reader.read(65536), timeout)
                if not data:
                    return True
                self.frames += self.decoder.feed(data)
        except (asyncio.TimeoutError, ConnectionError):
            return False

    @staticmethod
    def decode(frame):
        return decode_message(frame.payload)

    def close(self) -> None:
        self.writer.close()
