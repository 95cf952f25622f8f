#!/usr/bin/env bash
# The test environment, idempotent, used by .ci/run, the README and developers:
#   - a Docker engine (the one DOCKER_HOST or /var/run/docker.sock answers, else Debian's docker.io started here)
#   - test images: salt-containers-test:py3 (Debian bookworm minbase + python3, no Salt),
#     salt-containers-test:py3.13 (the same from Debian trixie: another Python than Salt's) and
#     salt-containers-test:nopython (busybox only), built with debootstrap / docker import, skipped when present
#   - for the bundled Python runtime: salt-containers-test:debian (bookworm minbase, no python3),
#     :py3.9 (bullseye + its python3 3.9), :busybox (busybox-static, no libc), :musl (musl + busybox);
#     :helper (bookworm + python3 and venv: the helpers' Python image of the bare-host tests);
#     the runtime itself for amd64 and arm64, in the cache
#   - arm64 containers: qemu-aarch64 registered with binfmt_misc, salt-containers-test:arm64-py3 (Debian 12
#     arm64 + python3) and :arm64-debian (the same without Python), by setup-arm64.sh; where the machine
#     cannot register qemu it says why, and the arm64 tests skip
#   - Salt: the pinned version from PyPI in a venv of the cache, by the product's own installer
#   - check-jsonschema (its GitHub workflow schema checks the docs' CI workflow), in a venv of the cache
#   - for the engine tests: Podman's API, a second dockerd with TLS, an sshd and an image registry on 127.0.0.1 (setup-engines.sh)
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
  running_pid "$pidfile" dockerd >/dev/null || rm -f "$pidfile"
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

# debootstrap_image IMAGE SUITE [INCLUDE [CMD [CHANGE...]]]: Debian SUITE minbase + INCLUDE (default
# python3; "" for none, like the official image), no Salt, imported as IMAGE with CMD (default bash)
# and more `docker import -c` CHANGEs.
debootstrap_image() {
  local image=$1 suite=$2 include=${3-python3} cmd=${4:-'["/bin/bash"]'} rootfs
  local changes=(-c "CMD $cmd")
  for change in "${@:5}"; do changes+=(-c "$change"); done
  step "image $image"
  if docker image inspect "$image" >/dev/null 2>&1; then
    done_ "present"
    return
  fi
  rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  debootstrap_rootfs "$rootfs" "$suite" "$include" "$CACHE/debootstrap-${image//[:\/]/-}.log"
  tar -C "$rootfs" -c . | docker import "${changes[@]}" - "$image" >/dev/null
  rm -rf "$rootfs"
  done_ "built with debootstrap ($suite${include:+ + $include})"
}

debootstrap_image "$PY3_IMAGE" bookworm
# Another Python than the Salt venv's 3.11 (Debian 13: 3.13), for the runs that ship Salt to a different Python.
[ -n "$MAIN_ONLY" ] || debootstrap_image "$PY313_IMAGE" trixie

# Images without a Python Salt can use, for the bundled runtime (src/engine/runtime): tests only.
if [ -z "$MAIN_ONLY" ]; then
  # Debian 12 minbase without python3, like the official debian:12; and Debian 11, whose Python 3.9 is
  # older than Salt 3008 runs on.
  debootstrap_image salt-containers-test:debian bookworm ""
  debootstrap_image salt-containers-test:py3.9 bullseye
  # The helpers' Python image for a host without Salt (SALT_CONTAINERS_PYTHON_IMAGE in the bare-host
  # tests): as the official python:3.11-slim-bookworm, a Python 3.11 with its venv module and headers,
  # and no C compiler.
  debootstrap_image salt-containers-test:helper bookworm python3,python3-venv,python3-dev

  # busybox_rootfs DIR: busybox-static with every applet linked, and the accounts, like the official
  # busybox image: no libc at all.
  busybox_rootfs() {
    local rootfs=$1 applet
    mkdir -p "$rootfs"/{bin,etc,root,home,tmp,var/spool/mail,var/www}
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
    printf '%s\n' root:x:0:0:root:/root:/bin/sh daemon:x:1:1:daemon:/usr/sbin:/bin/false bin:x:2:2:bin:/bin:/bin/false \
      sys:x:3:3:sys:/dev:/bin/false www-data:x:33:33:www-data:/var/www:/bin/false nobody:x:65534:65534:nobody:/home:/bin/false >"$rootfs/etc/passwd"
    printf '%s\n' root:x:0: daemon:x:1: bin:x:2: sys:x:3: www-data:x:33: users:x:100: nogroup:x:65534: >"$rootfs/etc/group"
    chmod 1777 "$rootfs/tmp"
    chmod 700 "$rootfs/root"
  }

  step "image salt-containers-test:busybox"
  if docker image inspect salt-containers-test:busybox >/dev/null 2>&1; then
    done_ "present"
  else
    apt_install busybox-static
    rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    busybox_rootfs "$rootfs"
    tar -C "$rootfs" -c . | docker import -c 'CMD ["sh"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - salt-containers-test:busybox >/dev/null
    rm -rf "$rootfs"
    done_ "built from busybox-static"
  fi

  # A musl userland (as Alpine lays it out): Debian's musl as the only libc, busybox as the tools.
  step "image salt-containers-test:musl"
  if docker image inspect salt-containers-test:musl >/dev/null 2>&1; then
    done_ "present"
  else
    apt_install busybox-static musl
    rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    busybox_rootfs "$rootfs"
    arch=$(uname -m)
    mkdir -p "$rootfs/lib" "$rootfs/usr/bin"
    cp "/usr/lib/$arch-linux-musl/libc.so" "$rootfs/lib/ld-musl-$arch.so.1"
    ln -s "ld-musl-$arch.so.1" "$rootfs/lib/libc.musl-$arch.so.1"
    ln -s "/lib/ld-musl-$arch.so.1" "$rootfs/usr/bin/ldd" # musl's loader is its ldd, as on Alpine
    version=$(dpkg-query -W -f='${Version}' musl)
    printf '%s\n' 'NAME="musl userland"' 'ID=musl' "VERSION_ID=${version%%-*}" "PRETTY_NAME=\"musl ${version%%-*} with busybox\"" >"$rootfs/etc/os-release"
    tar -C "$rootfs" -c . | docker import -c 'CMD ["sh"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - salt-containers-test:musl >/dev/null
    rm -rf "$rootfs"
    done_ "built from musl $version + busybox-static"
  fi

  # The bundled Python runtime itself (what a run builds on first use), for amd64 and arm64.
  step "bundled python runtime"
  [ -f "$(dirname "$0")/../out/src/engine/runtime/build.js" ] || node "$(dirname "$0")/build.mjs"
  done_ "$(node "$(dirname "$0")/build-runtime.mjs" amd64 arm64)"
fi

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
# no Salt. Not for --main.
SYSTEMD_IMAGE=salt-containers-test:systemd
[ -n "$MAIN_ONLY" ] || debootstrap_image "$SYSTEMD_IMAGE" bookworm python3,systemd,systemd-sysv,dbus '["/lib/systemd/systemd"]' 'ENV container=docker'

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
# The support matrix (test/integration/support.test.ts) also runs 3006 LTS: 3006.29, the newest 3006
# that installs here (3006.30 wants the same certifi). Not for --main.
LTS_SALT=3006.29
if [ -z "$MAIN_ONLY" ]; then
  step "salt $LTS_SALT (support matrix)"
  done_ "$(node "$(dirname "$0")/install-salt.mjs" "$LTS_SALT")"
fi
# check-jsonschema, whose vendored GitHub workflow schema checks the CI workflow of the docs
# (test/integration/ci-workflow.test.ts), in its own venv of the cache. Not for --main.
CHECK_JSONSCHEMA=0.39.0
if [ -z "$MAIN_ONLY" ]; then
  step "check-jsonschema $CHECK_JSONSCHEMA (docs' CI workflow)"
  venv="$CACHE/check-jsonschema/$CHECK_JSONSCHEMA"
  if "$venv/bin/check-jsonschema" --version 2>/dev/null | grep -qF "$CHECK_JSONSCHEMA"; then
    done_ "present"
  else
    python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3 python3-venv
    # A venv left half made by an interrupted run is made again.
    rm -rf "$venv"
    python3 -m venv "$venv" >"$CACHE/check-jsonschema.log" 2>&1 \
      && "$venv/bin/pip" install --disable-pip-version-check -q "check-jsonschema==$CHECK_JSONSCHEMA" >>"$CACHE/check-jsonschema.log" 2>&1 \
      || { tail -20 "$CACHE/check-jsonschema.log" >&2; rm -rf "$venv"; exit 1; }
    done_ "installed from PyPI"
  fi
fi
# arm64 containers through qemu (binfmt_misc) and their test images, where this machine allows it (not for npm start).
[ -n "$MAIN_ONLY" ] || bash "$(dirname "$0")/setup-arm64.sh"
# Podman and a second dockerd over TCP with TLS, for the tests that run on other engines (not for npm start).
[ -n "$MAIN_ONLY" ] || bash "$(dirname "$0")/setup-engines.sh"
