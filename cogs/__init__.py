"""discord.py extensions: one per event family (renderers) and, later, one per slash-command area."""
