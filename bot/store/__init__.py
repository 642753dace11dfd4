"""Store: what the bot remembers, in SQLite.

Owns: the database (`database`: events, /notify rules, small facts, one transaction per write, its health),
its numbered migrations (`migrations/`), the recorder that stores each event before it is dispatched
(`recorder`), and what the events tell about each server and component now (`state`).
May import: `bot.events`, `bot.runtime`, `bot.config`.
"""
