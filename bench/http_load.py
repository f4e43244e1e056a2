"""A light HTTP/1.1 load generator: each client keeps one connection and sends GETs in turn.

httpx spends about as much CPU per request as the API itself; on a 2-core machine the load
generator then takes the core the server would use, and the queueing in its own event loop
shows up as latency. This client only writes the request and reads the answer.
"""

from __future__ import annotations

import asyncio


class ConnectionLostError(Exception):
    """The server closed the connection before it answered."""


class Connection:
    """One kept-alive HTTP/1.1 connection on loopback."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._head = f"Host: {host}:{port}\r\n{extra}\r\n"
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        """The status and body of ``GET path``; ConnectionLostError if the server hung up."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(f"GET {path} HTTP/1.1\r\n{self._head}".encode())
        try:
            status, body, closing = await self._answer(self._reader)
        except (ConnectionLostError, asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise ConnectionLostError(f"GET {path}: the connection was closed") from None
        if closing:  # the server ends the connection after this answer: the next one connects
            await self.close()
        return status, body

    @staticmethod
    async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        """The status, the body, and whether the server said ``Connection: close``."""
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionLostError
        status = int(status_line.split()[1])
        length, chunked, closing = 0, False, False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                closing = b"close" in value.lower()
        if not chunked:
            return status, await reader.readexactly(length), closing
        body = b""
        while size := int((await reader.readline()).strip(), 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readexactly(2)
        return status, body, closing

    async def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
