"""/uptime end to end: events through the socket, the command from the fake Discord, the numbers and the
PNG the bot answers with."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

from bot.render.palette import condition_colour
from bot.render.timeline import cell_box, picture_size
from bot.store.uptime import Condition
from tests.cogs.test_commands import EPHEMERAL, send_all, slash
from tests.conftest import StartBot
from tests.fakes.discord_server import FakeDiscord

NOW = datetime(2026, 8, 17, 12, 0, tzinfo=UTC)
HOSTILE = "<@&123456789012345678> @everyone **x**\u202e\ud800"


def at(event_type: str, instance: str, when: str, **data: Any) -> dict[str, Any]:
    return {"EventType": event_type, "Data": {"InstanceName": instance, **data}, "Timestamp": when}


WEEK = [
    at("instance_ready", "valheim", "2026-08-10T12:00:00Z"),
    at("instance_crashed", "valheim", "2026-08-12T12:00:00Z", ExitCode="137"),
    at("instance_restarted", "valheim", "2026-08-12T12:00:40Z"),
    at("instance_stopped", "valheim", "2026-08-14T12:00:00Z"),
    at("instance_started", "valheim", "2026-08-14T13:00:00Z"),
    at("instance_started", "factorio", "2026-08-16T12:00:00Z"),  # no data for its first six days
    at("instance_started", HOSTILE, "2026-08-16T12:00:00Z"),
]


def picture(fake: FakeDiscord) -> Image.Image:
    uploads = [f for r in fake.requests for f in r.files if f.filename == "uptime.png"]
    assert len(uploads) == 1
    return Image.open(io.BytesIO(uploads[0].data)).convert("RGB")


async def test_uptime_of_a_week_with_a_crash_a_stop_and_a_server_seen_late(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    live = await start_bot(clock=lambda: NOW)
    await send_all(fake, live, *WEEK)

    response = await slash(fake, "uptime")
    assert response["type"] == 5  # deferred: the answer follows with the picture
    (message,) = await fake.wait_interaction_messages(response["interaction"])
    assert message["flags"] & EPHEMERAL
    embed = message["embeds"][0]
    assert embed["title"] == "Uptime — the last 7 days"
    assert embed["image"]["url"] == "attachment://uptime.png"
    fields = {field["name"].split(". ", 1)[1]: field["value"] for field in embed["fields"]}
    valheim = fields["valheim"]
    # a week of 604 800 s: 40 s crashed, 3600 s stopped
    assert f"**{100 * (604800 - 3640) / 604800:.2f} %** up" in valheim
    assert "1 crash · recovered in 40 s on average · longest outage 40 s" in valheim
    factorio = fields["factorio"]
    assert factorio.startswith("**100 %** up · no crash")
    assert "no data for 6 d: left out of the percentage" in factorio

    hostile = next(name for name in fields if "everyone" in name)
    assert "@everyone" not in hostile
    assert "<@&" not in hostile
    assert "\u202e" not in hostile
    assert "\\*\\*x\\*\\*" in hostile

    image = picture(fake)
    assert image.size == picture_size(3, 7)
    order = [field["name"].split(". ", 1)[1] for field in embed["fields"]]
    row = order.index("valheim")
    days = [image.getpixel(cell_box(row, cell, 7)[:2]) for cell in range(7)]
    # cells are the 24 h slices ending now: the crash is in the third, the stop in the fifth (mostly up)
    up, crashed = condition_colour(Condition.UP).to_rgb(), condition_colour(Condition.CRASHED).to_rgb()
    assert days == [up, up, crashed, up, up, up, up]
    factorio_row = order.index("factorio")
    no_data = condition_colour(Condition.NO_DATA).to_rgb()
    assert image.getpixel(cell_box(factorio_row, 0, 7)[:2]) == no_data
    assert image.getpixel(cell_box(factorio_row, 6, 7)[:2]) == up


async def test_one_server_over_a_day_has_hourly_cells_and_days_stay_within_the_history_kept(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    live = await start_bot(clock=lambda: NOW, KGSM_HISTORY_DAYS="30")
    await send_all(fake, live, *WEEK)
    response = await slash(fake, "uptime", {"instance": "valheim", "days": 1, "public": True})
    (message,) = await fake.wait_interaction_messages(response["interaction"])
    assert not message.get("flags", 0) & EPHEMERAL
    assert len(message["embeds"][0]["fields"]) == 1
    assert picture(fake).size == picture_size(1, 24)

    too_long = await slash(fake, "uptime", {"days": 31})
    assert "keeps 30 days of history" in too_long["data"]["content"]
    unknown = await slash(fake, "uptime", {"instance": "nope"})
    assert "No server called" in unknown["data"]["content"]


async def test_uptime_autocompletes_the_servers(fake: FakeDiscord, start_bot: StartBot) -> None:
    live = await start_bot(clock=lambda: NOW)
    await send_all(fake, live, *WEEK)
    interaction = await fake.invoke_autocomplete("uptime", {"instance": "val"}, focused="instance")
    choices = (await fake.wait_interaction_response(interaction))["data"]["choices"]
    assert [choice["value"] for choice in choices] == ["valheim"]


async def test_the_hours_the_bot_was_not_running_are_no_data(fake: FakeDiscord, start_bot: StartBot) -> None:
    clock = {"now": NOW - timedelta(hours=5)}
    live = await start_bot(clock=lambda: clock["now"])
    await send_all(fake, live, *WEEK)
    await live.bot.recording.mark()
    await live.stop()
    clock["now"] = NOW - timedelta(hours=2)  # back after three hours: a socket-only bot heard nothing meanwhile
    again = await start_bot(clock=lambda: clock["now"])
    await again.bot.recording.mark()
    clock["now"] = NOW
    response = await slash(fake, "uptime", {"instance": "valheim", "days": 1})
    (message,) = await fake.wait_interaction_messages(response["interaction"])
    (field,) = message["embeds"][0]["fields"]
    assert "**100 %** up" in field["value"]
    assert "no data for 3 h: left out of the percentage" in field["value"]
    image = picture(fake)
    no_data, up = condition_colour(Condition.NO_DATA).to_rgb(), condition_colour(Condition.UP).to_rgb()
    hours = [image.getpixel(cell_box(0, cell, 24)[:2]) for cell in range(24)]
    assert hours == [up] * 19 + [no_data] * 3 + [up] * 2
