"""What customer and agent sockets share: the frame loop, errors, ordered sending.

Everything a connection sends goes through one queue drained by one task, so
frames leave in the order they were produced, whether they come from the
client's own requests or from the bus. A queue item is a frame or an async
step (e.g. "subscribe to the new conversation, then send its history") that
runs in that same order. Timeline events are de-duplicated per conversation
by event id, so history read after subscribing and live events may overlap
without the client seeing anything twice.

A Redis outage (gateway/store/bus.py): when a channel of this connection is subscribed again, a resync step
is queued before any later live message; it replays each followed timeline from the last event this socket
sent (``last_sent``: never past a hole, since nothing newer is sent before the replay ran) and catches up what
else it missed (subclasses' :meth:`resync`). A request that finds Redis down is answered ``store_unavailable``
and the socket stays open; a hello that finds it down, or a replay that still finds it down after its retries
(Redis loading a large append-only file), is answered so, then closed with
:data:`~gateway.protocol.server.CloseCode.STORE_UNAVAILABLE`, on which clients reconnect soon without growing
their backoff and resume from the last event they have (live events never go on past a hole). Neither is logged
with a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from gateway.client_ip import client_ip, limit_key
from gateway.errors import BadRequest, GatewayError, InternalError, StoreUnavailable, TooManyRequests
from gateway.json_input import is_clean
from gateway.protocol import client, server
from gateway.protocol.bus import Message
from gateway.protocol.client import parse_event_id
from gateway.protocol.codes import ErrorCode
from gateway.store.bus import Bus
from gateway.store.store import StoreError
from gateway.wire.services import SERVICES, SOCKETS

log = logging.getLogger(__name__)

MAX_WS_MESSAGE = 256 * 1024  # beyond this aiohttp closes the socket with 1009
OUTBOX_LIMIT = 2000  # a client this far behind is disconnected; it resumes on reconnect
HELLO_TIMEOUT = 10.0
CLIENT_ERRORS_LOGGED = 10  # per connection; past it a junk flood costs no log line per frame (counted at close)
CONNECTIONS_RETRY_AFTER = 30  # seconds, told to an address refused for having too many sockets open
RESYNC_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0)  # a replay that found Redis down again waits, then tries again

#: frames one socket may send: a sustained rate per second and a burst (a page sending the ICE candidates of a call
#: at once, a pasted paragraph's typing previews); past it a frame is refused (``rate_limited``) and does nothing.
#: Frames that read Redis sent as fast as a client liked (40 sockets of them) raised another customer's round trip
#: from 1.5 to 31 ms: a security tester's finding.
FRAMES_PER_SECOND = 30.0
FRAMES_BURST = 120.0
REFUSALS_SAID_PER_SECOND = 1.0  # a refused frame without a client id is answered at most this often (no echo flood)

Step = Callable[[], Awaitable[None]]


class FrameBudget:
    """A token bucket of frames for one socket (this node's memory: a socket lives on one node)."""

    def __init__(self, rate: float = FRAMES_PER_SECOND, burst: float = FRAMES_BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = 0.0
        self.refused = 0  # frames refused so far (logged at close)
        self._said = -1e9  # when a refusal was last answered

    def take(self, now: float) -> bool:
        """One frame at ``now`` (monotonic seconds): False when the socket has sent more than it may."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate) if self.at else self.tokens
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        self.refused += 1
        return False

    def say(self, now: float, awaited: str | None) -> bool:
        """Whether a refusal is answered: always for a frame its sender awaits an answer to (a client id: it retries
        it; a call id), else at most :data:`REFUSALS_SAID_PER_SECOND`."""
        if awaited or now - self._said >= 1.0 / REFUSALS_SAID_PER_SECOND:
            self._said = now
            return True
        return False


class Connection:
    role = "customer"

    def __init__(self, ws: web.WebSocketResponse, bus: Bus):
        self.ws = ws
        self.bus = bus
        self.outbox: asyncio.Queue[server.Frame | Step] = asyncio.Queue(OUTBOX_LIMIT)
        self.last_sent: dict[str, tuple[int, int]] = {}
        self.replay_from: dict[str, tuple[int, int]] = {}  # where a replay starts when nothing later was sent
        self.channels: set[str] = set()
        self._sender: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[bool] | None = None  # closing a client too slow to read (once)
        self._resync_queued = False  # a resync step waits in the outbox (one is enough until it starts)
        self.log_extra: dict[str, str] = {}
        self.client_errors = 0
        self._budget = FrameBudget()  # the frames this socket may send (past it: rate_limited)

    # ---------------------------------------------------------------- sending

    def push(self, item: server.Frame | Step) -> None:
        try:
            self.outbox.put_nowait(item)
        except asyncio.QueueFull:
            if self._closer is None:  # once: every later push would otherwise start another close
                log.warning("client too slow; disconnecting it", extra=self.log_extra)
                self._closer = asyncio.get_running_loop().create_task(
                    self.ws.close(code=server.CloseCode.TOO_SLOW, message=b"too slow")
                )

    def watermark(self, cid: str) -> str | None:
        """Where a replay of ``cid`` starts: after the last event sent on this connection, or after
        ``replay_from`` if that is later (None: from the start)."""
        key = max(self.last_sent.get(cid, (0, -1)), self.replay_from.get(cid, (0, -1)))
        return None if key == (0, -1) else f"{key[0]}-{key[1]}"

    def mark_sent(self, cid: str, event_id: str) -> None:
        key = parse_event_id(event_id)
        if key is not None and key > self.last_sent.get(cid, (0, -1)):
            self.last_sent[cid] = key

    def fresh(self, event: dict[str, Any]) -> bool:
        """True if this event was not sent yet on this connection (and records it as sent)."""
        key = parse_event_id(event["id"])
        cid = event["conversation_id"]
        if key is None or key <= self.last_sent.get(cid, (0, -1)):
            return False
        self.last_sent[cid] = key
        return True

    async def sent(self) -> None:
        """Wait until everything queued so far has been sent (at once if nothing sends: before the hello, or the
        socket is gone). Shutdown waits for it, so the calls' ``ended`` go out before the socket closes."""
        if self._sender is None or self._sender.done():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def step() -> None:
            if not done.done():
                done.set_result(None)

        try:
            self.outbox.put_nowait(step)
        except asyncio.QueueFull:
            return  # too far behind to catch up anyway (it is being closed as too slow)
        sender = self._sender
        await asyncio.wait([done, sender], return_when=asyncio.FIRST_COMPLETED)

    async def _send_loop(self) -> None:
        """Send the queue in order. A step that fails answers with its error (``internal`` for a bug, logged once)
        and the queue goes on; the loop ends only when the socket is gone, or when it is cancelled."""
        me = asyncio.current_task()
        while True:
            item = await self.outbox.get()
            try:
                await self._send_one(item)
            except ConnectionResetError as exc:
                log.info("socket gone while sending: %s", exc, extra=self.log_extra)
                return
            if me is not None and me.cancelling():
                # a step swallowed the cancellation (Python 3.11's asyncio.wait_for does when what it waits for
                # finishes as the cancel comes): stop as asked, or finish() waits for this loop for ever
                raise asyncio.CancelledError

    async def send(self, frame: server.Frame) -> None:
        await self.ws.send_frame(server.encode(frame.as_dict()), WSMsgType.TEXT)

    async def _send_one(self, item: server.Frame | Step) -> None:
        try:
            if isinstance(item, server.Frame):
                if not isinstance(item, server.Event) or self.fresh(item.event):
                    await self.send(item)
            else:
                await item()
        except ConnectionResetError:
            raise
        except GatewayError as exc:
            await self.send_error(exc)
        except StoreError as exc:
            await self.send_error(store_unavailable(exc, "a queued step", self.log_extra))
        except Exception as exc:  # noqa: BLE001 - the edge: logged with its traceback, answered as 'internal'
            await self.send_error(InternalError.logged(exc, log, "a queued step", self.log_extra))

    async def send_error(self, exc: GatewayError, client_id: str | None = None, call_id: str | None = None) -> None:
        """An ``error`` frame; ``client_id`` / ``call_id`` echo the frame it answers, so the client knows which."""
        self.client_errors += 1
        logged = isinstance(exc, InternalError | StoreUnavailable)  # (logged when caught)
        if self.client_errors <= CLIENT_ERRORS_LOGGED and not logged:
            log.info("client error %s: %s", exc.code, exc.message, extra=self.log_extra)
        if not self.ws.closed:
            await self.send(server.Error(exc, client_id, call_id))

    # ---------------------------------------------------------------- subscriptions

    async def subscribe(self, channel: str) -> None:
        if channel not in self.channels:
            self.channels.add(channel)
            try:
                await self.bus.subscribe(channel, self.on_bus, self.on_resubscribed)
            except BaseException:
                self.channels.discard(channel)
                raise

    async def unsubscribe(self, channel: str) -> None:
        """Never fails on Redis (gateway/store/bus.py): after it, this connection's listener gets nothing more."""
        if channel in self.channels:
            self.channels.discard(channel)
            await self.bus.unsubscribe(channel, self.on_bus)

    def on_bus(self, channel: str, message: Message) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def on_resubscribed(self, channel: str) -> None:
        """A channel of ours is live again after the node's pub/sub connection was lost: catch up, in order."""
        if channel in self.channels and not self._resync_queued:
            self._resync_queued = True
            self.push(self._resync_step)

    async def _resync_step(self) -> None:
        """Run :meth:`resync` until it gets through: nothing queued after it may be sent before it (a live event
        sent first would move ``last_sent`` past what the replay must fill)."""
        self._resync_queued = False
        for pause in (*RESYNC_RETRY_SECONDS, None):
            try:
                replayed = await self.resync()
                if replayed:
                    log.info("replayed %d events missed while pub/sub was down", replayed, extra=self.log_extra)
                return
            except StoreError as exc:
                if pause is None:  # live events must not go on over the hole: the client resumes on its own
                    await self.send_error(store_unavailable(exc, "a replay after a Redis outage", self.log_extra))
                    await self.ws.close(code=server.CloseCode.STORE_UNAVAILABLE, message=b"store unavailable")
                    return
                log.info("resync after a Redis outage failed (%s); trying again", exc, extra=self.log_extra)
                await asyncio.sleep(pause)

    async def resync(self) -> int:  # pragma: no cover - overridden
        """Catch up with what was published while the node's pub/sub connection was down; how many timeline
        events it sent."""
        raise NotImplementedError

    async def send_fresh(self, cid: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send those of ``events`` (of ``cid``, in order) not sent yet on this connection; returns them."""
        sent = []
        for event in events:
            if self.fresh(event):
                await self.send(server.Event(cid, event))
                sent.append(event)
        return sent

    # ---------------------------------------------------------------- the loop

    async def read_frame(self) -> dict[str, Any] | None:
        """The next JSON object from the client; None when the socket closed."""
        msg = await self.ws.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return None
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            raise BadRequest(f"unexpected WebSocket message type {msg.type.name}")
        return client.decode(msg.data)

    async def hello(self) -> client.Hello | None:
        while True:
            try:
                async with asyncio.timeout(HELLO_TIMEOUT):
                    obj = await self.read_frame()
                if obj is None:
                    return None
                frame = client.parse(obj, role=self.role)
                if not isinstance(frame, client.Hello):
                    raise BadRequest("the first frame must be 'hello'", field="type", code=ErrorCode.HELLO_REQUIRED)
                return frame
            except TimeoutError:
                await self.send_error(BadRequest("no 'hello' frame received", code=ErrorCode.HELLO_REQUIRED))
                return None
            except GatewayError as exc:
                await self.send_error(exc)
            except ConnectionResetError as exc:
                log.info("socket gone before hello: %s", exc, extra=self.log_extra)
                return None
            except Exception as exc:  # noqa: BLE001 - the edge: logged with its traceback, answered as 'internal'
                await self.send_error(InternalError.logged(exc, log, "a hello frame", self.log_extra))
            if self.ws.closed:
                return None

    async def serve(self) -> None:
        """Run the connection until the socket closes. Subclasses implement start() and handle().

        Whatever one frame does wrong, the socket goes on: a GatewayError is answered with its error frame, any
        other exception (a bug) with an ``internal`` error frame carrying a request id, logged once with its
        traceback. Only a failure in start() (after a valid hello) closes the socket, with code 1011."""
        try:
            hello = await self.hello()
            if hello is None or not await self._start(hello):
                return
            self._sender = asyncio.create_task(self._send_loop(), name=f"{self.role}-sender")
            while not self.ws.closed:
                obj: dict[str, Any] | None = None
                try:
                    obj = await self.read_frame()
                    if obj is None:
                        break
                    now = asyncio.get_running_loop().time()
                    if not self._budget.take(now):
                        if self._budget.say(now, _echo(obj, "client_id") or _echo(obj, "call_id")):
                            raise TooManyRequests(
                                f"too many frames: at most {FRAMES_PER_SECOND:.0f} a second (bursts of "
                                f"{FRAMES_BURST:.0f}); this '{_echo(obj, 'type') or 'unknown'}' frame was not done",
                                field="type",
                                retry_after=1,
                            )
                        continue
                    frame = client.parse(obj, role=self.role)
                    if isinstance(frame, client.Hello):  # was ignored without a word (a security tester's finding)
                        raise BadRequest(
                            "this socket has said hello already: open a new socket to start again", field="type"
                        )
                    await self.handle(frame)
                except GatewayError as exc:
                    self.push(_error_step(self, exc, _echo(obj, "client_id"), _echo(obj, "call_id")))
                except ConnectionResetError as exc:
                    log.info("socket gone: %s", exc, extra=self.log_extra)
                    break
                except StoreError as exc:  # nothing done: the client may send the same frame again
                    unavailable = store_unavailable(exc, f"a {_echo(obj, 'type') or 'client'} frame", self.log_extra)
                    self.push(_error_step(self, unavailable, _echo(obj, "client_id"), _echo(obj, "call_id")))
                except Exception as exc:  # noqa: BLE001 - the edge: logged with its traceback, answered as 'internal'
                    internal = InternalError.logged(
                        exc, log, f"a {_echo(obj, 'type') or 'client'} frame", self.log_extra
                    )
                    self.push(_error_step(self, internal, _echo(obj, "client_id"), _echo(obj, "call_id")))
        except ConnectionResetError as exc:
            log.info("socket gone: %s", exc, extra=self.log_extra)
        finally:
            try:
                await self.finish()
            except Exception as exc:  # noqa: BLE001 - the edge: logged with its traceback; the socket is over anyway
                InternalError.logged(exc, log, "closing a connection", self.log_extra)

    async def _start(self, hello: client.Hello) -> bool:
        """start(), with an unexpected failure answered as 'internal' and the socket closed (1011)."""
        try:
            return await self.start(hello)
        except ConnectionResetError as exc:
            log.info("socket gone during hello: %s", exc, extra=self.log_extra)
            return False
        except StoreError as exc:  # the client comes back soon, its backoff not grown (docs/protocol.md)
            await self.send_error(store_unavailable(exc, "a hello", self.log_extra))
            await self.ws.close(code=server.CloseCode.STORE_UNAVAILABLE, message=b"store unavailable")
            return False
        except Exception as exc:  # noqa: BLE001 - the edge: logged with its traceback, answered as 'internal'
            await self.send_error(InternalError.logged(exc, log, "starting a connection", self.log_extra))
            await self.ws.close(code=server.CloseCode.INTERNAL_ERROR, message=b"internal error")
            return False

    async def finish(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
            try:
                await self._sender
            except asyncio.CancelledError:
                pass
        if self._closer is not None:
            try:
                await self._closer
            except ConnectionResetError as exc:
                log.info("socket gone while closing it: %s", exc, extra=self.log_extra)
        for channel in list(self.channels):
            await self.unsubscribe(channel)
        await self.stop()
        if self._budget.refused:
            log.info(
                "%d frames refused on this connection (over the frame rate)", self._budget.refused, extra=self.log_extra
            )
        if self.client_errors > CLIENT_ERRORS_LOGGED:
            log.info(
                "%d client errors on this connection (the first %d logged)",
                self.client_errors,
                CLIENT_ERRORS_LOGGED,
                extra=self.log_extra,
            )
        if not self.ws.closed:
            await self.ws.close()

    async def start(self, hello: client.Hello) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    async def handle(self, frame: client.Frame) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    async def stop(self) -> None:
        """Release what start() took (presence, ...)."""


def store_unavailable(exc: StoreError, where: str, extra: dict[str, str]) -> StoreUnavailable:
    """Redis failed under a request: one warning line (no traceback: not a bug) and the error to answer with."""
    log.warning("store unavailable in %s: %s: %s", where, type(exc).__name__, exc, extra=extra)
    return StoreUnavailable()


def _echo(obj: dict[str, Any] | None, name: str) -> str | None:
    """A field of the client's frame to echo in its error frame: only a short identifier, never junk."""
    value = obj.get(name) if isinstance(obj, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 64 and is_clean(value) else None


def _error_step(conn: Connection, exc: GatewayError, client_id: str | None, call_id: str | None = None) -> Step:
    async def step() -> None:
        await conn.send_error(exc, client_id, call_id)

    return step


async def serve_socket(
    request: web.Request, make: Callable[[web.WebSocketResponse], Connection], *, role: str
) -> web.WebSocketResponse:
    """Accept a WebSocket, run its connection, and keep it in the app's registry while open.

    An address with ``--limit-connections-per-ip`` sockets of this ``role`` (customer, agent) open on this node is
    refused before the upgrade: HTTP 429 with ``Retry-After`` and problem JSON (code ``too_many_connections``).
    Customers and agents count apart: 50 customer sockets from an office's address (or from everyone, behind a proxy
    not in --trusted-proxies) locked its agents' desks out (a security tester's finding). A draining node (SIGTERM)
    accepts the upgrade and closes at once with 1012: the client reconnects, through the load balancer, elsewhere."""
    limits = request.app[SERVICES].limits
    address = f"{role} {limit_key(client_ip(request, limits.config.trusted_proxies))}"
    if not limits.open_connection(address):
        log.info("WebSocket refused: %s has %d open", address, limits.config.connections_per_ip)  # "customer 1.2.3.4"
        raise web.HTTPTooManyRequests(
            headers={"Retry-After": str(CONNECTIONS_RETRY_AFTER)},
            content_type="application/problem+json",
            text=json.dumps(
                {
                    "code": ErrorCode.TOO_MANY_CONNECTIONS,
                    "retry_after": CONNECTIONS_RETRY_AFTER,
                    "message": "too many open connections from your address; close some and retry",
                }
            ),
        )
    try:
        ws = web.WebSocketResponse(max_msg_size=MAX_WS_MESSAGE, heartbeat=25)
        await ws.prepare(request)
        if request.app[SERVICES].calls.admission.draining:  # stopping: the client reconnects to another node
            await ws.close(code=server.CloseCode.RESTARTING, message=b"draining")
            return ws
        sockets = request.app[SOCKETS]
        conn = make(ws)
        sockets.add(conn)
        gauge = request.app[SERVICES].metrics.recorder.sockets_open.labels(conn.role)
        gauge.inc()
        try:
            await conn.serve()
        finally:
            gauge.dec()
            sockets.discard(conn)
    finally:
        limits.close_connection(address)
    return ws
