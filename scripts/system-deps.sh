#!/usr/bin/env bash
# Installs the system packages the test suite drives: Debian's Chromium (browser tests through Playwright; never
# `playwright install`) and the PostgreSQL server binaries (throwaway clusters for the production-store tests).
set -euo pipefail
need=()
[ -x /usr/lib/chromium/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: need root to install: ${need[*]}" >&2
    exit 1
  fi
  echo "system-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
echo "system-deps: chromium and postgresql present"
