"""The crash incident's message, its Restart button and the alert ping's text, from runs the watchdog's
lines make (tests/events/test_runs.py folds them)."""

from __future__ import annotations

import pytest

from bot.events import parse_event
from bot.events.runs import RunStatus
from bot.render import alert_text, incident_buttons, render_run
from bot.render.incident import RESTART_ID, duration, incident_title
from bot.render.palette import GREEN, ORANGE, RED
from tests.events.test_runs import fold, loop_of


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0, "0 s"), (40.4, "40 s"), (60, "1 min"), (97.3, "1 min 37 s"), (3600, "1 h"), (7860, "2 h 11 min")],
)
def test_how_long_a_server_was_down_reads_plainly(seconds: float, said: str) -> None:
    assert duration(seconds) == said


def test_a_loop_reads_as_the_attempt_then_recovered_in_green() -> None:
    events = loop_of("valheim")
    looping, _ = fold(events[:3])
    embed = render_run(looping)
    assert embed.title == "💥 valheim crashed — restarting (attempt 2)"
    assert embed.colour == ORANGE
    assert "Crashed 2 times since <t:" in (embed.description or "")
    assert embed.footer.text == "by system:watchdog · on gamehost"
    recovered, _ = fold(events[:7])
    embed = render_run(recovered)
    assert (embed.title, embed.colour) == ("✅ valheim recovered after 1 min 37 s", GREEN)
    assert incident_buttons(recovered) == []


def test_a_give_up_is_red_with_the_restart_button_until_a_restart_from_it_worked() -> None:
    run, _ = fold(loop_of("factorio"))
    embed = render_run(run)
    assert (embed.title, embed.colour) == ("🛑 factorio gave up after 5 restarts", RED)
    assert "The supervisor counted 6 failures in a row; it stays down" in (embed.description or "")
    [button] = incident_buttons(run)
    assert button == {
        "type": 2,
        "style": 4,
        "label": "Restart",
        "custom_id": RESTART_ID.format(run=1, instance="factorio"),
    }
    assert len(button["custom_id"]) <= 100
    run.note("🔄 Restarted by <@1> at <t:1:t>.")
    run.details["restarted"] = True
    assert incident_buttons(run) == []
    assert (render_run(run).description or "").endswith("🔄 Restarted by <@1> at <t:1:t>.")


def test_a_running_or_quiet_incident_without_an_attempt_number_says_so_honestly() -> None:
    crashed = parse_event({"EventType": "instance_crashed", "Data": {"InstanceName": "v", "Restarts": "unknown"}})
    run, _ = fold([crashed])
    assert incident_title(run) == "💥 v crashed — the supervisor is restarting it"
    run.fall_quiet()
    assert run.status is RunStatus.QUIET
    assert incident_title(run) == "⚠️ v crashed — no news from KGSM"
    assert "it may be up again" in (render_run(run).description or "")


@pytest.mark.parametrize("name", ["@everyone **x** \ud800", "v" * 65, "valheim;rm -rf", "zoë"])
def test_a_server_name_kgsm_would_not_take_gets_no_button_and_shows_inert(name: str) -> None:
    gave_up = parse_event({"EventType": "server.crash.exhausted", "Data": {"InstanceName": name, "Restarts": "6"}})
    run, _ = fold([gave_up])
    assert incident_buttons(run) == []
    title = render_run(run).title or ""
    assert "@everyone" not in title
    assert "**" not in title
    assert title.startswith("🛑 ")


def test_the_alert_ping_is_the_role_and_the_headline() -> None:
    run, _ = fold(loop_of("factorio"))
    assert alert_text(42, run) == "<@&42> 🛑 factorio gave up after 5 restarts"
    breach = parse_event({"EventType": "host.threshold.breached", "Data": {"RuleKey": "host-mem"}, "Hostname": "gh"})
    assert alert_text(42, breach) == "<@&42> 📈 gh — threshold crossed"


@pytest.mark.parametrize(
    ("restarts", "title"),
    [
        ("6", "🛑 v gave up after 5 restarts"),
        ("2", "🛑 v gave up after 1 restart"),
        ("1", "🛑 v crashed and the supervisor did not restart it"),
        ("unknown", "🛑 v crashed and the supervisor gave up restarting it"),
    ],
)
def test_the_give_up_counts_the_restarts_kgsm_made(restarts: str, title: str) -> None:
    gave_up = parse_event({"EventType": "server.crash.exhausted", "Data": {"InstanceName": "v", "Restarts": restarts}})
    run, _ = fold([gave_up])
    assert incident_title(run) == title
