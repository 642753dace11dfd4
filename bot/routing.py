"""Which channels an event goes to.

`KGSM_CHANNELS` maps instances to channels (an instance may appear several times to post to several
channels); `KGSM_DEFAULT_CHANNEL_ID` takes everything else, blueprint events included. `KGSM_MUTED_EVENTS`
names event types or whole families that are received and counted but not posted. An event with neither a
mapping nor a default is logged once per instance, so a forgotten mapping is visible without flooding logs.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from bot.config import RoutingSettings
from bot.events import Event

log = logging.getLogger(__name__)


class Router:
    def __init__(self, settings: RoutingSettings) -> None:
        self._by_instance: dict[str, list[int]] = defaultdict(list)
        for instance, channel in settings.channels:
            if channel not in self._by_instance[instance.lower()]:
                self._by_instance[instance.lower()].append(channel)
        self.default_channel_id = settings.default_channel_id
        self._muted = settings.muted
        self._reported_unrouted: set[str] = set()

    @property
    def channel_ids(self) -> set[int]:
        """Every channel the settings name, for the start-up summary."""
        ids = {channel for channels in self._by_instance.values() for channel in channels}
        if self.default_channel_id is not None:
            ids.add(self.default_channel_id)
        return ids

    def describe(self) -> str:
        """One line for the start-up log: where each instance posts."""
        parts = [f"{name}→{','.join(map(str, chans))}" for name, chans in sorted(self._by_instance.items())]
        parts.append(f"everything else→{self.default_channel_id or 'nowhere (no KGSM_DEFAULT_CHANNEL_ID)'}")
        return "; ".join(parts)

    def is_muted(self, event: Event) -> bool:
        return event.type in self._muted or event.family.value in self._muted

    def channels_for(self, event: Event) -> list[int]:
        """The channels that should show `event`; empty when it is muted or has nowhere to go."""
        if self.is_muted(event):
            return []
        mapped = self._by_instance.get(event.instance.lower()) if event.instance else None
        if mapped:
            return list(mapped)
        if self.default_channel_id is not None:
            return [self.default_channel_id]
        if event.subject not in self._reported_unrouted:
            self._reported_unrouted.add(event.subject)
            log.warning(
                "no channel for %s: map it in KGSM_CHANNELS or set KGSM_DEFAULT_CHANNEL_ID (said once per instance)",
                event.subject,
            )
        return []
