"""Store: what the bot remembers, in SQLite.

Owns: the database (`database`: events, /notify rules, small facts, one transaction per write, its health;
its write-ahead log copied into it beside the writes: `checkpoints`), its numbered migrations (`migrations/`),
the recorder that stores each event before it is dispatched (`recorder`), what the events tell about each
server and component now (`state`, with who is on each server: `roster`), a server's backups as its stored
events tell them (`backups`), and over time: uptime and a day's numbers from a server's events (`uptime`,
`daily`: pure), the reads of a window of history (`history`) and the periods the bot was recording
(`recording`).
May import: `bot.events`, `bot.runtime`, `bot.kgsm` (its `Backup`), `bot.config`.
"""
