"""Runtime: how the bot's background work runs.

Owns: the supervisor every background task runs under (`supervisor`: restarts with backoff, counts, names what
is down), the one backoff and `retrying()` helper, and rate-limited log lines (`ratelog`).
May import: the standard library and discord.py only (nothing else of the bot): everything builds on it.
"""
