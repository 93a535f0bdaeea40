// init/finalize: server-rank selection, transport choice, bootstrap (see runtime/README.md).
#include "runtime/runtime.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <sstream>

#include "common/cb_config.hpp"
#include "common/log.hpp"
#include "edaos/objstore/names.hpp"
#include "edaos/objstore/objstore.hpp"
#include "rpc/transport_loopback.hpp"
#include "rpc/transport_mpi.hpp"
#include "edaos/objstore/collectives.hpp"
#if EDAOS_HAVE_UCX
#include "rpc/transport_ucx.hpp"
#endif
#if EDAOS_HAVE_OFI
#include "rpc/transport_ofi.hpp"
#endif
#include "server/server.hpp"

EDAOS_LOG_FACILITY(runtime);

namespace edaos::objstore {

namespace client {
namespace {
std::mutex g_mu;
Runtime* g_rt = nullptr;

constexpr int kDefaultLoopbackServers = 2;

// $EDAOS_TRANSPORT: a transport's name asks for that one (init fails when it cannot start);
// auto (the default) takes UCX, else libfabric, else MPI: the first that starts on every rank.
enum class Want { kAuto, kMpi, kLoopback, kUcx, kOfi };

Status pick_transport(Want* out) {
  const char* e = std::getenv("EDAOS_TRANSPORT");
  const std::string want = e && *e ? e : "auto";
  static const std::pair<const char*, Want> names[] = {{"auto", Want::kAuto},
                                                       {"mpi", Want::kMpi},
                                                       {"loopback", Want::kLoopback},
                                                       {"ucx", Want::kUcx},
                                                       {"ofi", Want::kOfi}};
  for (auto& [n, w] : names)
    if (want == n) {
      *out = w;
      return Status::OK();
    }
  return Status(EDAOS_INVAL,
                "EDAOS_TRANSPORT='" + want + "': expected auto, ucx, ofi, mpi or loopback");
}

// $EDAOS_LOOPBACK_SERVERS: how many in-process servers the loopback transport runs.
Status loopback_servers(int* n) {
  const char* e = std::getenv("EDAOS_LOOPBACK_SERVERS");
  *n = kDefaultLoopbackServers;
  if (!e || !*e) return Status::OK();
  char* end = nullptr;
  long v = std::strtol(e, &end, 10);
  if (end == e || *end || v < 1 || v > 1024)
    return Status(EDAOS_INVAL,
                  std::string("EDAOS_LOOPBACK_SERVERS='") + e + "': expected 1 to 1024");
  *n = static_cast<int>(v);
  return Status::OK();
}

// Server ranks: the cb_config_list spec over the processor names.
Status select_servers(Runtime* rt, const std::string& spec) {
  auto parsed = parse_cb_config_list(spec);
  if (!parsed.ok()) return Status(EDAOS_INVAL, "EDAOS_SERVER_RANKS: " + parsed.status().message());
  rt->servers = select_cb_ranks(parsed.value(), rt->hosts, rt->size);
  if (rt->servers.empty())
    return Status(EDAOS_INVAL, "server rank list '" + spec + "' selects no rank");
  auto it = std::find(rt->servers.begin(), rt->servers.end(), rt->rank);
  if (it != rt->servers.end()) rt->my_server_index = static_cast<int>(it - rt->servers.begin());
  return Status::OK();
}

// The MPI transport: RPCs over a duplicate of the job's communicator.
Status open_mpi(Runtime* rt) {
  int provided = 0;
  MPI_Query_thread(&provided);
  if (provided < MPI_THREAD_MULTIPLE)
    return Status(EDAOS_NOTSUP,
                  "edaos's MPI transport needs MPI_THREAD_MULTIPLE (initialize MPI with "
                  "MPI_Init_thread, or link libedaos_init so the MPI_Init wrapper asks for it; "
                  "or pick EDAOS_TRANSPORT=ucx or ofi)");
  rt->rpc_owner = std::make_unique<rpc::MpiTransport>(rt->comm);
  return Status::OK();
}

// Every rank's endpoint address, exchanged once over the job's communicator.
[[maybe_unused]] std::vector<std::string> exchange_addresses(MPI_Comm comm, int size,
                                                             const std::string& mine) {
  const int len = static_cast<int>(mine.size());
  std::vector<int> lens(static_cast<size_t>(size)), displs(static_cast<size_t>(size));
  coll::allgather(&len, 1, MPI_INT, lens.data(), 1, MPI_INT, comm);
  int total = 0;
  for (int r = 0; r < size; ++r) {
    displs[static_cast<size_t>(r)] = total;
    total += lens[static_cast<size_t>(r)];
  }
  std::string all(static_cast<size_t>(total), '\0');
  coll::allgatherv(mine.data(), len, MPI_BYTE, all.data(), lens.data(), displs.data(), MPI_BYTE,
                   comm);
  std::vector<std::string> out;
  for (int r = 0; r < size; ++r)
    out.push_back(all.substr(static_cast<size_t>(displs[static_cast<size_t>(r)]),
                             static_cast<size_t>(lens[static_cast<size_t>(r)])));
  return out;
}

// A native transport (UCX, libfabric): opened on every rank, then the addresses are exchanged.
// Collective: when it cannot start on some rank, no rank uses it (*started false, *why says
// why on the ranks where it failed).
template <typename T>
void open_native(Runtime* rt, bool* started, Status* why) {
  std::unique_ptr<T> t = T::open(rt->rank, why);
  int ok = t ? 1 : 0, all = 0;
  coll::allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, rt->comm);
  *started = all == 1;
  if (!*started) {
    if (ok) *why = Status(EDAOS_NOTSUP, "it could not start on another rank (see its log)");
    return;
  }
  t->set_peers(exchange_addresses(rt->comm, rt->size, t->address()));
  rt->rpc_owner = std::move(t);
}

Status open_transport(Runtime* rt, Want want) {
  Status why;
  bool started = false;
  if (want == Want::kUcx || want == Want::kAuto) {
#if EDAOS_HAVE_UCX
    open_native<rpc::UcxTransport>(rt, &started, &why);
    if (started) rt->kind = TransportKind::kUcx;
#else
    why = Status(EDAOS_NOTSUP, "this build has no UCX transport (libucx-dev was not found)");
#endif
    if (!started && want == Want::kUcx)
      return Status(why.code(), "EDAOS_TRANSPORT=ucx: " + why.message());
    if (!started) EDAOS_LOG(info, "auto transport: UCX not used: %s", why.message().c_str());
  }
  if (!started && (want == Want::kOfi || want == Want::kAuto)) {
#if EDAOS_HAVE_OFI
    open_native<rpc::OfiTransport>(rt, &started, &why);
    if (started) rt->kind = TransportKind::kOfi;
#else
    why =
        Status(EDAOS_NOTSUP, "this build has no libfabric transport (libfabric-dev was not found)");
#endif
    if (!started && want == Want::kOfi)
      return Status(why.code(), "EDAOS_TRANSPORT=ofi: " + why.message());
    if (!started) EDAOS_LOG(info, "auto transport: libfabric not used: %s", why.message().c_str());
  }
  if (started) return Status::OK();
  rt->kind = TransportKind::kMpi;
  return open_mpi(rt);
}

// A process: its pid and its start time (field 22 of /proc/<pid>/stat, clock ticks since
// boot), which tells a process from a later one that got the same pid.
struct ProcId {
  uint64_t pid = 0, start = 0;
};

// Reads /proc/<pid>/stat: false when the process does not exist (anymore); *state its state
// letter (Z: exited, not yet reaped), *start its start time.
bool read_proc_stat(uint64_t pid, char* state, uint64_t* start) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  char buf[1024];
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses, the last ')' ends it.
  const char* p = std::strrchr(buf, ')');
  if (!p) return false;
  std::istringstream is(p + 1);
  std::string field;
  if (!(is >> field) || field.empty()) return false;
  *state = field[0];
  for (int i = 4; i <= 22; ++i)  // fields 4..22; starttime is field 22
    if (!(is >> field)) return false;
  *start = std::strtoull(field.c_str(), nullptr, 10);
  return true;
}

// Every rank's ProcId, exchanged once. Gone(rank) for the Server: true only for a rank on this
// node whose process has exited (no such pid, a zombie, or another process with its pid). A
// rank on another node is never reported gone (no check reaches it; runtime/README.md).
std::function<bool(int)> peer_gone_check(Runtime* rt) {
  ProcId me;
  me.pid = static_cast<uint64_t>(::getpid());
  char state = 0;
  if (!read_proc_stat(me.pid, &state, &me.start)) me.start = 0;
  std::vector<ProcId> all(static_cast<size_t>(rt->size));
  coll::allgather(&me, 2, MPI_UINT64_T, all.data(), 2, MPI_UINT64_T, rt->comm);
  std::vector<char> local(static_cast<size_t>(rt->size), 0);
  for (int r = 0; r < rt->size; ++r)
    local[static_cast<size_t>(r)] = r != rt->rank && rt->hosts[static_cast<size_t>(r)] ==
                                                         rt->hosts[static_cast<size_t>(rt->rank)];
  return [all = std::move(all), local = std::move(local)](int rank) {
    if (rank < 0 || static_cast<size_t>(rank) >= all.size() || !local[static_cast<size_t>(rank)])
      return false;
    const ProcId& p = all[static_cast<size_t>(rank)];
    if (p.start == 0) return false;  // its start time was unknown: never guess
    char st = 0;
    uint64_t start = 0;
    if (!read_proc_stat(p.pid, &st, &start)) return true;
    return st == 'Z' || st == 'X' || start != p.start;
  };
}

// A network transport (MPI, UCX, libfabric) between the job's ranks; the listed ranks serve.
Status start_networked(Runtime* rt, Want want, const std::string& spec) {
  Status st = select_servers(rt, spec);
  if (!st.ok()) return st;
  st = open_transport(rt, want);
  if (!st.ok()) return st;
  rt->rpc = rt->rpc_owner.get();
  auto gone = peer_gone_check(rt);  // collective
  if (rt->my_server_index >= 0) {
    rt->srv.push_back(std::make_unique<server::Server>(rt->rpc, rt->my_server_index,
                                                       static_cast<int>(rt->servers.size())));
    rt->srv.back()->set_peer_gone(std::move(gone));
    rt->srv.back()->start();
  }
  return Status::OK();
}

// The loopback transport: a one-process job whose servers run in this process (ranks
// 0..n-1, the client is rank n); no MPI call carries an RPC.
Status start_loopback(Runtime* rt) {
  if (rt->size != 1)
    return Status(EDAOS_INVAL,
                  "EDAOS_TRANSPORT=loopback runs client and servers in one process: "
                  "the communicator has " +
                      std::to_string(rt->size) + " ranks");
  int n = 0;
  Status st = loopback_servers(&n);
  if (!st.ok()) return st;
  rt->loopback = std::make_unique<rpc::LoopbackFabric>(n);
  rt->rpc = rt->loopback->client();
  const std::string host = rt->hosts.at(0);
  rt->hosts.assign(static_cast<size_t>(n) + 1, host);
  for (int i = 0; i < n; ++i) {
    rt->servers.push_back(i);
    rt->srv.push_back(std::make_unique<server::Server>(rt->loopback->server(i), i, n));
    rt->srv.back()->start();
  }
  rt->rank = n;
  return Status::OK();
}

}  // namespace

Runtime::Runtime() = default;

Runtime::~Runtime() {
  // Servers first (they use the transport), then the transport, then the communicator.
  for (auto& s : srv)
    if (s) s->stop();
  srv.clear();
  rpc = nullptr;
  rpc_owner.reset();
  loopback.reset();
  if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
}

const char* transport_name(TransportKind k) {
  switch (k) {
    case TransportKind::kMpi:
      return "mpi";
    case TransportKind::kLoopback:
      return "loopback";
    case TransportKind::kUcx:
      return "ucx";
    case TransportKind::kOfi:
      return "ofi";
  }
  return "?";
}

Runtime* runtime() { return g_rt; }

}  // namespace client

using client::Runtime;

std::string default_pool_path() {
  auto dir = resolve_pool(default_pool_spec());
  return dir.ok() ? dir.value() : "./edaos-pool";  // a non-empty spec always resolves
}

Status init(MPI_Comm comm, const InitOptions& opts) {
  std::lock_guard<std::mutex> lk(client::g_mu);
  if (client::g_rt) return Status::OK();
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) return Status(EDAOS_NOTINIT, "MPI is not initialized");
  auto rt = std::make_unique<Runtime>();
  client::Want want = client::Want::kAuto;
  Status st = client::pick_transport(&want);
  // Every rank decides alike (the environment is the job's); a bad value fails everywhere.
  if (!st.ok()) return st;
  coll::dup(comm, &rt->comm);
  MPI_Comm_rank(rt->comm, &rt->rank);
  MPI_Comm_size(rt->comm, &rt->size);
  edaos_log_set_rank(rt->rank);

  // Which ranks serve: cb_config_list grammar over the node each rank runs on.
  std::string spec = opts.server_ranks;
  if (spec.empty()) {
    const char* e = std::getenv("EDAOS_SERVER_RANKS");
    spec = e && *e ? e : "*:1";
  }
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  MPI_Get_processor_name(name, &len);
  std::vector<char> all(static_cast<size_t>(rt->size) * MPI_MAX_PROCESSOR_NAME);
  coll::allgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(), MPI_MAX_PROCESSOR_NAME,
                  MPI_CHAR, rt->comm);
  for (int r = 0; r < rt->size; ++r)
    rt->hosts.emplace_back(&all[static_cast<size_t>(r) * MPI_MAX_PROCESSOR_NAME]);

  if (want == client::Want::kLoopback) {
    rt->kind = client::TransportKind::kLoopback;
    st = client::start_loopback(rt.get());
  } else {
    st = client::start_networked(rt.get(), want, spec);
  }
  if (!st.ok()) return st;
  EDAOS_LOG(info, "initialized: %d ranks, %zu servers (%s), transport %s%s", rt->size,
            rt->servers.size(), spec.c_str(), client::transport_name(rt->kind),
            rt->srv.empty() ? "" : ", serving");
  coll::barrier(rt->comm);
  client::g_rt = rt.release();
  return Status::OK();
}

namespace {
std::atomic<void (*)()> g_finalize_drain{nullptr};
}  // namespace

void client::set_finalize_drain(void (*fn)()) { g_finalize_drain.store(fn); }

Status finalize() {
  // Shared connections close while the servers still answer, and only once every rank's
  // background work on them is done (set_finalize_drain): a rank's release may be the connect
  // root's, which closes the pool at the servers for everybody.
  if (Runtime* rt = client::runtime()) {
    if (auto* drain = g_finalize_drain.load()) drain();
    coll::barrier(rt->comm);
    release_shared_pools();
  }
  std::lock_guard<std::mutex> lk(client::g_mu);
  Runtime* rt = client::g_rt;
  if (!rt) return Status::OK();
  // Every client must be done before any server stops.
  coll::barrier(rt->comm);
  for (auto& s : rt->srv) s->stop();
  coll::barrier(rt->comm);
  delete rt;
  client::g_rt = nullptr;
  return Status::OK();
}

bool is_initialized() { return client::g_rt != nullptr; }

std::vector<int> server_ranks() {
  Runtime* rt = client::runtime();
  if (!rt || rt->kind == client::TransportKind::kLoopback)
    return rt ? std::vector<int>{0} : std::vector<int>{};
  return rt->servers;
}

Stats stats() {
  Stats s{};
  Runtime* rt = client::runtime();
  if (!rt) return s;
  auto& c = rt->counters;
  s = Stats{c.rpcs,
            c.bytes_written,
            c.bytes_read,
            c.full_stripe_writes,
            c.partial_stripe_writes,
            c.degraded_reads,
            c.csum_errors,
            c.csum_retries,
            c.repairs};
  return s;
}

// Direct-path write leases held by this process's servers (objstore.hpp, tests only).
uint64_t server_leases_for_testing() {
  client::Runtime* rt = client::runtime();
  uint64_t n = 0;
  if (rt)
    for (auto& s : rt->srv) n += s->lease_count();
  return n;
}

}  // namespace edaos::objstore
