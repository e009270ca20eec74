"""Redis clients built from the settings, in one place: every client of a node or a command comes from :func:`client`.

Three ways to a Redis:

- ``--redis-url``: ``redis://`` (TCP), ``rediss://`` (TLS), ``unix://`` (a socket); user and password in the URL
  (or ``--redis-username`` / ``--redis-password`` when the URL has none);
- ``--redis-sentinel host:port,... --redis-master NAME``: the Sentinels name the master, and every new connection
  asks them again, so after a failover the clients reconnect to the new master (redis-py's ``SentinelConnectionPool``;
  the bus's pub/sub connection comes from the same pool). TLS when ``--redis-ca-file`` is given (to the Sentinels
  and the master), ``--redis-sentinel-password`` for Sentinels that ask for one;
- neither: the embedded server's URL (gateway/store/embedded_redis.py), given by the caller.

A failover looks like a short outage to the rest of the gateway: requests meanwhile fail with a StoreError (answered
``store_unavailable``, retried by the clients) and the bus replays what its channels missed. Passwords are never
logged: :func:`describe` names the server without them.

:func:`reach` is the first round trip of a start: a TLS certificate the CA file does not vouch for, or a refused
password, is a ConfigError there (a clear start-up error), not a retry loop.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.exceptions import AuthenticationError, BusyLoadingError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.config import Settings
from gateway.errors import ConfigError

log = logging.getLogger(__name__)

POOL_SIZE = 64  # a node's connections to Redis at most; callers beyond it wait in line for a free one
#: A caller in line fails (StoreError) only when no connection came free for this long: Redis is not answering.
#: A line that moves, however long, is a busy node or Redis: it waits (slower, not an error).
POOL_STALL_SECONDS = 10.0
HEALTH_CHECK_SECONDS = 30  # a connection idle this long is checked (PING) before it is used again


class FairLine(aioredis.BlockingConnectionPool):
    """A bounded pool whose callers beyond ``max_connections`` wait in line, first come first served, and fail only
    when the line stops moving.

    redis-py's blocking pool fails a caller that waited ``timeout`` seconds however fast the line moved: under a
    burst larger than the pool a merely busy node or Redis turned into ``store_unavailable`` errors after 10 s (a
    burst of 200 slow commands through 4 connections with a 0.5 s timeout: 180 failed). Here a caller gives up only
    after ``timeout`` seconds in which no connection came free (a Redis that does not answer); a Redis that refuses
    connections still fails each caller at once. A released connection is handed to the first in line directly
    (nobody can take it in between); redis-py's condition served a steady overload in arrival order too, in a
    measurement (1,500 callers through 4 connections), so the order is kept, not improved."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._line: deque[asyncio.Future[AbstractConnection]] = deque()
        self._freed_at = time.monotonic()  # when a connection last came free (or the pool was made)

    async def get_connection(self, command_name: Any = None, *keys: Any, **options: Any) -> AbstractConnection:
        self._serve_line()
        if not self._line and self.can_get_connection():
            connection = self.get_available_connection()
        else:
            connection = await self._wait_in_line()
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def _wait_in_line(self) -> AbstractConnection:
        turn: asyncio.Future[AbstractConnection] = asyncio.get_running_loop().create_future()
        self._line.append(turn)
        stall = self.timeout
        try:
            while True:
                tick = 1.0 if stall is None else min(1.0, stall)
                await asyncio.wait((turn,), timeout=tick)  # (does not cancel the turn when the tick runs out)
                if not turn.done():
                    self._serve_line()  # a pool reset (a failover) frees connections without a release
                if turn.done():
                    return turn.result()
                if stall is not None and time.monotonic() - self._freed_at >= stall:
                    raise RedisConnectionError(
                        f"no Redis connection came free in {stall:g} s ({self.max_connections} in use): "
                        "Redis is not answering"
                    ) from None
        except BaseException:
            if turn.done() and not turn.cancelled():  # handed a connection as it gave up: pass it on
                await self.release(turn.result())
            else:
                turn.cancel()
            raise

    def _serve_line(self) -> None:
        """Hand free connections to the callers in line, first first (synchronous: nobody takes one in between)."""
        while self._line and self.can_get_connection():
            turn = self._line.popleft()
            if not turn.done():  # not given up meanwhile
                turn.set_result(self.get_available_connection())

    async def release(self, connection: AbstractConnection) -> None:
        try:
            await super().release(connection)
        finally:
            self._freed_at = time.monotonic()
            self._serve_line()


class BlockingSentinelPool(SentinelConnectionPool, FairLine):
    """The Sentinel's pool, bounded like the URL's: a caller beyond ``max_connections`` waits in line for a free
    connection instead of failing. Closing it closes the Sentinel clients too (the node's client owns both)."""

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            await self.sentinel_manager.aclose()


def external(settings: Settings) -> bool:
    """True when the settings name a Redis (a URL or Sentinels); False: the node runs the embedded one."""
    return bool(settings.redis_url or settings.redis_sentinel)


def check(settings: Settings) -> None:
    """Refuse contradictory Redis settings (before anything starts)."""
    if settings.redis_url and settings.redis_sentinel:
        raise ConfigError(
            "--redis-url and --redis-sentinel exclude each other: Sentinel names the master itself",
            field="redis_sentinel",
        )
    for name in ("redis_ca_file", "redis_cert_file", "redis_key_file"):
        path = getattr(settings, name)
        if path is not None and not path.is_file():
            raise ConfigError(f"--{name.replace('_', '-')} {path}: no such file", field=name)
    if settings.redis_key_file is not None and settings.redis_cert_file is None:
        raise ConfigError("--redis-key-file goes with --redis-cert-file", field="redis_key_file")
    url = settings.redis_url
    if url and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError("--redis-url must start with redis://, rediss:// or unix://", field="redis_url")
    if settings.redis_durable_replicas and not external(settings):
        raise ConfigError(
            "--redis-durable-replicas needs a Redis with replicas (--redis-sentinel or --redis-url): the embedded "
            "one has none, and no message would ever be acknowledged",
            field="redis_durable_replicas",
        )
    if settings.redis_cluster and not url:
        raise ConfigError("--redis-cluster needs --redis-url (a node or the cluster's endpoint)", field="redis_cluster")
    if settings.redis_cluster and settings.redis_durable_replicas:
        raise ConfigError(
            "--redis-durable-replicas is not available with --redis-cluster (WAIT counts one node's replicas; the "
            "managed cluster's own durability applies)",
            field="redis_durable_replicas",
        )
    if url and urlsplit(url).scheme == "unix" and settings.redis_cluster:
        raise ConfigError("--redis-cluster needs a redis:// or rediss:// URL", field="redis_cluster")
    if settings.redis_ca_file is not None and url and not url.startswith("rediss://"):
        raise ConfigError("--redis-ca-file is for TLS: use a rediss:// URL", field="redis_ca_file")


def key_prefix(settings: Settings) -> str:
    """The prefix of every key (gateway/store/keys.py): in cluster mode one hash tag, ``{cg}``, so that every key
    of the deployment is in one slot and every script, which touches many keys, runs on one node."""
    return f"{{{settings.key_prefix}}}" if settings.redis_cluster else settings.key_prefix


def describe(settings: Settings, url: str | None = None) -> str:
    """Where the client goes, for a log line: never a password."""
    if settings.redis_cluster:
        parts = urlsplit(url or settings.redis_url or "")
        return f"the Redis Cluster of {parts.scheme}://{parts.hostname}:{parts.port or 6379}"
    if settings.redis_sentinel:
        sentinels = ",".join(f"{host}:{port}" for host, port in settings.redis_sentinel)
        tls = " over TLS" if settings.redis_ca_file is not None else ""
        return f"the master '{settings.redis_master}' of the Sentinels {sentinels}{tls}"
    parts = urlsplit(url or settings.redis_url or "")
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _tls(settings: Settings) -> dict[str, Any]:
    """The TLS options of a connection (for a rediss:// URL, or every connection under Sentinel)."""
    options: dict[str, Any] = {}
    if settings.redis_ca_file is not None:
        options["ssl_ca_certs"] = str(settings.redis_ca_file)
    if settings.redis_cert_file is not None:
        options["ssl_certfile"] = str(settings.redis_cert_file)
        options["ssl_keyfile"] = str(settings.redis_key_file or settings.redis_cert_file)
    return options


def _timeouts(settings: Settings) -> dict[str, Any]:
    """How long a command's reply (and a new connection) may take before the connection counts as lost: a Redis
    that froze or sits behind a network cut closes nothing, and with no limit a caller would wait forever. A
    durability ``WAIT`` blocks Redis's reply for up to ``--redis-durable-wait-ms`` more."""
    wait = settings.redis_durable_wait_ms / 1000 if settings.redis_durable_replicas else 0.0
    return {"socket_timeout": settings.redis_timeout + wait, "socket_connect_timeout": settings.redis_timeout}


def _auth(settings: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if settings.redis_username:
        options["username"] = settings.redis_username
    if settings.redis_password:
        options["password"] = settings.redis_password
    return options


def client(
    settings: Settings, url: str | None = None, *, pool_size: int = POOL_SIZE, stall_seconds: float = POOL_STALL_SECONDS
) -> aioredis.Redis:
    """A client of the Redis the settings name (``url``: the embedded server's, when they name none). Closing it
    (``aclose``) closes its pool and, under Sentinel, the Sentinel clients. Callers beyond ``pool_size`` wait in
    line (:class:`FairLine`), failing when no connection came free for ``stall_seconds``."""
    check(settings)
    timeouts = _timeouts(settings)
    if settings.redis_sentinel:
        tls = _tls(settings)
        on_tls = {"ssl": True, **tls} if settings.redis_ca_file is not None else {}
        sentinel_options: dict[str, Any] = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0, **on_tls}
        if settings.redis_sentinel_password:
            sentinel_options["password"] = settings.redis_sentinel_password
        sentinel = Sentinel(list(settings.redis_sentinel), sentinel_kwargs=sentinel_options)
        return sentinel.master_for(
            settings.redis_master,
            connection_pool_class=BlockingSentinelPool,
            max_connections=pool_size,
            timeout=stall_seconds,
            health_check_interval=HEALTH_CHECK_SECONDS,
            **timeouts,
            **_auth(settings),
            **on_tls,
        )
    target = url or settings.redis_url
    if not target:
        raise ConfigError("no Redis: give --redis-url or --redis-sentinel", field="redis_url")
    extra: dict[str, Any] = {}
    if target.startswith("rediss://"):
        extra.update(_tls(settings))
    parts = urlsplit(target)
    if settings.redis_password and not parts.password:
        extra.update(_auth(settings))
    if settings.redis_cluster:  # every key in one slot: the node that owns it runs everything
        return RedisCluster.from_url(target, **timeouts, **extra)  # type: ignore[return-value]
    pool = FairLine.from_url(
        target,
        max_connections=pool_size,
        timeout=stall_seconds,
        health_check_interval=HEALTH_CHECK_SECONDS,
        **timeouts,
        **extra,
    )
    return aioredis.Redis.from_pool(pool)  # closing the client closes the pool and its connections


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


#: how often the first PING is tried again while Redis loads its data
LOADING_POLL_SECONDS = 0.1
#: how long a start waits for a Redis that accepted the connection but does not answer (loading, or stuck)
LOADING_SILENCE_SECONDS = 60.0


async def _ping_once_loaded(redis: aioredis.Redis, where: str) -> None:
    """PING, waiting while Redis answers LOADING (it is reading its append-only file: a node started just after
    its embedded Redis exited with "Redis not reachable", 3 starts in 5 with a 1.4 MB file and every one with
    73 MB, so a lone worker that crashed never came back: a security tester's finding). Loading ends, or Redis
    stops answering at all (a ConnectionError, as any start against a Redis that is down)."""
    started = time.monotonic()
    said = 0.0
    while True:
        try:
            await redis.ping()
            return
        except RedisTimeoutError:
            # a Redis reading a large file answers only between chunks: its reply can come later than the read
            # timeout (a CI run on a busy machine); one that stays silent this long is not loading, it is stuck
            if time.monotonic() - started > LOADING_SILENCE_SECONDS:
                raise
            await asyncio.sleep(LOADING_POLL_SECONDS)
        except BusyLoadingError:
            waited = time.monotonic() - started
            if waited - said >= 5.0:
                log.warning("Redis at %s is still loading its data (%.0f s): waiting for it", where, waited)
                said = waited
            await asyncio.sleep(LOADING_POLL_SECONDS)


async def reach(redis: aioredis.Redis, settings: Settings, url: str | None = None) -> None:
    """The first round trip (PING): a certificate not signed by the CA, a refused password or an unknown Sentinel
    master is a ConfigError naming the setting to fix; Redis merely unreachable propagates (StoreError / OSError)."""
    where = describe(settings, url)
    try:
        await _ping_once_loaded(redis, where)
    except AuthenticationError as exc:
        raise ConfigError(
            f"Redis at {where} refused the credentials ({exc}): check the URL's user and password, or "
            "--redis-username / --redis-password",
            field="redis_password",
        ) from None
    except ResponseError as exc:
        if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
            raise ConfigError(
                f"Redis at {where} wants a password ({exc}): give it in the URL or --redis-password",
                field="redis_password",
            ) from None
        raise
    except (aioredis.ConnectionError, OSError) as exc:
        failure = _tls_failure(exc)
        if failure is None:
            raise
        raise ConfigError(
            f"TLS to Redis at {where} failed: {tls_refusal(failure, settings.redis_ca_file is not None)}",
            field="redis_ca_file",
        ) from None


#: OpenSSL 3's verify codes (x509_vfy.h, "errors in case a check in X509_V_FLAG_X509_STRICT mode fails": 78, and
#: X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA 80 .. X509_V_ERR_EC_KEY_EXPLICIT_PARAMS 94; 79, an invalid CA, is also
#: reported without strict mode, so it keeps the CA question) of RFC 5280's rules checked only under
#: ``VERIFY_X509_STRICT``, which Python 3.13's default context sets: a certificate without an Authority or Subject
#: Key Identifier, a CA whose basicConstraints is not critical or that has no keyUsage, extensions in a version 1
#: certificate, ... The chain was built up to a trusted CA: the certificates are at fault, not the choice of CA.
STRICT_VERIFY_CODES = frozenset({78, *range(80, 95)})

#: Verify failures where the chain verified but the certificate itself does not fit (x509_vfy.h): what to fix.
CERTIFICATE_VERIFY_HINTS = {
    9: "the server's certificate is not valid yet (is this machine's clock right?)",
    10: "the server's certificate has expired: renew it",
    62: "the server's certificate does not name the host of --redis-url (its subjectAltName)",
    64: "the server's certificate does not name the address of --redis-url (its subjectAltName)",
}


def tls_refusal(failure: ssl.SSLError, ca_file: bool = True) -> str:
    """What a TLS failure to Redis says, and what to fix: the CA when the chain did not verify; the certificates
    themselves when the chain verified but breaks a rule of strict verification (Python 3.13), has expired or does
    not name the host. ``ca_file``: whether ``--redis-ca-file`` was given (else the system's CAs are the trusted
    ones)."""
    ca = "--redis-ca-file" if ca_file else "the system's trusted CAs"
    question = (
        "(is --redis-ca-file the CA that signed the server's certificate?)"
        if ca_file
        else "(does a CA the system trusts sign the server's certificate? if not, give it with --redis-ca-file)"
    )
    if not isinstance(failure, ssl.SSLCertVerificationError):
        return f"{failure.reason or failure} {question}"
    reason = f"certificate verify failed: {failure.verify_message}"
    if failure.verify_code in STRICT_VERIFY_CODES:
        return (
            f"{reason}. The server's certificate chains to {ca}, but a certificate of that chain (the server's or "
            "the CA's) breaks a rule of strict verification (RFC 5280, VERIFY_X509_STRICT, the default from Python "
            "3.13): re-issue it with the extensions docs/deploy.md lists (check with `openssl verify -x509_strict "
            "-CAfile CA.pem SERVER.pem`)"
        )
    hint = CERTIFICATE_VERIFY_HINTS.get(failure.verify_code)
    if hint is not None:
        return f"{reason}: {hint}"
    return f"{reason} {question}"
