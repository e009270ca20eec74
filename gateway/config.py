"""Settings of one gateway node: command-line flags over environment variables over defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

DEFAULT_DISPOSITIONS = ("resolved", "follow-up", "no-response", "spam")


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    redis_url: str | None = None          # None: start an embedded Redis in data_dir
    agents_file: Path | None = None       # None: data_dir / "agents.toml"
    secret: str | None = None             # None: generated once, shared through Redis
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
    "secret": ("CG_SECRET", "token signing secret (>= 16 chars); unset: generated and shared via Redis"),
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
    if secret is not None and len(str(secret)) < 16:
        raise ConfigError("secret must be at least 16 characters", field="secret")
    return Settings(**values)  # type: ignore[arg-type]
