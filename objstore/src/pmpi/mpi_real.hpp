// The MPI library's own definition of a name that edaos's PMPI-layer libraries also define.
//
// libedaos_mpio defines MPI_File_* and PMPI_File_* (and MPI_Init/PMPI_Init, ...), so programs
// and tools that call the profiling names (Darshan's wrappers call PMPI_*) reach edaos. A call
// to such a name from inside the library would then resolve to the first definition in the
// process (the library itself, or a tool preloaded in front of it, which calls back into the
// library: an endless loop). So those calls never use the names: EDAOS_REAL(PMPI_File_open)
// is the MPI library's function, looked up once per call site in the object that defines
// PMPI_Comm_rank (libmpi; no edaos library defines that name), then with RTLD_NEXT, and refused
// when it would be the calling library itself. Header-only (private): each shared library that
// includes it checks against its own object.
#pragma once

#include <dlfcn.h>
#include <mpi.h>

#include <cstdio>
#include <cstdlib>

namespace edaos::pmpi {

// The base address of the object that holds `addr` (nullptr if none).
inline void* object_of(const void* addr) {
  Dl_info di;
  if (!addr || !dladdr(addr, &di)) return nullptr;
  return di.dli_fbase;
}

// A handle of the MPI library (the object that defines PMPI_Comm_rank), or nullptr.
inline void* mpi_library() {
  static void* const h = [] {
    Dl_info di;
    if (!dladdr(reinterpret_cast<const void*>(&PMPI_Comm_rank), &di) || !di.dli_fname)
      return static_cast<void*>(nullptr);
    return dlopen(di.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  }();
  return h;
}

// The MPI library's `name`; aborts with a message when there is none other than this object's.
inline void* resolve_mpi(const char* name) {
  void* self = object_of(reinterpret_cast<const void*>(&object_of));
  void* p = nullptr;
  if (void* lib = mpi_library()) p = dlsym(lib, name);
  if (!p || object_of(p) == self) p = dlsym(RTLD_NEXT, name);
  if (!p || object_of(p) == self) {
    std::fprintf(stderr, "edaos: cannot find the MPI library's %s (load edaos with libmpi)\n",
                 name);
    std::abort();
  }
  return p;
}

}  // namespace edaos::pmpi

// EDAOS_REAL(PMPI_File_open)(args...) calls the MPI library's PMPI_File_open (resolved once).
#define EDAOS_REAL(fn)                                                                      \
  ([]() -> decltype(&fn) {                                                                  \
    static const auto p = reinterpret_cast<decltype(&fn)>(::edaos::pmpi::resolve_mpi(#fn)); \
    return p;                                                                               \
  }())

// Defines P<name> as another name of the function `name` defined above it in the same file
// (MPI_File_open -> PMPI_File_open), exported.
#define EDAOS_PROFILING_ALIAS(name) \
  extern "C" __attribute__((visibility("default"), alias(#name))) decltype(name) P##name;
