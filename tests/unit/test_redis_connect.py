"""The Redis settings a node is given (gateway/store/connect.py): contradictions refused before anything starts,
and the server named in logs without its password."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio.sentinel import SentinelManagedConnection

from gateway.config import from_sources
from gateway.errors import ConfigError
from gateway.store import connect


def settings(**flags: str):  # type: ignore[no-untyped-def]
    return from_sources(flags, {})


def test_a_log_line_names_the_server_without_its_password() -> None:
    url = "rediss://gateway:s3cret-pass@redis.example:6380/2"
    assert connect.describe(settings(redis_url=url)) == "rediss://redis.example:6380/2"
    sentinel = settings(redis_sentinel="10.0.0.1:26379,10.0.0.2:26379", redis_password="s3cret-pass")
    text = connect.describe(sentinel)
    assert "s3cret" not in text and "10.0.0.2:26379" in text and "'mymaster'" in text


def test_external_is_a_url_or_sentinels() -> None:
    assert not connect.external(settings())
    assert connect.external(settings(redis_url="redis://127.0.0.1:6379/0"))
    assert connect.external(settings(redis_sentinel="127.0.0.1:26379"))


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        ({"redis_url": "redis://r:6379/0", "redis_sentinel": "s:26379"}, "redis_sentinel"),
        ({"redis_url": "http://r:6379/0"}, "redis_url"),
        ({"redis_durable_replicas": "1"}, "redis_durable_replicas"),
        (
            {"redis_url": "redis://r:6379/0", "redis_cluster": "yes", "redis_durable_replicas": "1"},
            "redis_durable_replicas",
        ),
        ({"redis_cluster": "yes"}, "redis_cluster"),
        ({"redis_url": "unix:///run/redis.sock", "redis_cluster": "yes"}, "redis_cluster"),
        ({"redis_url": "redis://r:6379/0", "redis_ca_file": "CA"}, "redis_ca_file"),
        ({"redis_url": "rediss://r:6379/0", "redis_ca_file": "/nowhere/ca.pem"}, "redis_ca_file"),
        (
            {"redis_url": "rediss://r:6379/0", "redis_cert_file": "CA", "redis_key_file": "/nowhere/key.pem"},
            "redis_key_file",
        ),
        ({"redis_url": "rediss://r:6379/0", "redis_key_file": "CA"}, "redis_key_file"),
    ],
)
def test_contradictory_settings_are_refused_before_anything_starts(
    flags: dict[str, str], field: str, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    given = {k: str(ca) if v == "CA" else v for k, v in flags.items()}
    with pytest.raises(ConfigError) as caught:
        connect.check(settings(**given))
    assert caught.value.field == field


def test_cluster_mode_puts_every_key_in_one_slot() -> None:
    assert connect.key_prefix(settings()) == "cg"
    assert connect.key_prefix(settings(redis_url="redis://r:6379", redis_cluster="yes")) == "{cg}"


def test_both_pools_wait_in_line_and_sentinel_keeps_its_connections() -> None:
    """The URL's pool and the Sentinel's are both the fair line (callers beyond the pool served in turn, failing only
    when the line stalls); under Sentinel the connections still ask the Sentinels where the master is."""
    url_pool = connect.client(settings(redis_url="redis://127.0.0.1:6379/0")).connection_pool
    sentinel_pool = connect.client(settings(redis_sentinel="127.0.0.1:26379")).connection_pool
    for pool in (url_pool, sentinel_pool):
        assert isinstance(pool, connect.FairLine)
        assert pool.max_connections == connect.POOL_SIZE and pool.timeout == connect.POOL_STALL_SECONDS
    assert sentinel_pool.connection_class is SentinelManagedConnection


def test_a_reply_may_take_the_redis_timeout_and_a_durability_wait_on_top() -> None:
    """``--redis-timeout`` bounds every reply and new connection, under Sentinel too; a durable message's ``WAIT``
    holds Redis's reply for up to ``--redis-durable-wait-ms`` more, so that much is added (with redis-py's own 5 s
    default a wait of 8 s timed out before Redis could say how many replicas had the message)."""
    plain = connect.client(settings(redis_url="redis://127.0.0.1:6379/0", redis_timeout="3")).connection_pool
    assert (plain.connection_kwargs["socket_timeout"], plain.connection_kwargs["socket_connect_timeout"]) == (3, 3)
    durable = settings(
        redis_sentinel="127.0.0.1:26379", redis_timeout="3", redis_durable_replicas="1", redis_durable_wait_ms="8000"
    )
    pool = connect.client(durable).connection_pool
    assert (pool.connection_kwargs["socket_timeout"], pool.connection_kwargs["socket_connect_timeout"]) == (11, 3)
