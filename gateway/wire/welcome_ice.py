"""The TURN pair a page's welcome carries (``ice_servers``, with ``--turn-urls``): the pair its holder (a customer;
an agent, for their desk and an admin's test runs) already holds, else a new one if the holder's hourly budget
allows (gateway/contact/limits.py). ``[]`` when it does not: the page knows the gateway has TURN and asks
``call_ice`` for a call; None without TURN (the page keeps its ``data-ice-servers``)."""

from __future__ import annotations

from typing import Any

from gateway.wire.services import Services


async def customer_welcome_ice(s: Services, customer_id: str, address: str) -> list[dict[str, Any]] | None:
    """A customer's welcome: their pair, a new one for a token of the customer's and the address' buckets."""
    turn = s.calls.config.ice.turn
    if turn is None:
        return None
    pair = await s.limits.welcome_turn(customer_id, address, turn)
    return [] if pair is None else [pair.to_json()]


async def agent_welcome_ice(s: Services, agent_id: str) -> list[dict[str, Any]] | None:
    """An agent's welcome (the desk, and the admin's test runs in the flow console): their pair, a new one for a
    token of the agent's own bucket."""
    turn = s.calls.config.ice.turn
    if turn is None:
        return None
    pair = await s.limits.agent_welcome_turn(agent_id, turn)
    return [] if pair is None else [pair.to_json()]
