// DirectShardIo (issue 15 item 1, seam points 1-3 of objstore/src/rpc/README.md): for engines
// whose server rank runs on this node, replica and single-shard data moves between the
// caller's buffers and the shard's data file with one pwrite/pread; the engine keeps records,
// sizes, locks and exclusion, granted and updated through kShardLease / kShardCommit /
// kShardRelease. Everything else goes to the RpcShardIo underneath. See client/README.md
// ("Direct path").
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "client/shard_io.hpp"
#include "common/log.hpp"
#include "ec/checksum.hpp"
#include "vos/engine.hpp"
#include "vos/records.hpp"

EDAOS_LOG_FACILITY(direct);

namespace edaos::objstore::client {

void note_sent();  // batch.cpp: a message of this thread is under way (round-trip counting)

using rpc::Writer;

namespace {

// The shard a lease is on (engine included: a pool map change may move nothing, but two
// engines never share a shard file).
using ShardKey = std::tuple<Uuid, uint64_t, uint64_t, uint32_t, uint32_t>;
ShardKey key_of(const ShardId& s) { return {s.cont, s.oid.hi, s.oid.lo, s.shard, s.engine}; }

// A server's size-change page, mapped read-only (rpc/README.md "Size bound").
// The checksum and record specs a direct reader verifies with (the container's checksum for
// replicas and single shards; vos/README.md "Record sidecar"), for DirectShardIo and
// DirectStripeImpl alike.
vos::CsumSpec csum_spec(const rpc::CsumWire& w) {
  vos::CsumSpec c;
  c.type = w.type;
  c.chunk = w.chunk ? w.chunk : 32768;
  c.fn = &ec::csum_compute;
  return c;
}
vos::RecordSpec record_spec(const rpc::RecWire& w) {
  vos::RecordSpec r;
  r.kind = static_cast<vos::RecordKind>(w.kind);
  r.unit = w.unit;
  r.k = w.k;
  return r;
}

struct SizePage {
  const uint64_t* map = nullptr;
  ~SizePage() {
    if (map) ::munmap(const_cast<uint64_t*>(map), rpc::kLeasePageBytes);
  }
  uint64_t gen(uint32_t slot) const {
    return __atomic_load_n(map + (slot % rpc::kLeasePageSlots), __ATOMIC_SEQ_CST);
  }
  // nullptr when it cannot be mapped (reads then carry no bound, as before).
  static std::shared_ptr<SizePage> open(const std::string& path) {
    if (path.empty()) return nullptr;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat st {};
    void* m = MAP_FAILED;
    if (::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) >= rpc::kLeasePageBytes)
      m = ::mmap(nullptr, rpc::kLeasePageBytes, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (m == MAP_FAILED) return nullptr;
    auto p = std::make_shared<SizePage>();
    p->map = static_cast<const uint64_t*>(m);
    return p;
  }
};

// A lease as this process holds it. A write lease also serves reads.
struct Lease {
  ShardId shard;
  uint64_t id = 0;  // write lease id at the server; 0: read lease
  bool write = false;
  bool usable = false;   // false: the engine refused; ops go through it
  bool records = false;  // units need records (kAuto: checksums on; EC cells: always)
  rpc::RecWire spec;     // the shard's record kind, unit (EC: the cell) and k
  uint64_t map_version = 0;
  std::string path, sidecar;
  std::mutex mu;  // one direct write (data + commit) of this process on the shard at a time
  std::mutex fd_mu;
  int fd = -1, sfd = -1;
  // Descriptors open in all leases of the connection (DirectShardIo::trim_fds_locked keeps them
  // under a share of RLIMIT_NOFILE), and when DirectShardIo last handed this lease out.
  std::shared_ptr<std::atomic<int64_t>> open_fds;
  uint64_t last_use = 0;  // under DirectShardIo::mu_
  // The size bound (client/README.md "Size bound"): the shard's logical end as granted, raised
  // by this process's commits, valid while the server's page still shows generation `gen` at
  // `slot` (no truncate or removal of the shard since the engine read the end).
  std::mutex end_mu;
  std::shared_ptr<SizePage> page;
  uint32_t slot = 0;
  uint64_t gen = 0, end = 0;
  bool end_ok = false;
  void set_end(std::shared_ptr<SizePage> p, uint32_t s, uint64_t g, uint64_t e, bool ok) {
    std::lock_guard<std::mutex> lk(end_mu);
    page = std::move(p);
    slot = s;
    gen = g;
    end = e;
    end_ok = ok && page;
  }
  // The bound, read after the bytes it goes with; 0 when it may be stale.
  uint64_t bound() {
    std::lock_guard<std::mutex> lk(end_mu);
    if (end_ok && page->gen(slot) != gen) end_ok = false;
    return end_ok ? end : 0;
  }
  // A reader renews the end (kShardLease for a read) once the page shows a change.
  bool renew_end() {
    std::lock_guard<std::mutex> lk(end_mu);
    return page && (!end_ok || page->gen(slot) != gen);
  }
  // This process's commit raised the shard's logical end to at least e.
  void raise_end(uint64_t e) {
    std::lock_guard<std::mutex> lk(end_mu);
    end = std::max(end, e);
  }
  ~Lease() { (void)close_fds(); }
  // Closes both descriptors (reopened by name on the next use). Only with no op using the lease.
  // Returns how many it closed.
  int close_fds() {
    std::lock_guard<std::mutex> g(fd_mu);
    return drop_fd(&fd) + drop_fd(&sfd);
  }
  // Under fd_mu: closes *f if open (counted out of open_fds); 1 if it was open.
  int drop_fd(int* f) {
    if (*f < 0) return 0;
    ::close(*f);
    *f = -1;
    if (open_fds) open_fds->fetch_sub(1, std::memory_order_relaxed);
    return 1;
  }
  // Under fd_mu: opens `p` into *f, counted into open_fds when it opened.
  void open_fd(int* f, const std::string& p, int flags) {
    *f = ::open(p.c_str(), flags | O_CLOEXEC);
    if (*f >= 0 && open_fds) open_fds->fetch_add(1, std::memory_order_relaxed);
  }
  // The data file (opened now if it exists; -1 and OK when it does not exist yet). A file the
  // engine removed since (object or container removal) is reopened by name.
  Result<int> data_fd() {
    std::lock_guard<std::mutex> g(fd_mu);
    if (fd >= 0 && !removed(fd)) return fd;
    drop_fd(&fd);
    open_fd(&fd, path, write ? O_RDWR : O_RDONLY);
    if (fd < 0 && errno != ENOENT)
      return Status(EDAOS_IO, "open " + path + ": " + std::strerror(errno));
    return fd;
  }
  int sidecar_fd() {
    std::lock_guard<std::mutex> g(fd_mu);
    if (sfd >= 0 && removed(sfd)) drop_fd(&sfd);
    if (sfd < 0) open_fd(&sfd, sidecar, O_RDONLY);
    return sfd;
  }
  // A write lease's descriptors for a writer: the open ones as they are, with no `fstat` for a
  // removal (session 10: two per cell of every partial EC stripe). A writer needs no such check:
  // a removal through the engine recalls the write lease, so the writer's next kShardCommit (a
  // partial stripe's prepare, before any byte is written; a call's commit, which is then redone
  // through the engine) is answered stale. Closed descriptors (idle leases trimmed under the
  // descriptor budget) are reopened by name.
  Result<int> writer_data_fd() {
    std::lock_guard<std::mutex> g(fd_mu);
    if (fd >= 0) return fd;
    open_fd(&fd, path, O_RDWR);
    if (fd < 0 && errno != ENOENT)
      return Status(EDAOS_IO, "open " + path + ": " + std::strerror(errno));
    return fd;
  }
  int writer_sidecar_fd() {
    std::lock_guard<std::mutex> g(fd_mu);
    if (sfd < 0) open_fd(&sfd, sidecar, O_RDONLY);
    return sfd;
  }
  static bool removed(int f) {
    struct stat st {};
    return ::fstat(f, &st) != 0 || st.st_nlink == 0;
  }
};

Status errno_status(int err, const std::string& what) {
  return Status(err == ENOSPC || err == EDQUOT ? EDAOS_NOSPACE : EDAOS_IO,
                what + ": " + std::strerror(err));
}

Status pwrite_all(int fd, const void* p, size_t n, uint64_t off, const std::string& path) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::pwrite(fd, c, n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return errno_status(w < 0 ? errno : EIO, "direct write of " + path);
    c += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

// Fills iov[0..n) from off on, back to back (consumes the iovecs); bytes past the end of the
// file (or of a missing file, fd < 0) are 0.
Status preadv_full(int fd, struct iovec* iov, size_t n, uint64_t off, const std::string& path) {
  size_t i = 0;
  while (i < n && fd >= 0) {
    const int k = static_cast<int>(std::min<size_t>(n - i, IOV_MAX));
    size_t want = 0;
    for (int j = 0; j < k; ++j) want += iov[i + j].iov_len;
    ssize_t r = ::preadv(fd, iov + i, k, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno_status(errno, "direct read of " + path);
    if (r == 0) break;
    // A regular file reads short only at its end: the rest is zeros, without a second call
    // that returns 0 (session 11: IOR-hard's last edge unit past the end cost one more preadv
    // in every other write).
    const bool short_read = static_cast<size_t>(r) < want;
    off += static_cast<uint64_t>(r);
    for (size_t got = static_cast<size_t>(r); got > 0;) {
      const size_t n1 = std::min(got, iov[i].iov_len);
      iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + n1;
      iov[i].iov_len -= n1;
      got -= n1;
      if (iov[i].iov_len == 0) ++i;
    }
    if (short_read) break;
  }
  for (; i < n; ++i) std::memset(iov[i].iov_base, 0, iov[i].iov_len);
  return Status::OK();
}

// Reads n bytes at off (zeros past the end, as preadv_full).
Status pread_all(int fd, void* p, size_t n, uint64_t off, const std::string& path) {
  struct iovec v = {p, n};
  return preadv_full(fd, &v, n ? 1 : 0, off, path);
}

// Reads the iovecs' bytes from off on, back to back (as preadv_full).
Status preadv_all(int fd, const std::vector<IoVec>& into, uint64_t off, const std::string& path) {
  std::vector<struct iovec> iov;
  iov.reserve(into.size());
  for (const IoVec& v : into)
    if (v.len) iov.push_back({v.base, v.len});
  return preadv_full(fd, iov.data(), iov.size(), off, path);
}

// Exclusive lock of [off, off + len) of the data file against the other processes of this
// node that write it directly (open file description locks: per fd, released by close too).
Status ofd_lock(int fd, uint64_t off, uint64_t len, bool lock, const std::string& path) {
  struct flock fl {};
  fl.l_type = lock ? F_WRLCK : F_UNLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(off);
  fl.l_len = static_cast<off_t>(len);
  while (::fcntl(fd, F_OFD_SETLKW, &fl) != 0) {
    if (errno == EINTR) continue;
    return errno_status(errno, "lock units of " + path);
  }
  return Status::OK();
}

std::atomic<void (*)(const char*)> g_hook{nullptr};

// Bounce memory of direct reads of partial units and of the partial units a direct write
// checksums: one buffer per thread, kept across calls, so a read of a piece inside a cell
// (IOR-hard: 47008 bytes in 128 KiB cells) neither maps nor faults in fresh pages each time
// (a fresh 128 KiB buffer per call is a fresh mapping of 32 pages above malloc's mmap
// threshold). Larger needs (a read of many partial units at once) are not kept: nullptr, and
// the caller takes the set's scratch for them.
constexpr size_t kKeptBounceBytes = size_t{4} << 20;
char* thread_bounce(size_t n) {
  thread_local std::unique_ptr<char[]> buf;
  thread_local size_t have = 0;
  if (n > kKeptBounceBytes) return nullptr;
  if (n > have) {
    const size_t want = std::max(n, std::min(kKeptBounceBytes, have * 2));
    buf.reset();
    buf.reset(new char[want]);
    have = want;
  }
  return buf.get();
}

class DirectShardIo;

class DirectShardOps final : public ShardOps {
 public:
  DirectShardOps(PoolState* p, DirectShardIo* io, std::unique_ptr<ShardOps> rpc,
                 const rpc::CsumWire& csum)
      : p_(p), io_(io), rpc_(std::move(rpc)), csum_(csum) {}

  size_t write(const ShardId& s, uint64_t local, std::vector<ConstIoVec> data, uint64_t logical_end,
               const rpc::RecWire& rw) override;
  size_t read(const ShardId& s, uint64_t local, std::vector<IoVec> into, const rpc::RecWire& rw,
              std::vector<uint8_t>* state) override;
  size_t punch(const ShardId& s, uint64_t local, uint64_t len, const rpc::RecWire& rw) override {
    return forward(rpc_->punch(s, local, len, rw));
  }
  size_t truncate(const ShardId& s, uint64_t local_keep, uint64_t logical,
                  const rpc::RecWire& rw) override {
    return forward(rpc_->truncate(s, local_keep, logical, rw));
  }
  size_t size(const ShardId& s) override { return forward(rpc_->size(s)); }
  size_t remove(const ShardId& s) override { return forward(rpc_->remove(s)); }
  void run() override;
  size_t count() const override { return ops_.size(); }
  Status status(size_t i) const override {
    return ops_[i].direct ? ops_[i].st : rpc_->status(ops_[i].rpc);
  }
  uint64_t value(size_t i) const override {
    return ops_[i].direct ? ops_[i].bound : rpc_->value(ops_[i].rpc);
  }
  void clear() override {
    ops_.clear();
    ran_ = 0;
    rpc_->clear();
    clear_scratch();
  }

 private:
  struct Op {
    bool direct = false;  // decided at add; an op that falls back gets an rpc index
    bool is_write = false;
    size_t rpc = 0;
    ShardId s;
    uint64_t local = 0, logical_end = 0;
    rpc::RecWire rw;
    std::vector<ConstIoVec> out;
    std::vector<IoVec> in;
    std::vector<uint8_t>* state = nullptr;  // a read of one EC cell with its record's state
    std::shared_ptr<Lease> lease;
    Status st;
    uint64_t bound = 0;  // a direct read: the lease's size bound when the bytes were read
  };
  size_t forward(size_t rpc_index) {
    ops_.emplace_back();
    ops_.back().rpc = rpc_index;
    return ops_.size() - 1;
  }
  // Sends op i through the engine instead (added to the RPC set, run by the caller).
  void fall_back(Op& o) {
    o.direct = false;
    o.rpc = o.is_write ? rpc_->write(o.s, o.local, o.out, o.logical_end, o.rw)
                       : rpc_->read(o.s, o.local, o.in, o.rw, o.state);
  }
  // A lease's record unit and checksum type: the container's for replicas and single shards,
  // the cell in crc32c for EC cells (vos/README.md "Record sidecar").
  uint64_t unit(const Lease& l) const {
    if (l.spec.kind != 0) return l.spec.unit;
    return csum_.chunk ? csum_.chunk : 32768;
  }
  CsumType type(const Lease& l) const { return l.spec.kind != 0 ? CsumType::kCrc32c : csum_.type; }
  vos::CsumSpec spec() const { return csum_spec(csum_); }
  // An EC cell write that may go direct: the set holds full stripes (allow_direct_cells), and
  // the write covers whole cells with a version (parity: and its k data versions).
  bool direct_cell_write(uint64_t local, const std::vector<ConstIoVec>& data,
                         const rpc::RecWire& rw) const {
    if (!direct_cells() || rw.kind > 2 || rw.unit == 0 || rw.version == 0) return false;
    if (rw.kind == 2 && (rw.k == 0 || rw.vec.size() != rw.k)) return false;
    uint64_t len = 0;
    for (const ConstIoVec& v : data) len += v.len;
    return len > 0 && local % rw.unit == 0 && len % rw.unit == 0;
  }
  void run_writes(const std::vector<size_t>& idx, bool pipelined);
  Status read_direct(Op& o);
  Status wait_commit_and_read(Op& o);

  PoolState* p_;
  DirectShardIo* io_;
  std::unique_ptr<ShardOps> rpc_;
  rpc::CsumWire csum_;
  std::vector<Op> ops_;
  size_t ran_ = 0;
};

class DirectShardIo final : public ShardIo {
 public:
  DirectShardIo(PoolState* p, std::shared_ptr<ShardIo> rpc) : p_(p), rpc_(std::move(rpc)) {
    const auto& hosts = p->rt->hosts;
    const std::string me =
        p->rt->rank < static_cast<int>(hosts.size()) ? hosts[p->rt->rank] : std::string();
    local_.resize(p->map.engines.size(), false);
    for (uint32_t e = 0; e < local_.size(); ++e) {
      const int srv = p->server_of(e);
      local_[e] =
          !me.empty() && srv >= 0 && srv < static_cast<int>(hosts.size()) && hosts[srv] == me;
    }
    // Leases keep their files open (two descriptors each) for the connection; a job touching
    // more shards than that (mdtest, fs copy: one shard per small file) would run out of
    // descriptors. They may hold a quarter of the process's limit; the least recently used of
    // the idle ones are closed beyond it (client/README.md "Leases").
    struct rlimit rl {};
    uint64_t lim = 1024;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) lim = rl.rlim_cur;
    fd_budget_ = static_cast<int64_t>(std::clamp<uint64_t>(lim / 4, 16, 16384));
    if (detach_finish_)
      EDAOS_LOG(info, "partial-stripe finishes are not waited for (EDAOS_DIRECT_PARTIAL_ASYNC)");
  }
  ~DirectShardIo() override { stop_completion(); }

  std::unique_ptr<ShardOps> ops(const rpc::CsumWire& csum) override {
    return std::make_unique<DirectShardOps>(p_, this, rpc_->ops(csum), csum);
  }
  // Every pipelined commit answered (and a stale one redone) first, so the engines' sync covers
  // every write that returned; an error a pipelined write met after it returned is this
  // sync's error (client/README.md "Commit pipelining").
  Status sync() override {
    drain();
    Status late = take_late_error();
    for (uint32_t e : take_written()) rpc_->written(e);
    Status st = rpc_->sync();
    return late.ok() ? st : late;
  }
  void close() override;
  void drain() override;
  Status close_object(const Uuid& cont, const ObjectId& oid) override {
    drain();
    std::lock_guard<std::mutex> g(pmu_);
    auto it = late_.find({cont, oid});
    if (it == late_.end()) return Status::OK();
    Status st = it->second.st;
    late_.erase(it);
    return st;
  }

  // --- Commit pipelining (client/README.md "Commit pipelining") ---
  // One write of a call, as its commit's completion may need it again: redone through the
  // engine when the commit comes back stale.
  struct Redo {
    size_t op = 0;  // index in the set (inline completion only)
    ShardId s;
    uint64_t local = 0, logical_end = 0;
    rpc::RecWire rw;
    std::vector<ConstIoVec> out;  // the caller's buffers (inline) or the call's copy (pipelined)
    Status st;
  };
  // The direct writes of one call and their commit: the shards' leases, the unit ranges locked
  // (OFD) on each, and each shard's records, sent in a kShardCommit by commit() (alone, or
  // pipelined together with the other calls queued meanwhile: "Commit coalescing").
  struct Inflight {
    struct Group {
      std::shared_ptr<Lease> lease;
      std::vector<std::pair<uint64_t, uint64_t>> locked;
      uint64_t logical_end = 0;
      std::vector<Redo> ops;
      // The commit entry: sent when `commit` (some data written or some op ok); `head` = the
      // container's checksum settings and the lease's record spec as encoded, `recs` the
      // encoded records of `units` (ascending).
      bool commit = false;
      std::string head, recs;
      std::vector<uint64_t> units;
      // The engine's answer (set by commit()): stale = the lease was recalled.
      Status answer;
      bool stale = false;
    };
    rpc::CsumWire csum;
    std::vector<std::unique_ptr<Group>> groups;
    std::unique_ptr<char[]> copy;  // pipelined: the bytes of every write of the call
    uint64_t bytes = 0;            // the call's bytes (a batch goes at kBatchMaxBytes)
    uint64_t ticket = 0;           // its ranges in busy_
    bool counted = false;          // one of the outstanding_ calls
    bool pipelined = false;        // returned before its commits were answered
  };
  using Range = std::pair<ShardKey, std::pair<uint64_t, uint64_t>>;
  // Calls outstanding per connection ($EDAOS_DIRECT_PIPELINE; <= 1: every call waits for its
  // commits, as before session 9) and the largest call that may return before its commits
  // are answered.
  size_t depth() const { return depth_; }
  static constexpr uint64_t kPipelineMaxBytes = uint64_t{4} << 20;
  // Commit batches (session 11, client/README.md "Commit batches"): the queued calls' commits
  // go once they are batch_calls_ calls (half the window) or kBatchMaxBytes, once the oldest
  // has waited batch_us_ ($EDAOS_DIRECT_BATCH_US; 0: at once, as session 10), or when someone
  // waits for them (a drain, sync, close, a call that needs the window or an overlapping range).
  static constexpr uint64_t kBatchMaxBytes = uint64_t{8} << 20;
  // Waits until no call of this process in progress or in flight holds a unit range
  // overlapping `ranges` on the same shard and, for a pipelined call, until fewer than
  // depth() calls are outstanding; then registers the ranges. Returns the ticket. *pipelined
  // becomes false once the connection is closing (the completion thread is gone).
  uint64_t reserve(const std::vector<Range>& ranges, bool* pipelined);
  // f's commits. Pipelined: queued for the completion thread, which sends them together with
  // the other calls queued by then (returns nullptr at once); else sent and waited for here,
  // finished, and f returned (the Redo statuses are the ops' outcomes).
  std::unique_ptr<Inflight> submit(std::unique_ptr<Inflight> f);

 private:
  // Replies of f's commits (they have arrived): raises the size bounds, marks the engines
  // written, redoes stale writes through the engine, then releases the OFD locks and the
  // ranges. Errors of a pipelined call are kept for the next sync.
  void finish(Inflight& f);
  void release(uint64_t ticket, bool pipelined);
  // Late errors are kept per object (the first of each), so the close of one file reports its
  // own writes' errors and not another's; a sync reports the oldest of all and forgets them all.
  void keep_late_error(const ShardId& s, const Status& st) {
    std::lock_guard<std::mutex> g(pmu_);
    auto& e = late_[{s.cont, s.oid}];
    if (e.st.ok()) {
      e.st = st;
      e.seq = ++late_seq_;
    }
  }
  Status take_late_error() {
    std::lock_guard<std::mutex> g(pmu_);
    Status st;
    uint64_t first = UINT64_MAX;
    for (auto& [k, e] : late_)
      if (e.seq < first) {
        first = e.seq;
        st = e.st;
      }
    late_.clear();
    return st;
  }
  // Sends the commit entries of every group of `fs` to be committed, one kShardCommit per server
  // rank (split past rpc::kVecMaxOps entries); the groups of one lease with the same checksum
  // and record settings and no unit in common go as one entry. Waits for the replies and stores
  // each group's answer.
  // `queued`: the calls were queued by submit, which counted their messages.
  void commit(const std::vector<Inflight*>& fs, bool queued);
  void completion_loop();
  void stop_completion();
  // Whether the queued calls go now (pmu_ held, queue not empty).
  bool batch_ready_locked() const {
    return batch_us_ == 0 || flush_ || stopping_ || queue_.size() >= batch_calls_ ||
           queued_bytes_ >= kBatchMaxBytes;
  }
  // Takes every queued call (pmu_ held).
  std::vector<std::unique_ptr<Inflight>> take_queue_locked() {
    std::vector<std::unique_ptr<Inflight>> fs;
    while (!queue_.empty()) {
      fs.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_bytes_ = 0;
    flush_ = false;
    return fs;
  }
  // Sends the commits of `fs` (taken from the queue) together, then finishes each call.
  void commit_queued(std::vector<std::unique_ptr<Inflight>> fs);

 public:
  // A pipelined call's copy buffer of at least n bytes: one of the connection's spare ones when
  // n <= kCopyKeep (at most depth() are kept), else a new one. Session 11: a fresh 47008-byte
  // allocation per IOR-hard call grew and trimmed the heap (0.43 brk per write, and the new
  // pages faulted in).
  static constexpr uint64_t kCopyKeep = uint64_t{64} << 10;
  std::unique_ptr<char[]> take_copy(uint64_t n) {
    if (n <= kCopyKeep) {
      std::lock_guard<std::mutex> g(pmu_);
      if (!spare_copies_.empty()) {
        auto c = std::move(spare_copies_.back());
        spare_copies_.pop_back();
        return c;
      }
    }
    return std::unique_ptr<char[]>(new char[n <= kCopyKeep ? kCopyKeep : std::max<uint64_t>(n, 1)]);
  }

 private:
 public:
  bool local(uint32_t engine) const { return engine < local_.size() && local_[engine]; }
  // The path through the engines (ops the direct path does not serve, redone writes).
  ShardIo& rpc_io() { return *rpc_; }

  // The leases of `shards` (write: write leases), acquired where missing, stale or of another
  // pool-map version: one kShardLease per shard, all at once.
  struct Want {
    ShardId s;
    bool write = false;
    rpc::RecWire spec;  // the op's record kind, unit and k (version and vector unused)
  };
  void leases(const std::vector<Want>& want, const rpc::CsumWire& csum,
              std::map<ShardKey, std::shared_ptr<Lease>>* out);
  std::unique_ptr<DirectStripe> direct_stripe(const rpc::CsumWire& csum,
                                              const std::vector<ShardId>& cells,
                                              const std::vector<rpc::RecWire>& specs,
                                              uint64_t local, uint64_t cell) override;
  // --- Partial stripes whose finish is not waited (session 12; client/README.md "Partial
  // stripes: the finish not waited") ---
  // The finish (and the unlock) of a partial-stripe step, sent, its answer collected by the
  // completion thread: the cells' range locks stay held until then (shared with this process's
  // later steps of the same cells, stripe_lock), its ranges in busy_ (so this process's other
  // writes of them wait), and a failure is the object's late error.
  struct StripeFlight {
    struct Cell {
      std::shared_ptr<Lease> lease;
      uint64_t logical_end = 0;
    };
    std::unique_ptr<Batch> b;
    std::vector<std::vector<Cell>> by_call;  // per finish call of b (the first calls)
    int unlock = -1;                         // index of the kUnlock call in b, -1: none
    struct Lock {
      std::shared_ptr<Lease> lease;
      int fd = -1;
    };
    std::vector<Lock> locks;  // each cell's range lock, [local, local + cell)
    uint64_t local = 0, cell = 0;
    ShardId object;  // for the late error (cont, oid)
    uint64_t ticket = 0;
  };
  // Hands a sent finish to the completion thread (its ranges registered in busy_ first).
  void detach_stripe(std::unique_ptr<StripeFlight> f, const std::vector<Range>& ranges);
  // Range locks of partial-stripe cells, counted per (lease, cell offset): the OFD lock is
  // taken by the first holder and released by the last. A step whose finish is in flight and
  // this process's next step of the same cells share one open file description, on which a
  // second lock is no exclusion and the first unlock would free the second holder's cells.
  Status stripe_lock(const std::shared_ptr<Lease>& l, int fd, uint64_t local, uint64_t len);
  void stripe_unlock(const std::shared_ptr<Lease>& l, int fd, uint64_t local, uint64_t len);
  // Waits until no call of this process but partial stripes is outstanding (sending queued
  // commits itself, as drain() does): the cells a partial stripe reads and verifies must have
  // their full-stripe and single-shard writes committed; its own earlier steps need not be
  // (direct_verify_writer_cell).
  void wait_plain_calls();
  // Sends the queued calls itself and waits until none is outstanding (plain_only: none but
  // partial-stripe steps, whose answers the completion thread collects).
  void drain_calls(bool plain_only);
  // $EDAOS_DIRECT_PARTIAL_ASYNC (read at connect): 1 = a partial-stripe step's finish is
  // collected by the completion thread; unset or 0 (default until measured on a quiet
  // machine) = every step waits for its finish, as before session 12.
  bool finish_detached() const { return detach_finish_; }
  static constexpr size_t kMaxStripesInFlight = 16;

  // Forgets a lease the engine recalled.
  void drop(const std::shared_ptr<Lease>& l) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = leases_.find(key_of(l->shard));
    if (it != leases_.end() && it->second == l) leases_.erase(it);
  }

 private:
  PoolState* p_;
  std::shared_ptr<ShardIo> rpc_;
  std::vector<bool> local_;
  // Closes the descriptors of the least recently used idle leases (no op holds them: the map's
  // reference is the only one, and new holders take it under mu_) until a quarter of the
  // budget is free. Called with mu_ held.
  void trim_fds_locked();

  std::mutex mu_;
  std::map<ShardKey, std::shared_ptr<Lease>> leases_;
  std::shared_ptr<std::atomic<int64_t>> open_fds_ = std::make_shared<std::atomic<int64_t>>(0);
  int64_t fd_budget_ = 256;
  uint64_t use_clock_ = 0;
  std::map<int, std::shared_ptr<SizePage>> pages_;  // server rank -> its size-change page

  // Pipelining state, under pmu_: unit ranges of the calls in progress or in flight per shard
  // (with their tickets), pipelined calls not finished, the queue of the completion thread.
  size_t depth_ = pipeline_depth();
  std::mutex pmu_;
  std::condition_variable pcv_;
  std::map<ShardKey, std::vector<std::pair<std::pair<uint64_t, uint64_t>, uint64_t>>> busy_;
  uint64_t next_ticket_ = 0;
  size_t outstanding_ = 0;
  std::deque<std::unique_ptr<Inflight>> queue_;
  std::thread completer_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<char[]>> spare_copies_;  // each kCopyKeep bytes
  // Commit batches: the completion thread's own condition variable (a queued call wakes it
  // only when its batch may go or to arm the age timer, never the writers), a flush asked by a
  // waiter, the queued bytes and when the oldest queued call was queued.
  std::condition_variable ccv_;
  bool flush_ = false;
  uint64_t queued_bytes_ = 0;
  std::chrono::steady_clock::time_point queued_at_;
  size_t batch_calls_ = std::max<size_t>(1, depth_ / 2);
  uint64_t batch_us_ = batch_age_us();
  static uint64_t batch_age_us() {
    const char* v = std::getenv("EDAOS_DIRECT_BATCH_US");
    if (!v || !*v) return 2000;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (end == v || *end) {
      EDAOS_LOG(warn, "EDAOS_DIRECT_BATCH_US=%s is not a number: 2000", v);
      return 2000;
    }
    return std::min<unsigned long long>(n, 10'000'000);
  }
  struct Late {
    Status st;
    uint64_t seq = 0;  // order of arrival (a sync reports the first)
  };
  std::map<std::pair<Uuid, ObjectId>, Late> late_;
  uint64_t late_seq_ = 0;
  // Partial stripes in flight (session 12), under pmu_: sent finishes for the completion
  // thread, and how many of outstanding_ they are.
  std::deque<std::unique_ptr<StripeFlight>> stripes_;
  size_t stripes_out_ = 0;
  bool detach_finish_ = [] {
    const char* v = std::getenv("EDAOS_DIRECT_PARTIAL_ASYNC");
    return v && std::strcmp(v, "1") == 0;
  }();
  void finish_stripe(StripeFlight& f);
  // stripe_lock's counts: (holders, lockers waiting for the OFD lock) per (lease, offset).
  std::mutex olmu_;
  std::map<std::pair<const Lease*, uint64_t>, std::pair<int, int>> ofd_refs_;
  static size_t pipeline_depth() {
    const char* v = std::getenv("EDAOS_DIRECT_PIPELINE");
    // Default 1 (session 9): on this project's 2-core machine the window gave IOR-hard no gain
    // when quiet and cost mdtest 1.4-1.6x (benchmarks/README.md "After the merge of session 9").
    if (!v || !*v) return 1;
    char* end = nullptr;
    const unsigned long n = std::strtoul(v, &end, 10);
    if (end == v || *end) {
      EDAOS_LOG(warn, "EDAOS_DIRECT_PIPELINE=%s is not a number: 1", v);
      return 1;
    }
    return std::min<unsigned long>(n, 1024);
  }
};

uint64_t DirectShardIo::reserve(const std::vector<Range>& ranges, bool* piped) {
  std::unique_lock<std::mutex> lk(pmu_);
  if (stopping_) *piped = false;
  const bool pipelined = *piped;
  bool waited = false;
  for (;;) {
    bool free = !pipelined || outstanding_ - stripes_out_ < depth_;
    for (size_t i = 0; free && i < ranges.size(); ++i) {
      auto it = busy_.find(ranges[i].first);
      if (it == busy_.end()) continue;
      const auto& r = ranges[i].second;
      for (const auto& [b, t] : it->second)
        if (r.first < b.second && b.first < r.second) free = false;
    }
    if (free) break;
    waited = true;
    // What it waits for may be queued, not sent: the batch goes now.
    if (!queue_.empty() && !flush_) {
      flush_ = true;
      ccv_.notify_one();
    }
    pcv_.wait(lk);
  }
  if (waited) direct_counters().pipeline_waits++;
  const uint64_t t = ++next_ticket_;
  for (const auto& [k, r] : ranges) busy_[k].push_back({r, t});
  if (pipelined) ++outstanding_;
  return t;
}

void DirectShardIo::release(uint64_t ticket, bool pipelined) {
  std::lock_guard<std::mutex> g(pmu_);
  for (auto it = busy_.begin(); it != busy_.end();) {
    auto& v = it->second;
    v.erase(std::remove_if(v.begin(), v.end(), [&](const auto& e) { return e.second == ticket; }),
            v.end());
    it = v.empty() ? busy_.erase(it) : std::next(it);
  }
  if (pipelined) --outstanding_;
  pcv_.notify_all();
}

std::unique_ptr<DirectShardIo::Inflight> DirectShardIo::submit(std::unique_ptr<Inflight> f) {
  if (!f->pipelined) {
    commit({f.get()}, false);
    finish(*f);
    return f;
  }
  direct_counters().pipelined++;
  std::set<int> servers;
  for (auto& g : f->groups)
    if (g->commit) servers.insert(p_->server_of(g->lease->shard.engine));
  std::lock_guard<std::mutex> g(pmu_);
  // The messages this call adds, counted now as the call's RPCs (stats().rpcs, as a call that
  // sends them itself): one per server rank that no call queued before it names (those go in
  // one message per server rank with everything queued, completion_loop).
  for (const auto& q : queue_)
    for (auto& qg : q->groups)
      if (qg->commit) servers.erase(p_->server_of(qg->lease->shard.engine));
  p_->rt->counters.rpcs += servers.size();
  if (!completer_.joinable()) completer_ = std::thread([this] { completion_loop(); });
  const bool first = queue_.empty();
  if (first) queued_at_ = std::chrono::steady_clock::now();
  queued_bytes_ += f->bytes;
  queue_.push_back(std::move(f));
  // The completion thread is woken when the batch may go, or by the first call of a batch (to
  // arm its age timer); not by every call.
  if (first || batch_ready_locked()) ccv_.notify_one();
  return nullptr;
}

void DirectShardIo::commit(const std::vector<Inflight*>& fs, bool queued) {
  struct Entry {
    const Lease* lease = nullptr;
    const std::string* head = nullptr;
    std::vector<Inflight::Group*> gs;
    uint64_t nrecs = 0, end = 0;
    std::set<uint64_t> units;
  };
  std::map<int, std::vector<Entry>> by_server;
  size_t calls = 0;
  for (Inflight* f : fs) {
    bool any = false;
    for (auto& gp : f->groups) {
      Inflight::Group* g = gp.get();
      if (!g->commit) continue;
      any = true;
      std::vector<Entry>& es = by_server[p_->server_of(g->lease->shard.engine)];
      Entry* e = nullptr;
      for (Entry& x : es)
        if (x.lease == g->lease.get() && *x.head == g->head &&
            x.nrecs + g->units.size() <= rpc::kCommitMaxRecords &&
            std::none_of(g->units.begin(), g->units.end(),
                         [&](uint64_t u) { return x.units.count(u) != 0; }))
          e = &x;
      if (!e) {
        es.emplace_back();
        e = &es.back();
        e->lease = g->lease.get();
        e->head = &g->head;
      }
      e->gs.push_back(g);
      e->nrecs += g->units.size();
      e->end = std::max(e->end, g->logical_end);
      e->units.insert(g->units.begin(), g->units.end());
    }
    calls += any ? 1 : 0;
  }
  Batch b(p_->rt);
  std::vector<std::vector<const Entry*>> who;  // per call of b
  for (auto& [srv, es] : by_server) {
    for (size_t at = 0; at < es.size(); at += rpc::kVecMaxOps) {
      const size_t n = std::min<size_t>(es.size() - at, rpc::kVecMaxOps);
      Writer w;
      w.put<uint32_t>(static_cast<uint32_t>(n));
      who.emplace_back();
      for (size_t i = at; i < at + n; ++i) {
        const Entry& e = es[i];
        w.put(e.lease->id).put(e.lease->map_version);
        shard_addr(p_, e.lease->shard).encode(w);
        w.buf().append(*e.head);
        w.put(e.end).put<uint32_t>(static_cast<uint32_t>(e.nrecs));
        // Ascending units (the engine sorts anyway; runs of consecutive units across calls
        // then share its sidecar writes).
        std::vector<std::pair<uint64_t, const Inflight::Group*>> order;
        for (const Inflight::Group* g : e.gs)
          order.emplace_back(g->units.empty() ? 0 : g->units[0], g);
        std::sort(order.begin(), order.end());
        for (auto& [u, g] : order) w.buf().append(g->recs);
        who.back().push_back(&e);
      }
      b.add(srv, rpc::Op::kShardCommit)->body = w.take();
    }
  }
  if (b.size() == 0) return;
  if (queued) {
    // The completion thread: counted in stats().rpcs when the calls were queued (submit).
    std::vector<rpc::Call*> started;
    for (size_t q = 0; q < b.size(); ++q) {
      p_->rt->rpc->start(&b[q]);
      started.push_back(&b[q]);
    }
    p_->rt->rpc->wait(started.data(), started.size());
  } else {
    b.run();
  }
  direct_counters().commits += b.size();
  if (calls > 1) direct_counters().coalesced += calls;
  for (size_t q = 0; q < b.size(); ++q) {
    const Status whole = b[q].status();
    rpc::Reader r(b[q].payload);
    for (const Entry* e : who[q]) {
      Status st = whole;
      bool stale = false;
      if (whole.ok()) {
        const int32_t code = r.get<int32_t>();
        std::string msg = r.str();
        if (!r.ok())
          st = Status(EDAOS_PROTO, "malformed kShardCommit reply");
        else if (code == rpc::kCommitStale)
          stale = true;
        else if (code != EDAOS_OK)
          st = Status(static_cast<edaos_status_t>(code), msg);
      }
      for (Inflight::Group* g : e->gs) {
        g->answer = st;
        g->stale = stale;
      }
    }
  }
}

void DirectShardIo::commit_queued(std::vector<std::unique_ptr<Inflight>> fs) {
  if (fs.empty()) return;
  std::vector<Inflight*> all;
  for (auto& f : fs) all.push_back(f.get());
  commit(all, true);
  if (auto hook = g_hook.load(std::memory_order_relaxed)) hook("direct:commit-answered");
  for (auto& f : fs) finish(*f);
}

void DirectShardIo::completion_loop() {
  for (;;) {
    std::vector<std::unique_ptr<Inflight>> fs;
    std::unique_ptr<StripeFlight> sf;
    {
      std::unique_lock<std::mutex> lk(pmu_);
      for (;;) {
        if (!stripes_.empty()) {
          // A partial stripe's finish, sent by its writer: collected in order of sending.
          sf = std::move(stripes_.front());
          stripes_.pop_front();
          break;
        }
        if (queue_.empty()) {
          if (stopping_) return;
          ccv_.wait(lk);
          continue;
        }
        if (batch_ready_locked()) break;
        // The batch's age timer: the oldest queued call goes at most batch_us_ after its return.
        if (ccv_.wait_until(lk, queued_at_ + std::chrono::microseconds(batch_us_)) ==
                std::cv_status::timeout &&
            !queue_.empty())  // a drain may have taken the queue meanwhile
          break;
      }
      // Every call queued by now: one message per server rank for all of them
      // (client/README.md "Commit coalescing", "Commit batches").
      if (!sf) fs = take_queue_locked();
    }
    if (sf) {
      finish_stripe(*sf);
      continue;
    }
    commit_queued(std::move(fs));
  }
}

void DirectShardIo::detach_stripe(std::unique_ptr<StripeFlight> f,
                                  const std::vector<Range>& ranges) {
  std::unique_lock<std::mutex> lk(pmu_);
  // Bounded: each step's prepare waits for a reply from the server its previous finishes went
  // to, so a writer has one or two in flight; many writer threads of one connection wait here.
  while (stripes_out_ >= kMaxStripesInFlight && !stopping_) pcv_.wait(lk);
  f->ticket = ++next_ticket_;
  for (const auto& [k, r] : ranges) busy_[k].push_back({r, f->ticket});
  ++outstanding_;
  ++stripes_out_;
  if (stopping_) {
    // The connection is closing (its completion thread is gone): collected here.
    lk.unlock();
    finish_stripe(*f);
    return;
  }
  if (!completer_.joinable()) completer_ = std::thread([this] { completion_loop(); });
  stripes_.push_back(std::move(f));
  ccv_.notify_one();
}

namespace {

// One entry of a partial-stripe step's finish reply (kShardCommit, kCommitFinish). A finished
// cell (EDAOS_OK, or kFinishLeaseGone, whose lease `io` drops: the next step takes a new one)
// raises its lease's end to `logical_end`. *stale: the entry was kCommitStale, which the caller
// handles (the waited path redoes the write, the detached one reports a late error). Returns the
// entry's error (EDAOS_PROTO for a short reply), else OK.
Status read_finish_entry(rpc::Reader& r, DirectShardIo* io, const std::shared_ptr<Lease>& l,
                         uint64_t logical_end, bool* stale) {
  *stale = false;
  const int32_t code = r.get<int32_t>();
  std::string msg = r.str();
  if (!r.ok()) return Status(EDAOS_PROTO, "malformed kShardCommit reply");
  if (code == rpc::kCommitStale) {
    *stale = true;
    return Status::OK();
  }
  if (code == rpc::kFinishLeaseGone)
    io->drop(l);  // finished all the same (protocol 9): no redo
  else if (code != EDAOS_OK)
    return Status(static_cast<edaos_status_t>(code), msg);
  l->raise_end(logical_end);
  return Status::OK();
}

}  // namespace

void DirectShardIo::wait_plain_calls() { drain_calls(/*plain_only=*/true); }

void DirectShardIo::drain_calls(bool plain_only) {
  std::unique_lock<std::mutex> lk(pmu_);
  auto busy = [&] { return plain_only ? outstanding_ > stripes_out_ : outstanding_ != 0; };
  if (!busy()) return;
  direct_counters().drains++;
  while (busy()) {
    if (!queue_.empty()) {
      // Calls queued and not sent: this thread sends them itself (no wake-up of the completion
      // thread and back for a drain: a file's close after its last write, a sync).
      auto fs = take_queue_locked();
      lk.unlock();
      commit_queued(std::move(fs));
      lk.lock();
      continue;
    }
    pcv_.wait(lk);
  }
}

Status DirectShardIo::stripe_lock(const std::shared_ptr<Lease>& l, int fd, uint64_t local,
                                  uint64_t len) {
  const auto key = std::make_pair(static_cast<const Lease*>(l.get()), local);
  {
    std::lock_guard<std::mutex> g(olmu_);
    auto& r = ofd_refs_[key];
    if (r.first > 0) {  // held by this process's description already (a step in flight)
      ++r.first;
      return Status::OK();
    }
    ++r.second;  // the last holder's unlock leaves it to this locker
  }
  // Outside olmu_: this may wait for another process's writer, whose unlocking does not need us.
  Status st = ofd_lock(fd, local, len, true, l->path);
  std::lock_guard<std::mutex> g(olmu_);
  auto& r = ofd_refs_[key];
  --r.second;
  if (st.ok()) {
    ++r.first;
  } else if (r.first == 0 && r.second == 0) {
    // A holder's unlock may have left the lock to this locker: nobody holds it now.
    (void)ofd_lock(fd, local, len, false, l->path);
    ofd_refs_.erase(key);
  }
  return st;
}

void DirectShardIo::stripe_unlock(const std::shared_ptr<Lease>& l, int fd, uint64_t local,
                                  uint64_t len) {
  const auto key = std::make_pair(static_cast<const Lease*>(l.get()), local);
  std::lock_guard<std::mutex> g(olmu_);
  auto it = ofd_refs_.find(key);
  if (it == ofd_refs_.end() || it->second.first == 0) return;
  if (--it->second.first > 0) return;
  // Never waits (an unlock); under olmu_ so a locker counted meanwhile keeps it.
  if (it->second.second == 0) {
    (void)ofd_lock(fd, local, len, false, l->path);
    ofd_refs_.erase(it);
  }
}

void DirectShardIo::finish_stripe(StripeFlight& f) {
  std::vector<rpc::Call*> calls;
  for (size_t q = 0; q < f.b->size(); ++q) calls.push_back(&(*f.b)[q]);
  p_->rt->rpc->wait(calls.data(), calls.size());
  if (auto hook = g_hook.load(std::memory_order_relaxed)) hook("direct:partial-finish-answered");
  direct_counters().commits += f.by_call.size();
  Status late;
  for (size_t q = 0; q < f.by_call.size(); ++q) {
    const Status whole = (*f.b)[q].status();
    rpc::Reader r((*f.b)[q].payload);
    for (const StripeFlight::Cell& c : f.by_call[q]) {
      Status one = whole;
      bool stale = false;
      if (whole.ok()) one = read_finish_entry(r, this, c.lease, c.logical_end, &stale);
      if (stale) {
        // A change through the engine replaced a cell's record after this step's prepare
        // (a write of the same cell not under the stripe lock, a punch, a truncation) and
        // this step's bytes landed after it: the cell fails verification. The caller was
        // told success: the late error says so (a waited finish's redo through the engines
        // meets the same failing cells).
        drop(c.lease);
        direct_counters().stale++;
        one = Status(EDAOS_BUSY,
                     "a change through the engine replaced the record of a cell "
                     "of " +
                         c.lease->path +
                         " while a direct partial-stripe write's finish was in "
                         "flight: the cell fails verification until its stripe "
                         "is written again");
      }
      if (one.ok()) {
        std::lock_guard<std::mutex> x(p_->excl_mu);
        const uint32_t e = c.lease->shard.engine;
        if (e < p_->excluded.size() && p_->excluded[e])
          one = Status(EDAOS_UNREACH, "engine " + std::to_string(e) +
                                          " was excluded from the pool while the finish of a "
                                          "direct partial-stripe write to it was in flight");
      }
      written(c.lease->shard.engine);
      if (late.ok()) late = one;
    }
  }
  if (f.unlock >= 0 && late.ok() && !(*f.b)[f.unlock].status().ok())
    late = (*f.b)[f.unlock].status().with_context("stripe unlock");
  // Test only, as for a pipelined call's commit (finish()): the late-error path without a
  // broken disk.
  const char* tf = std::getenv("EDAOS_TEST_FAULT");
  if (late.ok() && tf && std::strcmp(tf, "direct-late-error") == 0)
    late = Status(EDAOS_IO, "test fault direct-late-error");
  for (const StripeFlight::Lock& l : f.locks) stripe_unlock(l.lease, l.fd, f.local, f.cell);
  if (!late.ok()) {
    EDAOS_LOG(warn, "a direct partial-stripe write's finish failed after the write returned: %s",
              late.to_string().c_str());
    keep_late_error(f.object, late);
  }
  {
    std::lock_guard<std::mutex> g(pmu_);
    --stripes_out_;
  }
  release(f.ticket, true);
}

void DirectShardIo::drain() { drain_calls(/*plain_only=*/false); }

void DirectShardIo::stop_completion() {
  drain();
  {
    std::lock_guard<std::mutex> g(pmu_);
    stopping_ = true;
    ccv_.notify_all();
  }
  if (completer_.joinable()) completer_.join();
}

void DirectShardIo::finish(Inflight& f) {
  std::vector<Inflight::Group*> stale;
  {
    // An engine this connection excluded (Pool::exclude, or a write that skipped it) while the
    // commit was in flight: the server applies a commit of a running engine whatever the pool
    // map says, but the engine's contents are out of the pool now, so the write is not stored
    // where the pool map says its bytes are. Failed (a pipelined call: its late error, which
    // the next sync or the object's close reports). An exclusion after finish() is after the
    // call, as with a call that waited for its commit.
    std::lock_guard<std::mutex> x(p_->excl_mu);
    for (auto& gp : f.groups) {
      Inflight::Group* g = gp.get();
      const uint32_t e = g->lease->shard.engine;
      if (g->commit && !g->stale && g->answer.ok() && e < p_->excluded.size() && p_->excluded[e])
        g->answer = Status(EDAOS_UNREACH, "engine " + std::to_string(e) +
                                              " was excluded from the pool while the commit of "
                                              "a direct write to it was in flight");
    }
  }
  for (auto& gp : f.groups) {
    Inflight::Group* g = gp.get();
    if (!g->commit) continue;  // nothing written: its ops failed here, their locks go below
    if (g->stale)
      stale.push_back(g);
    else if (g->answer.ok())
      g->lease->raise_end(g->logical_end);
    for (Redo& o : g->ops) {
      if (o.st.ok() && !g->stale) o.st = g->answer;
      written(o.s.engine);
    }
  }
  if (f.pipelined) {
    // Test only: the engine's answer to this call's first commit taken as a failure, so the
    // late-error path (kept here, returned by the next sync) is exercised without a broken disk.
    const char* tf = std::getenv("EDAOS_TEST_FAULT");
    if (tf && std::strcmp(tf, "direct-late-error") == 0 && !f.groups.empty() &&
        !f.groups[0]->ops.empty() && f.groups[0]->ops[0].st.ok())
      f.groups[0]->ops[0].st = Status(EDAOS_IO, "test fault direct-late-error");
  }
  if (!stale.empty()) {
    // Recalled: another writer changed the shard through its engine after the grant. The
    // data goes again, through the engine, after that change, and before the range locks go:
    // until then the file holds these bytes without their records, and a reader that finds a
    // unit failing with no lock on it reports corruption. Only these writes run here (a set
    // of their own): a forwarded read of another shard could wait for a writer that waits for
    // these locks. The next call re-acquires the lease. A pipelined call's bytes come from its
    // copy (the caller may have reused its buffers since the call returned).
    auto redo = rpc_->ops(f.csum);
    std::vector<std::pair<Redo*, size_t>> sent;
    for (Inflight::Group* g : stale) {
      drop(g->lease);
      for (Redo& o : g->ops)
        sent.emplace_back(&o, redo->write(o.s, o.local, o.out, o.logical_end, o.rw));
      direct_counters().stale += g->ops.size();
    }
    redo->run();
    for (auto [o, j] : sent) {
      o->st = redo->status(j);
      written(o->s.engine);
    }
  }
  {
    // A redo through the engine (stale above) reaches an excluded engine's server too, which
    // applies it: the same rule as for the commit.
    std::lock_guard<std::mutex> x(p_->excl_mu);
    for (Inflight::Group* g : stale) {
      const uint32_t e = g->lease->shard.engine;
      if (e < p_->excluded.size() && p_->excluded[e])
        for (Redo& o : g->ops)
          if (o.st.ok())
            o.st = Status(EDAOS_UNREACH, "engine " + std::to_string(e) +
                                             " was excluded from the pool while a direct write "
                                             "to it was being redone through its engine");
    }
  }
  for (auto& g : f.groups)
    for (auto& r : g->locked)
      (void)ofd_lock(g->lease->fd, r.first, r.second - r.first, false, g->lease->path);
  if (f.pipelined) {
    for (auto& g : f.groups)
      for (Redo& o : g->ops)
        if (!o.st.ok()) {
          EDAOS_LOG(warn, "a direct write's commit failed after the write returned: %s",
                    o.st.to_string().c_str());
          keep_late_error(o.s, o.st);
        }
  }
  if (f.copy && f.bytes <= kCopyKeep) {
    // The redo (above) was the copy's last use: kept for the next pipelined call.
    std::lock_guard<std::mutex> g(pmu_);
    if (spare_copies_.size() < depth_) spare_copies_.push_back(std::move(f.copy));
  }
  release(f.ticket, f.counted);
}

void DirectShardIo::leases(const std::vector<Want>& want, const rpc::CsumWire& csum,
                           std::map<ShardKey, std::shared_ptr<Lease>>* out) {
  // Asked of the servers: new leases, and (renew != nullptr) the logical end of a lease held
  // whose size bound a truncate or removal ended (asked as a read lease: no new lease id).
  struct Ask {
    ShardId s;
    bool write = false;
    rpc::RecWire spec;
    std::shared_ptr<Lease> renew;
  };
  std::vector<Ask> missing;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (const Want& wa : want) {
      const ShardId& s = wa.s;
      const bool write = wa.write;
      const ShardKey k = key_of(s);
      auto have = out->find(k);
      if (have != out->end() && (have->second->write || !write)) continue;
      auto it = leases_.find(k);
      if (it != leases_.end() && it->second->map_version == p_->map.version &&
          (it->second->write || !write || !it->second->usable)) {
        (*out)[k] = it->second;
        it->second->last_use = ++use_clock_;
        if (!write && it->second->usable && it->second->renew_end()) {
          bool dup = false;
          for (auto& m : missing) dup = dup || key_of(m.s) == k;
          if (!dup) missing.push_back(Ask{s, false, it->second->spec, it->second});
        }
        continue;
      }
      bool dup = false;
      for (auto& m : missing)
        if (key_of(m.s) == k && !m.renew) {
          m.write = m.write || write;
          dup = true;
        }
      if (!dup) missing.push_back(Ask{s, write, wa.spec, nullptr});
    }
  }
  if (missing.empty()) {
    std::lock_guard<std::mutex> g(mu_);
    trim_fds_locked();
    return;
  }
  // One kShardLease per server rank.
  std::map<int, std::vector<size_t>> by_server;
  for (size_t i = 0; i < missing.size(); ++i)
    by_server[p_->server_of(missing[i].s.engine)].push_back(i);
  Batch b(p_->rt);
  std::vector<std::pair<int, const std::vector<size_t>*>> who;
  for (auto& [srv, idx] : by_server) {
    Writer w;
    w.put<uint32_t>(static_cast<uint32_t>(idx.size()));
    for (size_t i : idx) {
      shard_addr(p_, missing[i].s).encode(w);
      csum.encode(w);
      w.put<uint8_t>(missing[i].write ? 1 : 0).put<uint64_t>(p_->map.version);
      rpc::RecWire spec;
      spec.kind = missing[i].spec.kind;
      spec.unit = missing[i].spec.unit;
      spec.k = missing[i].spec.k;
      spec.encode(w);
    }
    b.add(srv, rpc::Op::kShardLease)->body = w.take();
    who.emplace_back(srv, &idx);
  }
  b.run();
  direct_counters().leases += b.size();
  std::lock_guard<std::mutex> g(mu_);
  for (size_t q = 0; q < b.size(); ++q) {
    rpc::Reader r(b[q].payload);
    const bool whole = b[q].status().ok();
    std::shared_ptr<SizePage> page;
    if (whole) {
      const std::string path = r.str();
      auto pg = pages_.find(who[q].first);
      if (pg == pages_.end()) pg = pages_.emplace(who[q].first, SizePage::open(path)).first;
      page = pg->second;
    }
    for (size_t i : *who[q].second) {
      const Ask& a = missing[i];
      auto l = std::make_shared<Lease>();
      l->open_fds = open_fds_;
      l->last_use = ++use_clock_;
      l->shard = a.s;
      l->write = a.write;
      l->spec.kind = a.spec.kind;
      l->spec.unit = a.spec.unit;
      l->spec.k = a.spec.k;
      l->map_version = p_->map.version;
      bool granted = false;
      if (whole) {
        const int32_t code = r.get<int32_t>();
        (void)r.str();  // why the engine refused: the op goes through it and gets the answer
        if (r.ok() && code == EDAOS_OK) {
          l->path = r.str();
          l->sidecar = r.str();
          l->records = r.get<uint8_t>() != 0;
          const uint64_t end = r.get<uint64_t>();
          l->id = r.get<uint64_t>();
          const uint32_t slot = r.get<uint32_t>();
          const uint64_t gen = r.get<uint64_t>();
          const bool bound = r.get<uint8_t>() != 0;
          granted = r.ok();
          if (granted) (a.renew ? a.renew : l)->set_end(page, slot, gen, end, bound);
          l->usable = granted && (!l->write || l->id != 0);
          // A writer needs the file the engine made for it.
          if (l->usable && l->write && (!l->data_fd().ok() || l->fd < 0)) l->usable = false;
        }
      }
      if (a.renew) continue;  // the lease held stays; only its end was renewed (or not)
      if (!l->usable) direct_counters().refused++;
      // Refusals are remembered too (the engine has a quota, or EC/legacy records): those ops
      // go through the engine until the pool-map version changes.
      leases_[key_of(l->shard)] = l;
      (*out)[key_of(l->shard)] = l;
    }
  }
  trim_fds_locked();
}

void DirectShardIo::trim_fds_locked() {
  if (open_fds_->load(std::memory_order_relaxed) <= fd_budget_) return;
  std::vector<std::pair<uint64_t, Lease*>> idle;
  for (auto& [k, l] : leases_)
    if (l.use_count() == 1) idle.emplace_back(l->last_use, l.get());
  std::sort(idle.begin(), idle.end());
  const int64_t target = fd_budget_ - fd_budget_ / 4;
  for (auto& [use, l] : idle) {
    if (open_fds_->load(std::memory_order_relaxed) <= target) break;
    direct_counters().fds_closed += l->close_fds();
  }
}

void DirectShardIo::close() {
  stop_completion();  // every commit answered before the leases go
  if (Status late = take_late_error(); !late.ok())
    EDAOS_LOG(warn, "pool closed with a direct write's late error not reported by a sync: %s",
              late.to_string().c_str());
  std::map<int, std::vector<uint64_t>> by_server;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& [k, l] : leases_)
      if (l->usable && l->id) by_server[p_->server_of(l->shard.engine)].push_back(l->id);
    leases_.clear();
  }
  // Test only: a holder that never gives its leases back (the servers drop them when the
  // pool closes, server_shard.cpp op_pool_close_leases).
  const char* fault = std::getenv("EDAOS_TEST_FAULT");
  if (by_server.empty() || (fault && std::strcmp(fault, "direct-no-release") == 0)) return;
  Batch b(p_->rt);
  for (auto& [srv, ids] : by_server) {
    Writer w;
    w.put<uint32_t>(static_cast<uint32_t>(ids.size()));
    for (uint64_t id : ids) w.put(id);
    b.add(srv, rpc::Op::kShardRelease)->body = w.take();
  }
  b.run();  // best effort: a server that forgot a lease has nothing to release
}

size_t DirectShardOps::write(const ShardId& s, uint64_t local, std::vector<ConstIoVec> data,
                             uint64_t logical_end, const rpc::RecWire& rw) {
  if (!io_->local(s.engine) || !(rw.kind == 0 || direct_cell_write(local, data, rw)))
    return forward(rpc_->write(s, local, std::move(data), logical_end, rw));
  ops_.emplace_back();
  Op& o = ops_.back();
  o.direct = o.is_write = true;
  o.s = s;
  o.local = local;
  o.logical_end = logical_end;
  o.rw = rw;
  o.out = std::move(data);
  return ops_.size() - 1;
}

size_t DirectShardOps::read(const ShardId& s, uint64_t local, std::vector<IoVec> into,
                            const rpc::RecWire& rw, std::vector<uint8_t>* state) {
  // EC data cells read directly too (verified against their records), and so do reads of one
  // whole data or parity cell with its record's state (stripe reads: rebuilds, read-modify-
  // write through the engines, recovery): the state comes from the record that verified the
  // bytes. Other parity reads go through the engine.
  uint64_t len = 0;
  for (const IoVec& v : into) len += v.len;
  const bool cell_state = state && (rw.kind == 1 || rw.kind == 2) && rw.unit > 0 &&
                          len == rw.unit && local % rw.unit == 0;
  if ((state && !cell_state) || (!state && rw.kind != 0 && !(rw.kind == 1 && rw.unit > 0)) ||
      !io_->local(s.engine))
    return forward(rpc_->read(s, local, std::move(into), rw, state));
  ops_.emplace_back();
  Op& o = ops_.back();
  o.direct = true;
  o.s = s;
  o.local = local;
  o.rw = rw;
  o.in = std::move(into);
  o.state = state;
  return ops_.size() - 1;
}

void DirectShardOps::run() {
  std::vector<size_t> idx;
  const size_t first = ran_;
  for (size_t i = ran_; i < ops_.size(); ++i)
    if (ops_[i].direct) idx.push_back(i);
  ran_ = ops_.size();
  if (idx.empty() && ran_ > first) io_->drain();  // only forwarded ops: see below
  if (!idx.empty()) {
    std::vector<DirectShardIo::Want> want;
    for (size_t i : idx) want.push_back({ops_[i].s, ops_[i].is_write, ops_[i].rw});
    std::map<ShardKey, std::shared_ptr<Lease>> got;
    io_->leases(want, csum_, &got);
    std::vector<size_t> writes;
    for (size_t i : idx) {
      Op& o = ops_[i];
      o.lease = got.at(key_of(o.s));
      const rpc::RecWire& ls = o.lease->spec;
      if (!o.lease->usable || (o.is_write && !o.lease->write) || ls.kind != o.rw.kind ||
          ls.unit != o.rw.unit || ls.k != o.rw.k || (o.state && !o.lease->records)) {
        fall_back(o);
      } else if (o.is_write) {
        writes.push_back(i);
      }
    }
    // Only a set of nothing but direct writes may return before its commits are answered;
    // anything else (a read, a size, a punch, a write through an engine) first waits for every
    // commit of the connection in flight, so it sees (or, through the engine, orders itself
    // after) every write that returned (client/README.md "Commit pipelining").
    const bool pure = writes.size() == ops_.size() - first;
    if (!pure) io_->drain();
    if (!writes.empty()) run_writes(writes, pure);
    for (size_t i : idx) {
      Op& o = ops_[i];
      if (!o.direct || o.is_write) continue;
      o.st = read_direct(o);
      if (o.st.code() == EDAOS_CSUM && o.lease->records) o.st = wait_commit_and_read(o);
      if (o.st.ok()) {
        o.bound = o.lease->bound();  // after the bytes: a truncate since then voids it
        direct_counters().reads++;
      } else if (o.st.code() == EDAOS_CSUM) {
        // A unit being changed, or torn, or corrupt: the engine decides (it resolves what a
        // killed process left and reports real corruption).
        direct_counters().read_fallbacks++;
        EDAOS_LOG(debug, "read falls back to the engine: %s", o.st.message().c_str());
        fall_back(o);
      }
    }
  }
  rpc_->run();
}

// Units that failed verification while another process of the node holds a direct write lock
// on them: a commit in flight (session 9: its call may have returned long ago, the writer's
// completion thread releases the lock once the commit is applied). Read again after a pause (1
// ms doubling to 50 ms, sleeps), directly, until the units verify or the lock is gone (then the
// caller asks the engine, as before), at most EDAOS_RPC_TIMEOUT. So a reader that learns of
// another rank's write after it returned (a barrier) reads it directly, without an RPC.
Status DirectShardOps::wait_commit_and_read(Op& o) {
  Status st = Status(EDAOS_CSUM, "direct read");
  auto fd = o.lease->data_fd();
  if (!fd.ok() || fd.value() < 0) return st;
  uint64_t len = 0;
  for (const IoVec& v : o.in) len += v.len;
  const uint64_t U = unit(*o.lease);
  const uint64_t b = o.local / U * U, e = ((o.local + len - 1) / U + 1) * U;
  const rpc::Clock::time_point start = rpc::Clock::now();
  const rpc::Clock::duration limit = rpc::rpc_timeout();
  std::chrono::milliseconds pause(1);
  while (vos::direct_write_in_flight(fd.value(), b, e - b) && rpc::Clock::now() - start < limit) {
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
    st = read_direct(o);
    if (st.code() != EDAOS_CSUM) return st;
  }
  return read_direct(o);  // the lock is gone: committed now, or torn (the engine decides)
}

Status DirectShardOps::read_direct(Op& o) {
  EDAOS_ASSIGN_OR_RETURN(int fd, o.lease->data_fd());
  uint64_t len = 0;
  for (const IoVec& v : o.in) len += v.len;
  if (len == 0) return Status::OK();
  const std::string& path = o.lease->path;
  if (!o.lease->records) return preadv_all(fd, o.in, o.local, path);
  // Whole units, verified against the engine's records (read-only). Straight into the caller's
  // buffers when the read is whole units and each unit lies in one of them (EC cells: every
  // cell of a stripe read is its own buffer); through a bounce buffer otherwise.
  const uint64_t U = unit(*o.lease), first = o.local / U, last = (o.local + len - 1) / U;
  const uint64_t xoff = first * U, xlen = (last - first + 1) * U;
  std::vector<const char*> units;
  units.reserve(last - first + 1);
  bool in_place = xoff == o.local && xlen == len;
  for (size_t v = 0; in_place && v < o.in.size(); ++v) {
    in_place = o.in[v].len % U == 0;
    for (uint64_t at = 0; in_place && at < o.in[v].len; at += U)
      units.push_back(static_cast<const char*>(o.in[v].base) + at);
  }
  char* buf = nullptr;
  if (in_place) {
    EDAOS_RETURN_IF_ERROR(preadv_all(fd, o.in, o.local, path));
  } else {
    buf = thread_bounce(xlen);
    if (!buf) buf = reinterpret_cast<char*>(scratch(xlen));
    EDAOS_RETURN_IF_ERROR(pread_all(fd, buf, xlen, xoff, path));
    units.clear();
    for (uint64_t u = first; u <= last; ++u) units.push_back(buf + (u - first) * U);
  }
  vos::ShardRef ref{o.s.cont, o.s.oid, o.s.shard, o.s.target};
  vos::UnitState us;
  EDAOS_RETURN_IF_ERROR(vos::direct_verify(o.lease->sidecar_fd(), o.lease->sidecar, ref, spec(),
                                           record_spec(o.lease->spec), first, last, units.data(),
                                           nullptr, o.state ? &us : nullptr));
  if (o.state) {  // as the engine's read encodes a UnitState (server_shard.cpp kArrayRead)
    rpc::Writer w;
    w.put<uint32_t>(us.flags).put<uint32_t>(static_cast<uint32_t>(us.vec.size()));
    w.put(us.version).put(us.csum);
    for (uint64_t v : us.vec) w.put(v);
    const std::string t = w.take();
    o.state->assign(t.begin(), t.end());
  }
  if (buf) {
    uint64_t at = o.local - xoff;
    for (const IoVec& v : o.in) {
      if (v.len) std::memcpy(v.base, buf + at, v.len);  // a zero-length piece may be null
      at += v.len;
    }
  }
  return Status::OK();
}

// Direct writes: per shard (in key order, so two calls never wait on each other's locks) the
// process lock of the lease and, with records, the units' range lock; data, the units'
// records, one kShardCommit per server rank for every lease of the set. `pipelined`: the call
// returns once the commits are sent (its bytes copied for a redo), the connection's completion
// thread collects the replies and unlocks; else it waits for them and unlocks (client/README.md
// "Commit pipelining"). A lease the engine recalled (a remote change since the grant) gets its
// ops redone through the engine before the locks go.
void DirectShardOps::run_writes(const std::vector<size_t>& idx, bool pipelined) {
  using Inflight = DirectShardIo::Inflight;
  struct Rec {
    uint64_t version = 0, csum = 0;              // bound checksum
    const std::vector<uint64_t>* vec = nullptr;  // EC parity: the data versions it encodes
  };
  struct Group {
    Inflight::Group* g = nullptr;
    std::vector<size_t> ops;
    std::map<uint64_t, Rec> recs;  // unit -> record
    bool any = false;              // some data was written
  };
  auto f = std::make_unique<Inflight>();
  f->csum = csum_;
  std::map<ShardKey, Group> groups;
  uint64_t total = 0;
  for (size_t i : idx) {
    Group& g = groups[key_of(ops_[i].s)];
    if (!g.g) {
      f->groups.push_back(std::make_unique<Inflight::Group>());
      g.g = f->groups.back().get();
      g.g->lease = ops_[i].lease;
    }
    g.ops.push_back(i);
    for (const ConstIoVec& v : ops_[i].out) total += v.len;
  }
  // Each shard's unit ranges (merged, ascending): the OFD locks of the call and its entries in
  // the connection's table of ranges in progress (a call of this process overlapping a call in
  // flight on the same shard waits for it: OFD locks do not separate one process's calls).
  std::vector<DirectShardIo::Range> ranges;
  bool size_only = false;  // a write of no bytes that only raises the shard's end (set_size)
  for (auto& [k, g] : groups) {
    const uint64_t U = unit(*g.g->lease);
    std::vector<std::pair<uint64_t, uint64_t>> rs;
    for (size_t i : g.ops) {
      uint64_t len = 0;
      for (const ConstIoVec& v : ops_[i].out) len += v.len;
      if (len == 0) {
        size_only = true;
        continue;
      }
      rs.emplace_back(ops_[i].local / U * U, ((ops_[i].local + len - 1) / U + 1) * U);
    }
    std::sort(rs.begin(), rs.end());
    std::vector<std::pair<uint64_t, uint64_t>> merged;
    for (auto& r : rs) {
      if (!merged.empty() && r.first <= merged.back().second)
        merged.back().second = std::max(merged.back().second, r.second);
      else
        merged.push_back(r);
    }
    for (auto& r : merged) ranges.push_back({k, r});
    // Locked with records or not: the lock is also what tells a size query through the engine
    // that a write past the shard's end is still being committed (a returned write's end must
    // be seen by a process that learns of the write after its return).
    g.g->locked = std::move(merged);
  }
  // A write of no bytes holds no lock, so nothing would make a reader of another process wait
  // for its commit: a call holding one waits for its commits (found at the merge of session 11:
  // with commit batches, `set_size` extending an SX file returned, the other ranks' stats after a
  // barrier gave the old size until the batch went).
  bool counted =
      pipelined && !size_only && io_->depth() > 1 && total <= DirectShardIo::kPipelineMaxBytes;
  f->ticket = io_->reserve(ranges, &counted);
  f->bytes = total;
  // Locks first, in one order for every process of the node: shards in key order, each
  // shard's unit ranges in ascending order. Two direct writers of one unit must not
  // interleave their data and records.
  std::vector<std::unique_lock<std::mutex>> held;
  for (auto& [k, g] : groups) {
    Lease& l = *g.g->lease;
    held.emplace_back(l.mu);
    auto& locked = g.g->locked;
    // The lease's descriptor may have been closed while the lease was idle (trim_fds_locked).
    Result<int> wfd = l.writer_data_fd();
    if (!wfd.ok() || wfd.value() < 0) {
      const Status st =
          wfd.ok() ? Status(EDAOS_NONEXIST, l.path + " does not exist") : wfd.status();
      locked.clear();
      for (size_t i : g.ops) ops_[i].st = st;
      continue;
    }
    for (size_t j = 0; j < locked.size(); ++j) {
      Status st = ofd_lock(l.fd, locked[j].first, locked[j].second - locked[j].first, true, l.path);
      if (st.ok()) continue;
      locked.resize(j);
      for (size_t i : g.ops) ops_[i].st = st;
      break;
    }
  }
  for (auto& [k, g] : groups) {
    Lease& l = *g.g->lease;
    const uint64_t U = unit(l);
    const CsumType ct = type(l);
    for (size_t i : g.ops) {
      Op& o = ops_[i];
      uint64_t len = 0;
      for (const ConstIoVec& v : o.out) len += v.len;
      g.g->logical_end = std::max(g.g->logical_end, o.logical_end);
      if (len == 0 || !o.st.ok()) continue;
      const uint64_t first = o.local / U, last = (o.local + len - 1) / U;
      // Reserve first: a full file system fails before any byte changes.
      if (::fallocate(l.fd, 0, static_cast<off_t>(o.local), static_cast<off_t>(len)) != 0 &&
          errno != EOPNOTSUPP && errno != ENOSYS) {
        o.st = errno_status(errno, "allocate " + std::to_string(len) + " bytes in " + l.path);
        continue;
      }
      uint64_t off = o.local;
      for (const ConstIoVec& v : o.out) {
        o.st = pwrite_all(l.fd, v.base, v.len, off, l.path);
        if (!o.st.ok()) break;
        off += v.len;
      }
      g.any = true;
      if (!o.st.ok() || !l.records) continue;
      // Each unit's bound checksum: from the caller's bytes for whole units, from the file
      // (under the range lock) for the others. A later op of the set overrides an earlier.
      vos::ShardRef ref{o.s.cont, o.s.oid, o.s.shard, o.s.target};
      size_t vi = 0;
      uint64_t vpos = 0;  // position in out[vi]
      uint64_t at = o.local;
      for (uint64_t u = first; u <= last; ++u) {
        const uint64_t ub = u * U, ue = ub + U;
        uint64_t raw = 0;
        if (ub >= o.local && ue <= o.local + len) {
          // Skip to ub in the iovecs, then checksum U bytes across them.
          uint64_t skip = ub - at;
          while (skip > 0) {
            const uint64_t n = std::min<uint64_t>(skip, o.out[vi].len - vpos);
            vpos += n;
            skip -= n;
            if (vpos == o.out[vi].len) ++vi, vpos = 0;
          }
          uint64_t need = U;
          while (need > 0) {
            const uint64_t n = std::min<uint64_t>(need, o.out[vi].len - vpos);
            raw = ec::csum_compute(ct, static_cast<const char*>(o.out[vi].base) + vpos, n, raw);
            vpos += n;
            need -= n;
            if (vpos == o.out[vi].len) ++vi, vpos = 0;
          }
          at = ue;
        } else {
          char* tmp = thread_bounce(U);
          if (!tmp) tmp = reinterpret_cast<char*>(scratch(U));
          o.st = pread_all(l.fd, tmp, U, ub, l.path);
          if (!o.st.ok()) break;
          raw = ec::csum_compute(ct, tmp, U, 0);
        }
        g.recs[u] = {o.rw.version, vos::bind_unit_csum(raw, ref, u, o.rw.version),
                     l.spec.kind == 2 ? &o.rw.vec : nullptr};
      }
    }
  }
  // A call returns before its commits are answered only when every write of it reached the
  // file (a local failure is reported now, with the commit's outcome).
  bool local_ok = true;
  for (size_t i : idx) local_ok = local_ok && ops_[i].st.ok();
  f->pipelined = counted && local_ok;
  // What a completion needs of each write: a redo of a stale commit writes it again. Pipelined,
  // from one copy of the call's bytes (the caller may reuse its buffers once the call returns).
  char* copy = nullptr;
  if (f->pipelined) {
    f->copy = io_->take_copy(total);
    copy = f->copy.get();
  }
  for (auto& [k, g] : groups)
    for (size_t i : g.ops) {
      const Op& o = ops_[i];
      DirectShardIo::Redo r;
      r.op = i;
      r.s = o.s;
      r.local = o.local;
      r.logical_end = o.logical_end;
      r.rw = o.rw;
      r.st = o.st;
      if (copy) {
        uint64_t n = 0;
        for (const ConstIoVec& v : o.out) {
          if (v.len) std::memcpy(copy + n, v.base, v.len);  // a zero-length piece may be null
          n += v.len;
        }
        r.out.push_back({copy, n});
        copy += n;
      } else {
        r.out = o.out;
      }
      g.g->ops.push_back(std::move(r));
    }
  if (auto hook = g_hook.load(std::memory_order_relaxed)) hook("direct:before-commit");
  // Each shard's commit entry (sent by submit: one kShardCommit per server rank).
  for (auto& [k, g] : groups) {
    bool ok_any = false;
    for (size_t i : g.ops) ok_any = ok_any || ops_[i].st.ok();
    if (!ok_any && !g.any) continue;
    Inflight::Group& x = *g.g;
    x.commit = true;
    Writer h;
    csum_.encode(h);
    x.lease->spec.encode(h);
    x.head = h.take();
    Writer w;
    for (auto& [u, rc] : g.recs) {
      w.put(u).put(rc.version).put(rc.csum);
      if (rc.vec)
        for (uint64_t v : *rc.vec) w.put(v);
      x.units.push_back(u);
    }
    x.recs = w.take();
  }
  for (size_t i : idx)
    if (ops_[i].st.ok()) direct_counters().writes++;
  // Groups with no commit (nothing written) are finished with the others: their locks go too.
  f->counted = counted;
  if (f->pipelined) {
    held.clear();  // the lease mutexes guard the local part only; the ranges stay reserved
    io_->submit(std::move(f));
    if (auto hook = g_hook.load(std::memory_order_relaxed)) hook("direct:commit-sent");
    return;
  }
  // Not pipelined (the window is off, the call too large, or a write failed here): waits, as
  // before session 9; the outcomes are the ops' statuses.
  f = io_->submit(std::move(f));
  for (auto& g : f->groups)
    for (const DirectShardIo::Redo& r : g->ops) ops_[r.op].st = r.st;
}

// A partial EC stripe written directly (client/README.md "Partial stripes on the direct
// path"). Lifetime = the lease mutexes and the cells' range locks, taken in shard key order
// (the order run_writes uses, so the two never wait on each other in a cycle), released at the
// end of write_and_finish or on destruction.
class DirectStripeImpl final : public DirectStripe {
 public:
  DirectStripeImpl(PoolState* p, DirectShardIo* io, const rpc::CsumWire& csum, uint64_t local,
                   uint64_t cell)
      : p_(p), io_(io), csum_(csum), local_(local), cell_(cell) {}
  ~DirectStripeImpl() override { release(); }

  // Takes the leases (all write leases: every cell may be written), their mutexes and the
  // cells' range locks. Not OK: the stripe is not served directly.
  Status start(const std::vector<ShardId>& cells, const std::vector<rpc::RecWire>& specs) {
    std::vector<DirectShardIo::Want> want;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (!io_->local(cells[i].engine)) return Status(EDAOS_NOTSUP, "engine not on this node");
      want.push_back({cells[i], true, specs[i]});
    }
    std::map<ShardKey, std::shared_ptr<Lease>> got;
    io_->leases(want, csum_, &got);
    sh_.resize(cells.size());
    for (size_t i = 0; i < cells.size(); ++i) {
      Shard& x = sh_[i];
      x.s = cells[i];
      x.spec = specs[i];
      x.lease = got.at(key_of(x.s));
      const rpc::RecWire& ls = x.lease->spec;
      if (!x.lease->usable || !x.lease->write || !x.lease->records || ls.kind != x.spec.kind ||
          ls.unit != x.spec.unit || ls.k != x.spec.k || ls.unit != cell_)
        return Status(EDAOS_NOTSUP, "no direct write lease of " + x.lease->path);
    }
    std::vector<size_t> order(sh_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return key_of(sh_[a].s) < key_of(sh_[b].s); });
    for (size_t i : order) {
      Shard& x = sh_[i];
      held_.emplace_back(x.lease->mu);
      EDAOS_ASSIGN_OR_RETURN(x.fd, x.lease->writer_data_fd());
      if (x.fd < 0) return Status(EDAOS_NOTSUP, x.lease->path + " does not exist");
      EDAOS_RETURN_IF_ERROR(io_->stripe_lock(x.lease, x.fd, local_, cell_));
      x.locked = true;
    }
    return Status::OK();
  }

  Status read_cell(uint32_t i, uint8_t* into, uint64_t* version) override {
    Shard& x = sh_.at(i);
    EDAOS_RETURN_IF_ERROR(pread_all(x.fd, into, cell_, local_, x.lease->path));
    // A cell this process's earlier step wrote may still be pending (its finish in flight):
    // read as the engine settles it, its new record (session 12).
    return vos::direct_verify_writer_cell(x.lease->writer_sidecar_fd(), x.lease->sidecar, ref(x),
                                          cspec(), record_spec(x.spec), local_ / cell_,
                                          reinterpret_cast<const char*>(into), version);
  }

  Status prepare(std::vector<Cell> cells) override {
    cells_ = std::move(cells);
    // Reserve first: a full file system fails before any record or byte changes.
    for (const Cell& c : cells_) {
      Shard& x = sh_.at(c.i);
      if (c.hi > c.lo &&
          ::fallocate(x.fd, 0, static_cast<off_t>(local_ + c.lo),
                      static_cast<off_t>(c.hi - c.lo)) != 0 &&
          errno != EOPNOTSUPP && errno != ENOSYS)
        return errno_status(
            errno, "allocate " + std::to_string(c.hi - c.lo) + " bytes in " + x.lease->path);
      const uint64_t raw = ec::csum_compute(CsumType::kCrc32c, c.cell, cell_, 0);
      csums_.push_back(vos::bind_unit_csum(raw, ref(x), local_ / cell_, c.rw.version));
    }
    bool stale = false;
    Status st = commit(rpc::kCommitPrepare, cells_.size(), nullptr, &stale);
    if (stale && st.ok()) st = Status(EDAOS_BUSY, "a direct write lease was recalled");
    return st;
  }

  Status write_and_finish(const std::function<void(uint32_t)>& after_cell, int unlock_server,
                          std::string unlock_ok, std::string unlock_failed, bool* redo,
                          bool* detached) override {
    *redo = false;
    if (detached) *detached = false;
    if (auto hook = g_hook.load(std::memory_order_relaxed)) hook("direct:partial-prepared");
    Status st;
    size_t written = 0;
    for (const Cell& c : cells_) {
      Shard& x = sh_.at(c.i);
      st = pwrite_all(x.fd, c.cell + c.lo, c.hi - c.lo, local_ + c.lo, x.lease->path);
      if (!st.ok()) break;
      ++written;
      io_->written(x.s.engine);
      after_cell(c.i);
    }
    if (st.ok()) after_cell(UINT32_MAX);
    if (auto hook = g_hook.load(std::memory_order_relaxed)) hook("direct:partial-before-finish");
    if (detached && st.ok() && written == cells_.size() && io_->finish_detached()) {
      detach(unlock_server, std::move(unlock_ok));
      *detached = true;
      if (auto hook = g_hook.load(std::memory_order_relaxed)) hook("direct:partial-finish-sent");
      return Status::OK();
    }
    // Only cells whose bytes are all in the file are finished: a pending record of a cell not
    // (wholly) written is settled to whichever record its bytes match on its next access.
    Status ust;
    bool stale = false;
    Status fst = commit(
        rpc::kCommitFinish, written,
        [&](Batch& b) -> rpc::Call* {
          if (unlock_server < 0) return nullptr;  // a step of a longer write: the lock stays
          rpc::Call* u = b.add(unlock_server, rpc::Op::kUnlock);
          u->body = st.ok() ? std::move(unlock_ok) : std::move(unlock_failed);
          return u;
        },
        &stale, &ust);
    direct_counters().writes += written;
    release();
    if (stale) *redo = true;
    if (!st.ok()) return st;
    if (!fst.ok()) return fst;
    return ust;
  }

 private:
  struct Shard {
    ShardId s;
    rpc::RecWire spec;
    std::shared_ptr<Lease> lease;
    int fd = -1;
    bool locked = false;
  };
  static vos::ShardRef ref(const Shard& x) {
    return vos::ShardRef{x.s.cont, x.s.oid, x.s.shard, x.s.target};
  }
  vos::CsumSpec cspec() const { return csum_spec(csum_); }
  void release() {
    for (Shard& x : sh_)
      if (x.locked) {
        io_->stripe_unlock(x.lease, x.fd, local_, cell_);
        x.locked = false;
      }
    held_.clear();
  }
  // The first n prepared cells' kShardCommit bodies in `mode`, one per server rank, added to
  // `b`; who[k] = the cells (indexes into cells_) of b's k-th call.
  void add_commits(uint32_t mode, size_t n, Batch& b, std::vector<std::vector<size_t>>* who) {
    std::map<int, std::vector<size_t>> by_server;
    for (size_t q = 0; q < n; ++q) by_server[p_->server_of(sh_[cells_[q].i].s.engine)].push_back(q);
    for (auto& [srv, qs] : by_server) {
      rpc::Writer w;
      w.put<uint32_t>(static_cast<uint32_t>(qs.size()) | (mode << rpc::kCommitModeShift));
      for (size_t q : qs) {
        const Cell& c = cells_[q];
        const Shard& x = sh_[c.i];
        w.put(x.lease->id).put(x.lease->map_version);
        shard_addr(p_, x.s).encode(w);
        csum_.encode(w);
        x.lease->spec.encode(w);
        w.put(c.logical_end).put<uint32_t>(1);
        w.put(local_ / cell_).put(c.rw.version).put(csums_[q]);
        if (x.spec.kind == 2)
          for (uint64_t v : c.rw.vec) w.put(v);
      }
      b.add(srv, rpc::Op::kShardCommit)->body = w.take();
      who->push_back(std::move(qs));
    }
  }
  // Every cell written: the finish (and the unlock, when unlock_server >= 0) sent, handed with
  // the range locks to the connection's completion thread (DirectShardIo::finish_stripe); the
  // lease mutexes go now. client/README.md "Partial stripes: the finish not waited".
  void detach(int unlock_server, std::string unlock_ok) {
    auto f = std::make_unique<DirectShardIo::StripeFlight>();
    f->b = std::make_unique<Batch>(p_->rt);
    std::vector<std::vector<size_t>> who;
    add_commits(rpc::kCommitFinish, cells_.size(), *f->b, &who);
    for (const auto& qs : who) {
      f->by_call.emplace_back();
      for (size_t q : qs)
        f->by_call.back().push_back({sh_[cells_[q].i].lease, cells_[q].logical_end});
    }
    if (unlock_server >= 0) {
      f->unlock = static_cast<int>(f->b->size());
      f->b->add(unlock_server, rpc::Op::kUnlock)->body = std::move(unlock_ok);
    }
    for (size_t q = 0; q < f->b->size(); ++q) {
      p_->rt->rpc->start(&(*f->b)[q]);
      note_sent();
    }
    p_->rt->counters.rpcs += f->b->size();
    f->local = local_;
    f->cell = cell_;
    f->object = sh_.at(0).s;
    std::vector<DirectShardIo::Range> ranges;
    for (Shard& x : sh_) {
      if (!x.locked) continue;
      f->locks.push_back({x.lease, x.fd});
      ranges.push_back({key_of(x.s), {local_, local_ + cell_}});
      x.locked = false;  // the flight's now
    }
    direct_counters().writes += cells_.size();
    // The ranges are registered before the lease mutexes go: a write of this process that
    // took a mutex next must find them (DirectShardIo::reserve) and wait for the answer.
    io_->detach_stripe(std::move(f), ranges);
    held_.clear();
  }
  // One kShardCommit in `mode` per server rank for the first n prepared cells (with `extra`:
  // one more call added to the same batch, its status into *extra_st). *stale: a lease was
  // recalled (it is dropped: the next call takes a new one).
  Status commit(uint32_t mode, size_t n, const std::function<rpc::Call*(Batch&)>& extra,
                bool* stale, Status* extra_st = nullptr) {
    Batch b(p_->rt);
    std::vector<std::vector<size_t>> who;
    add_commits(mode, n, b, &who);
    rpc::Call* ex = extra ? extra(b) : nullptr;
    b.run();
    direct_counters().commits += who.size();
    Status st;
    for (size_t k = 0; k < who.size(); ++k) {
      const Status whole = b[k].status();
      rpc::Reader r(b[k].payload);
      for (size_t q : who[k]) {
        Shard& x = sh_[cells_[q].i];
        Status one = whole;
        bool was_stale = false;
        if (whole.ok()) one = read_finish_entry(r, io_, x.lease, cells_[q].logical_end, &was_stale);
        if (was_stale) {
          *stale = true;
          io_->drop(x.lease);
        }
        if (st.ok()) st = one;
      }
    }
    if (ex && extra_st) *extra_st = ex->status();
    return st;
  }

  PoolState* p_;
  DirectShardIo* io_;
  rpc::CsumWire csum_;
  uint64_t local_, cell_;
  std::vector<Shard> sh_;
  std::vector<std::unique_lock<std::mutex>> held_;
  std::vector<Cell> cells_;
  std::vector<uint64_t> csums_;  // bound checksum of each prepared cell
};

std::unique_ptr<DirectStripe> DirectShardIo::direct_stripe(const rpc::CsumWire& csum,
                                                           const std::vector<ShardId>& cells,
                                                           const std::vector<rpc::RecWire>& specs,
                                                           uint64_t local, uint64_t cell) {
  // Full-stripe cell writes of this process still in flight on these shards hold their OFD
  // locks on the same open file descriptions, which do not exclude this writer: they finish
  // first (a partial stripe's cells are read and verified against committed records). This
  // process's partial-stripe steps in flight need not (session 12): the cells they wrote are
  // read as the engine would settle them, and their locks are shared (stripe_lock).
  wait_plain_calls();
  auto ds = std::make_unique<DirectStripeImpl>(p_, this, csum, local, cell);
  Status st = ds->start(cells, specs);
  if (!st.ok()) {
    EDAOS_LOG(debug, "partial stripe through the engines: %s", st.message().c_str());
    return nullptr;
  }
  return ds;
}

}  // namespace

bool direct_enabled() {
  const char* v = std::getenv("EDAOS_DIRECT");
  return !v || std::strcmp(v, "0") != 0;
}

DirectCounters& direct_counters() {
  static DirectCounters c;
  return c;
}

std::shared_ptr<ShardIo> make_direct_shard_io(PoolState* p, std::shared_ptr<ShardIo> rpc) {
  return std::make_shared<DirectShardIo>(p, std::move(rpc));
}

}  // namespace edaos::objstore::client

namespace edaos::objstore {

DirectStats direct_stats() {
  const client::DirectCounters& c = client::direct_counters();
  return DirectStats{c.writes, c.reads,          c.leases,  c.commits,
                     c.stale,  c.read_fallbacks, c.refused, c.fds_closed};
}

void set_direct_hook_for_testing(void (*hook)(const char* point)) {
  client::g_hook.store(hook, std::memory_order_relaxed);
}

}  // namespace edaos::objstore
