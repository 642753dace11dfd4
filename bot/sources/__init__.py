"""Sources: KGSM's events coming in, by every transport KGSM has had.

Owns: the common entrance (`intake`: decode, parse, count, refuse with a reason), its counters (`stats`), the
bot's own socket (`socket_server`, `socket_lock`, `socket_connection`: one KGSM connection) and the client role
(`socket_client`), every producer's journal (`journal`, `journals`), the webhook handler (`webhook`), and
`emit`, the socket's client side as KGSM is (for `python -m bot emit`).
May import: `bot.events`, `bot.store` (journal cursors), `bot.runtime`, `bot.config`.
"""
