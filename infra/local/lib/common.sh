# Shared helpers for infra/local scripts. Sourced, not executed.
set -euo pipefail

TESSERA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
TESSERA_LOCAL="$TESSERA_ROOT/.local"      # data and logs (git-ignored)
TESSERA_TOOLS="$TESSERA_ROOT/.tools"      # downloaded toolchains (git-ignored)
# shellcheck source=../versions.env
source "$TESSERA_ROOT/infra/local/versions.env"
# shellcheck source=../ports.env
source "$TESSERA_ROOT/infra/local/ports.env"

log()  { printf '\033[1;34m[tessera]\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m[tessera]\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31m[tessera] error:\033[0m %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# port_busy PORT — true when something listens on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for DESCRIPTION SECONDS COMMAND... — polls COMMAND until it succeeds.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

# pid_alive FILE — true when FILE holds the pid of a running process.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile NAME FILE — SIGTERM, wait up to 30 s, then SIGKILL.
stop_pidfile() {
  local name=$1 file=$2
  if pid_alive "$file"; then
    local pid; pid=$(cat "$file")
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && { warn "$name did not stop in 30 s; killing"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$file"
}

apt_install() {
  is_root || die "$* is missing and installing it needs root: run 'sudo apt-get update && sudo apt-get install -y $*'"
  log "installing Debian packages: $*"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >"$TESSERA_LOCAL/apt.log" 2>&1; then
    tail -20 "$TESSERA_LOCAL/apt.log" >&2
    die "apt-get install $* failed (log: .local/apt.log). Check that the Debian package mirror is reachable."
  fi
}
