"""The relay's own cursors: a small SQLite file that keeps them across a restart, and one line when it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import StartupError
from bot.relay.cursors import FILE_NAME, CursorFile


async def test_a_cursor_saved_is_there_after_a_restart(tmp_path: Path) -> None:
    cursors = await CursorFile.open(tmp_path / "data")
    assert await cursors.get_fact("journal_cursor:/var/lib/kgsm/events") is None
    await cursors.set_fact("journal_cursor:/var/lib/kgsm/events", '{"segment": "a", "offset": 1}')
    await cursors.set_fact("journal_cursor:/var/lib/kgsm/events", '{"segment": "a", "offset": 2}')
    await cursors.close()
    again = await CursorFile.open(tmp_path / "data")
    assert await again.get_fact("journal_cursor:/var/lib/kgsm/events") == '{"segment": "a", "offset": 2}'
    await again.close()
    assert (tmp_path / "data" / FILE_NAME).is_file()


async def test_a_data_dir_that_cannot_be_used_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file, not a directory")
    with pytest.raises(StartupError, match="BOT_DATA_DIR: cannot keep the relay's cursors in"):
        await CursorFile.open(tmp_path / "data")
