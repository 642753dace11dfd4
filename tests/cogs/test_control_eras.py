"""Server commands where KGSM's eras differ: /logs (KGSM 3's --tail, KGSM 2's ten lines, KGSM 1's endless log),
/backup of a running server, and output too long to keep. The real bot, a fake Discord, the strict fake kgsm.sh.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.kgsm.syntax import LOGS_FOLLOW_WINDOW
from tests.conftest import StartBot
from tests.control_support import FakeKgsm, answer, ask, invoke, new_fake_kgsm, start
from tests.fakes.discord_server import FakeDiscord


@pytest.fixture
def kgsm(monkeypatch: pytest.MonkeyPatch, short_dir: Path, fake: FakeDiscord) -> FakeKgsm:
    return new_fake_kgsm(monkeypatch, short_dir, fake)


async def test_logs_are_private_and_come_as_a_file_when_long(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    kgsm.set(log_lines="300")
    await start(start_bot, kgsm, cli="modern")
    short = await ask(fake, "logs", {"instance": "valheim", "lines": 3})
    assert short.startswith("The last 3 lines of **valheim**'s log:\n```\n[valheim] log line 298")

    long = await invoke(fake, "logs", {"instance": "valheim", "lines": 250})
    assert await answer(fake, long) == "The last 250 lines of **valheim**'s log are attached."
    message = fake.original_response(long)
    assert message is not None
    assert [attachment["filename"] for attachment in message["attachments"]] == ["valheim.log"]
    (upload,) = [file for request in fake.requests for file in request.files if file.filename == "valheim.log"]
    lines = upload.data.decode().splitlines()
    assert len(lines) == 250
    assert lines[0] == "[valheim] log line 51 of the server"
    assert lines[-1] == "[valheim] log line 300 of the server"
    assert [call.args for call in kgsm.commands()] == [("logs", "valheim", "--tail", n) for n in ("3", "250")]


async def test_logs_before_kgsm_3_say_that_kgsm_gave_only_10_lines(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    kgsm.set(log_lines="300")
    await start(start_bot, kgsm, "legacy", cli="legacy")
    shown = await ask(fake, "logs", {"instance": "valheim", "lines": 50})
    head = "The last 10 lines of **valheim**'s log (KGSM 2 prints only the last 10 lines of a log):"
    assert shown.startswith(f"{head}\n```\n[valheim] log line 291 of the server\n")
    assert shown.endswith("[valheim] log line 300 of the server\n```")
    few = await ask(fake, "logs", {"instance": "valheim", "lines": 4})
    assert few.startswith("The last 4 lines of **valheim**'s log:\n```\n[valheim] log line 297")


async def test_the_endless_logs_of_kgsm_1_are_read_for_a_moment_and_stopped(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    await start(start_bot, kgsm, "legacy-1", cli="legacy-1")
    began = asyncio.get_running_loop().time()
    shown = await answer(fake, await invoke(fake, "logs", {"instance": "valheim", "lines": 2}), timeout=15)
    assert shown.startswith("The last 2 lines of **valheim**'s log:\n```\n[valheim] log line 4 of the server\n")
    assert asyncio.get_running_loop().time() - began < LOGS_FOLLOW_WINDOW + 5
    assert [call.args for call in kgsm.commands()] == [("--instance", "valheim", "--logs")]


# ------------------------------------------------------------------------------------------ /backup, cut output


@pytest.mark.parametrize("syntax", ["modern", "legacy"])
async def test_backup_runs_kgsms_real_command_and_kgsm_decides_about_a_running_server(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm, syntax: str
) -> None:
    kgsm.set(running="valheim")
    await start(start_bot, kgsm, syntax, cli=syntax)
    stopped = await ask(fake, "backup", {"instance": "factorio"})
    form = "instances create-backup factorio" if syntax == "modern" else "--instance factorio --create-backup"
    assert stopped.startswith(f"✅ Backed up **factorio** (`kgsm.sh {form}`")
    running = await ask(fake, "backup", {"instance": "valheim"})
    if syntax == "modern":  # KGSM 3.16 backs a running server up and records that it was running
        assert running.startswith("✅ Backed up **valheim** (`kgsm.sh instances create-backup valheim`")
        assert "\nvalheim-2" in running, "the new backup's id, KGSM's last line"
    else:
        assert running.startswith("❌ `kgsm.sh --instance valheim --create-backup` failed with exit code 1:")
        assert "currently running, please shut down before attempting to create a backup" in running


async def test_the_member_is_told_when_kgsms_output_was_cut(
    fake: FakeDiscord, start_bot: StartBot, kgsm: FakeKgsm
) -> None:
    kgsm.set(output_bytes=str(300 * 1024))
    await start(start_bot, kgsm)
    reported = await ask(fake, "start", {"instance": "factorio"})
    assert reported.startswith("✅ Started **factorio** (`kgsm.sh start factorio`, ")
    assert "s) (output cut to the last 256 KiB)." in reported
    kgsm.set(fail="disk full")
    failed = await ask(fake, "stop", {"instance": "valheim"})
    assert failed.startswith("❌ `kgsm.sh stop valheim` failed with exit code 1 (output cut to the last 256 KiB):")
    assert failed.endswith("ERROR: disk full\n```")
