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
done_() { printf '%s (%s s)\n' "$1" "$(seconds_since "$step_start")"; }
# seconds_since NS: seconds (one decimal) from NS, a `date +%s%N`, to now: for the parts of a step.
seconds_since() { awk -v ns=$(($(date +%s%N) - $1)) 'BEGIN { printf "%.1f", ns / 1e9 }'; }

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

# debootstrap_rootfs DIR SUITE INCLUDE LOG [ARCH]: Debian SUITE minbase + INCLUDE (comma-separated, "" for
# none) for ARCH (default this machine's; another one runs its second stage through qemu's binfmt) in DIR,
# as images ship it: no .debs or package lists, an empty machine-id (each container makes its own). The
# downloads are kept in the cache per suite (and architecture, when it is not this machine's). On failure
# it prints the end of LOG, removes DIR and exits.
debootstrap_rootfs() {
  local rootfs=$1 suite=$2 include=$3 log=$4 arch=${5:-$(dpkg --print-architecture)}
  local debs="$CACHE/debootstrap-debs-$suite"
  [ "$arch" = "$(dpkg --print-architecture)" ] || debs+="-$arch"
  apt_install debootstrap
  mkdir -p "$debs"
  debootstrap --arch="$arch" --variant=minbase ${include:+--include=$include} --cache-dir="$debs" \
    "$suite" "$rootfs" http://deb.debian.org/debian >"$log" 2>&1 \
    || { tail -20 "$log" >&2; rm -rf "$rootfs"; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  : >"$rootfs/etc/machine-id"
}
