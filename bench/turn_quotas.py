"""coturn's allocation quotas, measured on the real coturn the tests use (tests/support/turn.py: Debian's
``turnserver`` on loopback with the TURN REST API secret), for the recommended values in docs/deploy.md.

Each scenario starts a fresh coturn with ``--user-quota`` / ``--total-quota``, holds TURN allocations open (aioice's
TURN client, UDP, as a browser's would be) one after another, and counts how many coturn granted and what it
answered to the rest:

- ``one pair``: every allocation with the same username (one TURN pair: a page with one welcome pair);
- ``pairs of one customer``: each allocation with another pair of the same customer (``expiry:customer-ID``
  with different expiries: the pairs a client collects by reconnecting, what the gateway's welcome budget bounds);
- ``call pairs of one customer``: each with another ``call_ice`` pair of the same customer
  (``expiry:call-CALLID-customer-ID``: the id differs per call);
- ``different customers``: each with another customer's pair (what ``--total-quota`` bounds).

Measured (coturn 4.6 from Debian): the user quota counts allocations per id, the part after ``expiry:``: a
customer's welcome pairs share one quota however many it collects, each ``call_ice`` pair has its own.

    ./bin/bench turn --user-quota 2 --total-quota 6 --tries 8
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from aioice import stun
from aioice.turn import TurnTransport, create_turn_endpoint

from media.ice import turn_password, turn_username
from tests.support.turn import TurnServer


class _Quiet(asyncio.DatagramProtocol):
    pass


async def hold_allocations(server: TurnServer, usernames: list[str]) -> tuple[list[TurnTransport], list[str]]:
    """Allocate with each username in turn, keeping the granted ones open: (the held, what each try got)."""
    held: list[TurnTransport] = []
    outcomes: list[str] = []
    for username in usernames:
        try:
            transport, _ = await asyncio.wait_for(
                create_turn_endpoint(
                    _Quiet,
                    ("127.0.0.1", server.port),
                    username,
                    turn_password(server.secret, username),
                    lifetime=600,
                ),
                timeout=10,
            )
        except stun.TransactionFailed as exc:
            code, reason = exc.response.attributes.get("ERROR-CODE", (0, "?"))
            outcomes.append(f"{code} {reason}")
            continue
        except TimeoutError:
            outcomes.append("timeout")
            continue
        held.append(transport)
        outcomes.append("granted")
    return held, outcomes


async def scenario(name: str, options: tuple[str, ...], usernames: list[str]) -> dict[str, Any]:
    server = TurnServer(options=options)
    server.start()
    held: list[TurnTransport] = []
    try:
        held, outcomes = await hold_allocations(server, usernames)
    finally:
        for transport in held:
            transport.close()
        await asyncio.sleep(0.2)  # the refreshes' deallocations leave
        server.stop()
    return {
        "scenario": name,
        "coturn": " ".join(options),
        "tries": len(usernames),
        "granted": outcomes.count("granted"),
        "refused": sorted({o for o in outcomes if o != "granted"}),
    }


async def main(args: argparse.Namespace) -> None:
    now = int(time.time())
    tries = args.tries
    quotas = (f"--user-quota={args.user_quota}", f"--total-quota={args.total_quota}")
    one = turn_username(now + 86400, "customer-u_one")
    runs = [
        ("one pair", quotas, [one] * tries),
        ("pairs of one customer", quotas, [turn_username(now + 86400 + k, "customer-u_one") for k in range(tries)]),
        (
            "call pairs of one customer",
            quotas,
            [turn_username(now + 14400, f"call-k{k}-customer-u_one") for k in range(tries)],
        ),
        ("different customers", quotas, [turn_username(now + 86400, f"customer-u_{k}") for k in range(tries)]),
        ("one pair, no quota", (), [one] * tries),
    ]
    for name, options, usernames in runs:
        print(json.dumps(await scenario(name, options, usernames)), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--user-quota", type=int, default=2)
    parser.add_argument("--total-quota", type=int, default=6)
    parser.add_argument("--tries", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
