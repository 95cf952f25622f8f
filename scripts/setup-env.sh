#!/usr/bin/env bash
# The test environment, idempotent, used by .ci/run, the README and developers:
#   - a Docker engine (the one DOCKER_HOST or /var/run/docker.sock answers, else Debian's docker.io started here)
#   - test images: salt-containers-test:py3 (Debian bookworm minbase + python3, no Salt),
#     salt-containers-test:py3.13 (the same from Debian trixie: another Python than Salt's) and
#     salt-containers-test:nopython (busybox only), built with debootstrap / docker import, skipped when present
#   - Salt: the pinned version from PyPI in a venv of the cache, by the product's own installer
#   - for the engine tests: Podman's API and a second dockerd with TLS, with the test images (setup-engines.sh)
# With --main, only what `npm start` needs: the images only tests use are left out.
# Everything cached goes under $SALT_CONTAINERS_CACHE (default ~/.cache/salt-containers).
# Prints what it did and how long each step took.
set -euo pipefail

PY3_IMAGE=salt-containers-test:py3
NOPY_IMAGE=salt-containers-test:nopython
PY313_IMAGE=salt-containers-test:py3.13
MAIN_ONLY=; [ "${1:-}" = --main ] && MAIN_ONLY=1
. "$(dirname "$0")/lib/common.sh"


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

# State tests (salt-containers test, init: systemd): Debian bookworm minbase + python3 + systemd as PID 1,
# no Salt. Its own block; not for --main. An empty machine-id, as images ship it: each container makes its own.
SYSTEMD_IMAGE=salt-containers-test:systemd
if [ -z "$MAIN_ONLY" ]; then
  step "image $SYSTEMD_IMAGE"
  if docker image inspect "$SYSTEMD_IMAGE" >/dev/null 2>&1; then
    done_ "present"
  else
    apt_install debootstrap
    rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    mkdir -p "$CACHE/debootstrap-debs-bookworm"
    debootstrap --variant=minbase --include=python3,systemd,systemd-sysv,dbus --cache-dir="$CACHE/debootstrap-debs-bookworm" \
      bookworm "$rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap-systemd.log" 2>&1 \
      || { tail -20 "$CACHE/debootstrap-systemd.log" >&2; rm -rf "$rootfs"; exit 1; }
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    : >"$rootfs/etc/machine-id"
    tar -C "$rootfs" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' -c 'ENV container=docker' - "$SYSTEMD_IMAGE" >/dev/null
    rm -rf "$rootfs"
    done_ "built with debootstrap (bookworm + systemd)"
  fi
fi

step "salt"
# The product's installer (the CLI's --install-salt), built into out/ (test.mjs and start.mjs build first).
[ -f "$(dirname "$0")/../out/src/engine/salt/install.js" ] || node "$(dirname "$0")/build.mjs"
done_ "$(node "$(dirname "$0")/install-salt.mjs")"

# State tests run cells on a second Salt: 3007.16, the newest 3007 that installs whole from PyPI here
# (3007.17 wants a certifi newer than this PyPI has; 3007.14, .13 and .8 come without their dependencies).
# Not for --main.
SECOND_SALT=3007.16
if [ -z "$MAIN_ONLY" ]; then
  step "salt $SECOND_SALT (state tests)"
  done_ "$(node "$(dirname "$0")/install-salt.mjs" "$SECOND_SALT")"
fi
# Podman and a second dockerd over TCP with TLS, for the tests that run on other engines (not for npm start).
[ -n "$MAIN_ONLY" ] || bash "$(dirname "$0")/setup-engines.sh"
