"""Players: joins, leaves, kicks and bans (addresses and session keys are never shown)."""

from bot.events.model import Family, Severity, Subject, Tone
from bot.events.vocabulary.entry import declare, entry

KINDS = declare(
    Family.PLAYERS,
    Subject.INSTANCE,
    entry(
        "player.joined",
        "player joined",
        "👋",
        legacy="instance_player_joined",
        sentence="[**{PlayerName}**|A player] joined {subject}.",
        tone=Tone.GOOD,
    ),
    entry(
        "player.left",
        "player left",
        "🚪",
        legacy="instance_player_left",
        sentence="[**{PlayerName}**|A player] left {subject}[ ({Reason})].",
    ),
    entry(
        "player.kicked",
        "player kicked",
        "👢",
        legacy="instance_player_kicked",
        sentence="[**{Target}**|A player] was kicked from {subject}.",
        severity=Severity.WARN,
    ),
    entry(
        "player.banned",
        "player banned",
        "🔨",
        legacy="instance_player_banned",
        sentence="[**{Target}**|A player] was banned from {subject}.",
        severity=Severity.DANGER,
    ),
    entry(
        "player.unbanned",
        "player unbanned",
        "🕊️",
        legacy="instance_player_unbanned",
        sentence="[**{Target}**|A player] was unbanned on {subject}.",
    ),
)
