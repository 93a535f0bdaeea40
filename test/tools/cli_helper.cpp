// Helper for the edaos tool tests: things the tool itself never does.
//   cli_helper hold <pool> <release-file>   connect and stay connected (the pool is "in use")
//                                            until <release-file> exists; writes <pool>.ready
//   cli_helper leak <pool> <cont> <bytes>    write a byte array no namespace entry names (a
//                                            leaked object for `edaos fs check`); prints its OID
//   cli_helper leak-dir <pool> <cont> <name> creates directory /<name> holding file "f"
//                                            ("hello\n"), then drops /<name>'s entry from the
//                                            root directory's KV: the directory and its file
//                                            leak; prints the directory's OID
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "edaos/objstore/dfs.hpp"
#include "edaos/objstore/objstore.hpp"

using namespace edaos;
using namespace edaos::objstore;

namespace {

int fail(const char* what, const Status& st) {
  std::fprintf(stderr, "cli_helper: %s: %s\n", what, st.to_string().c_str());
  return 1;
}

int hold(const std::string& path, const std::string& release) {
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (!pool.ok()) return fail("connect", pool.status());
  std::ofstream(path + ".ready") << getpid() << "\n";
  for (int i = 0; i < 1200 && access(release.c_str(), F_OK) != 0; ++i) usleep(100000);
  return pool.value()->disconnect().ok() ? 0 : 1;
}

int leak(const std::string& path, const std::string& cont, uint64_t bytes) {
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (!pool.ok()) return fail("connect", pool.status());
  auto c = pool.value()->cont_open(cont);
  if (!c.ok()) return fail("cont open", c.status());
  const ContainerProps& p = c.value()->props();
  std::string cls = p.file_oclass.empty() ? p.oclass : p.file_oclass;
  ObjClass oc = default_oclass(static_cast<int>(p.rd_fac), false, c.value()->pool_map());
  if (!cls.empty()) oc = ObjClass::parse(cls).value();
  auto oid = c.value()->alloc_oid(oc, ObjType::kArray);
  if (!oid.ok()) return fail("alloc_oid", oid.status());
  auto a = c.value()->open_array(oid.value());
  if (!a.ok()) return fail("open_array", a.status());
  std::vector<char> buf(bytes);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<char>('a' + i % 26);
  Status st = a.value()->write(0, buf.data(), buf.size());
  if (!st.ok()) return fail("write", st);
  std::printf("%s\n", oid->to_string().c_str());
  return 0;
}

int leak_dir(const std::string& path, const std::string& cont, const std::string& name) {
  auto pool = Pool::connect(path, MPI_COMM_WORLD);
  if (!pool.ok()) return fail("connect", pool.status());
  auto c = pool.value()->cont_open(cont);
  if (!c.ok()) return fail("cont open", c.status());
  auto dfs = Dfs::mount(c.value(), MPI_COMM_NULL, O_RDWR);
  if (!dfs.ok()) return fail("mount", dfs.status());
  Status st = dfs.value()->mkdir("/" + name, 0755);
  if (!st.ok()) return fail("mkdir", st);
  auto f = dfs.value()->open("/" + name + "/f", S_IFREG | 0644, O_RDWR | O_CREAT | O_EXCL);
  if (!f.ok()) return fail("create", f.status());
  st = f.value()->write(0, "hello\n", 6);
  if (!st.ok()) return fail("write", st);
  f.value().reset();
  auto layout = dfs.value()->get_layout("/" + name);
  if (!layout.ok()) return fail("layout", layout.status());
  // Directory format (objstore README, "POSIX namespace"): one dkey per entry name.
  auto root = c.value()->open_kv(dfs.value()->root_oid());
  if (!root.ok()) return fail("open root", root.status());
  st = root.value()->remove(name, "");
  if (!st.ok()) return fail("remove entry", st);
  std::printf("%s\n", layout->oid.to_string().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rc = 2;
  Status st = init(MPI_COMM_WORLD);
  if (!st.ok()) {
    rc = fail("init", st);
  } else {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "hold" && argc == 4) rc = hold(argv[2], argv[3]);
    if (mode == "leak" && argc == 5)
      rc = leak(argv[2], argv[3], std::strtoull(argv[4], nullptr, 10));
    if (mode == "leak-dir" && argc == 5) rc = leak_dir(argv[2], argv[3], argv[4]);
    if (rc == 2) std::fprintf(stderr, "usage: cli_helper hold|leak ...\n");
    (void)finalize();
  }
  MPI_Finalize();
  return rc;
}
