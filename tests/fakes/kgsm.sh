#!/usr/bin/env bash
# A fake kgsm.sh for the tests of the server commands: strict, so a test proves the bot typed KGSM's real forms.
#
# FAKE_KGSM_SYNTAX picks the era (the forms, sources and differences are in bot/kgsm_syntax.py):
#   modern (default)  KGSM 3.16: start|stop|restart <i>, logs <i> [--tail N], install <bp> [--name N]
#                     [--version V] [--install-dir D], uninstall <i>, instances list --json, blueprints list --json,
#                     instances backups <i> [--json], instances create-backup <i>, instances restore-backup <i> <id>.
#                     Anything else: "Unknown command: …" on stderr, exit 8, as kgsm.sh does.
#   legacy            KGSM 2.x: --instance <i> --start|--stop|--restart|--logs|--backups|--create-backup,
#                     --instance <i> --restore-backup <name>, --create|--install <bp> [--install-dir D]
#                     [--version V] [--name N], --uninstall <i>, --instances --json, --blueprints --json.
#                     Anything else: "Invalid argument …", exit 8.
#   legacy-1          KGSM 1.x: as legacy, but --install only, --id instead of --name, and --logs never ends.
# `--help` prints that era's real help text (tests/fixtures/kgsm-help/), which the bot's KGSM_CLI=auto reads.
#
# What a command does to an instance is told as KGSM's events, in the order KGSM's own code emitted them
# (modern: shared/fixtures/real/kgsm-3.16.0-rc5-journal.ndjson; legacy-1: …/kgsm-1.7.3-socket.json; legacy: the
# call order of KGSM 2.x's kgsm.sh at 9ddd171 with 1.7.3's module events). Each event goes to the socket
# FAKE_KGSM_SOCKET with socat (one document per connection) and, one compact line each, to the file
# FAKE_KGSM_EVENTS. Payloads: modern the V1 envelope of 3.16, legacy-1 1.7.3's bare {EventType, Data.InstanceId},
# legacy the 2025 envelope (which envelope fields 2.x sent is not verified). KGSM's output lines other than
# backup ids and log lines are approximations: their exact prefixes ([INFO] …) were not checked.
#
# Every call is appended to FAKE_KGSM_LOG as one line: KGSM_EVENT_ACTOR, KGSM_EVENT_ORIGIN, then each argument,
# separated by tabs. Other knobs:
#   FAKE_KGSM_INSTANCES, FAKE_KGSM_BLUEPRINTS  comma lists (defaults: factorio,valheim / factorio,valheim,minecraft)
#   FAKE_KGSM_RUNNING=LIST    instances that are running (before KGSM 3 a backup of one is refused)
#   FAKE_KGSM_BACKUPS=N       how many backups each instance has (0 to 3, default 3)
#   FAKE_KGSM_LOG_LINES=N     how many lines the server's log has (default 5)
#   FAKE_KGSM_SLEEP=SECONDS   wait this long before doing a command (to keep an instance busy)
#   FAKE_KGSM_HANG=1          never finish a command (a child process sleeps; its pid goes to FAKE_KGSM_PIDFILE)
#   FAKE_KGSM_FAIL=MESSAGE    fail every command with MESSAGE on stderr and exit code FAKE_KGSM_EXIT (default 1)
#   FAKE_KGSM_OUTPUT_BYTES=N  a command prints N bytes of progress first (to overflow the bot's output limit)
# The sleeping, hanging, failing and chattering apply to commands, not to --help or the lists.
set -uo pipefail

syntax=${FAKE_KGSM_SYNTAX:-modern}
help_dir="$(dirname "$(readlink -f "$0")")/../fixtures/kgsm-help"
EC_INVALID_ARG=8

record() {
  local line="${KGSM_EVENT_ACTOR:-}"$'\t'"${KGSM_EVENT_ORIGIN:-}" arg
  for arg in "$@"; do line+=$'\t'"$arg"; done
  [[ -n "${FAKE_KGSM_LOG:-}" ]] && printf '%s\n' "$line" >>"$FAKE_KGSM_LOG"
}

json_string() {
  local text=$1
  text=${text//\\/\\\\}
  text=${text//\"/\\\"}
  printf '"%s"' "$text"
}

json_list() {
  local IFS=, first=1 item
  printf '['
  for item in $1; do
    ((first)) || printf ', '
    first=0
    json_string "$item"
  done
  printf ']\n'
}

in_list() { [[ ",$2," == *",$1,"* ]]; }

# emit EVENT_TYPE INSTANCE [KEY VALUE]...: one event, in the era's payload shape.
emit() {
  local event_type=$1 instance=$2 key=InstanceName data lines compact pretty origin=null actor stamp
  shift 2
  [[ $syntax == legacy-1 ]] && key=InstanceId
  data="$(json_string "$key"):$(json_string "$instance")"
  lines="    $(json_string "$key"): $(json_string "$instance")"
  while (($# >= 2)); do
    data+=",$(json_string "$1"):$(json_string "$2")"
    lines+=$',\n'"    $(json_string "$1"): $(json_string "$2")"
    shift 2
  done
  [[ -n "${KGSM_EVENT_ORIGIN:-}" ]] && origin=$(json_string "$KGSM_EVENT_ORIGIN")
  actor=$(json_string "${KGSM_EVENT_ACTOR:-$(id -un)}")
  stamp=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  case $syntax in
    modern) # one compact line, as in the journal
      compact="{\"V\":1,\"EventType\":\"$event_type\",\"Data\":{$data},\"Timestamp\":\"$stamp\",\"Actor\":$actor,"
      compact+="\"Origin\":$origin,\"Hostname\":\"gamehost\",\"ProducerVersion\":\"3.16.0-rc5\"}"
      pretty=$compact
      ;;
    legacy-1) # pretty, as jq -n made it
      compact="{\"EventType\":\"$event_type\",\"Data\":{$data}}"
      pretty=$(printf '{\n  "EventType": "%s",\n  "Data": {\n%s\n  }\n}' "$event_type" "$lines")
      ;;
    *)
      compact="{\"EventType\":\"$event_type\",\"Data\":{$data},\"Timestamp\":\"$stamp\",\"Actor\":$actor,"
      compact+="\"Origin\":$origin,\"Hostname\":\"gamehost\",\"KGSMVersion\":\"2.1.0\"}"
      pretty=$(printf '{\n  "EventType": "%s",\n  "Data": {\n%s\n  },\n  "Timestamp": "%s",\n  "Actor": %s,' \
        "$event_type" "$lines" "$stamp" "$actor")
      pretty+=$(printf '\n  "Origin": %s,\n  "Hostname": "gamehost",\n  "KGSMVersion": "2.1.0"\n}' "$origin")
      ;;
  esac
  [[ -n "${FAKE_KGSM_EVENTS:-}" ]] && printf '%s\n' "$compact" >>"$FAKE_KGSM_EVENTS"
  # Like KGSM: only a path that exists is tried, and a failed delivery is ignored.
  if [[ -e "${FAKE_KGSM_SOCKET:-}" ]]; then echo "$pretty" | socat - "UNIX-CONNECT:$FAKE_KGSM_SOCKET" || true; fi
}

emit_all() { # emit_all INSTANCE EVENT... (each event without extra data)
  local instance=$1 event
  shift
  for event in "$@"; do emit "instance_$event" "$instance"; done
}

refuse() {
  if [[ $syntax == modern ]]; then
    echo "ERROR: Unknown command: $1" >&2
    echo "ERROR: Use 'kgsm.sh --help' for available commands" >&2
  else
    echo "ERROR: Invalid argument $1" >&2
  fi
  exit $EC_INVALID_ARG
}

behave() {
  if [[ -n "${FAKE_KGSM_SLEEP:-}" ]]; then sleep "$FAKE_KGSM_SLEEP"; fi
  if [[ -n "${FAKE_KGSM_HANG:-}" ]]; then
    sleep 300 &
    [[ -n "${FAKE_KGSM_PIDFILE:-}" ]] && echo $! >"$FAKE_KGSM_PIDFILE"
    wait
  fi
  if [[ -n "${FAKE_KGSM_OUTPUT_BYTES:-}" ]]; then head -c "$FAKE_KGSM_OUTPUT_BYTES" /dev/zero | tr '\0' '.'; echo; fi
  if [[ -n "${FAKE_KGSM_FAIL:-}" ]]; then
    echo "Working on it..."
    echo "ERROR: $FAKE_KGSM_FAIL" >&2
    exit "${FAKE_KGSM_EXIT:-1}"
  fi
}

# ------------------------------------------------------------------------------------------ backups

# backup_ids INSTANCE: the instance's backups as KGSM names them, in the order KGSM lists them
# (3.x ids newest first; before: file names in directory order).
backup_ids() {
  local instance=$1 count=${FAKE_KGSM_BACKUPS:-3} all
  if [[ $syntax == modern ]]; then
    all=("$instance-20261201T080454Z-c44f3e" "$instance-20261201T080449Z-077460" "$instance-20261201T080444Z-f277e8")
  else
    all=("$instance-1.0.0-2026-12-01T07:36:23.backup" "$instance-1.0.0-2026-12-01T07:36:26.backup.tar.gz"
      "$instance-1.1.0-2026-12-02T09:00:00.backup")
  fi
  printf '%s\n' "${all[@]:0:count}"
}

list_backups() { # list_backups INSTANCE [--json]
  local instance=$1 json=${2:-} id n=0 versions=(1.1.0 1.0.0 1.0.0) sizes=(52428800 52418112 51380224)
  if [[ $syntax != modern ]]; then
    backup_ids "$instance" | paste -sd ' ' -
    return 0
  fi
  if [[ -z $json ]]; then
    backup_ids "$instance"
    return 0
  fi
  printf '['
  while IFS= read -r id; do
    ((n)) && printf ','
    local at=${id#"$instance-"}
    at="${at:0:4}-${at:4:2}-${at:6:2}T${at:9:2}:${at:11:2}:${at:13:2}Z"
    printf '\n  {\n    "schema_version": 1,\n    "id": "%s",\n    "instance": "%s",\n    "blueprint": "%s",' \
      "$id" "$instance" "$instance"
    printf '\n    "version": "%s",\n    "created_at": "%s",\n    "compressed": true,\n    "consistency": "cold",' \
      "${versions[$n]}" "$at"
    printf '\n    "sources": [\n      "install",\n      "saves"\n    ],\n    "size_bytes": %s,\n    "file_count": 412,' \
      "${sizes[$n]}"
    printf '\n    "sha256": "%064x"\n  }' "$((n + 1))"
    n=$((n + 1))
  done < <(backup_ids "$instance")
  ((n)) && printf '\n'
  printf ']\n'
}

new_backup_id() {
  local instance=$1
  if [[ $syntax == modern ]]; then
    printf '%s-%s-%06x\n' "$instance" "$(date -u +%Y%m%dT%H%M%SZ)" "$((RANDOM * RANDOM % 16777216))"
  else
    printf '/opt/kgsm/servers/%s/backups/%s-1.0.0-%s.backup\n' "$instance" "$instance" "$(date +%Y-%m-%dT%H:%M:%S)"
  fi
}

refuse_running() { # before KGSM 3 a running instance is not backed up
  local instance=$1
  [[ $syntax != modern ]] && in_list "$instance" "${FAKE_KGSM_RUNNING:-}" || return 0
  if [[ $syntax == legacy-1 ]]; then
    echo "ERROR: Instance $instance is currently running, please shut down before attempting to create a backup" >&2
  else
    echo "ERROR: $instance.manage.sh is currently running, please shut down before attempting to create a backup" >&2
  fi
  exit 1
}

create_backup() {
  local instance=$1 id
  behave
  refuse_running "$instance"
  id=$(new_backup_id "$instance")
  if [[ $syntax == modern ]]; then
    emit instance_backup_started "$instance"
    echo "[INFO] Creating backup..."
    echo "[SUCCESS] Backup created: $id"
    echo "$id"
    emit instance_backup_created "$instance" Source "$id" Version "1.0.0"
    emit instance_backup_finished "$instance"
  else
    echo "[SUCCESS] Backup created"
    emit instance_backup_created "$instance" Source "$id" Version "1.0.0"
  fi
}

restore_backup() {
  local instance=$1 wanted=$2 safety
  behave
  [[ $syntax == modern ]] && emit instance_restore_started "$instance"
  if ! backup_ids "$instance" | grep -qxF -- "$wanted"; then
    if [[ $syntax == modern ]]; then
      echo "ERROR: Not a backup: /var/lib/kgsm/backups/$instance/$wanted (no manifest.json)" >&2
      emit instance_restore_finished "$instance"
    else
      echo "ERROR: Could not find backup /opt/kgsm/servers/$instance/backups/$wanted" >&2
    fi
    exit 1
  fi
  refuse_running "$instance"
  safety=$(new_backup_id "$instance")
  echo "[INFO] Restoring $wanted..."
  echo "[WARNING] Current instance data is not empty, creating a backup first..."
  emit instance_backup_created "$instance" Source "$safety" Version "1.0.0"
  if [[ $syntax == modern ]]; then
    emit instance_backup_restored "$instance" Source "$wanted" Version "1.0.0"
    emit instance_restore_finished "$instance"
  else
    emit instance_backup_restored "$instance" Source "/opt/kgsm/servers/$instance/backups/$wanted" Version "1.0.0"
  fi
  echo "[SUCCESS] Restore complete"
}

# ------------------------------------------------------------------------------------------ the other commands

lifecycle() { # lifecycle ACTION INSTANCE
  local action=$1 instance=$2
  behave
  case "$syntax:$action" in
    *:start) emit_all "$instance" started ;;
    modern:stop) emit_all "$instance" stop_started stopped stop_finished ;;
    modern:restart) emit_all "$instance" restart_started restart_stopped restarted restart_finished ;;
    *:stop) emit_all "$instance" stopped ;;
    *:restart) emit_all "$instance" restarted ;; # before the brackets, restarted was all (3.x CHANGELOG)
  esac
  echo "[SUCCESS] Instance $instance ${action/%p/pp}ed successfully"
}

logs() { # logs INSTANCE [TAIL]: the last lines of the server's log; KGSM 1.x then follows it forever
  local instance=$1 tail=${2:-10} total=${FAKE_KGSM_LOG_LINES:-5} n
  behave
  for ((n = total - tail + 1; n <= total; n++)); do
    ((n >= 1)) && echo "[$instance] log line $n of the server"
  done
  if [[ $syntax == legacy-1 ]]; then
    sleep 300 &
    wait
  fi
  return 0
}

install() { # install BLUEPRINT [OPTION VALUE]...
  local blueprint=$1 name="" version=1.0.0 name_option=--name
  shift
  [[ $syntax == legacy-1 ]] && name_option=--id
  while (($#)); do
    case $1 in
      "$name_option") name=${2:-} ;;
      --version) version=${2:-} ;;
      --install-dir) ;;
      *) [[ $syntax == modern ]] && bad_option install "$1" || refuse "$1" ;;
    esac
    (($# >= 2)) || refuse "$1"
    shift 2
  done
  local instance=${name:-$blueprint} tagged=$blueprint
  behave
  [[ $syntax == legacy-1 ]] && tagged="$blueprint.bp"
  emit instance_created "$instance" Blueprint "$tagged"
  emit instance_installation_started "$instance" Blueprint "$tagged"
  emit_all "$instance" directories_created files_created download_started download_finished downloaded \
    deploy_started deploy_finished deployed
  if [[ $syntax == modern ]]; then
    emit instance_installed "$instance" Blueprint "$tagged"
    emit instance_installation_finished "$instance" Blueprint "$tagged"
  else
    emit instance_version_updated "$instance" OldVersion "$([[ $syntax == legacy ]] && echo 0)" NewVersion "$version"
    emit instance_installation_finished "$instance" Blueprint "$tagged"
    emit instance_installed "$instance" Blueprint "$tagged"
  fi
  echo "[SUCCESS] Instance $instance has been created"
}

uninstall() {
  local instance=$1
  behave
  case $syntax in
    modern) emit_all "$instance" uninstall_started files_removed directories_removed uninstalled uninstall_finished ;;
    legacy) emit_all "$instance" uninstall_started files_removed directories_removed removed uninstall_finished \
      uninstalled ;;
    *) emit_all "$instance" uninstall_started directories_removed files_removed removed uninstall_finished \
      uninstalled ;;
  esac
  echo "[SUCCESS] Instance $instance uninstalled"
}

# ------------------------------------------------------------------------------------------ the command line

record "$@"
instances=${FAKE_KGSM_INSTANCES:-factorio,valheim}
blueprints=${FAKE_KGSM_BLUEPRINTS:-factorio,valheim,minecraft}

case "${1:-}" in
  -h | --help)
    case $syntax in
      modern) cat "$help_dir/modern-3.x-deffde3.txt" ;;
      legacy) cat "$help_dir/legacy-2.x-9ddd171.txt" ;;
      *) cat "$help_dir/legacy-1-1.7.3.txt" ;;
    esac
    exit 0
    ;;
esac

bad_option() { # bad_option COMMAND OPTION: a known command with arguments it does not take
  echo "ERROR: Invalid option for $1 command: ${2:-(none)}" >&2
  exit $EC_INVALID_ARG
}

if [[ $syntax == modern ]]; then
  case "${1:-}" in
    instances)
      case "$#:${2:-}" in
        3:list) [[ $3 == --json ]] && json_list "$instances" || bad_option list "$3" ;;
        3:backups) list_backups "$3" ;;
        4:backups) [[ $4 == --json ]] && list_backups "$3" --json || bad_option backups "$4" ;;
        3:create-backup) create_backup "$3" ;;
        4:restore-backup) restore_backup "$3" "$4" ;;
        *:list | *:backups | *:create-backup | *:restore-backup) bad_option "$2" "${4:-${3:-}}" ;;
        *) refuse "${2:-}" ;;
      esac
      ;;
    blueprints)
      [[ $# == 3 && ${2:-} == list && $3 == --json ]] && json_list "$blueprints" || refuse "${2:-}"
      ;;
    start | stop | restart) (($# == 2)) && lifecycle "$1" "$2" || bad_option "$1" "${3:-}" ;;
    logs)
      if (($# == 2)); then
        logs "$2"
      elif (($# == 4)) && [[ $3 == --tail && $4 =~ ^[0-9]+$ ]]; then
        logs "$2" "$4"
      else
        bad_option logs "${3:-}"
      fi
      ;;
    install) (($# >= 2)) && install "${@:2}" || bad_option install "" ;;
    uninstall) (($# == 2)) && uninstall "$2" || bad_option uninstall "${3:-}" ;;
    *) refuse "${1:-}" ;;
  esac
  exit $?
fi

# legacy and legacy-1
install_flag=--create
[[ $syntax == legacy-1 ]] && install_flag=--install
case "$# ${1:-} ${2:-}" in
  "2 --instances --json") json_list "$instances" ;;
  "2 --blueprints --json") json_list "$blueprints" ;;
  "2 --uninstall "*) uninstall "$2" ;;
  [2-9]*" $install_flag "* | [2-9]*" --install "*)
    [[ $syntax == legacy || $1 == "$install_flag" ]] || refuse "$1"
    install "${@:2}"
    ;;
  "3 --instance "*)
    case $3 in
      --start | --stop | --restart) lifecycle "${3#--}" "$2" ;;
      --logs) logs "$2" ;;
      --backups) list_backups "$2" ;;
      --create-backup) create_backup "$2" ;;
      *) refuse "$3" ;;
    esac
    ;;
  "4 --instance "*)
    [[ $3 == --restore-backup ]] || refuse "$3"
    restore_backup "$2" "$4"
    ;;
  *) refuse "${1:-}" ;;
esac
