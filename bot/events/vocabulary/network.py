"""Network: firewall ports and UPnP forwards of a server."""

from bot.events.model import Family, Severity, Subject, Tone
from bot.events.vocabulary.entry import declare, entry

KINDS = declare(
    Family.NETWORK,
    Subject.INSTANCE,
    entry(
        "network.ports.opened",
        "firewall ports opened",
        "🌐",
        legacy="instance_ports_opened",
        sentence="The firewall ports of {subject} were opened.",
        tone=Tone.GOOD,
    ),
    entry(
        "network.ports.closed",
        "firewall ports closed",
        "🌐",
        legacy="instance_ports_closed",
        sentence="The firewall ports of {subject} were closed.",
        severity=Severity.WARN,
    ),
    entry(
        "network.upnp.opened",
        "UPnP ports opened",
        "📡",
        legacy="instance_upnp_opened",
        sentence="The router forwards the ports of {subject} (UPnP).",
        tone=Tone.GOOD,
    ),
    entry(
        "network.upnp.closed",
        "UPnP ports closed",
        "📡",
        legacy="instance_upnp_closed",
        sentence="The router no longer forwards the ports of {subject} (UPnP).",
        severity=Severity.WARN,
    ),
    entry(
        "network.upnp.reasserted",
        "UPnP ports renewed",
        "📡",
        legacy="instance_upnp_reasserted",
        sentence="The UPnP forwards of {subject} were renewed.",
        severity=Severity.WARN,
    ),
)
