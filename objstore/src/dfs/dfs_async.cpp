// The asynchronous calls of the namespace (issue 17 item 5, session 7): DfsEq and DfsEvent.
// This file owns the queue (one thread per queue, asleep on a condition variable while
// nothing is to run), the batching of queued operations (consecutive ones of one kind on one
// parent) and the vector form of each kind: stats and creates through Dfs::stat_names and
// Dfs::create_files, mkdir and remove here (entries with one KV::run, the per-object work of up
// to kDfsVecInFlight objects at once). Design: README.md, "Asynchronous calls".
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <thread>

#include "client/shard_io.hpp"
#include "common/log.hpp"
#include "dfs/dfs_internal.hpp"

EDAOS_LOG_FACILITY(dfs);

namespace edaos::objstore {

using namespace dfs;

namespace dfs {

struct EqCore {
  Dfs* dfs = nullptr;
  size_t depth = 1;
  std::mutex mu;
  std::condition_variable work_cv, done_cv;
  std::deque<DfsEventPtr> queued;
  size_t unfinished = 0;  // submitted and not complete
  bool flush = false, stop = false;
  Status first_error;  // since the last wait_all
  std::thread worker;

  void loop();
  void run_batch(std::vector<DfsEventPtr>& b);
  void run_stats(std::vector<DfsEventPtr>& b);
  void run_creates(std::vector<DfsEventPtr>& b);
  void run_mkdirs(std::vector<DfsEventPtr>& b);
  void run_removes(std::vector<DfsEventPtr>& b);
};

}  // namespace dfs

namespace {

// A status the batch runners never produce: the event was not reached by the vector call
// (which failed before its per-item part).
const char kNotReached[] = "(not reached)";
Status not_reached() { return Status(EDAOS_CANCELED, kNotReached); }
bool is_not_reached(const Status& s) {
  return s.code() == EDAOS_CANCELED && s.message() == kNotReached;
}

}  // namespace

void EqCore::loop() {
  std::unique_lock<std::mutex> lk(mu);
  for (;;) {
    work_cv.wait(lk,
                 [&] { return stop || (!queued.empty() && (flush || queued.size() >= depth)); });
    if (queued.empty()) {
      if (stop) return;
      continue;
    }
    flush = false;
    std::vector<DfsEventPtr> taken;
    while (!queued.empty() && taken.size() < depth) {
      taken.push_back(std::move(queued.front()));
      queued.pop_front();
    }
    if (!queued.empty()) flush = true;  // the rest was asked for too: the next round takes it
    lk.unlock();
    // Batches: runs of one kind on one parent, in submission order.
    for (size_t i = 0; i < taken.size();) {
      size_t j = i + 1;
      while (j < taken.size() && taken[j]->kind_ == taken[i]->kind_ &&
             taken[j]->parent_ == taken[i]->parent_)
        ++j;
      std::vector<DfsEventPtr> b(taken.begin() + static_cast<std::ptrdiff_t>(i),
                                 taken.begin() + static_cast<std::ptrdiff_t>(j));
      run_batch(b);
      i = j;
    }
    lk.lock();
    for (DfsEventPtr& ev : taken) {
      if (!ev->status_.ok() && first_error.ok()) first_error = ev->status_;
      ev->done_ = true;
      --unfinished;
    }
    done_cv.notify_all();
  }
}

void EqCore::run_batch(std::vector<DfsEventPtr>& b) {
  for (DfsEventPtr& ev : b) ev->status_ = not_reached();
  switch (b[0]->kind_) {
    case DfsEvent::kStat:
      run_stats(b);
      break;
    case DfsEvent::kCreate:
      run_creates(b);
      break;
    case DfsEvent::kMkdir:
      run_mkdirs(b);
      break;
    case DfsEvent::kRemove:
      run_removes(b);
      break;
  }
}

void EqCore::run_stats(std::vector<DfsEventPtr>& b) {
  std::vector<std::string> names;
  for (auto& ev : b) names.push_back(ev->name_);
  std::vector<DfsStat> st;
  std::vector<Status> status;
  Status all = dfs->stat_names(b[0]->parent_, names, &st, &status);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i >= status.size()) {
      b[i]->status_ = all;
      continue;
    }
    b[i]->status_ = status[i];
    if (status[i].ok()) b[i]->st_ = st[i];
  }
}

void EqCore::run_creates(std::vector<DfsEventPtr>& b) {
  std::vector<DfsNewFile> files(b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    files[i].name = b[i]->name_;
    files[i].mode = b[i]->mode_;
    files[i].data = b[i]->data_.data();
    files[i].len = b[i]->data_.size();
    files[i].status = not_reached();
  }
  Status all = dfs->create_files(b[0]->parent_, &files);
  for (size_t i = 0; i < b.size(); ++i) {
    b[i]->status_ = is_not_reached(files[i].status) ? all : files[i].status;
    if (b[i]->status_.ok()) b[i]->oid_ = files[i].oid;
    b[i]->data_.clear();
    b[i]->data_.shrink_to_fit();
  }
}

// mkdir of every name of the batch: OIDs from the handle's range, every new directory's own
// record put at once (one message per new directory, all in flight, one wait), the entries
// inserted with one KV::run (insert-only: one winner per name), the losers' objects destroyed.
void EqCore::run_mkdirs(std::vector<DfsEventPtr>& b) {
  const MountState& m = *dfs->state();
  const DfsObj* parent = b[0]->parent_;
  auto fail_all = [&](const Status& st) {
    for (auto& ev : b) ev->status_ = st;
  };
  Status st = check_writable(m);
  if (!st.ok()) return fail_all(st);
  auto pdir = parent_oid(m, parent);
  if (!pdir.ok()) return fail_all(pdir.status());
  auto pdr = creation_dirrec(m, pdir.value(), parent);
  if (!pdr.ok()) return fail_all(pdr.status());
  auto oc = pick_class(m, "", pdr->child_oclass, true);
  if (!oc.ok()) return fail_all(oc.status());
  const size_t n = b.size();
  std::vector<Entry> entries(n);
  std::vector<std::unique_ptr<KV>> kvs(n);
  std::vector<std::vector<KvOp>> recs(n);
  std::vector<std::unique_ptr<KvRequest>> reqs(n);
  const struct timespec t = now();
  for (size_t i = 0; i < n; ++i) {
    DfsEvent& ev = *b[i];
    ev.status_ = check_name(ev.name_);
    if (!ev.status_.ok()) continue;
    auto oid = m.cont->alloc_oid(oc.value(), ObjType::kMultiLevel);
    if (!oid.ok()) {
      ev.status_ = oid.status();
      continue;
    }
    Entry& e = entries[i];
    e.oid = oid.value();
    e.mode = S_IFDIR | (static_cast<uint32_t>(ev.mode_) & 07777);
    e.uid = static_cast<uint32_t>(geteuid());
    e.gid = static_cast<uint32_t>(getegid());
    e.atime = e.mtime = e.ctime = t;
    auto k = kv(m, e.oid);
    if (!k.ok()) {
      ev.status_ = k.status();
      continue;
    }
    kvs[i] = std::move(k).value();
    // The directory's own record first: an entry never names a directory without one.
    DirRecord dr{pdir.value(), ev.name_, pdr->child_oclass, pdr->child_chunk};
    recs[i].resize(1);
    recs[i][0].kind = KvOp::kPut;
    recs[i][0].dkey = kDotDot;
    recs[i][0].akey = kDirAkey;
    recs[i][0].value = encode_dir(dr);
    reqs[i] = kvs[i]->start(&recs[i]);
  }
  std::vector<KvOp> ins;
  std::vector<size_t> which;
  for (size_t i = 0; i < n; ++i) {
    if (!reqs[i]) continue;
    b[i]->status_ = reqs[i]->wait();
    if (!b[i]->status_.ok()) continue;
    KvOp op;
    op.kind = KvOp::kPut;
    op.dkey = b[i]->name_;
    op.akey = kEntryAkey;
    op.value = encode_entry(entries[i]);
    op.flags = KV::kInsertOnly;
    ins.push_back(std::move(op));
    which.push_back(i);
  }
  if (!ins.empty()) {
    auto pkv = kv(m, pdir.value());
    if (!pkv.ok()) {
      for (size_t i : which) b[i]->status_ = pkv.status();
    } else {
      (void)pkv.value()->run(&ins);
      for (size_t k = 0; k < ins.size(); ++k) {
        DfsEvent& ev = *b[which[k]];
        ev.status_ = ins[k].status.code() == EDAOS_EXIST
                         ? Status(EDAOS_EXIST, "entry " + q(ev.name_) + " exists")
                         : ins[k].status;
        if (ev.status_.ok()) ev.oid_ = entries[which[k]].oid;
      }
    }
  }
  // Losers (and failures after the record went out): their new KV goes again.
  std::vector<size_t> undo;
  for (size_t i = 0; i < n; ++i)
    if (reqs[i] && !b[i]->status_.ok()) undo.push_back(i);
  parallel_for(undo.size(), kDfsVecInFlight, [&](size_t k) { (void)kvs[undo[k]]->destroy(); });
}

// remove of every name of the batch, as remove_at(force = false, any type): the entries read
// with one KV::run, directories checked for emptiness (up to kDfsVecInFlight at once), the
// entries removed with one KV::run, the objects destroyed (up to kDfsVecInFlight at once).
void EqCore::run_removes(std::vector<DfsEventPtr>& b) {
  const MountState& m = *dfs->state();
  auto fail_all = [&](const Status& st) {
    for (auto& ev : b) ev->status_ = st;
  };
  Status st = check_writable(m);
  if (!st.ok()) return fail_all(st);
  auto pdir = parent_oid(m, b[0]->parent_);
  if (!pdir.ok()) return fail_all(pdir.status());
  auto pkv = kv(m, pdir.value());
  if (!pkv.ok()) return fail_all(pkv.status());
  const size_t n = b.size();
  std::vector<KvOp> gets;
  std::vector<size_t> which;
  for (size_t i = 0; i < n; ++i) {
    b[i]->status_ = check_name(b[i]->name_);
    if (!b[i]->status_.ok()) continue;
    KvOp op;
    op.kind = KvOp::kGet;
    op.dkey = b[i]->name_;
    op.akey = kEntryAkey;
    gets.push_back(std::move(op));
    which.push_back(i);
  }
  std::vector<Entry> entries(n);
  std::vector<std::string> raws(n);  // each entry's value as read (the guard of a link)
  std::vector<char> go(n, 0);        // written by several threads: not vector<bool>
  std::vector<size_t> dirs;
  if (!gets.empty()) (void)pkv.value()->run(&gets);
  for (size_t k = 0; k < gets.size(); ++k) {
    DfsEvent& ev = *b[which[k]];
    if (gets[k].status.code() == EDAOS_NONEXIST) {
      m.names.forget(pdir.value(), ev.name_);
      ev.status_ = Status(EDAOS_NONEXIST, "no entry " + q(ev.name_));
      continue;
    }
    if (!gets[k].status.ok()) {
      ev.status_ = gets[k].status;
      continue;
    }
    auto e = decode_entry(gets[k].value);
    if (!e.ok()) {
      ev.status_ = e.status();
      continue;
    }
    entries[which[k]] = std::move(e).value();
    raws[which[k]] = std::move(gets[k].value);
    go[which[k]] = 1;
    if (S_ISDIR(entries[which[k]].mode)) dirs.push_back(which[k]);
  }
  parallel_for(dirs.size(), kDfsVecInFlight, [&](size_t k) {
    const size_t i = dirs[k];
    auto empty = dir_empty(m, entries[i].oid);
    if (!empty.ok()) {
      b[i]->status_ = empty.status();
      go[i] = 0;
    } else if (!empty.value()) {
      b[i]->status_ = Status(EDAOS_NOTEMPTY, "directory " + q(b[i]->name_) + " is not empty");
      go[i] = 0;
    }
  });
  if (const char* f = std::getenv("EDAOS_TEST_FAULT"); f && std::strcmp(f, "dfs-remove-pause") == 0)
    std::this_thread::sleep_for(std::chrono::seconds(1));  // tests: a rename gets in between
  std::vector<KvOp> rms;
  which.clear();
  for (size_t i = 0; i < n; ++i) {
    if (!go[i]) continue;
    m.names.forget(pdir.value(), b[i]->name_);
    // Guarded (session 9, as remove_at): the entry goes only while it still names the object
    // read, so a rename onto the name since the read keeps its entry.
    KvOp op;
    op.kind = KvOp::kRemove;
    op.dkey = b[i]->name_;
    op.akey = kEntryAkey;
    if (entries[i].oid == ObjectId{}) {
      op.oid_off = 0;
      op.value = std::move(raws[i]);
    } else {
      op.oid_off = kEntryOidOff;
      op.value = encode_oid(entries[i].oid);
    }
    rms.push_back(std::move(op));
    which.push_back(i);
  }
  if (!rms.empty()) (void)pkv.value()->run(&rms);
  std::vector<size_t> gone;
  for (size_t k = 0; k < rms.size(); ++k) {
    DfsEvent& ev = *b[which[k]];
    if (rms[k].status.code() == EDAOS_NONEXIST) {
      ev.status_ = Status(EDAOS_NONEXIST, "no entry " + q(ev.name_));
    } else if (rms[k].status.code() == EDAOS_EXIST) {
      ev.status_ = Status::OK();  // replaced by a rename meanwhile (which destroys our object)
      continue;
    } else {
      ev.status_ = rms[k].status;
    }
    if (ev.status_.ok()) {
      ev.oid_ = entries[which[k]].oid;
      gone.push_back(which[k]);
    }
  }
  // The entries are gone; a failure here leaks the object (fs check finds it). Session 12:
  // every file and directory of the batch in one client::destroy_objects (one kShardVec per
  // server rank, one write transaction per engine), instead of up to kDfsVecInFlight destroys
  // of one object each at a time.
  std::vector<ObjectId> oids;
  std::vector<size_t> of;
  for (size_t i : gone)
    if (S_ISREG(entries[i].mode) || S_ISDIR(entries[i].mode)) {
      oids.push_back(entries[i].oid);
      of.push_back(i);
    }
  if (oids.empty()) return;
  std::vector<Status> res;
  (void)client::destroy_objects(m.cont->state(), oids, &res);
  for (size_t k = 0; k < oids.size(); ++k)
    if (!res[k].ok())
      EDAOS_LOG_ST(warn, res[k], "remove %s: object %s leaked", b[of[k]]->name_.c_str(),
                   oids[k].to_string().c_str());
}

DfsEvent::DfsEvent(Kind k, const DfsObj* parent, std::string name)
    : kind_(k), parent_(parent), name_(std::move(name)) {}

bool DfsEvent::test() const {
  if (!core_) return true;
  std::lock_guard<std::mutex> g(core_->mu);
  return done_;
}

Status DfsEvent::wait() {
  if (!core_) return status_;
  std::unique_lock<std::mutex> lk(core_->mu);
  if (!done_) {
    core_->flush = true;
    core_->work_cv.notify_one();
    core_->done_cv.wait(lk, [&] { return done_; });
  }
  return status_;
}

Status DfsEvent::status() const {
  if (!test()) return Status(EDAOS_BUSY, "operation on " + q(name_) + " not complete");
  return status_;
}

DfsEq::DfsEq(Dfs& dfs, size_t depth) : core_(std::make_shared<EqCore>()) {
  core_->dfs = &dfs;
  core_->depth = std::clamp<size_t>(depth, 1, kMaxDepth);
  EqCore* c = core_.get();
  core_->worker = std::thread([c] { c->loop(); });
}

DfsEq::~DfsEq() {
  (void)wait_all();
  {
    std::lock_guard<std::mutex> g(core_->mu);
    core_->stop = true;
  }
  core_->work_cv.notify_one();
  core_->worker.join();
}

size_t DfsEq::depth() const { return core_->depth; }

DfsEventPtr DfsEq::submit(DfsEventPtr ev) {
  ev->core_ = core_;
  std::lock_guard<std::mutex> g(core_->mu);
  core_->queued.push_back(ev);
  ++core_->unfinished;
  if (core_->queued.size() >= core_->depth) core_->work_cv.notify_one();
  return ev;
}

DfsEventPtr DfsEq::stat(const DfsObj* parent, const std::string& name) {
  return submit(std::make_shared<DfsEvent>(DfsEvent::kStat, parent, name));
}

DfsEventPtr DfsEq::create(const DfsObj* parent, const std::string& name, mode_t mode,
                          const void* data, size_t len) {
  auto ev = std::make_shared<DfsEvent>(DfsEvent::kCreate, parent, name);
  ev->mode_ = mode;
  if (len) ev->data_.assign(static_cast<const char*>(data), len);
  return submit(std::move(ev));
}

DfsEventPtr DfsEq::mkdir(const DfsObj* parent, const std::string& name, mode_t mode) {
  auto ev = std::make_shared<DfsEvent>(DfsEvent::kMkdir, parent, name);
  ev->mode_ = mode;
  return submit(std::move(ev));
}

DfsEventPtr DfsEq::remove(const DfsObj* parent, const std::string& name) {
  return submit(std::make_shared<DfsEvent>(DfsEvent::kRemove, parent, name));
}

void DfsEq::flush() {
  std::lock_guard<std::mutex> g(core_->mu);
  if (core_->queued.empty()) return;
  core_->flush = true;
  core_->work_cv.notify_one();
}

Status DfsEq::wait_all() {
  std::unique_lock<std::mutex> lk(core_->mu);
  if (!core_->queued.empty()) {
    core_->flush = true;
    core_->work_cv.notify_one();
  }
  core_->done_cv.wait(lk, [&] { return core_->unfinished == 0; });
  Status st = core_->first_error;
  core_->first_error = Status::OK();
  return st;
}

}  // namespace edaos::objstore
