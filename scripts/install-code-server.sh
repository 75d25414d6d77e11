#!/usr/bin/env bash
# Installs code-server (the real VS Code workbench, served to a browser) into a cache folder outside the
# checkout, so that test/vscode/run.mjs can run the extension's tests in it. Idempotent: a finished install
# leaves a marker and a second run returns at once. Only the npm registry and Debian's apt are used: the
# release tarball from GitHub and every "download a prebuilt binary" install script are avoided.
#
# usage: scripts/install-code-server.sh [CACHE_DIR]
#   default CACHE_DIR: ${BATON_CACHE:-$HOME/.cache/baton-ci}/code-server-4.100.3
set -euo pipefail

VERSION=4.100.3 # later code-server releases need Node 22/24
DEST="${1:-${BATON_CACHE:-$HOME/.cache/baton-ci}/code-server-$VERSION}"
MARKER="$DEST/.baton-installed"
# Native modules are built for one Node ABI: a different Node needs a fresh install.
STAMP="code-server $VERSION node-abi $(node -p process.versions.modules)"
APT_PACKAGES=(ripgrep libkrb5-dev chromium)

log() { echo "[install-code-server] $*"; }

missing_apt_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
  done
}

install_apt_packages() {
  local missing
  mapfile -t missing < <(missing_apt_packages)
  [ "${#missing[@]}" -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root (or sudo) to apt-get install ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt-get (a parallel job, unattended upgrades) may hold the dpkg lock: wait for it.
  local apt=("${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=600)
  # A fresh machine may have empty or stale package lists: update once and retry.
  if ! "${apt[@]}" install -y "${missing[@]}"; then
    log 'apt-get update'
    "${apt[@]}" update
    "${apt[@]}" install -y "${missing[@]}"
  fi
}

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$STAMP" ]; then
  install_apt_packages # cheap when present; the cache may outlive the machine's apt state
  log "already installed in $DEST"
  exit 0
fi

# Two jobs installing into one cache at once would build into the same folder: one waits for the other.
mkdir -p "$(dirname "$DEST")"
exec 9>"$DEST.lock"
flock 9
if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$STAMP" ]; then
  log "installed meanwhile in $DEST"
  exit 0
fi

install_apt_packages
START=$SECONDS
# Build next to the destination and rename at the end, so an interrupted run never looks finished.
WORK="$DEST.partial"
if [ -e "$DEST" ] && [ ! -f "$MARKER" ]; then
  log "$DEST exists and is no code-server install of this script: remove it or pick another folder"
  exit 1
fi
rm -rf "$WORK" "$DEST"
mkdir -p "$WORK"
cd "$WORK"

log "npm pack code-server@$VERSION"
npm pack --silent "code-server@$VERSION" >/dev/null
tar -xzf "code-server-$VERSION.tgz"
rm "code-server-$VERSION.tgz"
cd package

# --ignore-scripts: their postinstalls download things (argon2 and ripgrep prebuilts); the native modules
# are compiled by the explicit rebuilds below instead.
log 'npm install (code-server)'
npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
log 'npm install (lib/vscode)'
(cd lib/vscode && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
log 'npm install (lib/vscode/extensions)'
(cd lib/vscode/extensions && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)

# @vscode/ripgrep's postinstall would download rg: Debian's rg serves the search instead.
mkdir -p lib/vscode/node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" lib/vscode/node_modules/@vscode/ripgrep/bin/rg

# Named, not a bare `npm rebuild`: that would also run @vscode/ripgrep's downloading postinstall.
NATIVE=(node-pty @vscode/spdlog kerberos native-watchdog @parcel/watcher)
log "npm rebuild (lib/vscode: ${NATIVE[*]})"
(cd lib/vscode && npm_config_yes=true npm rebuild "${NATIVE[@]}" --loglevel=error >/dev/null)

# The server loads node_modules.asar in a packaged build; the bin links are what the release tarball has.
ln -sfn node_modules lib/vscode/node_modules.asar
(cd lib/vscode/bin/remote-cli && ln -sf code-linux.sh code-server)
(cd lib/vscode/bin/helpers && ln -sf browser-linux.sh browser.sh)

# Named again: a bare `npm rebuild` here runs code-server's own postinstall.sh, which refuses root.
log 'npm rebuild (code-server: argon2 from source)'
npm_config_yes=true npm_config_build_from_source=true npm rebuild argon2 --loglevel=error >/dev/null

# Every native module must load now: a broken one would otherwise show up in the middle of a test run.
node -e "require('argon2')"
(cd lib/vscode && node -e 'for (const m of process.argv.slice(1)) require(m)' "${NATIVE[@]}")
node out/node/entry.js --version >/dev/null

echo "$STAMP" >"$WORK/package/.baton-installed"
mv "$WORK/package" "$DEST"
rm -rf "$WORK"
log "installed code-server $VERSION in $DEST ($((SECONDS - START)) s)"
