#!/usr/bin/env bash
# Install the pinned Codex CLI (package-lock.json next to this script) into
# .cache/codex/ at the repository root. The tests call this through their fixture; run it
# by hand to warm the cache. Needs node and npm (scripts/apt-packages.txt) and the npm registry.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:-$here/../../../.cache/codex}"
mkdir -p "$target"
cp "$here/package.json" "$here/package-lock.json" "$target/"
cd "$target"
npm ci --no-audit --no-fund --loglevel=error
"$target/node_modules/.bin/codex" --version
