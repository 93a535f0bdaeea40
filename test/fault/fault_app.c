/* An unmodified MPI-IO program for the fault drills of test/fault (it knows nothing of edaos:
 * the scripts preload libedaos_mpio, so daos: names reach edaos). Every failure prints the MPI
 * error string and the program exits 1; success prints "ok".
 *   fault_app write NAME BYTES     collective create + write of a pattern, read back, verify
 *   fault_app read NAME BYTES      verify the pattern written by `write`
 *   fault_app self PREFIX          each rank creates its own file PREFIX.<rank> on MPI_COMM_SELF
 *   fault_app hold NAME SECONDS    open NAME (create), print "opened", keep it open SECONDS;
 *                                  with $FAULT_APP_START_AT (seconds since the epoch, with a
 *                                  fraction) the open starts at that moment, so two jobs can
 *                                  be made to open at the same instant; with $FAULT_APP_READY
 *                                  and $FAULT_APP_GO (file names) rank 0 creates READY once
 *                                  the job has started and every rank opens as soon as GO
 *                                  exists (a script starts two jobs, waits for both READY
 *                                  files, creates GO); with $FAULT_APP_RELEASE the file is
 *                                  closed as soon as that file exists (at most SECONDS)
 *   fault_app shared NAME [kill]   atomic mode + shared-pointer writes; `kill`: SIGKILL every
 *                                  rank while the file is open (leaves the lock object in use) */
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int rank, nprocs;

static int report(int rc, const char* what, const char* name) {
  if (rc == MPI_SUCCESS) return 0;
  char s[MPI_MAX_ERROR_STRING];
  int l = 0, cls = 0;
  MPI_Error_string(rc, s, &l);
  MPI_Error_class(rc, &cls);
  fprintf(stderr, "rank %d: %s %s: class %d: %s\n", rank, what, name, cls, s);
  return 1;
}

static unsigned char pattern(long long off) { return (unsigned char)((off * 131 + 7) % 251 + 1); }

static int rw(const char* name, long long bytes, int write) {
  MPI_File fh;
  int amode = write ? MPI_MODE_CREATE | MPI_MODE_RDWR : MPI_MODE_RDONLY;
  if (report(MPI_File_open(MPI_COMM_WORLD, name, amode, MPI_INFO_NULL, &fh), "open", name))
    return 1;
  long long per = bytes / nprocs, off = per * rank, n = rank == nprocs - 1 ? bytes - off : per;
  unsigned char* buf = malloc((size_t)n + 1);
  int bad = 0;
  if (write) {
    for (long long i = 0; i < n; ++i) buf[i] = pattern(off + i);
    bad |= report(MPI_File_write_at_all(fh, off, buf, (int)n, MPI_BYTE, MPI_STATUS_IGNORE), "write",
                  name);
    bad |= report(MPI_File_sync(fh), "sync", name);
  }
  memset(buf, 0, (size_t)n);
  bad |=
      report(MPI_File_read_at_all(fh, off, buf, (int)n, MPI_BYTE, MPI_STATUS_IGNORE), "read", name);
  for (long long i = 0; i < n && !bad; ++i)
    if (buf[i] != pattern(off + i)) {
      fprintf(stderr, "rank %d: %s: byte %lld differs\n", rank, name, off + i);
      bad = 1;
    }
  free(buf);
  bad |= report(MPI_File_close(&fh), "close", name);
  return bad;
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if (argc < 3) {
    fprintf(stderr, "usage: fault_app write|read|self|hold|shared NAME [ARG]\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const char* mode = argv[1];
  const char* name = argv[2];
  int bad = 0;
  if (!strcmp(mode, "write") || !strcmp(mode, "read")) {
    bad = rw(name, argc > 3 ? atoll(argv[3]) : 1 << 20, !strcmp(mode, "write"));
  } else if (!strcmp(mode, "self")) {
    char mine[4096];
    snprintf(mine, sizeof mine, "%s.%d", name, rank);
    MPI_File fh;
    bad = report(
        MPI_File_open(MPI_COMM_SELF, mine, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh),
        "open", mine);
    if (!bad) {
      bad |= report(MPI_File_write(fh, mine, (int)strlen(mine), MPI_CHAR, MPI_STATUS_IGNORE),
                    "write", mine);
      bad |= report(MPI_File_close(&fh), "close", mine);
    }
  } else if (!strcmp(mode, "hold")) {
    const char* at = getenv("FAULT_APP_START_AT");
    const char* ready = getenv("FAULT_APP_READY");
    const char* go = getenv("FAULT_APP_GO");
    const char* release = getenv("FAULT_APP_RELEASE");
    if (ready && go) {
      MPI_Barrier(MPI_COMM_WORLD);  // every rank started
      if (rank == 0) {
        FILE* f = fopen(ready, "w");
        if (f) fclose(f);
      }
      while (access(go, F_OK) != 0) usleep(1000);
    } else if (at) {
      double start = atof(at);
      struct timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      double wait = start - ((double)now.tv_sec + now.tv_nsec * 1e-9);
      if (wait > 0) usleep((useconds_t)(wait * 1e6));
    }
    MPI_File fh;
    bad = report(
        MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh),
        "open", name);
    if (!bad) {
      if (rank == 0) {
        printf("opened\n");
        fflush(stdout);
      }
      const unsigned secs = argc > 3 ? (unsigned)atoi(argv[3]) : 5;
      if (release) {
        /* Until the script says so (the other job has finished), at most `secs`. */
        int done = 0;
        for (unsigned long ms = 0; !done && ms < secs * 1000ul; ms += 20) {
          if (rank == 0) done = access(release, F_OK) == 0;
          MPI_Bcast(&done, 1, MPI_INT, 0, MPI_COMM_WORLD);
          if (!done) usleep(20000);
        }
      } else {
        sleep(secs);
      }
      bad |= report(MPI_File_close(&fh), "close", name);
    }
  } else if (!strcmp(mode, "shared")) {
    MPI_File fh;
    bad = report(
        MPI_File_open(MPI_COMM_WORLD, name, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh),
        "open", name);
    if (!bad) {
      char rec[64];
      snprintf(rec, sizeof rec, "record of rank %d\n", rank);
      bad |= report(MPI_File_set_atomicity(fh, 1), "set_atomicity", name);
      bad |= report(MPI_File_write_shared(fh, rec, (int)strlen(rec), MPI_CHAR, MPI_STATUS_IGNORE),
                    "write_shared", name);
      bad |= report(MPI_File_write_ordered(fh, rec, (int)strlen(rec), MPI_CHAR, MPI_STATUS_IGNORE),
                    "write_ordered", name);
      if (argc > 3 && !strcmp(argv[3], "kill")) {
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 0) {
          printf("killing with the file open\n");
          fflush(stdout);
        }
        raise(SIGKILL);
      }
      bad |= report(MPI_File_close(&fh), "close", name);
    }
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    bad = 1;
  }
  int any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) printf(any ? "FAILED\n" : "ok\n");
  MPI_Finalize();
  return any;
}
