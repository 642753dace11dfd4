"""Component health: KGSM's own programs (the watchdog, the monitor, the API, …) and the services they run.

These are about KGSM, not about a game server: they are shown in /about and /healthz, and only a degraded or
recovered component is posted; the rest is kept quiet unless a user unmutes it.
"""

from bot.events.model import Family, Outcome, Severity, Subject, Tone
from bot.events.vocabulary.entry import declare, entry

KINDS = declare(
    Family.COMPONENT,
    Subject.COMPONENT,
    entry(
        "leaf.ready",
        "component ready",
        "🟢",
        legacy="leaf_ready",
        sentence="{subject} is running.",
        outcome=Outcome.SUCCESS,
        tone=Tone.GOOD,
        quiet=True,
    ),
    entry(
        "leaf.degraded",
        "component degraded",
        "⚠️",
        legacy="leaf_degraded",
        sentence="{subject} is degraded[: {Component}][ — {Detail}].",
        severity=Severity.WARN,
        outcome=Outcome.FAILURE,
    ),
    entry(
        "leaf.recovered",
        "component recovered",
        "✅",
        legacy="leaf_recovered",
        sentence="{subject} recovered[: {Component}][ after {DegradedForSec} s].",
        outcome=Outcome.SUCCESS,
        tone=Tone.GOOD,
    ),
    entry(
        "leaf.stopping",
        "component stopping",
        "⏹️",
        legacy="leaf_stopping",
        sentence="{subject} is stopping[ ({Reason})].",
        quiet=True,
    ),
    entry(
        "service.connected",
        "service connected",
        "🔌",
        legacy="service_connected",
        sentence="[{DisplayName}|The service {Leaf}] connected.",
        outcome=Outcome.SUCCESS,
        tone=Tone.GOOD,
        quiet=True,
    ),
    entry(
        "service.disconnected",
        "service disconnected",
        "🔌",
        legacy="service_disconnected",
        sentence="[{DisplayName}|The service {Leaf}] disconnected.",
        severity=Severity.WARN,
    ),
    entry(
        "service.config_changed",
        "service settings changed",
        "⚙️",
        legacy="service_config_changed",
        sentence="The settings of [{DisplayName}|the service {Leaf}] changed.",
        quiet=True,
    ),
    entry(
        "service.restarted",
        "service restarted",
        "🔄",
        legacy="service_restarted",
        sentence="[{DisplayName}|The service {Leaf}] was restarted.",
        quiet=True,
    ),
)
