"""kgsm-bot: KGSM game-server events in Discord."""

__version__ = "0.1.0"
