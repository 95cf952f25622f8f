#!/usr/bin/env bash
# The test environment, idempotent, used by .ci/run, the README and developers:
#   - a Docker engine (the one DOCKER_HOST or /var/run/docker.sock answers, else Debian's docker.io started here)
#   - test images: salt-containers-test:py3 (Debian bookworm minbase + python3, no Salt),
#     salt-containers-test:py3.13 (the same from Debian trixie: another Python than Salt's) and
#     salt-containers-test:nopython (busybox only), built with debootstrap / docker import, skipped when present
#   - Salt: a venv outside the repo with a pinned salt from PyPI
# With --main, only what `npm start` needs: the images only tests use are left out.
# Everything cached goes under $SALT_CONTAINERS_CACHE (default ~/.cache/salt-containers).
# Prints what it did and how long each step took.
set -euo pipefail

SALT_VERSION=3008.4 # newest on PyPI that installs and runs on Python 3.11 here (3008.5 needs an unreleased certifi)
CACHE=${SALT_CONTAINERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/salt-containers}
PY3_IMAGE=salt-containers-test:py3
NOPY_IMAGE=salt-containers-test:nopython
PY313_IMAGE=salt-containers-test:py3.13
MAIN_ONLY=; [ "${1:-}" = --main ] && MAIN_ONLY=1
mkdir -p "$CACHE"

step_start=0
step() { step_start=$(date +%s.%N); printf '%-44s' "$1"; }
done_() { printf '%s (%.1f s)\n' "$1" "$(echo "$(date +%s.%N) - $step_start" | bc)"; }

apt_updated=
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || { echo "need root to install: ${missing[*]}" >&2; return 1; }
  [ -n "$apt_updated" ] || { apt-get update -qq >/dev/null; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

command -v bc >/dev/null || apt_install bc

engine_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

step "docker engine"
if engine_answers; then
  done_ "answers at ${DOCKER_HOST:-/var/run/docker.sock}"
else
  if [ -n "${DOCKER_HOST:-}" ]; then
    echo "DOCKER_HOST=$DOCKER_HOST does not answer: start that engine or unset DOCKER_HOST" >&2
    exit 1
  fi
  command -v dockerd >/dev/null || apt_install docker.io
  command -v docker >/dev/null || apt_install docker-cli
  # A daemon killed without cleaning up leaves its pid file, and dockerd refuses to start while that
  # pid names any live process or thread: drop the file unless it names a running dockerd.
  pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ] && [ "$(cat "/proc/$(cat "$pidfile")/comm" 2>/dev/null)" != dockerd ]; then rm -f "$pidfile"; fi
  # No systemd here: run the daemon in its own session so it outlives this script. No bridge or
  # iptables: test containers need no network.
  setsid dockerd --iptables=false --bridge=none >"$CACHE/dockerd.log" 2>&1 < /dev/null &
  dockerd_pid=$!
  for _ in $(seq 1 120); do
    engine_answers && break
    kill -0 "$dockerd_pid" 2>/dev/null || break # it gave up: no point waiting
    sleep 0.5
  done
  engine_answers || { echo "dockerd did not start; its log:" >&2; tail -20 "$CACHE/dockerd.log" >&2; exit 1; }
  done_ "started dockerd ($(docker version --format '{{.Server.Version}}'))"
fi

# debootstrap_image IMAGE SUITE: Debian SUITE minbase + python3 (no Salt), imported as IMAGE.
debootstrap_image() {
  local image=$1 suite=$2 rootfs
  step "image $image"
  if docker image inspect "$image" >/dev/null 2>&1; then
    done_ "present"
    return
  fi
  apt_install debootstrap
  rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  mkdir -p "$CACHE/debootstrap-debs-$suite"
  debootstrap --variant=minbase --include=python3 --cache-dir="$CACHE/debootstrap-debs-$suite" \
    "$suite" "$rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap-$suite.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap-$suite.log" >&2; rm -rf "$rootfs"; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/bash"]' - "$image" >/dev/null
  rm -rf "$rootfs"
  done_ "built with debootstrap ($suite)"
}

debootstrap_image "$PY3_IMAGE" bookworm
# Another Python than the Salt venv's 3.11 (Debian 13: 3.13), for the runs that ship Salt to a different Python.
[ -n "$MAIN_ONLY" ] || debootstrap_image "$PY313_IMAGE" trixie

step "image $NOPY_IMAGE"
if docker image inspect "$NOPY_IMAGE" >/dev/null 2>&1; then
  done_ "present"
else
  apt_install busybox-static
  rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in sh sleep ls cat rm mkdir; do ln -s busybox "$rootfs/bin/$applet"; done
  chmod 1777 "$rootfs/tmp"
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$NOPY_IMAGE" >/dev/null
  rm -rf "$rootfs"
  done_ "built from busybox"
fi

step "salt $SALT_VERSION venv"
venv="$CACHE/salt-venv"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.pinned" 2>/dev/null)" = "$SALT_VERSION" ]; then
  done_ "present ($venv)"
else
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "salt==$SALT_VERSION" >"$CACHE/pip.log" 2>&1 || { tail -20 "$CACHE/pip.log" >&2; exit 1; }
  echo "$SALT_VERSION" >"$venv/.pinned"
  done_ "installed ($venv)"
fi
