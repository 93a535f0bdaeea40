/* A profiling tool shaped like Darshan's LD_PRELOAD build (darshan-runtime/lib/darshan.h):
 * it wraps MPI_Init, MPI_Finalize and some MPI_File_* functions, defines the PMPI_* names as
 * aliases of its wrappers, and reaches "the next" implementation with dlsym(RTLD_NEXT,
 * "PMPI_..."). Preloaded in front of libedaos_mpio, every call must go tool -> edaos -> MPI once
 * (no loop: edaos must not call a PMPI_File_* name, which is the tool's), daos: files must be
 * served by edaos, and MPI_Init must still start the store. Like Darshan it also wraps open and
 * stat, so the store's own probes of its pool directory reach edaos's POSIX view through the
 * tool. At MPI_Finalize rank 0 prints what the tool saw. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#pragma GCC visibility push(default) /* the project builds with hidden visibility */

#define REAL(name)                                \
  static __typeof__(&P##name) real_##name = NULL; \
  if (!real_##name) real_##name = (__typeof__(&P##name))dlsym(RTLD_NEXT, "P" #name);

static int g_opens, g_daos_opens, g_writes, g_closes, g_depth, g_max_depth;

#define ENTER() \
  if (++g_depth > g_max_depth) g_max_depth = g_depth
#define LEAVE() --g_depth

int MPI_Init(int* argc, char*** argv) {
  REAL(MPI_Init);
  return real_MPI_Init(argc, argv);
}
int MPI_Init_thread(int* argc, char*** argv, int req, int* prov) {
  REAL(MPI_Init_thread);
  return real_MPI_Init_thread(argc, argv, req, prov);
}
int MPI_File_open(MPI_Comm comm, const char* name, int amode, MPI_Info info, MPI_File* fh) {
  REAL(MPI_File_open);
  ENTER();
  int rc = real_MPI_File_open(comm, name, amode, info, fh);
  LEAVE();
  ++g_opens;
  if (strncmp(name, "daos:", 5) == 0) ++g_daos_opens;
  return rc;
}
int MPI_File_write_all(MPI_File fh, const void* buf, int count, MPI_Datatype t, MPI_Status* st) {
  REAL(MPI_File_write_all);
  ENTER();
  int rc = real_MPI_File_write_all(fh, buf, count, t, st);
  LEAVE();
  ++g_writes;
  return rc;
}
int MPI_File_close(MPI_File* fh) {
  REAL(MPI_File_close);
  ENTER();
  int rc = real_MPI_File_close(fh);
  LEAVE();
  ++g_closes;
  return rc;
}
/* POSIX wrappers, as Darshan's POSIX module has: the store's own file opens now reach
 * libedaos_mpio's POSIX view through the tool, with the tool as the immediate caller. */
int open(const char* path, int flags, ...) {
  static int (*real_open)(const char*, int, ...) = NULL;
  if (!real_open) real_open = (int (*)(const char*, int, ...))dlsym(RTLD_NEXT, "open");
  va_list ap;
  va_start(ap, flags);
  int mode = (flags & O_CREAT) ? va_arg(ap, int) : 0;
  va_end(ap);
  return real_open(path, flags, mode);
}
int open64(const char* path, int flags, ...) {
  static int (*real_open)(const char*, int, ...) = NULL;
  if (!real_open) real_open = (int (*)(const char*, int, ...))dlsym(RTLD_NEXT, "open64");
  va_list ap;
  va_start(ap, flags);
  int mode = (flags & O_CREAT) ? va_arg(ap, int) : 0;
  va_end(ap);
  return real_open(path, flags, mode);
}
int stat(const char* path, struct stat* sb) {
  static int (*real_stat)(const char*, struct stat*) = NULL;
  if (!real_stat) real_stat = (int (*)(const char*, struct stat*))dlsym(RTLD_NEXT, "stat");
  return real_stat(path, sb);
}

int MPI_Finalize(void) {
  REAL(MPI_Finalize);
  int rank = 0;
  PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0)
    printf("tool: opens %d (daos %d) write_all %d closes %d max depth %d\n", g_opens, g_daos_opens,
           g_writes, g_closes, g_max_depth);
  fflush(stdout);
  return real_MPI_Finalize();
}

/* As Darshan does: the profiling names are the same wrappers. */
int PMPI_Init(int*, char***) __attribute__((alias("MPI_Init")));
int PMPI_Init_thread(int*, char***, int, int*) __attribute__((alias("MPI_Init_thread")));
int PMPI_File_open(MPI_Comm, const char*, int, MPI_Info, MPI_File*)
    __attribute__((alias("MPI_File_open")));
int PMPI_File_write_all(MPI_File, const void*, int, MPI_Datatype, MPI_Status*)
    __attribute__((alias("MPI_File_write_all")));
int PMPI_File_close(MPI_File*) __attribute__((alias("MPI_File_close")));
int PMPI_Finalize(void) __attribute__((alias("MPI_Finalize")));
