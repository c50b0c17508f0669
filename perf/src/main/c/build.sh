#!/usr/bin/env bash
# Builds the C reference VMM of the exit-loop benchmark (minivmm.c) into OUTDIR/minivmm. Without gcc it says so
# and builds nothing (ExitLoopComparison then refuses to run, naming the missing file).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${1:?usage: build.sh OUTDIR}"
CC="${CC:-gcc}"
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "minivmm: SKIPPED: $CC not found (install gcc: scripts/install-test-peers.sh)" >&2
  exit 0
fi
mkdir -p "$OUT"
"$CC" -std=gnu11 -O2 -Wall -Wextra -Werror -pthread -o "$OUT/minivmm" "$HERE/minivmm.c"
echo "minivmm: built $OUT/minivmm" >&2
