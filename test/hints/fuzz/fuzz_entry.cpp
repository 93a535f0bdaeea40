// Invariant checks behind the hints fuzzers (see fuzz_entry.hpp).
#include "fuzz_entry.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "edaos/hints/cb_config.hpp"
#include "edaos/hints/hintfile.hpp"
#include "edaos/hints/resolve.hpp"

namespace edaos::hints::fuzz {
namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "hints fuzz invariant broken: %s\n", what);
  std::abort();
}
#define FUZZ_CHECK(cond)      \
  do {                        \
    if (!(cond)) fail(#cond); \
  } while (0)

std::vector<std::string> hosts_from(const uint8_t* data, size_t n, int nprocs) {
  std::vector<std::string> hosts;
  for (int r = 0; r < nprocs; ++r)
    hosts.push_back("h" + std::to_string(n ? data[static_cast<size_t>(r) % n] % 5 : 0));
  return hosts;
}

void check_ranks(const std::vector<int>& ranks, int nprocs, int limit) {
  FUZZ_CHECK(static_cast<int>(ranks.size()) <= std::max(0, std::min(limit, nprocs)));
  std::set<int> seen;
  for (int r : ranks) {
    FUZZ_CHECK(r >= 0 && r < nprocs);
    FUZZ_CHECK(seen.insert(r).second);
  }
}

}  // namespace

int hintfile_one_input(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<Warning> warnings;
  auto kv = parse_hint_file(text, &warnings, "fuzz");
  if (!kv.ok()) {
    FUZZ_CHECK(size > kMaxHintFileBytes);
    return 0;
  }
  std::set<std::string> keys;
  for (const auto& [k, v] : *kv) {
    FUZZ_CHECK(!k.empty() && !v.empty() && k[0] != '#');
    FUZZ_CHECK(keys.insert(k).second);  // one value per key
    FUZZ_CHECK(k.find_first_of(" \t\r\n") == std::string::npos);
    FUZZ_CHECK(v.find_first_of(" \t\r\n") == std::string::npos);
  }
  for (const Warning& w : warnings) FUZZ_CHECK(!w.message.empty());

  Inputs in;
  in.nprocs = size ? 1 + data[0] % 16 : 1;
  in.file = *kv;
  in.file_origin = "fuzz";
  // The same text also feeds MPI_Info, shifted by one pair, to exercise precedence.
  for (size_t i = 1; i < kv->size(); i += 2) in.info.push_back((*kv)[i]);
  in.rank_hosts = hosts_from(data, size, in.nprocs);
  EffectiveHints h = resolve(in);
  std::set<std::string> listed;
  for (const auto& [k, v] : h.info) FUZZ_CHECK(listed.insert(k).second);
  FUZZ_CHECK(h.cb_buffer_size >= 1);
  FUZZ_CHECK(h.ind_rd_buffer_size >= 1 && h.ind_wr_buffer_size >= 1);
  FUZZ_CHECK(!h.aggregators.empty() && !h.server_ranks.empty());
  check_ranks(h.aggregators, in.nprocs, in.nprocs);
  check_ranks(h.server_ranks, in.nprocs, in.nprocs);
  FUZZ_CHECK(h.cb_nodes == static_cast<int>(h.aggregators.size()));
  FUZZ_CHECK(!h.no_indep_rw || (h.cb_read == Tristate::kEnable && h.cb_write == Tristate::kEnable));
  FUZZ_CHECK(h.ds_write == Tristate::kDisable);
  FUZZ_CHECK(h.cell_size == 0 || h.chunk_size == 0 || h.chunk_size % h.cell_size == 0);
  FUZZ_CHECK(h.find("romio_aggregator_list") != nullptr &&
             h.find("romio_aggregator_list")->size() < kMaxInfoVal);
  FUZZ_CHECK(!format_romio_print(h).empty());

  // Resolving again on top of the result (set_info with the same pairs) keeps the layout.
  Inputs again;
  again.nprocs = in.nprocs;
  again.info = in.info;
  again.previous = &h;
  EffectiveHints h2 = resolve(again);
  FUZZ_CHECK(h2.aggregators == h.aggregators && h2.cb_nodes == h.cb_nodes);
  FUZZ_CHECK(h2.cb_config_list == h.cb_config_list && h2.obj_class == h.obj_class);
  return 0;
}

int cb_config_one_input(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int nprocs = 1 + data[0] % 32;
  const int cb_nodes = static_cast<int>(data[1] % 40) - 2;  // exercises <= 0 too
  const size_t nhost = std::min<size_t>(static_cast<size_t>(nprocs), size - 2);
  std::vector<std::string> hosts = hosts_from(data + 2, nhost, nprocs);
  std::string_view text(reinterpret_cast<const char*>(data + 2 + nhost), size - 2 - nhost);
  std::vector<Warning> warnings;
  auto list = parse_cb_config_list(text, &warnings);
  if (!list.ok()) {
    FUZZ_CHECK(!list.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(!list->entries.empty());
  for (const CbConfigEntry& e : list->entries) {
    FUZZ_CHECK(e.wildcard == e.host.empty());
    FUZZ_CHECK(e.count >= 0 || e.count == CbConfigEntry::kAll);
  }
  // The normalized text parses to itself.
  auto again = parse_cb_config_list(list->text);
  FUZZ_CHECK(again.ok() && again->text == list->text);
  FUZZ_CHECK(again->entries.size() == list->entries.size());

  std::vector<int> ranks = select_aggregators(*list, hosts, cb_nodes);
  check_ranks(ranks, nprocs, cb_nodes);
  FUZZ_CHECK(select_aggregators(*again, hosts, cb_nodes) == ranks);  // deterministic
  // "*:N" with N >= 1 always finds at least one rank when cb_nodes >= 1.
  if (cb_nodes >= 1 && list->entries[0].wildcard && list->entries[0].count != 0)
    FUZZ_CHECK(!ranks.empty());
  return 0;
}

}  // namespace edaos::hints::fuzz
