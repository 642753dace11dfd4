"""What to type to KGSM, per era: the arguments of each server command, the names they take, how to tell the eras
apart from `kgsm.sh --help`, and how to read KGSM's lists. Running kgsm.sh is `bot/kgsm/cli.py`.

Every form was read in KGSM's own sources (stored copies of its public repositories; keys below):

| command        | modern: KGSM 3.x (2026)                     | legacy: KGSM 2.x (2025) and legacy-1: 1.x (2024)     |
|----------------|---------------------------------------------|------------------------------------------------------|
| start          | `start <i>`, also stop, restart [M]         | `--instance <i> --start`, --stop, --restart [L2, L1] |
| logs           | `logs <i> --tail N` [ML]                    | `--instance <i> --logs`, no count (a) [L2, L1]       |
| create backup  | `instances create-backup <i>` [MI]          | `--instance <i> --create-backup` [L2, L1]            |
| list backups   | `instances backups <i> --json` [MI, MB]     | `--instance <i> --backups` (b) [L2, L1, C 1.3.2]     |
| restore backup | `instances restore-backup <i> <id>` [MI]    | `--instance <i> --restore-backup <name>` [L2, L1]    |
| install        | `install <bp> [--name N] [--version V]` [M] | 2.x `--create <bp> [--version V] [--name N]` [L2]    |
|                |                                             | 1.x `--install <bp> [--version V] [--id N]` [L1]     |
| uninstall      | `uninstall <i>` [M]                         | `--uninstall <i>` [L2, L1, C 1.1.0]                  |
| instances      | `instances list --json` [MI]                | `--instances --json` [L2, L1, C 1.6.0]               |
| blueprints     | `blueprints list --json` [MBP]              | `--blueprints --json` [L2, L1, C 1.6.0]              |
| anything else  | `Unknown command: X` (stderr), exit 8 [M]   | `Invalid argument X`, non-zero exit [L2a, L2]        |

(a) KGSM 2.x prints the last 10 lines [C 2.0]; KGSM 1.5 to 1.7 never end, they follow the log [C 1.5.0, L1].
(b) File names separated by spaces, `<instance>-<version>-<%Y-%m-%dT%H:%M:%S>.backup` (`.tar.gz` when
compressed), in directory order [B]. Modern ids carry no version, so the bot asks for `--json` (the manifests).

Keys. [M] TheKrystalShip/kgsm `kgsm.sh` at deffde3 and 049bd9b (3.16.0-rc5, a2d01cc, is not stored; its forms
are those of `shared/kgsm-events.md` §7, which agree); [MI] kgsm `commands/instances.sh` at 69f901c, the stored
version nearest 3.16 (its backup commands are exactly §7's); [ML] kgsm `commands/lifecycle.sh` at 0903cdd
(`logs <i> [--follow] [--tail N]`, 10 lines by default); [MBP] kgsm `commands/blueprints.sh` at 1095ed3 (a JSON
array of names); [MB] kgsm `templates/manage.native.d/08-backup.sh` at 09fba3c (an id is
`<instance>-<YYYYMMDDTHHMMSSZ>-<6 hex>`; `backups` prints ids newest first, `backups --json` the manifests newest
first, with `id`, `version`, `created_at`, `size_bytes`); [L2] TheKrystalShip/KGSM `kgsm.sh` at 9ddd171 (2.1+:
`--install` is an alias of `--create` there); [L2a] KGSM `kgsm.sh` of 2.0.x (index id 43333747952: `--create`
only); [L1] the `kgsm --help` of 1.7.3 quoted by TheKrystalShip/KGSM-Web (index id 56828585929) and KGSM
`kgsm.sh` of 2024 (index id 42479109448); [B] KGSM `modules/backup.sh` at 4252693 and the management file's
backup module of the late 2.x (index id 62149277469); [C x] KGSM's `CHANGELOG.md` (kgsm at 0358240), section x:
2.0 "`--install/--id` replaced with `--create/--name`" and "`--logs` shows last 10 lines", 1.5.0 `--logs`
"will now always follow", 1.3.2 `--backups`, 1.1.0 `--uninstall <instance>`, 1.6.0 `--json`.

What the bot makes of the differences:
- Before KGSM 3 the bot cannot ask for a number of log lines: it keeps the last lines itself and tells the member
  that KGSM gave only 10; KGSM 1.x's `--logs` is read for `LOGS_FOLLOW_WINDOW` seconds, then stopped.
- A backup of a running instance: KGSM 1.x/2.x refuse it ("... is currently running, please shut down before
  attempting to create a backup" [B]). 3.16's usage still says "(instance must be stopped)", but its
  `create-backup` has no such check: it records the run state in the manifest (`consistency` hot or flushed),
  and the CHANGELOG says "A running instance can be backed up. The refusal ... is gone." KGSM decides; the bot
  relays its answer.
- Every era has every command the bot runs, so none is refused for the era.
- Not verified: KGSM 2.0.x's restore passes its own flag as the backup name (it does not shift; fixed in
  9ddd171), so a restore fails there whatever the bot sends.

`detect_syntax` (for `KGSM_CLI=auto`) reads the help texts in `tests/fixtures/kgsm-help/`: one that lists the
lifecycle shortcuts as subcommands (a line starting `start <`) is modern; otherwise one that mentions `--instance`
is legacy, and legacy-1 when it names the instance option `--id <id>` and not `--name <name>`. Anything else is
not guessed at.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
# Modern ids are `<instance>-20261201T080444Z-f277e8`; legacy names hold a version and `2024-12-16T07:36:23`.
BACKUP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,199}$")
LEGACY_LOG_LINES = 10  # what `--logs` prints before KGSM 3
LOGS_FOLLOW_WINDOW = 3.0  # seconds KGSM 1.x's endless `--logs` is read for

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_MODERN_HELP = re.compile(r"^\s*start\s+<", re.MULTILINE)
_LEGACY_HELP = re.compile(r"--instance(?![\w-])")
_ID_OPTION = re.compile(r"--id\s+<id>")
_NAME_OPTION = re.compile(r"--name\s+<name>")
_MODERN_ID = re.compile(r"-(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z-[0-9a-f]{6}$")
_LEGACY_NAME = re.compile(r"^(?P<version>.+)-(?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.backup(?:\.tar\.gz)?$")


class Syntax(StrEnum):
    MODERN = "modern"  # KGSM 3.x, 2026
    LEGACY = "legacy"  # KGSM 2.x, 2025
    LEGACY_1 = "legacy-1"  # KGSM 1.x, 2024

    @property
    def era(self) -> str:
        return {"modern": "KGSM 3", "legacy": "KGSM 2", "legacy-1": "KGSM 1"}[self.value]


class BadName(ValueError):
    """A name, version or backup id that does not match its strict pattern; it never reaches a process."""


def check_name(raw: str, what: str = "instance") -> str:
    name = raw.strip()
    if not NAME.match(name):
        article = "An" if what[:1] in ("a", "e", "i", "o", "u") else "A"
        raise BadName(
            f"{article} {what} name is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter "
            "or digit."
        )
    return name


def check_version(raw: str) -> str:
    version = raw.strip()
    if not VERSION.match(version):
        raise BadName(
            "A version is 1 to 64 letters, digits, dots, dashes, underscores or pluses, starting with a "
            "letter or digit."
        )
    return version


def check_backup_id(raw: str) -> str:
    backup = raw.strip()
    if not BACKUP_ID.match(backup) or ".." in backup:
        raise BadName(
            "A backup id is 1 to 200 letters, digits, dots, dashes, underscores, pluses or colons, starting with a "
            "letter or digit."
        )
    return backup


def _legacy_instance(name: str, flag: str, *rest: str) -> list[str]:
    return ["--instance", check_name(name), flag, *rest]


def lifecycle_args(syntax: Syntax, action: str, instance: str) -> list[str]:
    """start, stop or restart one instance."""
    if action not in ("start", "stop", "restart"):
        raise ValueError(f"unknown lifecycle action {action!r}")
    if syntax is Syntax.MODERN:
        return [action, check_name(instance)]
    return _legacy_instance(instance, f"--{action}")


def logs_args(syntax: Syntax, instance: str, tail: int) -> list[str]:
    """The last `tail` lines; before KGSM 3 there is no count (see `logs_line_cap`)."""
    if syntax is Syntax.MODERN:
        return ["logs", check_name(instance), "--tail", str(max(1, int(tail)))]
    return _legacy_instance(instance, "--logs")


def logs_line_cap(syntax: Syntax) -> int | None:
    """How many lines KGSM's logs command prints at most, when the bot cannot ask for more."""
    return None if syntax is Syntax.MODERN else LEGACY_LOG_LINES


def logs_follow(syntax: Syntax) -> bool:
    """Whether KGSM's logs command never ends by itself (KGSM 1.5 to 1.7 always follow the log)."""
    return syntax is Syntax.LEGACY_1


def create_backup_args(syntax: Syntax, instance: str) -> list[str]:
    if syntax is Syntax.MODERN:
        return ["instances", "create-backup", check_name(instance)]
    return _legacy_instance(instance, "--create-backup")


def list_backups_args(syntax: Syntax, instance: str) -> list[str]:
    if syntax is Syntax.MODERN:
        return ["instances", "backups", check_name(instance), "--json"]
    return _legacy_instance(instance, "--backups")


def restore_backup_args(syntax: Syntax, instance: str, backup: str) -> list[str]:
    if syntax is Syntax.MODERN:
        return ["instances", "restore-backup", check_name(instance), check_backup_id(backup)]
    return _legacy_instance(instance, "--restore-backup", check_backup_id(backup))


def install_args(syntax: Syntax, blueprint: str, *, name: str | None = None, version: str | None = None) -> list[str]:
    bp = check_name(blueprint, "blueprint")
    named = ["--name" if syntax is not Syntax.LEGACY_1 else "--id", check_name(name)] if name else []
    pinned = ["--version", check_version(version)] if version else []
    if syntax is Syntax.MODERN:
        return ["install", bp, *named, *pinned]
    return ["--create" if syntax is Syntax.LEGACY else "--install", bp, *pinned, *named]


def uninstall_args(syntax: Syntax, instance: str) -> list[str]:
    return ["uninstall", check_name(instance)] if syntax is Syntax.MODERN else ["--uninstall", check_name(instance)]


def list_args(syntax: Syntax, what: str) -> list[str]:
    """`what` is instances or blueprints; the answer is asked for as JSON."""
    if what not in ("instances", "blueprints"):
        raise ValueError(f"KGSM lists no {what!r}")
    return [what, "list", "--json"] if syntax is Syntax.MODERN else [f"--{what}", "--json"]


INSTANCE_ACTIONS = frozenset({"start", "stop", "restart", "backup", "uninstall"})


def instance_args(syntax: Syntax, action: str, instance: str) -> list[str]:
    """The arguments of an action on one instance, by the bot's name for it (start, stop, restart, backup,
    uninstall)."""
    if action == "backup":
        return create_backup_args(syntax, instance)
    if action == "uninstall":
        return uninstall_args(syntax, instance)
    if action in INSTANCE_ACTIONS:
        return lifecycle_args(syntax, action, instance)
    raise ValueError(f"unknown action {action!r}")


def detect_syntax(help_text: str) -> Syntax | None:
    text = plain(help_text)
    if _MODERN_HELP.search(text):
        return Syntax.MODERN
    if not _LEGACY_HELP.search(text):
        return None
    if _ID_OPTION.search(text) and not _NAME_OPTION.search(text):
        return Syntax.LEGACY_1
    return Syntax.LEGACY


def plain(text: str) -> str:
    """KGSM colours its output; the colour codes are noise in Discord."""
    return _ANSI.sub("", text)


def parse_names(output: str) -> list[str]:
    """Names from KGSM's list output, whatever its shape: a JSON array of names or of objects with a name, an
    object keyed by name, or plain text with one name per line. Anything that is not a valid name is dropped."""
    try:
        document: Any = json.loads(output)
    except ValueError:
        candidates: list[Any] = [line.strip() for line in plain(output).splitlines()]
    else:
        if isinstance(document, dict):
            candidates = list(document)
        elif isinstance(document, list):
            candidates = [_name_of(item) for item in document]
        else:
            candidates = []
    names = [c for c in candidates if isinstance(c, str) and NAME.match(c)]
    return list(dict.fromkeys(names))


def _name_of(item: Any) -> Any:
    if isinstance(item, dict):
        for key in ("name", "Name", "InstanceName", "instance", "BlueprintName", "blueprint"):
            if key in item:
                return item[key]
        return None
    return item


@dataclass(frozen=True)
class Backup:
    """One backup KGSM lists: its id (what a restore takes) and what the listing tells of it.

    `created_at` is UTC with a `Z` when KGSM says so (3.x), KGSM's local time without a zone before."""

    id: str
    created_at: str | None = None
    version: str | None = None
    size_bytes: int | None = None


def parse_backups(output: str, instance: str) -> list[Backup]:
    """KGSM's backup listing, newest first: 3.x manifests (`--json`) or ids one per line, or the legacy file
    names separated by spaces. Entries whose id is not a valid backup id are dropped."""
    try:
        document: Any = json.loads(output)
    except ValueError:
        backups = [_backup_from_name(token, instance) for token in plain(output).split()]
    else:
        items = document if isinstance(document, list) else []
        backups = [_backup_from_manifest(item) for item in items if isinstance(item, dict)]
    valid = [b for b in backups if BACKUP_ID.match(b.id) and ".." not in b.id]
    unique = list({b.id: b for b in valid}.values())
    dated = sorted((b for b in unique if b.created_at), key=lambda b: b.created_at or "", reverse=True)
    return dated + [b for b in unique if not b.created_at]


def _backup_from_manifest(item: dict[str, Any]) -> Backup:
    def text(key: str) -> str | None:
        value = item.get(key)
        return value if isinstance(value, str) and value else None

    size = item.get("size_bytes")
    return Backup(
        id=text("id") or "",
        created_at=text("created_at"),
        version=text("version"),
        size_bytes=size if isinstance(size, int) and not isinstance(size, bool) else None,
    )


def _backup_from_name(name: str, instance: str) -> Backup:
    modern = _MODERN_ID.search(name)
    if modern:
        y, mo, d, h, mi, s = modern.groups()
        return Backup(id=name, created_at=f"{y}-{mo}-{d}T{h}:{mi}:{s}Z")
    prefix = f"{instance}-"
    legacy = _LEGACY_NAME.match(name[len(prefix) :]) if name.startswith(prefix) else None
    if legacy:
        return Backup(id=name, created_at=legacy["at"], version=legacy["version"])
    return Backup(id=name)
