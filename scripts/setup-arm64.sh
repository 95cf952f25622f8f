#!/usr/bin/env bash
# arm64 containers for the tests (what an Apple Silicon machine runs), idempotent, called by setup-env.sh:
#   - arm64 emulation: Debian's qemu-user-static and binfmt-support, binfmt_misc mounted when it is not;
#     qemu-aarch64 must be registered with the F flag (the interpreter is opened at registration, so it
#     runs inside containers, which do not have it). On an arm64 machine nothing is needed.
#   - salt-containers-test:arm64-py3 (Debian 12 arm64 minbase + python3, no Salt) and
#     salt-containers-test:arm64-debian (the same with Python's packages purged: for the bundled runtime),
#     from one debootstrap, imported and marked arm64 (see lib/image-arch.mjs).
# Where emulation cannot be had (no binfmt_misc, not root, a mount refused), it says why and builds
# nothing; the arm64 tests then skip with one line. Prints what it did and how long each step took.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

ARM64_PY3_IMAGE=salt-containers-test:arm64-py3
ARM64_DEBIAN_IMAGE=salt-containers-test:arm64-debian
BINFMT=/proc/sys/fs/binfmt_misc

# qemu_registered: qemu-aarch64 is enabled in binfmt_misc with the F (fix binary) flag.
qemu_registered() {
  grep -qx enabled "$BINFMT/qemu-aarch64" 2>/dev/null && grep -q '^flags: .*F' "$BINFMT/qemu-aarch64"
}

# emulation: registers qemu-aarch64 when it can; prints what it found and fails when arm64 cannot run here.
emulation() {
  [ "$(dpkg --print-architecture)" = arm64 ] && { echo "not needed: this machine is arm64"; return; }
  qemu_registered && { echo "qemu-aarch64 registered ($(sed -n 's/^flags: //p' "$BINFMT/qemu-aarch64"))"; return; }
  [ "$(id -u)" = 0 ] || { echo "not root: cannot register qemu-aarch64 with binfmt_misc"; return 1; }
  [ -d "$BINFMT" ] || { echo "this kernel has no binfmt_misc ($BINFMT)"; return 1; }
  if [ ! -e "$BINFMT/register" ]; then
    mount -t binfmt_misc binfmt_misc "$BINFMT" 2>"$CACHE/binfmt.log" \
      || { echo "cannot mount binfmt_misc: $(tail -1 "$CACHE/binfmt.log")"; return 1; }
  fi
  apt_install qemu-user-static binfmt-support || { echo "cannot install qemu-user-static binfmt-support"; return 1; }
  # The packages register their formats only when binfmt_misc was mounted as they were installed.
  qemu_registered || update-binfmts --enable qemu-aarch64 >"$CACHE/binfmt.log" 2>&1 || true
  qemu_registered || { echo "qemu-aarch64 is not registered with the F flag: $(cat "$BINFMT/qemu-aarch64" 2>/dev/null | tr '\n' ' ')$(tail -1 "$CACHE/binfmt.log")"; return 1; }
  echo "registered qemu-aarch64 ($(sed -n 's/^flags: //p' "$BINFMT/qemu-aarch64"))"
}

# is_arm64 IMAGE: the engine has IMAGE and it says arm64.
is_arm64() { [ "$(docker image inspect --format '{{.Architecture}}' "$1" 2>/dev/null)" = arm64 ]; }

# import_arm64 ROOTFS IMAGE: ROOTFS imported as IMAGE (CMD bash), its config saying arm64 (variant v8);
# ARCH_FIXED set when the engine had recorded another architecture.
ARCH_FIXED=
import_arm64() {
  local rootfs=$1 image=$2 old saved
  tar -C "$rootfs" -c . | docker import --platform linux/arm64 -c 'CMD ["/bin/bash"]' - "$image" >/dev/null
  is_arm64 "$image" && return
  ARCH_FIXED=1
  # The engine recorded its own architecture: save, mark arm64, load (the layer is already there).
  old=$(docker image inspect --format '{{.Id}}' "$image")
  saved=$(mktemp -d "$CACHE/image.XXXXXX")
  docker save "$image" | tar -x -C "$saved"
  node "$(dirname "$0")/lib/image-arch.mjs" "$saved" arm64 v8 >/dev/null
  tar -C "$saved" -c . | docker load >/dev/null
  rm -rf "$saved"
  docker image rm "$old" >/dev/null # untagged by the load
  is_arm64 "$image" || { echo "$image: still not arm64 after the fix" >&2; exit 1; }
}

step "arm64 emulation"
if ! result=$(emulation); then
  done_ "not available: $result; the arm64 test images are not built and the arm64 tests skip"
  exit 0
fi
done_ "$result"

step "image salt-containers-test:arm64-*"
if is_arm64 "$ARM64_PY3_IMAGE" && is_arm64 "$ARM64_DEBIAN_IMAGE"; then
  done_ "present"
  exit 0
fi
# One of them missing (or not arm64): both again, from one debootstrap; the old ones would stay behind untagged.
docker image rm "$ARM64_PY3_IMAGE" "$ARM64_DEBIAN_IMAGE" >/dev/null 2>&1 || true
rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
log="$CACHE/debootstrap-salt-containers-test-arm64.log"
started=$(date +%s%N)
debootstrap_rootfs "$rootfs" bookworm python3 "$log" arm64
debootstrap_s=$(seconds_since "$started")
started=$(date +%s%N)
import_arm64 "$rootfs" "$ARM64_PY3_IMAGE"
import_s=$(seconds_since "$started")
started=$(date +%s%N)
# The same system without Python, for the bundled runtime: its packages purged by the image's own dpkg (emulated).
mapfile -t pythons < <(dpkg-query --admindir="$rootfs/var/lib/dpkg" -W -f '${Package}\n' | grep -E '^(lib)?python3')
chroot "$rootfs" dpkg --purge "${pythons[@]}" >>"$log" 2>&1 || { tail -20 "$log" >&2; rm -rf "$rootfs"; exit 1; }
! compgen -G "$rootfs/usr/bin/python3*" >/dev/null || { echo "python3 is still in the arm64-debian rootfs" >&2; exit 1; }
import_arm64 "$rootfs" "$ARM64_DEBIAN_IMAGE"
rm -rf "$rootfs"
done_ "debootstrap bookworm arm64 + python3 $debootstrap_s s, import${ARCH_FIXED:+ and arm64 fix} $import_s s; without Python (${#pythons[@]} packages purged) $(seconds_since "$started") s"
