// Helper of the fault drills: things no edaos tool does (no MPI, works on the pool directory
// through the vos library, white-box).
//   fault_helper strip-identity <pool>   turns a pool into one of a build that recorded no pool
//                                         identity: removes every engine's IDENTITY, the pool
//                                         service's UUID record and POOL's "identity 1"
//   fault_helper has-identity <pool>     prints "pool <0|1>" then "engine-NNNN <0|1>" per engine
//   fault_helper share-lock <file>...    uses LMDB lock files as another user of them does (a
//                                         read lock on byte 0, so an opener does not take the
//                                         file for unused and re-initialise it), prints "held"
//                                         and keeps them until its stdin ends
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "vos/identity.hpp"
#include "vos/pool_store.hpp"
#include "vos/vos_internal.hpp"

using namespace edaos;
using namespace edaos::objstore;

namespace {

int fail(const char* what, const Status& st) {
  std::fprintf(stderr, "fault_helper: %s: %s\n", what, st.to_string().c_str());
  return 1;
}

int strip(const std::string& dir) {
  std::string blob;
  auto h = vos::PoolStore::read_header(dir, &blob);
  if (!h.ok()) return fail("read POOL", h.status());
  for (uint32_t e = 0; e < h->nengines; ++e)
    (void)std::remove((dir + "/" + vos::engine_dir_name(e) + "/IDENTITY").c_str());
  {
    auto db = vos::detail::LmdbEnv::open(dir + "/psvc", 0, {"meta"});
    if (!db.ok()) return fail("open psvc", db.status());
    Status st = db.value()->write([&](MDB_txn* t) -> Status {
      Status d = db.value()->del(t, db.value()->dbi(0), "pool_uuid");
      return d.code() == EDAOS_NONEXIST ? Status::OK() : d;
    });
    if (!st.ok()) return fail("psvc", st);
  }
  // POOL without "identity 1": rewrite the header as an older build wrote it.
  std::string text;
  Status st = vos::detail::read_file(dir + "/POOL", &text);
  if (!st.ok()) return fail("read POOL", st);
  size_t at = text.find("identity 1\n");
  if (at != std::string::npos) {
    text.erase(at, 11);
    size_t sum_at = text.find("fnv64 ");
    size_t map_at = text.find("end\n", sum_at) + 4;
    uint64_t sum = vos::detail::fnv1a64(text.data(), sum_at);
    sum = vos::detail::fnv1a64(text.data() + map_at, text.size() - map_at, sum);
    char line[64];
    std::snprintf(line, sizeof line, "fnv64 %016llx\n", static_cast<unsigned long long>(sum));
    text.replace(sum_at, 23, line);
    st = vos::detail::write_file_atomic(dir + "/POOL", text);
    if (!st.ok()) return fail("write POOL", st);
  }
  auto again = vos::PoolStore::read_header(dir, nullptr);
  if (!again.ok()) return fail("re-read POOL", again.status());
  return again->identity ? 1 : 0;
}

int show(const std::string& dir) {
  auto h = vos::PoolStore::read_header(dir, nullptr);
  if (!h.ok()) return fail("read POOL", h.status());
  std::printf("pool %d\n", h->identity ? 1 : 0);
  for (uint32_t e = 0; e < h->nengines; ++e) {
    auto id = vos::read_engine_identity(dir + "/" + vos::engine_dir_name(e));
    std::printf("%s %d\n", vos::engine_dir_name(e).c_str(),
                id.ok() && id->pool == h->uuid && id->engine == e ? 1 : 0);
  }
  return 0;
}

// LMDB (mdb_env_excl_lock) asks for a write lock on byte 0 of its lock file and re-initialises
// the reader table only when it gets it; every user keeps a read lock there.
int share_lock(int n, char** files) {
  for (int i = 0; i < n; ++i) {
    int fd = ::open(files[i], O_RDWR | O_CLOEXEC);
    struct flock fl {};
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;
    if (fd < 0 || ::fcntl(fd, F_SETLK, &fl) != 0) {
      std::fprintf(stderr, "fault_helper: %s: %s\n", files[i], std::strerror(errno));
      return 1;
    }
  }
  std::printf("held\n");
  std::fflush(stdout);
  char c;
  while (::read(0, &c, 1) > 0) {
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "strip-identity" && argc == 3) return strip(argv[2]);
  if (mode == "has-identity" && argc == 3) return show(argv[2]);
  if (mode == "share-lock" && argc >= 3) return share_lock(argc - 2, argv + 2);
  std::fprintf(stderr,
               "usage: fault_helper strip-identity|has-identity <pool> | share-lock <file>...\n");
  return 2;
}
