"""Every event type KGSM has emitted, with its family, a human label and a severity.

The family decides which cog renders an event; the severity decides its colour. Types not listed here
(KGSM keeps adding them) belong to the family `other` and are still shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    INSTALL = "install"
    UPDATE = "update"
    LIFECYCLE = "lifecycle"
    BACKUP = "backup"
    UNINSTALL = "uninstall"
    NETWORK = "network"
    PLAYERS = "players"
    CONFIG = "config"
    BLUEPRINT = "blueprint"
    OTHER = "other"


class Severity(StrEnum):
    """The outcome an event reports; one colour each."""

    PROGRESS = "progress"
    SUCCESS = "success"
    INFO = "info"
    WARNING = "warning"
    FAILURE = "failure"


@dataclass(frozen=True)
class EventKind:
    type: str
    family: Family
    label: str
    severity: Severity


_P, _S, _I, _W, _F = Severity.PROGRESS, Severity.SUCCESS, Severity.INFO, Severity.WARNING, Severity.FAILURE

_TABLE: dict[Family, list[tuple[str, str, Severity]]] = {
    Family.INSTALL: [
        ("instance_installation_started", "installation started", _P),
        ("instance_created", "instance created", _P),
        ("instance_directories_created", "directories created", _P),
        ("instance_files_created", "files created", _P),
        ("instance_download_started", "download started", _P),
        ("instance_download_finished", "download finished", _P),
        ("instance_download_failed", "download failed", _F),
        ("instance_downloaded", "files downloaded", _P),
        ("instance_deploy_started", "deployment started", _P),
        ("instance_deploy_finished", "deployment finished", _P),
        ("instance_deploy_failed", "deployment failed", _F),
        ("instance_deployed", "files deployed", _P),
        ("instance_installation_finished", "installation finished", _P),
        ("instance_installed", "installed", _S),
    ],
    Family.UPDATE: [
        ("instance_update_started", "update started", _P),
        ("instance_update_finished", "update finished", _P),
        ("instance_update_failed", "update failed", _F),
        ("instance_updated", "updated", _S),
        ("instance_version_updated", "version changed", _S),
        ("instance_update_available", "update available", _W),
    ],
    Family.LIFECYCLE: [
        ("instance_started", "started", _S),
        ("instance_stop_started", "stopping", _P),
        ("instance_stop_finished", "stop finished", _P),
        ("instance_stopped", "stopped", _I),
        ("instance_restart_started", "restarting", _P),
        ("instance_restart_stopped", "stopped for restart", _P),
        ("instance_restart_finished", "restart finished", _P),
        ("instance_restarted", "restarted", _S),
        ("instance_ready", "ready for players", _S),
        ("instance_crashed", "crashed", _W),
        ("instance_failed", "failed", _F),
    ],
    Family.BACKUP: [
        ("instance_backup_started", "backup started", _P),
        ("instance_backup_finished", "backup finished", _P),
        ("instance_backup_created", "backup created", _S),
        ("instance_restore_started", "restore started", _P),
        ("instance_restore_finished", "restore finished", _P),
        ("instance_backup_restored", "backup restored", _S),
        ("instance_backup_deleted", "backup deleted", _I),
        ("instance_backups_pruned", "old backups pruned", _I),
    ],
    Family.UNINSTALL: [
        ("instance_uninstall_started", "uninstall started", _P),
        ("instance_files_removed", "files removed", _P),
        ("instance_directories_removed", "directories removed", _P),
        ("instance_removed", "instance removed", _P),
        ("instance_uninstall_finished", "uninstall finished", _P),
        ("instance_uninstall_failed", "uninstall failed", _F),
        ("instance_uninstalled", "uninstalled", _S),
    ],
    Family.NETWORK: [
        ("instance_ports_opened", "firewall ports opened", _S),
        ("instance_ports_closed", "firewall ports closed", _I),
        ("instance_upnp_opened", "UPnP ports opened", _S),
        ("instance_upnp_closed", "UPnP ports closed", _I),
        ("instance_upnp_reasserted", "UPnP ports renewed", _I),
    ],
    Family.PLAYERS: [
        ("instance_player_joined", "player joined", _S),
        ("instance_player_left", "player left", _I),
        ("instance_player_kicked", "player kicked", _W),
        ("instance_player_banned", "player banned", _F),
        ("instance_player_unbanned", "player unbanned", _I),
    ],
    Family.CONFIG: [
        ("instance_config_changed", "configuration changed", _I),
        ("instance_input_sent", "console command sent", _I),
    ],
    Family.BLUEPRINT: [
        ("blueprint_created", "blueprint created", _S),
        ("blueprint_updated", "blueprint updated", _I),
        ("blueprint_removed", "blueprint removed", _W),
    ],
}

CATALOGUE: dict[str, EventKind] = {
    event_type: EventKind(event_type, family, label, severity)
    for family, rows in _TABLE.items()
    for event_type, label, severity in rows
}

FAMILIES: frozenset[str] = frozenset(Family)


def kind_of(event_type: str) -> EventKind:
    """The catalogue entry for `event_type`, or a generic one in family `other` for unknown types."""
    known = CATALOGUE.get(event_type)
    if known is not None:
        return known
    words = event_type.removeprefix("instance_").replace("_", " ").strip() or event_type
    return EventKind(event_type, Family.OTHER, words, Severity.INFO)
