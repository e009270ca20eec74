"""Private data at rest: the real ``contact-gateway serve`` leaves nothing readable by other local users,
and the token signing secret lives in a 0600 key file (or ``--secret``), never in Redis' plain values."""

from __future__ import annotations

import asyncio
import io
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from gateway.data_dir import prepare_data_dir
from gateway.errors import ConfigError
from gateway.store.embedded_redis import AUTH_CONFIG, MAX_SOCKET_PATH, EmbeddedRedis
from gateway.store.store import Keys, Store
from gateway.wire.signing_secret import KEY_FILE, read_or_create_key_file, signing_secrets
from tests.support.servers import GatewayProcess


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask 022: without care, files come out 0644 and directories 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def test_real_serve_keeps_every_file_private(tmp_path: Path, loose_umask: None) -> None:
    from tests.support.clients import Agent, Customer

    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # as an older version (or `mkdir data`) left it, with an old recording
    old = data / "recordings" / "c_old" / "call.ogg"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"OggS")
    os.chmod(old, 0o644)
    gw = GatewayProcess(data, "--log-format", "text")  # embedded Redis, generated secret, demo agent
    await gw.start()
    try:
        password = next(
            line
            for line in gw.log.read_text().splitlines()
            if "agent 'demo' (roles agent, supervisor, admin), password" in line
        )
        cust = Customer(gw.url)
        demo = Agent(gw.url, "demo", password.split("password '")[1].split("'")[0])
        try:
            await demo.hello()
            await cust.hello()
            await cust.say("my card number is private")
            await demo.assigned()
        finally:
            await asyncio.gather(cust.close(), demo.close())
        await asyncio.sleep(1.2)  # appendfsync everysec: the AOF has it on disk
        aof = [data / "appendonly.aof"] if (data / "appendonly.aof").exists() else []
        aof_dir = data / "appendonlydir"
        if aof_dir.exists():
            aof += list(aof_dir.iterdir())
            assert mode(aof_dir) == 0o700
        assert aof and any(b"my card number is private" in p.read_bytes() for p in aof)
        assert mode(data) == 0o700
        for path in [*aof, data / "redis.log", data / KEY_FILE, old]:
            assert mode(path) == 0o600, f"{path.name} is {mode(path):04o}"
        assert mode(old.parent) == mode(old.parent.parent) == 0o700
        log = gw.log.read_text()
        assert "was mode 0755" in log and "recordings/c_old/call.ogg" in log  # the tightening is logged

        # the secret is in the key file only: not a Redis value, not in the AOF
        secret = (data / KEY_FILE).read_bytes().strip()
        assert len(secret) >= 32
        client = aioredis.Redis.from_url(f"unix://{data / 'redis.sock'}")
        try:
            assert await client.get("cg:secret") is None
        finally:
            await client.aclose()
        assert not any(secret in p.read_bytes() for p in aof)
    finally:
        assert await gw.stop() == 0


def test_a_new_data_directory_is_created_private(tmp_path: Path, loose_umask: None) -> None:
    data = tmp_path / "deep" / "data"
    prepare_data_dir(data)
    assert mode(data) == 0o700 and mode(data.parent) == 0o700


def test_a_directory_holding_other_files_keeps_its_mode(
    tmp_path: Path, loose_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    """--data-dir pointed at a shared directory by mistake: the gateway's files are made private, the rest
    and the directory's own mode are left alone (other software may need them), with a warning."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    (shared / "website.html").write_text("public")
    (shared / KEY_FILE).write_text("x" * 32)
    os.chmod(shared / KEY_FILE, 0o644)
    prepare_data_dir(shared)
    assert mode(shared) == 0o755 and mode(shared / "website.html") == 0o644
    assert mode(shared / KEY_FILE) == 0o600
    assert "website.html" in caplog.text and "chmod 700" in caplog.text


def test_two_nodes_creating_the_key_file_at_once_get_the_same_secret(tmp_path: Path, loose_umask: None) -> None:
    path = tmp_path / KEY_FILE
    results: list[bytes] = []
    start = threading.Barrier(8)

    def create() -> None:
        start.wait()
        results.append(read_or_create_key_file(path))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results[0]) == 64
    assert mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]  # no temporary file left


async def test_old_secret_in_redis_is_moved_to_the_key_file(redis_url: str, tmp_path: Path) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        old = b"an-old-secret-from-redis-0123456789"
        await redis.set("cg:secret", old)
        # a shared Redis keeps it (nodes of the old version may still read it); the node moves to the key file
        assert await signing_secrets(Store(redis, Keys("cg")), None, tmp_path, embedded=False) == [old]
        assert (tmp_path / KEY_FILE).read_bytes().strip() == old and mode(tmp_path / KEY_FILE) == 0o600
        assert await redis.get("cg:secret") == old
        # its own (embedded) Redis forgets it
        assert await signing_secrets(Store(redis, Keys("cg")), None, tmp_path, embedded=True) == [old]
        assert await redis.get("cg:secret") is None
    finally:
        await redis.aclose()


async def test_configured_secrets_win_and_rotate(redis_url: str, tmp_path: Path) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        new, old = "new-secret-0123456789abcdef", "old-secret-0123456789abcdef"
        assert await signing_secrets(Store(redis, Keys("cg")), old, tmp_path, embedded=False) == [old.encode()]
        # a rolling rotation: the stored fingerprint (old) is among this node's secrets
        assert await signing_secrets(Store(redis, Keys("cg")), f"{new}, {old}", tmp_path, embedded=False) == [
            new.encode(),
            old.encode(),
        ]
        assert not (tmp_path / KEY_FILE).exists()
    finally:
        await redis.aclose()


async def test_nodes_with_different_generated_secrets_on_one_redis_refuse_to_start(
    redis_url: str, tmp_path: Path
) -> None:
    redis = aioredis.Redis.from_url(redis_url)
    try:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        first = await signing_secrets(Store(redis, Keys("cg")), None, tmp_path / "a", embedded=False)
        assert (
            await signing_secrets(Store(redis, Keys("cg")), None, tmp_path / "a", embedded=False) == first
        )  # a restart
        with pytest.raises(ConfigError, match="same --secret"):  # another machine: its own key file
            await signing_secrets(Store(redis, Keys("cg")), None, tmp_path / "b", embedded=False)
        # given the first node's secret, the second one joins
        assert (
            await signing_secrets(Store(redis, Keys("cg")), first[0].decode(), tmp_path / "b", embedded=False) == first
        )
    finally:
        await redis.aclose()


async def test_embedded_redis_on_loopback_tcp_requires_a_password(
    tmp_path: Path, loose_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A data directory path too long for a unix socket: loopback TCP, which every local user can reach."""
    data = tmp_path / ("d" * 100) / "data"
    embedded = EmbeddedRedis(data)
    url = await embedded.start()
    try:
        assert len(str(data / "redis.sock")) > MAX_SOCKET_PATH and url.startswith("redis://:")
        password = url.split("redis://:")[1].split("@")[0]
        assert password not in caplog.text
        anonymous = aioredis.Redis.from_url("redis://" + url.split("@")[1])
        try:
            with pytest.raises(aioredis.AuthenticationError):
                await anonymous.ping()
        finally:
            await anonymous.aclose()
        client = aioredis.Redis.from_url(url)
        try:
            assert await client.ping()
        finally:
            await client.aclose()
        assert mode(data) == 0o700 and mode(data / AUTH_CONFIG) == 0o600 and mode(data / "redis.log") == 0o600
    finally:
        await embedded.stop()


def test_the_agents_commands_keep_the_data_directory_and_an_export_private(
    tmp_path: Path, loose_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`contact-gateway agents add` with no node running (its own embedded Redis for the command's length) and
    `agents export`: the data directory, the store's files and the exported file (password hashes) are private."""
    from gateway import cli

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-passphrase\n"))
    assert cli.main(["agents", "add", "ann", "--password-stdin", "--data-dir", str(data)]) == 0
    out = tmp_path / "agents.toml"
    assert cli.main(["agents", "export", str(out), "--data-dir", str(data)]) == 0
    assert mode(data) == 0o700 and mode(out) == 0o600 and mode(data / "redis.log") == 0o600
    assert "ann" in out.read_text() and "a-long-passphrase" not in out.read_text()


async def test_a_configured_secret_makes_no_key_file_and_the_flag_is_warned_about(tmp_path: Path) -> None:
    data = tmp_path / "data"
    gw = GatewayProcess(data, "--log-format", "text", "--secret", "flag-secret-0123456789abcdef")
    await gw.start()
    try:
        assert not (data / KEY_FILE).exists()
        assert "--secret on the command line is visible to every local user" in gw.log.read_text()
    finally:
        assert await gw.stop() == 0
