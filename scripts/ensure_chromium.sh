#!/usr/bin/env bash
# Browser tests use Debian's chromium (Playwright never downloads a browser here).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "chromium missing: run 'sudo apt-get install -y chromium'" >&2; exit 1; fi
echo "==> installing Debian's chromium"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
