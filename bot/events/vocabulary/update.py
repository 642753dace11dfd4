"""Update: update runs, version changes and available updates.

KGSM's names are confusing here: `instance_version_updated` became `server.updated` (the version changed) and
`instance_updated` became `server.update.completed` (the bracket KGSM 1.x closed an update with).
"""

from bot.events.model import Family, Outcome, Severity, State, Subject, Tone
from bot.events.vocabulary.entry import declare, entry

KINDS = declare(
    Family.UPDATE,
    Subject.INSTANCE,
    entry(
        "server.update.started",
        "update started",
        "⬆️",
        legacy="instance_update_started",
        sentence="Updating {subject}.",
        state=State.UPDATING,
        ops="update:open",
        phase=True,
    ),
    entry(
        "server.updated",
        "version changed",
        "🆕",
        legacy="instance_version_updated",
        sentence="{subject} is now at version {NewVersion}[ (was {OldVersion})].",
        outcome=Outcome.SUCCESS,
        tone=Tone.GOOD,
        ops="install:optional update:step",
    ),
    entry(
        "server.update.finished",
        "update finished",
        "⬆️",
        legacy="instance_update_finished",
        sentence="The update of {subject} finished.",
        state=State.INSTALLED,
        only_from=(State.UPDATING,),
        ops="update:end",
        phase=True,
    ),
    entry(
        "server.update.completed",
        "update completed",
        "⬆️",
        legacy="instance_updated",
        sentence="{subject} is up to date.",
        state=State.INSTALLED,
        only_from=(State.UPDATING,),
        ops="update:end",
        phase=True,
    ),
    entry(
        "server.update.failed",
        "update failed",
        "❌",
        legacy="instance_update_failed",
        sentence="The update of {subject} failed.",
        severity=Severity.DANGER,
        outcome=Outcome.FAILURE,
        state=State.FAILED,
        ops="update:step",
    ),
    entry(
        "server.update.available",
        "update available",
        "🔔",
        legacy="instance_update_available",
        sentence="Version {LatestVersion} is available for {subject}[ (running {CurrentVersion})].",
        tone=Tone.PROGRESS,
    ),
)
