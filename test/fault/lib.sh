# Shared helpers of the fault drills (sourced after setting $EDAOS, the tool). On top of the
# tool tests' helpers (test/tools/lib.sh: $T a fresh temp directory removed at exit, note, bad,
# run_ok, run_fail with exactly one stderr line, finish) each script gets:
#   - $T as the current directory, hence the pool home (bare pool names resolve in it), with
#     EDAOS_POOL / DAOS_POOL / DAOS_CONT / DAOS_CONTAINER / the fault hooks unset;
#   check COND MSG   records a failure unless COND (a shell test, evaluated) holds
#   same A B         files A and B must be byte-identical
#   map_state POOL   "version=N disabled=..." of `edaos pool query`
source "$(dirname "${BASH_SOURCE[0]}")/../tools/lib.sh" "${EDAOS:-edaos}" ""
unset EDAOS_POOL DAOS_POOL DAOS_CONT DAOS_CONTAINER EDAOS_CONT EDAOS_ENGINES_DOWN \
  EDAOS_FAULT_ENGINE_OPEN EDAOS_FAULT_CONT_DESTROY || true
cd "$T"

check() { if ! eval "$1"; then bad "$2"; fi; }

same() { if ! cmp -s "$1" "$2"; then bad "$1 and $2 differ"; fi; }

map_state() {
  "$EDAOS" pool query "$1" 2>&1 | sed -n -e 's/.*\(version=[0-9]*\).*/\1/p' \
    -e 's/^- Disabled ranks: \(.*\)/disabled=\1/p' | tr '\n' ' '
}
