"""Reading typed values from the environment, one problem line per bad value (never a traceback)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping


class Reader:
    """Reads typed values from a mapping, collecting one problem line per bad value."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.env.get(name, "").strip()
        return value or default

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            self.problems.append(f"{name}={raw!r} is not a number")
            return default
        if value <= minimum:
            self.problems.append(f"{name}={raw!r} must be greater than {minimum:g}")
            return default
        return value

    def integer(self, name: str, default: int, *, minimum: int = 1) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        if not raw.isdigit() or int(raw) < minimum:
            self.problems.append(f"{name}={raw!r} must be a whole number of at least {minimum}")
            return default
        return int(raw)

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        self.problems.append(f"{name}={raw!r} must be true or false")
        return default

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = (self.text(name) or default).lower()
        if raw not in choices:
            self.problems.append(f"{name}={raw!r} must be one of: {', '.join(choices)}")
            return default
        return raw

    def port(self, name: str) -> int | None:
        """A TCP port, or None when the setting is empty."""
        raw = self.text(name)
        if raw is None:
            return None
        if not raw.isdigit() or not 1 <= int(raw) <= 65535:
            self.problems.append(f"{name}={raw!r} must be a port number (1 to 65535)")
            return None
        return int(raw)

    def snowflake(self, name: str, raw: str | None, what: str = "channel") -> int | None:
        if raw is None:
            return None
        if not raw.isdigit() or not 17 <= len(raw) <= 20:
            self.problems.append(f"{name}: {raw!r} is not a Discord {what} id (17 to 20 digits)")
            return None
        return int(raw)


def server_ids(read: Reader, name: str, what: str) -> list[tuple[str, int]]:
    """`instance=id` pairs of a comma list (`KGSM_CHANNELS`, `KGSM_ALERT_ROLE_ID`); a bare id has the key ""."""
    pairs: list[tuple[str, int]] = []
    for raw_entry in (read.text(name) or "").split(","):
        entry = raw_entry.strip()
        if not entry:
            continue
        instance, sep, raw_id = entry.rpartition("=")
        if sep and not instance.strip():
            read.problems.append(f"{name}: {entry!r} must be instance={what}_id")
            continue
        snowflake = read.snowflake(name, raw_id.strip(), what)
        if snowflake is not None:
            pairs.append((instance.strip(), snowflake))
    return pairs


def time_of_day(read: Reader, name: str, default: datetime.time) -> datetime.time:
    raw = read.text(name)
    if raw is None:
        return default
    try:
        return datetime.time.fromisoformat(raw).replace(tzinfo=datetime.UTC)
    except ValueError:
        read.problems.append(f"{name}={raw!r} is not a time of day like 09:00 (UTC)")
        return default
