"""HTTP/2 for sandbox hosts that offer it (``http2: true``), on top of the h2 state machine.

Requests become the same :class:`~sandbox.exchange.Exchange` as over HTTP/1.1, so a host
answers identically on both protocols. Flow control is honoured so endless and
trickling bodies behave over HTTP/2 too.
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import formatdate

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
from multidict import CIMultiDict

from .exchange import Exchange, Reply

logger = logging.getLogger(__name__)

# Connection-specific headers are forbidden in HTTP/2 (RFC 9113 section 8.2.2).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}


class H2Protocol(asyncio.Protocol):
    def __init__(self, respond, local_address: str = ""):
        self.respond = respond  # async (Exchange) -> Reply
        self.local_address = local_address
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.transport: asyncio.Transport | None = None
        self.requests: dict[int, tuple[list, bytearray]] = {}
        self.tasks: dict[int, asyncio.Task] = {}
        self.window_open: dict[int, asyncio.Event] = {}
        self.closed = False
        self.peer = ""

    def connection_made(self, transport) -> None:
        self.transport = transport
        sockname = transport.get_extra_info("sockname")
        if sockname:
            self.local_address = sockname[0]
        peername = transport.get_extra_info("peername")
        self.peer = peername[0] if peername else ""
        self.conn.initiate_connection()
        self._flush()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._flush()
            if self.transport is not None:
                self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self.requests[event.stream_id] = (event.headers, bytearray())
                if event.stream_ended:
                    self._start(event.stream_id)
            elif isinstance(event, h2.events.DataReceived):
                if event.stream_id in self.requests:
                    self.requests[event.stream_id][1].extend(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self._start(event.stream_id)
            elif isinstance(event, h2.events.StreamReset):
                self._cancel(event.stream_id)
            elif isinstance(event, h2.events.WindowUpdated):
                self._wake(event.stream_id)
            elif isinstance(event, h2.events.ConnectionTerminated):
                if self.transport is not None:
                    self.transport.close()
        self._flush()

    def connection_lost(self, exc) -> None:
        self.closed = True
        for stream_id in list(self.tasks):
            self._cancel(stream_id)

    def _start(self, stream_id: int) -> None:
        if stream_id in self.tasks or stream_id not in self.requests:
            return
        self.tasks[stream_id] = asyncio.get_running_loop().create_task(self._handle(stream_id))

    def _cancel(self, stream_id: int) -> None:
        task = self.tasks.pop(stream_id, None)
        if task is not None:
            task.cancel()
        self._wake(stream_id)

    def _wake(self, stream_id: int) -> None:
        targets = list(self.window_open.values()) if stream_id == 0 else [self.window_open.get(stream_id)]
        for event in targets:
            if event is not None:
                event.set()

    async def _handle(self, stream_id: int) -> None:
        raw_headers, body = self.requests.pop(stream_id)
        pseudo = {k: v for k, v in raw_headers if k.startswith(":")}
        headers = CIMultiDict((k, v) for k, v in raw_headers if not k.startswith(":"))
        path, _, query = pseudo.get(":path", "/").partition("?")
        exchange = Exchange(
            method=pseudo.get(":method", "GET"),
            path=path,
            query_string=query,
            headers=headers,
            host=pseudo.get(":authority") or headers.get("host", ""),
            scheme="https",
            local_address=self.local_address,
            body=bytes(body),
            peer=self.peer,
        )
        try:
            reply = await self.respond(exchange)
            await self._send(stream_id, exchange, reply)
        except (asyncio.CancelledError, h2.exceptions.StreamClosedError):
            pass
        except Exception:
            logger.exception("HTTP/2 stream failed")
            try:
                self.conn.reset_stream(stream_id, error_code=h2.errors.ErrorCodes.INTERNAL_ERROR)
                self._flush()
            except h2.exceptions.H2Error:
                pass
        finally:
            self.tasks.pop(stream_id, None)
            self.window_open.pop(stream_id, None)

    async def _send(self, stream_id: int, exchange: Exchange, reply: Reply) -> None:
        headers = [(":status", str(reply.status))]
        headers += [(k.lower(), v) for k, v in reply.headers.items() if k.lower() not in HOP_BY_HOP]
        if "date" not in reply.headers:
            headers.append(("date", formatdate(usegmt=True)))
        if reply.stream is None and exchange.method != "HEAD":
            headers.append(("content-length", str(len(reply.body))))
        elif reply.length is not None:
            headers.append(("content-length", str(reply.length)))
        no_body = exchange.method == "HEAD" or (reply.stream is None and not reply.body)
        self.conn.send_headers(stream_id, headers, end_stream=no_body)
        self._flush()
        if no_body:
            return
        if reply.stream is None:
            await self._send_data(stream_id, reply.body)
        else:
            async for chunk in reply.stream:
                await self._send_data(stream_id, chunk)
        self.conn.end_stream(stream_id)
        self._flush()

    async def _send_data(self, stream_id: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.closed:
                raise asyncio.CancelledError
            window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if window <= 0:
                event = self.window_open.setdefault(stream_id, asyncio.Event())
                event.clear()
                await event.wait()
                continue
            chunk, view = view[:window], view[window:]
            self.conn.send_data(stream_id, bytes(chunk))
            self._flush()
            if self.transport is not None and self.transport.get_write_buffer_size() > 1 << 20:
                await asyncio.sleep(0.005)  # let the socket drain before queueing more
