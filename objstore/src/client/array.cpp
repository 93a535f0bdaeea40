// Byte-array objects: the EC / replication data path.
//
// Geometry. A logical offset o falls in chunk c = o / chunk (dkey c, served by group
// layout.group_of(chunk_dkey_hash(c))). Replicated and single-shard classes store chunk c at
// shard-local offset c*chunk on every replica. EC classes split a chunk into stripes of k cells
// (chunk is rounded up to a whole number of stripes); cell i of stripe s of chunk c is stored
// by data shard i at shard-local offset (c*stripes_per_chunk + s)*cell, and parity shard j
// holds parity cell j of that stripe at the same offset. Shard files are sparse: chunks of
// other groups are holes.
//
// Writes. Full stripes are encoded here and sent to all k+p shards at once (zero-copy when a
// cell is contiguous in the caller's buffers). Partial stripes take the stripe lock at the
// group's leader engine, read the stripe (reconstructing if needed), merge, re-encode and write
// the touched data bytes plus all parity cells, then unlock.
// Reads. Data cells are read straight into the caller's buffers; a stripe whose read fails
// (engine down, checksum mismatch after one retry, I/O error) is rebuilt from k surviving cells,
// and a cell that failed its checksum is written back (repaired).
#include <algorithm>
#include <cstring>
#include <map>

#include "client/client_internal.hpp"
#include "common/log.hpp"
#include "ec/checksum.hpp"
#include "ec/codec.hpp"

EDAOS_LOG_FACILITY(array);

namespace edaos::objstore::client {

using rpc::Call;
using rpc::Op;
using rpc::Reader;
using rpc::Writer;

namespace {

// Caller's scatter-gather list with prefix sums, addressed by request-relative offsets.
template <typename V>
class SgList {
 public:
  using Ptr = decltype(V::base);  // void* for reads, const void* for writes
  SgList(const V* iov, size_t n) : iov_(iov, iov + n) {
    uint64_t o = 0;
    for (auto& v : iov_) {
      start_.push_back(o);
      o += v.len;
    }
    total_ = o;
  }
  uint64_t total() const { return total_; }
  // Pointer to [rel, rel+len) when it lies inside one iovec, else nullptr.
  Ptr contiguous(uint64_t rel, uint64_t len) const {
    size_t i = find(rel);
    if (i >= iov_.size()) return nullptr;
    uint64_t in = rel - start_[i];
    if (in + len > iov_[i].len) return nullptr;
    return const_cast<char*>(static_cast<const char*>(iov_[i].base)) + in;
  }
  void gather(uint64_t rel, uint64_t len, void* dst) const {
    char* d = static_cast<char*>(dst);
    for (size_t i = find(rel); len && i < iov_.size(); ++i) {
      uint64_t in = rel - start_[i];
      uint64_t k = std::min<uint64_t>(len, iov_[i].len - in);
      std::memcpy(d, static_cast<const char*>(iov_[i].base) + in, k);
      d += k;
      rel += k;
      len -= k;
    }
  }
  void scatter(uint64_t rel, uint64_t len, const void* src) const {
    const char* s = static_cast<const char*>(src);
    for (size_t i = find(rel); len && i < iov_.size(); ++i) {
      uint64_t in = rel - start_[i];
      uint64_t k = std::min<uint64_t>(len, iov_[i].len - in);
      std::memcpy(const_cast<char*>(static_cast<const char*>(iov_[i].base)) + in, s, k);
      s += k;
      rel += k;
      len -= k;
    }
  }

 private:
  size_t find(uint64_t rel) const {
    auto it = std::upper_bound(start_.begin(), start_.end(), rel);
    size_t i = static_cast<size_t>(it - start_.begin());
    i = i ? i - 1 : 0;
    while (i < iov_.size() && iov_[i].len == 0 && start_[i] <= rel) ++i;  // skip empty iovecs
    return i;
  }
  std::vector<V> iov_;
  std::vector<uint64_t> start_;
  uint64_t total_ = 0;
};

constexpr size_t kBatchBytes = size_t{64} << 20;  // bytes of scratch + payload in flight
constexpr size_t kBatchCalls = 256;

bool is_shard_failure(edaos_status_t c) {
  return c == EDAOS_UNREACH || c == EDAOS_CSUM || c == EDAOS_IO || c == EDAOS_FORMAT;
}

class ArrayImpl final : public Array {
 public:
  ArrayImpl(std::shared_ptr<ContState> c, ObjectId oid, uint64_t chunk, Layout layout,
            std::shared_ptr<const ec::Codec> codec)
      : c_(std::move(c)), oid_(oid), layout_(std::move(layout)), codec_(std::move(codec)) {
    rt_ = c_->pool->rt;
    const ObjClass& oc = layout_.oclass;
    ec_ = oc.kind == ResilKind::kErasure;
    k_ = ec_ ? oc.data : 1;
    p_ = ec_ ? oc.redun : 0;
    reps_ = ec_ ? 1 : layout_.group_size;
    cell_ = ec_ ? c_->props.ec_cell_sz : chunk;
    stripe_ = cell_ * k_;
    spc_ = ec_ ? (chunk + stripe_ - 1) / stripe_ : 1;
    chunk_ = ec_ ? spc_ * stripe_ : chunk;
    csum_ = c_->csum();
  }

  ObjectId oid() const override { return oid_; }
  uint64_t chunk_size() const override { return chunk_; }

  Status write(uint64_t off, const ConstIoVec* iov, size_t n) override {
    SgList<ConstIoVec> sg(iov, n);
    uint64_t len = sg.total();
    if (len == 0) return Status::OK();
    Status st = ec_ ? ec_write(off, sg) : rep_write(off, sg, len);
    if (st.ok()) rt_->counters.bytes_written += len;
    return st;
  }

  Status read(uint64_t off, const IoVec* iov, size_t n) override {
    SgList<IoVec> sg(iov, n);
    uint64_t len = sg.total();
    if (len == 0) return Status::OK();
    Status st = ec_ ? ec_read(off, sg) : rep_read(off, sg, len);
    if (st.ok()) rt_->counters.bytes_read += len;
    return st;
  }

  Status punch(uint64_t off, uint64_t len) override;
  Result<uint64_t> get_size() override;
  Status set_size(uint64_t size) override;
  Status destroy() override;

 private:
  uint32_t group_of_chunk(uint64_t c) const { return layout_.group_of(chunk_dkey_hash(c)); }
  const ShardLoc& loc(uint32_t g, uint32_t i) const { return layout_.at(g, i); }
  bool up(uint32_t g, uint32_t i) const { return c_->pool->up(loc(g, i).engine); }

  Call* add_call(Batch& b, uint32_t g, uint32_t i, Op op) {
    const ShardLoc& l = loc(g, i);
    Call* call = b.add(c_->pool->server_of(l.engine), op);
    rpc::ShardAddr a;
    a.pool = c_->pool->map.pool_uuid;
    a.engine = l.engine;
    a.cont = c_->uuid;
    a.oid = oid_;
    a.shard = g * layout_.group_size + i;
    a.target = l.target;
    Writer w;
    a.encode(w);
    call->body = w.take();
    return call;
  }

  void add_write(Batch& b, uint32_t g, uint32_t i, uint64_t local, const void* data, uint64_t len,
                 uint64_t logical_end) {
    add_writev(b, g, i, local, {ConstIoVec{data, len}}, logical_end);
  }

  // One RPC writing `pieces` back to back at shard-local offset `local` (sent zero-copy).
  void add_writev(Batch& b, uint32_t g, uint32_t i, uint64_t local, std::vector<ConstIoVec> pieces,
                  uint64_t logical_end) {
    Call* call = add_call(b, g, i, Op::kArrayWrite);
    Writer w;
    csum_.encode(w);
    bool has = csum_.type != CsumType::kOff;
    uint64_t cs = 0;
    if (has)
      for (const ConstIoVec& v : pieces) cs = ec::csum_compute(csum_.type, v.base, v.len, cs);
    w.put(local).put<uint8_t>(has).put(cs).put(logical_end);
    call->body += w.buf();
    call->bulk_out = std::move(pieces);
  }

  void add_read(Batch& b, uint32_t g, uint32_t i, uint64_t local, void* dst, uint64_t len) {
    add_readv(b, g, i, local, {IoVec{dst, len}});
  }

  // One RPC reading shard-local [local, local + sum of lengths) into `pieces`.
  void add_readv(Batch& b, uint32_t g, uint32_t i, uint64_t local, std::vector<IoVec> pieces) {
    Call* call = add_call(b, g, i, Op::kArrayRead);
    uint64_t len = 0;
    for (const IoVec& v : pieces) len += v.len;
    Writer w;
    csum_.encode(w);
    w.put(local).put(len);
    call->body += w.buf();
    call->bulk_in = std::move(pieces);
  }

  // Status of a completed read call, including the end-to-end checksum check.
  Status read_status(Call& call) {
    Status st = call.status();
    if (!st.ok() || csum_.type == CsumType::kOff) return st;
    uint64_t cs = 0;
    for (const IoVec& v : call.bulk_in) cs = ec::csum_compute(csum_.type, v.base, v.len, cs);
    if (cs != call.rep.value) {
      rt_->counters.csum_errors++;
      return Status(EDAOS_CSUM, "checksum mismatch on transfer from engine");
    }
    return st;
  }

  // Runs a batch of reads; a read that fails with a checksum error is retried once.
  void run_reads(Batch& b, std::vector<Status>* out) {
    b.run();
    out->assign(b.size(), Status());
    Batch retry(rt_);
    std::vector<size_t> idx;
    for (size_t i = 0; i < b.size(); ++i) {
      (*out)[i] = read_status(b[i]);
      if ((*out)[i].code() == EDAOS_CSUM && b[i].status().ok()) {
        Call* c = retry.add(b[i].server, b[i].op);
        c->body = b[i].body;
        c->bulk_in = b[i].bulk_in;
        idx.push_back(i);
      }
    }
    if (!idx.empty()) {
      rt_->counters.csum_retries += idx.size();
      retry.run();
      for (size_t j = 0; j < idx.size(); ++j) (*out)[idx[j]] = read_status(retry[j]);
    }
  }

  Status check_group_writable(uint32_t g) const {
    uint32_t down = 0;
    std::vector<uint32_t> engines;
    for (uint32_t i = 0; i < layout_.group_size; ++i)
      if (!up(g, i)) {
        ++down;
        engines.push_back(loc(g, i).engine);
      }
    uint32_t tolerate = ec_ ? p_ : reps_ - 1;
    if (down > tolerate)
      return Status(EDAOS_DEGRADED, std::to_string(down) + " of the " +
                                        std::to_string(layout_.group_size) + " engines of a " +
                                        layout_.oclass.name() + " group are down (tolerates " +
                                        std::to_string(tolerate) + ")");
    if (down) return c_->pool->exclude_before_write(engines);
    return Status::OK();
  }

  static Status first_error(Batch& b) {
    for (size_t i = 0; i < b.size(); ++i) EDAOS_RETURN_IF_ERROR(b[i].status());
    return Status::OK();
  }

  // ---- replication / single shard -----------------------------------------------------------
  Status rep_write(uint64_t off, const SgList<ConstIoVec>& sg, uint64_t len) {
    Batch b(rt_);
    std::vector<std::pair<uint32_t, uint64_t>> pieces;
    for (uint64_t done = 0; done < len;) {
      uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
      uint64_t k = std::min(len - done, chunk_ - r);
      uint32_t g = group_of_chunk(c);
      EDAOS_RETURN_IF_ERROR(check_group_writable(g));
      const void* p = sg.contiguous(done, k);
      if (!p) {
        uint8_t* s = b.scratch(k);
        sg.gather(done, k, s);
        p = s;
      }
      for (uint32_t j = 0; j < reps_; ++j)
        if (up(g, j)) add_write(b, g, j, c * chunk_ + r, p, k, o + k);
      done += k;
      if (b.size() >= kBatchCalls || b.scratch_bytes() >= kBatchBytes) {
        b.run();
        EDAOS_RETURN_IF_ERROR(first_error(b));
        b.clear();
      }
    }
    b.run();
    return first_error(b);
  }

  Status rep_read(uint64_t off, const SgList<IoVec>& sg, uint64_t len) {
    struct Piece {
      uint64_t rel, len, local, c;
      uint32_t g, replica;
      void* dst;
      bool scratch;
    };
    std::vector<Piece> pieces;
    for (uint64_t done = 0; done < len;) {
      uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
      uint64_t k = std::min(len - done, chunk_ - r);
      pieces.push_back(Piece{done, k, c * chunk_ + r, c, group_of_chunk(c), 0, nullptr, false});
      done += k;
    }
    for (size_t start = 0; start < pieces.size();) {
      Batch b(rt_);
      size_t end = start;
      for (; end < pieces.size() && b.size() < kBatchCalls && b.scratch_bytes() < kBatchBytes;
           ++end) {
        Piece& pc = pieces[end];
        pc.dst = sg.contiguous(pc.rel, pc.len);
        pc.scratch = pc.dst == nullptr;
        if (pc.scratch) pc.dst = b.scratch(pc.len);
      }
      // Try replicas in turn, starting from one chosen by chunk to spread the load.
      std::vector<std::vector<uint32_t>> failed(end - start);
      std::vector<size_t> todo;
      for (size_t i = start; i < end; ++i) todo.push_back(i);
      for (uint32_t attempt = 0; attempt < reps_ && !todo.empty(); ++attempt) {
        Batch rb(rt_);
        std::vector<size_t> in_batch;
        for (size_t i : todo) {
          Piece& pc = pieces[i];
          uint32_t j = static_cast<uint32_t>((pc.c + attempt) % reps_);
          if (!up(pc.g, j)) {
            failed[i - start].push_back(j);
            continue;
          }
          pc.replica = j;
          add_read(rb, pc.g, j, pc.local, pc.dst, pc.len);
          in_batch.push_back(i);
        }
        std::vector<Status> sts;
        run_reads(rb, &sts);
        std::vector<size_t> next;
        for (size_t q = 0; q < in_batch.size(); ++q) {
          size_t i = in_batch[q];
          if (sts[q].ok()) continue;
          if (!is_shard_failure(sts[q].code())) return sts[q];
          failed[i - start].push_back(pieces[i].replica);
          next.push_back(i);
        }
        for (size_t i : todo)
          if (std::find(in_batch.begin(), in_batch.end(), i) == in_batch.end()) next.push_back(i);
        todo = std::move(next);
        if (attempt + 1 == reps_ && !todo.empty())
          return Status(EDAOS_DEGRADED, "no live replica of " + oid_.to_string() +
                                            " could serve chunk " +
                                            std::to_string(pieces[todo[0]].c));
      }
      // Repair replicas that failed while another one served the data.
      Batch fix(rt_);
      for (size_t i = start; i < end; ++i) {
        Piece& pc = pieces[i];
        for (uint32_t j : failed[i - start]) {
          if (!up(pc.g, j)) continue;
          rt_->counters.degraded_reads++;
          rt_->counters.repairs++;
          add_write(fix, pc.g, j, pc.local, pc.dst, pc.len, 0);
        }
      }
      fix.run();
      for (size_t i = start; i < end; ++i)
        if (pieces[i].scratch) sg.scatter(pieces[i].rel, pieces[i].len, pieces[i].dst);
      start = end;
    }
    return Status::OK();
  }

  // ---- erasure coding -----------------------------------------------------------------------
  uint64_t stripe_local(uint64_t c, uint64_t s) const { return (c * spc_ + s) * cell_; }

  std::string lock_key(uint64_t c, uint64_t s) const {
    Writer w;
    w.uuid(c_->uuid).oid(oid_).put(c).put(s);
    return w.take();
  }
  // The engine that serializes partial writes of a group: first live parity shard, else first
  // live shard. Every client computes the same one from the same pool map.
  int leader_rank(uint32_t g) const {
    for (uint32_t i = k_; i < layout_.group_size; ++i)
      if (up(g, i)) return c_->pool->server_of(loc(g, i).engine);
    for (uint32_t i = 0; i < k_; ++i)
      if (up(g, i)) return c_->pool->server_of(loc(g, i).engine);
    return c_->pool->server_of(loc(g, 0).engine);
  }
  Status lock_op(Op op, int rank, const std::string& key) {
    Call call;
    call.server = rank;
    call.op = op;
    Writer w;
    w.str(key);
    call.body = w.take();
    rt_->counters.rpcs++;
    return rt_->rpc->call(&call);
  }

  // Reads whole cells [0, k+p) of one stripe into `cells` (k+p cells of cell_ bytes),
  // rebuilding missing ones. `bad` gets the shards whose copy failed while up (to repair).
  Status read_stripe(uint32_t g, uint64_t c, uint64_t s, uint8_t* cells, std::vector<uint32_t>* bad,
                     bool want_parity) {
    uint32_t n = k_ + p_;
    std::vector<bool> present(n, false);
    uint64_t local = stripe_local(c, s);
    // First the data cells, then (if something failed) enough parity to rebuild.
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < k_; ++i) order.push_back(i);
    uint32_t missing = 0;
    for (int round = 0; round < 2; ++round) {
      Batch b(rt_);
      std::vector<uint32_t> asked;
      for (uint32_t i : order) {
        if (!up(g, i)) continue;
        add_read(b, g, i, local, cells + static_cast<size_t>(i) * cell_, cell_);
        asked.push_back(i);
      }
      std::vector<Status> sts;
      run_reads(b, &sts);
      for (size_t q = 0; q < asked.size(); ++q) {
        if (sts[q].ok()) {
          present[asked[q]] = true;
        } else if (is_shard_failure(sts[q].code())) {
          if (bad && sts[q].code() != EDAOS_UNREACH) bad->push_back(asked[q]);
        } else {
          return sts[q];
        }
      }
      missing = 0;
      for (uint32_t i = 0; i < k_; ++i) missing += present[i] ? 0 : 1;
      if (round == 1 || (missing == 0 && !want_parity)) break;
      order.clear();
      for (uint32_t i = k_; i < n; ++i) order.push_back(i);
    }
    uint32_t have = 0;
    for (uint32_t i = 0; i < n; ++i) have += present[i] ? 1 : 0;
    if (have < k_)
      return Status(EDAOS_DEGRADED, "stripe " + std::to_string(s) + " of chunk " +
                                        std::to_string(c) + " of " + oid_.to_string() + ": only " +
                                        std::to_string(have) + " of " + std::to_string(n) +
                                        " cells readable, need " + std::to_string(k_));
    bool all = true;
    for (uint32_t i = 0; i < n; ++i) all = all && present[i];
    if (!all) {
      std::vector<uint8_t*> ptrs(n);
      bool pres[64];
      for (uint32_t i = 0; i < n; ++i) {
        ptrs[i] = cells + static_cast<size_t>(i) * cell_;
        pres[i] = present[i];
      }
      EDAOS_RETURN_IF_ERROR(codec_->decode(ptrs.data(), pres, cell_));
      if (missing) rt_->counters.degraded_reads++;
    }
    return Status::OK();
  }

  // Rewrites repaired cells on shards whose copy was corrupt.
  void repair(uint32_t g, uint64_t c, uint64_t s, const uint8_t* cells,
              const std::vector<uint32_t>& bad) {
    if (bad.empty()) return;
    Batch b(rt_);
    for (uint32_t i : bad)
      if (up(g, i))
        add_write(b, g, i, stripe_local(c, s), cells + static_cast<size_t>(i) * cell_, cell_, 0);
    b.run();
    for (size_t i = 0; i < b.size(); ++i)
      if (b[i].status().ok()) rt_->counters.repairs++;
  }

  Status partial_write(uint32_t g, uint64_t c, uint64_t s, uint64_t a, uint64_t bnd,
                       const SgList<ConstIoVec>& sg, uint64_t rel, uint64_t logical_end) {
    int leader = leader_rank(g);
    std::string key = lock_key(c, s);
    EDAOS_RETURN_IF_ERROR(lock_op(Op::kLock, leader, key));
    rt_->counters.partial_stripe_writes++;
    std::vector<uint8_t> cells(static_cast<size_t>(k_ + p_) * cell_);
    std::vector<uint32_t> bad;
    Status st = read_stripe(g, c, s, cells.data(), &bad, false);
    if (st.ok()) {
      sg.gather(rel, bnd - a, cells.data() + a);
      std::vector<const uint8_t*> data(k_);
      std::vector<uint8_t*> parity(p_);
      for (uint32_t i = 0; i < k_; ++i) data[i] = cells.data() + static_cast<size_t>(i) * cell_;
      for (uint32_t j = 0; j < p_; ++j)
        parity[j] = cells.data() + static_cast<size_t>(k_ + j) * cell_;
      codec_->encode(data.data(), parity.data(), cell_);
      Batch b(rt_);
      uint64_t local = stripe_local(c, s);
      for (uint32_t i = 0; i < k_; ++i) {
        uint64_t lo = std::max<uint64_t>(a, uint64_t{i} * cell_);
        uint64_t hi = std::min<uint64_t>(bnd, uint64_t{i + 1} * cell_);
        bool rewrite = std::find(bad.begin(), bad.end(), i) != bad.end();
        if (!up(g, i)) continue;
        if (rewrite) {
          add_write(b, g, i, local, cells.data() + static_cast<size_t>(i) * cell_, cell_,
                    logical_end);
        } else if (lo < hi) {
          add_write(b, g, i, local + (lo - uint64_t{i} * cell_), cells.data() + lo, hi - lo,
                    logical_end);
        }
      }
      for (uint32_t j = 0; j < p_; ++j)
        if (up(g, k_ + j)) add_write(b, g, k_ + j, local, parity[j], cell_, logical_end);
      b.run();
      st = first_error(b);
    }
    Status ust = lock_op(Op::kUnlock, leader, key);
    return st.ok() ? ust : st;
  }

  Status ec_write(uint64_t off, const SgList<ConstIoVec>& sg) {
    uint64_t len = sg.total();
    Batch b(rt_);
    for (uint64_t done = 0; done < len;) {
      uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
      uint64_t s = r / stripe_, a = r % stripe_;
      uint64_t bnd = std::min<uint64_t>(stripe_, a + (len - done));
      uint32_t g = group_of_chunk(c);
      EDAOS_RETURN_IF_ERROR(check_group_writable(g));
      if (a != 0 || bnd != stripe_) {
        EDAOS_RETURN_IF_ERROR(partial_write(g, c, s, a, bnd, sg, done, o + (bnd - a)));
        done += bnd - a;
        continue;
      }
      // A run of n whole stripes inside chunk c: each shard's cells of consecutive stripes
      // are contiguous in its local space, so one RPC per shard carries the whole run.
      uint64_t n = std::min<uint64_t>((len - done) / stripe_, spc_ - s);
      n = std::min<uint64_t>(n, std::max<uint64_t>(1, kBatchBytes / 4 / stripe_));
      rt_->counters.full_stripe_writes += n;
      uint64_t logical_end = o + n * stripe_;
      std::vector<std::vector<ConstIoVec>> data(k_);
      std::vector<uint8_t*> parity_run(p_);
      for (uint32_t j = 0; j < p_; ++j) parity_run[j] = b.scratch(n * cell_);
      std::vector<const uint8_t*> dptr(k_);
      std::vector<uint8_t*> pptr(p_);
      for (uint64_t t = 0; t < n; ++t) {
        uint64_t rel = done + t * stripe_;
        for (uint32_t i = 0; i < k_; ++i) {
          const void* p = sg.contiguous(rel + uint64_t{i} * cell_, cell_);
          if (!p) {
            uint8_t* sc = b.scratch(cell_);
            sg.gather(rel + uint64_t{i} * cell_, cell_, sc);
            p = sc;
          }
          dptr[i] = static_cast<const uint8_t*>(p);
          // Merge with the previous piece when the caller's buffer is contiguous.
          auto& v = data[i];
          if (!v.empty() && static_cast<const uint8_t*>(v.back().base) + v.back().len == p)
            v.back().len += cell_;
          else
            v.push_back(ConstIoVec{p, cell_});
        }
        for (uint32_t j = 0; j < p_; ++j) pptr[j] = parity_run[j] + t * cell_;
        codec_->encode(dptr.data(), pptr.data(), cell_);
      }
      uint64_t local = stripe_local(c, s);
      for (uint32_t i = 0; i < k_; ++i)
        if (up(g, i)) add_writev(b, g, i, local, std::move(data[i]), logical_end);
      for (uint32_t j = 0; j < p_; ++j)
        if (up(g, k_ + j)) add_write(b, g, k_ + j, local, parity_run[j], n * cell_, logical_end);
      done += n * stripe_;
      if (b.size() >= kBatchCalls || b.scratch_bytes() >= kBatchBytes) {
        b.run();
        EDAOS_RETURN_IF_ERROR(first_error(b));
        b.clear();
      }
    }
    b.run();
    return first_error(b);
  }

  Status ec_read(uint64_t off, const SgList<IoVec>& sg) {
    uint64_t len = sg.total();
    struct Piece {
      uint64_t rel, len, local, c, s;
      uint32_t g, cell;
      void* dst;
      bool scratch;
    };
    for (uint64_t done = 0; done < len;) {
      Batch b(rt_);
      std::vector<Piece> pieces;
      // Direct reads of the data cells, up to one batch.
      while (done < len && b.size() < kBatchCalls && b.scratch_bytes() < kBatchBytes) {
        uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
        uint64_t s = r / stripe_, q = r % stripe_;
        uint32_t i = static_cast<uint32_t>(q / cell_);
        uint64_t in = q % cell_;
        uint64_t k = std::min<uint64_t>(len - done, cell_ - in);
        Piece pc{done, k, stripe_local(c, s) + in, c, s, group_of_chunk(c), i, nullptr, false};
        pc.dst = sg.contiguous(done, k);
        pc.scratch = pc.dst == nullptr;
        if (pc.scratch) pc.dst = b.scratch(k);
        pieces.push_back(pc);
        done += k;
      }
      // One call per shard and run of shard-contiguous pieces (consecutive stripes of a
      // chunk); a failed call sends each of its pieces to the rebuild path.
      struct Plan {
        uint32_t g, cell;
        uint64_t local, end;
        std::vector<size_t> pieces;
      };
      std::vector<Plan> plans;
      std::map<std::pair<uint32_t, uint32_t>, size_t> open;  // (group, cell) -> plan
      for (size_t q = 0; q < pieces.size(); ++q) {
        Piece& pc = pieces[q];
        if (!up(pc.g, pc.cell)) continue;
        auto key = std::make_pair(pc.g, pc.cell);
        auto it = open.find(key);
        if (it != open.end() && plans[it->second].end == pc.local) {
          plans[it->second].end += pc.len;
          plans[it->second].pieces.push_back(q);
        } else {
          open[key] = plans.size();
          plans.push_back(Plan{pc.g, pc.cell, pc.local, pc.local + pc.len, {q}});
        }
      }
      for (const Plan& pl : plans) {
        std::vector<IoVec> dst;
        for (size_t q : pl.pieces) dst.push_back(IoVec{pieces[q].dst, pieces[q].len});
        add_readv(b, pl.g, pl.cell, pl.local, std::move(dst));
      }
      std::vector<Status> sts;
      run_reads(b, &sts);
      std::vector<bool> ok(pieces.size(), false);
      for (size_t q = 0; q < plans.size(); ++q) {
        if (sts[q].ok()) {
          for (size_t pi : plans[q].pieces) ok[pi] = true;
        } else if (!is_shard_failure(sts[q].code())) {
          return sts[q];
        }
      }
      // Rebuild what could not be read directly, one stripe at a time.
      std::map<std::pair<uint64_t, uint64_t>, std::vector<uint8_t>> rebuilt;
      for (size_t q = 0; q < pieces.size(); ++q) {
        Piece& pc = pieces[q];
        if (!ok[q]) {
          auto key = std::make_pair(pc.c, pc.s);
          auto it = rebuilt.find(key);
          if (it == rebuilt.end()) {
            std::vector<uint8_t> cells(static_cast<size_t>(k_ + p_) * cell_);
            std::vector<uint32_t> bad;
            EDAOS_RETURN_IF_ERROR(read_stripe(pc.g, pc.c, pc.s, cells.data(), &bad, false));
            // The direct read failed on a live engine: its cell is bad too.
            if (up(pc.g, pc.cell) && std::find(bad.begin(), bad.end(), pc.cell) == bad.end())
              bad.push_back(pc.cell);
            repair(pc.g, pc.c, pc.s, cells.data(), bad);
            it = rebuilt.emplace(key, std::move(cells)).first;
          }
          uint64_t in = pc.local - stripe_local(pc.c, pc.s);
          std::memcpy(pc.dst, it->second.data() + static_cast<size_t>(pc.cell) * cell_ + in,
                      pc.len);
        }
        if (pc.scratch) sg.scatter(pc.rel, pc.len, pc.dst);
      }
    }
    return Status::OK();
  }

  std::shared_ptr<ContState> c_;
  Runtime* rt_;
  ObjectId oid_;
  Layout layout_;
  std::shared_ptr<const ec::Codec> codec_;
  rpc::CsumWire csum_;
  bool ec_ = false;
  uint32_t k_ = 1, p_ = 0, reps_ = 1;
  uint64_t cell_ = 0, stripe_ = 0, spc_ = 1, chunk_ = 0;
};

Status ArrayImpl::punch(uint64_t off, uint64_t len) {
  if (len == 0) return Status::OK();
  if (ec_) {
    // Partial stripes at the edges become zero writes (parity must follow); whole stripes
    // are deallocated on every shard.
    std::vector<uint8_t> zeros;
    Batch b(rt_);
    for (uint64_t done = 0; done < len;) {
      uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
      uint64_t s = r / stripe_, a = r % stripe_;
      uint64_t bnd = std::min<uint64_t>(stripe_, a + (len - done));
      uint32_t g = group_of_chunk(c);
      if (a == 0 && bnd == stripe_) {
        for (uint32_t i = 0; i < k_ + p_; ++i) {
          if (!up(g, i)) continue;
          Call* call = add_call(b, g, i, Op::kArrayPunch);
          Writer w;
          w.put(stripe_local(c, s)).put(cell_);
          call->body += w.buf();
        }
      } else {
        zeros.assign(bnd - a, 0);
        ConstIoVec z{zeros.data(), zeros.size()};
        SgList<ConstIoVec> sg(&z, 1);
        EDAOS_RETURN_IF_ERROR(partial_write(g, c, s, a, bnd, sg, 0, 0));
      }
      done += bnd - a;
    }
    b.run();
    return first_error(b);
  }
  Batch b(rt_);
  for (uint64_t done = 0; done < len;) {
    uint64_t o = off + done, c = o / chunk_, r = o % chunk_;
    uint64_t k = std::min(len - done, chunk_ - r);
    uint32_t g = group_of_chunk(c);
    for (uint32_t j = 0; j < reps_; ++j) {
      if (!up(g, j)) continue;
      Call* call = add_call(b, g, j, Op::kArrayPunch);
      Writer w;
      w.put(c * chunk_ + r).put(k);
      call->body += w.buf();
    }
    done += k;
  }
  b.run();
  return first_error(b);
}

Result<uint64_t> ArrayImpl::get_size() {
  Batch b(rt_);
  for (uint32_t g = 0; g < layout_.ngroups; ++g)
    for (uint32_t i = 0; i < layout_.group_size; ++i)
      if (up(g, i)) add_call(b, g, i, Op::kArraySize);
  b.run();
  uint64_t size = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    Status st = b[i].status();
    if (!st.ok() && !is_shard_failure(st.code())) return st;
    if (st.ok()) size = std::max(size, b[i].rep.value);
  }
  return size;
}

Status ArrayImpl::set_size(uint64_t size) {
  auto cur = get_size();
  if (!cur.ok()) return cur.status();
  if (size < cur.value()) {
    // Zero the tail of the chunk holding the new end, then drop whole chunks beyond it on
    // every shard and record the exact size.
    uint64_t cn = size / chunk_;
    uint64_t tail_end = std::min(cur.value(), (cn + 1) * chunk_);
    if (tail_end > size) EDAOS_RETURN_IF_ERROR(punch(size, tail_end - size));
    uint64_t local_keep = ec_ ? (cn + 1) * spc_ * cell_ : (cn + 1) * chunk_;
    if (size % chunk_ == 0) local_keep = ec_ ? cn * spc_ * cell_ : cn * chunk_;
    Batch b(rt_);
    for (uint32_t g = 0; g < layout_.ngroups; ++g)
      for (uint32_t i = 0; i < layout_.group_size; ++i) {
        if (!up(g, i)) continue;
        Call* call = add_call(b, g, i, Op::kArrayTruncate);
        Writer w;
        w.put(local_keep).put(size);
        call->body += w.buf();
      }
    b.run();
    return first_error(b);
  }
  if (size == cur.value()) return Status::OK();
  // Extension: record the new end on every live shard of the group holding it.
  uint64_t c = (size - 1) / chunk_;
  uint32_t g = group_of_chunk(c);
  Batch b(rt_);
  for (uint32_t i = 0; i < layout_.group_size; ++i)
    if (up(g, i)) add_write(b, g, i, 0, nullptr, 0, size);
  b.run();
  return first_error(b);
}

Status ArrayImpl::destroy() {
  Batch b(rt_);
  for (uint32_t g = 0; g < layout_.ngroups; ++g)
    for (uint32_t i = 0; i < layout_.group_size; ++i)
      if (up(g, i)) add_call(b, g, i, Op::kObjPunch);
  b.run();
  return first_error(b);
}

}  // namespace

Result<std::unique_ptr<Array>> open_array(std::shared_ptr<ContState> c, ObjectId oid,
                                          uint64_t chunk) {
  if (otype_of(oid) != ObjType::kArray)
    return Status(EDAOS_INVAL, "object " + oid.to_string() + " is not a byte array");
  auto layout = compute_layout(c->pool->map, oid);
  if (!layout.ok()) return layout.status();
  if (chunk == 0) chunk = c->props.chunk_size;
  if (chunk == 0) return Status(EDAOS_INVAL, "chunk size 0");
  const ObjClass& oc = layout->oclass;
  std::shared_ptr<const ec::Codec> codec;
  if (oc.kind == ResilKind::kErasure) {
    if (c->props.ec_cell_sz == 0) return Status(EDAOS_INVAL, "ec_cell_sz 0");
    auto cd = ec::Codec::get(static_cast<int>(oc.data), static_cast<int>(oc.redun));
    if (!cd.ok()) return cd.status();
    codec = cd.value();
  }
  return std::unique_ptr<Array>(
      new ArrayImpl(std::move(c), oid, chunk, std::move(layout).value(), std::move(codec)));
}

}  // namespace edaos::objstore::client
