// resolve(): precedence, validation and every interaction between hints, in one pure function.
// The order of the steps follows ROMIO's ADIOI_GEN_SetInfo (and ADIOI_DAOS_SetInfo before it),
// because that order decides both the values and the order MPI_File_get_info lists them in.
#include "edaos/hints/resolve.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "edaos/hints/cb_config.hpp"
#include "hints_internal.hpp"

namespace edaos::hints {
namespace {

using detail::printable;

// Hints that only take effect at open (ROMIO ignores them in set_info / set_view).
constexpr std::string_view kFixedAtOpen[] = {
    kRomioDaosChunkSize, kRomioDaosObjClass, kEdaosObjClass, kEdaosChunkSize,
    kEdaosCellSize,      kEdaosServerList,   kCbNodes,       kCbConfigList};

struct Given {
  std::string value;
  std::string origin;
};

class Resolver {
 public:
  explicit Resolver(const Inputs& in) : in_(in) {}

  EffectiveHints run() {
    update_ = in_.previous != nullptr;
    if (update_) {
      h_ = *in_.previous;
      h_.warnings.clear();
    } else {
      h_.nprocs = std::max(1, in_.nprocs);
      h_.cb_nodes = h_.nprocs;
      for (const HintSpec& s : registry()) {
        if (!s.listed_by_default || s.type == HintType::kReport) continue;
        set_info(s.key,
                 s.key == kCbNodes ? std::to_string(h_.nprocs) : std::string(s.default_value));
      }
    }
    collect();
    if (!update_) {
      for (std::string_view k : kFixedAtOpen)
        if (const Given* g = given(k)) h_.fixed_at_open.emplace_back(std::string(k), g->value);
    }
    layout_hints();
    collective_hints();
    post_process();
    compute_agreed();
    select_ranks();
    return std::move(h_);
  }

 private:
  // ---- inputs -------------------------------------------------------------------------------
  void collect() {
    auto add = [&](const KeyValues& kvs, const std::string& origin, bool is_file) {
      for (const auto& [k, v] : kvs) {
        const HintSpec* spec = find_hint(k);
        if (spec == nullptr || spec->type == HintType::kReport) {
          if (is_file || given_.count(k) == 0) {
            Warning w;
            w.kind = WarningKind::kUnknownKey;
            w.key = k;
            w.value = v;
            w.origin = origin;
            w.message = "ignoring " + std::string(spec ? "reported-only" : "unknown") + " hint \"" +
                        printable(k) + "\" (from " + origin + ")";
            h_.warnings.push_back(std::move(w));
          }
          continue;
        }
        given_.emplace(k, Given{v, origin});  // MPI_Info is added first: it wins
      }
    };
    add(in_.info, "MPI_Info", false);
    if (!update_) add(in_.file, in_.file_origin.empty() ? "ROMIO_HINTS" : in_.file_origin, true);
  }

  const Given* given(std::string_view key) const {
    auto it = given_.find(std::string(key));
    return it == given_.end() ? nullptr : &it->second;
  }

  void warn(WarningKind kind, std::string_view key, const std::string& value,
            const std::string& used, const std::string& origin, std::string message) {
    Warning w;
    w.kind = kind;
    w.key = std::string(key);
    w.value = value;
    w.used = used;
    w.origin = origin;
    w.message = std::move(message);
    h_.warnings.push_back(std::move(w));
  }

  std::string current_or_default(const HintSpec& s) const {
    if (const std::string* v = h_.find(s.key)) return *v;
    if (s.key == kCbNodes) return std::to_string(h_.nprocs);
    return std::string(s.default_value);
  }

  // The validated value of `key` given in this call, or nullopt (not given, or invalid: then
  // one warning says which value is used instead).
  std::optional<ParsedValue> take(std::string_view key) {
    const Given* g = given(key);
    if (g == nullptr) return std::nullopt;
    const HintSpec& s = *find_hint(key);
    std::string_view raw = g->value;
    std::string unquoted;
    if (s.type == HintType::kCbConfig) {
      auto list = parse_cb_config_list(raw, &h_.warnings, key);
      if (list.ok()) {
        for (Warning& w : h_.warnings)
          if (w.origin.empty() && w.key == key) {
            w.origin = g->origin;
            w.message += " (from " + g->origin + ")";
          }
        ParsedValue p;
        p.display = list->text;
        p.canonical = list->text;
        return p;
      }
      return invalid(s, *g, list.status().message());
    }
    std::string_view t = detail::trim(raw);
    if (detail::is_quoted(t)) {
      unquoted = std::string(detail::trim(t.substr(1, t.size() - 2)));
      auto p = parse_value(s, unquoted);
      if (!p.ok()) return invalid(s, *g, p.status().message());
      warn(WarningKind::kAdjusted, key, g->value, p->display, g->origin,
           "hint \"" + std::string(key) + "\" value \"" + printable(g->value) + "\" (from " +
               g->origin +
               "): quotes are not part of hint values (ROMIO would reject it); using \"" +
               p->display + "\"");
      return std::move(p).value();
    }
    auto p = parse_value(s, raw);
    if (!p.ok()) return invalid(s, *g, p.status().message());
    return std::move(p).value();
  }

  std::nullopt_t invalid(const HintSpec& s, const Given& g, const std::string& why) {
    const std::string used = current_or_default(s);
    warn(WarningKind::kInvalidValue, s.key, g.value, used, g.origin,
         "ignoring invalid value \"" + printable(g.value) + "\" for hint \"" + std::string(s.key) +
             "\" (from " + g.origin + "): " + why + "; using " + (update_ ? "current" : "default") +
             " \"" + used + "\"");
    return std::nullopt;
  }

  // A hint that cannot change after open: warn when the caller tries anyway.
  void fixed_after_open(std::string_view key) {
    const Given* g = given(key);
    if (g == nullptr) return;
    const std::string cur = current_or_default(*find_hint(key));
    if (detail::trim(g->value) == cur) return;
    for (const auto& [k, v] : h_.fixed_at_open)
      if (k == key && v == g->value) return;  // the same value as at open: nothing changes
    warn(WarningKind::kIgnored, key, g->value, cur, g->origin,
         "ignoring hint \"" + std::string(key) + "\" = \"" + printable(g->value) + "\" (from " +
             g->origin + "): it is fixed when the file is opened; keeping \"" + cur + "\"");
  }

  // ---- info list ----------------------------------------------------------------------------
  void set_info(std::string_view key, std::string value) {
    for (auto& kv : h_.info)
      if (kv.first == key) {
        kv.second = std::move(value);
        return;
      }
    h_.info.emplace_back(std::string(key), std::move(value));
  }
  void erase_info(std::string_view key) {
    h_.info.erase(std::remove_if(h_.info.begin(), h_.info.end(),
                                 [&](const auto& kv) { return kv.first == key; }),
                  h_.info.end());
  }

  // ---- steps --------------------------------------------------------------------------------
  // Object layout (ROMIO's DAOS driver reads these at open only).
  void layout_hints() {
    const std::string_view* kLayout = kFixedAtOpen;  // the first six
    if (update_) {
      for (int i = 0; i < 6; ++i) fixed_after_open(kLayout[i]);
      return;
    }
    std::optional<ParsedValue> v[6];
    for (int i = 0; i < 6; ++i) {
      v[i] = take(kLayout[i]);
      if (v[i]) set_info(kLayout[i], v[i]->display);
    }
    const auto& daos_chunk = v[0];
    const auto& daos_class = v[1];
    const auto& ed_class = v[2];
    const auto& ed_chunk = v[3];
    const auto& ed_cell = v[4];
    if (ed_class)
      h_.obj_class = ed_class->display;
    else if (daos_class)
      h_.obj_class = daos_class->display;
    set_info(kEdaosObjClass, h_.obj_class);
    if (ed_chunk)
      h_.chunk_size = ed_chunk->number;
    else if (daos_chunk)
      h_.chunk_size = daos_chunk->number;
    set_info(kEdaosChunkSize, std::to_string(h_.chunk_size));
    if (ed_cell) h_.cell_size = ed_cell->number;
    if (h_.cell_size > 0 && h_.chunk_size > 0 && h_.chunk_size % h_.cell_size != 0) {
      const Given* g = given(kEdaosCellSize);
      warn(WarningKind::kInvalidValue, kEdaosCellSize, g->value, "0", g->origin,
           "ignoring invalid value \"" + printable(g->value) + "\" for hint \"" +
               std::string(kEdaosCellSize) + "\" (from " + g->origin +
               "): must divide the chunk size " + std::to_string(h_.chunk_size) +
               "; using default \"0\"");
      h_.cell_size = 0;
    }
    set_info(kEdaosCellSize, std::to_string(h_.cell_size));
    if (v[5]) h_.server_list = v[5]->display;
  }

  void set_tristate(std::string_view key, Tristate& field) {
    if (auto p = take(key)) {
      field = static_cast<Tristate>(p->number);
      set_info(key, p->display);
    }
  }
  void set_int(std::string_view key, int64_t& field) {
    if (auto p = take(key)) {
      field = p->number;
      set_info(key, p->display);
    }
  }

  // ROMIO's generic hints, in ADIOI_GEN_SetInfo order.
  void collective_hints() {
    set_int(kCbBufferSize, h_.cb_buffer_size);
    for (std::string_view key : {kRomioCbRead, kRomioCbWrite}) {
      Tristate& field = key == kRomioCbRead ? h_.cb_read : h_.cb_write;
      set_tristate(key, field);
      if (field == Tristate::kDisable) {  // 1. disabling cb clears no_indep_rw
        h_.no_indep_rw = false;
        set_info(kRomioNoIndepRw, "false");
      }
    }
    if (auto p = take(kRomioNoIndepRw)) {
      h_.no_indep_rw = p->number != 0;
      set_info(kRomioNoIndepRw, p->display);
    }
    if (h_.no_indep_rw) {  // 2. collective-only I/O needs collective buffering
      for (std::string_view key : {kRomioCbRead, kRomioCbWrite}) {
        Tristate& field = key == kRomioCbRead ? h_.cb_read : h_.cb_write;
        if (field == Tristate::kDisable) {
          const Given* g = given(key);
          warn(WarningKind::kOverridden, key, g ? g->value : "disable", "enable",
               g ? g->origin : "current hints",
               "hint \"" + std::string(key) + "\" value \"" + printable(g ? g->value : "disable") +
                   "\" overridden by " + std::string(kRomioNoIndepRw) +
                   "=true (as in ROMIO); using \"enable\"");
        }
        field = Tristate::kEnable;
        set_info(key, "enable");
      }
    }
    set_tristate(kRomioDsRead, h_.ds_read);
    set_tristate(kRomioDsWrite, h_.ds_write);

    if (update_) {  // 3. cb_nodes is fixed once the aggregator arrays exist
      fixed_after_open(kCbNodes);
    } else if (auto p = take(kCbNodes)) {
      int64_t n = p->number;
      if (n <= 0 || n > h_.nprocs) {
        const Given* g = given(kCbNodes);
        warn(WarningKind::kAdjusted, kCbNodes, g->value, std::to_string(h_.nprocs), g->origin,
             "hint \"cb_nodes\" value \"" + printable(g->value) + "\" (from " + g->origin + "): " +
                 (n <= 0 ? "must be >= 1"
                         : "more than the " + std::to_string(h_.nprocs) + " processes") +
                 "; using \"" + std::to_string(h_.nprocs) + "\"");
        n = h_.nprocs;
      }
      h_.cb_nodes = static_cast<int>(n);
      set_info(kCbNodes, std::to_string(n));
    }
    set_int(kIndWrBufferSize, h_.ind_wr_buffer_size);
    set_int(kIndRdBufferSize, h_.ind_rd_buffer_size);
    if (update_) {  // 4. cb_config_list is fixed at open too
      fixed_after_open(kCbConfigList);
    } else if (auto p = take(kCbConfigList)) {
      h_.cb_config_list = p->display;
      set_info(kCbConfigList, p->display);
    }
    set_int(kRomioMinFdomainSize, h_.min_fdomain_size);
    set_int(kStripingUnit, h_.striping_unit);
    set_int(kStripingFactor, h_.striping_factor);
  }

  void post_process() {
    if (!update_) set_info(kCbConfigList, h_.cb_config_list);  // default lands after user keys
    // 5. deferred open
    if (h_.cb_read != Tristate::kDisable && h_.cb_write != Tristate::kDisable && h_.no_indep_rw) {
      h_.deferred_open = in_.features.deferred_open;
    } else {
      h_.no_indep_rw = false;
      h_.deferred_open = false;
      set_info(kRomioNoIndepRw, "false");
    }
    // 6. data-sieving writes need file locks the driver does not have
    if (!in_.features.data_sieving_writes) {
      erase_info(kIndWrBufferSize);
      if (h_.ds_write == Tristate::kEnable) {
        const Given* g = given(kRomioDsWrite);
        warn(WarningKind::kOverridden, kRomioDsWrite, g ? g->value : "enable", "disable",
             g ? g->origin : "current hints",
             "hint \"romio_ds_write\" value \"" + printable(g ? g->value : "enable") +
                 "\" overridden: the driver has no data-sieving writes; using \"disable\"");
      }
      h_.ds_write = Tristate::kDisable;
      set_info(kRomioDsWrite, "disable");
    }
    set_info(kRomioFilesystemType, in_.filesystem_type);
  }

  void compute_agreed() {
    auto reported = [&](std::string_view key) {
      const std::string* v = h_.find(key);
      if (v == nullptr) return std::string();
      auto p = parse_value(*find_hint(key), *v);
      return p.ok() ? p->canonical : *v;
    };
    h_.agreed.clear();
    for (const HintSpec& s : registry()) {
      if (s.scope != Scope::kAgree) continue;
      std::string c;
      if (s.key == kRomioDaosChunkSize || s.key == kRomioDaosObjClass || s.key == kEdaosObjClass)
        c = reported(s.key);
      else if (s.key == kEdaosChunkSize)
        c = std::to_string(h_.chunk_size);
      else if (s.key == kEdaosCellSize)
        c = std::to_string(h_.cell_size);
      else if (s.key == kCbBufferSize)
        c = std::to_string(h_.cb_buffer_size);
      else if (s.key == kRomioCbRead)
        c = tristate_name(h_.cb_read);
      else if (s.key == kRomioCbWrite)
        c = tristate_name(h_.cb_write);
      else if (s.key == kCbNodes)
        c = std::to_string(h_.cb_nodes);
      else if (s.key == kRomioNoIndepRw)
        c = h_.no_indep_rw ? "true" : "false";
      else if (s.key == kIndRdBufferSize)
        c = std::to_string(h_.ind_rd_buffer_size);
      else if (s.key == kIndWrBufferSize)
        c = std::to_string(h_.ind_wr_buffer_size);
      else if (s.key == kRomioDsRead)
        c = tristate_name(h_.ds_read);
      else if (s.key == kRomioDsWrite)
        c = tristate_name(h_.ds_write);
      else if (s.key == kStripingUnit)
        c = std::to_string(h_.striping_unit);
      else if (s.key == kRomioMinFdomainSize)
        c = std::to_string(h_.min_fdomain_size);
      else if (s.key == kStripingFactor)
        c = std::to_string(h_.striping_factor);
      h_.agreed.emplace_back(std::string(s.key), std::move(c));
    }
  }

  // 8. aggregators and server ranks from the processor names.
  std::vector<int> select(std::string_view key, const std::string& text, int limit) {
    auto list = parse_cb_config_list(text);
    std::vector<int> ranks;
    if (list.ok()) ranks = select_aggregators(*list, in_.rank_hosts, limit);
    if (ranks.empty()) {
      warn(WarningKind::kAdjusted, key, text, "*:1", "",
           "hint \"" + std::string(key) + "\" value \"" + printable(text) +
               "\" matches no process (ROMIO fails the open); using \"*:1\"");
      auto dflt = parse_cb_config_list("*:1");
      ranks = select_aggregators(*dflt, in_.rank_hosts, limit);
    }
    return ranks;
  }

  void select_ranks() {
    if (update_ || in_.rank_hosts.empty()) return;
    if (static_cast<int>(in_.rank_hosts.size()) != h_.nprocs) {
      warn(WarningKind::kIgnored, "", "", "", "",
           "got " + std::to_string(in_.rank_hosts.size()) + " host names for " +
               std::to_string(h_.nprocs) + " processes; aggregators not selected");
      return;
    }
    std::vector<int> aggs = select(kCbConfigList, h_.cb_config_list, h_.cb_nodes);
    std::vector<int> servers = select(kEdaosServerList, h_.server_list, h_.nprocs);
    set_selected_ranks(h_, std::move(aggs), std::move(servers));
  }

  const Inputs& in_;
  bool update_ = false;
  EffectiveHints h_;
  std::map<std::string, Given, std::less<>> given_;
};

// printf("%-Ns") without printf: pads `s` with blanks to `width`.
std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

}  // namespace

const std::string* EffectiveHints::find(std::string_view key) const {
  for (const auto& kv : info)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

EffectiveHints resolve(const Inputs& in) { return Resolver(in).run(); }

void set_selected_ranks(EffectiveHints& h, std::vector<int> aggregators, std::vector<int> servers) {
  h.aggregators = std::move(aggregators);
  h.server_ranks = std::move(servers);
  h.cb_nodes = static_cast<int>(h.aggregators.size());
  // ROMIO writes "%d " per rank and stops before MPI_MAX_INFO_VAL - 1 characters.
  std::string list;
  for (int r : h.aggregators) {
    std::string item = std::to_string(r) + " ";
    if (list.size() + item.size() >= kMaxInfoVal) break;
    list += item;
  }
  bool have_cb = false, have_list = false;
  for (auto& kv : h.info) {
    if (kv.first == kCbNodes) {
      kv.second = std::to_string(h.cb_nodes);
      have_cb = true;
    } else if (kv.first == kRomioAggregatorList) {
      kv.second = list;
      have_list = true;
    }
  }
  if (!have_cb) h.info.emplace_back(std::string(kCbNodes), std::to_string(h.cb_nodes));
  if (!have_list) h.info.emplace_back(std::string(kRomioAggregatorList), list);
}

std::string format_romio_print(const EffectiveHints& h) {
  std::string out;
  for (const auto& [k, v] : h.info) out += "key = " + pad(k, 25) + " value = " + pad(v, 10) + "\n";
  return out;
}

}  // namespace edaos::hints
