"""Relay: `python -m bot relay` on a game host, forwarding every local producer's journal to a central bot.

Owns: the relay's own cursors (`cursors`, a small SQLite file in its data dir), the signed, retried POST to the
central bot's `/kgsm/webhook` (`central`), the line sink the journal followers hand their lines to
(`forwarder`), what it reports about itself (`status`: the status line and its /healthz) and the process
(`service`). It needs no Discord token and no bot database.
May import: `bot.sources` (the journal followers and discovery, the relay's envelope), `bot.events`,
`bot.runtime`, `bot.config`.
"""
