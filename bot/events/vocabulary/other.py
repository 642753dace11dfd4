"""Everything else KGSM reports: commands that did not run, the reactor's rules, the assistant, test events."""

from bot.events.model import Family, Outcome, Severity, Subject, Tone
from bot.events.vocabulary.entry import declare, entry

KINDS = declare(
    Family.OTHER,
    Subject.NONE,
    entry(
        "command.failed",
        "command failed",
        "❌",
        legacy="command_failed",
        sentence="A KGSM command failed.",
        severity=Severity.DANGER,
        outcome=Outcome.FAILURE,
    ),
    entry(
        "command.refused",
        "command refused",
        "⛔",
        legacy="command_refused",
        sentence="KGSM refused a command.",
        severity=Severity.WARN,
    ),
    entry(
        "command.cancelled",
        "command cancelled",
        "🚫",
        legacy="command_cancelled",
        sentence="A KGSM command was cancelled.",
    ),
    entry(
        "reactor.decided",
        "rule fired",
        "🤖",
        legacy="reactor_decided",
        sentence="KGSM's reactor rule {Rule} fired for {Subject}[: {Reason}].",
        severity_key="Severity",
    ),
    entry(
        "reactor.acted",
        "rule acted",
        "🤖",
        legacy="reactor_acted",
        sentence="KGSM's reactor ran {Action} for {Subject}[ ({Detail})].",
    ),
    entry(
        "assistant.action.proposed",
        "assistant proposed an action",
        "💬",
        legacy="assistant_action_proposed",
        quiet=True,
    ),
    entry(
        "assistant.action.declined",
        "assistant action declined",
        "💬",
        legacy="assistant_action_declined",
        quiet=True,
    ),
    entry("assistant.claim.corrected", "assistant corrected", "💬", legacy="assistant_claim_corrected", quiet=True),
    entry(
        "assistant.blueprint.authoring_started",
        "assistant writing a blueprint",
        "💬",
        legacy="assistant_blueprint_authoring_started",
        quiet=True,
        subject=Subject.BLUEPRINT,
    ),
    entry(
        "assistant.blueprint.authored",
        "assistant wrote a blueprint",
        "💬",
        legacy="assistant_blueprint_authored",
        quiet=True,
        subject=Subject.BLUEPRINT,
    ),
)

# KGSM's `events socket|webhook test` (2025) and `test_event` (2026): never journaled, never a server.
TEST = declare(
    Family.TEST,
    Subject.NONE,
    entry(
        "kgsm.test",
        "test event",
        "✅",
        legacy="socket_test webhook_test test_event",
        sentence="KGSM test event received[ from {host}].",
        outcome=Outcome.SUCCESS,
        tone=Tone.GOOD,
    ),
)
