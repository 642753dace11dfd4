"""Runtime: how the bot's background work runs.

Owns: the supervisor every background task runs under (`supervisor`: restarts with backoff, counts, names what
is down), the one backoff and `retrying()` helper, turns for long work (`turns`), rate-limited log lines
(`ratelog`), the event loop the processes run on (`loop`, uvloop) and JSON on the hot path (`jsontext`, orjson).
May import: the standard library, discord.py, uvloop and orjson only (nothing else of the bot): everything builds
on it.
"""
