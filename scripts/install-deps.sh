#!/usr/bin/env bash
# Installs everything edaos needs on Debian 12, as root. Idempotent: every step checks
# whether its result is already present and skips itself when it is.
#
#   EDAOS_DEPS_PREFIX  prefix for the source-built HDF5 and PnetCDF (default /opt/edaos-deps)
#   EDAOS_DEPS_JOBS    parallel build jobs (default: nproc)
#
# HDF5 1.14 (parallel) and PnetCDF (MPICH) are built from Debian source packages because
# Debian 12 ships HDF5 1.10 (no VOL API) and a PnetCDF linked to Open MPI.
set -euo pipefail

PREFIX=${EDAOS_DEPS_PREFIX:-/opt/edaos-deps}
JOBS=${EDAOS_DEPS_JOBS:-$(nproc)}
HDF5_VERSION=1.14.5+repack-3
PNETCDF_VERSION=1.12.3-1
SRC=$PREFIX/src
export DEBIAN_FRONTEND=noninteractive

log() { printf '[install-deps] %s\n' "$*"; }
t0=$(date +%s)

if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi

# ---- 1. Debian packages -------------------------------------------------------------------
PKGS=(build-essential cmake ninja-build pkg-config git
      mpich libmpich-dev
      libisal-dev liblmdb-dev zlib1g-dev
      libgtest-dev libgmock-dev
      libucx-dev libfabric-dev
      dpkg-dev autoconf automake libtool m4 perl
      clang libclang-rt-14-dev clang-format
      python3 gnuplot-nox util-linux)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages: all present, skipped"
fi

# Prefer MPICH's compiler wrappers even if another MPI is installed.
MPICC=$(command -v mpicc.mpich || command -v mpicc)

# Source packages come from the same archive the machine already uses: derive a deb-src
# entry from the existing configuration, never naming a host here.
ensure_deb_src() {
  local f=/etc/apt/sources.list.d/edaos-src.sources
  if [ ! -f "$f" ]; then
    log "adding deb-src entries derived from the machine's debian.sources"
    awk 'BEGIN{RS="";ORS="\n\n"} NR==1' /etc/apt/sources.list.d/debian.sources |
      sed -e 's/^Types:.*/Types: deb-src/' -e 's/^Suites:.*/Suites: bookworm trixie/' >"$f"
    apt-get update -qq
  fi
}

mkdir -p "$SRC"

# ---- 2. HDF5 >= 1.14, parallel, shared, HL + tools -----------------------------------------
if [ -f "$PREFIX/.hdf5-$HDF5_VERSION.done" ] && [ -x "$PREFIX/bin/h5dump" ]; then
  log "HDF5 $HDF5_VERSION: already in $PREFIX, skipped"
else
  ensure_deb_src
  cd "$SRC"
  if [ ! -d "$SRC/hdf5-src" ]; then
    log "fetching HDF5 source package $HDF5_VERSION"
    rm -rf hdf5-get && mkdir hdf5-get && cd hdf5-get
    apt-get source -qq "hdf5=$HDF5_VERSION" >/dev/null 2>&1
    d=$(find . -maxdepth 1 -type d -name 'hdf5-*' | head -n1)
    mv "$d" "$SRC/hdf5-src"
    cd "$SRC" && rm -rf hdf5-get
  fi
  log "building HDF5 (parallel, shared) with $MPICC"
  rm -rf "$SRC/hdf5-build"
  CC=$MPICC cmake -S "$SRC/hdf5-src" -B "$SRC/hdf5-build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DHDF5_ENABLE_PARALLEL=ON -DBUILD_SHARED_LIBS=ON -DBUILD_STATIC_LIBS=OFF \
    -DONLY_SHARED_LIBS=ON -DHDF5_BUILD_FORTRAN=OFF -DHDF5_BUILD_CPP_LIB=OFF \
    -DHDF5_BUILD_JAVA=OFF -DBUILD_TESTING=OFF -DHDF5_BUILD_EXAMPLES=OFF \
    -DHDF5_BUILD_HL_LIB=ON -DHDF5_BUILD_TOOLS=ON -DHDF5_ENABLE_Z_LIB_SUPPORT=ON \
    -DHDF5_ENABLE_SZIP_SUPPORT=OFF -DCMAKE_INSTALL_RPATH="$PREFIX/lib" >"$SRC/hdf5-configure.log" 2>&1 ||
    { tail -n 30 "$SRC/hdf5-configure.log"; exit 1; }
  cmake --build "$SRC/hdf5-build" -j "$JOBS" >"$SRC/hdf5-build.log" 2>&1 ||
    { tail -n 30 "$SRC/hdf5-build.log"; exit 1; }
  cmake --install "$SRC/hdf5-build" >/dev/null
  touch "$PREFIX/.hdf5-$HDF5_VERSION.done"
fi

# ---- 3. PnetCDF built against MPICH ------------------------------------------------------
if [ -f "$PREFIX/.pnetcdf-$PNETCDF_VERSION.done" ] && [ -f "$PREFIX/lib/libpnetcdf.so" ]; then
  log "PnetCDF $PNETCDF_VERSION: already in $PREFIX, skipped"
else
  ensure_deb_src
  cd "$SRC"
  rm -rf pnetcdf-src pnetcdf-get && mkdir pnetcdf-get && cd pnetcdf-get
  log "fetching PnetCDF source package $PNETCDF_VERSION"
  apt-get source -qq "pnetcdf=$PNETCDF_VERSION" >/dev/null 2>&1
  d=$(find . -maxdepth 1 -type d -name 'pnetcdf-*' | head -n1)
  mv "$d" "$SRC/pnetcdf-src" && cd "$SRC" && rm -rf pnetcdf-get
  cd "$SRC/pnetcdf-src"
  log "building PnetCDF (shared, C only) with $MPICC"
  { autoreconf -fi &&
    ./configure --prefix="$PREFIX" MPICC="$MPICC" --enable-shared --disable-static \
      --disable-fortran --disable-cxx &&
    make -j "$JOBS" && make install; } >"$SRC/pnetcdf-build.log" 2>&1 ||
    { tail -n 30 "$SRC/pnetcdf-build.log"; exit 1; }
  touch "$PREFIX/.pnetcdf-$PNETCDF_VERSION.done"
fi

# ---- 4. HDF5's VOL API test programs (h5_api_test, h5_api_test_parallel) -------------------
# Used by test/h5vol to run HDF5's own API tests against the edaos VOL connector. Built from the
# kept HDF5 build tree (reconfigured with the API tests on); nothing is installed.
if [ -x "$SRC/hdf5-build/bin/h5_api_test" ] && [ -x "$SRC/hdf5-build/bin/h5_api_test_parallel" ]; then
  log "HDF5 API tests: already built in $SRC/hdf5-build/bin, skipped"
elif [ -d "$SRC/hdf5-build" ]; then
  log "building HDF5's VOL API tests (h5_api_test, h5_api_test_parallel)"
  { cmake "$SRC/hdf5-build" -DBUILD_TESTING=ON -DHDF5_TEST_API=ON -DHDF5_TEST_API_INSTALL=ON \
      -DHDF5_TEST_PARALLEL=ON &&
    cmake --build "$SRC/hdf5-build" -j "$JOBS" --target h5_api_test h5_api_test_parallel; } \
    >"$SRC/hdf5-api-tests.log" 2>&1 || { tail -n 30 "$SRC/hdf5-api-tests.log"; exit 1; }
fi

log "done in $(( $(date +%s) - t0 )) s (prefix $PREFIX)"
