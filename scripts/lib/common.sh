# Sourced by the set-up scripts: the environment their nested installs get, step timing, Debian packages.

# Nested installs (npm, pip, apt) run with an environment we chose: the caller's, less what a calling
# npm adds about itself. npm run-script hands down its own Node and config (npm_config_user_agent names
# the Node that runs npm, which code-server's install script takes for the Node it is built with), and
# puts node_modules/.bin and its node-gyp shim first on PATH.
scrub_npm_env() {
  local name entry path=
  for name in $(compgen -e); do
    case $name in
      npm_* | NPM_* | INIT_CWD | NODE | COLOR) unset "$name" ;;
    esac
  done
  local IFS=:
  for entry in $PATH; do
    case $entry in
      '' | */node_modules/.bin | */node-gyp-bin) ;;
      *) path=${path:+$path:}$entry ;;
    esac
  done
  export PATH=$path
}
scrub_npm_env

CACHE=${SALT_CONTAINERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/salt-containers}
mkdir -p "$CACHE"

# The test engines' runtime state (sockets, Podman's runroot) for this cache: under /run, a tmpfs, as
# runtime state should be, since Podman's runroot must be shorter than 50 characters and socket paths
# under 108; one folder per cache, so another cache's engines (a cold rehearsal's) never meet these.
engines_runtime() { echo "/run/salt-containers/$(printf %s "$CACHE" | sha256sum | cut -c1-8)"; }

# running_pid PIDFILE COMM: the pid PIDFILE names when that process is alive and is COMM (a pid
# reused by another program is not ours); fails otherwise.
running_pid() {
  local pid
  pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && echo "$pid"
}

# step TITLE ... done_ RESULT: one line per step with how long it took.
step_start=0
step() { step_start=$(date +%s%N); printf '%-44s' "$1"; }
done_() { printf '%s (%s s)\n' "$1" "$(awk -v ns=$(($(date +%s%N) - step_start)) 'BEGIN { printf "%.1f", ns / 1e9 }')"; }

# apt_install PKG...: installs the Debian packages that are missing (root only), quietly; its log in
# $CACHE/apt.log. APT_INSTALLED names what it installed (empty: all were present).
apt_updated=
APT_INSTALLED=
apt_install() {
  local missing=() pkg
  APT_INSTALLED=
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || { echo "need root to install: ${missing[*]}" >&2; return 1; }
  [ -n "$apt_updated" ] || { apt-get update -qq >"$CACHE/apt.log" 2>&1; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$CACHE/apt.log" 2>&1 \
    || { tail -20 "$CACHE/apt.log" >&2; return 1; }
  APT_INSTALLED=${missing[*]}
}
