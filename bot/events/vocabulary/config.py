"""Config: settings, console input, announcements, display names and files of a server."""

from bot.events.model import Family, Subject
from bot.events.vocabulary.entry import declare, entry

KINDS = declare(
    Family.CONFIG,
    Subject.INSTANCE,
    entry(
        "config.changed",
        "configuration changed",
        "⚙️",
        legacy="instance_config_changed",
        sentence="A setting of {subject} was changed.",
    ),
    entry(
        "console.input.sent",
        "console command sent",
        "⌨️",
        legacy="instance_input_sent",
        sentence="A command was sent to the console of {subject}.",
    ),
    entry(
        "announcement.sent",
        "announcement sent",
        "📢",
        legacy="instance_announcement_sent",
        sentence="An announcement was sent to the players of {subject}.",
    ),
    entry(
        "server.renamed",
        "renamed",
        "✏️",
        legacy="instance_display_name_changed",
        # By its old name: once renamed, `{subject}` would already be the new one.
        sentence="[**{OldDisplayName}**|**{InstanceName}**] is now called **{NewDisplayName}**.",
    ),
    entry(
        "file.written",
        "file written",
        "📝",
        legacy="file_written",
        sentence="A file of {subject} was written.",
    ),
)
