"""A chat load-generator process for ``bench chat`` (bench/chat_load.py): customers and agents over WebSockets.

Run by the benchmark as ``python -m bench.chat_gen --generate ...``, never by hand; its last stdout line is its JSON
report. Each process holds its share of the customers (global indices ``--first`` .. ``--first + --customers``) and
of the agents (``--agents``, comma-separated ids). A customer opens a conversation with "hello", then from
``--start-at - --interval`` (one interval of warm-up) sends ``t=<send time>`` on a fixed schedule (every
``--interval`` seconds, its phase spread by its index); an agent answers every such message with ``r=<send
time>``. Whoever receives a message notes its delivery latency (send -> receive: ``time.monotonic()``, one clock
for every process on the machine). Counted in the window ``[--start-at, --start-at + --seconds)``: the messages
this process sent (by their scheduled time), those it received (by their send time, so a message sent in the
window and received just after it counts), and this process's own CPU.

``--hold`` (the assignment step): customers only, each says "hello" once and holds its socket open until the
process is told to stop (SIGTERM); it prints how many of its customers were assigned.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from typing import Any

import aiohttp

RECEIVE_GRACE_SECONDS = 3.0  # after the window: messages sent in it may still arrive


def address(index: int) -> str:
    """A distinct client address (10.0.0.0/8) for customer or agent ``index``."""
    return f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def agent_address(agent_id: str) -> str:
    return address(1_000_000 + int(agent_id.removeprefix("agent")))


def phase(index: int, total: int, interval: float) -> float:
    """Where customer ``index`` of ``total`` sends in each interval (seconds after the window opens): the phases
    spread evenly, so the load is even across the generators."""
    return interval * (index % total) / total


def schedule(phase: float, interval: float, seconds: float) -> list[float]:
    """When a customer with this ``phase`` sends, in seconds after the window opens: one message of warm-up an
    interval before its phase, then one every ``interval`` while the window is open."""
    out, seq = [], 0
    while (due := phase - interval + seq * interval) < seconds:
        out.append(due)
        seq += 1
    return out


def scheduled(first: int, customers: int, total: int, interval: float, seconds: float) -> int:
    """The messages customers ``first`` .. ``first + customers`` are scheduled to send in a window of ``seconds``,
    each by its own phase: in a window that is not a whole number of intervals, a customer whose phase comes early
    sends one more than one whose phase comes late (15 s at 2 s: 8 or 7)."""
    return sum(
        1
        for index in range(first, first + customers)
        for due in schedule(phase(index, total, interval), interval, seconds)
        if due >= 0
    )


async def first_of(*events: asyncio.Event) -> None:
    waits = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
        await asyncio.gather(*waits, return_exceptions=True)


class Generator:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.ws_base = args.base.replace("http", "ws")
        self.window = (args.start_at, args.start_at + args.seconds)  # epoch
        # the same window on the monotonic clock that stamps the messages
        offset = time.monotonic() - time.time()
        self.mwindow = (self.window[0] + offset, self.window[1] + offset)
        self.to_agent: list[float] = []
        self.to_customer: list[float] = []
        self.sent = 0
        self.replies_sent = 0
        self.errors: list[str] = []
        self.assigned = 0
        self.all_assigned = asyncio.Event()
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []

    def in_window(self, stamp: float) -> bool:
        return self.mwindow[0] <= stamp < self.mwindow[1]

    async def agent(self, session: aiohttp.ClientSession, agent_id: str) -> None:
        headers = {"X-Forwarded-For": agent_address(agent_id)}
        async with session.post(
            self.args.base + "/api/agent/login", json={"agent_id": agent_id, "password": "bench"}, headers=headers
        ) as r:
            body = await r.json()
            if r.status != 200:
                raise RuntimeError(f"agent {agent_id} could not log in: {body}")
        ws = await session.ws_connect(self.ws_base + "/ws/agent", max_msg_size=0, headers=headers)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "token": body["token"]})
        await ws.send_json({"type": "status", "status": "available"})
        n = 0
        async for msg in ws:
            frame = json.loads(msg.data)
            kind = frame["type"]
            if kind == "event" and frame["event"]["type"] == "message" and frame["event"]["author"] == "customer":
                text = frame["event"]["text"]
                if not text.startswith("t="):
                    continue
                sent_at = float(text[2:])
                if self.in_window(sent_at):
                    self.to_agent.append((time.monotonic() - sent_at) * 1000)
                n += 1
                now = time.monotonic()
                await ws.send_json(
                    {
                        "type": "message",
                        "conversation_id": frame["conversation_id"],
                        "client_id": f"{agent_id}-{n}",
                        "text": f"r={now!r}",
                    }
                )
                if self.in_window(now):
                    self.replies_sent += 1
            elif kind == "error":
                self.errors.append(f"agent: {frame.get('code')}: {frame['message']}")

    async def customer(self, session: aiohttp.ClientSession, index: int, stop: asyncio.Event) -> None:
        ws = await session.ws_connect(
            self.ws_base + "/ws/customer", max_msg_size=0, headers={"X-Forwarded-For": address(index)}
        )
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "token": None})
        assigned = asyncio.Event()

        async def reader() -> None:
            async for msg in ws:
                frame = json.loads(msg.data)
                if frame["type"] == "event":
                    event = frame["event"]
                    if event["type"] == "assigned" and not assigned.is_set():
                        assigned.set()
                        self.assigned += 1
                        if self.assigned >= self.args.customers:
                            self.all_assigned.set()
                    elif event["type"] == "message" and event.get("author") == "agent":
                        sent_at = float(event["text"][2:])
                        if self.in_window(sent_at):
                            self.to_customer.append((time.monotonic() - sent_at) * 1000)
                elif frame["type"] == "error":
                    self.errors.append(f"customer: {frame['code']}: {frame['message']}")

        read_task = asyncio.create_task(reader())
        try:
            await ws.send_json({"type": "message", "client_id": f"c{index}-0", "text": "hello"})
            if self.args.hold:
                await stop.wait()
                return
            await first_of(assigned, stop)
            if stop.is_set():
                return
            args = self.args
            for seq, offset in enumerate(
                schedule(phase(index, args.total, args.interval), args.interval, args.seconds), 1
            ):
                await asyncio.sleep(max(0.0, self.mwindow[0] + offset - time.monotonic()))
                if stop.is_set():
                    break
                now = time.monotonic()
                await ws.send_json({"type": "message", "client_id": f"c{index}-{seq}", "text": f"t={now!r}"})
                if self.in_window(now):  # by when it went (a receipt counts by the same stamp)
                    self.sent += 1
            await stop.wait()
        finally:
            await ws.close()
            await asyncio.gather(read_task, return_exceptions=True)

    async def run(self) -> dict[str, Any]:
        args = self.args
        stop = asyncio.Event()
        if args.hold:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        agents = [a for a in args.agents.split(",") if a]
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            agent_tasks = [asyncio.create_task(self.agent(session, a)) for a in agents]
            customers = []
            for i in range(args.first, args.first + args.customers):
                customers.append(asyncio.create_task(self.customer(session, i, stop)))
                if i % 50 == 49:
                    await asyncio.sleep(0.05)  # connect at about 1,000 a second
            if args.hold:
                await stop.wait()
                await asyncio.gather(*customers, return_exceptions=True)
                return {"customers": args.customers, "assigned": self.assigned, "errors": self.errors[:3]}
            await asyncio.sleep(max(0.0, self.window[0] - time.time()))
            late_start = self.assigned < args.customers
            c0, t0 = time.process_time(), time.perf_counter()
            await asyncio.sleep(max(0.0, self.window[1] - time.time()))
            c1, t1 = time.process_time(), time.perf_counter()
            await asyncio.sleep(RECEIVE_GRACE_SECONDS)
            stop.set()
            failed = [r for r in await asyncio.gather(*customers, return_exceptions=True) if isinstance(r, Exception)]
            for ws in self.sockets:
                await ws.close()
            failed += [
                r for r in await asyncio.gather(*agent_tasks, return_exceptions=True) if isinstance(r, Exception)
            ]
        return {
            "customers": args.customers,
            "agents": len(agents),
            "window_s": t1 - t0,
            "cpu_s": c1 - c0,
            "sent": self.sent,
            "sent_expected": scheduled(args.first, args.customers, args.total, args.interval, args.seconds),
            "replies_sent": self.replies_sent,
            "to_agent_ms": [round(v, 3) for v in self.to_agent],
            "to_customer_ms": [round(v, 3) for v in self.to_customer],
            "late_start": late_start,
            "assigned": self.assigned,
            "errors": (self.errors + [repr(e) for e in failed])[:3],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generate", action="store_true", required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--first", type=int, default=0, help="the global index of this process's first customer")
    parser.add_argument("--customers", type=int, default=0)
    parser.add_argument("--total", type=int, default=1, help="customers over every generator (spreads the phases)")
    parser.add_argument("--agents", default="", help="comma-separated agent ids (password 'bench')")
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--start-at", type=float, default=0.0, help="the measured window's start (epoch)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--hold", action="store_true", help="customers say hello and wait for SIGTERM")
    args = parser.parse_args()
    result = asyncio.run(Generator(args).run())
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
