#!/usr/bin/env bash
# The multi-replica test and deploy/haproxy put Debian's HAProxy (2.6) in front of the replicas.
# Idempotent: does nothing when haproxy is already installed. Never starts the system service.
set -euo pipefail
if command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "haproxy missing: run 'sudo apt-get install -y haproxy'" >&2; exit 1; fi
echo "==> installing Debian's haproxy"
# The package's postinst would start the (empty) system service; a policy-rc.d that says
# "no" keeps it from starting where none exists already (containers usually ship one).
created_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
cleanup() { if [ -n "$created_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null
