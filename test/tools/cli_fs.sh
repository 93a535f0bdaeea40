#!/usr/bin/env bash
# edaos fs ...: copy a directory tree into a container and back out (byte for byte), ls / cat /
# stat, the per-directory class attribute, and the namespace checker with leaked objects.
#   cli_fs.sh <edaos> <golden-dir> <cli_helper> <mpiexec>
source "$(dirname "$0")/lib.sh"
HELPER=$1 MPIEXEC=$2
cd "$T"

run_ok "$EDAOS" pool create --engines 8 --targets 2 "$T/p"
run_ok "$EDAOS" container create --type=POSIX --chunk-size=1MiB \
  --properties=rd_fac:1,ec_cell_sz:65536,cksum:crc32,srv_cksum:on \
  --file-oclass=EC_2P1GX --dir-oclass=RP_2G1 "$T/p" c
U=daos://p/c

note "a tree: nested directories, an empty file, a 5 MiB file, symlinks, an empty directory"
mkdir -p tree/a/b/c tree/empty_dir
: >tree/a/empty
head -c 5242880 /dev/urandom >tree/a/b/big
printf 'hello\n' >tree/a/b/c/small
head -c 100000 /dev/urandom >tree/odd-size
ln -s b/c/small tree/a/link
ln -s /nonexistent/target tree/dangling
chmod 0640 tree/a/b/c/small
chmod 0644 tree/a/b/big

note "copy in, copy out, compare"
run_ok "$EDAOS" fs copy --src tree --dst $U/tree
grep -Eq "^Successfully copied to DAOS: $U/tree \(5 directories, 4 files, 2 links, 5.1 MiB in [0-9.]+ s\)$" \
  "$T/out" || { bad "copy-in summary"; cat "$T/out"; }
[ "$(wc -l <"$T/out")" -eq 1 ] || bad "copy-in prints more than one line without a terminal"
run_ok "$EDAOS" fs copy --src $U/tree --dst back
grep -Eq "^Successfully copied from DAOS: back \(5 directories, 4 files, 2 links" "$T/out" ||
  { bad "copy-out summary"; cat "$T/out"; }
diff -r --no-dereference tree back || bad "tree differs after the round trip"
cmp tree/a/b/big back/a/b/big || bad "5 MiB file differs"
[ "$(readlink back/a/link)" = b/c/small ] || bad "symlink target"
[ "$(readlink back/dangling)" = /nonexistent/target ] || bad "dangling symlink target"
[ -d back/empty_dir ] && [ -f back/a/empty ] && [ ! -s back/a/empty ] || bad "empty dir/file"
[ "$(stat -c %a back/a/b/c/small)" = 640 ] || bad "mode not kept"
note "into an existing directory (cp -r), a single file both ways"
mkdir existing
run_ok "$EDAOS" fs copy --src $U/tree/a --dst existing
diff -r --no-dereference tree/a existing/a || bad "copy into existing directory"
run_ok "$EDAOS" fs copy --src tree/odd-size --dst $U/single
run_ok "$EDAOS" fs copy --src $U/single --dst single.out
cmp tree/odd-size single.out || bad "single file round trip"
note "a tree copied again over its first copy: the small files (batched) are replaced"
run_ok "$EDAOS" container create --type=POSIX "$T/p" again
mkdir -p again/d
printf one >again/d/x
printf keep >again/y
run_ok "$EDAOS" fs copy --src again --dst daos://p/again
printf two >again/d/x
run_ok "$EDAOS" fs copy --src again --dst daos://p/again
run_ok "$EDAOS" fs cat daos://p/again/again/d/x
[ "$(cat "$T/out")" = two ] || bad "the second copy did not replace the file"
run_ok "$EDAOS" fs cat daos://p/again/again/y
[ "$(cat "$T/out")" = keep ] || bad "an unchanged file after the second copy"

note "ls, cat, stat"
run_ok "$EDAOS" fs ls $U/tree
golden fs_ls.txt
run_ok "$EDAOS" fs ls -l $U/tree/a
grep -Eq "^lrwxrwxrwx .* link -> b/c/small$" "$T/out" || bad "ls -l symlink"
run_ok "$EDAOS" fs cat $U/tree/a/link
[ "$(cat "$T/out")" = hello ] || bad "cat through a symlink"
run_ok "$EDAOS" fs cat "$T/p" c --dfs-path=/tree/a/b/big
cmp "$T/out" tree/a/b/big || bad "cat of the 5 MiB file"
run_ok "$EDAOS" fs stat $U/tree/a/b/big
golden fs_stat.txt
run_fail 1 "fs stat: /tree/nope: .*no such entry|fs stat: .*nope" "$EDAOS" fs stat $U/tree/nope
run_fail 1 "not a regular file" "$EDAOS" fs cat $U/tree

note "copy errors"
run_fail 2 "one of --src and --dst must be a daos://" "$EDAOS" fs copy --src tree --dst back2
run_fail 2 "--src and --dst are required" "$EDAOS" fs copy --src tree
run_fail 2 "names no container" "$EDAOS" fs copy --src tree --dst daos://p
run_fail 1 "no container 'nope' in pool p" "$EDAOS" fs copy --src tree --dst daos://p/nope/x
run_fail 1 "cannot read .*missing" "$EDAOS" fs copy --src missing --dst $U/x

note "set-attr / get-attr"
run_ok "$EDAOS" fs set-attr --path=$U/tree/empty_dir --oclass=EC_2P1G1 --chunk-size=2MiB
run_ok "$EDAOS" fs get-attr --path=$U/tree/empty_dir
golden fs_get_attr_dir.txt
run_ok "$EDAOS" fs copy --src tree/odd-size --dst $U/tree/empty_dir
run_ok "$EDAOS" fs get-attr --path=$U/tree/empty_dir/odd-size
golden fs_get_attr_file.txt
run_fail 2 "unknown object class 'EC_9P9'" "$EDAOS" fs set-attr --path=$U/tree --oclass=EC_9P9
run_fail 1 "needs 19 engines \(fault domains\), pool has 8" \
  "$EDAOS" fs set-attr --path=$U/tree --oclass=EC_16P3G1
run_fail 1 "not a directory" "$EDAOS" fs set-attr --path=$U/tree/a/b/big --oclass=EC_2P1G1
run_fail 2 "nothing to set" "$EDAOS" fs set-attr --path=$U/tree

note "check: clean, leaked, --remove, --relink"
run_ok "$EDAOS" fs check "$T/p" c
golden fs_check_clean.txt
oid=$("$HELPER" leak "$T/p" c 300000)
run_ok "$EDAOS" fs check "$T/p" c
grep -q "Number of leaked OIDs in namespace = 1$" "$T/out" || { bad "one leak"; cat "$T/out"; }
grep -q "leaked OID $oid (file, EC_2P1GX)" "$T/out" || bad "leaked OID listed"
run_ok "$EDAOS" fs check --remove "$T/p" c
grep -q "removed OID $oid" "$T/out" || bad "remove"
run_ok "$EDAOS" fs check "$T/p" c
grep -q "Number of leaked OIDs in namespace = 0$" "$T/out" || bad "leak left after --remove"
oid=$("$HELPER" leak "$T/p" c 300000)
run_ok "$EDAOS" fs check --flags=relink,evict "$T/p" c
grep -q "relinked OID $oid as /lost+found/$oid" "$T/out" || { bad "relink"; cat "$T/out"; }
run_ok "$EDAOS" fs cat $U/lost+found/$oid
[ "$(wc -c <"$T/out")" -eq 300000 ] || bad "relinked size"
[ "$(head -c 26 "$T/out")" = abcdefghijklmnopqrstuvwxyz ] || bad "relinked content"
run_ok "$EDAOS" fs stat $U/lost+found/$oid
grep -q "Object class: EC_2P1GX" "$T/out" || bad "relinked file keeps its object"
run_ok "$EDAOS" fs check "$T/p" c
grep -q "Number of leaked OIDs in namespace = 0$" "$T/out" || bad "leak left after --relink"
note "a leaked directory with a file below it: relinked with its subtree"
doid=$("$HELPER" leak-dir "$T/p" c lostdir)
run_ok "$EDAOS" fs check "$T/p" c
grep -q "Number of leaked OIDs in namespace = 2$" "$T/out" || { bad "two leaks"; cat "$T/out"; }
grep -q "leaked OID $doid (directory, RP_2G1)" "$T/out" || { bad "leaked directory listed"; cat "$T/out"; }
run_ok "$EDAOS" fs check --relink "$T/p" c
grep -q "relinked 1, reachable again 1, failed 0" "$T/out" || { bad "dir relink"; cat "$T/out"; }
run_ok "$EDAOS" fs cat $U/lost+found/$doid/f
[ "$(cat "$T/out")" = hello ] || bad "file below the relinked directory"
run_ok "$EDAOS" fs check "$T/p" c
grep -q "Number of leaked OIDs in namespace = 0$" "$T/out" || bad "leak left after dir relink"
doid=$("$HELPER" leak-dir "$T/p" c lostdir2)
run_ok "$EDAOS" fs check --remove "$T/p" c
grep -q "removed 2, reachable again 0, failed 0" "$T/out" || { bad "dir remove"; cat "$T/out"; }
run_ok "$EDAOS" fs check "$T/p" c
grep -q "Number of leaked OIDs in namespace = 0$" "$T/out" || bad "leak left after dir remove"
run_fail 2 "exclude each other" "$EDAOS" fs check --remove --relink "$T/p" c

note "rm: files, symbolic links, directories only with -r, never the root"
mkdir -p rmtree/d/e
printf keep >rmtree/keep
printf gone >rmtree/gone
printf deep >rmtree/d/e/f
ln -s keep rmtree/link
run_ok "$EDAOS" fs copy --src rmtree --dst $U/rmt
run_ok "$EDAOS" fs rm $U/rmt/gone
run_fail 1 "fs rm: .*gone" "$EDAOS" fs rm $U/rmt/gone
run_fail 1 "is a directory \(use -r\)" "$EDAOS" fs rm $U/rmt/d
run_ok "$EDAOS" fs rm $U/rmt/link
run_ok "$EDAOS" fs cat $U/rmt/keep
[ "$(cat "$T/out")" = keep ] || bad "rm of a symbolic link touched its target"
run_ok "$EDAOS" fs rm -r "$T/p" c --dfs-path=/rmt/d
run_ok "$EDAOS" fs ls $U/rmt
[ "$(cat "$T/out")" = keep ] || { bad "entries left after rm"; cat "$T/out"; }
run_fail 2 "refusing to remove the root" "$EDAOS" fs rm -r $U/
run_ok "$EDAOS" fs remove -r $U/rmt
run_fail 1 "fs stat: .*rmt" "$EDAOS" fs stat $U/rmt

note "progress bar on a terminal"
if command -v script >/dev/null; then
  script -qec "$EDAOS fs copy --src $T/tree --dst $U/tty" /dev/null >"$T/tty.out" 2>&1 || bad "tty copy"
  grep -q "\[=*" "$T/tty.out" && grep -q "100%" "$T/tty.out" || { bad "no progress bar"; cat "$T/tty.out"; }
else
  echo "script(1) not found: progress bar not checked"
fi

note "under mpiexec -n 2"
run_ok "$MPIEXEC" -n 2 "$EDAOS" fs copy --src $U/tree/a --dst out-mpi
diff -r --no-dereference tree/a out-mpi || bad "mpiexec -n 2 copy-out"
finish
