"""The socket source against a real Unix socket, written to by socat exactly as KGSM does."""

from __future__ import annotations

import asyncio
import grp
import json
import logging
import os
import shutil
import socket
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import SocketSettings
from bot.events import canonical_type
from bot.runtime.supervisor import Supervisor
from bot.sources.socket_server import SocketPathError, SocketServerSource
from tests.conftest import RunningSource, SettingsWith, start_source
from tests.helpers import ERAS, FIXTURES, pretty, socat_send, started

FIXTURE_FILES = sorted(path for era in ERAS for path in (FIXTURES / era).glob("*.json"))
JOURNAL_LINES = (FIXTURES / "journal" / "2026-08-14.ndjson").read_text().splitlines()

# What each era's fixtures are about, written out by hand (not derived by the code under test).
EXPECTED_SUBJECT = {
    "doc-2024": "my_server_instance",
    "socket-2024": "factorio",
    "socket-2026": "valheim",
}
EXPECTED_TIMESTAMP = {
    "doc-2024": datetime(2024, 12, 19, 15, 30, tzinfo=UTC),
    "socket-2024": None,  # 2024 KGSM sent no timestamp: the time of receipt is used
    "socket-2026": datetime(2026, 6, 20, 18, 4, 5, tzinfo=UTC),
}


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_every_fixture_parses_to_its_type_subject_and_timestamp(running: RunningSource, path: Path) -> None:
    era = path.parent.name
    before = datetime.now(UTC)
    assert await socat_send(running.path, path.read_bytes()) == 0
    (event,) = await running.collector.wait_count(1)
    after = datetime.now(UTC)

    assert event.type == canonical_type(path.stem)
    if path.stem.startswith("blueprint_"):
        assert (event.instance, event.blueprint) == (None, "factorio")
    else:
        assert event.instance == EXPECTED_SUBJECT[era]
    expected_time = EXPECTED_TIMESTAMP[era]
    if expected_time is None:
        assert before <= event.timestamp <= after
    else:
        assert event.timestamp == expected_time
    assert event.timestamp.tzinfo is UTC


@pytest.mark.parametrize("line", JOURNAL_LINES, ids=lambda line: json.loads(line)["EventType"])
async def test_every_journal_line_parses_when_sent_as_one_compact_line(running: RunningSource, line: str) -> None:
    assert await socat_send(running.path, line.encode() + b"\n") == 0
    (event,) = await running.collector.wait_count(1)
    document = json.loads(line)
    assert event.type == canonical_type(document["EventType"])
    assert event.subject == ("factorio" if document["EventType"].startswith("blueprint_") else "minecraft")
    assert event.timestamp == datetime.fromisoformat(document["Timestamp"].replace("Z", "+00:00"))
    assert event.host == "gamehost"
    assert event.envelope_version == document["V"]


async def test_two_hundred_concurrent_connections_all_arrive(running: RunningSource) -> None:
    sends = [socat_send(running.path, pretty(started(f"server-{n}"))) for n in range(200)]
    codes = await asyncio.gather(*sends)
    assert codes == [0] * 200
    events = await running.collector.wait_count(200, timeout=20)
    assert sorted(e.instance or "" for e in events) == sorted(f"server-{n}" for n in range(200))


async def test_writes_split_into_single_bytes_still_decode(running: RunningSource) -> None:
    payload = pretty(started("split", Note='déjà vu "quoted" \\ backslash {brace}'))
    reader, writer = await asyncio.open_unix_connection(str(running.path))
    for byte in payload:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0)
    writer.close()
    await writer.wait_closed()
    (event,) = await running.collector.wait_count(1)
    assert event.instance == "split"
    assert event.data["Note"] == 'déjà vu "quoted" \\ backslash {brace}'
    del reader


async def test_several_documents_in_one_connection(running: RunningSource) -> None:
    payload = (
        pretty(started("pretty"))
        + json.dumps(started("compact")).encode()
        + json.dumps(started("back-to-back")).encode()
        + b"\n"
        + b"\n".join(json.dumps(started(f"ndjson-{n}")).encode() for n in range(3))
        + b"\n"
    )
    assert await socat_send(running.path, payload) == 0
    await running.collector.wait_count(6)
    assert running.collector.instances() == ["pretty", "compact", "back-to-back", "ndjson-0", "ndjson-1", "ndjson-2"]


MALFORMED_REASONS = {
    "array.json": "not_object",
    "binary.bin": "not_json",
    "data_string.json": "bad_data",
    "deep_nesting.json": "too_deep",
    "event_type_number.json": "bad_event_type",
    "no_event_type.json": "no_event_type",
    "not_json.txt": "not_json",
    "truncated.json": "not_json",
}


@pytest.mark.parametrize("name", sorted(MALFORMED_REASONS))
async def test_malformed_input_is_refused_with_its_reason_and_the_next_event_arrives(
    settings_with: SettingsWith, name: str
) -> None:
    running = await start_source(settings_with(max_payload_bytes=1 << 20))
    try:
        assert await socat_send(running.path, (FIXTURES / "malformed" / name).read_bytes()) == 0
        assert await socat_send(running.path, pretty(started("after"))) == 0
        (event,) = await running.collector.wait_count(1)
        assert event.instance == "after"
        assert running.stats.refused[MALFORMED_REASONS[name]] >= 1
        assert set(running.stats.refused) == {MALFORMED_REASONS[name]}
        assert running.stats.accepted == 1
    finally:
        await running.source.stop()


async def test_oversized_payload_is_cut_off_without_blocking_others(running: RunningSource) -> None:
    reader, writer = await asyncio.open_unix_connection(str(running.path))
    big = b'{"EventType": "instance_started", "Data": {"Blob": "' + b"x" * 200_000
    writer.write(big)
    for n in range(5):
        assert await socat_send(running.path, pretty(started(f"other-{n}"))) == 0
    await running.collector.wait_count(5)
    # The oversized connection is closed by the bot.
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    assert running.stats.refused["too_large"] == 1
    assert running.collector.instances() == [f"other-{n}" for n in range(5)]


async def test_client_that_never_closes_is_cut_off_without_blocking_others(settings_with: SettingsWith) -> None:
    running = await start_source(settings_with(read_timeout=0.5))
    try:
        reader, writer = await asyncio.open_unix_connection(str(running.path))
        writer.write(b'{"EventType": "instance_started", "Data": {"InstanceName": "half')
        await writer.drain()
        for n in range(3):
            assert await socat_send(running.path, pretty(started(f"meanwhile-{n}"))) == 0
        await running.collector.wait_count(3)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        assert running.stats.refused["timeout"] == 1
    finally:
        await running.source.stop()


async def _until_rebound(running: RunningSource, previous_rebinds: int) -> None:
    while running.stats.rebinds <= previous_rebinds or not running.source.healthy:
        await asyncio.sleep(0.02)


async def _wait_rebound(running: RunningSource, previous_rebinds: int) -> None:
    """The source must notice within one second (the issue's promise)."""
    await asyncio.wait_for(_until_rebound(running, previous_rebinds), 1.0)


async def test_socket_file_deleted_five_times_in_a_row(running: RunningSource) -> None:
    for round_ in range(5):
        rebinds = running.stats.rebinds
        running.path.unlink()
        await _wait_rebound(running, rebinds)
        assert await socat_send(running.path, pretty(started(f"after-delete-{round_}"))) == 0
        await running.collector.wait_count(round_ + 1)
    assert running.collector.instances() == [f"after-delete-{n}" for n in range(5)]
    assert running.stats.rebinds == 5


def put_in_the_way(path: Path, kind: str, *, over_the_socket: bool) -> bytes | None:
    """Something that is not a socket at the socket path: created after deleting the socket, or renamed over it.
    Returns the bytes a regular file holds, to check that it is left intact."""
    if not over_the_socket:
        path.unlink()
    other = path.with_name("elsewhere")
    content = None
    if kind == "file":
        content = os.urandom(4096)  # not text: it must come back byte for byte
        other.write_bytes(content)
    elif kind == "directory":
        other.mkdir()
        (other / "keep").write_text("a directory in the way")
    else:
        other.symlink_to("/etc/hostname")
    os.replace(other, path)
    return content


def still_intact(path: Path, kind: str, content: bytes | None) -> bool:
    info = os.lstat(path)
    if kind == "file":
        return stat.S_ISREG(info.st_mode) and path.read_bytes() == content
    if kind == "directory":
        return stat.S_ISDIR(info.st_mode) and (path / "keep").read_text() == "a directory in the way"
    return stat.S_ISLNK(info.st_mode) and os.readlink(path) == "/etc/hostname"


def remove(path: Path, kind: str) -> None:
    if kind == "directory":
        shutil.rmtree(path)
    else:
        path.unlink()


@pytest.mark.parametrize(
    ("kind", "over_the_socket"),
    [("file", False), ("file", True), ("directory", False), ("symlink", False), ("symlink", True)],
    ids=["file", "file-renamed-over", "directory", "symlink", "symlink-renamed-over"],
)
async def test_a_file_put_at_the_socket_path_is_left_alone_until_it_is_removed(
    running: RunningSource, kind: str, over_the_socket: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    rebinds = running.stats.rebinds
    content = put_in_the_way(running.path, kind, over_the_socket=over_the_socket)

    async def reported() -> None:
        while running.source.healthy or running.source.problem is None:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(reported(), 5)
    await asyncio.sleep(1.0)  # four more rounds of the watcher
    assert still_intact(running.path, kind, content)
    assert not running.source.healthy
    problem = running.source.problem
    assert problem is not None
    assert str(running.path) in problem
    assert {"file": "a regular file", "directory": "a directory", "symlink": "a symbolic link"}[kind] in problem
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "left alone" in r.getMessage()]
    assert len(warnings) == 1  # said once, not at every round
    assert running.stats.rebinds == rebinds

    remove(running.path, kind)
    await asyncio.wait_for(_until_rebound(running, rebinds), 5)
    assert stat.S_ISSOCK(os.lstat(running.path).st_mode)
    assert running.source.problem is None
    assert await socat_send(running.path, pretty(started("after"))) == 0
    (event,) = await running.collector.wait_count(1)
    assert event.instance == "after"


async def test_a_file_in_the_way_five_times_in_a_row(running: RunningSource) -> None:
    for round_ in range(5):
        rebinds = running.stats.rebinds
        content = put_in_the_way(running.path, "file", over_the_socket=round_ % 2 == 1)
        while running.source.healthy:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.6)  # two more rounds of the watcher
        assert still_intact(running.path, "file", content)
        running.path.unlink()
        await asyncio.wait_for(_until_rebound(running, rebinds), 5)
        assert await socat_send(running.path, pretty(started(f"after-{round_}"))) == 0
        await running.collector.wait_count(round_ + 1)
    assert running.collector.instances() == [f"after-{n}" for n in range(5)]


async def test_stopping_while_a_file_is_in_the_way_leaves_it(socket_settings: SocketSettings) -> None:
    running = await start_source(socket_settings)
    content = put_in_the_way(running.path, "file", over_the_socket=True)
    while running.source.healthy:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.6)
    await running.source.stop()
    assert still_intact(running.path, "file", content)


async def test_socket_replaced_by_another_listener_is_taken_back(running: RunningSource) -> None:
    """KGSM's `events socket test` deletes the path and briefly binds its own listener there."""
    rebinds = running.stats.rebinds
    running.path.unlink()
    intruder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    intruder.bind(str(running.path))
    intruder.listen(1)
    try:
        await _wait_rebound(running, rebinds)
        assert await socat_send(running.path, pretty(started("after-test"))) == 0
        (event,) = await running.collector.wait_count(1)
        assert event.instance == "after-test"
    finally:
        intruder.close()


async def test_socket_mode_is_0660_by_default(running: RunningSource) -> None:
    assert stat.S_IMODE(os.lstat(running.path).st_mode) == 0o660


async def test_socket_mode_and_group_follow_the_settings(settings_with: SettingsWith) -> None:
    # Root may give the socket any group; another user only one of its own.
    candidates = [g.gr_gid for g in grp.getgrall()] if os.geteuid() == 0 else os.getgroups()
    gid = next((g for g in candidates if g != os.getgid()), os.getgid())
    running = await start_source(settings_with(mode=0o600, group=str(gid)))
    try:
        info = os.lstat(running.path)
        assert stat.S_IMODE(info.st_mode) == 0o600
        assert info.st_gid == gid
    finally:
        await running.source.stop()


async def test_a_stale_socket_file_is_replaced(socket_settings: SocketSettings) -> None:
    socket_settings.path.parent.mkdir(parents=True)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(socket_settings.path))
    stale.close()  # the file stays behind, nobody listens: a crashed bot's leftover
    running = await start_source(socket_settings)
    try:
        assert await socat_send(running.path, pretty(started("fresh"))) == 0
        await running.collector.wait_count(1)
    finally:
        await running.source.stop()


async def test_a_path_that_is_not_a_socket_is_a_startup_error_and_is_kept(socket_settings: SocketSettings) -> None:
    socket_settings.path.parent.mkdir(parents=True)
    socket_settings.path.write_text("precious")
    source = SocketServerSource(socket_settings, intake=None, supervisor=Supervisor())  # type: ignore[arg-type]
    with pytest.raises(SocketPathError, match="exists and is not a socket"):
        await source.start()
    assert socket_settings.path.read_text() == "precious"


async def test_the_parent_directory_is_created(socket_settings: SocketSettings) -> None:
    assert not socket_settings.path.parent.exists()
    running = await start_source(socket_settings)
    await running.source.stop()
    assert socket_settings.path.parent.is_dir()


async def test_shutdown_removes_the_socket_file(socket_settings: SocketSettings) -> None:
    running = await start_source(socket_settings)
    assert running.path.exists()
    await running.source.stop()
    assert not running.path.exists()


async def test_shutdown_finishes_reading_open_connections(socket_settings: SocketSettings) -> None:
    running = await start_source(socket_settings)
    reader, writer = await asyncio.open_unix_connection(str(running.path))
    writer.write(pretty(started("in-flight"))[:20])
    await writer.drain()
    stopping = asyncio.create_task(running.source.stop())
    await asyncio.sleep(0.1)
    writer.write(pretty(started("in-flight"))[20:])
    writer.write_eof()
    await stopping
    assert running.collector.instances() == ["in-flight"]
    writer.close()
    del reader


async def test_received_counts_every_input(running: RunningSource) -> None:
    await socat_send(running.path, pretty(started("a")) + b"garbage\n" + pretty({"Data": {}}))
    await running.collector.wait_count(1)
    await asyncio.sleep(0.1)
    assert running.stats.received == 3
    assert running.stats.accepted == 1
    assert running.stats.refused_total == 2
