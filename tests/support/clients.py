"""WebSocket clients that read like a script: a customer and an agent talking to a gateway."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import aiohttp

Frame = dict[str, Any]
_ids = itertools.count(1)


class Client:
    path = ""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session: aiohttp.ClientSession | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.seen: list[Frame] = []  # every frame received, in order
        self._unread: list[Frame] = []

    async def connect(self) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(self.base_url + self.path)
        self._unread.clear()

    async def send(self, frame: Frame) -> None:
        assert self.ws is not None
        await self.ws.send_json(frame)

    async def send_raw(self, data: str | bytes) -> None:
        assert self.ws is not None
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)

    async def expect(
        self, type_: str | tuple[str, ...], where: Callable[[Frame], bool] = lambda f: True, timeout: float = 5.0
    ) -> Frame:
        """The next frame of this type (or one of these types) matching ``where``; others stay unread."""
        types = (type_,) if isinstance(type_, str) else type_
        for i, frame in enumerate(self._unread):
            if frame.get("type") in types and where(frame):
                return self._unread.pop(i)
        assert self.ws is not None
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.ws.receive()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise AssertionError(
                        f"socket ended ({msg.type.name} {msg.data!r}) while waiting for {type_}; unread: {self._unread}"
                    )
                frame = msg.json()
                self.seen.append(frame)
                if frame.get("type") in types and where(frame):
                    return frame
                self._unread.append(frame)

    def forget(self, type_: str) -> None:
        """Drop the unread frames of this type: the next ``expect`` of it waits for one that comes after now."""
        self._unread = [f for f in self._unread if f.get("type") != type_]

    async def quiet(self, seconds: float = 0.3) -> list[Frame]:
        """Everything that arrives within ``seconds`` (to prove something does NOT arrive)."""
        assert self.ws is not None
        got = list(self._unread)
        self._unread.clear()
        try:
            async with asyncio.timeout(seconds):
                while True:
                    msg = await self.ws.receive()
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        break
                    got.append(msg.json())
                    self.seen.append(got[-1])
        except TimeoutError:
            pass
        return got

    async def drop(self) -> None:
        """Close the socket (the session stays, like a browser tab that lost its network)."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def close(self) -> None:
        await self.drop()
        if self.session is not None:
            await self.session.close()
            self.session = None


class Customer(Client):
    path = "/ws/customer"

    def __init__(self, base_url: str, token: str | None = None):
        super().__init__(base_url)
        self.token = token
        self.customer_id = ""
        self.welcome: Frame = {}
        self.last_event_id: str | None = None

    async def hello(
        self, *, resume: bool = False, context: dict[str, str] | None = None, customer_token: str | None = None
    ) -> Frame:
        await self.connect()
        frame: Frame = {"type": "hello", "token": self.token}
        if resume and self.last_event_id:
            frame["last_event_id"] = self.last_event_id
        if context:
            frame["context"] = context
        if customer_token:
            frame["customer_token"] = customer_token
        await self.send(frame)
        self.welcome = await self.expect("welcome")
        self.token = self.welcome["token"]
        self.customer_id = self.welcome["customer_id"]
        return self.welcome

    async def say(self, text: str, client_id: str | None = None) -> Frame:
        """Send a message and wait for its ack."""
        client_id = client_id or f"m-{next(_ids)}"
        await self.send({"type": "message", "client_id": client_id, "text": text})
        return await self.expect("ack", lambda f: f["client_id"] == client_id)

    async def event(self, type_: str, where: Callable[[Frame], bool] = lambda e: True, timeout: float = 5.0) -> Frame:
        frame = await self.expect("event", lambda f: f["event"]["type"] == type_ and where(f["event"]), timeout)
        self.last_event_id = frame["event"]["id"]
        return frame["event"]


class Agent(Client):
    path = "/ws/agent"

    def __init__(self, base_url: str, agent_id: str, password: str):
        super().__init__(base_url)
        self.agent_id = agent_id
        self.password = password
        self.token = ""
        self.welcome: Frame = {}

    async def login(self) -> str:
        self.session = self.session or aiohttp.ClientSession()
        async with self.session.post(
            self.base_url + "/api/agent/login", json={"agent_id": self.agent_id, "password": self.password}
        ) as r:
            body = await r.json()
            assert r.status == 200, body
            self.token = body["token"]
        return self.token

    async def hello(self, *, available: bool = True) -> Frame:
        if not self.token:
            await self.login()
        await self.connect()
        await self.send({"type": "hello", "token": self.token})
        self.welcome = await self.expect("welcome")
        if available:
            await self.send({"type": "status", "status": "available"})
            await self.expect("agent", lambda f: f["agent"]["status"] == "available")
        return self.welcome

    async def assigned(self, timeout: float = 5.0) -> Frame:
        return (await self.expect("assigned", timeout=timeout))["conversation"]

    async def say(self, conversation_id: str, text: str, *, note: bool = False) -> Frame:
        client_id = f"a-{next(_ids)}"
        await self.send(
            {
                "type": "note" if note else "message",
                "conversation_id": conversation_id,
                "client_id": client_id,
                "text": text,
            }
        )
        return await self.expect("ack", lambda f: f["client_id"] == client_id)

    async def event(self, type_: str, where: Callable[[Frame], bool] = lambda e: True, timeout: float = 5.0) -> Frame:
        frame = await self.expect("event", lambda f: f["event"]["type"] == type_ and where(f["event"]), timeout)
        return frame["event"]
