#!/usr/bin/env bash
# Installs the system packages the test suite drives: Debian's Chromium (browser tests through Playwright; never
# `playwright install`), the PostgreSQL server binaries (throwaway clusters for the production-store tests) and a
# Java 17+ runtime (the Spark engine's tests: pyspark 4 runs on Java 17 or later).
set -euo pipefail
need=()
[ -x /usr/lib/chromium/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
  need+=(openjdk-17-jre-headless)
fi
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
echo "system-deps: chromium, postgresql and java $(java_major) present"
