#!/usr/bin/env bash
# Runs an MPI program with groups of ranks that report different host names, so code that
# depends on the node each rank runs on (cb_config_list, aggregator and server selection,
# placement across nodes) can be tested on one machine.
#
#   mpiexec-hosts.sh <mpiexec> HOSTSPEC <program> [args...]
#     HOSTSPEC  comma-separated name:count pairs, e.g. "nodeA:2,nodeB:2" (4 ranks)
#
# Each group starts in its own UTS namespace (unshare --uts) whose host name is set before the
# program runs, so gethostname() and MPI_Get_processor_name() return that name. Nothing in
# edaos knows about this: the MPI library still sees one machine and uses shared memory.
# Needs root or CAP_SYS_ADMIN (unshare); exits 77 (ctest SKIP) when namespaces are unavailable.
set -euo pipefail
mpiexec=$1 spec=$2
shift 2
if ! unshare --uts true 2>/dev/null; then
  echo "mpiexec-hosts.sh: cannot create UTS namespaces here (need root): skipping" >&2
  exit 77
fi
args=()
IFS=, read -r -a groups <<<"$spec"
for g in "${groups[@]}"; do
  name=${g%%:*} count=${g##*:}
  [ ${#args[@]} -gt 0 ] && args+=(:)
  args+=(-n "$count" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$name" "$@")
done
exec "$mpiexec" "${args[@]}"
