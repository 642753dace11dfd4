#!/usr/bin/env bash
# A fake kgsm.sh for the tests of the server commands (cogs/control.py).
#
# It speaks one of KGSM's two command-line syntaxes (FAKE_KGSM_SYNTAX=modern, the default, or legacy) and
# refuses the other, so a test proves the bot used the right one; `--help` prints that syntax's usage, which
# is what the bot's KGSM_CLI=auto detection reads. Every call is appended to FAKE_KGSM_LOG as one line:
# KGSM_EVENT_ACTOR, KGSM_EVENT_ORIGIN, then each argument, separated by tabs. Commands that change an
# instance send KGSM's events for it to the socket FAKE_KGSM_SOCKET, the way KGSM does (one pretty JSON
# document per socat connection).
#
# Other knobs, all environment variables:
#   FAKE_KGSM_INSTANCES, FAKE_KGSM_BLUEPRINTS  comma lists (defaults: factorio,valheim / factorio,valheim,minecraft)
#   FAKE_KGSM_SLEEP=SECONDS   wait this long before doing a command (to keep an instance busy)
#   FAKE_KGSM_HANG=1          never finish a command (a child process sleeps; its pid goes to FAKE_KGSM_PIDFILE)
#   FAKE_KGSM_FAIL=MESSAGE    fail every command with MESSAGE on stderr and exit code FAKE_KGSM_EXIT (default 1)
#   FAKE_KGSM_LOG_LINES=N     how many lines `logs` prints (default 5)
set -uo pipefail

syntax=${FAKE_KGSM_SYNTAX:-modern}

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

# emit EVENT_TYPE INSTANCE [KEY VALUE]...: one event, pretty-printed like `jq -n`, sent with socat.
emit() {
  [[ -n "${FAKE_KGSM_SOCKET:-}" ]] || return 0
  local event_type=$1 instance=$2 data origin=null
  shift 2
  data="    \"InstanceName\": $(json_string "$instance")"
  while (($# >= 2)); do
    data+=$',\n'"    \"$1\": $(json_string "$2")"
    shift 2
  done
  [[ -n "${KGSM_EVENT_ORIGIN:-}" ]] && origin=$(json_string "$KGSM_EVENT_ORIGIN")
  local payload
  payload=$(
    cat <<EOF
{
  "EventType": "$event_type",
  "Data": {
$data
  },
  "Timestamp": "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)",
  "Actor": $(json_string "${KGSM_EVENT_ACTOR:-kgsm}"),
  "Origin": $origin,
  "Hostname": "gamehost",
  "KGSMVersion": "2.4.0"
}
EOF
  )
  echo "$payload" | socat - "UNIX-CONNECT:$FAKE_KGSM_SOCKET" || true
}

emit_all() { # emit_all INSTANCE EVENT... (each event without extra data)
  local instance=$1 event
  shift
  for event in "$@"; do emit "instance_$event" "$instance"; done
}

usage() {
  if [[ $syntax == legacy ]]; then
    cat <<'EOF'
Krystal Game Server Manager

Usage:
  kgsm.sh [option]

Options:
  --blueprints [--json]                 List blueprints
  --install <blueprint> [--version V] [--name N]
  --uninstall <instance>
  --instances [--json]                  List instances
  --instance <instance> OPTION          --start --stop --restart --status --logs --create-backup
EOF
  else
    cat <<'EOF'
Krystal Game Server Manager

Usage:
  kgsm.sh <command> [arguments] [options]

Module Commands:
  install <blueprint>         Install a new game server instance
  uninstall <instance>        Remove a game server instance
  blueprints <command>        Manage server blueprints
  instances <command>         Manage server instances

Lifecycle Shortcuts:
  start <instance>            Start a server instance
  stop <instance>             Stop a server instance
  restart <instance>          Restart a server instance
  logs <instance> [options]   View instance logs
EOF
  fi
}

refuse() {
  echo "ERROR: Unknown command: $*" >&2
  echo "ERROR: Use 'kgsm.sh --help' for available commands" >&2
  exit 2
}

# The slow, hanging and failing behaviours apply to commands, not to --help or the lists.
behave() {
  if [[ -n "${FAKE_KGSM_SLEEP:-}" ]]; then sleep "$FAKE_KGSM_SLEEP"; fi
  if [[ -n "${FAKE_KGSM_HANG:-}" ]]; then
    sleep 300 &
    [[ -n "${FAKE_KGSM_PIDFILE:-}" ]] && echo $! >"$FAKE_KGSM_PIDFILE"
    wait
  fi
  if [[ -n "${FAKE_KGSM_FAIL:-}" ]]; then
    echo "Working on it..."
    echo "ERROR: $FAKE_KGSM_FAIL" >&2
    exit "${FAKE_KGSM_EXIT:-1}"
  fi
}

run() { # run ACTION INSTANCE [BLUEPRINT | TAIL]
  local action=$1 instance=$2
  behave
  case $action in
    start) emit_all "$instance" started ;;
    stop) emit_all "$instance" stop_started stop_finished stopped ;;
    restart) emit_all "$instance" restart_started restart_stopped restart_finished restarted ;;
    backup)
      emit_all "$instance" backup_started
      emit instance_backup_created "$instance" Source "$instance-backup" Version "1.0"
      emit_all "$instance" backup_finished
      ;;
    uninstall) emit_all "$instance" uninstall_started files_removed directories_removed removed \
      uninstall_finished uninstalled ;;
    install)
      local blueprint=$3 event
      for event in installation_started created directories_created files_created download_started \
        download_finished downloaded deploy_started deploy_finished deployed installation_finished installed; do
        emit "instance_$event" "$instance" Blueprint "$blueprint"
      done
      ;;
    logs)
      local n lines=${FAKE_KGSM_LOG_LINES:-5} tail=${3:-}
      if [[ -n $tail ]] && ((tail < lines)); then lines=$tail; fi
      for ((n = 1; n <= lines; n++)); do echo "[$instance] log line $n of the server"; done
      return 0
      ;;
  esac
  echo "$action of $instance: done"
}

install_options() { # install_options BLUEPRINT ARGS...: accept --name and --version, then install
  local blueprint=$1 name=""
  shift
  while (($#)); do
    case $1 in
      --name) name=$2 ;;
      --version) ;;
      *) refuse "$1" ;;
    esac
    shift 2
  done
  run install "${name:-$blueprint}" "$blueprint"
}

record "$@"

case "${1:-}" in
  -h | --help | help)
    usage
    exit 0
    ;;
esac

if [[ $syntax == legacy ]]; then
  case "${1:-} ${2:-}" in
    "--instances --json") json_list "${FAKE_KGSM_INSTANCES:-factorio,valheim}" ;;
    "--blueprints --json") json_list "${FAKE_KGSM_BLUEPRINTS:-factorio,valheim,minecraft}" ;;
    "--uninstall "*) run uninstall "$2" ;;
    "--install "*) install_options "${@:2}" ;;
    "--instance "*)
      case "${3:-}" in
        --start | --stop | --restart | --logs) run "${3#--}" "$2" ;;
        --create-backup) run backup "$2" ;;
        *) refuse "$@" ;;
      esac
      ;;
    *) refuse "$@" ;;
  esac
else
  case "${1:-} ${2:-}" in
    "instances list") json_list "${FAKE_KGSM_INSTANCES:-factorio,valheim}" ;;
    "blueprints list")
      # The modern list gives objects, so the bot's reader of KGSM's JSON is exercised in both shapes.
      IFS=, read -ra names <<<"${FAKE_KGSM_BLUEPRINTS:-factorio,valheim,minecraft}"
      printf '['
      for n in "${!names[@]}"; do
        ((n)) && printf ', '
        printf '{"name": %s, "tier": "system"}' "$(json_string "${names[$n]}")"
      done
      printf ']\n'
      ;;
    "start "* | "stop "* | "restart "* | "backup "* | "uninstall "*) run "$1" "$2" ;;
    "logs "*)
      [[ "${3:-}" == --tail ]] || refuse "$@"
      run logs "$2" "${4:-}"
      ;;
    "install "*) install_options "${@:2}" ;;
    *) refuse "$@" ;;
  esac
fi
