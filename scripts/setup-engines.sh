#!/usr/bin/env bash
# Two more engines for the tests (not for `npm start`), next to the main one and never touching it:
#   - Podman's Docker-compatible API: Debian's podman, rootful, `podman system service` on a socket of
#     its own, with a containers.conf that fits this machine's limits (its hard nofile/nproc limits are
#     below Podman's default ulimits, and there is no systemd: cgroupfs, events in a file)
#   - a second dockerd on 127.0.0.1 over TCP with TLS (certificates generated here), with its own
#     data-root, exec-root and pidfile
#   - an sshd on 127.0.0.1 (keys generated here) that reaches the main engine as ssh://USER@127.0.0.1:PORT
#     does (`docker system dial-stdio`), and a home folder for clients: .ssh/known_hosts and a key
#   - an image registry on 127.0.0.1 (Debian's docker-registry, the distribution registry 2.8: its binary
#     taken out of the package, not installed, so no system service starts), its config and storage under
#     the cache, with salt-containers-test:py3 pushed as 127.0.0.1:PORT/sc/py3:1; plain HTTP, which Docker
#     allows for 127.0.0.0/8 and a Podman gets from the registries.conf written here
# Podman and the TLS dockerd get the test images (docker save | docker load through each engine's API),
# reloaded when the main engine's copy changed. Where they are goes to $CACHE/engines/engines.json for the tests:
#   {"podman": {"host": "unix://...", "root", "runroot", "conf"}, "tls": {"host": "tcp://127.0.0.1:PORT", "certPath": "DIR"},
#    "ssh": {"host": "ssh://USER@127.0.0.1:PORT", "home": "DIR"}}
# and the registry's to $CACHE/engines/registry/registry.json:
#   {"address": "127.0.0.1:PORT", "image": "127.0.0.1:PORT/sc/py3:1", "binary", "storage", "registriesConf"}
# Idempotent (skips what is present and answering), one step at a time with its duration; a lock keeps
# two set-ups run side by side from starting an engine twice. Called by setup-env.sh; runs alone too.
# Another cache's set-up (a cold rehearsal's) runs beside this one: its own runtime folder, and ports of
# its own when the usual ones are taken (chosen once, kept in $CACHE/engines/ports.env).
# scripts/stop-engines.sh stops what this starts.
set -euo pipefail

. "$(dirname "$0")/lib/common.sh"
ENGINES="$CACHE/engines"
RUNTIME=$(engines_runtime)
PORTS="$ENGINES/ports.env"
# shellcheck disable=SC1090
[ ! -f "$PORTS" ] || . "$PORTS"
TLS_PORT=${SALT_CONTAINERS_TLS_PORT:-${TLS_PORT:-23760}}
SSH_PORT=${SALT_CONTAINERS_SSH_PORT:-${SSH_PORT:-23722}}
REGISTRY_PORT=${SALT_CONTAINERS_REGISTRY_PORT:-${REGISTRY_PORT:-23750}}
save_ports() { printf 'TLS_PORT=%s\nSSH_PORT=%s\nREGISTRY_PORT=%s\n' "$TLS_PORT" "$SSH_PORT" "$REGISTRY_PORT" >"$PORTS"; }
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# own_port PORT: PORT, or a free one when something that is not ours (we asked it already) listens there.
own_port() { if port_taken "$1"; then free_port; else echo "$1"; fi; }
IMAGES=(salt-containers-test:py3 salt-containers-test:py3.13 salt-containers-test:nopython)
mkdir -p "$ENGINES/podman" "$ENGINES/tls" "$ENGINES/ssh" "$ENGINES/registry" "$RUNTIME"
# The engines started below must not inherit the lock (9>&-): it would be held as long as they run.
exec 9>"$ENGINES/.lock"
flock 9

PODMAN_SOCK="$ENGINES/podman/podman.sock"
PODMAN=(docker -H "unix://$PODMAN_SOCK")
TLS_CERTS="$ENGINES/tls/certs"
TLS=(docker -H "tcp://127.0.0.1:$TLS_PORT" --tlsverify --tlscacert "$TLS_CERTS/client/ca.pem" --tlscert "$TLS_CERTS/client/cert.pem" --tlskey "$TLS_CERTS/client/key.pem")

answers() { timeout 10 "$@" version --format '{{.Server.Version}}' 2>/dev/null; }

# wait_until_answers PID LOG ENGINE-ARGV...: polls while the process lives, for up to a minute.
wait_until_answers() {
  local pid=$1 log=$2
  shift 2
  for _ in $(seq 1 120); do
    answers "$@" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  answers "$@" >/dev/null || { echo "the engine did not start; its log:" >&2; tail -20 "$log" >&2; exit 1; }
}

step "podman"
apt_install podman
done_ "${APT_INSTALLED:+installed $APT_INSTALLED}${APT_INSTALLED:-present} ($(podman --version))"

step "podman api service"
# Ours only with this runtime folder: the tests start Podmans of their own on the same storage, which
# Podman refuses with another runroot (a service from an older set-up used /run/salt-containers/podman).
# Podman's database remembers its runroot: that service's storage is reset (the test images are loaded
# again below).
podman_pid=$(pgrep -f -- "system service --time=0 unix://$PODMAN_SOCK" | head -1 || true)
if [ -n "$podman_pid" ] && ! tr '\0' ' ' <"/proc/$podman_pid/cmdline" | grep -qF -- "--runroot $RUNTIME/podman "; then
  old_runroot=$(tr '\0' '\n' <"/proc/$podman_pid/cmdline" | sed -n '/^--runroot$/{n;p;q}')
  kill "$podman_pid" && sleep 1
  podman --root "$ENGINES/podman/storage" --runroot "$old_runroot" system reset --force >"$ENGINES/podman/reset.log" 2>&1 || true
fi
if version=$(answers "${PODMAN[@]}"); then
  done_ "answers at unix://$PODMAN_SOCK (Podman $version)"
else
  cat >"$ENGINES/podman/containers.conf" <<EOF
# Written by scripts/setup-engines.sh for the tests' Podman.
[containers]
# Podman's defaults exceed this machine's hard limits (nofile 20000, nproc ~96000): containers could not start.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
# Test containers need no network (the main engine runs with --bridge=none); the host's keeps CNI out of it.
netns = "host"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$ENGINES/podman/events.log"
runtime = "runc"
tmp_dir = "$RUNTIME/podman-tmp"
[network]
network_backend = "cni"
EOF
  rm -f "$PODMAN_SOCK"
  CONTAINERS_CONF="$ENGINES/podman/containers.conf" setsid podman --root "$ENGINES/podman/storage" --runroot "$RUNTIME/podman" \
    system service --time=0 "unix://$PODMAN_SOCK" >"$ENGINES/podman/service.log" 2>&1 </dev/null 9>&- &
  echo $! >"$ENGINES/podman/service.pid"
  wait_until_answers $! "$ENGINES/podman/service.log" "${PODMAN[@]}"
  done_ "started at unix://$PODMAN_SOCK (Podman $(answers "${PODMAN[@]}"))"
fi

step "tls certificates"
if [ -f "$TLS_CERTS/client/key.pem" ] && [ -f "$TLS_CERTS/server/key.pem" ]; then
  done_ "present"
else
  rm -rf "$TLS_CERTS"
  mkdir -p "$TLS_CERTS/ca" "$TLS_CERTS/server" "$TLS_CERTS/client"
  (
    cd "$TLS_CERTS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=salt-containers test CA' -keyout ca/key.pem -out ca/ca.pem
    # sign NAME CN EXTENSIONS: a key and a certificate signed by the test CA.
    sign() {
      openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1/key.pem" -out "$1/req.csr"
      printf '%s\n' "$3" >"$1/ext.cnf"
      openssl x509 -req -in "$1/req.csr" -CA ca/ca.pem -CAkey ca/key.pem -CAcreateserial -days 3650 -extfile "$1/ext.cnf" -out "$1/cert.pem"
      cp ca/ca.pem "$1/ca.pem"
      rm "$1/req.csr" "$1/ext.cnf"
    }
    sign server 127.0.0.1 $'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'
    sign client salt-containers-test-client 'extendedKeyUsage=clientAuth'
  ) >"$ENGINES/tls/openssl.log" 2>&1 || { tail -20 "$ENGINES/tls/openssl.log" >&2; exit 1; }
  done_ "generated (CA, server for IP 127.0.0.1, client)"
fi

step "dockerd with tls"
if version=$(answers "${TLS[@]}"); then
  done_ "answers at tcp://127.0.0.1:$TLS_PORT (Docker $version)"
else
  TLS_PORT=$(own_port "$TLS_PORT") && save_ports
  TLS[2]="tcp://127.0.0.1:$TLS_PORT"
  pidfile="$ENGINES/tls/dockerd.pid"
  running_pid "$pidfile" dockerd >/dev/null || rm -f "$pidfile"
  echo '{}' >"$ENGINES/tls/daemon.json" # not the main engine's /etc/docker/daemon.json
  setsid dockerd --data-root "$ENGINES/tls/data" --exec-root "$RUNTIME/dockerd-tls" --pidfile "$pidfile" \
    --config-file "$ENGINES/tls/daemon.json" -H "tcp://127.0.0.1:$TLS_PORT" \
    --tlsverify --tlscacert "$TLS_CERTS/server/ca.pem" --tlscert "$TLS_CERTS/server/cert.pem" --tlskey "$TLS_CERTS/server/key.pem" \
    --iptables=false --bridge=none >"$ENGINES/tls/dockerd.log" 2>&1 </dev/null 9>&- &
  wait_until_answers $! "$ENGINES/tls/dockerd.log" "${TLS[@]}"
  done_ "started at tcp://127.0.0.1:$TLS_PORT (Docker $(answers "${TLS[@]}"))"
fi

SSH="$ENGINES/ssh"
SSH_HOME="$SSH/home" # what a client's HOME holds: .ssh/known_hosts naming the server, .ssh/id_ed25519
step "sshd for ssh://"
apt_install openssh-server
ssh_login() { timeout 10 ssh -o BatchMode=yes -o UserKnownHostsFile="$SSH_HOME/.ssh/known_hosts" -i "$SSH_HOME/.ssh/id_ed25519" -p "$SSH_PORT" "$(id -un)@127.0.0.1" true 2>/dev/null; }
# Only the ssh tests need it: when this user cannot log in (e.g. a locked account, which sshd refuses
# without PAM), the set-up says why and goes on, and those tests fail with that reason.
SSH_ERROR=
if ssh_login; then
  done_ "answers at 127.0.0.1:$SSH_PORT"
else
  SSH_PORT=$(own_port "$SSH_PORT") && save_ports
  [ -f "$SSH/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C salt-containers-test-host -f "$SSH/host_key"
  mkdir -p "$SSH_HOME/.ssh" /run/sshd
  [ -f "$SSH_HOME/.ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C salt-containers-test-client -f "$SSH_HOME/.ssh/id_ed25519"
  cp "$SSH_HOME/.ssh/id_ed25519.pub" "$SSH/authorized_keys"
  echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH/host_key.pub")" >"$SSH_HOME/.ssh/known_hosts"
  cat >"$SSH/sshd_config" <<EOF
# Written by scripts/setup-engines.sh: key logins on 127.0.0.1 only, for the tests' ssh:// engine.
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSH/host_key
AuthorizedKeysFile $SSH/authorized_keys
PidFile $SSH/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOF
  pidfile="$SSH/sshd.pid"
  if pid=$(running_pid "$pidfile" sshd); then kill "$pid" && sleep 0.5; fi
  : >"$SSH/sshd.log"
  if /usr/sbin/sshd -f "$SSH/sshd_config" -E "$SSH/sshd.log" 9>&- && ssh_login; then
    done_ "started at 127.0.0.1:$SSH_PORT (ssh://$(id -un)@127.0.0.1:$SSH_PORT reaches the main engine)"
  else
    SSH_ERROR="no ssh login as $(id -un) on 127.0.0.1:$SSH_PORT: $(tail -3 "$SSH/sshd.log" | tr -c '[:print:]' ' ' | tr '"\\' '  ')"
    done_ "not available: $SSH_ERROR"
  fi
fi

# load_images NAME ENGINE-ARGV...: the test images the engine lacks, or has in another version than the main engine's.
load_images() {
  local name=$1 image wanted loaded=()
  shift
  step "test images in $name"
  for image in "${IMAGES[@]}"; do
    wanted=$(docker image inspect --format '{{.Id}}' "$image")
    [ "$("$@" image inspect --format '{{.Id}}' "$image" 2>/dev/null)" = "$wanted" ] && continue
    docker save "$image" | "$@" load >>"$ENGINES/load.log" 2>&1 || { tail -5 "$ENGINES/load.log" >&2; exit 1; }
    loaded+=("${image#*:}")
  done
  if [ ${#loaded[@]} -eq 0 ]; then done_ "present"; else done_ "loaded ${loaded[*]}"; fi
}
load_images podman "${PODMAN[@]}"
load_images "dockerd with tls" "${TLS[@]}"

REGISTRY="$ENGINES/registry"
REGISTRY_BIN="$REGISTRY/bin/docker-registry"
REGISTRY_ADDRESS="127.0.0.1:$REGISTRY_PORT"
registry_answers() { curl -sf -m 5 -o /dev/null "http://$REGISTRY_ADDRESS/v2/"; }
# Any registry answers /v2/: ours is the process of our pidfile, serving our config.
registry_ours() {
  local pid
  pid=$(running_pid "$REGISTRY/registry.pid" docker-registry) && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$REGISTRY/config.yml" && registry_answers
}

step "image registry binary"
command -v curl >/dev/null || apt_install curl
if [ -x "$REGISTRY_BIN" ]; then
  done_ "present ($("$REGISTRY_BIN" --version | awk '{print $NF}'))"
else
  # Downloaded and unpacked, not installed: the package's postinst would start a registry on :5000 as a
  # system service. apt-get download uses the machine's package lists (updated once when it cannot find it).
  rm -rf "$REGISTRY/deb" && mkdir -p "$REGISTRY/deb" "$REGISTRY/bin"
  (cd "$REGISTRY/deb" && { apt-get download docker-registry || { apt-get update -qq && apt-get download docker-registry; }; }) >"$REGISTRY/download.log" 2>&1 \
    || { tail -5 "$REGISTRY/download.log" >&2; exit 1; }
  deb=$(echo "$REGISTRY"/deb/docker-registry_*.deb)
  dpkg-deb --fsys-tarfile "$deb" | tar -x -O ./usr/bin/docker-registry >"$REGISTRY_BIN.part"
  chmod 755 "$REGISTRY_BIN.part" && mv "$REGISTRY_BIN.part" "$REGISTRY_BIN"
  rm -rf "$REGISTRY/deb"
  done_ "unpacked from Debian's $(basename "$deb" .deb)"
fi

step "image registry"
if registry_ours; then
  done_ "answers at http://$REGISTRY_ADDRESS"
else
  REGISTRY_PORT=$(own_port "$REGISTRY_PORT") && save_ports
  REGISTRY_ADDRESS="127.0.0.1:$REGISTRY_PORT"
  cat >"$REGISTRY/config.yml" <<EOF
# Written by scripts/setup-engines.sh: the tests' registry, plain HTTP on 127.0.0.1 only.
version: 0.1
log:
  accesslog:
    disabled: true
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDRESS
EOF
  pidfile="$REGISTRY/registry.pid"
  if pid=$(running_pid "$pidfile" docker-registry); then kill "$pid" && sleep 0.5; fi
  setsid "$REGISTRY_BIN" serve "$REGISTRY/config.yml" >"$REGISTRY/registry.log" 2>&1 </dev/null 9>&- &
  echo $! >"$pidfile"
  for _ in $(seq 1 60); do
    registry_answers && break
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.25
  done
  registry_answers || { echo "the registry did not start; its log:" >&2; tail -20 "$REGISTRY/registry.log" >&2; exit 1; }
  done_ "started at http://$REGISTRY_ADDRESS"
fi

REGISTRY_IMAGE="$REGISTRY_ADDRESS/sc/py3:1"
# Podman checks TLS for every registry unless told: a registries.conf of our own (CONTAINERS_REGISTRIES_CONF
# names it for a Podman the tests start), never the machine's.
cat >"$REGISTRY/registries.conf" <<EOF
# Written by scripts/setup-engines.sh: the tests' registry speaks plain HTTP.
[[registry]]
location = "$REGISTRY_ADDRESS"
insecure = true
EOF

step "test image in the registry"
# The manifest names the image's config by digest, which is the image's ID: pushed again when the local image changed.
pushed=$(curl -sf -m 5 -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$REGISTRY_ADDRESS/v2/sc/py3/manifests/1" \
  | node -e 'let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => { try { console.log(JSON.parse(s).config.digest); } catch {} })' || true)
if [ -n "$pushed" ] && [ "$pushed" = "$(docker image inspect --format '{{.Id}}' salt-containers-test:py3)" ]; then
  done_ "present ($REGISTRY_IMAGE)"
else
  docker tag salt-containers-test:py3 "$REGISTRY_IMAGE"
  docker push "$REGISTRY_IMAGE" >"$REGISTRY/push.log" 2>&1 || { docker rmi "$REGISTRY_IMAGE" >/dev/null 2>&1; tail -5 "$REGISTRY/push.log" >&2; exit 1; }
  docker rmi "$REGISTRY_IMAGE" >/dev/null # the tests pull it: only the registry keeps that name
  done_ "pushed salt-containers-test:py3 as $REGISTRY_IMAGE"
fi
cat >"$REGISTRY/registry.json" <<EOF
{"address": "$REGISTRY_ADDRESS", "image": "$REGISTRY_IMAGE", "binary": "$REGISTRY_BIN", "storage": "$REGISTRY/data", "registriesConf": "$REGISTRY/registries.conf"}
EOF

SSH_ERROR_JSON=
[ -z "$SSH_ERROR" ] || SSH_ERROR_JSON=", \"error\": \"$SSH_ERROR\""
cat >"$ENGINES/engines.json" <<EOF
{"podman": {"host": "unix://$PODMAN_SOCK", "root": "$ENGINES/podman/storage", "runroot": "$RUNTIME/podman", "conf": "$ENGINES/podman/containers.conf"},
 "tls": {"host": "tcp://127.0.0.1:$TLS_PORT", "certPath": "$TLS_CERTS/client"},
 "ssh": {"host": "ssh://$(id -un)@127.0.0.1:$SSH_PORT", "home": "$SSH_HOME"$SSH_ERROR_JSON}}
EOF
