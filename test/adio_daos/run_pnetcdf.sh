#!/bin/sh
# run_pnetcdf.sh MPIEXEC NP APP: PnetCDF writes the same dataset to a daos: file and to a plain
# file; the plain one is read back and verified through PnetCDF, and the two are compared byte
# for byte through MPI-IO (see pnetcdf_app.c for why the daos: file is not reopened by PnetCDF).
set -e
mpiexec=$1; np=$2; app=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/edaos-pnc-XXXXXX")
trap 'rm -rf "$dir"' EXIT
env="-genv DAOS_POOL $dir/pool -genv DAOS_CONT pnc"
"$mpiexec" -n "$np" $env "$app" write daos:/out.nc
"$mpiexec" -n "$np" $env "$app" write "$dir/plain.nc"
"$mpiexec" -n "$np" $env "$app" read "$dir/plain.nc"
"$mpiexec" -n "$np" $env "$app" cmp daos:/out.nc "$dir/plain.nc"
