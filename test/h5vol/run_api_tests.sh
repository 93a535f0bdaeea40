#!/bin/bash
# Runs one of HDF5's VOL API test programs against the edaos connector, counts PASSED /
# *FAILED* / -SKIP- per area, writes a report, and fails only when an area has more failures
# than documented in the known-failures file (or when the program dies before its summary).
#   run_api_tests.sh <mpiexec> <np> <h5_api_test binary> <plugin dir> <known-failures file> <report>
#                    [<libraries to preload in the ranks, ':'-separated>]
# The parallel suite needs the store started at MPI_Init (libedaos_init preloaded): rank 0
# alone creates the suite's first file, so the connector cannot start it collectively then.
# A run longer than $EDAOS_API_TEST_LIMIT seconds (default 240) is killed and reported.
set -u
MPIEXEC=$1 NP=$2 BIN=$3 PLUGIN_DIR=$4 KNOWN=$5 REPORT=$6 PRELOAD=${7:-}
LIMIT=${EDAOS_API_TEST_LIMIT:-240}
[ -x "$BIN" ] || { echo "SKIP: $BIN not built (run scripts/install-deps.sh)"; exit 77; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edaos-h5api-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
LOG=$WORK/out.log
genv=()
[ -n "$PRELOAD" ] && genv=(-genv LD_PRELOAD "$PRELOAD")
EDAOS_POOL=$WORK/pool HDF5_VOL_CONNECTOR=edaos HDF5_PLUGIN_PATH=$PLUGIN_DIR \
  timeout -k 10 "$LIMIT" "$MPIEXEC" "${genv[@]}" -n "$NP" "$BIN" >"$LOG" 2>&1
rc=$?
[ $rc -eq 124 ] && echo "FAIL: $(basename "$BIN") at $NP ranks still running after $LIMIT s: killed"
suite=$(basename "$BIN").np$NP
awk -v suite="$suite" '
  /^\*[ ]+API .* Tests[ ]+\*$/ { a=$0; sub(/^\*[ ]+API /,"",a); sub(/ Tests[ ]+\*$/,"",a); gsub(/ /,"_",a); area=a; next }
  area=="" { next }
  /PASSED[ ]*$/  { p[area]++ }
  /\*FAILED\*/   { f[area]++ }
  /-SKIP-[ ]*$/  { s[area]++ }
  { if (!(area in seen)) { seen[area]=1; order[n++]=area } }
  END { for (i=0;i<n;i++) { x=order[i]; printf "%s %s pass=%d fail=%d skip=%d\n", suite, x, p[x], f[x], s[x] } }
' "$LOG" >"$REPORT"
grep -E "API tests (passed|did not pass|were skipped)" "$LOG" | sed "s/^/$suite summary: /" >>"$REPORT"
cat "$REPORT"
if ! grep -q "API tests passed" "$LOG"; then
  echo "FAIL: $BIN did not reach its summary (exit code $rc); last lines:"
  tail -n 40 "$LOG"
  exit 1
fi
bad=0
# Sanitizer builds: the connector's reports (the HDF5 programs themselves are not instrumented).
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$LOG"; then
  echo "FAIL: sanitizer report:"
  grep -E -A30 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$LOG" | head -n 120
  bad=1
fi
while read -r s area pass fail skip; do
  n=${fail#fail=}
  case "$n" in ''|*[!0-9]*) echo "FAIL: cannot parse report line: $s $area $pass $fail $skip"; bad=1; continue ;; esac
  allowed=$(awk -v s="$suite" -v a="$area" '$1==s && $2==a {print $3}' "$KNOWN")
  allowed=${allowed:-0}
  if [ "$n" -gt "$allowed" ]; then
    echo "FAIL: $suite area $area: $n failures, $allowed documented in $(basename "$KNOWN")"
    grep -B1 -A2 "\*FAILED\*" "$LOG" | head -n 80
    bad=1
  fi
done < <(grep -v summary "$REPORT")
exit $bad
