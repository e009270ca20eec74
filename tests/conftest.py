"""Fixtures: one real Redis server per test session (flushed before each test) and gateway nodes."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web_app

from gateway.config import Settings
from gateway.contact.agents_file import add_agent
from gateway.store.keys import Keys
from gateway.store.store import Store
from media.event_loop import NodeEventLoop
from tests.support.clients import Agent, Customer
from tests.support.leaks import (  # noqa: F401 - autouse: a test leaving tasks, threads, sockets, peers fails
    no_leaked_tasks,
    no_leaked_tasks_in_async_tests,
    no_leaked_tasks_on_the_browser_loop,
    no_leaked_threads_or_sockets,
    track_births,
)
from tests.support.servers import Node, RedisServer, start_node

TEST_FLOWS = Path(__file__).resolve().parent / "flows"

PASSWORDS = {"alice": "alice-secret-1", "bob": "bob-secret-22", "carol": "carol-secret-333"}

#: The order the test files start in (bin/test runs xdist with ``--no-loadscope-reorder``, so this is the order
#: files are handed to workers): integration and browser files (few tests of 2-35 s each) taken in turn, most tests
#: first, and the many quick unit tests last, to fill the run's end evenly. xdist's own order (most tests first,
#: whatever they are) ran the unit files first and left a worker alone with a long integration file at the end;
#: all the integration files first, then all the browser ones, ran three Chromiums at once (load 17 on 2 cores:
#: two browser audio tests failed).
SLOW_KINDS = ("tests/integration/", "tests/browser/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    counts = Counter(item.nodeid.split("::")[0] for item in items)
    by_kind: list[list[str]] = [[] for _ in SLOW_KINDS]
    rest = []
    for path in sorted(counts, key=lambda path: (-counts[path], path)):
        kind = next((i for i, prefix in enumerate(SLOW_KINDS) if path.startswith(prefix)), None)
        (rest if kind is None else by_kind[kind]).append(path)
    taken_in_turn = [path for group in itertools.zip_longest(*by_kind) for path in group if path is not None]
    position = {path: n for n, path in enumerate(taken_in_turn + rest)}
    items.sort(key=lambda item: position[item.nodeid.split("::")[0]])  # stable: a file's tests keep their order


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """Every async test runs on the loop ``contact-gateway serve`` runs on (it reads UDP sockets empty per wake-up)."""
    return {"node_loop": NodeEventLoop}


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.flush()
    return redis_server.url


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    """A Store on the test's (flushed) Redis, with the node's default key prefix."""
    async with store_on(redis_url) as made:
        yield made


@asynccontextmanager
async def store_on(redis_url: str) -> AsyncIterator[Store]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield Store(client, Keys("cg"))
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def agents_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agents") / "agents.toml"
    add_agent(path, "alice", "Alice Smith", PASSWORDS["alice"], capacity=2)
    add_agent(path, "bob", "Bob Jones", PASSWORDS["bob"], capacity=2)
    add_agent(
        path,
        "carol",
        "Carol White",
        PASSWORDS["carol"],
        capacity=1,
        roles=("agent", "supervisor"),
        skills=(("spanish", 3),),
    )
    return path


@pytest.fixture
def settings(redis_url: str, agents_file: Path, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        redis_url=redis_url,
        agents_file=agents_file,
        secret="test-secret-0123456789abcdef",
        log_format="text",
        flows_dir=TEST_FLOWS,
        # admission by load is off: a loaded test machine's event-loop lag or late frames must not turn test calls
        # away (tests/integration/test_admission.py turns them on)
        admission_max_lag_ms=0,
        admission_max_late_percent=0,
        admission_max_loop_cpu_percent=0,
        # pocketsphinx decodes in threads (seconds to start worker processes per node; test_asr_processes.py runs them)
        asr_processes=0,
        # a dropped agent leg waits 3 s for the agent's desk to come back (15 s by default): a lost agent stays quick
        agent_reconnect_seconds=3.0,
    )


@pytest.fixture(autouse=True)
def forget_stopped_apps() -> Iterator[None]:
    """aiohttp caches each request's middleware chain per (handler, application) in an LRU of 1,024 entries
    (``web_app._cached_build_middleware``), which keeps a stopped node's whole application alive: its services,
    caches, Redis clients. A production process runs one application; a test process starts hundreds, and its memory
    grew by about 37 MB per test that ran a node (6.5 GB per xdist worker over the suite) until this was cleared."""
    yield
    cached = getattr(web_app, "_cached_build_middleware", None)
    if cached is not None:  # (a later aiohttp may cache differently: then this frees nothing)
        cached.cache_clear()


@pytest.fixture(autouse=True)
def ice_on_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every aiortc peer in the tests (gateway legs and test callers) offers only 127.0.0.1."""
    import aioice.ice

    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
async def node(settings: Settings) -> AsyncIterator[Node]:
    async with running_node(settings) as started:
        yield started


@pytest.fixture
async def clients(node: Node) -> AsyncIterator[Clients]:
    async with clients_of(node) as made:
        yield made


# (the bodies of the fixtures above, which tests/browser/conftest.py declares again on the browser tests' loop)


@asynccontextmanager
async def running_node(settings: Settings) -> AsyncIterator[Node]:
    started = await start_node(settings)
    try:
        yield started
    finally:
        await bounded(started.stop(), "stopping the gateway node")


@asynccontextmanager
async def clients_of(node: Node) -> AsyncIterator[Clients]:
    made = Clients(node.url)
    try:
        yield made
    finally:
        await bounded(made.close(), "closing the test clients")


async def bounded(coro: Coroutine[Any, Any, None], what: str, seconds: float = 15) -> None:
    """Teardown that cannot hang silently: on timeout, fail naming the step and show every task's stack."""
    try:
        async with asyncio.timeout(seconds):
            await coro
    except TimeoutError:
        for task in asyncio.all_tasks():
            task.print_stack(limit=8)
        pytest.fail(f"{what} took over {seconds} s (task stacks printed above)")


class Clients:
    """Makes customers and agents on a node and closes them all after the test."""

    def __init__(self, url: str):
        self.url = url
        self.made: list[Customer | Agent] = []

    def customer(self, token: str | None = None, url: str | None = None) -> Customer:
        c = Customer(url or self.url, token)
        self.made.append(c)
        return c

    def agent(self, agent_id: str, url: str | None = None) -> Agent:
        a = Agent(url or self.url, agent_id, PASSWORDS[agent_id])
        self.made.append(a)
        return a

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.made))
