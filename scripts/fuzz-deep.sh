#!/usr/bin/env bash
# Runs each Jazzer fuzz target for a number of executions (the CI runs each only for the short time its @FuzzTest
# gives), one at a time under `nice`, and prints a table: executions reached, seconds, executions per second,
# coverage, and any finding (with the crash file Jazzer wrote).
#
#   scripts/fuzz-deep.sh [-n EXECUTIONS] [-t MAX_TIME] [--no-build] [TARGET...]
#
#   -n EXECUTIONS  executions per target (default 10000000); Jazzer's jazzer.max_executions (libFuzzer -runs)
#   -t MAX_TIME    a time limit per target as well, e.g. 30m or 2h (default 4h); jazzer.max_duration
#   --no-build     skip the `mvn install` of the modules (they must be built already)
#   TARGET         ring-device ring-driver framing backend e1000 nat (default: all, in that order)
#
# Both limits are Jazzer options that override the @FuzzTest annotation (a -Djazzer.* system property, which
# surefire passes to the test JVM, takes precedence over the annotation's maxDuration and maxExecutions); the
# target stops at whichever comes first. Extra Maven arguments come from $MAVEN_ARGS (e.g. -o, or
# -Dmaven.repo.local=...). Logs go to target/fuzz-deep/TARGET.log under the repository root.
set -euo pipefail
ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
. "$ROOT/scripts/jdk.sh"

EXECUTIONS=10000000
MAX_TIME=4h
BUILD=1
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) EXECUTIONS="$2"; shift 2 ;;
    -t) MAX_TIME="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz-deep: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(ring-device ring-driver framing backend e1000 nat)

# target -> module and surefire execution id (each execution names one @FuzzTest method)
module_of() {
  case "$1" in
    ring-device) echo "vring fuzz-device-side" ;;
    ring-driver) echo "vring fuzz-driver-side" ;;
    framing) echo "vhost-user fuzz-framing" ;;
    backend) echo "vhost-user fuzz-backend" ;;
    e1000) echo "e1000-emu fuzz-register-file-and-tx" ;;
    nat) echo "tap-backend fuzz-nat-frames" ;;
    *) echo "fuzz-deep: unknown target '$1' (targets: ring-device ring-driver framing backend e1000 nat)" >&2; exit 2 ;;
  esac
}
MODULES=()
for target in "${TARGETS[@]}"; do
  read -r module _ <<<"$(module_of "$target")"
  MODULES+=("$module")
done

cd "$ROOT"
# shellcheck disable=SC2086
if [ "$BUILD" = 1 ]; then
  echo "fuzz-deep: building ${MODULES[*]} ..." >&2
  mvn -B -ntp -q ${MAVEN_ARGS:-} -pl "$(IFS=,; echo "${MODULES[*]}")" -am install -DskipTests \
      -Dvioplane.fuzz.skip=true >&2
fi
mkdir -p target/fuzz-deep
SUMMARY=()
STATUS=0
for target in "${TARGETS[@]}"; do
  read -r module execution <<<"$(module_of "$target")"
  log="target/fuzz-deep/$target.log"
  echo "fuzz-deep: $target ($module, $execution): up to $EXECUTIONS executions or $MAX_TIME ..." >&2
  start=$(date +%s)
  set +e
  # shellcheck disable=SC2086
  nice -n 10 mvn -B -ntp ${MAVEN_ARGS:-} -pl "$module" "surefire:test@$execution" \
      -Djazzer.max_executions="$EXECUTIONS" -Djazzer.max_duration="$MAX_TIME" >"$log" 2>&1
  rc=$?
  set -e
  seconds=$(( $(date +%s) - start ))
  done_line=$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1 || true)
  last_stat=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  runs=$(sed -E 's/^Done ([0-9]+) runs.*/\1/' <<<"$done_line")
  fuzz_seconds=$(sed -E 's/.* in ([0-9]+) second.*/\1/' <<<"$done_line")
  [ -z "$runs" ] && runs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last_stat")
  coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$last_stat" || true)
  rate="?"
  if [ -n "$runs" ] && [ -n "$fuzz_seconds" ] && [ "$fuzz_seconds" -gt 0 ]; then
    rate=$(( runs / fuzz_seconds ))
  else
    rate=$(grep -oE 'exec/s: [0-9]+' <<<"$last_stat" | sed 's/exec\/s: //' || true)
  fi
  crash=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | sed 's/Test unit written to //' || true)
  cause=$(grep -m1 -E '^Caused by: ' "$log" | cut -c1-160 || true)
  if [ $rc -eq 0 ]; then
    outcome="no finding"
  elif [ -z "$crash" ] && [ -z "$cause" ]; then
    STATUS=1
    outcome="stopped before its limit (exit $rc), no finding; the count is the last one libFuzzer printed"
  else
    STATUS=1
    outcome="FINDING: ${cause:-see $log} ${crash:+(input: $crash)}"
  fi
  SUMMARY+=("$(printf '%-12s %12s runs %7s s fuzzing (%5s s wall) %8s exec/s  %-22s %s' "$target" "${runs:-?}" \
      "${fuzz_seconds:-?}" "$seconds" "$rate" "${coverage:-}" "$outcome")")
done
echo
echo "fuzz-deep: $(date -u +%FT%TZ), up to $EXECUTIONS executions or $MAX_TIME per target (logs in target/fuzz-deep/)"
printf '%s\n' "${SUMMARY[@]}"
exit $STATUS
