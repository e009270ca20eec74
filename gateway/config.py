"""Settings of one gateway node: command-line flags over environment variables over defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gateway.errors import ConfigError

DEFAULT_DISPOSITIONS = ("resolved", "follow-up", "no-response", "spam")


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    redis_url: str | None = None          # None: start an embedded Redis in data_dir
    agents_file: Path | None = None       # None: data_dir / "agents.toml"
    secret: str | None = None             # None: generated once into data_dir/secret.key (gateway/wire/signing_secret.py)
    key_prefix: str = "cg"
    customer_token_days: float = 90.0
    agent_token_hours: float = 12.0
    dispositions: tuple[str, ...] = DEFAULT_DISPOSITIONS
    log_format: str = "json"              # "json" or "text"
    flows_dir: Path | None = None         # None: the flows shipped in ivr/flows
    voice_flow: str = "default"
    chat_flow: str | None = None          # None: chats go straight to the agents' queue
    max_calls: int = 50
    ice_servers: tuple[str, ...] = ()     # STUN/TURN URLs handed to every call leg; none on a LAN
    rtc_addresses: tuple[str, ...] = ()   # local IPs call legs offer as host candidates; () = every interface
    vosk_model: tuple[str, ...] = ()      # Vosk model dirs or installed names; () = pocketsphinx en-us only
    ring_seconds: float = 20.0            # an agent's softphone rings this long before the call goes back
    callback_ring_seconds: float = 60.0   # a callback rings the customer's browser this long per attempt
    agent_drop: str = "requeue"           # the agent's leg drops mid-call: "requeue" the caller or "end" the call
    announce_seconds: float = 45.0        # waiting callers hear their position and wait this often; 0: never
    wrap_up_seconds: float = 60.0         # after-call work: no new work for this long after a call (or until closed)
    max_transcripts: int = field(default_factory=lambda: os.cpu_count() or 1)  # calls transcribed at once
    calls_block_chats: bool = True        # an agent on a call gets no new chats (false: chats up to capacity)
    skill_overflow_seconds: float = 90.0  # a conversation waiting this long may go to an agent without its skills
    node_id: str = field(default_factory=lambda: f"node-{os.getpid()}-{secrets.token_hex(3)}")
    # ---- safe on the public internet (see README "Security")
    site_keys: tuple[tuple[str, str], ...] = ()   # (key id, secret) a site's backend signs customer tokens with
    webhook_allow: tuple[str, ...] = ()   # hosts / CIDRs flow webhooks may reach beyond public addresses
    webhook_secret: str | None = None     # HMAC key of the X-Gateway-Signature header on webhook requests
    trusted_proxies: tuple[str, ...] = ()  # CIDRs of reverse proxies whose X-Forwarded-For names the client
    agent_access_minutes: float = 15.0    # an agent's access token lives this long; the desk refreshes it
    limit_calls_per_customer: int = 1     # concurrent calls one customer may hold
    limit_calls_per_ip: int = 5           # concurrent calls from one client address
    limit_messages_per_minute: int = 30   # messages one customer may send per minute (burst allowed)
    limit_conversations_per_hour: int = 20  # new conversations one customer may open per hour
    limit_connections_per_ip: int = 50    # open WebSockets from one client address (per node)
    max_timeline_events: int = 5000       # events one conversation's timeline may hold
    retention_days: float = 365.0         # closed conversations, recordings older than this are deleted; 0: keep
    rtc_port_range: tuple[int, int] | None = None  # UDP ports call legs bind (firewalls); None: any

    @property
    def agents_path(self) -> Path:
        return self.agents_file if self.agents_file is not None else self.data_dir / "agents.toml"


# name of the setting -> (environment variable, help text)
ENVIRONMENT: Mapping[str, tuple[str, str]] = {
    "host": ("CG_HOST", "address to listen on"),
    "port": ("CG_PORT", "TCP port to listen on"),
    "data_dir": ("CG_DATA_DIR", "directory for the embedded Redis, the agents file and the secret"),
    "redis_url": ("REDIS_URL", "Redis to use (redis://host:port/db or unix:///path); unset: embedded Redis"),
    "agents_file": ("CG_AGENTS_FILE", "agents TOML file; default DATA_DIR/agents.toml (created on first run)"),
    "secret": ("CG_SECRET", "token signing secret (>= 16 chars; 'new,old' while rotating); unset: generated "
                            "into DATA_DIR/secret.key (nodes sharing a Redis need the same one)"),
    "dispositions": ("CG_DISPOSITIONS", "comma-separated disposition codes agents close conversations with"),
    "log_format": ("CG_LOG_FORMAT", "log lines as 'json' (default) or 'text'"),
    "flows_dir": ("CG_FLOWS_DIR", "directory of IVR/bot flow YAML files; default: the shipped flows"),
    "voice_flow": ("CG_VOICE_FLOW", "flow that answers voice calls (default 'default')"),
    "chat_flow": ("CG_CHAT_FLOW", "flow that answers new chats as a bot before routing (default: none)"),
    "max_calls": ("CG_MAX_CALLS", "concurrent calls this node accepts; beyond it callers hear 'all lines busy'"),
    "ice_servers": ("CG_ICE_SERVERS", "comma-separated STUN/TURN URLs for call legs (default none)"),
    "rtc_addresses": ("CG_RTC_ADDRESSES", "comma-separated local IPs call legs may use (default: all interfaces)"),
    "ring_seconds": ("CG_RING_SECONDS", "seconds an agent's softphone rings before the call goes back (default 20)"),
    "callback_ring_seconds": ("CG_CALLBACK_RING_SECONDS",
                              "seconds a callback rings the browser before the attempt counts as no answer (60)"),
    "announce_seconds": ("CG_ANNOUNCE_SECONDS", "how often waiting callers hear their place and wait (45; 0: never)"),
    "wrap_up_seconds": ("CG_WRAP_UP_SECONDS", "after-call work after a call before new work is routed (60; 0: none)"),
    "skill_overflow_seconds": ("CG_SKILL_OVERFLOW_SECONDS", "wait after which skills stop mattering (90; 0: never)"),
    "max_transcripts": ("CG_MAX_TRANSCRIPTS", "agent calls transcribed live at once on this node (default: cores)"),
    "calls_block_chats": ("CG_CALLS_BLOCK_CHATS", "an agent on a call takes no new chats: 'true' (default) or 'false'"),
    "agent_drop": ("CG_AGENT_DROP", "when an agent's call leg drops: 'requeue' the caller (default) or 'end' the call"),
    "site_keys": ("CG_SITE_KEYS", "secrets that sites sign verified customer tokens with: 'kid=secret,...' "
                                  "or one secret (see README 'Verified customers')"),
    "webhook_allow": ("CG_WEBHOOK_ALLOW", "comma-separated hosts or CIDRs flow webhooks may reach although "
                                          "private, loopback or link-local (default: public addresses only)"),
    "webhook_secret": ("CG_WEBHOOK_SECRET", "key of the HMAC-SHA256 X-Gateway-Signature header on webhook requests"),
    "trusted_proxies": ("CG_TRUSTED_PROXIES", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For "
                                              "names the client (default: none, the peer address counts)"),
    "agent_access_minutes": ("CG_AGENT_ACCESS_MINUTES", "minutes an agent's access token lives; the open desk "
                                                        "refreshes it (default 15)"),
    "limit_calls_per_customer": ("CG_LIMIT_CALLS_PER_CUSTOMER", "concurrent calls one customer may hold (default 1)"),
    "limit_calls_per_ip": ("CG_LIMIT_CALLS_PER_IP", "concurrent calls from one client address (default 5)"),
    "limit_messages_per_minute": ("CG_LIMIT_MESSAGES_PER_MINUTE",
                                  "messages one customer may send per minute (default 30; 10x per address)"),
    "limit_conversations_per_hour": ("CG_LIMIT_CONVERSATIONS_PER_HOUR",
                                     "conversations one customer may open per hour (default 20; 10x per address)"),
    "limit_connections_per_ip": ("CG_LIMIT_CONNECTIONS_PER_IP", "open WebSockets from one address per node (50)"),
    "max_timeline_events": ("CG_MAX_TIMELINE_EVENTS", "events one conversation may hold (default 5000)"),
    "retention_days": ("CG_RETENTION_DAYS", "days closed conversations and recordings are kept (365; 0: forever)"),
    "rtc_port_range": ("CG_RTC_PORT_RANGE", "UDP port range call legs bind, e.g. 40000-40999 (default: any)"),
    "vosk_model": ("VOSK_MODEL", (f"Vosk model directory or installed model name (several: separated by "
                                  f"'{os.pathsep}'; unset: English speech with the bundled pocketsphinx model)")),
}


# name -> (type, lowest, highest, how to say it); announce_seconds also takes 0 (never)
NUMBERS: Mapping[str, tuple[type[int | float], float, float, str]] = {
    "port": (int, 0, 65535, "a number from 0 to 65535"),
    "max_calls": (int, 0, 1_000_000, "a whole number >= 0"),
    "max_transcripts": (int, 0, 10_000, "a whole number >= 0"),
    "ring_seconds": (float, 1, 300, "a number from 1 to 300"),
    "callback_ring_seconds": (float, 1, 3600, "a number from 1 to 3600"),
    "wrap_up_seconds": (float, 0, 86400, "a number from 0 to 86400"),
    "skill_overflow_seconds": (float, 0, 86400, "a number from 0 to 86400"),
    "announce_seconds": (float, 5, 3600, "0 or a number from 5 to 3600"),
    "agent_access_minutes": (float, 1, 1440, "a number from 1 to 1440"),
    "limit_calls_per_customer": (int, 1, 1000, "a whole number from 1 to 1000"),
    "limit_calls_per_ip": (int, 1, 100_000, "a whole number from 1 to 100000"),
    "limit_messages_per_minute": (int, 1, 100_000, "a whole number from 1 to 100000"),
    "limit_conversations_per_hour": (int, 1, 100_000, "a whole number from 1 to 100000"),
    "limit_connections_per_ip": (int, 1, 1_000_000, "a whole number from 1 to 1000000"),
    "max_timeline_events": (int, 100, 10_000_000, "a whole number from 100 to 10000000"),
    "retention_days": (float, 0, 36500, "a number of days from 0 (keep forever) to 36500"),
}


def _number(name: str, raw: object, convert: type[int | float], low: float, high: float,
            wording: str) -> int | float:
    try:
        value = convert(str(raw))
    except ValueError:
        value = None
    if value is None or not (low <= value <= high or (name == "announce_seconds" and value == 0)):
        raise ConfigError(f"{name.replace('_', ' ')} must be {wording}, not {raw!r}", field=name)
    return value


def from_sources(flags: Mapping[str, object], env: Mapping[str, str]) -> Settings:
    """Merge flags (None = not given) over environment variables over defaults; validate."""
    values: dict[str, object] = {}
    for name, (var, _) in ENVIRONMENT.items():
        flag = flags.get(name)
        if flag is not None:
            values[name] = flag
        elif env.get(var):
            values[name] = env[var]
    for name, (convert, low, high, wording) in NUMBERS.items():
        if name in values:
            values[name] = _number(name, values[name], convert, low, high, wording)
    if "ice_servers" in values and isinstance(values["ice_servers"], str):
        urls = tuple(u.strip() for u in str(values["ice_servers"]).split(",") if u.strip())
        for url in urls:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise ConfigError(f"ICE server '{url}' must start with stun:, turn: or turns:", field="ice_servers")
        values["ice_servers"] = urls
    if "rtc_addresses" in values and isinstance(values["rtc_addresses"], str):
        import ipaddress

        addresses = tuple(a.strip() for a in str(values["rtc_addresses"]).split(",") if a.strip())
        for address in addresses:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ConfigError(f"'{address}' is not an IP address", field="rtc_addresses") from None
        values["rtc_addresses"] = addresses
    for name in ("webhook_allow", "trusted_proxies"):
        if name in values and isinstance(values[name], str):
            values[name] = _hosts_or_cidrs(name, str(values[name]), cidrs_only=name == "trusted_proxies")
    if "site_keys" in values and isinstance(values["site_keys"], str):
        values["site_keys"] = _site_keys(str(values["site_keys"]))
    if "rtc_port_range" in values and isinstance(values["rtc_port_range"], str):
        values["rtc_port_range"] = _port_range(str(values["rtc_port_range"]))
    if "calls_block_chats" in values and not isinstance(values["calls_block_chats"], bool):
        text = str(values["calls_block_chats"]).strip().lower()
        if text not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError("calls block chats must be true or false", field="calls_block_chats")
        values["calls_block_chats"] = text in ("true", "1", "yes")
    if values.get("agent_drop", "requeue") not in ("requeue", "end"):
        raise ConfigError("agent drop must be 'requeue' or 'end'", field="agent_drop")
    if "vosk_model" in values and isinstance(values["vosk_model"], str):
        values["vosk_model"] = tuple(m.strip() for m in str(values["vosk_model"]).split(os.pathsep) if m.strip())
    for name in ("data_dir", "agents_file", "flows_dir"):
        if name in values:
            values[name] = Path(str(values[name]))
    if "dispositions" in values and isinstance(values["dispositions"], str):
        codes = tuple(c.strip() for c in str(values["dispositions"]).split(",") if c.strip())
        if not codes:
            raise ConfigError("dispositions must name at least one code", field="dispositions")
        values["dispositions"] = codes
    if values.get("log_format", "json") not in ("json", "text"):
        raise ConfigError("log format must be 'json' or 'text'", field="log_format")
    secret = values.get("secret")
    if secret is not None and any(len(part.strip()) < 16 for part in str(secret).split(",")):
        raise ConfigError("secret must be at least 16 characters (several, comma-separated, while rotating: "
                          "the first signs, all verify)", field="secret")
    webhook_secret = values.get("webhook_secret")
    if webhook_secret is not None and len(str(webhook_secret)) < 16:
        raise ConfigError("webhook secret must be at least 16 characters", field="webhook_secret")
    return Settings(**values)  # type: ignore[arg-type]


def _hosts_or_cidrs(name: str, text: str, *, cidrs_only: bool) -> tuple[str, ...]:
    """'host,10.0.0.0/8,::1' -> its entries; an address or CIDR must parse, a host name must look like one."""
    import ipaddress
    import re

    out = []
    for entry in (e.strip().lower() for e in text.split(",")):
        if not entry:
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            if cidrs_only or not re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", entry):
                wanted = "an IP address or CIDR" if cidrs_only else "a host name, an IP address or a CIDR"
                raise ConfigError(f"{name.replace('_', ' ')}: '{entry}' is not {wanted}", field=name) from None
        out.append(entry)
    return tuple(out)


def _site_keys(text: str) -> tuple[tuple[str, str], ...]:
    """'shop=SECRET,blog=SECRET2' (or one SECRET, key id 'default') -> ((kid, secret), ...)."""
    out: list[tuple[str, str]] = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        kid, sep, secret = entry.partition("=")
        if not sep:
            kid, secret = "default", entry
        if not kid or any(k == kid for k, _ in out):
            raise ConfigError(f"site keys: key id '{kid}' is empty or given twice", field="site_keys")
        if len(secret) < 32:
            raise ConfigError(f"site keys: the secret of '{kid}' must be at least 32 characters", field="site_keys")
        out.append((kid, secret))
    return tuple(out)


def _port_range(text: str) -> tuple[int, int]:
    low, sep, high = text.strip().partition("-")
    try:
        first, last = int(low), int(high if sep else low)
    except ValueError:
        first = last = -1
    if not (1024 <= first <= last <= 65535) or last - first < 1:
        raise ConfigError(f"rtc port range must be like 40000-40999 (two ports at least, 1024-65535), not {text!r}",
                          field="rtc_port_range")
    return first, last
