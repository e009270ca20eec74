"""What a node says when TLS to Redis is refused at start (gateway/store/connect.py ``reach``): a real TLS listener
on loopback and a real redis-py client, verifying as Python 3.13 does (``VERIFY_X509_STRICT``, set here by hand on
older Pythons). A certificate the CA file does not vouch for points at the CA file; a certificate the CA file
vouches for, but made without the extensions strict verification demands, points at the certificate."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from gateway.config import from_sources
from gateway.errors import ConfigError
from gateway.store import connect
from tests.support.redis_ha import Ca, make_ca, make_server_cert


async def refusal(ca_file: Path, cert: tuple[Path, Path]) -> ConfigError:
    """Start a TLS listener with ``cert`` on loopback and ``reach`` it trusting ``ca_file``: the ConfigError."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)

    async def nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(nothing, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    url = f"rediss://127.0.0.1:{port}/0"
    settings = from_sources({"redis_url": url, "redis_ca_file": str(ca_file)}, {})
    client = aioredis.Redis.from_url(
        url,
        ssl_ca_certs=str(ca_file),
        ssl_include_verify_flags=[ssl.VERIFY_X509_STRICT],  # Python 3.13's default context sets it
        socket_timeout=10,
    )
    try:
        with pytest.raises(ConfigError) as caught:
            await connect.reach(client, settings)
        return caught.value
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


@pytest.fixture
async def ca(tmp_path: Path) -> AsyncIterator[Ca]:
    yield make_ca(tmp_path, "ca")


async def test_a_certificate_without_the_strict_extensions_is_named_not_the_ca_file(ca: Ca, tmp_path: Path) -> None:
    error = await refusal(ca.cert, make_server_cert(ca, tmp_path, key_identifier=False))
    assert error.field == "redis_ca_file"
    assert "Missing Authority Key Identifier" in error.message
    assert "is --redis-ca-file the CA" not in error.message, error.message  # the CA file is the right one
    assert "chains to --redis-ca-file" in error.message and "VERIFY_X509_STRICT" in error.message
    assert "openssl verify -x509_strict" in error.message


async def test_a_certificate_of_another_ca_still_points_at_the_ca_file(ca: Ca, tmp_path: Path) -> None:
    other = make_ca(tmp_path, "other")
    error = await refusal(other.cert, make_server_cert(ca, tmp_path, key_identifier=True))
    assert "certificate verify failed" in error.message
    assert "is --redis-ca-file the CA that signed the server's certificate?" in error.message
    assert "VERIFY_X509_STRICT" not in error.message


async def test_a_certificate_for_another_address_or_expired_is_named_not_the_ca_file(ca: Ca, tmp_path: Path) -> None:
    error = await refusal(ca.cert, make_server_cert(ca, tmp_path, key_identifier=True, address="127.0.0.2"))
    assert "does not name the address of --redis-url" in error.message, error.message
    assert "is --redis-ca-file the CA" not in error.message
    error = await refusal(ca.cert, make_server_cert(ca, tmp_path, key_identifier=True, expired=True))
    assert "has expired: renew it" in error.message, error.message
    assert "is --redis-ca-file the CA" not in error.message


def test_without_a_ca_file_the_system_cas_are_named() -> None:
    refused = ssl.SSLCertVerificationError(1, "certificate verify failed")
    refused.verify_code, refused.verify_message = 20, "unable to get local issuer certificate"
    assert "does a CA the system trusts sign" in connect.tls_refusal(refused, ca_file=False)
    assert "--redis-ca-file the CA" in connect.tls_refusal(refused, ca_file=True)
    refused.verify_code, refused.verify_message = 85, "Missing Authority Key Identifier"
    assert "chains to the system's trusted CAs" in connect.tls_refusal(refused, ca_file=False)
