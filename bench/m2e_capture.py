"""Per-packet time inside the gateway for bench m2e (``--residence``): RTP on the loopback interface.

A raw ``AF_PACKET`` socket on ``lo`` (root only) sees every UDP datagram with its kernel receive time
(``SO_TIMESTAMPNS``). For the measured call's two legs (the gateway's sockets whose peer is neither the gateway
nor a background generator: the browser's), each RTP packet that comes in on one leg is paired with the packet the
gateway sends out on the other leg for it. While relaying the gateway forwards each packet once, renumbered by a
constant: the pairing takes the most common (out seq - in seq) offset, and the residence is out time - in time.
While decoding there is no such pairing (packets are re-made on the player's clock): ``paired`` says how many of the
incoming packets found their outgoing one.

Only header bytes are read (SRTP encrypts the payload, not the RTP header).
"""

from __future__ import annotations

import socket
import struct
import threading
from collections import Counter
from pathlib import Path
from typing import Any

ETH_P_ALL = 0x0003
SO_TIMESTAMPNS = 35
PACKET_HOST = 0


def udp_ports(pids: list[int]) -> set[int]:
    """Local UDP ports of the sockets these processes hold (from /proc/<pid>/fd and /proc/net/udp)."""
    inodes: set[str] = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = fd.readlink().name
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class LoopbackCapture:
    """RTP headers of datagrams to or from ``ports`` on lo, with kernel times (ns), in a thread of its own."""

    def __init__(self, ports: set[int]) -> None:
        self.ports = ports
        self.packets: list[tuple[int, int, int, int]] = []  # (t_ns, src port, dst port, seq)
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
        self._sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, name="m2e-capture", daemon=True)

    def start(self) -> LoopbackCapture:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, ancillary, _, address = self._sock.recvmsg(2048, 64)
            except TimeoutError:
                continue
            if address[2] != PACKET_HOST or len(data) < 14 + 20 + 8 + 12:
                continue
            ip = data[14:]
            if ip[0] >> 4 != 4 or ip[9] != 17:  # IPv4, UDP
                continue
            udp = ip[(ip[0] & 0xF) * 4 :]
            src, dst = struct.unpack_from("!HH", udp)
            if src not in self.ports and dst not in self.ports:
                continue
            rtp = udp[8:]
            if rtp[0] & 0xC0 != 0x80 or not 96 <= rtp[1] & 0x7F <= 127 or 192 <= rtp[1] <= 223:
                continue  # not RTP (STUN, DTLS, RTCP)
            t_ns = 0
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", value[:16])
                    t_ns = sec * 1_000_000_000 + nsec
            self.packets.append((t_ns, src, dst, struct.unpack_from("!H", rtp, 2)[0]))


def residence(packets: list[tuple[int, int, int, int]], gateway: set[int], others: set[int]) -> dict[str, Any]:
    """Time inside the gateway per relayed packet, for each pair of legs talking to a port in neither set."""
    flows: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (src, dst) -> [(t, seq)]
    for t, src, dst, seq in packets:
        flows.setdefault((src, dst), []).append((t, seq))
    # legs of the measured call: (gateway port, browser port) with packets both ways
    legs = sorted(
        {
            (dst, src)
            for (src, dst) in flows
            if dst in gateway and src not in gateway and src not in others and (dst, src) in flows
        }
    )
    out: dict[str, Any] = {"legs": len(legs), "directions": []}
    for g_in, p_in in legs:
        for g_out, p_out in legs:
            if (g_in, p_in) == (g_out, p_out):
                continue
            incoming, outgoing = flows[(p_in, g_in)], flows[(g_out, p_out)]
            out["directions"].append({"in": [g_in, p_in], "out": [g_out, p_out], **pair(incoming, outgoing)})
    return out


def pair(incoming: list[tuple[int, int]], outgoing: list[tuple[int, int]]) -> dict[str, Any]:
    """Pairs each incoming packet with the outgoing one numbered (in seq + the most common offset)."""
    offsets: Counter[int] = Counter()
    j = 0
    for t, seq in outgoing:  # the latest incoming packet before each outgoing one votes for an offset
        while j + 1 < len(incoming) and incoming[j + 1][0] <= t:
            j += 1
        if incoming and incoming[j][0] <= t:
            offsets[(seq - incoming[j][1]) % 65536] += 1
    if not offsets:
        return {"paired": 0, "incoming": len(incoming), "ms": []}
    offset = offsets.most_common(1)[0][0]
    sent_at = {seq: t for t, seq in outgoing}
    ms = []
    for t, seq in incoming:
        out_t = sent_at.get((seq + offset) % 65536)
        if out_t is not None and 0 <= out_t - t < 500_000_000:
            ms.append((out_t - t) / 1e6)
    return {"paired": len(ms), "incoming": len(incoming), "ms": ms}
