"""Crash incidents as runs: the supervisor's lines, in the order kgsm-watchdog writes them
(tests/fixtures/dotted-2026/journal/kgsm-watchdog), fold into one run that recovers or gives up."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.events import Event, parse_event
from bot.events.runs import Run, RunStatus, belongs_to, opens_run
from tests.dotted import JOURNAL, SEGMENT

LINES: list[dict[str, Any]] = [
    json.loads(line) for line in (JOURNAL / "kgsm-watchdog" / "events" / SEGMENT).read_text().splitlines()
]


def loop_of(instance: str) -> list[Event]:
    """An instance's crash and restart lines, from its first crash to what ends the loop."""
    events = [parse_event(line) for line in LINES if line["Data"].get("InstanceName") == instance]
    events = [event for event in events if event.family.value == "lifecycle"]
    first = next(n for n, event in enumerate(events) if event.type == "server.crashed")
    return events[first:]


def fold(events: list[Event]) -> tuple[Run, list[Event]]:
    """The run the first event opens, and the events that did not belong to it."""
    operation = opens_run(events[0])
    assert operation is not None
    first = events[0]
    run = Run(1, str(first.instance), operation, RunStatus.RUNNING, [], first.timestamp, first.timestamp, version=0)
    run.take(first)
    left = []
    for event in events[1:]:
        if belongs_to(run, event):
            run.take(event)
        else:
            left.append(event)
    return run, left


def test_a_crash_opens_an_incident_and_every_attempt_folds_into_it_until_ready() -> None:
    events = loop_of("valheim")  # 3 crashes, 3 restarts, ready
    assert [event.type for event in events].count("server.crashed") == 3
    run, left = fold(events[:7])
    assert run.kind.incident
    assert left == []
    assert run.status is RunStatus.DONE
    assert (run.details["crashes"], run.details["restarts"], run.details["attempt"]) == (3, 3, 3)
    assert run.details["ExitCode"] == "1"
    assert run.updated_at - run.started_at == timedelta(seconds=97, microseconds=295000)


def test_a_crash_does_not_fail_the_incident_but_the_supervisor_giving_up_does() -> None:
    events = loop_of("factorio")
    exhausted = next(n for n, event in enumerate(events) if event.type == "server.crash.exhausted")
    run, _ = fold(events[:2])
    assert run.status is RunStatus.RUNNING  # crashed has Outcome failure: it is what an incident is made of
    run, left = fold(events[: exhausted + 1])
    assert left == []
    assert run.status is RunStatus.FAILED
    assert (run.details["crashes"], run.details["failures"], run.details["gave_up_after"]) == (5, 6, 5)


def test_nothing_attaches_once_the_incident_is_over() -> None:
    events = loop_of("factorio")  # … exhausted at 14:07, then ready at 15:14 after a fix
    run, left = fold(events)
    assert run.status is RunStatus.FAILED
    assert [event.type for event in left] == ["server.ready"]


def test_the_give_up_heard_alone_is_a_whole_incident_and_unknown_counts_are_not_shown() -> None:
    gave_up = parse_event(
        {
            "EventType": "instance_failed",
            "Data": {"InstanceName": "valheim", "ExitCode": "unknown", "Restarts": "unknown"},
        }
    )
    run, _ = fold([gave_up])
    assert run.status is RunStatus.FAILED
    assert run.details.get("gave_up_after") is None
    assert "ExitCode" not in run.details


def test_an_event_from_before_the_first_crash_is_not_part_of_the_incident() -> None:
    events = loop_of("valheim")
    earlier_ready = parse_event({**LINES[3], "Data": {"InstanceName": "valheim"}})  # factorio's 06:02 ready line
    run, left = fold([events[0], earlier_ready])
    assert left == [earlier_ready]
    assert run.status is RunStatus.RUNNING


def test_restart_events_during_an_incident_fold_into_it_and_open_no_restart_run() -> None:
    crashed = loop_of("valheim")[0]
    later = crashed.timestamp.isoformat().replace("+00:00", "Z")
    restart = [
        parse_event(
            {"EventType": name, "Data": {"InstanceName": "valheim"}, "Timestamp": later, "Hostname": "gamehost"}
        )
        for name in ("instance_restart_started", "instance_restart_stopped", "instance_restarted")
    ]
    assert opens_run(restart[0]) is not None  # on its own, a restart is its own run …
    run, left = fold([crashed, *restart])
    assert left == []  # … but not during an incident
    assert run.status is RunStatus.RUNNING


def test_a_note_is_a_new_version_of_the_message() -> None:
    run, _ = fold(loop_of("factorio"))
    version = run.version
    run.note("🔄 Restarted by <@1>.")
    assert run.version == version + 1
    assert run.details["notes"] == ["🔄 Restarted by <@1>."]
