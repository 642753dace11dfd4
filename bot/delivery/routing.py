"""Which channels an event goes to.

`KGSM_CHANNELS` maps instances to channels (an instance may appear several times to post to several
channels); `KGSM_DEFAULT_CHANNEL_ID` takes everything else, blueprint events included. `KGSM_MUTED_EVENTS`
names event types (in any spelling KGSM has used) or whole families that are received and counted but not
posted; types the vocabulary marks quiet (KGSM's own housekeeping, such as web-panel sign-ins) are muted
unless a rule unmutes them. Rules changed with /notify are kept in the store and applied over these
settings. An event with neither a mapping nor a default is logged once per instance, so a forgotten mapping
is visible without flooding logs. `uses` lists every channel the bot posts in, the status board's and the
digest's included, with what each is for (/notify test).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bot.config import RoutingSettings
from bot.events import Event, resolve_target

log = logging.getLogger(__name__)

EVERY_INSTANCE = ""


@dataclass(frozen=True)
class ChannelRule:
    instance: str
    channel_id: int
    enabled: bool


@dataclass(frozen=True)
class MuteRule:
    target: str  # an event type or a family
    scope: str  # an instance, or EVERY_INSTANCE
    muted: bool


@dataclass(frozen=True)
class ChannelUse:
    """What the bot posts in one channel, and which alert roles (`KGSM_ALERT_ROLE_ID`) it would mention there."""

    channel_id: int
    servers: tuple[str, ...] = ()  # servers whose events go there (`name` or `host:name`)
    default: bool = False  # events of every server without a channel of its own, and the bot's notices
    status_board: bool = False
    digest: bool = False
    alert_roles: tuple[int, ...] = ()


def normalise_target(text: str) -> str:
    """A family, or the canonical type of any spelling: `Instance-Started` → `server.started`."""
    family, event_type = resolve_target(text)
    return family.value if family is not None else event_type or text.strip().lower()


class Router:
    def __init__(self, settings: RoutingSettings) -> None:
        self._configured: dict[str, list[int]] = {}
        for instance, channel in settings.channels:
            channels = self._configured.setdefault(instance.lower(), [])
            if channel not in channels:
                channels.append(channel)
        self.default_channel_id = settings.default_channel_id
        self._settings = settings
        self._configured_mutes = frozenset(normalise_target(target) for target in settings.muted)
        self._channel_rules: dict[tuple[str, int], bool] = {}
        self._mute_rules: dict[tuple[str, str], bool] = {}
        self._reported_unrouted: set[str] = set()
        # Routing runs for every event; its answer only changes with the rules, so it is remembered.
        self._answers: dict[tuple[str, str | None, str | None], list[int]] = {}

    def load_rules(self, channel_rules: Iterable[ChannelRule], mute_rules: Iterable[MuteRule]) -> None:
        self._answers.clear()
        for rule in channel_rules:
            self._channel_rules[(rule.instance.lower(), rule.channel_id)] = rule.enabled
        for mute in mute_rules:
            self._mute_rules[(mute.target, mute.scope.lower())] = mute.muted

    # ------------------------------------------------------------------------------------------ channels

    def channels_of(self, instance: str) -> list[int]:
        """The channels an instance (`name`, or `host:name`) posts to: its configured ones, plus /notify
        bindings, minus unbindings."""
        key = instance.lower()
        channels = [c for c in self._configured.get(key, []) if self._channel_rules.get((key, c), True)]
        channels += [c for (name, c), on in self._channel_rules.items() if name == key and on and c not in channels]
        return channels

    def bind(self, instance: str, channel_id: int) -> ChannelRule:
        self._answers.clear()
        self._channel_rules[(instance.lower(), channel_id)] = True
        self._reported_unrouted.discard(instance)
        return ChannelRule(instance.lower(), channel_id, True)

    def unbind(self, instance: str, channel_id: int | None = None) -> list[ChannelRule]:
        """Stop posting `instance` to one channel, or to every channel it has; returns the rules to keep."""
        self._answers.clear()
        targets = [channel_id] if channel_id is not None else self.channels_of(instance)
        rules = [ChannelRule(instance.lower(), channel, False) for channel in targets]
        for rule in rules:
            self._channel_rules[(rule.instance, rule.channel_id)] = False
        return rules

    @property
    def instances_with_channels(self) -> list[str]:
        names = set(self._configured) | {name for (name, _), on in self._channel_rules.items() if on}
        return sorted(name for name in names if self.channels_of(name))

    def uses(self) -> list[ChannelUse]:
        """Every channel the bot posts in, each once: the default channel, each server's own channels
        (configured and bound), the status board's and the digest's, in that order."""
        settings = self._settings
        servers: dict[int, list[str]] = {}
        roles: dict[int, set[int]] = {}
        if self.default_channel_id is not None:
            servers[self.default_channel_id] = []
            general = [settings.alert_role_id] if settings.alert_role_id is not None else []
            # A server's own alert role is mentioned in the default channel when it has no channel of its own.
            own = [role for name, role in settings.alert_roles if not self.channels_of(name)]
            roles[self.default_channel_id] = {*general, *own}
        for name in self.instances_with_channels:
            role = settings.alert_role_for(name.rpartition(":")[2])
            for channel in self.channels_of(name):
                servers.setdefault(channel, []).append(name)
                if role is not None:
                    roles.setdefault(channel, set()).add(role)
        for own_message in (settings.status_channel_id, settings.digest_channel_id):
            if own_message is not None:
                servers.setdefault(own_message, [])
        return [
            ChannelUse(
                channel_id=channel,
                servers=tuple(names),
                default=channel == self.default_channel_id,
                status_board=channel == settings.status_channel_id,
                digest=channel == settings.digest_channel_id,
                alert_roles=tuple(sorted(roles.get(channel, ()))),
            )
            for channel, names in servers.items()
        ]

    def describe(self) -> str:
        """One line for the start-up log: where each instance posts."""
        parts = [f"{name}→{','.join(map(str, self.channels_of(name)))}" for name in self.instances_with_channels]
        parts.append(f"everything else→{self.default_channel_id or 'nowhere (no KGSM_DEFAULT_CHANNEL_ID)'}")
        return "; ".join(parts)

    # ------------------------------------------------------------------------------------------ mutes

    def set_mute(self, target: str, instance: str | None, muted: bool) -> MuteRule:
        self._answers.clear()
        rule = MuteRule(normalise_target(target), (instance or EVERY_INSTANCE).lower(), muted)
        self._mute_rules[(rule.target, rule.scope)] = muted
        return rule

    def _mute_decision(self, target: str, scope: str) -> bool | None:
        rule = self._mute_rules.get((target, scope))
        if rule is not None:
            return rule
        if scope == EVERY_INSTANCE and target in self._configured_mutes:
            return True
        return None

    def is_muted(self, event: Event) -> bool:
        """The most specific rule wins: instance and type, instance and family, type, family."""
        scopes = [event.instance.lower()] if event.instance else []
        for scope in [*scopes, EVERY_INSTANCE]:
            for target in (event.type, event.family.value):
                decision = self._mute_decision(target, scope)
                if decision is not None:
                    return decision
        return event.kind.quiet

    def muted_summary(self) -> list[str]:
        """Readable mutes in force, for /notify show."""
        shown = [
            f"`{target}` everywhere"
            for target in sorted(self._configured_mutes)
            if self._mute_rules.get((target, EVERY_INSTANCE), True)
        ]
        for (target, scope), muted in sorted(self._mute_rules.items()):
            if muted and not (scope == EVERY_INSTANCE and target in self._configured_mutes):
                shown.append(f"`{target}` " + (f"for {scope}" if scope else "everywhere"))
            elif not muted and scope:
                shown.append(f"`{target}` unmuted for {scope}")
        return shown

    # ------------------------------------------------------------------------------------------ routing

    def channels_for(self, event: Event) -> list[int]:
        """The channels that should show `event`; empty when it is muted or has nowhere to go."""
        key = (event.type, event.instance, event.host)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = self._route(event)
        return list(answer)

    def _route(self, event: Event) -> list[int]:
        if self.is_muted(event):
            return []
        mapped: list[int] = []
        if event.instance:
            # `host:instance` in KGSM_CHANNELS beats a plain `instance` (one bot serving several hosts).
            if event.host:
                mapped = self.channels_of(f"{event.host}:{event.instance}")
            mapped = mapped or self.channels_of(event.instance)
        if mapped:
            return mapped
        if self.default_channel_id is not None:
            return [self.default_channel_id]
        if event.subject not in self._reported_unrouted:
            self._reported_unrouted.add(event.subject)
            log.warning(
                "no channel for %s: map it in KGSM_CHANNELS or set KGSM_DEFAULT_CHANNEL_ID (said once per instance)",
                event.subject,
            )
        return []
