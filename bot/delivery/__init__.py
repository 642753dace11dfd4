"""Delivery: getting a message to Discord, once.

Owns: routing an event to its channels (`routing`), planning its deliveries (`notifier`), the outbox tables
(`outbox`), the per-channel lanes that post, batch and edit (`lanes`, `messages`), what Discord's
answers mean (`poster`), the alert pings, the threads on crash incidents (`threads`), the status board, the
daily digest (`digest`), the presence, the dry-run console, and the test posts of /notify test (`checkup`).
May import: `bot.events`, `bot.store`, `bot.render`, `bot.runtime`, `bot.config`.
"""
