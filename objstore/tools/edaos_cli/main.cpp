// edaos: the command-line tool of the object store, with the grammar of DAOS's `daos` tool.
//
//   edaos pool create|query|list-cont|exclude|reintegrate ...
//   edaos container create|destroy|query|list|get-prop|set-prop ...
//   edaos fs copy|ls|cat|stat|set-attr|get-attr|check ...
//
// It runs as an MPI job of its own: outside mpiexec it is a one-rank (singleton) job whose only
// rank hosts every engine; under `mpiexec -n N` rank 0 runs the command and the others serve.
// Every error is one line on stderr, "edaos: <command>: <what happened>", with the exit codes
// of cli.hpp.
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cli.hpp"

namespace edaos::cli {

namespace {

constexpr const char* kVersion = "0.1.0";

std::vector<Command> all_commands() {
  std::vector<Command> all;
  for (auto* fam : {&pool_commands, &container_commands, &fs_commands})
    for (auto& c : fam()) all.push_back(c);
  return all;
}

std::string canonical_family(const std::string& f) {
  if (f == "cont") return "container";
  if (f == "filesystem") return "fs";
  return f;
}

void print_top_help() {
  std::printf(
      "Usage: edaos <family> <command> [options] [arguments]\n"
      "       edaos <family> <command> --help | edaos --help | edaos version\n\n"
      "The DAOS storage model inside an MPI job; commands follow DAOS's `daos` tool.\n\n");
  std::string fam;
  for (auto& c : all_commands()) {
    if (c.family != fam) {
      fam = c.family;
      std::printf("%s%s commands:\n", fam == "pool" ? "" : "\n", fam.c_str());
    }
    std::string head = c.family + " " + c.name;
    std::printf("  %-24s %s\n", head.c_str(), c.summary.c_str());
  }
  std::printf(
      "\nPools: <pool> is a pool directory; a bare name (no '/') is looked up in the directory\n"
      "of $EDAOS_POOL (else $DAOS_POOL, else .) by directory name, label or UUID. Without\n"
      "<pool>: $EDAOS_POOL, $DAOS_POOL, ./edaos-pool. Without <cont>: $EDAOS_CONT, else\n"
      "$DAOS_CONT or $DAOS_CONTAINER (refused when both are set and differ).\n"
      "Container paths: daos://<pool>/<cont>/path, the pool a name or a path\n"
      "(daos://./pools/p/c/x, daos:///abs/p/c/x).\n"
      "Exit status: 0 success, 1 operation failed, 2 usage error, 3 pool in use.\n");
}

void print_family_help(const std::string& fam) {
  std::printf("Usage: edaos %s <command> [options] [arguments]\n\nCommands:\n", fam.c_str());
  for (auto& c : all_commands())
    if (c.family == fam) std::printf("  %-14s %s\n", c.name.c_str(), c.summary.c_str());
  std::printf("\nedaos %s <command> --help shows a command's options.\n", fam.c_str());
}

void print_command_help(const Command& c) {
  std::printf("Usage: edaos %s %s %s\n\n%s\n", c.family.c_str(), c.name.c_str(), c.synopsis.c_str(),
              c.summary.c_str());
  if (!c.opts.empty()) std::printf("\nOptions:\n");
  for (auto& o : c.opts) {
    std::string head = "--" + o.name + (o.takes_value ? "=VALUE" : "");
    if (o.short_name) head = std::string("-") + o.short_name + ", " + head;
    std::printf("  %-26s %s\n", head.c_str(), o.help.c_str());
  }
}

// Parses argv[first..] against the command's options.
Outcome parse_args(const Command& c, int argc, char** argv, int first, Args* a, bool* help) {
  auto find = [&](const std::string& name) -> const OptSpec* {
    for (auto& o : c.opts)
      if (o.name == name) return &o;
    return nullptr;
  };
  auto find_short = [&](char s) -> const OptSpec* {
    for (auto& o : c.opts)
      if (o.short_name == s) return &o;
    return nullptr;
  };
  bool only_pos = false;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (only_pos || s.size() < 2 || s[0] != '-') {
      a->pos.push_back(s);
      continue;
    }
    if (s == "--") {
      only_pos = true;
      continue;
    }
    if (s == "--help" || s == "-h") {
      *help = true;
      return ok();
    }
    const OptSpec* o = nullptr;
    std::string value;
    bool has_value = false;
    if (s[1] == '-') {
      std::string name = s.substr(2);
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      o = find(name);
      if (!o) return usage_error("unknown option --" + name);
    } else {
      o = find_short(s[1]);
      if (!o) return usage_error("unknown option " + s.substr(0, 2));
      if (s.size() > 2) {
        value = s.substr(2);
        has_value = true;
      }
    }
    if (o->takes_value && !has_value) {
      if (i + 1 >= argc) return usage_error("option --" + o->name + " needs a value");
      value = argv[++i];
    } else if (!o->takes_value && has_value) {
      return usage_error("option --" + o->name + " takes no value");
    }
    a->opts[o->name] = value;
  }
  return ok();
}

// Waits for rank 0's exit status without spinning (ranks other than 0 keep serving engines).
int bcast_exit(int code, int rank) {
  MPI_Request req;
  MPI_Ibcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD, &req);
  int done = 0;
  while (!done) {
    MPI_Test(&req, &done, MPI_STATUS_IGNORE);
    if (!done && rank != 0) usleep(1000);
  }
  return code;
}

int run(int argc, char** argv) {
  if (argc < 2) {
    print_top_help();
    return kExitUsage;
  }
  std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    print_top_help();
    return kExitOk;
  }
  if (first == "version" || first == "--version") {
    std::printf("edaos version %s (pool format 1, RPC protocol 3)\n", kVersion);
    return kExitOk;
  }
  std::string fam = canonical_family(first);
  bool known_family = false;
  for (auto& c : all_commands()) known_family |= c.family == fam;
  if (!known_family) {
    std::fprintf(stderr, "edaos: unknown command '%s' (see edaos --help)\n", first.c_str());
    return kExitUsage;
  }
  if (argc < 3 || !std::strcmp(argv[2], "--help") || !std::strcmp(argv[2], "-h") ||
      !std::strcmp(argv[2], "help")) {
    print_family_help(fam);
    return argc < 3 ? kExitUsage : kExitOk;
  }
  std::string name = argv[2];
  const Command* cmd = nullptr;
  auto cmds = all_commands();
  for (auto& c : cmds) {
    if (c.family != fam) continue;
    if (c.name == name) cmd = &c;
    for (auto& al : c.aliases)
      if (al == name) cmd = &c;
  }
  if (!cmd) {
    std::fprintf(stderr, "edaos: %s: unknown command '%s' (see edaos %s --help)\n", fam.c_str(),
                 name.c_str(), fam.c_str());
    return kExitUsage;
  }
  const std::string label = fam + " " + cmd->name;
  Args args;
  bool help = false;
  Outcome o = parse_args(*cmd, argc, argv, 3, &args, &help);
  if (help) {
    print_command_help(*cmd);
    return kExitOk;
  }
  if (!o.ok()) {
    std::fprintf(stderr, "edaos: %s: %s (see edaos %s --help)\n", label.c_str(), o.msg.c_str(),
                 label.c_str());
    return o.code;
  }

  // Quiet library logging unless the user asked for it: errors reach the user as one line.
  setenv("EDAOS_LOG", "off", 0);
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int code = kExitOk;
  Status st = objstore::init(MPI_COMM_WORLD);
  if (!st.ok()) {
    if (rank == 0)
      std::fprintf(stderr, "edaos: %s: cannot start the object store: %s\n", label.c_str(),
                   from_status(st).msg.c_str());
    code = kExitRuntime;
  } else {
    if (rank == 0) {
      o = cmd->run(args);
      std::fflush(stdout);
      if (!o.ok()) std::fprintf(stderr, "edaos: %s: %s\n", label.c_str(), o.msg.c_str());
      code = o.code;
    }
    code = bcast_exit(code, rank);
    (void)objstore::finalize();
  }
  MPI_Finalize();
  return code;
}

}  // namespace
}  // namespace edaos::cli

int main(int argc, char** argv) { return edaos::cli::run(argc, argv); }
