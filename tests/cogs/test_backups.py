"""/backups and /restore through the real bot: a fake Discord and the strict fake kgsm.sh of each KGSM era (which
sends KGSM's events of a restore with socat to the bot's socket); without KGSM_PATH, /backups from stored events."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import StartBot
from tests.control_support import (
    ACTOR,
    MANAGER,
    OTHER_USER,
    SYNTAXES,
    FakeKgsm,
    answer,
    ask,
    invoke,
    live_messages,
    new_fake_kgsm,
    start,
    view_listening,
)
from tests.fakes.discord_server import DEFAULT_MEMBER_PERMISSIONS, FakeDiscord
from tests.helpers import socat_send

MODERN_IDS = ["valheim-20261201T080454Z-c44f3e", "valheim-20261201T080449Z-077460", "valheim-20261201T080444Z-f277e8"]
LEGACY_NAMES = [  # KGSM 2.x and 1.x list file names in directory order; the bot sorts them newest first
    "valheim-1.1.0-2026-12-02T09:00:00.backup",
    "valheim-1.0.0-2026-12-01T07:36:26.backup.tar.gz",
    "valheim-1.0.0-2026-12-01T07:36:23.backup",
]
NEWEST = {"modern": MODERN_IDS[0], "legacy": LEGACY_NAMES[0], "legacy-1": LEGACY_NAMES[0]}
LISTING = {
    "modern": ("instances", "backups", "valheim", "--json"),
    "legacy": ("--instance", "valheim", "--backups"),
    "legacy-1": ("--instance", "valheim", "--backups"),
}
RESTORE = {
    "modern": ("instances", "restore-backup", "valheim", MODERN_IDS[1]),
    "legacy": ("--instance", "valheim", "--restore-backup", LEGACY_NAMES[1]),
    "legacy-1": ("--instance", "valheim", "--restore-backup", LEGACY_NAMES[1]),
}
MEMBER: dict[str, Any] = {"member_permissions": DEFAULT_MEMBER_PERMISSIONS, "enforce_permissions": False}


@pytest.fixture
def kgsm(monkeypatch: pytest.MonkeyPatch, short_dir: Path, fake: FakeDiscord) -> FakeKgsm:
    return new_fake_kgsm(monkeypatch, short_dir, fake)


async def backups_embed(fake: FakeDiscord, instance: str = "valheim", **kwargs: Any) -> dict[str, Any]:
    interaction = await invoke(fake, "backups", {"instance": instance}, **kwargs)
    bodies = await fake.wait_interaction_messages(interaction, timeout=10)
    await fake.wait_for(lambda: any(body.get("embeds") for body in fake.interaction_messages(interaction)), 10)
    embeds = [body["embeds"][0] for body in fake.interaction_messages(interaction) if body.get("embeds")]
    assert bodies
    return dict(embeds[-1])


def lines_of(embed: dict[str, Any]) -> list[str]:
    return str(embed.get("description", "")).split("\n\n")[0].splitlines()


# ------------------------------------------------------------------------------------------ /backups


@pytest.mark.parametrize("syntax", SYNTAXES)
async def test_backups_shows_kgsms_own_list_newest_first(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, syntax: str
) -> None:
    await start(start_bot, kgsm, syntax, cli=syntax)
    embed = await backups_embed(fake, **MEMBER)  # a list changes nothing: any member may ask
    assert embed["title"] == "💾 Backups of valheim — 3 backups"
    assert embed["footer"]["text"] == "KGSM's own list"
    lines = lines_of(embed)
    if syntax == "modern":
        assert [line.split(" · ")[0] for line in lines] == [f"`{backup}`" for backup in MODERN_IDS]
        assert lines[0] == f"`{MODERN_IDS[0]}` · <t:1796112294:f> · v1.1.0 · 50.0 MiB"
    else:
        assert [line.split(" · ")[0] for line in lines] == [f"`{name}`" for name in LEGACY_NAMES]
        assert lines[0] == f"`{LEGACY_NAMES[0]}` · 2026-12-02 09:00:00 (the host's time) · v1.1.0"
    assert [call.args for call in kgsm.commands()] == [LISTING[syntax]]


async def test_backups_of_an_instance_kgsm_does_not_list_is_refused_without_asking_again(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm, cli="modern")
    interaction = await invoke(fake, "backups", {"instance": "minecraft"}, **MEMBER)
    assert await answer(fake, interaction) == "KGSM has no instance called **minecraft**."
    assert [call.args for call in kgsm.calls()] == [("instances", "list", "--json")]


async def test_backups_without_kgsm_comes_from_the_stored_events(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot()

    def backup(event_type: str, second: int, **data: Any) -> bytes:
        document = {
            "V": 1,
            "EventType": event_type,
            "Data": {"InstanceName": "valheim", **data},
            "Timestamp": f"2026-12-01T08:05:{second:02d}.000Z",
            "Hostname": "gamehost",
        }
        return json.dumps(document).encode() + b"\n"

    payloads = [
        backup("instance_backup_created", 1, Source=MODERN_IDS[2], Version="1.0.0"),
        backup("backup.created", 2, Source=MODERN_IDS[1], Version="1.0.0"),
        backup("backup.created", 3, Source="/opt/kgsm/backups/valheim-1.0.0-2026-12-01T08:05:03.backup"),
        backup("backup.created", 4, Source=MODERN_IDS[0], Version="1.1.0"),
        backup("instance_backup_deleted", 5, Source=MODERN_IDS[1]),
        backup("backup.pruned", 6, Deleted=1, Kept=3),
    ]
    for payload in payloads:
        assert await socat_send(live.socket_path, payload) == 0
    await fake.wait_for(lambda: live.bot.stats.received >= len(payloads), timeout=10)
    await live.bot.recorder.flush()
    interaction = await fake.invoke_slash("backups", {"instance": "valheim"})
    embed = (await fake.wait_interaction_response(interaction))["data"]["embeds"][0]
    assert embed["title"] == "💾 Backups of valheim — 3 backups"
    assert embed["footer"]["text"] == "From the backup events the bot has stored"
    assert lines_of(embed) == [
        f"`{MODERN_IDS[0]}` · <t:1796112304:f> · v1.1.0",
        "`valheim-1.0.0-2026-12-01T08:05:03.backup` · <t:1796112303:f>",
        f"`{MODERN_IDS[2]}` · <t:1796112301:f> · v1.0.0",
    ]
    assert "KGSM pruned 1 old backups" in embed["description"]
    assert "events tell no size" in embed["description"]


# ------------------------------------------------------------------------------------------ /restore


async def prompt_for(fake: FakeDiscord, syntax: str) -> tuple[int, dict[str, Any]]:
    backup = RESTORE[syntax][-1]
    prompt = await invoke(fake, "restore", {"instance": "valheim", "backup": backup})
    text = await answer(fake, prompt)
    assert text.startswith(f"⚠️ Restore **valheim** from `{backup}`")
    assert "Confirm within 60 s." in text
    message = fake.original_response(prompt)
    assert message is not None
    return prompt, message


@pytest.mark.parametrize("syntax", SYNTAXES)
async def test_restore_runs_kgsms_restore_of_its_era_only_once_the_caller_confirms(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, syntax: str
) -> None:
    live = await start(start_bot, kgsm, syntax, cli=syntax)
    _prompt, message = await prompt_for(fake, syntax)
    await view_listening(fake, live, message)
    assert [call.args for call in kgsm.commands()] == [LISTING[syntax]], "nothing restored before the confirm"

    intruder = await fake.click_button(message, label="Restore", user_id=OTHER_USER, member_permissions=MANAGER)
    refused = (await fake.wait_interaction_response(intruder))["data"]
    assert refused["content"] == f"Only user{fake.DEFAULT_USER_ID}, who asked, can confirm this restore."
    assert refused["flags"] & 64
    assert [call.args for call in kgsm.commands()] == [LISTING[syntax]]

    confirmed = await fake.click_button(message, label="Restore")
    assert (await fake.wait_interaction_response(confirmed))["type"] == 7
    done = f"✅ Restored **valheim** from `{RESTORE[syntax][-1]}`"
    await fake.wait_for(lambda: done in str(fake.message(int(message["id"]))), timeout=15)
    restores = [call for call in kgsm.commands() if call.args not in (LISTING[syntax],)]
    assert [(call.actor, call.origin, call.args) for call in restores] == [(ACTOR, "discord", RESTORE[syntax])]
    assert not (fake.message(int(message["id"])) or {}).get("components"), "no button is left to press"


async def test_the_restore_shows_in_the_live_operation_message(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    live = await start(start_bot, kgsm, "modern", cli="modern")
    _prompt, message = await prompt_for(fake, "modern")
    await view_listening(fake, live, message)
    await fake.click_button(message, label="Restore")

    def restore_message() -> dict[str, Any] | None:
        found = [embed for title, embed in live_messages(fake).items() if "valheim" in title and "restor" in title]
        return found[-1] if found else None

    def finished() -> dict[str, Any] | None:
        found = restore_message()
        return found if found is not None and found["title"].startswith("✅") else None

    embed = await fake.wait_for(finished, timeout=15)
    assert embed["title"] == "✅ valheim restored"
    assert embed["footer"]["text"].startswith(f"by {ACTOR}")
    assert "✅ restore started\n✅ backup restored\n✅ restore finished" in embed["description"]
    assert {"inline": True, "name": "Backup", "value": MODERN_IDS[1]} in embed["fields"]


async def test_restore_is_refused_to_a_member_who_is_no_operator(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm)
    refused = await ask(fake, "restore", {"instance": "valheim", "backup": MODERN_IDS[0]}, **MEMBER)
    assert "operator role" in refused
    suggestions = await fake.invoke_autocomplete(
        "restore",
        {"instance": "valheim", "backup": ""},
        focused="backup",
        member_permissions=DEFAULT_MEMBER_PERMISSIONS,
    )
    assert (await fake.wait_interaction_response(suggestions))["data"]["choices"] == []
    assert kgsm.commands() == []


async def test_restore_offers_the_backups_backups_lists(fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm) -> None:
    await start(start_bot, kgsm, cli="modern")
    suggestions = await fake.invoke_autocomplete(
        "restore", {"instance": "valheim", "backup": "0449"}, focused="backup", member_permissions=MANAGER
    )
    choices = (await fake.wait_interaction_response(suggestions))["data"]["choices"]
    assert choices == [{"name": f"{MODERN_IDS[1]} (v1.0.0 · 50.0 MiB)", "value": MODERN_IDS[1]}]
    everything = await fake.invoke_autocomplete(
        "restore", {"instance": "valheim", "backup": ""}, focused="backup", member_permissions=MANAGER
    )
    values = [choice["value"] for choice in (await fake.wait_interaction_response(everything))["data"]["choices"]]
    assert values == MODERN_IDS
    assert [call.args for call in kgsm.commands()] == [LISTING["modern"]], "one listing for both (kept 30 s)"


async def test_a_backup_kgsm_does_not_list_is_refused(fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm) -> None:
    await start(start_bot, kgsm, cli="modern")
    refused = await ask(fake, "restore", {"instance": "valheim", "backup": "valheim-20200101T000000Z-000000"})
    assert refused == "KGSM lists no backup `valheim-20200101T000000Z-000000` of **valheim**; /backups lists them."
    assert [call.args for call in kgsm.commands()] == [LISTING["modern"]]


async def test_the_restore_confirmation_expires(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, monkeypatch: pytest.MonkeyPatch
) -> None:
    await start(start_bot, kgsm, cli="modern")
    monkeypatch.setattr(sys.modules["cogs.control"].ConfirmRestore, "expiry", 0.5)
    prompt = await invoke(fake, "restore", {"instance": "valheim", "backup": MODERN_IDS[1]})
    assert "Confirm within 0.5 s" in await answer(fake, prompt)
    expired = await fake.wait_for(lambda: "expired" in str((fake.original_response(prompt) or {}).get("content")))
    assert expired
    message = fake.original_response(prompt)
    assert message is not None
    assert message["content"] == "⌛ The confirmation expired; **valheim** was not restored."
    assert not message.get("components")
    assert [call.args for call in kgsm.commands()] == [LISTING["modern"]]


async def test_a_restore_is_refused_while_another_command_runs_for_the_server(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm, cli="modern")
    kgsm.set(sleep="1.5")
    first = await invoke(fake, "stop", {"instance": "valheim"})
    await fake.wait_for(kgsm.commands, timeout=10)  # kgsm.sh stop valheim is running
    refused = await ask(fake, "restore", {"instance": "valheim", "backup": MODERN_IDS[1]})
    assert (
        refused
        == f"**valheim** is busy: /stop by user{fake.DEFAULT_USER_ID} is still running. Try again when it has finished."
    )
    assert (await answer(fake, first)).startswith("✅ Stopped **valheim**")
    assert [call.args for call in kgsm.commands()] == [("stop", "valheim")]
