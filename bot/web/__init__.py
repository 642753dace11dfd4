"""Web: the bot's HTTP server (aiohttp, which discord.py brings).

Owns: the server and its per-connection deadline and cap (`server`, `guard`), /healthz (`health`) and /metrics
(`metrics`). It is given what it reports (providers), never the whole bot; the webhook's handler is a source
(`bot.sources.webhook`) that the bot routes here.
May import: `bot.sources` (to count refusals), `bot.runtime`, `bot.config`, `bot.events`, `bot.store`.
"""
