// Private pieces of the POSIX namespace: mount and handle state, the on-store records and their
// encoding, and the helpers the operation files share (dfs_path.cpp, dfs_entries.cpp,
// dfs_attr.cpp, dfs_io.cpp, dfs.cpp). Formats: README.md in this directory.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edaos/objstore/dfs.hpp"
#include "edaos/objstore/objstore.hpp"

namespace edaos::objstore::dfs {

// Keys.
inline constexpr const char* kEntryAkey = "e";  // entry record in a directory dkey
inline constexpr const char* kDotDot = "..";    // a directory's own dkey (never a name)
inline constexpr const char* kDirAkey = "p";    // akey of the directory record under ".."
inline constexpr const char* kSbDkey = "sb";    // superblock dkey/akey in the SB object
inline constexpr const char* kRootName = "/";   // root entry's dkey in the SB object
inline constexpr const char* kSbAttr = "edaos.dfs.superblock";  // container attribute
inline constexpr uint64_t kReservedSeqHi = 1;  // make_oid seq_hi of SB (lo 0) and root (lo 1)

// The record of one entry (akey "e" of dkey <name> in the parent directory's KV).
struct Entry {
  uint32_t mode = 0;
  ObjectId oid;  // zero for symlinks
  uint32_t uid = 0, gid = 0;
  struct timespec atime = {}, mtime = {}, ctime = {};
  uint64_t chunk_size = 0;  // files: chunk size the array was created with
  std::string symlink;      // symlinks: target
};
std::string encode_entry(const Entry& e);
// Where version 1 puts the OID and the times (KV::merge_times of mtime and ctime, guarded by
// the OID: the record keeps the later times, and only while it still names the object).
inline constexpr uint32_t kEntryOidOff = 5;     // u8 version, u32 mode
inline constexpr uint32_t kEntryMtimeOff = 41;  // + oid, uid, gid, atime; ctime follows
std::string encode_oid(ObjectId oid);           // the 16 bytes of an OID in a record
Result<Entry> decode_entry(const std::string& v);

// A directory's own record (dkey "..", akey "p" in the directory's KV).
struct DirRecord {
  ObjectId parent;           // KV holding this directory's entry (the SB object for the root)
  std::string name;          // its name there
  std::string child_oclass;  // set_dir_attr: class for new children ("" none)
  uint64_t child_chunk = 0;  // set_dir_attr: chunk size for new files (0 none)
};
std::string encode_dir(const DirRecord& d);
Result<DirRecord> decode_dir(const std::string& v);

// The superblock (dkey "sb", akey "sb" of the SB object).
struct Superblock {
  uint16_t version = 1;
  ObjectId root;
};
std::string encode_sb(const Superblock& s);
Result<Superblock> decode_sb(const std::string& v);

// Handle blob of obj_serialize.
struct HandleBlob {
  Uuid cont;
  uint32_t mode = 0;
  int32_t flags = 0;
  ObjectId oid;
  uint64_t chunk_size = 0;
  ObjectId parent;
  std::string name;
};
std::string encode_handle(const HandleBlob& h);
Result<HandleBlob> decode_handle(const std::string& v);

// Name and path checks (EDAOS_INVAL / EDAOS_NAMETOOLONG).
Status check_name(const std::string& name);
// Splits an absolute path into components ("." kept, empty ones dropped). EDAOS_INVAL for a
// relative path, EDAOS_NAMETOOLONG for a long path or component.
Result<std::vector<std::string>> split_path(const std::string& path);
// "/a/b/c" -> ("/a/b", "c"); "/" -> ("/", ""). Trailing slashes are dropped.
std::pair<std::string, std::string> dir_base(const std::string& path);

struct timespec now();

// What this mount last saw under a name (session 7): (directory OID, name) -> the file the
// entry named then. Filled by every entry this mount reads or creates, dropped by its own
// removes and renames. Only a guess, never an answer: a stat sends the size query of the
// guessed file together with the entry get (one round trip) and keeps the size only when the
// entry still names that file with that chunk size; anything else asks again.
class NameCache {
 public:
  struct Guess {
    ObjectId oid;
    uint64_t chunk = 0;
  };
  bool find(ObjectId dir, const std::string& name, Guess* out) const;
  // Records the entry's file (forgets the name when it names no regular file).
  void note(ObjectId dir, const std::string& name, const Entry& e);
  void forget(ObjectId dir, const std::string& name);
  bool empty() const {
    std::lock_guard<std::mutex> g(mu_);
    return map_.empty();
  }

 private:
  static constexpr size_t kMax = 16384;  // names kept (all dropped at once when full)
  static std::string key(ObjectId dir, const std::string& name);
  mutable std::mutex mu_;
  std::unordered_map<std::string, Guess> map_;
};

// Objects whose entry this mount removed, destroyed by one background thread (session 7), so a
// remove returns after the entry's removal: the object is unreachable from then on, and its
// destruction overlaps the caller's next operations. Started at the first remove, asleep while
// idle. drain() (at umount, DfsObj::sync and the mount's end) waits until every queued object
// is destroyed. A crash before leaves a leaked object, as a crash between the entry's removal
// and the destroy always could (`fs check` finds it). At most kMaxQueued wait; a remove that
// finds the queue full destroys its object itself.
// On unless $EDAOS_DFS_BACKGROUND_DESTROY=0 (read once; session 8): objstore::finalize() first
// drains every live Reaper of the process (drain_all, registered with the runtime), then
// barriers, then releases the shared pool connections, so no rank's release closes a pool while
// another rank still destroys objects in it (see README.md, "Metadata costs").
class Reaper {
 public:
  static bool enabled();
  Reaper();
  ~Reaper();
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;
  // drain() of every Reaper of this process (objstore::finalize).
  static void drain_all();
  // Queues the object of removed entry `e` (files and directories; nothing for links).
  void add(std::shared_ptr<Container> cont, const Entry& e, const std::string& name);
  void drain();

 private:
  static constexpr size_t kMaxQueued = 64;
  struct Item {
    std::shared_ptr<Container> cont;
    Entry e;
    std::string name;
  };
  void loop();
  std::mutex mu_;
  std::condition_variable work_cv_, idle_cv_;
  // Ends the loop's gathering pause early: a drain() waiting, a full batch, or stop_ (add()
  // does not notify it below a full batch: waking per remove is what the batch saves).
  std::condition_variable hurry_cv_;
  size_t draining_ = 0;  // drain() calls waiting
  std::deque<Item> q_;
  size_t busy_ = 0;  // items taken and not yet destroyed
  bool stop_ = false;
  std::thread th_;
};

struct MountState {
  std::shared_ptr<Container> cont;
  bool rdonly = false;
  ObjectId sb_oid, root_oid;
  std::atomic<bool> mounted{true};
  // Bumped by every set_dir_attr through this mount: directory handles of this mount drop their
  // cached directory record when it moved (another process's change is seen at the next open of
  // the directory, as DAOS's DFS keeps a directory's class in its open handle).
  mutable std::atomic<uint64_t> dirattr_gen{0};
  mutable NameCache names;
  mutable Reaper reaper;  // last: destroyed (drained) first
};

struct ObjState {
  std::shared_ptr<MountState> m;
  uint32_t mode = 0;
  ObjectId oid;
  uint64_t chunk_size = 0;
  int flags = 0;
  ObjectId parent;  // KV that holds the entry
  std::string name;
  std::string symlink;
  std::unique_ptr<Array> arr;  // files
  std::atomic<bool> dirty{false};
  // Set by the first write through this handle, which records mtime/ctime together with its
  // data (the merge message goes out before the write and is waited for after it); later
  // writes mark the handle dirty for the merge at release or sync.
  std::atomic<bool> wrote{false};
  // Directories: the directory's own record, read once per handle for the children it creates
  // (class and chunk size), kept while m->dirattr_gen is unchanged.
  std::mutex dr_mu;
  bool dr_cached = false;
  uint64_t dr_gen = 0;
  DirRecord dr;
  ~ObjState();
  // Records mtime/ctime = now in the entry if it still names this object and they are earlier
  // (one blind KV::merge_times: no read first, a time never goes back).
  Status flush_times();
};

// ---- Helpers shared by the operation files --------------------------------------------------

inline std::string q(const std::string& s) { return "\"" + s + "\""; }

// A located entry: the KV that holds it, its dkey there, and its record.
struct Loc {
  ObjectId dir;
  std::string name;
  Entry e;
};

inline Status check_mounted(const MountState& m) {
  return m.mounted.load() ? Status::OK() : Status(EDAOS_INVAL, "namespace is not mounted");
}

inline Status check_writable(const MountState& m) {
  EDAOS_RETURN_IF_ERROR(check_mounted(m));
  return m.rdonly ? Status(EDAOS_RDONLY, "namespace is mounted read-only") : Status::OK();
}

inline Result<std::unique_ptr<KV>> kv(const MountState& m, ObjectId oid) {
  return m.cont->open_kv(oid);
}

// dfs_path.cpp: entries, directory records, the path walk.
// The record of `name` in directory `dir`; EDAOS_NONEXIST names the entry.
Result<Entry> get_entry(const MountState& m, ObjectId dir, const std::string& name);
Result<Loc> get_loc(const MountState& m, ObjectId dir, const std::string& name);
// The directory's own record; a missing one (crash during mkdir) reads as empty, with *exists
// false.
Result<DirRecord> get_dirrec(const MountState& m, ObjectId dir, bool* exists = nullptr);
// Walks an absolute `path` from the root; `follow_last`: expand a symbolic link at the end.
Result<Loc> resolve(const MountState& m, const std::string& path, bool follow_last);
// The OID of the directory `path` names (EDAOS_NOTDIR otherwise).
Result<ObjectId> resolve_dir(const MountState& m, const std::string& path);
// The directory a handle names (the root for null); checks mount and type.
Result<ObjectId> parent_oid(const MountState& m, const DfsObj* parent);
// (parent directory OID, last name) of `path`, the name checked.
Result<std::pair<ObjectId, std::string>> parent_of(const MountState& m, const std::string& path);
// The record of directory `dir` for creating a child in it: from `parent`'s cache when that
// handle names `dir` (read and cached on first use), else from the store (get_dirrec).
Result<DirRecord> creation_dirrec(const MountState& m, ObjectId dir, const DfsObj* parent);
// Read-modify-write of an entry; `fn` returns false to leave it alone. Never recreates a removed
// entry.
Status update_entry(const MountState& m, ObjectId dir, const std::string& name,
                    const std::function<bool(Entry&)>& fn);

// dfs_entries.cpp: the class of a new object (call, inherited, container property, default).
Result<ObjClass> pick_class(const MountState& m, const std::string& given,
                            const std::string& inherited, bool dir);

// dfs_entries.cpp: whether a directory has no entry; removal of an entry's object (files and
// directories; nothing for symbolic links).
Result<bool> dir_empty(const MountState& m, ObjectId dir);
Status destroy_object(Container& c, const Entry& e);
inline Status destroy_object(const MountState& m, const Entry& e) {
  return destroy_object(*m.cont, e);
}

// dfs.cpp: a handle on a located entry (files get their array opened).
Result<std::unique_ptr<DfsObj>> make_obj(const std::shared_ptr<MountState>& m, const Loc& l,
                                         int flags);

// dfs_attr.cpp: names in a directory after `anchor`, without ".."; stat of an entry record.
Result<std::vector<std::string>> list_names(const MountState& m, ObjectId dir,
                                            const std::string& anchor, uint32_t max, bool* eof);
Result<DfsStat> stat_of(const MountState& m, const Entry& e);
// stat_of without the size (files: size 0).
DfsStat stat_fields(const Entry& e);
// lstat of `name` in `dir`: one round trip when the mount guesses the file (NameCache), two
// otherwise.
Result<DfsStat> stat_entry(const MountState& m, ObjectId dir, const std::string& name);
// Counts of stat_entry's outcomes (dfs_meta_stats()).
void count_stat(bool hit);
// A stat of a name never seen whose size came with its entry (session 8).
void count_sized();

// dfs_vector.cpp: fn(0) .. fn(n - 1) on up to `threads` threads (the caller's included).
void parallel_for(size_t n, size_t threads, const std::function<void(size_t)>& fn);

}  // namespace edaos::objstore::dfs
