// Fault tests of engine records (label `fault`): shard files damaged the ways a storage engineer
// would (zeroed, truncated, flipped, an older copy, bytes moved to another chunk or shard, the
// sidecar truncated or zeroed), kills inside a change, EC record reads, legacy (format-1)
// sidecars and the intent log. Each check is one that a read returning wrong bytes with
// success would fail. Forking is fine here: no MPI.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "file_support.hpp"
#include "vos/engine.hpp"

namespace edaos::objstore::vos {
namespace {

namespace fs = std::filesystem;
using edaos::test::file_bytes;
using edaos::test::put_file;
using edaos::test::pwrite_at;
using edaos::test::test_csum;

std::string pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>((x >> 16) | 1);  // never zero
  }
  return s;
}

constexpr uint32_t kChunk = 4096;
constexpr uint64_t kHdr = 32, kEntry = 40;  // record sidecar format 2 (README)

class RecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/edaos-vos-rec-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/engine-0000";
    cont_ = Uuid::generate();
    ref_ = ShardRef{cont_, ObjectId{0x100000000000ull, 42}, 3, 1};
    cs_.type = CsumType::kCrc32c;
    cs_.chunk = kChunk;
    cs_.fn = &test_csum;
    open_engine();
  }
  void TearDown() override {
    eng_.reset();
    set_fault_hook_for_testing(nullptr);
    fs::remove_all(root_);
  }
  void open_engine() {
    eng_.reset();
    Engine::Options o;
    o.dir = dir_;
    o.ntargets = 2;
    o.create = true;
    auto e = Engine::open(o);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    eng_ = std::move(e).value();
  }
  Status read(const ShardRef& r, uint64_t off, size_t len, std::string* out, const CsumSpec& cs,
              const RecordSpec& rs = {}, UnitState* state = nullptr) {
    out->assign(len, '\x55');
    return eng_->array_read(r, off, len, out->data(), cs, nullptr, rs, state);
  }
  // The documented layout (README "Layout"), usable while the engine is closed.
  std::string data_path(const ShardRef& r) const {
    return dir_ + "/tgt-" + std::to_string(r.target) + "/" + r.cont.to_string() + "/" +
           r.oid.to_string() + "." + std::to_string(r.shard);
  }
  std::string sidecar(const ShardRef& r) const { return data_path(r) + ".csum"; }

  std::string root_, dir_;
  std::unique_ptr<Engine> eng_;
  Uuid cont_;
  ShardRef ref_;
  CsumSpec cs_;
};

// ---- replicas / single shards with checksums on (RecordKind::kAuto) ----

TEST_F(RecordsTest, ZeroedChunkIsDetected) {
  const std::string d = pattern(8 * kChunk, 1);
  ASSERT_TRUE(eng_->array_write(ref_, 0, d.data(), d.size(), cs_, nullptr, d.size()).ok());
  eng_.reset();  // as `dd conv=notrunc` would, with the pool closed
  pwrite_at(data_path(ref_), 5 * kChunk, std::string(kChunk, '\0'));
  open_engine();
  std::string got;
  Status st = read(ref_, 0, d.size(), &got, cs_);
  EXPECT_EQ(st.code(), EDAOS_CSUM) << st.to_string();
  EXPECT_NE(st.message().find("offset " + std::to_string(5 * kChunk)), std::string::npos)
      << st.to_string();
  // The other chunks still read.
  EXPECT_TRUE(read(ref_, 0, 5 * kChunk, &got, cs_).ok());
  EXPECT_EQ(got, d.substr(0, 5 * kChunk));
}

TEST_F(RecordsTest, ZeroedFirstWriteOfAHoleIsDetected) {
  // The first write of a chunk used to keep the all-zero checksum as "previous" forever.
  const std::string d = pattern(kChunk, 2);
  ASSERT_TRUE(eng_->array_write(ref_, kChunk, d.data(), d.size(), cs_, nullptr, 2 * kChunk).ok());
  pwrite_at(data_path(ref_), kChunk, std::string(kChunk, '\0'));
  std::string got;
  EXPECT_EQ(read(ref_, kChunk, kChunk, &got, cs_).code(), EDAOS_CSUM);
}

TEST_F(RecordsTest, TruncatedDataFileIsDetected) {
  const std::string d = pattern(4 * kChunk, 3);
  ASSERT_TRUE(eng_->array_write(ref_, 0, d.data(), d.size(), cs_, nullptr, d.size()).ok());
  eng_.reset();
  fs::resize_file(data_path(ref_), kChunk + 100);
  open_engine();
  std::string got;
  EXPECT_EQ(read(ref_, 0, d.size(), &got, cs_).code(), EDAOS_CSUM);
  EXPECT_EQ(read(ref_, kChunk, 10, &got, cs_).code(), EDAOS_CSUM);
  EXPECT_TRUE(read(ref_, 0, kChunk, &got, cs_).ok());
  eng_.reset();
  fs::resize_file(data_path(ref_), 0);
  open_engine();
  EXPECT_EQ(read(ref_, 0, 1, &got, cs_).code(), EDAOS_CSUM);
  // The data file deleted outright: the records still name its bytes.
  eng_.reset();
  fs::remove(data_path(ref_));
  open_engine();
  EXPECT_EQ(read(ref_, 0, 1, &got, cs_).code(), EDAOS_CSUM);
}

TEST_F(RecordsTest, TruncatedOrZeroedSidecarIsDetectedWhereDataIsNonZero) {
  const std::string d = pattern(4 * kChunk, 4);
  ASSERT_TRUE(eng_->array_write(ref_, 0, d.data(), d.size(), cs_, nullptr, d.size()).ok());
  eng_.reset();
  fs::resize_file(sidecar(ref_), kHdr + 2 * kEntry);  // entries of chunks 2, 3 gone
  open_engine();
  std::string got;
  EXPECT_TRUE(read(ref_, 0, 2 * kChunk, &got, cs_).ok());
  Status st = read(ref_, 2 * kChunk, kChunk, &got, cs_);
  EXPECT_EQ(st.code(), EDAOS_CSUM) << st.to_string();
  EXPECT_NE(st.message().find("no checksum record"), std::string::npos) << st.to_string();
  eng_.reset();
  pwrite_at(sidecar(ref_), kHdr, std::string(kEntry, '\0'));  // entry 0 zeroed
  open_engine();
  EXPECT_EQ(read(ref_, 0, 1, &got, cs_).code(), EDAOS_CSUM);
  eng_.reset();
  fs::resize_file(sidecar(ref_), 0);  // `truncate -s 0` of the sidecar
  open_engine();
  EXPECT_EQ(read(ref_, kChunk, 1, &got, cs_).code(), EDAOS_CSUM);
  // Holes stay readable: a chunk that was never written has no record and reads as zeros.
  EXPECT_TRUE(read(ref_, 100 * kChunk, kChunk, &got, cs_).ok());
  EXPECT_EQ(got, std::string(kChunk, '\0'));
}

TEST_F(RecordsTest, FlippedByteIsDetected) {
  const std::string d = pattern(3 * kChunk, 5);
  ASSERT_TRUE(eng_->array_write(ref_, 0, d.data(), d.size(), cs_, nullptr, d.size()).ok());
  std::string b = file_bytes(data_path(ref_)).substr(kChunk + 7, 1);
  b[0] ^= 0x10;
  pwrite_at(data_path(ref_), kChunk + 7, b);
  std::string got;
  EXPECT_EQ(read(ref_, kChunk, kChunk, &got, cs_).code(), EDAOS_CSUM);
}

TEST_F(RecordsTest, OlderCopyOfTheDataFileIsDetected) {
  const std::string v1 = pattern(4 * kChunk, 6), v2 = pattern(4 * kChunk, 7);
  ASSERT_TRUE(eng_->array_write(ref_, 0, v1.data(), v1.size(), cs_, nullptr, v1.size()).ok());
  const std::string old = file_bytes(data_path(ref_));
  ASSERT_TRUE(eng_->array_write(ref_, 0, v2.data(), v2.size(), cs_, nullptr, v2.size()).ok());
  eng_.reset();
  put_file(data_path(ref_), old);
  open_engine();
  std::string got;
  EXPECT_EQ(read(ref_, 0, v1.size(), &got, cs_).code(), EDAOS_CSUM);
}

TEST_F(RecordsTest, BytesMovedToAnotherChunkOrShardAreDetected) {
  const std::string d = pattern(4 * kChunk, 8);
  ASSERT_TRUE(eng_->array_write(ref_, 0, d.data(), d.size(), cs_, nullptr, d.size()).ok());
  // Chunk 1 copied over chunk 2, with its sidecar entry: each is valid where it came from.
  const std::string data = file_bytes(data_path(ref_)), side = file_bytes(sidecar(ref_));
  eng_.reset();
  pwrite_at(data_path(ref_), 2 * kChunk, data.substr(kChunk, kChunk));
  pwrite_at(sidecar(ref_), kHdr + 2 * kEntry, side.substr(kHdr + kEntry, kEntry));
  open_engine();
  std::string got;
  EXPECT_TRUE(read(ref_, kChunk, kChunk, &got, cs_).ok());
  EXPECT_EQ(read(ref_, 2 * kChunk, kChunk, &got, cs_).code(), EDAOS_CSUM);
  // A whole shard (data + sidecar) copied to another shard's files.
  ShardRef other = ref_;
  other.shard = 4;
  const std::string o = pattern(4 * kChunk, 9);
  ASSERT_TRUE(eng_->array_write(other, 0, o.data(), o.size(), cs_, nullptr, o.size()).ok());
  eng_.reset();
  put_file(data_path(other), data);
  put_file(sidecar(other), side);
  open_engine();
  EXPECT_EQ(read(other, 0, kChunk, &got, cs_).code(), EDAOS_CSUM);
}

// The documented limit: an older data file *and* its sidecar put back together are a
// self-consistent shard; the engine alone cannot tell them from the current one (the
// client catches it for EC cells when they meet parity: mpi_fault_integrity.cpp).
TEST_F(RecordsTest, OlderConsistentPairIsNotDetectedByTheEngineAlone) {
  const std::string v1 = pattern(2 * kChunk, 10), v2 = pattern(2 * kChunk, 11);
  ASSERT_TRUE(eng_->array_write(ref_, 0, v1.data(), v1.size(), cs_, nullptr, v1.size()).ok());
  const std::string od = file_bytes(data_path(ref_)), os = file_bytes(sidecar(ref_));
  ASSERT_TRUE(eng_->array_write(ref_, 0, v2.data(), v2.size(), cs_, nullptr, v2.size()).ok());
  eng_.reset();
  put_file(data_path(ref_), od);
  put_file(sidecar(ref_), os);
  open_engine();
  std::string got;
  EXPECT_TRUE(read(ref_, 0, v1.size(), &got, cs_).ok());
  EXPECT_EQ(got, v1);
}

TEST_F(RecordsTest, WritesWithoutChecksumsLeaveUnitsUnprotectedNotCorrupt) {
  const std::string d = pattern(2 * kChunk, 12), p = pattern(100, 13);
  ASSERT_TRUE(eng_->array_write(ref_, 0, d.data(), d.size(), cs_, nullptr, d.size()).ok());
  ASSERT_TRUE(eng_->array_write(ref_, 50, p.data(), p.size(), {}, nullptr, 0).ok());
  std::string got;
  ASSERT_TRUE(read(ref_, 0, d.size(), &got, cs_).ok());
  EXPECT_EQ(got, d.substr(0, 50) + p + d.substr(150));
  // Chunk 1 keeps its record: still verified.
  pwrite_at(data_path(ref_), kChunk + 1, "\x01");
  EXPECT_EQ(read(ref_, kChunk, kChunk, &got, cs_).code(), EDAOS_CSUM);
}

// ---- kills inside a change (array_write's crash windows) ----

// Runs `fn` in a child that _exits at fault point `at`; returns the child's exit code.
template <typename Fn>
int child_killed_at(const char* at, Fn fn) {
  static const char* g_at;
  g_at = at;
  pid_t pid = ::fork();
  if (pid == 0) {
    set_fault_hook_for_testing([](const char* point) {
      if (std::strcmp(point, g_at) == 0) ::_exit(42);  // as kill -9 there would
    });
    fn();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(RecordsTest, KilledBeforeTheDataReadsTheOldBytesThenOnlyThem) {
  const std::string v1 = pattern(3 * kChunk, 14), v2 = pattern(3 * kChunk, 15);
  ASSERT_TRUE(eng_->array_write(ref_, 0, v1.data(), v1.size(), cs_, nullptr, v1.size()).ok());
  eng_.reset();
  int rc = child_killed_at("array_write:records", [&] {
    open_engine();
    (void)eng_->array_write(ref_, 100, v2.data(), 2 * kChunk, cs_, nullptr, 0);
  });
  ASSERT_EQ(rc, 42);
  open_engine();
  std::string got;
  Status st = read(ref_, 0, v1.size(), &got, cs_);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(got, v1);  // the change never reached the data: old bytes, acknowledged before
  // Resolved: the interrupted change's records are gone, so its bytes no longer verify.
  eng_.reset();
  pwrite_at(data_path(ref_), 100, v2.substr(0, 2 * kChunk));
  open_engine();
  EXPECT_EQ(read(ref_, 0, v1.size(), &got, cs_).code(), EDAOS_CSUM);
}

TEST_F(RecordsTest, KilledAfterTheDataReadsTheNewBytesThenOnlyThem) {
  const std::string v1 = pattern(3 * kChunk, 16), v2 = pattern(3 * kChunk, 17);
  ASSERT_TRUE(eng_->array_write(ref_, 0, v1.data(), v1.size(), cs_, nullptr, v1.size()).ok());
  eng_.reset();
  int rc = child_killed_at("array_write:data", [&] {
    open_engine();
    (void)eng_->array_write(ref_, 0, v2.data(), v2.size(), cs_, nullptr, 0);
  });
  ASSERT_EQ(rc, 42);
  open_engine();
  std::string got;
  ASSERT_TRUE(read(ref_, 0, v2.size(), &got, cs_).ok());
  EXPECT_EQ(got, v2);
  eng_.reset();
  put_file(data_path(ref_), v1);  // the previous bytes no longer verify once resolved
  open_engine();
  EXPECT_EQ(read(ref_, 0, v1.size(), &got, cs_).code(), EDAOS_CSUM);
}

TEST_F(RecordsTest, TornChunkIsAnErrorNotWrongBytes) {
  const std::string v1 = pattern(2 * kChunk, 18), v2 = pattern(2 * kChunk, 19);
  ASSERT_TRUE(eng_->array_write(ref_, 0, v1.data(), v1.size(), cs_, nullptr, v1.size()).ok());
  eng_.reset();
  int rc = child_killed_at("array_write:records", [&] {
    open_engine();
    (void)eng_->array_write(ref_, 0, v2.data(), v2.size(), cs_, nullptr, 0);
  });
  ASSERT_EQ(rc, 42);
  pwrite_at(data_path(ref_), kChunk / 2, v2.substr(kChunk / 2, kChunk));  // half landed
  open_engine();
  std::string got;
  EXPECT_EQ(read(ref_, 0, kChunk, &got, cs_).code(), EDAOS_CSUM);
  EXPECT_EQ(read(ref_, kChunk, kChunk, &got, cs_).code(), EDAOS_CSUM);
}

// ---- EC records ----

TEST_F(RecordsTest, EcRecordReadsReportVersionsAndVectors) {
  const uint32_t cell = 8192;
  CsumSpec off;  // checksums off in the container: EC cells are recorded anyway
  off.fn = &test_csum;
  RecordSpec data{RecordKind::kEcData, cell, 2}, parity{RecordKind::kEcParity, cell, 2};
  ShardRef d0 = ref_, p0 = ref_;
  d0.shard = 0;
  p0.shard = 2;
  const std::string a = pattern(cell, 20), b = pattern(cell, 21);
  const uint64_t vec[2] = {0x100, 0x200};
  ASSERT_TRUE(eng_->array_write(d0, cell, a.data(), a.size(), off, nullptr, 0, data,
                                WriteStamp{0x100, nullptr})
                  .ok());
  ASSERT_TRUE(eng_->array_write(p0, cell, b.data(), b.size(), off, nullptr, 0, parity,
                                WriteStamp{0x300, vec})
                  .ok());
  std::string got;
  UnitState s;
  ASSERT_TRUE(read(d0, cell, cell, &got, off, data, &s).ok());
  EXPECT_EQ(got, a);
  EXPECT_EQ(s.flags, UnitState::kAtCur);
  EXPECT_EQ(s.version, 0x100u);
  ASSERT_TRUE(read(p0, cell, cell, &got, off, parity, &s).ok());
  EXPECT_EQ(s.version, 0x300u);
  EXPECT_EQ(s.vec, (std::vector<uint64_t>{0x100, 0x200}));
  ASSERT_TRUE(read(p0, 0, cell, &got, off, parity, &s).ok());  // never written: a hole
  EXPECT_EQ(s.flags, UnitState::kHole);
  EXPECT_EQ(s.vec, (std::vector<uint64_t>{0, 0}));
  // A partial write of a cell re-records the whole cell under the new version.
  ASSERT_TRUE(
      eng_->array_write(d0, cell + 10, "xyz", 3, off, nullptr, 0, data, WriteStamp{0x400, nullptr})
          .ok());
  ASSERT_TRUE(read(d0, cell, cell, &got, off, data, &s).ok());
  EXPECT_EQ(s.version, 0x400u);
  EXPECT_EQ(got, a.substr(0, 10) + "xyz" + a.substr(13));
  // With checksums off a record read checks only what a killed process left pending: it
  // returns the record with its bound checksum, and the caller checks bytes it combines.
  CsumSpec on = off;
  on.type = CsumType::kCrc32c;
  pwrite_at(data_path(d0), cell, std::string(cell, '\0'));
  ASSERT_TRUE(read(d0, cell, cell, &got, off, data, &s).ok());
  EXPECT_EQ(s.flags & UnitState::kVerified, 0u);
  EXPECT_NE(bind_unit_csum(test_csum(CsumType::kCrc32c, got.data(), cell, 0), d0, 1, s.version),
            s.csum);  // what the client computes: the zeroed cell does not match its record
  EXPECT_EQ(read(d0, cell, cell, &got, on, data, &s).code(), EDAOS_CSUM);  // checksums on
  // ... and an EC cell without any record (its sidecar deleted) must be zeros: it is not.
  eng_.reset();
  fs::remove(sidecar(p0));
  open_engine();
  ASSERT_TRUE(read(p0, cell, cell, &got, off, parity, &s).ok());
  EXPECT_EQ(s.flags & UnitState::kHole, UnitState::kHole);
  EXPECT_NE(got, std::string(cell, '\0'));
  EXPECT_EQ(read(p0, cell, cell, &got, on, parity, &s).code(), EDAOS_CSUM);
  // Requests must match the shard's record layout.
  EXPECT_EQ(read(d0, cell, cell, &got, off, parity, &s).code(), EDAOS_INVAL);
  EXPECT_EQ(eng_->array_write(d0, 0, "x", 1, off, nullptr, 0, data, WriteStamp{}).code(),
            EDAOS_INVAL);  // no version
}

TEST_F(RecordsTest, EcCellKilledBeforeItsDataStaysAtItsOldVersion) {
  const uint32_t cell = 4096;
  CsumSpec off;
  off.fn = &test_csum;
  RecordSpec data{RecordKind::kEcData, cell, 2};
  const std::string a = pattern(cell, 22), b = pattern(cell, 23);
  ASSERT_TRUE(
      eng_->array_write(ref_, 0, a.data(), a.size(), off, nullptr, 0, data, WriteStamp{7, nullptr})
          .ok());
  eng_.reset();
  int rc = child_killed_at("array_write:records", [&] {
    open_engine();
    (void)eng_->array_write(ref_, 0, b.data(), b.size(), off, nullptr, 0, data,
                            WriteStamp{8, nullptr});
  });
  ASSERT_EQ(rc, 42);
  open_engine();
  std::string got;
  UnitState s;
  ASSERT_TRUE(read(ref_, 0, cell, &got, off, data, &s).ok());
  EXPECT_EQ(got, a);
  EXPECT_EQ(s.version, 7u);
}

// Session 8, direct partial EC stripes: the writer stores its record pending (kPrepare) before
// its pwrite and holds the cell's OFD write lock until its finish. A read in between gets the
// cell at whichever record its bytes match and must not store that: settled to the old record
// before the pwrite, the cell would fail verification once the new bytes land (the finish
// then finds no pending entry). A finish that comes after the entry was settled or replaced
// changes nothing. (Fails without the lock check in rec_verify: the last read is EDAOS_CSUM.)
TEST_F(RecordsTest, DirectPartialWritersPendingRecordIsNotSettledWhileItHoldsTheLock) {
  const uint32_t cell = 4096;
  CsumSpec off;
  off.fn = &test_csum;
  RecordSpec data{RecordKind::kEcData, cell, 2};
  const std::string a = pattern(cell, 24), b = pattern(cell, 25);
  ASSERT_TRUE(
      eng_->array_write(ref_, 0, a.data(), a.size(), off, nullptr, 0, data, WriteStamp{7, nullptr})
          .ok());
  Engine::DirectGrant g;
  ASSERT_TRUE(eng_->direct_grant(ref_, off, data, true, &g).ok());
  auto rec = [&](const std::string& bytes, uint64_t v) {
    Engine::DirectRecord r;
    r.unit = 0;
    r.version = v;
    r.csum = bind_unit_csum(test_csum(CsumType::kCrc32c, bytes.data(), cell, 0), ref_, 0, v);
    return r;
  };
  const int fd = ::open(g.path.c_str(), O_RDWR | O_CLOEXEC);  // the writer's own description
  ASSERT_GE(fd, 0);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_len = cell;
  ASSERT_EQ(::fcntl(fd, F_OFD_SETLKW, &fl), 0);
  ASSERT_TRUE(
      eng_->direct_commit(ref_, off, data, {rec(b, 8)}, 0, Engine::CommitMode::kPrepare).ok());
  std::string got;
  UnitState s;
  ASSERT_TRUE(read(ref_, 0, cell, &got, off, data, &s).ok());  // before the pwrite: old
  EXPECT_EQ(got, a);
  EXPECT_EQ(s.version, 7u);
  ASSERT_EQ(::pwrite(fd, b.data(), cell, 0), static_cast<ssize_t>(cell));
  ASSERT_TRUE(read(ref_, 0, cell, &got, off, data, &s).ok());  // after it: new
  EXPECT_EQ(got, b);
  EXPECT_EQ(s.version, 8u);
  ASSERT_TRUE(
      eng_->direct_commit(ref_, off, data, {rec(b, 8)}, 0, Engine::CommitMode::kFinish).ok());
  fl.l_type = F_UNLCK;
  ASSERT_EQ(::fcntl(fd, F_OFD_SETLK, &fl), 0);
  ASSERT_TRUE(read(ref_, 0, cell, &got, off, data, &s).ok());
  EXPECT_EQ(got, b);
  EXPECT_EQ(s.version, 8u);
  // A writer killed after its prepare (no lock, no pwrite): the next read settles the cell to
  // the bytes it holds, and a late finish of that record changes nothing.
  ASSERT_TRUE(
      eng_->direct_commit(ref_, off, data, {rec(a, 9)}, 0, Engine::CommitMode::kPrepare).ok());
  ASSERT_TRUE(read(ref_, 0, cell, &got, off, data, &s).ok());
  EXPECT_EQ(got, b);
  EXPECT_EQ(s.version, 8u);
  ASSERT_TRUE(
      eng_->direct_commit(ref_, off, data, {rec(a, 9)}, 0, Engine::CommitMode::kFinish).ok());
  ASSERT_TRUE(read(ref_, 0, cell, &got, off, data, &s).ok());
  EXPECT_EQ(got, b);
  EXPECT_EQ(s.version, 8u);
  ::close(fd);
}

// ---- legacy (format 1-3) engines ----

TEST_F(RecordsTest, LegacySidecarsAreConvertedAndCorruptChunksStayDetected) {
  // Build what a format-3 engine leaves: FORMAT 3, a format-1 sidecar (24-byte entries of csum,
  // prev, flags) for a checksummed shard, and an EC shard without a sidecar.
  const std::string d = pattern(4 * kChunk, 24);
  ASSERT_TRUE(eng_->array_write(ref_, 0, d.data(), d.size(), {}, nullptr, d.size()).ok());
  ShardRef ec = ref_;
  ec.shard = 7;
  const std::string e = pattern(2 * kChunk, 25);
  ASSERT_TRUE(eng_->array_write(ec, 0, e.data(), e.size(), {}, nullptr, e.size()).ok());
  eng_.reset();
  std::string side("EDCSUM01", 8);
  auto le32 = [](std::string* s, uint32_t v) {
    for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto le64 = [](std::string* s, uint64_t v) {
    for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  le32(&side, 1);
  le32(&side, kChunk);
  side.push_back(static_cast<char>(CsumType::kCrc32c));
  side.resize(32, '\0');
  for (int c = 0; c < 4; ++c) {
    le64(&side, test_csum(CsumType::kCrc32c, d.data() + c * kChunk, kChunk, 0));
    le64(&side, 0);
    le32(&side, 1);
    le32(&side, 0);
  }
  put_file(sidecar(ref_), side);
  pwrite_at(data_path(ref_), 3 * kChunk + 5, "\x7f");  // chunk 3 corrupt before the upgrade
  put_file(dir_ + "/FORMAT", "EDAOS-ENGINE 3\nntargets 2\n");
  fs::remove(dir_ + "/intents.log");
  open_engine();
  std::string got;
  ASSERT_TRUE(read(ref_, 0, 3 * kChunk, &got, cs_).ok());
  EXPECT_EQ(got, d.substr(0, 3 * kChunk));
  EXPECT_EQ(read(ref_, 3 * kChunk, kChunk, &got, cs_).code(), EDAOS_CSUM);
  EXPECT_EQ(file_bytes(sidecar(ref_)).substr(0, 8), "EDCSUM02");
  EXPECT_EQ(file_bytes(dir_ + "/FORMAT"), "EDAOS-ENGINE 4\nntargets 2\nlegacy 1\n");
  // The EC shard (no sidecar in a legacy engine): cells at the legacy version.
  CsumSpec off;
  off.fn = &test_csum;
  RecordSpec data{RecordKind::kEcData, kChunk, 2};
  UnitState s;
  ASSERT_TRUE(read(ec, kChunk, kChunk, &got, off, data, &s).ok());
  EXPECT_EQ(got, e.substr(kChunk));
  EXPECT_EQ(s.version, kLegacyVersion);
  // Conversion made the records current: damage is detected from now on.
  pwrite_at(data_path(ec), 10, std::string(3, '\0'));
  CsumSpec on = off;
  on.type = CsumType::kCrc32c;
  EXPECT_EQ(read(ec, 0, kChunk, &got, on, data, &s).code(), EDAOS_CSUM);
}

// ---- intents ----

TEST_F(RecordsTest, IntentsLeftByAKilledProcessAreOrphans) {
  bool orphan = true;
  ASSERT_TRUE(eng_->intent_set("clean", "p0", &orphan).ok());
  EXPECT_FALSE(orphan);
  ASSERT_TRUE(eng_->intent_clear("clean").ok());
  EXPECT_TRUE(eng_->intent_orphans().empty());
  eng_.reset();
  pid_t pid = ::fork();
  if (pid == 0) {
    open_engine();
    bool o = false;
    if (!eng_->intent_set("stripe-a", "payload-a", &o).ok()) ::_exit(2);
    if (!eng_->intent_set("stripe-b", "payload-b", &o).ok()) ::_exit(2);
    if (!eng_->intent_clear("stripe-b").ok()) ::_exit(2);
    ::kill(::getpid(), SIGKILL);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  {  // a torn record after them (machine crash) is skipped
    std::ofstream f(dir_ + "/intents.log", std::ios::binary | std::ios::app);
    f << "EDIN\x01torn";
  }
  open_engine();
  auto o = eng_->intent_orphans();
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0].first, "stripe-a");
  EXPECT_EQ(o[0].second, "payload-a");
  ASSERT_TRUE(eng_->intent_set("stripe-a", "again", &orphan).ok());
  EXPECT_TRUE(orphan);  // the lock holder learns it re-encodes a stripe left dirty
  ASSERT_TRUE(eng_->intent_clear("stripe-a").ok());
  EXPECT_TRUE(eng_->intent_orphans().empty());
  open_engine();
  EXPECT_TRUE(eng_->intent_orphans().empty());
}

}  // namespace
}  // namespace edaos::objstore::vos
