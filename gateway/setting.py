"""How one setting of gateway/config.py is declared (:func:`setting`, :class:`Setting`) and how its text is parsed.

A parser takes (setting name, text of a flag or environment variable) and returns the typed value, or raises
:class:`~gateway.errors.ConfigError` naming the setting. gateway/config.py declares every setting with these; nothing
else imports this module.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.errors import ConfigError

T = TypeVar("T")

Parse = Callable[[str, str], object]
"""(setting name, text of a flag or environment variable) -> the typed value; raises ConfigError."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One configurable setting: a field of :class:`Settings`, a ``serve`` flag and an environment variable."""

    name: str
    env: str
    help: str  # Markdown: the README's "what" column; --help shows it without backticks
    parse: Parse
    default: str  # the default as the README and --help say it (Markdown)
    choices: tuple[str, ...] = ()  # argparse refuses anything else
    secret: bool = False  # a value on the command line is visible to every local user: warn

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def setting(
    default: T,
    *,
    env: str,
    help: str,
    parse: Parse | None = None,
    shown: str | None = None,
    choices: tuple[str, ...] = (),
    secret: bool = False,
    factory: Callable[[], T] | None = None,
) -> T:
    """A field of :class:`Settings` that is also a flag and an environment variable.

    ``shown``: the default as the documentation says it (Markdown); derived from ``default`` when
    it reads well as a literal. ``parse``: text -> value (default: the text itself). ``factory``:
    the default is computed per instance (``default`` is then only its type's example).
    """
    declared = {
        "env": env,
        "help": help,
        "parse": parse or as_text,
        "default": shown or _shown(default),
        "choices": choices,
        "secret": secret,
    }
    if factory is not None:
        return field(default_factory=factory, metadata={"setting": declared})
    return field(default=default, metadata={"setting": declared})


def _shown(default: object) -> str:
    if default is None:
        return "unset"
    if isinstance(default, tuple):
        return f"`{','.join(map(str, default))}`" if default else "none"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, float) and default.is_integer():
        return f"`{int(default)}`"
    return f"`{default}`"


# ---- parsers: (name, text) -> value


def as_text(name: str, text: str) -> str:
    return text


def as_path(name: str, text: str) -> Path:
    return Path(text)


def number(convert: type[int | float], low: float, high: float, wording: str, *, zero_too: bool = False) -> Parse:
    """A whole number (``int``) or a number (``float``) from ``low`` to ``high``; ``zero_too``: 0 as well."""

    def parse(name: str, text: str) -> int | float:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not (low <= value <= high or (zero_too and value == 0)):
            raise ConfigError(f"{name.replace('_', ' ')} must be {wording}, not {text!r}", field=name)
        return value

    return parse


def one_of(*words: str) -> Parse:
    def parse(name: str, text: str) -> str:
        if text not in words:
            raise ConfigError(f"{name.replace('_', ' ')} must be " + " or ".join(f"'{w}'" for w in words), field=name)
        return text

    return parse


def yes_no(name: str, text: str) -> bool:
    word = text.strip().lower()
    if word not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{name.replace('_', ' ')} must be true or false", field=name)
    return word in ("true", "1", "yes")


def _items(text: str, separator: str = ",") -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(separator) if item.strip())


def ice_servers(name: str, text: str) -> tuple[str, ...]:
    urls = _items(text)
    for url in urls:
        if not url.startswith(("stun:", "turn:", "turns:")):
            raise ConfigError(f"ICE server '{url}' must start with stun:, turn: or turns:", field=name)
    return urls


def ip_addresses(name: str, text: str) -> tuple[str, ...]:
    addresses = _items(text)
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise ConfigError(f"'{address}' is not an IP address", field=name) from None
    return addresses


def ip_address(name: str, text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise ConfigError(f"{name.replace('_', ' ')} must be one IP address, not {text!r}", field=name) from None


def host_ports(name: str, text: str) -> tuple[tuple[str, int], ...]:
    found = []
    for item in _items(text):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"'{item}' is not host:port", field=name)
        found.append((host.strip("[]"), int(port)))
    return tuple(found)


def turn_urls(name: str, text: str) -> tuple[str, ...]:
    urls = _items(text)
    for url in urls:
        if not url.startswith(("turn:", "turns:")):
            raise ConfigError(f"TURN URL '{url}' must start with turn: or turns:", field=name)
    return urls


def turn_secret(name: str, text: str) -> str:
    if len(text) < 16:
        raise ConfigError("turn secret must be at least 16 characters", field=name)
    return text


def paths_list(name: str, text: str) -> tuple[str, ...]:
    return _items(text, os.pathsep)


_SPEECH_URL_RE = re.compile(r"^tcp://[^\s/:]+:\d{1,5}/?$")


def speech_url(name: str, text: str) -> str:
    """A Wyoming speech server: ``tcp://host:port``."""
    if not _SPEECH_URL_RE.match(text.strip()) or not 0 < int(text.strip().rstrip("/").rsplit(":", 1)[1]) < 65536:
        raise ConfigError(f"{name.replace('_', ' ')} must look like tcp://host:10300, not {text!r}", field=name)
    return text.strip()


def dispositions(name: str, text: str) -> tuple[str, ...]:
    codes = _items(text)
    if not codes:
        raise ConfigError("dispositions must name at least one code", field=name)
    return codes


def secret_text(name: str, text: str) -> str:
    if any(len(part.strip()) < 16 for part in text.split(",")):
        raise ConfigError(
            "secret must be at least 16 characters (several, comma-separated, while rotating: "
            "the first signs, all verify)",
            field=name,
        )
    return text


def metrics_token(name: str, text: str) -> str:
    if len(text) < 16 or not text.isprintable() or " " in text:
        raise ConfigError("metrics token must be at least 16 printable characters without spaces", field=name)
    return text


def webhook_secret(name: str, text: str) -> str:
    if len(text) < 16:
        raise ConfigError("webhook secret must be at least 16 characters", field=name)
    return text


_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def hosts_or_cidrs(*, cidrs_only: bool) -> Parse:
    """'host,10.0.0.0/8,::1' -> its entries; an address or CIDR must parse, a host name must look like one."""

    def parse(name: str, text: str) -> tuple[str, ...]:
        out = []
        for entry in (e.strip().lower() for e in text.split(",")):
            if not entry:
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                if cidrs_only or not _HOST_NAME.fullmatch(entry):
                    wanted = "an IP address or CIDR" if cidrs_only else "a host name, an IP address or a CIDR"
                    raise ConfigError(f"{name.replace('_', ' ')}: '{entry}' is not {wanted}", field=name) from None
            out.append(entry)
        return tuple(out)

    return parse


def site_keys(name: str, text: str) -> tuple[tuple[str, str], ...]:
    """'shop=SECRET,blog=SECRET2' (or one SECRET, key id 'default') -> ((kid, secret), ...)."""
    out: list[tuple[str, str]] = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        kid, sep, secret = entry.partition("=")
        if not sep:
            kid, secret = "default", entry
        if not kid or any(k == kid for k, _ in out):
            raise ConfigError(f"site keys: key id '{kid}' is empty or given twice", field=name)
        if len(secret) < 32:
            raise ConfigError(f"site keys: the secret of '{kid}' must be at least 32 characters", field=name)
        out.append((kid, secret))
    return tuple(out)


def time_zone(name: str, text: str) -> str:
    """An IANA time zone name (``America/New_York``, ``Asia/Kolkata``, ``UTC``), known to zoneinfo (the system's
    tzdata, else the ``tzdata`` package)."""
    zone = text.strip()
    try:
        if not zone:
            raise ValueError(zone)
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{name.replace('_', ' ')} must be an IANA time zone such as America/New_York or UTC, not {text!r}",
            field=name,
        ) from None
    return zone


def port_range(name: str, text: str) -> tuple[int, int]:
    low, sep, high = text.strip().partition("-")
    try:
        first, last = int(low), int(high if sep else low)
    except ValueError:
        first = last = -1
    if not (1024 <= first <= last <= 65535) or last - first < 1:
        raise ConfigError(
            f"rtc port range must be like 40000-40999 (two ports at least, 1024-65535), not {text!r}", field=name
        )
    return first, last
