"""Settings: one declaration per setting gives the flags, the environment variables, parsing and the README table."""

from __future__ import annotations

import difflib
import os
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.cli import build_parser
from gateway.config import SETTINGS, Settings, from_sources
from gateway.config_table import markdown_table, readme_table
from gateway.errors import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"

SECRET = "s" * 16
SITE_SECRET = "k" * 32

# Every setting given as text, and what it becomes: a new setting must be added here too.
GIVEN = {
    "host": ("0.0.0.0", "0.0.0.0"),
    "port": ("9000", 9000),
    "workers": ("3", 3),
    "drain_seconds": ("12.5", 12.5),
    "data_dir": ("/var/lib/cg", Path("/var/lib/cg")),
    "redis_url": ("redis://r:6379/1", "redis://r:6379/1"),
    "redis_sentinel": ("s1:26379, [::1]:26380", (("s1", 26379), ("::1", 26380))),
    "redis_master": ("cg-master", "cg-master"),
    "redis_username": ("gateway", "gateway"),
    "redis_password": ("pass word", "pass word"),
    "redis_sentinel_password": ("sentinel pass", "sentinel pass"),
    "redis_ca_file": ("/etc/cg/ca.pem", Path("/etc/cg/ca.pem")),
    "redis_cert_file": ("/etc/cg/client.pem", Path("/etc/cg/client.pem")),
    "redis_key_file": ("/etc/cg/client.key", Path("/etc/cg/client.key")),
    "redis_cluster": ("yes", True),
    "redis_durable_replicas": ("1", 1),
    "redis_durable_wait_ms": ("250", 250),
    "redis_timeout": ("2.5", 2.5),
    "agents_file": ("/etc/cg/agents.toml", Path("/etc/cg/agents.toml")),
    "audit_max_entries": ("5000", 5000),
    "secret": (f"{SECRET},{'o' * 16}", f"{SECRET},{'o' * 16}"),
    "dispositions": (" done, , later ", ("done", "later")),
    "log_format": ("text", "text"),
    "flows_dir": ("flows", Path("flows")),
    "voice_flow": ("support", "support"),
    "chat_flow": ("bot", "bot"),
    "site_keys": (f"shop={SITE_SECRET},blog={SITE_SECRET}", (("shop", SITE_SECRET), ("blog", SITE_SECRET))),
    "trusted_proxies": ("10.0.0.0/8, ::1", ("10.0.0.0/8", "::1")),
    "agent_access_minutes": ("2.5", 2.5),
    "webhook_allow": ("CRM.internal,192.168.1.0/24", ("crm.internal", "192.168.1.0/24")),
    "webhook_secret": (SECRET, SECRET),
    "metrics_token": ("m" * 16, "m" * 16),
    "webhooks_file": ("/etc/cg/webhooks.toml", Path("/etc/cg/webhooks.toml")),
    "webhook_retry_hours": ("24", 24.0),
    "webhook_attempts": ("3", 3),
    "webhook_outbox_max": ("500", 500),
    "webhook_max_backoff_seconds": ("0.5", 0.5),
    "max_calls": ("0", 0),
    "admission_max_lag_ms": ("40", 40.0),
    "admission_max_late_percent": ("1.5", 1.5),
    "admission_max_loop_cpu_percent": ("80", 80.0),
    "limit_calls_per_customer": ("2", 2),
    "limit_calls_per_ip": ("6", 6),
    "limit_messages_per_minute": ("31", 31),
    "limit_conversations_per_hour": ("21", 21),
    "limit_attachments_per_hour": ("22", 22),
    "limit_call_ice_per_hour": ("23", 23),
    "attachment_max_mb": ("2.5", 2.5),
    "attachments_per_conversation": ("0", 0),
    "limit_connections_per_ip": ("51", 51),
    "max_timeline_events": ("100", 100),
    "event_log_max_entries": ("5000", 5000),
    "event_log_keep_hours": ("6", 6.0),
    "service_level_seconds": ("30", 30.0),
    "center_timezone": ("America/New_York", "America/New_York"),
    "rollup_retention_days": ("100", 100.0),
    "retention_days": ("0", 0.0),
    "ice_servers": ("stun:a:3478,turns:b:443", ("stun:a:3478", "turns:b:443")),
    "rtc_addresses": ("127.0.0.1,::1", ("127.0.0.1", "::1")),
    "rtc_port_range": ("40000-40999", (40000, 40999)),
    "rtc_public_address": ("203.0.113.10", "203.0.113.10"),
    "turn_urls": ("turn:10.0.0.5:3478,turns:t.example:5349", ("turn:10.0.0.5:3478", "turns:t.example:5349")),
    "turn_secret": (SECRET, SECRET),
    "turn_ttl_seconds": ("600", 600),
    "turn_call_seconds": ("3600", 3600),
    "bridge_relay": ("false", False),
    "bridge_inband_dtmf": ("true", True),
    "ring_seconds": ("1", 1.0),
    "callback_ring_seconds": ("3600", 3600.0),
    "announce_seconds": ("0", 0.0),
    "wrap_up_seconds": ("0", 0.0),
    "skill_overflow_seconds": ("86400", 86400.0),
    "agent_gone_seconds": ("0", 0.0),
    "customer_gone_seconds": ("45", 45.0),
    "wallboard_service_level_target": ("90", 90),
    "wallboard_wait_target_seconds": ("30", 30.0),
    "calls_block_chats": ("false", False),
    "max_transcripts": ("3", 3),
    "agent_drop": ("end", "end"),
    "agent_reconnect_seconds": ("0", 0.0),
    "vosk_model": (f"a{os.pathsep} b", ("a", "b")),
    "vad": ("silero", "silero"),
    "asr_processes": ("3", 3),
    "asr_url": ("tcp://gpu1.lan:10300", "tcp://gpu1.lan:10300"),
    "asr_timeout_seconds": ("2.5", 2.5),
    "tts_url": ("tcp://10.0.0.5:10200", "tcp://10.0.0.5:10200"),
    "tts_voice": ("en_US-lessac-medium", "en_US-lessac-medium"),
    "tts_timeout_seconds": ("20", 20.0),
}

# (setting, text) refused, each naming the setting
REFUSED = [
    ("audit_max_entries", "10"),
    ("redis_sentinel", "s1"),
    ("redis_sentinel", "s1:0"),
    ("redis_sentinel", "s1:26379,s2:port"),
    ("redis_durable_replicas", "-1"),
    ("redis_durable_replicas", "17"),
    ("redis_durable_wait_ms", "0"),
    ("redis_timeout", "1"),
    ("port", "65536"),
    ("port", "80.5"),
    ("port", "http"),
    ("max_calls", "-1"),
    ("workers", "0"),
    ("drain_seconds", "-1"),
    ("admission_max_lag_ms", "0.5"),
    ("admission_max_late_percent", "0.05"),
    ("admission_max_loop_cpu_percent", "5"),
    ("max_transcripts", "10001"),
    ("ring_seconds", "0.5"),
    ("ring_seconds", "nan"),
    ("callback_ring_seconds", "3601"),
    ("announce_seconds", "4"),
    ("wrap_up_seconds", "-1"),
    ("skill_overflow_seconds", "86401"),
    ("agent_gone_seconds", "29"),
    ("customer_gone_seconds", "12"),
    ("wallboard_service_level_target", "0"),
    ("wallboard_wait_target_seconds", "0"),
    ("agent_access_minutes", "0"),
    ("limit_calls_per_customer", "0"),
    ("limit_calls_per_ip", "100001"),
    ("limit_messages_per_minute", "0"),
    ("limit_conversations_per_hour", "1.5"),
    ("limit_connections_per_ip", "0"),
    ("limit_attachments_per_hour", "0"),
    ("limit_call_ice_per_hour", "100001"),
    ("attachment_max_mb", "101"),
    ("attachments_per_conversation", "-1"),
    ("max_timeline_events", "99"),
    ("event_log_max_entries", "999"),
    ("event_log_keep_hours", "0"),
    ("service_level_seconds", "0"),
    ("center_timezone", "Mars/Olympus_Mons"),
    ("rollup_retention_days", "0"),
    ("retention_days", "36501"),
    ("log_format", "xml"),
    ("agent_drop", "hangup"),
    ("agent_reconnect_seconds", "301"),
    ("calls_block_chats", "maybe"),
    ("dispositions", " , "),
    ("secret", "short"),
    ("secret", f"{SECRET},short"),
    ("webhook_secret", "short"),
    ("metrics_token", "short"),
    ("metrics_token", "has a space in it somewhere"),
    ("webhook_retry_hours", "0"),
    ("webhook_attempts", "-1"),
    ("webhook_outbox_max", "5"),
    ("webhook_max_backoff_seconds", "0"),
    ("site_keys", "shop=short"),
    ("site_keys", f"shop={SITE_SECRET},shop={SITE_SECRET}"),
    ("trusted_proxies", "proxy.example"),
    ("webhook_allow", "not a host"),
    ("ice_servers", "http://x"),
    ("rtc_addresses", "localhost"),
    ("rtc_port_range", "40000"),
    ("rtc_port_range", "80-90"),
    ("rtc_public_address", "203.0.113.10,198.51.100.1"),
    ("turn_urls", "stun:s:3478"),
    ("turn_secret", "short"),
    ("turn_ttl_seconds", "59"),
    ("turn_call_seconds", "59"),
    ("vad", "neural"),
    ("asr_processes", "-1"),
    ("asr_url", "http://gpu1:10300"),
    ("asr_url", "tcp://gpu1"),
    ("tts_url", "tcp://gpu1:70000"),
    ("asr_timeout_seconds", "0"),
    ("tts_timeout_seconds", "121"),
]


def test_the_readme_table_is_the_declarations() -> None:
    table = readme_table(README.read_text(encoding="utf-8"))
    diff = "".join(
        difflib.unified_diff(
            table.splitlines(True), markdown_table().splitlines(True), "README.md", "gateway/config.py"
        )
    )
    assert table == markdown_table(), (
        f"README's settings table differs; run: python -m gateway.config_table README.md\n{diff}"
    )


def test_the_declarations_are_the_settings_an_operator_has() -> None:
    assert [s.name for s in SETTINGS] == list(GIVEN)
    assert len({s.env for s in SETTINGS}) == len({s.flag for s in SETTINGS}) == len(SETTINGS)
    assert all(s.env == "REDIS_URL" or s.env == "VOSK_MODEL" or s.env == "CG_" + s.name.upper() for s in SETTINGS)


def test_every_setting_is_parsed_from_its_environment_variable() -> None:
    settings = from_sources({}, {s.env: GIVEN[s.name][0] for s in SETTINGS})
    assert {s.name: getattr(settings, s.name) for s in SETTINGS} == {name: value for name, (_, value) in GIVEN.items()}


def test_every_setting_is_a_serve_flag_of_the_same_meaning() -> None:
    argv = ["serve"]
    for each in SETTINGS:
        argv += [each.flag, GIVEN[each.name][0]]
    args = build_parser().parse_args(argv)
    flags = {s.name: getattr(args, s.name) for s in SETTINGS}
    assert flags == {name: text for name, (text, _) in GIVEN.items()}
    from_flags, from_env = from_sources(flags, {}), from_sources({}, {s.env: GIVEN[s.name][0] for s in SETTINGS})
    assert from_flags == replace(from_env, node_id=from_flags.node_id)


def test_a_flag_wins_over_the_environment_and_an_empty_variable_is_unset() -> None:
    settings = from_sources({"port": "9001", "host": None}, {"CG_PORT": "9002", "CG_HOST": "", "CG_VOICE_FLOW": "x"})
    assert (settings.port, settings.host, settings.voice_flow) == (9001, "127.0.0.1", "x")
    defaults = from_sources({}, {})
    assert defaults == Settings(node_id=defaults.node_id)
    assert defaults.max_transcripts == (os.cpu_count() or 1)


@pytest.mark.parametrize(("name", "text"), REFUSED)
def test_a_bad_value_is_refused_naming_the_setting(name: str, text: str) -> None:
    env = next(s.env for s in SETTINGS if s.name == name)
    with pytest.raises(ConfigError) as refused:
        from_sources({}, {env: text})
    assert refused.value.field == name
    with pytest.raises(ConfigError):
        from_sources({name: text}, {})


def test_every_number_setting_has_a_refused_value() -> None:
    numbers = {
        s.name
        for s in SETTINGS
        if isinstance(getattr(Settings(), s.name), int | float) and not isinstance(getattr(Settings(), s.name), bool)
    }
    assert numbers <= {name for name, _ in REFUSED}
