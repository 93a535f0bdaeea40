// The collective layer: rank 0 reads ROMIO_HINTS and gathers processor names, every rank
// resolves its own MPI_Info, and the ranks check that the hints which must agree do.
#include "edaos/hints/share.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "common/codec.hpp"
#include "edaos/hints/cb_config.hpp"
#include "hints_internal.hpp"

namespace edaos::hints {
namespace {

// ---- the encoding of one broadcast: the base layer's codec -----------------------------------
// u64 counts and u64-length strings (codec::Encoder::str64), int lists as a u64 count and one
// little-endian i64 per value. Rank 0 packs, every rank (rank 0 too) unpacks the same bytes, so
// a malformed message fails on every rank alike.
void put_ints(codec::Encoder& p, const std::vector<int>& v) {
  p.u64(v.size());
  for (int x : v) p.le(static_cast<int64_t>(x));
}

std::string get_str(codec::Decoder& u) {
  std::string s;
  u.str64(&s);
  return s;
}

std::vector<int> get_ints(codec::Decoder& u) {
  std::vector<int> v;
  int64_t x = 0;
  for (uint64_t i = 0, n = u.get<uint64_t>(); i < n && u.le(&x); ++i)
    v.push_back(static_cast<int>(x));
  return v;
}

Status malformed(const char* what) {
  return Status(EDAOS_INTERNAL, std::string(what) + ": the broadcast from rank 0 is malformed");
}

// Completes `*req` with the caller's wait (CollectiveOptions::wait), else MPI_Wait.
int complete(MPI_Request* req, const CollectiveWait& wait) {
  return wait ? wait(req) : MPI_Wait(req, MPI_STATUS_IGNORE);
}

// Broadcasts `buf` from `root`: one broadcast of a fixed head holding the length and the first
// bytes, a second one only for what does not fit (a hints file longer than the head).
constexpr size_t kBcastHead = 4096;
Status bcast_string(std::string& buf, int root, MPI_Comm comm, const CollectiveWait& wait) {
  int me = 0;
  MPI_Comm_rank(comm, &me);
  char head[kBcastHead];
  if (me == root) {
    const uint64_t n = buf.size();
    std::memcpy(head, &n, sizeof n);
    std::memcpy(head + sizeof n, buf.data(), std::min(buf.size(), kBcastHead - sizeof n));
  }
  MPI_Request req = MPI_REQUEST_NULL;
  if (MPI_Ibcast(head, static_cast<int>(kBcastHead), MPI_CHAR, root, comm, &req) != MPI_SUCCESS ||
      complete(&req, wait) != MPI_SUCCESS)
    return Status(EDAOS_INTERNAL, "MPI_Ibcast failed");
  uint64_t n = 0;
  std::memcpy(&n, head, sizeof n);
  if (n > static_cast<uint64_t>(INT_MAX)) return Status(EDAOS_TOOBIG, "hint data too large");
  const size_t first = std::min<size_t>(n, kBcastHead - sizeof n);
  if (me != root) buf.assign(head + sizeof n, first);
  if (n > first) {
    if (me != root) buf.resize(n);
    req = MPI_REQUEST_NULL;
    if (MPI_Ibcast(buf.data() + first, static_cast<int>(n - first), MPI_CHAR, root, comm, &req) !=
            MPI_SUCCESS ||
        complete(&req, wait) != MPI_SUCCESS)
      return Status(EDAOS_INTERNAL, "MPI_Ibcast failed");
  }
  return Status::OK();
}

Warning file_warning(const std::string& origin, std::string message) {
  Warning w;
  w.kind = WarningKind::kFile;
  w.origin = origin;
  w.message = std::move(message);
  return w;
}

// Reads at most kMaxHintFileBytes + 1 bytes of `path`. False when it cannot be opened.
bool read_file(const char* path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(kMaxHintFileBytes + 1, '\0');
  f.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(f.gcount()));
  return !f.bad();
}

void set_reported(EffectiveHints& h, std::string_view key, const std::string& value) {
  for (auto& kv : h.info)
    if (kv.first == key) kv.second = value;
}

}  // namespace

Result<HintFile> load_hint_file_collective(MPI_Comm comm, const char* system_path,
                                           const CollectiveWait& wait) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string packed;
  if (rank == 0) {
    HintFile f;
    std::string text;
    bool found = false;
    if (const char* env = std::getenv("ROMIO_HINTS"); env != nullptr && *env != '\0') {
      found = read_file(env, text);
      if (found) {
        f.path = env;
      } else {
        int err = errno;
        f.warnings.push_back(file_warning(
            env, std::string("ROMIO_HINTS names \"") + env + "\", which cannot be read (" +
                     std::strerror(err) + "); trying " + (system_path ? system_path : "nothing")));
      }
    }
    if (!found && system_path != nullptr && read_file(system_path, text)) {
      found = true;
      f.path = system_path;
    }
    if (text.size() > kMaxHintFileBytes) {
      text.resize(kMaxHintFileBytes);
      f.warnings.push_back(file_warning(f.path, f.path + ": ignoring everything after the first " +
                                                    std::to_string(kMaxHintFileBytes) + " bytes"));
    }
    codec::Encoder p;
    p.str64(f.path).str64(text).u64(f.warnings.size());
    for (const Warning& w : f.warnings) p.str64(w.origin).str64(w.message);
    packed = p.take();
  }
  EDAOS_RETURN_IF_ERROR(bcast_string(packed, 0, comm, wait));
  codec::Decoder u(packed);
  HintFile f;
  f.path = get_str(u);
  std::string text = get_str(u);
  for (uint64_t i = 0, n = u.get<uint64_t>(); i < n && u.ok(); ++i) {
    std::string origin = get_str(u);
    f.warnings.push_back(file_warning(origin, get_str(u)));
  }
  if (!u.ok() || u.remaining() != 0) return malformed("ROMIO_HINTS");
  if (!f.path.empty()) {
    auto kv = parse_hint_file(text, &f.warnings, f.path);
    if (!kv.ok()) return kv.status();
    f.hints = std::move(kv).value();
  }
  return f;
}

std::vector<std::string> gather_processor_names(MPI_Comm comm, const CollectiveWait& wait) {
  int rank = 0, size = 0, len = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  // One gather of fixed-size slots (a name is at most MPI_MAX_PROCESSOR_NAME bytes).
  constexpr int kSlot = MPI_MAX_PROCESSOR_NAME + 1;
  char name[kSlot] = {};
  MPI_Get_processor_name(name, &len);
  std::string all(rank == 0 ? static_cast<size_t>(size) * kSlot : 0, '\0');
  MPI_Request req = MPI_REQUEST_NULL;
  if (MPI_Igather(name, kSlot, MPI_CHAR, all.data(), kSlot, MPI_CHAR, 0, comm, &req) == MPI_SUCCESS)
    complete(&req, wait);
  std::vector<std::string> names;
  for (int i = 0; rank == 0 && i < size; ++i)
    names.emplace_back(all.c_str() + static_cast<size_t>(i) * kSlot);
  return names;
}

KeyValues info_to_pairs(MPI_Info info) {
  KeyValues out;
  if (info == MPI_INFO_NULL) return out;
  int nkeys = 0;
  MPI_Info_get_nkeys(info, &nkeys);
  for (int i = 0; i < nkeys; ++i) {
    char key[MPI_MAX_INFO_KEY + 1] = {};
    MPI_Info_get_nthkey(info, i, key);
    // Ask for the length first (MPICH 4.0 rejects a null buffer, so pass a 1-byte one).
    char probe[1] = {};
    int buflen = 1, flag = 0;
    MPI_Info_get_string(info, key, &buflen, probe, &flag);
    if (!flag) continue;
    std::string value(static_cast<size_t>(buflen), '\0');
    MPI_Info_get_string(info, key, &buflen, value.data(), &flag);
    value.resize(std::strlen(value.c_str()));
    out.emplace_back(key, std::move(value));
  }
  return out;
}

MPI_Info to_mpi_info(const EffectiveHints& h) {
  MPI_Info info = MPI_INFO_NULL;
  MPI_Info_create(&info);
  for (const auto& [k, v] : h.info)
    if (!v.empty()) MPI_Info_set(info, k.c_str(), v.c_str());
  return info;
}

Result<EffectiveHints> resolve_collective(MPI_Comm comm, MPI_Info info,
                                          const CollectiveOptions& opts) {
  int rank = 0, nprocs = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &nprocs);
  const bool update = opts.previous != nullptr;

  HintFile loaded;
  const HintFile* file = opts.file;
  if (!update && file == nullptr) {
    auto r = load_hint_file_collective(comm, opts.system_path, opts.wait);
    if (!r.ok()) return r.status();
    loaded = std::move(r).value();
    file = &loaded;
  }

  Inputs in;
  in.nprocs = nprocs;
  if (!update && file != nullptr) {
    in.file = file->hints;
    in.file_origin = file->path;
  }
  in.info = info_to_pairs(info);
  in.previous = opts.previous;
  in.features = opts.features;
  if (!update) {
    std::vector<std::string> hosts = gather_processor_names(comm, opts.wait);
    if (rank == 0) in.rank_hosts = std::move(hosts);
  }
  EffectiveHints h = resolve(in);
  if (file == &loaded)
    h.warnings.insert(h.warnings.begin(), loaded.warnings.begin(), loaded.warnings.end());

  // Rank 0's view: values that must agree, values everyone takes from rank 0, its warnings.
  std::string packed;
  if (rank == 0) {
    codec::Encoder p;
    p.u64(h.agreed.size());
    for (const auto& kv : h.agreed) p.str64(kv.second);
    p.str64(h.cb_config_list).str64(h.server_list);
    put_ints(p, h.aggregators);
    put_ints(p, h.server_ranks);
    p.u64(h.warnings.size());
    for (const Warning& w : h.warnings) p.str64(w.message);
    packed = p.take();
  }
  EDAOS_RETURN_IF_ERROR(bcast_string(packed, 0, comm, opts.wait));
  codec::Decoder u(packed);
  std::vector<std::string> root_agreed;
  for (uint64_t i = 0, n = u.get<uint64_t>(); i < n && u.ok(); ++i)
    root_agreed.push_back(get_str(u));
  const std::string root_cb = get_str(u);
  const std::string root_servers = get_str(u);
  std::vector<int> root_aggs = get_ints(u);
  std::vector<int> root_server_ranks = get_ints(u);
  std::set<std::string> root_warnings;
  for (uint64_t i = 0, n = u.get<uint64_t>(); i < n && u.ok(); ++i)
    root_warnings.insert(get_str(u));
  if (!u.ok() || u.remaining() != 0) return malformed("hints");

  // Agreement: the lowest (key index, rank) that differs from rank 0 is reported everywhere.
  struct {
    int index;
    int rank;
  } mine{INT_MAX, rank}, first{INT_MAX, 0};
  for (size_t i = 0; i < h.agreed.size() && i < root_agreed.size(); ++i)
    if (h.agreed[i].second != root_agreed[i]) {
      mine.index = static_cast<int>(i);
      break;
    }
  if (h.agreed.size() != root_agreed.size() && mine.index == INT_MAX) mine.index = 0;
  MPI_Request req = MPI_REQUEST_NULL;
  if (MPI_Iallreduce(&mine, &first, 1, MPI_2INT, MPI_MINLOC, comm, &req) != MPI_SUCCESS ||
      complete(&req, opts.wait) != MPI_SUCCESS)
    return Status(EDAOS_INTERNAL, "MPI_Iallreduce failed");

  if (rank != 0 && !update && first.index == INT_MAX) {
    for (const char* key : {"cb_config_list", "romio_edaos_server_list"}) {
      const std::string& local = key[0] == 'c' ? h.cb_config_list : h.server_list;
      const std::string& root = key[0] == 'c' ? root_cb : root_servers;
      // Local warnings about this key are moot: rank 0's value is what counts.
      h.warnings.erase(std::remove_if(h.warnings.begin(), h.warnings.end(),
                                      [&](const Warning& w) { return w.key == key; }),
                       h.warnings.end());
      if (local != root) {
        Warning w;
        w.kind = WarningKind::kOverridden;
        w.key = key;
        w.value = local;
        w.used = root;
        w.message = std::string("hint \"") + key + "\" value \"" + detail::printable(local) +
                    "\" differs from rank 0's; using rank 0's \"" + root +
                    "\" (ROMIO reads it on rank 0 only)";
        h.warnings.push_back(std::move(w));
      }
    }
    h.cb_config_list = root_cb;
    h.server_list = root_servers;
    set_reported(h, kCbConfigList, root_cb);
    set_reported(h, kEdaosServerList, root_servers);
    set_selected_ranks(h, std::move(root_aggs), std::move(root_server_ranks));
  }

  const WarningSink& sink =
      opts.warning_sink ? opts.warning_sink : WarningSink(stderr_warning_sink);
  for (const Warning& w : h.warnings)
    if (rank == 0 || root_warnings.count(w.message) == 0) sink(w, rank);

  if (first.index != INT_MAX) {
    std::string theirs = first.rank == rank && static_cast<size_t>(first.index) < h.agreed.size()
                             ? h.agreed[static_cast<size_t>(first.index)].second
                             : std::string();
    EDAOS_RETURN_IF_ERROR(bcast_string(theirs, first.rank, comm, opts.wait));
    const auto idx = static_cast<size_t>(first.index);
    const std::string key = idx < h.agreed.size() ? h.agreed[idx].first : "?";
    const std::string ours = idx < root_agreed.size() ? root_agreed[idx] : "";
    return Status(EDAOS_INVAL, "hint \"" + key + "\" not same across processes: rank 0 has \"" +
                                   ours + "\", rank " + std::to_string(first.rank) + " has \"" +
                                   theirs + "\"");
  }

  bool print = opts.print > 0 || (opts.print < 0 && std::getenv("ROMIO_PRINT_HINTS") != nullptr);
  if (print && rank == 0) {
    std::string text = format_romio_print(h);
    if (opts.print_sink) {
      opts.print_sink(text);
    } else {
      std::fputs(text.c_str(), stdout);
      std::fflush(stdout);
    }
  }
  return h;
}

}  // namespace edaos::hints
