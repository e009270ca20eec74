"""The port ``serve`` listens on must be free before anything starts on it.

Workers share their port with ``SO_REUSEPORT`` (gateway/workers.py), and Linux lets any process of the same user
join a port its sockets hold that way: a second ``serve --workers N`` on a port already served (another data
directory, so the data directory's lock does not stop it) would bind beside the first, and the kernel would hand
each new connection to one center or the other, a customer's chat to one and their reconnect to the other. A lone
node (``--workers 1``) would fail to bind after loading everything, with its services already running. So both
check first with a plain bind (no ``SO_REUSEPORT``: it fails while any socket listens on the port, shared or not)
and stop with a clear error. A worker started by the parent skips the check: its siblings hold the port.

Two ``serve`` started in the same instant could both pass the check before either binds: :func:`claim` closes that
gap. The lone node or the workers' parent holds, for its lifetime, a Unix socket bound to a name in Linux's
abstract namespace made from the port (``contact-gateway:PORT``; not the host: ``0.0.0.0`` and ``127.0.0.1`` on
one port are the same clash, however ``--host`` is written): binding a name held already fails at once, and the
kernel frees it when the process ends, however it ends (no file left behind by a crash). So two gateways on one
machine (one network namespace: a container has its own) take two ports even on two addresses.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import sys
from collections.abc import Iterator

from gateway.errors import ConfigError

log = logging.getLogger(__name__)

#: what a bind failing this way says of the command line (anything else: a passing trouble of the machine's)
REFUSED = frozenset({errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL})


@contextlib.contextmanager
def claim(host: str, port: int) -> Iterator[None]:
    """Hold ``host:port`` for this process (the module's docstring); ConfigError when another process holds it.
    Port 0 (any) and systems without the abstract namespace (not Linux) claim nothing: the bind check is left."""
    if port == 0 or not sys.platform.startswith("linux"):
        yield
        return
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        try:
            holder.bind(f"\0contact-gateway:{port}")
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(in_use_message(host, port, exc), field="port") from None
            log.warning("port %s not claimed (%s): the port check alone guards it", port, exc)
        yield
    finally:
        holder.close()


def check_free(host: str, port: int) -> None:
    """ConfigError when something listens on ``port`` at ``host`` (any address it resolves to); port 0: any.

    As the server's own bind does (asyncio's ``create_server``), an address whose family this machine lacks (IPv6
    switched off) is passed over, and so is an IPv6 address it does not have (``localhost`` naming ``::1`` in a
    container without IPv6) while another address is left; what the real bind would refuse is left to it."""
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host!r} does not resolve: {exc.strerror}", field="host") from None
    for family, kind, proto, _, address in addresses:
        try:
            probe = socket.socket(family, kind, proto)
        except OSError:
            continue
        with probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is no owner
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    raise ConfigError(in_use_message(host, port, exc), field="port") from None


def in_use_message(host: str, port: int, exc: OSError) -> str:
    where = f"{host or '*'}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} is already in use on {where} (another gateway, or another program): stop it, or give "
            "this one another --port"
        )
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on {where} (ports under 1024 need privileges): choose another --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host!r} is not an address of this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"
