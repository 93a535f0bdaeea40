# Finds every dependency once, as imported targets. Optional ones set EDAOS_HAVE_<X>.
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# ISA-L: Reed-Solomon and CRC kernels.
set(EDAOS_HAVE_ISAL OFF)
if(EDAOS_WITH_ISAL)
  pkg_check_modules(ISAL IMPORTED_TARGET libisal)
  if(NOT ISAL_FOUND)
    find_path(ISAL_INCLUDE_DIR isa-l/erasure_code.h)
    find_library(ISAL_LIBRARY isal)
    if(ISAL_INCLUDE_DIR AND ISAL_LIBRARY)
      add_library(PkgConfig::ISAL INTERFACE IMPORTED)
      set_target_properties(PkgConfig::ISAL PROPERTIES
        INTERFACE_INCLUDE_DIRECTORIES "${ISAL_INCLUDE_DIR}"
        INTERFACE_LINK_LIBRARIES "${ISAL_LIBRARY}")
      set(ISAL_FOUND ON)
    endif()
  endif()
  if(ISAL_FOUND)
    set(EDAOS_HAVE_ISAL ON)
  else()
    message(WARNING "ISA-L not found: using the portable erasure code and CRC backends")
  endif()
endif()

# Native RPC transports (objstore/src/runtime/README.md): UCX (UCP) and libfabric. Optional: a
# build without them has the MPI and loopback transports only, and EDAOS_TRANSPORT=ucx or ofi
# then fails init with a clear error.
option(EDAOS_WITH_UCX "Build the UCX transport when UCX is found" ON)
option(EDAOS_WITH_OFI "Build the libfabric transport when libfabric is found" ON)
# edaos_find_transport(X module what package): EDAOS_HAVE_X and target PkgConfig::X when
# EDAOS_WITH_X is on and pkg-config finds `module`.
macro(edaos_find_transport x module what package)
  set(EDAOS_HAVE_${x} OFF)
  if(EDAOS_WITH_${x})
    pkg_check_modules(${x} IMPORTED_TARGET ${module})
    if(${x}_FOUND)
      set(EDAOS_HAVE_${x} ON)
      message(STATUS "${what} ${${x}_VERSION} found: ${what} transport built")
    else()
      message(STATUS "${what} not found: no ${what} transport (install ${package})")
    endif()
  endif()
endmacro()
edaos_find_transport(UCX ucx UCX libucx-dev)
edaos_find_transport(OFI libfabric libfabric libfabric-dev)

# LMDB: crash-safe metadata store of each engine.
find_path(LMDB_INCLUDE_DIR lmdb.h REQUIRED)
find_library(LMDB_LIBRARY lmdb REQUIRED)
add_library(edaos_lmdb INTERFACE)
target_include_directories(edaos_lmdb SYSTEM INTERFACE "${LMDB_INCLUDE_DIR}")
target_link_libraries(edaos_lmdb INTERFACE "${LMDB_LIBRARY}")

# HDF5 >= 1.14 with the parallel (MPI-IO) driver: only the VOL connector needs it.
set(EDAOS_HAVE_HDF5 OFF)
if(EDAOS_ENABLE_H5VOL)
  set(HDF5_PREFER_PARALLEL ON)
  find_package(HDF5 1.14 CONFIG QUIET COMPONENTS C HL)
  if(HDF5_FOUND AND HDF5_ENABLE_PARALLEL OR HDF5_FOUND AND HDF5_IS_PARALLEL)
    set(EDAOS_HAVE_HDF5 ON)
    message(STATUS "HDF5 ${HDF5_VERSION} (parallel) found")
  else()
    message(STATUS "HDF5 >= 1.14 parallel not found: the VOL connector is not built "
                   "(run scripts/install-deps.sh)")
  endif()
endif()

# PnetCDF built against MPICH: only the MPI-IO interoperability tests need it.
set(EDAOS_HAVE_PNETCDF OFF)
# The prefix install-deps.sh fills comes first; a system PnetCDF is taken only from an MPICH
# installation's own prefix (Debian's libpnetcdf-dev is built against Open MPI).
find_path(PNETCDF_INCLUDE_DIR pnetcdf.h HINTS "${EDAOS_DEPS_PREFIX}/include"
          PATHS /usr/local/include NO_DEFAULT_PATH)
find_library(PNETCDF_LIBRARY pnetcdf HINTS "${EDAOS_DEPS_PREFIX}/lib" PATHS /usr/local/lib
             NO_DEFAULT_PATH)
if(PNETCDF_INCLUDE_DIR AND PNETCDF_LIBRARY)
  set(EDAOS_HAVE_PNETCDF ON)
endif()

if(EDAOS_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
