// Intents of an engine: persistent marks of stripes whose cells may not all be of one version
// (set by a stripe's group leader before a partial-stripe write, cleared after it). The set is
// kept in memory and in an append-only log, <engine>/intents.log:
//
//   offset 0  4 bytes "EDIN" | u8 op (1 set, 2 clear) | 3 zero bytes | u32 LE key length K |
//             u32 LE payload length P | K bytes key | P bytes payload | u64 LE FNV-1a 64 of every
//             preceding byte of the record
//
// A record is one pwrite (in the page cache when the call returns: it survives a kill like the
// shard data). open replays the log; what is still set was left by a killed process: an
// orphan. A torn tail (machine crash) is cut off. When nothing is set and the log is larger
// than 64 KiB it is truncated; beyond 4 MiB it is rewritten with only what is set.
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/log.hpp"
#include "vos/engine.hpp"
#include "vos/vos_internal.hpp"

EDAOS_LOG_FACILITY(vos);

namespace edaos::objstore::vos {

namespace {

constexpr char kIntentLogName[] = "intents.log";
constexpr char kIntentMagic[4] = {'E', 'D', 'I', 'N'};
constexpr uint8_t kOpSet = 1, kOpClear = 2;
constexpr size_t kIntentHead = 16;
constexpr size_t kMaxIntentPart = 1u << 20;

std::string encode_intent(uint8_t op, std::string_view key, std::string_view payload) {
  std::string r(kIntentMagic, 4);
  r.push_back(static_cast<char>(op));
  r.append(3, '\0');
  for (size_t n : {key.size(), payload.size()}) detail::put_le32(&r, static_cast<uint32_t>(n));
  r.append(key);
  r.append(payload);
  detail::put_le64(&r, detail::fnv1a64(r.data(), r.size()));
  return r;
}

}  // namespace

Status Engine::open_intent_log() {
  const std::string path = opts_.dir + "/" + kIntentLogName;
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (format_ < 4) return Status::OK();  // created with the first intent (after the upgrade)
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      intent_fd_ = fd;
      return detail::fsync_path(opts_.dir);
    }
  }
  if (fd < 0) return detail::errno_status(errno, "open " + path);
  intent_fd_ = fd;
  struct stat st;
  if (::fstat(fd, &st) != 0) return detail::errno_status(errno, "stat " + path);
  std::string buf(static_cast<size_t>(st.st_size), '\0');
  EDAOS_ASSIGN_OR_RETURN(size_t got, detail::pread_full(fd, buf.data(), buf.size(), 0, path));
  size_t o = 0;
  while (o + kIntentHead + 8 <= got) {
    const char* p = buf.data() + o;
    if (std::memcmp(p, kIntentMagic, 4) != 0) break;
    const uint8_t op = static_cast<uint8_t>(p[4]);
    const size_t k = detail::get_le32(p + 8), n = detail::get_le32(p + 12);
    if (k > kMaxIntentPart || n > kMaxIntentPart || o + kIntentHead + k + n + 8 > got) break;
    const size_t body = kIntentHead + k + n;
    if (detail::get_le64(p + body) != detail::fnv1a64(p, body)) break;
    std::string key(p + kIntentHead, k);
    if (op == kOpSet) {
      intents_[key] = Intent{std::string(p + kIntentHead + k, n), true};
    } else if (op == kOpClear) {
      intents_.erase(key);
    } else {
      break;
    }
    o += body + 8;
  }
  if (o < got)
    EDAOS_LOG(warn, "%s: %zu bytes of torn intent records skipped", path.c_str(), got - o);
  if (intents_.empty()) o = 0;
  if (o < got && ::ftruncate(fd, static_cast<off_t>(o)) != 0)
    return detail::errno_status(errno, "truncate " + path);
  intent_end_ = o;
  if (!intents_.empty())
    EDAOS_LOG(warn, "engine %s: %zu stripe intents left by a killed process", opts_.dir.c_str(),
              intents_.size());
  return Status::OK();
}

Status Engine::append_intent(uint8_t op, std::string_view key, std::string_view payload) {
  const std::string path = opts_.dir + "/" + kIntentLogName;
  if (intent_fd_ < 0) {
    EDAOS_RETURN_IF_ERROR(ensure_records_format());
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return detail::errno_status(errno, "open " + path);
    intent_fd_ = fd;
    intent_end_ = 0;
    dirty_dirs_.insert(opts_.dir);
  }
  const std::string rec = encode_intent(op, key, payload);
  EDAOS_RETURN_IF_ERROR(detail::pwrite_full(intent_fd_, rec.data(), rec.size(), intent_end_, path));
  intent_end_ += rec.size();
  return Status::OK();
}

Status Engine::intent_set(std::string_view key, std::string_view payload, bool* had_orphan) {
  if (key.empty() || key.size() > kMaxIntentPart || payload.size() > kMaxIntentPart)
    return Status(EDAOS_INVAL, "intent key or payload size out of range");
  std::lock_guard<std::mutex> g(mu_);
  auto it = intents_.find(key);
  if (had_orphan) *had_orphan = it != intents_.end() && it->second.orphan;
  EDAOS_RETURN_IF_ERROR(append_intent(kOpSet, key, payload));
  if (it == intents_.end())
    intents_.emplace(std::string(key), Intent{std::string(payload), false});
  else
    it->second.payload.assign(payload);
  return Status::OK();
}

Status Engine::intent_clear(std::string_view key) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = intents_.find(key);
  if (it == intents_.end()) return Status::OK();
  EDAOS_RETURN_IF_ERROR(append_intent(kOpClear, key, {}));
  intents_.erase(it);
  const std::string path = opts_.dir + "/" + kIntentLogName;
  if (intents_.empty() && intent_end_ > kIntentLogCompact) {
    if (::ftruncate(intent_fd_, 0) != 0) return detail::errno_status(errno, "truncate " + path);
    intent_end_ = 0;
  } else if (intent_end_ > kIntentLogRewrite) {
    // Many marks stay set while the log grows: keep only them (atomic replace).
    std::string all;
    for (const auto& [k, in] : intents_) all += encode_intent(kOpSet, k, in.payload);
    EDAOS_RETURN_IF_ERROR(detail::write_file_atomic(path, all));
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return detail::errno_status(errno, "open " + path);
    ::close(intent_fd_);
    intent_fd_ = fd;
    intent_end_ = all.size();
  }
  return Status::OK();
}

std::vector<std::pair<std::string, std::string>> Engine::intent_orphans() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, in] : intents_)
    if (in.orphan) out.emplace_back(k, in.payload);
  return out;
}

}  // namespace edaos::objstore::vos
