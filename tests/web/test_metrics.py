"""/metrics' text on its own: every counter the bot keeps, in Prometheus' format, read back by its parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.web.metrics import Snapshot, render


def samples(snapshot: Snapshot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = render(snapshot).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def snapshot(**changes: object) -> Snapshot:
    values: dict[str, object] = {
        "received": 12,
        "accepted": 10,
        "refused": {"not_json": 1, "no_event_type": 1},
        "rebinds": 1,
        "messages": {"posted": 4, "edited": 3, "failed": 1},
        "embeds": 9,
        "outbox_depth": 2,
        "duplicates": 5,
        "delivery_retries": 6,
        "source_healthy": True,
        "last_event_age": 1.5,
        "states": {"running": 2, "crashed": 1},
        "task_restarts": {"status-board": 1},
    }
    values.update(changes)
    return Snapshot(**values)  # type: ignore[arg-type]


def test_every_counter_is_exported_with_its_labels() -> None:
    found = samples(snapshot())
    assert found[("kgsm_events_received_total", ())] == 12
    assert found[("kgsm_events_accepted_total", ())] == 10
    assert found[("kgsm_events_refused_total", (("reason", "not_json"),))] == 1
    assert found[("kgsm_events_duplicate_total", ())] == 5
    assert found[("kgsm_discord_messages_total", (("kind", "failed"),))] == 1
    assert found[("kgsm_discord_embeds_total", ())] == 9
    assert found[("kgsm_discord_retries_total", ())] == 6
    assert found[("kgsm_outbox_depth", ())] == 2
    assert found[("kgsm_source_rebinds_total", ())] == 1
    assert found[("kgsm_source_up", ())] == 1
    assert found[("kgsm_last_event_age_seconds", ())] == 1.5
    assert found[("kgsm_task_restarts_total", (("task", "status-board"),))] == 1
    assert found[("kgsm_servers", (("state", "crashed"),))] == 1


def test_without_an_event_yet_there_is_no_age_and_a_deaf_source_is_0() -> None:
    found = samples(snapshot(last_event_age=None, source_healthy=False))
    assert ("kgsm_last_event_age_seconds", ()) not in found
    assert found[("kgsm_source_up", ())] == 0
