#!/usr/bin/env bash
# One-run comparison of edaos against the MPI library's own MPI-IO on a local file system.
#
#   benchmarks/compare.sh [--quick|--full] [--build DIR] [--out DIR] [--ranks "2 4"]
#                         [--classes "S1 RP_2G1 ..."] [--dfs-classes "S1 ..."]
#                         [--patterns "easy-ssf easy-fpp hard coll-hard"] [--iters N]
#                         [--deg-classes "RP_2G1 EC_2P1G1 EC_4P2G1 EC_16P3G1"] [--no-drop-caches]
#                         [--transports "ucx mpi ofi"]
#
# Same edaos-ior patterns, same run, same machine, against
#   (a) baseline: MPI_File_* on a ufs: file (MPICH's ROMIO; the object store not started),
#   (b) edaos:    MPI_File_* on daos: files through libedaos_mpio, one container per object
#                 class (S1 RP_2G1 EC_2P1G1 EC_4P2G1 EC_16P3G1) in one pool of 20 engines
#                 (EC_16P3 needs 19), the seed's container properties (2 MiB chunks, 128 KiB EC
#                 cells, crc32 checksums verified by the servers; rd_fac 0 so S1 is allowed),
# at each rank count, for the patterns
#   easy-ssf   IOR-easy, shared file:        -t 1m -b <easy block>
#   easy-fpp   IOR-easy, file per process:   -F -t 1m -b <easy block>
#   hard       IOR-hard, interleaved:        -t 47008 -b 47008 -s <hard segments>
#   coll-hard  IOR-hard, collective, with ROMIO_HINTS = the seed's hints file
#              (benchmarks/hints/romio-hints-aurora.txt)
# and, to tell the MPI-IO driver's cost from the store's, the non-collective patterns through
# the native namespace (-a DFS) for --dfs-classes (targets "dfs-<class>").
# --transports: the edaos rows run once per transport named (EDAOS_TRANSPORT=<t>; targets
# "<class>@<t>", "dfs-<class>@<t>": one column per class and transport in the tables; the
# baseline once), and the idle-CPU check once per transport. Without it: EDAOS_TRANSPORT as set
# (default auto), targets named by class alone.
# Each pattern is written N times in one job (-w -e -i N: synced, so the write figure includes
# the disk; the figure is the mean of the N iterations, IOR's "Mean"; the first iteration also
# pays the job's first pool connection; N = 3 in --full, 1 in --quick), caches are dropped
# (echo 3 > /proc/sys/vm/drop_caches, when permitted; said otherwise), then read once by another
# rank (-r -C, every byte verified, verification not timed).
# Then: metadata rates (edaos-mdtest: create/stat/read/remove, DFS vs the local file system),
# degraded reads (EC_2P1 / EC_4P2 / EC_16P3 / RP_2 on pools of exactly k+p engines, p
# engines marked down with EDAOS_ENGINES_DOWN, against the same file read healthy) and the
# CPU an idle server costs (edaos-ior --idle, from /proc/self/stat).
# Output: a ratio table (edaos / baseline, per pattern, operation and rank count) on stdout,
# and in --out: results.tsv, ratios.tsv, degraded.tsv, idle.txt, ratios.png, json/, logs/.
# Exit status: 0 when every run succeeded and every byte read was verified, else 1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mode=full
build=${EDAOS_BUILD_DIR:-$here/../build}
out=""
ranks=""
classes=""
dfs_classes="-"
deg_classes="-"
patterns="easy-ssf easy-fpp hard coll-hard"
drop=yes
iters=""
transports=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    --ranks) ranks=$2; shift ;;
    --classes) classes=$2; shift ;;
    --dfs-classes) dfs_classes=$2; shift ;;
    --deg-classes) deg_classes=$2; shift ;;
    --patterns) patterns=$2; shift ;;
    --iters) iters=$2; shift ;;
    --no-drop-caches) drop=no ;;
    --transports) transports=$2; shift ;;
    -h|--help) sed -n '2,39p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [ "$mode" = quick ]; then
  easy_block=1m; hard_segs=6; idle_s=2; md_items=10
  : "${iters:=1}"
  : "${ranks:=2}"
  : "${classes:=S1 EC_4P2G1}"
  [ "$deg_classes" = - ] && deg_classes="EC_4P2G1"
  [ "$dfs_classes" = - ] && dfs_classes="S1"
else
  easy_block=16m; hard_segs=150; idle_s=10; md_items=200
  : "${iters:=3}"
  : "${ranks:=2 4}"
  : "${classes:=S1 RP_2G1 EC_2P1G1 EC_4P2G1 EC_16P3G1}"
  [ "$deg_classes" = - ] && deg_classes="RP_2G1 EC_2P1G1 EC_4P2G1 EC_16P3G1"
  [ "$dfs_classes" = - ] && dfs_classes="S1 EC_4P2G1 EC_16P3G1"
fi

build=$(cd "$build" && pwd)
ior=$build/benchmarks/ior/edaos-ior
tool=$build/objstore/tools/edaos
for f in "$ior" "$tool"; do
  [ -x "$f" ] || { echo "compare.sh: $f not built (cmake --build $build)" >&2; exit 2; }
done
mpiexec=${MPIEXEC:-mpiexec}
: "${out:=$PWD/compare-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out/json" "$out/logs" "$out/ufs"
out=$(cd "$out" && pwd)
hints=$here/hints/romio-hints-aurora.txt
# Oversubscribed MPICH ranks yield the core while they wait (as the tests run).
export MPIR_CVAR_POLLS_BEFORE_YIELD=${MPIR_CVAR_POLLS_BEFORE_YIELD:-10}
export EDAOS_LOG=${EDAOS_LOG:-warn}
unset ROMIO_HINTS DAOS_POOL DAOS_CONT EDAOS_POOL EDAOS_ENGINES_DOWN HDF5_VOL_CONNECTOR

failures=0
t_start=$(date +%s)
log() { printf '[compare] %s\n' "$*"; }

cache_note="caches dropped before every read phase"
drop_caches() {
  sync
  if [ "$drop" = yes ] && { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
    return 0
  fi
  cache_note="caches NOT dropped (no permission to write /proc/sys/vm/drop_caches, or --no-drop-caches): reads may come from the page cache"
}

# run <tag> <np> <env...> -- <edaos-ior args>: one mpiexec; JSON to json/<tag>.json.
run() {
  local tag=$1 np=$2
  shift 2
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  if ! env "${envs[@]}" "$mpiexec" -n "$np" "$ior" "$@" -q -J "$out/json/$tag.json" \
      >"$out/logs/$tag.log" 2>&1; then
    log "FAILED: $tag (log: $out/logs/$tag.log)"
    tail -n 5 "$out/logs/$tag.log" | sed 's/^/    /'
    failures=$((failures + 1))
    rm -f "$out/json/$tag.json"
  fi
}

pattern_args() {
  case "$1" in
    easy-ssf) echo "-t 1m -b $easy_block" ;;
    easy-fpp) echo "-F -t 1m -b $easy_block" ;;
    hard) echo "-t 47008 -b 47008 -s $hard_segs" ;;
    coll-hard) echo "-c -t 47008 -b 47008 -s $hard_segs" ;;
  esac
}

# write, drop caches, read back (another rank's data) with every byte verified.
write_read() {  # <target> <pattern> <np> <file> <api> <env...>
  local target=$1 pat=$2 np=$3 file=$4 api=$5
  shift 5
  local pa extra=()
  pa=$(pattern_args "$pat")
  [ "$pat" = coll-hard ] && extra=(ROMIO_HINTS="$hints")
  # shellcheck disable=SC2086
  run "$target.$pat.np$np.write" "$np" "$@" "${extra[@]}" -- -a "$api" $pa -o "$file" -w -e -k -i "$iters"
  drop_caches
  # shellcheck disable=SC2086
  run "$target.$pat.np$np.read" "$np" "$@" "${extra[@]}" -- -a "$api" $pa -o "$file" -r -R -C --verify-iter $((iters - 1))
}

# ---- pools ----------------------------------------------------------------------------------
log "mode $mode, ranks: $ranks, classes: $classes, output: $out"
log "load before: $(uptime)"
pool=$out/pool
rm -rf "$pool"
"$tool" pool create --engines=20 --targets=1 "$pool" >"$out/logs/pool-create.log" 2>&1
props="ec_cell_sz:131072,cksum:crc32,srv_cksum:on"
skipped=()
usable=()
for c in $classes; do
  if "$tool" container create --type=POSIX --chunk-size=2097152 --properties="$props" \
      --file-oclass="$c" "$pool" "c_$c" >>"$out/logs/pool-create.log" 2>&1; then
    usable+=("$c")
  else
    skipped+=("$c: $(tail -n 1 "$out/logs/pool-create.log")")
  fi
done

# ---- the comparison -------------------------------------------------------------------------
# One pass of the edaos rows per transport ("": EDAOS_TRANSPORT as the caller set it).
read -r -a tr_list <<<"$transports"
[ "${#tr_list[@]}" -gt 0 ] || tr_list=("")
for np in $ranks; do
  for pat in $patterns; do
    log "np $np, $pat: baseline"
    rm -f "$out"/ufs/*
    write_read baseline "$pat" "$np" "ufs:$out/ufs/ior.$pat" MPIIO EDAOS_AUTOSTART=0
    rm -f "$out"/ufs/*
    for tr in "${tr_list[@]}"; do
      sfx=${tr:+@$tr}
      for c in "${usable[@]}"; do
        log "np $np, $pat: edaos $c$sfx"
        write_read "$c$sfx" "$pat" "$np" "daos:/ior.$pat.np$np$tr" MPIIO EDAOS_POOL="$pool" \
          DAOS_CONT="c_$c" ${tr:+EDAOS_TRANSPORT=$tr}
      done
      [ "$pat" = coll-hard ] && continue
      for c in $dfs_classes; do
        [[ " ${usable[*]} " == *" $c "* ]] || continue
        log "np $np, $pat: edaos $c$sfx through DFS"
        write_read "dfs-$c$sfx" "$pat" "$np" "daos:/dfs.$pat.np$np$tr" DFS EDAOS_POOL="$pool" \
          DAOS_CONT="c_$c" ${tr:+EDAOS_TRANSPORT=$tr}
      done
    done
  done
done

# ---- degraded reads ----------------------------------------------------------------------------
np_deg=$(echo "$ranks" | awk '{print $NF}')
: >"$out/degraded.tsv"
for c in $deg_classes; do
  # n = k+p engines (every engine holds a shard of the file), p of them down; rd_fac p so the
  # namespace's own objects (superblock, directories) survive too.
  case "$c" in
    RP_2G1) n=2; p=1 ;;
    EC_2P1G1) n=3; p=1 ;;
    EC_4P2G1) n=6; p=2 ;;
    EC_16P3G1) n=19; p=3 ;;
    *) continue ;;
  esac
  dp=$out/pool-deg-$c
  rm -rf "$dp"
  if ! { "$tool" pool create --engines="$n" --targets=1 "$dp" &&
         "$tool" container create --type=POSIX --chunk-size=2097152 \
           --properties="rd_fac:$p,$props" --file-oclass="$c" "$dp" deg; } \
       >>"$out/logs/pool-create.log" 2>&1; then
    skipped+=("degraded $c: pool of $n engines could not be made")
    continue
  fi
  pa=$(pattern_args easy-ssf)
  # shellcheck disable=SC2086
  run "deg.$c.write" "$np_deg" EDAOS_POOL="$dp" DAOS_CONT=deg -- -a MPIIO $pa -o daos:/deg -w -e -k
  drop_caches
  # shellcheck disable=SC2086
  run "deg.$c.healthy" "$np_deg" EDAOS_POOL="$dp" DAOS_CONT=deg -- -a MPIIO $pa -o daos:/deg -r -R -C
  # Engines 0..p-1 may hold only parity of this file (placement is per object): try the next
  # p engines until the store's counters show reconstructions (EC). RP: the first set.
  for ((first = 0; first + p <= n; first += p)); do
    down=$(seq -s, "$first" $((first + p - 1)))
    log "degraded: $c on $n engines, engines $down down, np $np_deg"
    drop_caches
    # shellcheck disable=SC2086
    run "deg.$c.degraded" "$np_deg" EDAOS_POOL="$dp" DAOS_CONT=deg EDAOS_ENGINES_DOWN="$down" -- \
      -a MPIIO $pa -o daos:/deg -r -R -C
    [[ "$c" == EC_* ]] || break
    grep -q '"degradedReads":0[,}]' "$out/json/deg.$c.degraded.json" 2>/dev/null || break
  done
  printf '%s\t%s\t%s\n' "$c" "$n" "$down" >>"$out/degraded.tsv"
  rm -rf "$dp"
done

# ---- metadata rates (edaos-mdtest) -------------------------------------------------------------
mdtest=$build/benchmarks/ior/edaos-mdtest
if [ -x "$mdtest" ] && [ "$md_items" -gt 0 ]; then
  np_md=$(echo "$ranks" | awk '{print $NF}')
  log "metadata: edaos-mdtest -n $md_items per rank, np $np_md, POSIX on the local file system vs DFS"
  md_args=(-n "$md_items" -w 3901 -e 3901 -u -N 1)
  rm -rf "$out/ufs/md"
  EDAOS_AUTOSTART=0 "$mpiexec" -n "$np_md" "$mdtest" -a POSIX -d "$out/ufs/md" "${md_args[@]}" \
    -J "$out/json/md.posix.json" >"$out/logs/md.posix.log" 2>&1 || failures=$((failures + 1))
  EDAOS_POOL=$pool DAOS_CONT=c_md "$mpiexec" -n "$np_md" "$mdtest" -a DFS -d daos:/md "${md_args[@]}" \
    -J "$out/json/md.dfs.json" >"$out/logs/md.dfs.log" 2>&1 || failures=$((failures + 1))
  rm -rf "$out/ufs/md"
fi

# ---- idle server CPU ---------------------------------------------------------------------------
log "idle CPU: ${idle_s} s with and without the object store"
{
  echo "# edaos-ior --idle $idle_s at 2 ranks: CPU per rank while the application sleeps"
  for tr in "${tr_list[@]}"; do
    echo "## object store running${tr:+ (EDAOS_TRANSPORT=$tr)}, pool of 20 engines connected (-a DFS):"
    env ${tr:+EDAOS_TRANSPORT=$tr} EDAOS_POOL="$pool" DAOS_CONT=c_idle "$mpiexec" -n 2 "$ior" -a DFS \
      -o "daos:/idle$tr" --idle "$idle_s" -J "$out/json/idle.store$tr.json" 2>&1
  done
  echo "## object store not started (EDAOS_AUTOSTART=0, -a POSIX):"
  EDAOS_AUTOSTART=0 "$mpiexec" -n 2 "$ior" -a POSIX -o "$out/ufs/idle" --idle "$idle_s" \
    -J "$out/json/idle.none.json" 2>&1
} >"$out/idle.txt" || failures=$((failures + 1))

# ---- report ------------------------------------------------------------------------------------
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "machine: $(nproc) cores, $(uname -sr), $(mpichversion 2>/dev/null | head -n 1 | tr -s ' ')"
  echo "load after: $(uptime)"
  echo "$cache_note"
  [ -n "$transports" ] && echo "transports: $transports (edaos targets <class>@<transport>)"
  echo "sizes: easy block $easy_block per rank (1 MiB transfers); hard $hard_segs segments of 47008 bytes per rank; writes: mean of $iters iterations, reads: one cold pass"
  for s in "${skipped[@]}"; do echo "skipped: $s"; done
  echo "runs failed: $failures; elapsed $(( $(date +%s) - t_start )) s"
} >"$out/meta.txt"
python3 "$here/compare_report.py" "$out" || failures=$((failures + 1))
if command -v gnuplot >/dev/null 2>&1 && [ -s "$out/plot.dat" ]; then
  # pngcairo first; gnuplot builds without cairo have the libgd png terminal.
  gnuplot "$out/plot.gp" >"$out/logs/gnuplot.log" 2>&1 ||
    { sed -i 's/^set terminal pngcairo /set terminal png /' "$out/plot.gp" &&
      gnuplot "$out/plot.gp" >>"$out/logs/gnuplot.log" 2>&1; } ||
    log "gnuplot failed (see logs/gnuplot.log)"
  [ -s "$out/ratios.png" ] && log "plot: $out/ratios.png"
else
  log "no plot: gnuplot not installed (scripts/install-deps.sh installs gnuplot-nox)"
fi
cat "$out/meta.txt"
[ "$failures" -eq 0 ]
