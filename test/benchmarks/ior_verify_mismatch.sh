#!/usr/bin/env bash
# Proves that edaos-ior's verification sees wrong data (and only wrong data):
#   1. POSIX: write a shared file (-k), read it back verified: passes; flip ONE byte in the
#      file: the read reports exactly 1 byte differing and exits 1.
#   2. DFS: write with signature -G 1: reading with -G 2 (another seed) or --verify-iter 1
#      (another iteration tag) reports every byte as differing and exits 1; -G 1 passes.
#   ior_verify_mismatch.sh <mpiexec> <edaos-ior> <work dir>   (EDAOS_POOL set by ctest)
set -uo pipefail
mpiexec=$1 ior=$2 dir=$3
mkdir -p "$dir"
f=$dir/verify.dat
rm -f "$f"
fail() { echo "FAIL: $*"; exit 1; }
sz=(-b 64k -t 16k -s 2)

"$mpiexec" -n 2 "$ior" -a POSIX -o "$f" "${sz[@]}" -w -k -q >/dev/null || fail "POSIX write"
"$mpiexec" -n 2 "$ior" -a POSIX -o "$f" "${sz[@]}" -r -R -C -q >"$dir/ok.log" 2>&1 ||
  fail "clean POSIX read reported errors: $(cat "$dir/ok.log")"
# Flip one byte in rank 1's second block (offset 3*64 KiB + 777).
off=$((3 * 65536 + 777))
b=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
# shellcheck disable=SC2059  # the format is the octal escape of the new byte
printf "$(printf '\\%03o' $(( (b ^ 0x5a) & 255 )))" |
  dd of="$f" bs=1 seek="$off" conv=notrunc status=none
"$mpiexec" -n 2 "$ior" -a POSIX -o "$f" "${sz[@]}" -r -R -q >"$dir/flip.log" 2>&1
rc=$?
cat "$dir/flip.log"
[ $rc -ne 0 ] || fail "a flipped byte was not detected (exit 0)"
grep -q "Verification: FAILED (1 bytes differ)" "$dir/flip.log" || fail "expected exactly 1 byte to differ"
grep -q "offset $off:" "$dir/flip.log" || fail "the mismatch report does not name offset $off"

"$mpiexec" -n 2 "$ior" -a DFS -o daos:/verify "${sz[@]}" -w -k -G 1 -q >/dev/null || fail "DFS write"
"$mpiexec" -n 2 "$ior" -a DFS -o daos:/verify "${sz[@]}" -r -R -G 1 -q >/dev/null 2>&1 ||
  fail "DFS read with the right signature reported errors"
"$mpiexec" -n 2 "$ior" -a DFS -o daos:/verify "${sz[@]}" -r -R -G 2 -q >"$dir/seed.log" 2>&1
rc=$?
[ $rc -ne 0 ] || fail "reading with another signature was not detected"
grep -q "Verification: FAILED (262144 bytes differ)" "$dir/seed.log" || fail "expected all 262144 bytes to differ: $(cat "$dir/seed.log")"
"$mpiexec" -n 2 "$ior" -a DFS -o daos:/verify "${sz[@]}" -r -R -G 1 --verify-iter 1 -q >"$dir/iter.log" 2>&1
rc=$?
[ $rc -ne 0 ] || fail "reading with another iteration tag was not detected"
grep -q "Verification: FAILED" "$dir/iter.log" || fail "no verification failure reported for another iteration tag"
echo "PASS: one flipped byte, another seed and another iteration tag are all reported"
