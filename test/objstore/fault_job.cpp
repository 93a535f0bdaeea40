// One MPI job of the EC write-hole fault scenarios (driven by fault_integrity.sh):
//   fault_job setup  <pool>                      pool of 6 engines, container "w"
//        (ec_cell_sz 4096, chunk 64 KiB), one object per class of kClasses filled with
//        pattern A over [0, kSize); object IDs kept as container attributes
//   fault_job write  <pool> <class> <off> <len>  writes pattern B over [off, off+len): run with
//        EDAOS_TEST_FAULT set, it stops between the stripe's data and parity (exit 86)
//   fault_job verify <pool> <class> <off> <len> [--all-ok]
//        reads the object stripe by stripe (8 KiB pieces of the 2+1 / 16 KiB of the 4+2). A read
//        that succeeds must hold pattern A outside [off, off+len) and A or B inside; a read that
//        fails must fail with EDAOS_DEGRADED or EDAOS_CSUM ("refused"). Prints "ok <n> refused
//        <m>"; --all-ok also requires m == 0. The size must be kSize.
// Exit status 0 means no wrong byte was returned with success.
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "edaos/objstore/objstore.hpp"

using namespace edaos;
using namespace edaos::objstore;

namespace {

const char* kClasses[] = {"EC_2P1G1", "EC_4P2G1"};
constexpr uint64_t kSize = 256 * 1024;

// Not linear in the seed (a SplitMix64 of offset and seed): with XOR parity, a stripe
// rebuilt from one write's data and another write's parity must not come out as valid bytes
// by accident (a pattern whose cells XOR to the same parity for every seed hides exactly that).
uint8_t pattern(uint64_t x, uint64_t seed) {
  uint64_t z = x * 0x9E3779B97F4A7C15ull + seed * 0xD1B54A32D192ED03ull + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<uint8_t>((z ^ (z >> 31)) | 1);
}
constexpr uint64_t kSeedA = 1111, kSeedB = 2222;

int fail(const char* what, const Status& st) {
  std::fprintf(stderr, "fault_job: %s: %s\n", what, st.to_string().c_str());
  return 1;
}

int do_setup(const std::string& path) {
  PoolCreateOptions po;
  po.engines = 6;
  po.targets = 2;
  Status st = Pool::create(path, po, MPI_COMM_WORLD);
  if (!st.ok()) return fail("pool create", st);
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (!pool.ok()) return fail("connect", pool.status());
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int rc = 0;
  if (rank == 0) {
    ContainerProps p;
    st = apply_properties(&p, "ec_cell_sz:4096,chunk_size:65536,cksum:crc32,srv_cksum:on");
    if (!st.ok()) return fail("props", st);
    auto c = pool.value()->cont_create("w", p);
    if (!c.ok()) return fail("cont create", c.status());
    std::vector<uint8_t> a(kSize);
    for (const char* cls : kClasses) {
      auto oid = c.value()->alloc_oid(ObjClass::parse(cls).value(), ObjType::kArray);
      if (!oid.ok()) return fail("alloc", oid.status());
      st = c.value()->attr_set(std::string("oid.") + cls, oid->to_string());
      if (!st.ok()) return fail("attr", st);
      auto arr = c.value()->open_array(oid.value());
      for (uint64_t i = 0; i < kSize; ++i) a[i] = pattern(i, kSeedA);
      st = arr.value()->write(0, a.data(), a.size());
      if (!st.ok()) rc = fail("write", st);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  st = pool.value()->disconnect();
  return rc || !st.ok() ? 1 : 0;
}

struct Opened {
  std::shared_ptr<Pool> pool;
  std::shared_ptr<Container> cont;
  std::unique_ptr<Array> arr;
};

Status open_object(const std::string& path, const std::string& cls, Opened* o) {
  auto pool = Pool::connect(path, MPI_COMM_SELF);
  if (!pool.ok()) return pool.status();
  o->pool = pool.value();
  auto c = o->pool->cont_open("w");
  if (!c.ok()) return c.status();
  o->cont = c.value();
  auto id = o->cont->attr_get("oid." + cls);
  if (!id.ok()) return id.status();
  auto a = o->cont->open_array(ObjectId::parse(id.value()).value());
  if (!a.ok()) return a.status();
  o->arr = std::move(a).value();
  return Status::OK();
}

int do_write(const std::string& path, const std::string& cls, uint64_t off, uint64_t len) {
  Opened o;
  Status st = open_object(path, cls, &o);
  if (!st.ok()) return fail("open", st);
  std::vector<uint8_t> b(len);
  for (uint64_t i = 0; i < len; ++i) b[i] = pattern(off + i, kSeedB);
  st = o.arr->write(off, b.data(), b.size());
  if (!st.ok()) return fail("write", st);
  std::fprintf(stderr, "fault_job: the write completed (was EDAOS_TEST_FAULT set?)\n");
  return 3;
}

int do_verify(const std::string& path, const std::string& cls, uint64_t off, uint64_t len,
              bool all_ok) {
  Opened o;
  Status st = open_object(path, cls, &o);
  if (!st.ok()) return fail("open", st);
  auto size = o.arr->get_size();
  if (!size.ok()) return fail("get_size", size.status());
  if (size.value() != kSize) {
    std::fprintf(stderr, "fault_job: size %llu, expected %llu\n",
                 static_cast<unsigned long long>(size.value()),
                 static_cast<unsigned long long>(kSize));
    return 1;
  }
  const uint64_t piece = cls == "EC_4P2G1" ? 16384 : 8192;  // one stripe
  uint64_t ok = 0, refused = 0;
  int wrong = 0;
  std::vector<uint8_t> buf(piece);
  for (uint64_t at = 0; at < kSize; at += piece) {
    st = o.arr->read(at, buf.data(), piece);
    if (!st.ok()) {
      if (st.code() != EDAOS_DEGRADED && st.code() != EDAOS_CSUM) return fail("read", st);
      std::printf("refused [%llu, %llu): %s\n", static_cast<unsigned long long>(at),
                  static_cast<unsigned long long>(at + piece), st.to_string().c_str());
      ++refused;
      continue;
    }
    ++ok;
    for (uint64_t i = 0; i < piece; ++i) {
      const uint64_t x = at + i;
      const bool inside = x >= off && x < off + len;
      const uint8_t got = buf[i];
      if (got == pattern(x, kSeedA) || (inside && got == pattern(x, kSeedB))) continue;
      std::fprintf(stderr, "fault_job: WRONG BYTE at %llu (%s the interrupted write): 0x%02x\n",
                   static_cast<unsigned long long>(x), inside ? "inside" : "outside", got);
      wrong = 1;
      break;
    }
  }
  std::printf("ok %llu refused %llu\n", static_cast<unsigned long long>(ok),
              static_cast<unsigned long long>(refused));
  if (all_ok && refused) return 2;
  return wrong;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rc = 2;
  Status st = init(MPI_COMM_WORLD);
  if (!st.ok()) {
    rc = fail("init", st);
  } else if (argc >= 3) {
    std::string mode = argv[1], path = argv[2];
    if (mode == "setup") rc = do_setup(path);
    if ((mode == "write" || mode == "verify") && argc >= 6) {
      std::string cls = argv[3];
      uint64_t off = std::strtoull(argv[4], nullptr, 10), len = std::strtoull(argv[5], nullptr, 10);
      bool all_ok = argc >= 7 && std::strcmp(argv[6], "--all-ok") == 0;
      rc = mode == "write" ? do_write(path, cls, off, len) : do_verify(path, cls, off, len, all_ok);
    }
  }
  (void)finalize();
  MPI_Finalize();
  return rc;
}
