// Encoding of the namespace records (little-endian, versioned; a reader ignores trailing bytes
// it does not know, so fields can be appended without a version bump) and path parsing.
#include <cstring>

#include "dfs/dfs_internal.hpp"

namespace edaos::objstore::dfs {

namespace {

constexpr uint8_t kEntryVersion = 1;
constexpr uint8_t kDirVersion = 1;
constexpr char kSbMagic[4] = {'E', 'D', 'F', 'S'};
constexpr char kHandleMagic[4] = {'E', 'D', 'F', 'H'};

class Enc {
 public:
  Enc& u8(uint8_t v) {
    s_.push_back(static_cast<char>(v));
    return *this;
  }
  Enc& u16(uint16_t v) { return le(v, 2); }
  Enc& u32(uint32_t v) { return le(v, 4); }
  Enc& u64(uint64_t v) { return le(v, 8); }
  Enc& oid(ObjectId o) { return u64(o.hi).u64(o.lo); }
  Enc& ts(const struct timespec& t) {
    return u64(static_cast<uint64_t>(t.tv_sec)).u32(static_cast<uint32_t>(t.tv_nsec));
  }
  Enc& str(const std::string& v) {
    u32(static_cast<uint32_t>(v.size()));
    s_ += v;
    return *this;
  }
  Enc& raw(const void* p, size_t n) {
    s_.append(static_cast<const char*>(p), n);
    return *this;
  }
  std::string take() { return std::move(s_); }

 private:
  Enc& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  std::string s_;
};

class Dec {
 public:
  explicit Dec(const std::string& s) : s_(s) {}
  bool ok() const { return ok_; }
  uint8_t u8() { return static_cast<uint8_t>(le(1)); }
  uint16_t u16() { return static_cast<uint16_t>(le(2)); }
  uint32_t u32() { return static_cast<uint32_t>(le(4)); }
  uint64_t u64() { return le(8); }
  ObjectId oid() {
    ObjectId o;
    o.hi = u64();
    o.lo = u64();
    return o;
  }
  struct timespec ts() {
    struct timespec t = {};
    t.tv_sec = static_cast<time_t>(u64());
    t.tv_nsec = static_cast<long>(u32());
    if (t.tv_nsec >= 1000000000L) ok_ = false;
    return t;
  }
  std::string str() {
    uint32_t n = u32();
    if (!ok_ || s_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    std::string v = s_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  bool raw(void* p, size_t n) {
    if (!ok_ || s_.size() - pos_ < n) return ok_ = false;
    std::memcpy(p, s_.data() + pos_, n);
    pos_ += n;
    return true;
  }

 private:
  uint64_t le(int n) {
    if (!ok_ || s_.size() - pos_ < static_cast<size_t>(n)) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= static_cast<uint64_t>(static_cast<uint8_t>(s_[pos_ + static_cast<size_t>(i)]))
           << (8 * i);
    pos_ += static_cast<size_t>(n);
    return v;
  }
  const std::string& s_;
  size_t pos_ = 0;
  bool ok_ = true;
};

Status corrupt(const char* what) {
  return Status(EDAOS_FORMAT, std::string("corrupt namespace ") + what + " record");
}

}  // namespace

std::string encode_entry(const Entry& e) {
  Enc w;
  w.u8(kEntryVersion).u32(e.mode).oid(e.oid).u32(e.uid).u32(e.gid);
  w.ts(e.atime).ts(e.mtime).ts(e.ctime).u64(e.chunk_size).str(e.symlink);
  return w.take();
}

std::string encode_oid(ObjectId oid) {
  Enc w;
  w.oid(oid);
  return w.take();
}

Result<Entry> decode_entry(const std::string& v) {
  Dec r(v);
  Entry e;
  uint8_t ver = r.u8();
  if (r.ok() && ver != kEntryVersion)
    return Status(EDAOS_FORMAT, "entry record version " + std::to_string(ver) + " unknown");
  e.mode = r.u32();
  e.oid = r.oid();
  e.uid = r.u32();
  e.gid = r.u32();
  e.atime = r.ts();
  e.mtime = r.ts();
  e.ctime = r.ts();
  e.chunk_size = r.u64();
  e.symlink = r.str();
  if (!r.ok()) return corrupt("entry");
  return e;
}

std::string encode_dir(const DirRecord& d) {
  Enc w;
  w.u8(kDirVersion).oid(d.parent).str(d.name).str(d.child_oclass).u64(d.child_chunk);
  return w.take();
}

Result<DirRecord> decode_dir(const std::string& v) {
  Dec r(v);
  DirRecord d;
  uint8_t ver = r.u8();
  if (r.ok() && ver != kDirVersion)
    return Status(EDAOS_FORMAT, "directory record version " + std::to_string(ver) + " unknown");
  d.parent = r.oid();
  d.name = r.str();
  d.child_oclass = r.str();
  d.child_chunk = r.u64();
  if (!r.ok()) return corrupt("directory");
  return d;
}

std::string encode_sb(const Superblock& s) {
  Enc w;
  w.raw(kSbMagic, 4).u16(s.version).oid(s.root);
  return w.take();
}

Result<Superblock> decode_sb(const std::string& v) {
  Dec r(v);
  char magic[4];
  if (!r.raw(magic, 4) || std::memcmp(magic, kSbMagic, 4) != 0)
    return Status(EDAOS_FORMAT, "namespace superblock has a bad magic");
  Superblock s;
  s.version = r.u16();
  if (r.ok() && s.version != 1)
    return Status(EDAOS_FORMAT,
                  "namespace layout version " + std::to_string(s.version) + " unknown");
  s.root = r.oid();
  if (!r.ok()) return corrupt("superblock");
  return s;
}

std::string encode_handle(const HandleBlob& h) {
  Enc w;
  w.raw(kHandleMagic, 4).u8(1).raw(h.cont.b, 16).u32(h.mode).u32(static_cast<uint32_t>(h.flags));
  w.oid(h.oid).u64(h.chunk_size).oid(h.parent).str(h.name);
  return w.take();
}

Result<HandleBlob> decode_handle(const std::string& v) {
  Dec r(v);
  char magic[4];
  if (!r.raw(magic, 4) || std::memcmp(magic, kHandleMagic, 4) != 0)
    return Status(EDAOS_FORMAT, "not a serialized namespace handle");
  HandleBlob h;
  if (r.u8() != 1) return Status(EDAOS_FORMAT, "serialized handle of an unknown version");
  r.raw(h.cont.b, 16);
  h.mode = r.u32();
  h.flags = static_cast<int32_t>(r.u32());
  h.oid = r.oid();
  h.chunk_size = r.u64();
  h.parent = r.oid();
  h.name = r.str();
  if (!r.ok()) return Status(EDAOS_FORMAT, "truncated serialized handle");
  return h;
}

Status check_name(const std::string& name) {
  if (name.empty()) return Status(EDAOS_INVAL, "empty name");
  if (name.size() > kDfsMaxName)
    return Status(EDAOS_NAMETOOLONG, "name of " + std::to_string(name.size()) + " bytes (at most " +
                                         std::to_string(kDfsMaxName) + ")");
  if (name == "." || name == "..") return Status(EDAOS_INVAL, "name \"" + name + "\" is reserved");
  if (name.find('/') != std::string::npos)
    return Status(EDAOS_INVAL, "name \"" + name + "\" contains '/'");
  if (name.find('\0') != std::string::npos) return Status(EDAOS_INVAL, "name contains a NUL");
  return Status::OK();
}

Result<std::vector<std::string>> split_path(const std::string& path) {
  if (path.empty() || path[0] != '/')
    return Status(EDAOS_INVAL, "path \"" + path + "\" is not absolute");
  if (path.size() > kDfsMaxPath)
    return Status(EDAOS_NAMETOOLONG, "path of " + std::to_string(path.size()) + " bytes (at most " +
                                         std::to_string(kDfsMaxPath) + ")");
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) {
      if (j - i > kDfsMaxName)
        return Status(EDAOS_NAMETOOLONG, "path component of " + std::to_string(j - i) +
                                             " bytes (at most " + std::to_string(kDfsMaxName) +
                                             ")");
      out.push_back(path.substr(i, j - i));
    }
    i = j + 1;
  }
  return out;
}

std::pair<std::string, std::string> dir_base(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t k = p.rfind('/');
  if (k == std::string::npos) return {"", p};
  std::string dir = k == 0 ? "/" : p.substr(0, k);
  std::string base = p.substr(k + 1);
  if (p == "/") base.clear();
  return {dir, base};
}

struct timespec now() {
  struct timespec t = {};
  clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

}  // namespace edaos::objstore::dfs
