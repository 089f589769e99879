#!/usr/bin/env bash
# Installs what the browser tests need when it is missing: Debian's
# chromium and chromium-driver (never a browser download) and axe-core from
# npm (tests/browser/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "ensure-browser: $*" >&2; }
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  log "installing chromium and chromium-driver"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium chromium-driver >&2
fi
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  log "installing axe-core"
  npm ci --prefix tests/browser --no-audit --no-fund >&2
fi
