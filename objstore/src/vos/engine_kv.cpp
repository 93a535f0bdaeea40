// Engine: KV shards in LMDB, with long keys (format 3).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "common/log.hpp"
#include "vos/engine.hpp"
#include "vos/engine_internal.hpp"
#include "vos/records.hpp"
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos {

using detail::LmdbEnv;
using namespace detail;  // engine_internal.hpp: the layout shared by engine*.cpp

// ---------------------------------------------------------------- KV
//
// Short entries (dkey + akey <= kShortKvKeyBytes) live in `dkeys`/`akeys` under their own bytes.
// Longer ones live in `ldkeys`/`lakeys` under derived keys of at most 511 bytes (LMDB's limit):
//   ldkeys  SK + pad(dkey, kLongDkeyPad) + H(dkey) + u16 BE seq
//           -> u64 LE akey count, dkey
//   lakeys  SK + H(dkey) + pad(akey, kLongAkeyPad) + H(akey) + u16 BE seq
//           -> u32 LE dkey size, u32 LE akey size, dkey, akey, record (as in `akeys`)
// pad(s, w) = the first w bytes of s, zero-padded to w: s < t implies pad(s) <= pad(t), so the
// derived keys are in the byte order of the full keys except inside a run of equal pads (a
// "group"), which listing sorts. Entries whose derived keys agree up to the seq form a bucket;
// every lookup compares the full keys kept in the values, so hash collisions only lengthen the
// scan. See objstore/src/vos/README.md ("Long KV keys").

namespace {
constexpr size_t kLmdbMaxKey = 511;
constexpr size_t kHashLen = 8, kSeqLen = 2;
constexpr size_t kLongDkeyPad = kLmdbMaxKey - kShardKeyLen - kHashLen - kSeqLen;
constexpr size_t kLongAkeyPad = kLmdbMaxKey - kShardKeyLen - 2 * kHashLen - kSeqLen;
constexpr uint32_t kMaxSeq = 0xffff;
static_assert(kLongDkeyPad <= kShortKvKeyBytes, "a long dkey must fill its pad");
static_assert(kShardKeyLen + 2 + kShortKvKeyBytes <= kLmdbMaxKey, "short akey keys fit LMDB");

std::atomic<KvKeyHashFn> g_key_hash{nullptr};

// 64-bit multiply-xorshift hash over little-endian 8-byte words (part of format 3: never change).
uint64_t builtin_key_hash(std::string_view s) {
  constexpr uint64_t kMul = 0x9fb21c651e98df25ull;
  uint64_t h = 0x6a09e667f3bcc908ull ^ (static_cast<uint64_t>(s.size()) * kMul);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    h ^= detail::get_le64(s.data() + i);
    h *= kMul;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  for (size_t j = s.size(); j > i; --j) tail = (tail << 8) | static_cast<uint8_t>(s[j - 1]);
  h ^= tail;
  h *= kMul;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

uint64_t key_hash(std::string_view s) {
  KvKeyHashFn f = g_key_hash.load(std::memory_order_relaxed);
  return f ? f(s) : builtin_key_hash(s);
}

void put_pad(std::string* k, std::string_view s, size_t width) {
  const size_t n = std::min(width, s.size());
  k->append(s.data(), n);
  k->append(width - n, '\0');
}

bool is_long_dkey(std::string_view dkey) { return dkey.size() > kShortKvKeyBytes; }
bool is_long_entry(std::string_view dkey, std::string_view akey) {
  return dkey.size() + akey.size() > kShortKvKeyBytes;
}

// A key for messages: long keys are cut (a 64 KiB name must not travel in every error reply).
std::string show(std::string_view k) {
  if (k.size() <= 64) return std::string(k);
  return std::string(k.substr(0, 40)) + "...(" + std::to_string(k.size()) + " bytes)";
}

std::string short_akey_prefix(const std::string& sk, std::string_view dkey) {
  std::string k = sk;
  detail::put_be(&k, dkey.size(), 2);
  k.append(dkey);
  return k;
}
std::string long_dkey_bucket(const std::string& sk, std::string_view dkey) {
  std::string k = sk;
  put_pad(&k, dkey, kLongDkeyPad);
  detail::put_be(&k, key_hash(dkey), 8);
  return k;
}
std::string long_akey_scope(const std::string& sk, std::string_view dkey) {
  std::string k = sk;
  detail::put_be(&k, key_hash(dkey), 8);
  return k;
}
std::string long_akey_bucket(const std::string& scope, std::string_view akey) {
  std::string k = scope;
  put_pad(&k, akey, kLongAkeyPad);
  detail::put_be(&k, key_hash(akey), 8);
  return k;
}

// Value of an `lakeys` entry.
struct LongAkeyVal {
  std::string_view dkey, akey, rec;
};
bool parse_long_akey(std::string_view v, LongAkeyVal* out) {
  if (v.size() < 8) return false;
  const size_t dn = detail::get_le32(v.data()), an = detail::get_le32(v.data() + 4);
  if (v.size() - 8 < dn || v.size() - 8 - dn < an) return false;
  out->dkey = v.substr(8, dn);
  out->akey = v.substr(8 + dn, an);
  out->rec = v.substr(8 + dn + an);
  return true;
}
std::string encode_long_akey(std::string_view dkey, std::string_view akey, std::string_view rec) {
  std::string v;
  for (size_t n : {dkey.size(), akey.size()}) detail::put_le32(&v, static_cast<uint32_t>(n));
  v.append(dkey).append(akey).append(rec);
  return v;
}

// Where a dkey record or an akey entry is (or would go).
struct KeyLoc {
  bool exists = false;
  MDB_dbi dbi = 0;
  std::string key;
  std::string_view val;  // the stored value (short) or record (long), when exists
};

// Searches the bucket `bucket` (keys bucket + u16 BE seq) for the entry `match` accepts. Not
// found: loc->key = the bucket's first free seq; EDAOS_NOSPACE when all 65536 are taken.
Status probe(LmdbEnv* db, MDB_txn* t, MDB_dbi dbi, const std::string& bucket,
             const std::function<bool(std::string_view val, std::string_view* rec)>& match,
             KeyLoc* loc) {
  loc->dbi = dbi;
  uint32_t next = 0;
  bool gap = false;
  EDAOS_RETURN_IF_ERROR(db->scan(t, dbi, bucket, {}, [&](std::string_view k, std::string_view v) {
    if (k.size() != bucket.size() + kSeqLen) return true;
    if (!gap) {
      if (detail::get_be(k.data() + bucket.size(), 2) == next)
        ++next;
      else
        gap = true;
    }
    if (match(v, &loc->val)) {
      loc->exists = true;
      loc->key.assign(k);
      return false;
    }
    return true;
  }));
  if (loc->exists) return Status::OK();
  if (next > kMaxSeq) return Status(EDAOS_NOSPACE, "long-key hash bucket is full");
  loc->key = bucket;
  detail::put_be(&loc->key, next, 2);
  return Status::OK();
}

Status check_keys(std::string_view dkey, std::string_view akey, bool akey_required) {
  if (dkey.empty()) return Status(EDAOS_INVAL, "empty dkey");
  if (akey_required && akey.empty()) return Status(EDAOS_INVAL, "empty akey");
  if (dkey.size() + akey.size() > kMaxKvKeyBytes)
    return Status(EDAOS_NAMETOOLONG, "dkey + akey are " +
                                         std::to_string(dkey.size() + akey.size()) +
                                         " bytes, limit " + std::to_string(kMaxKvKeyBytes));
  return Status::OK();
}

// The dkey record of `dkey` (value: u64 LE akey count, then the dkey itself when long).
Status find_dkey(LmdbEnv* db, MDB_txn* t, const std::string& sk, std::string_view dkey,
                 KeyLoc* loc) {
  if (!is_long_dkey(dkey)) {
    loc->dbi = db->dbi(kDbDkeys);
    loc->key = sk + std::string(dkey);
    Status st = db->get(t, loc->dbi, loc->key, &loc->val);
    loc->exists = st.ok();
    return st.ok() || st.code() == EDAOS_NONEXIST ? Status::OK() : st;
  }
  return probe(
      db, t, db->dbi(kDbLongDkeys), long_dkey_bucket(sk, dkey),
      [&](std::string_view v, std::string_view* rec) {
        *rec = v;
        return v.size() >= 8 && v.substr(8) == dkey;
      },
      loc);
}
uint64_t dkey_count(const KeyLoc& loc) {
  return loc.exists && loc.val.size() >= 8 ? detail::get_le64(loc.val.data()) : 0;
}
Status put_dkey_count(LmdbEnv* db, MDB_txn* t, const KeyLoc& loc, std::string_view dkey,
                      uint64_t n) {
  std::string v;
  detail::put_le64(&v, n);
  if (is_long_dkey(dkey)) v.append(dkey);
  return db->put(t, loc.dbi, loc.key, v);
}

// The akey entry (dkey, akey); loc->val is its record (u8 CsumType, u64 LE checksum, value).
Status find_akey(LmdbEnv* db, MDB_txn* t, const std::string& sk, std::string_view dkey,
                 std::string_view akey, KeyLoc* loc) {
  if (!is_long_entry(dkey, akey)) {
    loc->dbi = db->dbi(kDbAkeys);
    loc->key = short_akey_prefix(sk, dkey) + std::string(akey);
    Status st = db->get(t, loc->dbi, loc->key, &loc->val);
    loc->exists = st.ok();
    return st.ok() || st.code() == EDAOS_NONEXIST ? Status::OK() : st;
  }
  return probe(
      db, t, db->dbi(kDbLongAkeys), long_akey_bucket(long_akey_scope(sk, dkey), akey),
      [&](std::string_view v, std::string_view* rec) {
        LongAkeyVal lv;
        if (!parse_long_akey(v, &lv) || lv.dkey != dkey || lv.akey != akey) return false;
        *rec = lv.rec;
        return true;
      },
      loc);
}
}  // namespace

std::string encode_time_merge(const TimeMerge& m) {
  std::string v;
  detail::put_le32(&v, m.guard_off);
  detail::put_le32(&v, static_cast<uint32_t>(m.guard.size()));
  v += m.guard;
  detail::put_le32(&v, m.time_off);
  detail::put_le32(&v, static_cast<uint32_t>(m.times.size()));
  for (const auto& t : m.times) {
    detail::put_le64(&v, t.first);
    detail::put_le32(&v, t.second);
  }
  return v;
}

Result<TimeMerge> decode_time_merge(std::string_view v) {
  const Status bad(EDAOS_INVAL, "malformed time merge");
  constexpr size_t kMaxTimes = 64;
  TimeMerge m;
  size_t pos = 0;
  auto u32 = [&](uint32_t* out) {
    if (v.size() - pos < 4) return false;
    *out = detail::get_le32(v.data() + pos);
    pos += 4;
    return true;
  };
  uint32_t n = 0;
  if (!u32(&m.guard_off) || !u32(&n) || v.size() - pos < n) return bad;
  m.guard.assign(v.substr(pos, n));
  pos += n;
  if (!u32(&m.time_off) || !u32(&n) || n > kMaxTimes || v.size() - pos != size_t{n} * 12)
    return bad;
  for (uint32_t i = 0; i < n; ++i, pos += 12) {
    const uint32_t ns = detail::get_le32(v.data() + pos + 8);
    if (ns >= 1000000000u) return bad;
    m.times.emplace_back(detail::get_le64(v.data() + pos), ns);
  }
  return m;
}

Status apply_time_merge(const TimeMerge& m, std::string* v, bool* changed) {
  *changed = false;
  const uint64_t gend = uint64_t{m.guard_off} + m.guard.size();
  if (gend > v->size() || v->compare(m.guard_off, m.guard.size(), m.guard) != 0)
    return Status(EDAOS_NONEXIST, "the value no longer holds the guard of the time merge");
  if (uint64_t{m.time_off} + 12 * m.times.size() > v->size())
    return Status(EDAOS_FORMAT,
                  "time merge past the end of a " + std::to_string(v->size()) + "-byte value");
  for (size_t i = 0; i < m.times.size(); ++i) {
    char* p = v->data() + m.time_off + 12 * i;
    const std::pair<uint64_t, uint32_t> cur{detail::get_le64(p), detail::get_le32(p + 8)};
    if (m.times[i] <= cur) continue;
    std::string t;
    detail::put_le64(&t, m.times[i].first);
    detail::put_le32(&t, m.times[i].second);
    std::memcpy(p, t.data(), 12);
    *changed = true;
  }
  return Status::OK();
}

void set_kv_key_hash_for_testing(KvKeyHashFn fn) {
  g_key_hash.store(fn, std::memory_order_relaxed);
}

void fail_kv_group_commits_for_testing(int n) { LmdbEnv::fail_group_commits_for_testing(n); }

namespace {
// A stored record (u8 CsumType, u64 LE checksum, value): its value, verified when the checksum
// function of its type is known (cs.fn when cs is of that type, else the last one seen).
Status record_value(std::string_view rec, std::string_view dkey, std::string_view akey,
                    const CsumSpec& cs, const std::array<CsumFn, 4>& fns, std::string_view* val) {
  if (rec.size() < 9) return Status(EDAOS_FORMAT, "corrupt KV record");
  const auto stype = static_cast<CsumType>(static_cast<uint8_t>(rec[0]));
  *val = rec.substr(9);
  if (stype == CsumType::kOff || static_cast<unsigned>(stype) >= fns.size()) return Status::OK();
  CsumFn fn = stype == cs.type ? cs.fn : fns[static_cast<unsigned>(stype)];
  if (!fn) return Status::OK();
  const uint64_t want = detail::get_le64(rec.data() + 1),
                 have = fn(stype, val->data(), val->size(), 0);
  if (want == have) return Status::OK();
  return Status(EDAOS_CSUM, "stored value of dkey '" + show(dkey) + "' akey '" + show(akey) +
                                "' is corrupt (checksum " + detail::hex64(have) + ", stored " +
                                detail::hex64(want) + ")");
}

// The record of `value` under cs: u8 CsumType, u64 LE checksum, value.
std::string make_record(std::string_view value, const CsumSpec& cs) {
  std::string rec(1, static_cast<char>(cs.type));
  detail::put_le64(&rec,
                   cs.type == CsumType::kOff ? 0 : cs.fn(cs.type, value.data(), value.size(), 0));
  rec.append(value);
  return rec;
}
}  // namespace

Status Engine::kv_put(const ShardRef& ref, std::string_view dkey, std::string_view akey,
                      std::string_view value, uint32_t flags, const CsumSpec& cs) {
  KvChange c;
  c.ref = ref;
  c.dkey = dkey;
  c.akey = akey;
  c.value = value;
  c.flags = flags;
  c.cs = cs;
  return kv_one(c);
}

Status Engine::kv_one(const KvChange& c) {
  std::vector<Status> r;
  Status st = kv_apply({c}, &r);
  return st.ok() ? r[0] : st;
}

// One change of kv_apply: the checks that need no transaction (into *st), and the function
// that makes the change inside one.
struct Engine::KvPrepared {
  Status st;
  bool is_long = false;
  std::string sk, rec;
  TimeMerge merge;  // kMergeTimes: the spec (rec is made in the transaction)
};

Status Engine::kv_prepare(const KvChange& c, KvPrepared* p) {
  EDAOS_RETURN_IF_ERROR(check_ref(c.ref));
  if (c.remove) {
    if (c.guarded) {
      EDAOS_RETURN_IF_ERROR(detail::check_csum_spec(c.cs));
      EDAOS_RETURN_IF_ERROR(check_keys(c.dkey, c.guard_akey, true));
    }
    return check_keys(c.dkey, c.akey, false);
  }
  EDAOS_RETURN_IF_ERROR(detail::check_csum_spec(c.cs));
  EDAOS_RETURN_IF_ERROR(check_keys(c.dkey, c.akey, true));
  if ((c.flags & kInsertOnly) && (c.flags & kUpdateOnly))
    return Status(EDAOS_INVAL, "kv_put: insert-only and update-only together");
  p->is_long = is_long_entry(c.dkey, c.akey);
  if (c.flags & kMergeTimes) {
    if (c.flags & kInsertOnly) return Status(EDAOS_INVAL, "kv_put: insert-only time merge");
    EDAOS_ASSIGN_OR_RETURN(p->merge, decode_time_merge(c.value));
    return Status::OK();
  }
  p->rec = make_record(c.value, c.cs);
  return Status::OK();
}

Status Engine::kv_put_txn(MDB_txn* t, const KvChange& c, const KvPrepared& p) {
  std::string_view dkey = c.dkey, akey = c.akey;
  KeyLoc a;
  EDAOS_RETURN_IF_ERROR(find_akey(db_.get(), t, p.sk, dkey, akey, &a));
  if (c.flags & kMergeTimes) {  // read, merge, write back only when a time moved
    if (!a.exists)
      return Status(EDAOS_NONEXIST,
                    "akey '" + show(akey) + "' of dkey '" + show(dkey) + "' does not exist");
    std::string_view cur;
    EDAOS_RETURN_IF_ERROR(record_value(a.val, dkey, akey, c.cs, fns_, &cur));
    std::string v(cur);
    bool changed = false;
    EDAOS_RETURN_IF_ERROR(apply_time_merge(p.merge, &v, &changed));
    if (!changed) return Status::OK();
    const std::string rec = make_record(v, c.cs);
    return db_->put(t, a.dbi, a.key, p.is_long ? encode_long_akey(dkey, akey, rec) : rec);
  }
  if (a.exists && (c.flags & kInsertOnly))
    return Status(EDAOS_EXIST,
                  "akey '" + show(akey) + "' of dkey '" + show(dkey) + "' already exists");
  if (!a.exists && (c.flags & kUpdateOnly))
    return Status(EDAOS_NONEXIST,
                  "akey '" + show(akey) + "' of dkey '" + show(dkey) + "' does not exist");
  EDAOS_RETURN_IF_ERROR(
      db_->put(t, a.dbi, a.key, p.is_long ? encode_long_akey(dkey, akey, p.rec) : p.rec));
  if (a.exists) return Status::OK();
  KeyLoc d;
  EDAOS_RETURN_IF_ERROR(find_dkey(db_.get(), t, p.sk, dkey, &d));
  return put_dkey_count(db_.get(), t, d, dkey, dkey_count(d) + 1);
}

Status Engine::kv_apply(const std::vector<KvChange>& changes, std::vector<Status>* results) {
  results->assign(changes.size(), Status::OK());
  std::vector<KvPrepared> prep(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    prep[i].st = kv_prepare(changes[i], &prep[i]);
    if (prep[i].st.ok()) prep[i].sk = shard_key(changes[i].ref);
  }
  std::lock_guard<std::mutex> g(mu_);
  uint64_t added = 0;  // bytes the batch's puts may add (quota)
  bool has_long = false;
  for (size_t i = 0; i < changes.size(); ++i) {
    const KvChange& c = changes[i];
    KvPrepared& p = prep[i];
    if (!p.st.ok() || c.remove) continue;
    if (c.cs.type != CsumType::kOff) fns_[static_cast<unsigned>(c.cs.type)] = c.cs.fn;
    if (opts_.quota_bytes > 0) {
      const uint64_t need = p.rec.size() + 2 * (c.dkey.size() + c.akey.size());
      if (used_bytes_ + db_->allocated_bytes() + added + need > opts_.quota_bytes) {
        p.st = Status(EDAOS_NOSPACE, "engine " + opts_.dir + " quota of " +
                                         std::to_string(opts_.quota_bytes) +
                                         " bytes would be exceeded");
        continue;
      }
      added += need;
    }
    has_long = has_long || p.is_long;
  }
  if (has_long && format_ < kEngineFormatLongKeys) {  // (format 4 includes long keys)
    // Stamp first: a build that reads only version 2 must never open an engine with long keys.
    EDAOS_RETURN_IF_ERROR(write_format(kEngineFormatLongKeys));
    EDAOS_LOG(info, "engine %s holds long KV keys: format %u", opts_.dir.c_str(), format_);
  }
  std::vector<std::function<Status(MDB_txn*)>> fns;
  std::vector<size_t> which;  // index of the change each function makes
  for (size_t i = 0; i < changes.size(); ++i) {
    if (!prep[i].st.ok()) {
      (*results)[i] = prep[i].st;
      continue;
    }
    const KvChange& c = changes[i];
    const KvPrepared& p = prep[i];
    fns.push_back([this, &c, &p](MDB_txn* t) {
      return c.remove ? kv_remove_txn(t, c, p) : kv_put_txn(t, c, p);
    });
    which.push_back(i);
  }
  if (fns.empty()) return Status::OK();
  if (fns.size() == 1) {  // alone: no nested transaction
    (*results)[which[0]] = db_->write(fns[0]);
    return Status::OK();
  }
  std::vector<Status> r;
  EDAOS_RETURN_IF_ERROR(db_->write_group(fns, &r));
  for (size_t k = 0; k < which.size(); ++k) (*results)[which[k]] = r[k];
  return Status::OK();
}

Result<std::string> Engine::kv_get(const ShardRef& ref, std::string_view dkey,
                                   std::string_view akey, const CsumSpec& cs) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(detail::check_csum_spec(cs));
  EDAOS_RETURN_IF_ERROR(check_keys(dkey, akey, true));
  std::lock_guard<std::mutex> g(mu_);
  if (cs.type != CsumType::kOff) fns_[static_cast<unsigned>(cs.type)] = cs.fn;
  std::string out;
  const std::string sk = shard_key(ref);
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    KeyLoc a;
    EDAOS_RETURN_IF_ERROR(find_akey(db_.get(), t, sk, dkey, akey, &a));
    if (!a.exists)
      return Status(EDAOS_NONEXIST, "no akey '" + show(akey) + "' under dkey '" + show(dkey) + "'");
    std::string_view val;
    EDAOS_RETURN_IF_ERROR(record_value(a.val, dkey, akey, cs, fns_, &val));
    out.assign(val);
    return Status::OK();
  }));
  return out;
}

Status Engine::kv_remove(const ShardRef& ref, std::string_view dkey, std::string_view akey) {
  KvChange c;
  c.remove = true;
  c.ref = ref;
  c.dkey = dkey;
  c.akey = akey;
  return kv_one(c);
}

Status Engine::kv_remove_txn(MDB_txn* t, const KvChange& c, const KvPrepared& p) {
  const std::string& sk = p.sk;
  std::string_view dkey = c.dkey, akey = c.akey;
  if (c.guarded) {  // in this transaction: nothing can change the value in between
    KeyLoc g;
    EDAOS_RETURN_IF_ERROR(find_akey(db_.get(), t, sk, dkey, c.guard_akey, &g));
    if (!g.exists)
      return Status(EDAOS_NONEXIST,
                    "no akey '" + show(c.guard_akey) + "' under dkey '" + show(dkey) + "'");
    std::string_view cur;
    EDAOS_RETURN_IF_ERROR(record_value(g.val, dkey, c.guard_akey, c.cs, fns_, &cur));
    if (cur.size() < c.guard_off || cur.size() - c.guard_off < c.guard.size() ||
        cur.substr(c.guard_off, c.guard.size()) != c.guard)
      return Status(EDAOS_EXIST, "dkey '" + show(dkey) +
                                     "' was not removed: its value names another object now");
  }
  KeyLoc d;
  EDAOS_RETURN_IF_ERROR(find_dkey(db_.get(), t, sk, dkey, &d));
  if (!d.exists) return Status(EDAOS_NONEXIST, "no dkey '" + show(dkey) + "'");
  const uint64_t n = dkey_count(d);
  if (akey.empty()) {
    // Short entries need dkey + a 1-byte akey to fit; long ones are filtered by their dkey.
    if (dkey.size() < kShortKvKeyBytes)
      EDAOS_RETURN_IF_ERROR(db_->del_prefix(t, db_->dbi(kDbAkeys), short_akey_prefix(sk, dkey)));
    std::vector<std::string> keys;
    EDAOS_RETURN_IF_ERROR(db_->scan(t, db_->dbi(kDbLongAkeys), long_akey_scope(sk, dkey), {},
                                    [&](std::string_view k, std::string_view v) {
                                      LongAkeyVal lv;
                                      if (parse_long_akey(v, &lv) && lv.dkey == dkey)
                                        keys.emplace_back(k);
                                      return true;
                                    }));
    for (const auto& k : keys) EDAOS_RETURN_IF_ERROR(db_->del(t, db_->dbi(kDbLongAkeys), k));
    return db_->del(t, d.dbi, d.key);
  }
  KeyLoc a;
  EDAOS_RETURN_IF_ERROR(find_akey(db_.get(), t, sk, dkey, akey, &a));
  if (!a.exists)
    return Status(EDAOS_NONEXIST, "no akey '" + show(akey) + "' under dkey '" + show(dkey) + "'");
  EDAOS_RETURN_IF_ERROR(db_->del(t, a.dbi, a.key));
  if (n <= 1) return db_->del(t, d.dbi, d.key);
  return put_dkey_count(db_.get(), t, d, dkey, n - 1);
}

namespace {
// Up to `limit` short keys (suffixes after `prefix`) strictly after `anchor`, in byte order.
Status list_short(LmdbEnv* db, MDB_txn* t, MDB_dbi dbi, const std::string& prefix,
                  std::string_view anchor, size_t limit, std::vector<std::string>* out) {
  // A long anchor is cut to fit LMDB: the scan then starts at or before it; skip up to it.
  std::string after;
  if (!anchor.empty())
    after =
        prefix + std::string(anchor.substr(0, kLmdbMaxKey - std::min(kLmdbMaxKey, prefix.size())));
  return db->scan(t, dbi, prefix, after, [&](std::string_view k, std::string_view) {
    std::string_view key = k.substr(prefix.size());
    if (!anchor.empty() && key <= anchor) return true;
    if (out->size() == limit) return false;
    out->emplace_back(key);
    return true;
  });
}
// Up to `limit` long keys of `scope` (derived keys scope + pad(key, width) + ...) strictly after
// `anchor`, in byte order. `full` gives an entry's full key, false to skip the entry.
Status list_long(LmdbEnv* db, MDB_txn* t, MDB_dbi dbi, const std::string& scope, size_t width,
                 std::string_view anchor, size_t limit,
                 const std::function<bool(std::string_view val, std::string_view* key)>& full,
                 std::vector<std::string>* out) {
  // Every key after the anchor has pad >= pad(anchor). Groups (equal pads) are contiguous in
  // byte order and come in increasing order: stop at a group boundary once `limit` are found.
  std::string after;
  if (!anchor.empty()) {
    after = scope;
    put_pad(&after, anchor, width);
  }
  std::string group;
  EDAOS_RETURN_IF_ERROR(db->scan(t, dbi, scope, after, [&](std::string_view k, std::string_view v) {
    std::string_view g = k.substr(0, scope.size() + width);
    if (g != group) {
      if (out->size() >= limit) return false;
      group.assign(g);
    }
    std::string_view key;
    if (!full(v, &key)) return true;
    if (!anchor.empty() && key <= anchor) return true;
    out->emplace_back(key);
    return true;
  }));
  std::sort(out->begin(), out->end());
  if (out->size() > limit) out->resize(limit);
  return Status::OK();
}
// Merges the two sorted candidate lists (each holding up to max + 1) into one page.
std::vector<std::string> merge_page(std::vector<std::string> a, std::vector<std::string> b,
                                    uint32_t max, bool* eof) {
  std::vector<std::string> out;
  out.reserve(a.size() + b.size());
  std::merge(std::make_move_iterator(a.begin()), std::make_move_iterator(a.end()),
             std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()),
             std::back_inserter(out));
  const bool more = out.size() > max;
  if (more) out.resize(max);
  if (eof) *eof = !more;
  return out;
}
}  // namespace

Result<std::vector<std::string>> Engine::kv_list_dkeys(const ShardRef& ref, std::string_view anchor,
                                                       uint32_t max, bool* eof) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  if (max == 0) return Status(EDAOS_INVAL, "list: max is 0");
  if (anchor.size() > kMaxKvKeyBytes)
    return Status(EDAOS_NAMETOOLONG, "anchor of " + std::to_string(anchor.size()) + " bytes");
  std::lock_guard<std::mutex> g(mu_);
  const std::string sk = shard_key(ref);
  const size_t limit = size_t{max} + 1;
  std::vector<std::string> s, l;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    EDAOS_RETURN_IF_ERROR(list_short(db_.get(), t, db_->dbi(kDbDkeys), sk, anchor, limit, &s));
    return list_long(
        db_.get(), t, db_->dbi(kDbLongDkeys), sk, kLongDkeyPad, anchor, limit,
        [](std::string_view v, std::string_view* key) {
          if (v.size() < 8) return false;
          *key = v.substr(8);
          return true;
        },
        &l);
  }));
  return merge_page(std::move(s), std::move(l), max, eof);
}

Result<std::vector<std::string>> Engine::kv_list_akeys(const ShardRef& ref, std::string_view dkey,
                                                       std::string_view anchor, uint32_t max,
                                                       bool* eof) {
  EDAOS_RETURN_IF_ERROR(check_ref(ref));
  EDAOS_RETURN_IF_ERROR(check_keys(dkey, anchor, false));
  if (max == 0) return Status(EDAOS_INVAL, "list: max is 0");
  std::lock_guard<std::mutex> g(mu_);
  const std::string sk = shard_key(ref);
  const size_t limit = size_t{max} + 1;
  std::vector<std::string> s, l;
  EDAOS_VOS_TRY(db_->read([&](MDB_txn* t) -> Status {
    if (dkey.size() < kShortKvKeyBytes)
      EDAOS_RETURN_IF_ERROR(list_short(db_.get(), t, db_->dbi(kDbAkeys),
                                       short_akey_prefix(sk, dkey), anchor, limit, &s));
    return list_long(
        db_.get(), t, db_->dbi(kDbLongAkeys), long_akey_scope(sk, dkey), kLongAkeyPad, anchor,
        limit,
        [&](std::string_view v, std::string_view* key) {
          LongAkeyVal lv;
          if (!parse_long_akey(v, &lv) || lv.dkey != dkey) return false;
          *key = lv.akey;
          return true;
        },
        &l);
  }));
  return merge_page(std::move(s), std::move(l), max, eof);
}

}  // namespace edaos::objstore::vos
