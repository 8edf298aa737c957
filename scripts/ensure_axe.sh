#!/usr/bin/env bash
# axe-core (the accessibility engine the browser tests run in chromium), from the npm registry into the
# git-ignored build/axe/; the version is pinned here. Prints the path of axe.min.js.
set -euo pipefail
AXE_CORE_VERSION=4.14.1
cd "$(dirname "$0")/.."
target=build/axe/node_modules/axe-core
if [ -f "$target/axe.min.js" ] && grep -q "\"version\": \"$AXE_CORE_VERSION\"" "$target/package.json"; then
  echo "$PWD/$target/axe.min.js"; exit 0
fi
command -v npm >/dev/null || { echo "npm missing: run 'sudo apt-get install -y npm'" >&2; exit 1; }
echo "==> installing axe-core $AXE_CORE_VERSION into build/axe" >&2
mkdir -p build/axe
npm install --prefix build/axe --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
  "axe-core@$AXE_CORE_VERSION" >&2
echo "$PWD/$target/axe.min.js"
