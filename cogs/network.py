"""Network events: firewall ports and UPnP mappings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.catalogue import Family
from cogs.utils.family import FamilyCog, renderer

if TYPE_CHECKING:
    from bot.bot import KGSMBot

EMOJIS = {
    "instance_ports_closed": "🔒",
    "instance_upnp_closed": "🔒",
}
SENTENCES = {
    "instance_ports_opened": "The firewall now lets players reach {subject}.",
    "instance_ports_closed": "The firewall ports of {subject} were closed.",
    "instance_upnp_opened": "The router forwards the ports of {subject} (UPnP).",
    "instance_upnp_closed": "The router no longer forwards the ports of {subject} (UPnP).",
    "instance_upnp_reasserted": "The UPnP port mappings of {subject} were renewed.",
}

render = renderer(EMOJIS, SENTENCES, default_emoji="🌐")


class NetworkEvents(FamilyCog):
    """Renders the network family."""


async def setup(bot: KGSMBot) -> None:
    await bot.add_cog(NetworkEvents(bot, Family.NETWORK, render))
