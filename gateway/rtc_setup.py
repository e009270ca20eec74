"""The process-wide RTC settings a node starts with: which local addresses and UDP ports call legs use, the public
address they also offer, the ICE servers and TURN credentials, and the aiortc / aioice patches (media/aiortc_patches.py,
media/consent.py). Applied once per process by :func:`apply_rtc_settings`, before any call leg exists."""

from __future__ import annotations

import logging

from gateway.config import Settings
from gateway.errors import ConfigError
from media.aiortc_patches import (
    close_late_candidate_sockets,
    map_public_address,
    restrict_port_range,
    shorten_audio_jitter_buffer,
    speed_up_aiortc,
)
from media.consent import patient_consent
from media.errors import UnsupportedAiortcVersion
from media.ice import IceConfig, TurnCredentials

log = logging.getLogger(__name__)


def restrict_host_addresses(addresses: tuple[str, ...]) -> None:
    """Call legs offer only these local addresses as ICE host candidates (process-wide, set once at start)."""
    import aioice.ice

    chosen = list(addresses)
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(chosen)
    log.info("call legs use host addresses %s", ", ".join(chosen))


def ice_config(settings: Settings) -> IceConfig:
    """The call legs' and pages' ICE servers: ``--ice-servers`` and TURN REST API credentials (``--turn-urls`` with
    ``--turn-secret``: both or neither)."""
    if bool(settings.turn_urls) != bool(settings.turn_secret):
        missing = "turn_secret" if settings.turn_urls else "turn_urls"
        raise ConfigError("--turn-urls and --turn-secret go together: give both or neither", field=missing)
    turn = None
    if settings.turn_urls and settings.turn_secret:
        turn = TurnCredentials(
            settings.turn_secret, settings.turn_urls, settings.turn_ttl_seconds, settings.turn_call_seconds
        )
        log.info("TURN credentials for %s, valid %d s", ", ".join(settings.turn_urls), settings.turn_ttl_seconds)
    return IceConfig(urls=settings.ice_servers, turn=turn)


def _rtc_port_range(settings: Settings) -> None:
    """Call legs bind UDP only inside ``--rtc-port-range`` (process-wide; unset: any port)."""
    try:
        restrict_port_range(settings.rtc_port_range)
    except UnsupportedAiortcVersion as exc:
        if settings.rtc_port_range is not None:  # a firewall would drop calls on other ports: do not start
            raise ConfigError(f"--rtc-port-range cannot be applied: {exc.message}", field="rtc_port_range") from None
        return
    if settings.rtc_port_range is not None:
        first, last = settings.rtc_port_range
        needed = 2 * settings.max_calls  # a caller's leg and an agent's leg per call (one port per address each)
        log.info("call legs bind UDP ports %d-%d", first, last)
        if last - first + 1 < needed:
            log.warning(
                "the RTC port range %d-%d has %d ports; %d calls with agents need about %d",
                first,
                last,
                last - first + 1,
                settings.max_calls,
                needed,
            )


def apply_rtc_settings(settings: Settings) -> None:
    """Every process-wide RTC setting of ``settings``; ConfigError when one cannot be applied as asked."""
    if settings.rtc_addresses:
        restrict_host_addresses(settings.rtc_addresses)
    _rtc_port_range(settings)
    ice_config(settings)  # a half TURN configuration stops the start here
    try:
        map_public_address(settings.rtc_public_address)
    except UnsupportedAiortcVersion as exc:
        raise ConfigError(
            f"--rtc-public-address cannot be applied: {exc.message}", field="rtc_public_address"
        ) from None
    if settings.rtc_public_address:
        log.info("call legs also offer %s (1:1 NAT) with each host candidate's port", settings.rtc_public_address)
    try:
        close_late_candidate_sockets()  # a leg closed while aioice binds its candidates leaves no socket open
    except UnsupportedAiortcVersion as exc:
        log.warning("aioice's candidate gathering left unpatched: %s", exc)
    try:
        speed_up_aiortc()  # numpy audio level instead of aiortc's pure-Python loop (halves a leg's CPU)
    except UnsupportedAiortcVersion as exc:
        log.warning("running aiortc unpatched: %s", exc)
    try:
        shorten_audio_jitter_buffer()  # 20 ms instead of 80 ms of receive buffering per leg
    except UnsupportedAiortcVersion as exc:
        log.warning("aiortc's audio jitter buffer left at 80 ms: %s", exc)
    try:
        patient_consent()  # RFC 7675: consent lasts 30 s after the last answer, however late (aioice: 0.5 s each)
    except UnsupportedAiortcVersion as exc:
        log.warning("aioice's consent checks left as they are (a 0.5 s answer each): %s", exc)
