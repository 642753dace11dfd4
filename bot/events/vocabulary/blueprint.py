"""Blueprints: created, changed or removed (they name a blueprint, not a server)."""

from bot.events.model import Family, Severity, Subject, Tone
from bot.events.vocabulary.entry import declare, entry

KINDS = declare(
    Family.BLUEPRINT,
    Subject.BLUEPRINT,
    entry(
        "blueprint.created",
        "blueprint created",
        "📘",
        legacy="blueprint_created",
        sentence="The blueprint {subject} was created[ ({Tier} tier)].",
        tone=Tone.GOOD,
    ),
    entry(
        "blueprint.updated",
        "blueprint updated",
        "📝",
        legacy="blueprint_updated",
        sentence="The blueprint {subject} was changed[ ({Tier} tier)].",
    ),
    entry(
        "blueprint.removed",
        "blueprint removed",
        "📕",
        legacy="blueprint_removed",
        sentence="The blueprint {subject} was removed[ ({Tier} tier)].",
        severity=Severity.WARN,
    ),
)
