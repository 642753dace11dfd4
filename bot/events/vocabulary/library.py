"""Libraries: the storage locations KGSM installs servers into, and servers moved between them."""

from bot.events.model import Family, Outcome, Severity, Subject, Tone
from bot.events.vocabulary.entry import declare, entry

KINDS = declare(
    Family.LIBRARY,
    Subject.LIBRARY,
    entry(
        "library.added",
        "library added",
        "📚",
        legacy="library_added",
        sentence="The library {subject} was added.",
        tone=Tone.GOOD,
    ),
    entry(
        "library.removed",
        "library removed",
        "📚",
        legacy="library_removed",
        sentence="The library {subject} was removed.",
        severity=Severity.WARN,
    ),
    entry(
        "library.renamed",
        "library renamed",
        "📚",
        legacy="library_renamed",
        sentence="The library {subject} was renamed.",
    ),
    entry(
        "library.failed",
        "library failed",
        "❌",
        legacy="library_failed",
        sentence="KGSM reported a failure of the library {subject}.",
        severity=Severity.DANGER,
        outcome=Outcome.FAILURE,
    ),
    entry(
        "server.moved",
        "moved",
        "🚚",
        legacy="instance_moved",
        sentence="{subject} was moved[ from the {FromLibrary} library][ to the {ToLibrary} library].",
        subject=Subject.INSTANCE,
    ),
)
