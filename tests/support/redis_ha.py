"""Real Redis deployments for the high-availability tests, on loopback, from Debian's ``redis-server`` and
``redis-sentinel`` (7.0; ``bin/test`` installs them):

- :class:`SentinelSet`: one master, its replicas and three Sentinels (down after 1 s, a short failover timeout);
  :meth:`SentinelSet.kill_master` SIGKILLs the master, :meth:`SentinelSet.wait_for_new_master` waits for the
  Sentinels to promote a replica;
- :class:`TlsRedis`: a server that speaks only TLS (``--tls-port``, ``--port 0``), with a password, its certificate
  signed by a CA generated here (:func:`make_ca`);
- :class:`RedisClusterSet`: three masters in cluster mode (and replicas if asked), joined with
  ``redis-cli --cluster create``; :meth:`RedisClusterSet.kill_owner` SIGKILLs the master of a key's slot.

Every class starts its processes in :meth:`start` and stops them all (SIGTERM, then waited for) in :meth:`stop`,
which a fixture calls in a ``finally``; a start that fails stops what it had started.
"""

from __future__ import annotations

import datetime
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.store.embedded_redis import dies_with_parent
from tests.support.servers import free_port

WITHIN = 30.0  # generous bound for a server or a failover


def debian_binary(name: str) -> str:
    path = shutil.which(name, path="/usr/bin:/usr/local/bin")
    if path is None:
        pytest.fail(f"Debian's {name} is not installed; bin/test installs it when run as root (apt-get install {name})")
    return path


def wait_until(what: str, check: Callable[[], bool], within: float = WITHIN) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        time.sleep(0.05)


class Processes:
    """Child processes started by one deployment, stopped together (in reverse order)."""

    def __init__(self, prefix: str) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix=prefix)
        self.root = Path(self.dir.name)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        with open(self.root / f"{name}.log", "ab") as logf:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(dies_with_parent(argv), stdout=logf, stderr=logf, cwd=self.root)
        self.procs[name] = proc
        return proc

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.kill()
        proc.wait(timeout=10)

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            proc = self.procs.pop(name)
            proc.send_signal(signal.SIGCONT)  # a frozen one would not hear the SIGTERM
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.dir.cleanup()

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _ping(port: int, **options: object) -> bool:
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, **options)  # type: ignore[arg-type]
    try:
        return bool(client.ping())
    finally:
        client.close()


def _server_args(port: int, directory: Path) -> list[str]:
    return ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "", "--appendonly", "no"]


class SentinelSet:
    """A master, ``replicas`` replicas and three Sentinels watching it as ``name`` (quorum 2). ``password``: the
    servers' (``requirepass``, ``masterauth``; the Sentinels' ``auth-pass``); ``sentinel_password``: the
    Sentinels' own (``requirepass`` in sentinel.conf)."""

    def __init__(
        self, name: str = "cg", replicas: int = 2, password: str | None = None, sentinel_password: str | None = None
    ) -> None:
        self.name = name
        self.password = password
        self.sentinel_password = sentinel_password
        self.processes = Processes("cg-sentinel-")
        self.ports = {"redis-0": free_port(), **{f"redis-{n + 1}": free_port() for n in range(replicas)}}
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.master = "redis-0"

    @property
    def sentinels(self) -> str:
        """The value of ``--redis-sentinel``."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        server = debian_binary("redis-server")
        master_port = self.ports["redis-0"]
        for name, port in self.ports.items():
            directory = self.processes.root / name
            directory.mkdir()
            follow = [] if name == "redis-0" else ["--replicaof", "127.0.0.1", str(master_port)]
            auth = ["--requirepass", self.password, "--masterauth", self.password] if self.password else []
            self.processes.spawn(name, [server, *_server_args(port, directory), *follow, *auth])
        for port in self.ports.values():
            wait_until(f"redis on {port}", lambda port=port: _ping(port, password=self.password))
        wait_until("the replicas in sync", lambda: self._synced_replicas(master_port) == len(self.ports) - 1)
        sentinel = debian_binary("redis-sentinel")
        for n, port in enumerate(self.sentinel_ports):
            conf = self.processes.root / f"sentinel-{n}.conf"  # a Sentinel rewrites its own configuration file
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.processes.root}\n"
                f"sentinel monitor {self.name} 127.0.0.1 {master_port} 2\n"
                f"sentinel down-after-milliseconds {self.name} 1000\n"
                f"sentinel failover-timeout {self.name} 5000\n"
                f"sentinel parallel-syncs {self.name} 1\n"
                + (f"sentinel auth-pass {self.name} {self.password}\n" if self.password else "")
                + (f"requirepass {self.sentinel_password}\n" if self.sentinel_password else "")
            )
            self.processes.spawn(f"sentinel-{n}", [sentinel, str(conf)])
        for port in self.sentinel_ports:  # each knows the master, its replicas and the two other Sentinels
            wait_until(f"sentinel {port} ready", lambda port=port: self._sentinel_ready(port))

    def _synced_replicas(self, port: int) -> int:
        client = self._server(port, decode=False)
        try:
            info = client.info("replication")
            return sum(1 for key, value in info.items() if key.startswith("slave") and value.get("state") == "online")
        finally:
            client.close()

    def _server(self, port: int, *, decode: bool = True) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=port, socket_timeout=1, decode_responses=decode, password=self.password
        )

    def _sentinel(self, port: int) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1", port=port, socket_timeout=1, decode_responses=True, password=self.sentinel_password
        )

    def _sentinel_ready(self, port: int) -> bool:
        client = self._sentinel(port)
        try:
            replicas = client.execute_command("SENTINEL", "REPLICAS", self.name)
            others = client.execute_command("SENTINEL", "SENTINELS", self.name)
            return len(replicas) == len(self.ports) - 1 and len(others) == len(self.sentinel_ports) - 1
        finally:
            client.close()

    def master_port(self) -> int:
        """The master's port as the first Sentinel that answers names it."""
        for port in self.sentinel_ports:
            client = self._sentinel(port)
            try:
                _host, master = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.name)
                return int(master)
            except (redis.RedisError, OSError):
                continue
            finally:
                client.close()
        raise AssertionError("no Sentinel answers")

    def client(self) -> redis.Redis:
        """A client of the current master."""
        return redis.Redis(host="127.0.0.1", port=self.master_port(), decode_responses=True, password=self.password)

    def kill_master(self) -> int:
        """SIGKILL the master (no goodbye to anyone); returns its port."""
        port = self.ports[self.master]
        self.processes.kill(self.master)
        return port

    def freeze_master(self) -> int:
        """SIGSTOP the master: its connections stay open and nothing answers (a frozen host, a network cut: no
        reset, no reply); returns its port. It stays frozen until :meth:`stop`."""
        port = self.ports[self.master]
        self.processes.procs[self.master].send_signal(signal.SIGSTOP)
        return port

    def pause_replicas(self, paused: bool) -> None:
        """SIGSTOP (``paused``) or SIGCONT every replica: a stopped one confirms no write."""
        for name, proc in self.processes.procs.items():
            if name.startswith("redis-") and name != self.master:
                proc.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def wait_for_new_master(self, old_port: int) -> int:
        """Wait until every Sentinel names a promoted replica that answers as a master; returns its port."""

        def promoted() -> bool:
            ports = set()
            for port in self.sentinel_ports:
                client = self._sentinel(port)
                try:
                    ports.add(int(client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.name)[1]))
                finally:
                    client.close()
            if len(ports) != 1 or old_port in ports:
                return False
            client = self._server(ports.pop())
            try:
                return client.info("replication")["role"] == "master"
            finally:
                client.close()

        wait_until("a replica promoted by the Sentinels", promoted)
        port = self.master_port()
        self.master = next(name for name, p in self.ports.items() if p == port)
        return port

    def stop(self) -> None:
        self.processes.stop()


@dataclass(frozen=True)
class Ca:
    cert: Path
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def make_ca(directory: Path, name: str) -> Ca:
    """A self-signed CA (written to ``directory/name.pem``)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"test CA {name}")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # keyCertSign, cRLSign
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{name}.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return Ca(path, key, certificate)


def make_server_cert(
    ca: Ca, directory: Path, *, address: str = "127.0.0.1", key_identifier: bool = True, expired: bool = False
) -> tuple[Path, Path]:
    """A certificate for ``address`` / localhost signed by ``ca``: (certificate file, key file). Without
    ``key_identifier`` it has no Authority Key Identifier (an old ``openssl x509 -req`` recipe: fine for Python
    3.11's default verification, refused by 3.13's); ``expired``: its validity ended two days ago."""
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3 if expired else 0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(address))]),
            critical=False,
        )
    )
    if key_identifier:  # Python 3.13 verifies strictly (VERIFY_X509_STRICT): a certificate a CA signed names its key
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False)
    certificate = builder.sign(ca.key, hashes.SHA256())
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class TlsRedis:
    """redis-server answering only TLS on a loopback port (no plain port), with ``password``; its certificate is
    signed by :attr:`ca` (a CA made here)."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.processes = Processes("cg-redis-tls-")
        self.port = free_port()
        self.ca = make_ca(self.processes.root, "ca")

    def url(self, password: str | None = None) -> str:
        return f"rediss://:{password or self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cert, key = make_server_cert(self.ca, self.processes.root)
        argv = [
            debian_binary("redis-server"),
            *_server_args(0, self.processes.root),
            "--tls-port",
            str(self.port),
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(self.ca.cert),
            "--tls-auth-clients",
            "no",
            "--requirepass",
            self.password,
        ]
        self.processes.spawn("redis", argv)
        options = {"ssl": True, "ssl_ca_certs": str(self.ca.cert), "password": self.password}
        try:
            wait_until("redis over TLS", lambda: _ping(self.port, **options))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self.processes.stop()


def cluster_port() -> int:
    """A free port whose cluster bus port (10000 above it) is free and valid too."""
    import socket

    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise AssertionError("no free port pair for a cluster node")


class RedisClusterSet:
    """``masters`` masters in cluster mode, each with ``replicas`` replicas, their 16384 slots spread by
    ``redis-cli --cluster create`` (a node failure is noticed after 2 s: ``cluster-node-timeout``)."""

    def __init__(self, masters: int = 3, replicas: int = 0) -> None:
        self.processes = Processes("cg-cluster-")
        self.replicas = replicas  # per master
        self.ports = [cluster_port() for _ in range(masters * (1 + replicas))]

    @property
    def url(self) -> str:
        """A URL naming one node (a cluster client discovers the others)."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        server = debian_binary("redis-server")
        for n, port in enumerate(self.ports):
            directory = self.processes.root / f"node-{n}"
            directory.mkdir()
            argv = [*_server_args(port, directory), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            self.processes.spawn(f"node-{n}", [server, *argv, "--cluster-node-timeout", "2000"])
        for port in self.ports:
            wait_until(f"redis on {port}", lambda port=port: _ping(port))
        subprocess.run(
            [debian_binary("redis-cli"), "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports)]
            + ["--cluster-replicas", str(self.replicas), "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        wait_until("the cluster", lambda: all(self._state(port) == "ok" for port in self.ports))
        if self.replicas:
            wait_until("the replicas in sync", lambda: all(self._replica_ready(port) for port in self.ports))

    def _replica_ready(self, port: int) -> bool:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, decode_responses=True)
        try:
            info = client.info("replication")
            return info["role"] == "master" or info.get("master_link_status") == "up"
        finally:
            client.close()

    def _state(self, port: int) -> str:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, decode_responses=True)
        try:
            return str(client.execute_command("CLUSTER", "INFO")).split("cluster_state:")[1].split()[0]
        finally:
            client.close()

    def client(self) -> redis.RedisCluster:
        return redis.RedisCluster(host="127.0.0.1", port=self.ports[0], decode_responses=True)

    def kill_owner(self, key: str) -> int:
        """SIGKILL the master that owns ``key``'s slot; returns its port."""
        client = self.client()
        try:
            port = int(client.get_node_from_key(key).port)
        finally:
            client.close()
        self.processes.kill(f"node-{self.ports.index(port)}")
        return port

    def freeze_owner(self, key: str) -> int:
        """SIGSTOP the master that owns ``key``'s slot (its connections stay open, nothing answers: a frozen host);
        returns its port. It stays frozen until :meth:`stop`."""
        client = self.client()
        try:
            port = int(client.get_node_from_key(key).port)
        finally:
            client.close()
        self.processes.procs[f"node-{self.ports.index(port)}"].send_signal(signal.SIGSTOP)
        return port

    def wait_for_new_owner(self, key: str, old_port: int) -> int:
        """Wait until a surviving node reports a new master for ``key``'s slot; returns its port."""
        found: list[int] = []

        def promoted() -> bool:
            for port in self.ports:
                if port == old_port:
                    continue
                client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, decode_responses=True)
                try:
                    slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
                    for start, end, master, *_ in client.execute_command("CLUSTER", "SLOTS"):
                        if start <= slot <= end and int(master[1]) != old_port:
                            found.append(int(master[1]))
                            return True
                    return False
                finally:
                    client.close()
            return False

        wait_until("a replica promoted by the cluster", promoted)
        return found[-1]

    def stop(self) -> None:
        self.processes.stop()
