"""The live message of a run, rendered on its own (pure: no network): its checklist while it runs, when it is
done, failed or quiet, the details it shows, and a hostile server name made inert."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.events import OPERATIONS
from bot.events.runs import Run, RunStatus
from bot.render import render_run
from bot.render.palette import BLUE, GREEN, ORANGE, RED
from bot.render.run import progress_bar


def run(kind: str, *steps: str, status: RunStatus = RunStatus.RUNNING, **fields: object) -> Run:
    moment = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    made = Run(7, "valheim", OPERATIONS[kind], status, list(steps), moment, moment, version=len(steps))
    for name, value in fields.items():
        setattr(made, name, value)
    return made


def test_a_running_backup_shows_its_steps_done_and_waiting_in_blue() -> None:
    embed = render_run(run("backup", "backup.started", "backup.created"), lambda _i, _h: "Valheim (main)")
    assert embed.title == "⏳ Backing up Valheim \\(main\\)"
    assert embed.colour == BLUE
    assert embed.description == f"{progress_bar(2, 3)}\n\n✅ backup started\n✅ backup created\n⬜ backup finished"
    assert embed.footer.text == "backup of valheim"


def test_a_done_run_counts_only_the_steps_kgsm_sent_and_shows_none_missing() -> None:
    """An older KGSM sends fewer steps of an install: complete is complete, not 2 of 12."""
    embed = render_run(run("install", "server.install.started", "server.installed", status=RunStatus.DONE))
    assert embed.title == "✅ valheim installed"
    assert embed.colour == GREEN
    assert embed.description is not None
    assert embed.description.splitlines() == [progress_bar(2, 2), "", "✅ installation started", "✅ installed"]


def test_a_failed_run_is_red_names_the_failed_step_and_what_was_not_reached() -> None:
    failed = run("backup", "backup.started", "server.crashed", status=RunStatus.FAILED, failed_step="server.crashed")
    embed = render_run(failed)
    assert embed.title == "❌ valheim: backup failed at “crashed”"
    assert embed.colour == RED
    assert embed.description is not None
    lines = embed.description.splitlines()
    assert lines[2:] == ["✅ backup started", "▫️ backup created", "▫️ backup finished", "❌ crashed"]


def test_a_quiet_run_says_since_when_kgsm_said_nothing() -> None:
    heard = datetime(2026, 12, 1, 12, 5, tzinfo=UTC)
    embed = render_run(run("backup", "backup.started", status=RunStatus.QUIET, heard_at=heard))
    assert embed.title == "⚠️ Backing up valheim — no news from KGSM"
    assert embed.colour == ORANGE
    assert embed.description is not None
    assert f"<t:{int(heard.timestamp())}:f>" in embed.description


def test_details_actor_and_host_are_shown() -> None:
    details = {"OldVersion": "1.20", "NewVersion": "1.21", "Blueprint": "minecraft"}
    embed = render_run(run("update", "server.update.started", actor="discord:ada", host="gamehost", details=details))
    assert {field.name: field.value for field in embed.fields} == {"Blueprint": "minecraft", "Version": "1.20 → 1.21"}
    assert embed.footer.text == "by discord:ada · on gamehost"


def test_a_hostile_server_name_neither_formats_nor_pings() -> None:
    hostile = run("backup", "backup.started", instance="**@everyone** [x](https://evil.example) \u202e")
    embed = render_run(hostile)
    assert embed.title is not None
    assert "@everyone" not in embed.title
    assert "\\*\\*" in embed.title
    assert "](https" not in embed.title
    assert "\u202e" not in embed.title
    assert embed.footer.text is not None
    assert "@everyone" not in embed.footer.text
