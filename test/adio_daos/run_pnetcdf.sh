#!/bin/sh
# run_pnetcdf.sh MPIEXEC NP APP: PnetCDF writes the same dataset to a daos: file (both name
# forms) and to a plain file; each is read back and verified through PnetCDF (ncmpi_open peeks
# at a daos: file through libedaos_mpio's POSIX view), the daos: and plain files are compared
# byte for byte through MPI-IO, and opening a missing daos: file says NC_ENOENT. Then PnetCDF's
# create modes on the existing files: NC_NOCLOBBER says NC_EEXIST and leaves them alone,
# NC_CLOBBER with a smaller dataset leaves exactly the new dataset (same bytes on both).
# Last, the program removes each file by the name with its prefix stripped (as PnetCDF's own
# tests do): the daos: files go, the next ncmpi_open says NC_ENOENT.
set -e
mpiexec=$1; np=$2; app=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-pnc-XXXXXX")
trap 'rm -rf "$dir"' EXIT
env="-genv DAOS_POOL $dir/pool -genv DAOS_CONT pnc"
"$mpiexec" -n "$np" $env "$app" write daos:/out.nc
"$mpiexec" -n "$np" $env "$app" write "$dir/plain.nc"
"$mpiexec" -n "$np" $env "$app" read daos:/out.nc
"$mpiexec" -n "$np" $env "$app" read "$dir/plain.nc"
"$mpiexec" -n "$np" $env "$app" cmp daos:/out.nc "$dir/plain.nc"
"$mpiexec" -n "$np" $env "$app" write daos://pool/pnc2/sub.nc
"$mpiexec" -n "$np" $env "$app" read daos://pool/pnc2/sub.nc
"$mpiexec" -n "$np" $env "$app" missing daos:/no-such.nc
for f in daos:/out.nc "$dir/plain.nc" daos://pool/pnc2/sub.nc; do
  "$mpiexec" -n "$np" $env "$app" noclobber "$f"
  "$mpiexec" -n "$np" $env "$app" read "$f"
done
"$mpiexec" -n "$np" $env "$app" small daos:/out.nc
"$mpiexec" -n "$np" $env "$app" small "$dir/plain.nc"
"$mpiexec" -n "$np" $env "$app" readsmall daos:/out.nc
"$mpiexec" -n "$np" $env "$app" readsmall "$dir/plain.nc"
"$mpiexec" -n "$np" $env "$app" cmp daos:/out.nc "$dir/plain.nc"
for f in daos:/out.nc "$dir/plain.nc" daos://pool/pnc2/sub.nc; do
  "$mpiexec" -n "$np" $env "$app" strip-unlink "$f"
done
