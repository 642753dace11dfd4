"""App: the bot as a Discord application.

Owns: who it answers (`community`: only the configured servers, for every command, autocomplete and button)
and syncing its slash commands to them (`sync`: only when they changed).
May import: `bot.store`, `bot.config`.
"""
