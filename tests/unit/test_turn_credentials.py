"""TURN REST API credentials (media/ice.py): the format coturn's use-auth-secret checks, and their expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from gateway.config import from_sources
from gateway.errors import ConfigError
from gateway.rtc_setup import ice_config
from media.ice import IceConfig, IceServer, TurnCredentials, turn_password, username_expiry, valid_at

SECRET = "0123456789abcdef-shared"
NOW = 1_700_000_000.7


def test_the_password_is_base64_hmac_sha1_of_the_username() -> None:
    # by hand, as coturn computes it (and as RFC-less "TURN REST API" deployments document it)
    expected = base64.b64encode(hmac.new(SECRET.encode(), b"1700086400:customer-c1", hashlib.sha1).digest()).decode()
    assert turn_password(SECRET, "1700086400:customer-c1") == expected
    assert len(base64.b64decode(expected)) == 20  # a SHA-1 digest


def test_issue_makes_expiry_colon_id_valid_for_the_ttl() -> None:
    turn = TurnCredentials(SECRET, ("turn:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=tcp"), ttl_seconds=3600)
    server = turn.issue("customer-c:1", NOW)
    assert server.username == "1700003600:customer-c_1"  # whole seconds; no second ':' in the id
    assert username_expiry(server.username) == int(NOW) + 3600
    assert server.credential == turn_password(SECRET, server.username)
    assert server.to_json() == {
        "urls": ["turn:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=tcp"],
        "username": server.username,
        "credential": server.credential,
    }
    assert valid_at(SECRET, server.username, server.credential, int(NOW) + 3600)
    assert not valid_at(SECRET, server.username, server.credential, int(NOW) + 3601)  # expired
    assert not valid_at("another-secret-16chars", server.username, server.credential, NOW)
    assert turn.pair(server.username) == server  # a pair made before, given again (a customer's welcome pair)
    assert not valid_at(SECRET, "1800000000:customer-c_1", server.credential, NOW)  # a longer expiry: other password


def test_each_issue_is_fresh_and_a_later_one_expires_later() -> None:
    turn = TurnCredentials(SECRET, ("turn:t:3478",), ttl_seconds=60)
    first, later = turn.issue("agent-a", NOW), turn.issue("agent-a", NOW + 30)
    assert first.username is not None and later.username is not None
    assert username_expiry(later.username) - username_expiry(first.username) == 30
    assert first.credential != later.credential


def test_usernames_without_an_expiry_are_refused() -> None:
    for bad in ("customer-c1", "soon:customer", ":x"):
        with pytest.raises(ValueError):
            username_expiry(bad)
        assert not valid_at(SECRET, bad, turn_password(SECRET, bad), NOW)


def test_legs_get_stun_urls_and_a_fresh_turn_pair_pages_only_the_turn_pair() -> None:
    plain = IceConfig(urls=("stun:s:3478",))
    assert plain.for_leg("call-1", NOW) == [IceServer(urls=("stun:s:3478",))]
    ice = IceConfig(urls=("stun:s:3478",), turn=TurnCredentials(SECRET, ("turn:t:3478",), 600))
    stun, turn = ice.for_leg("call-1", NOW)
    assert stun.username is None and turn.username == f"{int(NOW) + 600}:gateway-call-1"
    assert turn.rtc().username == turn.username and turn.rtc().credential == turn.credential
    assert ice.turn is not None
    page = ice.turn.pair(f"{int(NOW) + 600}:customer-c1").to_json()  # a welcome's pair (kept: contact/limits.py)
    assert page["urls"] == ["turn:t:3478"] and page["credential"] == turn_password(SECRET, page["username"])
    assert plain.for_call("customer-c1", "call-1", NOW) == []
    calls = IceConfig(turn=TurnCredentials(SECRET, ("turn:t:3478",), 86400, call_ttl_seconds=900))
    (one,) = calls.for_call("customer-c1", "call-1", NOW)
    (two,) = calls.for_call("customer-c1", "call:2", NOW)  # ':' would end coturn's expiry early: replaced
    assert one["username"] == f"{int(NOW) + 900}:call-call-1-customer-c1"
    assert two["username"] == f"{int(NOW) + 900}:call-call_2-customer-c1" and two["credential"] != one["credential"]
    assert valid_at(SECRET, one["username"], one["credential"], int(NOW) + 900)
    assert not valid_at(SECRET, one["username"], one["credential"], int(NOW) + 901)


def test_settings_parse_and_go_together() -> None:
    settings = from_sources({"turn_urls": "turn:10.0.0.5:3478,turns:turn.example.com:5349", "turn_secret": SECRET}, {})
    assert settings.turn_urls == ("turn:10.0.0.5:3478", "turns:turn.example.com:5349")
    assert settings.turn_ttl_seconds == 86400
    ice = ice_config(settings)
    assert ice.turn == TurnCredentials(SECRET, settings.turn_urls, 86400)
    assert from_sources({}, {"CG_TURN_TTL_SECONDS": "600"}).turn_ttl_seconds == 600
    assert from_sources({"rtc_public_address": " 203.0.113.10 "}, {}).rtc_public_address == "203.0.113.10"
    for name, bad in (
        ("turn_urls", "stun:s:3478"),
        ("turn_secret", "short"),
        ("turn_ttl_seconds", "10"),
        ("rtc_public_address", "203.0.113.10,198.51.100.1"),
        ("rtc_public_address", "example.com"),
    ):
        with pytest.raises(ConfigError) as err:
            from_sources({name: bad}, {})
        assert err.value.field == name
    for half in ({"turn_urls": "turn:t:3478"}, {"turn_secret": SECRET}):
        with pytest.raises(ConfigError, match="go together"):
            ice_config(from_sources(half, {}))
