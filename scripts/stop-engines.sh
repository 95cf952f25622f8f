#!/usr/bin/env bash
# Stops the test engines scripts/setup-engines.sh started for this cache (SALT_CONTAINERS_CACHE, else
# ~/.cache/salt-containers): the Podman API service, the TLS dockerd, the sshd and the registry. What
# they keep (images, keys, certificates) stays in the cache; the next set-up starts them again. The
# cold rehearsal runs it on its own cache before removing it. Never touches the main engine.
set -euo pipefail

. "$(dirname "$0")/lib/common.sh"
ENGINES="$CACHE/engines"
RUNTIME=$(engines_runtime)
[ -d "$ENGINES" ] || exit 0
exec 9>"$ENGINES/.lock"
flock 9

# stop NAME PIDFILE COMM: TERM to the process the pidfile names when it is still that program, then
# up to 20 s for it to end (a dockerd stops its containers first), then KILL.
stop() {
  local name=$1 pidfile=$2 comm=$3 pid
  step "stop $name"
  if ! pid=$(running_pid "$pidfile" "$comm"); then
    rm -f "$pidfile"
    done_ "not running"
    return
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 80); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  done_ "stopped"
}

stop "podman api service" "$ENGINES/podman/service.pid" podman
stop "dockerd with tls" "$ENGINES/tls/dockerd.pid" dockerd
stop "sshd for ssh://" "$ENGINES/ssh/sshd.pid" sshd
stop "image registry" "$ENGINES/registry/registry.pid" docker-registry

# Podman mounts its overlay storage on itself, and its containers' layers below it: unmounted, so the
# cache can be removed.
step "podman storage mounts"
mounts=$(awk -v root="$ENGINES/podman/storage" 'index($5, root) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
for mount in $mounts; do umount "$mount" 2>/dev/null || umount -l "$mount"; done
rm -rf "$RUNTIME"
done_ "$(if [ -n "$mounts" ]; then echo "unmounted $(echo "$mounts" | wc -l)"; else echo "none"; fi)"
