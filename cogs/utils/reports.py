"""How the server commands tell a member what kgsm.sh did, in KGSM's own words and within Discord's limits."""

from __future__ import annotations

from bot.kgsm.cli import Outcome

MESSAGE_LIMIT = 2000
DETAIL_LINES = 15  # of a successful command's output


def block(text: str, room: int) -> str:
    """`text` as a code block within `room` characters, keeping its end (where KGSM puts its errors)."""
    body = text.replace("```", "ˋˋˋ")
    room -= len("\n```\n\n```")
    if len(body) > room:
        body = "…" + body[-(room - 1) :]
    return f"\n```\n{body}\n```"


def command_line(outcome: Outcome) -> str:
    return "kgsm.sh " + " ".join(outcome.args)


def report(outcome: Outcome, done: str) -> str:
    """What happened, with KGSM's own words: its output tail on success, its error text on failure; and when
    KGSM printed more than the bot keeps, that those words are only the end of what it printed."""
    cut = f" {outcome.cut_note()}" if outcome.truncated else ""
    if outcome.timed_out:
        head = f"⏱️ `{command_line(outcome)}` did not finish within {outcome.time_limit:g} s and was stopped{cut}."
        detail = outcome.error_text()
    elif outcome.ok:
        head = f"✅ {done} (`{command_line(outcome)}`, {outcome.seconds:.1f} s){cut}."
        detail = "\n".join(outcome.stdout.strip().splitlines()[-DETAIL_LINES:])
    else:
        head = f"❌ `{command_line(outcome)}` failed with exit code {outcome.returncode}{cut}:"
        detail = outcome.error_text() or "(KGSM printed nothing)"
    return head + block(detail, MESSAGE_LIMIT - len(head)) if detail else head
