"""A managed-Redis-like server: TLS only (``--tls-port``, no plain port) with a password, its certificate signed
by a CA made in the test (tests/support/redis_ha.py). A real node connects with ``rediss://`` and
``--redis-ca-file`` and a chat works end to end; a CA that did not sign the server's certificate, or a wrong
password, stops the node at start with a clear error naming the setting to fix; no log line carries the password.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_redis_outage import Side, agent_answers, first_chat
from tests.support.redis_ha import TlsRedis, make_ca
from tests.support.servers import GatewayProcess

PASSWORD = "tls-redis-password-5f2c9a"


@pytest.fixture
def tls_redis() -> Iterator[TlsRedis]:
    server = TlsRedis(PASSWORD)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def tls_node(
    tmp_path: Path, name: str, agents_file: Path, url: str, ca_file: Path, env: dict[str, str] | None = None
) -> GatewayProcess:
    return GatewayProcess(
        tmp_path / name,
        "--redis-url",
        url,
        "--redis-ca-file",
        str(ca_file),
        "--agents-file",
        str(agents_file),
        "--log-format",
        "text",
        env={"CG_SECRET": "test-secret-0123456789abcdef", **(env or {})},
    )


@pytest.mark.parametrize("password_in", ["url", "environment"])
async def test_a_node_chats_over_tls_with_a_password(
    tmp_path: Path, agents_file: Path, tls_redis: TlsRedis, password_in: str
) -> None:
    if password_in == "url":
        gw = tls_node(tmp_path, "node", agents_file, tls_redis.url(), tls_redis.ca.cert)
    else:  # CG_REDIS_PASSWORD for a URL without one
        url = f"rediss://127.0.0.1:{tls_redis.port}/0"
        gw = tls_node(tmp_path, "node", agents_file, url, tls_redis.ca.cert, env={"CG_REDIS_PASSWORD": PASSWORD})
    sides: list[Side] = []
    try:
        await gw.start()
        alice, customer, cid = await first_chat(gw, sides, "hello over TLS")
        await agent_answers(alice, customer, cid)
    finally:
        for side in sides:
            await side.close()
        if gw.proc is not None:
            await gw.stop()
    text = gw.log.read_text()
    assert PASSWORD not in text
    assert "Redis: rediss://127.0.0.1:" in text


async def refused_start(gw: GatewayProcess) -> str:
    with pytest.raises(RuntimeError, match="gateway did not start") as caught:
        await gw.start()
    return str(caught.value)


async def test_a_ca_that_did_not_sign_the_certificate_is_a_clear_start_up_error(
    tmp_path: Path, agents_file: Path, tls_redis: TlsRedis
) -> None:
    other_ca = make_ca(tmp_path, "other-ca")
    gw = tls_node(tmp_path, "node", agents_file, tls_redis.url(), other_ca.cert)
    text = await refused_start(gw)
    assert "contact-gateway: TLS to Redis at rediss://127.0.0.1:" in text
    assert "certificate verify failed" in text and "--redis-ca-file" in text
    assert "Traceback" not in text and PASSWORD not in text


async def test_a_wrong_password_is_a_clear_start_up_error(
    tmp_path: Path, agents_file: Path, tls_redis: TlsRedis
) -> None:
    gw = tls_node(tmp_path, "node", agents_file, tls_redis.url("not-the-password"), tls_redis.ca.cert)
    text = await refused_start(gw)
    assert "refused the credentials" in text and "--redis-password" in text
    assert "Traceback" not in text and "not-the-password" not in text
