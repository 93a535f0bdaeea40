// main() for multi-rank GoogleTest binaries (linked through edaos::test_mpi_main).
//
// - Initializes MPI with MPI_THREAD_MULTIPLE; exits 77 (ctest SKIP) if the library cannot.
// - Rank 0 prints the usual gtest output; other ranks print only their failures, prefixed
//   with "[rank N]", so a failure on any rank is visible.
// - Every rank's pass/fail is reduced: all ranks exit 1 if any rank failed a test.
// - A watchdog aborts the job (MPI_Abort) if it outlives EDAOS_TEST_WATCHDOG seconds, so a
//   hung collective ends with a message instead of eating the ctest timeout silently.
#include <gtest/gtest.h>
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace {

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: Failure\n%s\n", rank_,
                 r.file_name() ? r.file_name() : "?", r.line_number(), r.summary());
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed())
      std::fprintf(stderr, "[rank %d] FAILED %s.%s\n", rank_, info.test_suite_name(), info.name());
  }

 private:
  int rank_;
};

struct Watchdog {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread th;

  void start(int seconds) {
    th = std::thread([this, seconds] {
      std::unique_lock<std::mutex> lk(mu);
      if (!cv.wait_for(lk, std::chrono::seconds(seconds), [this] { return done; })) {
        int rank = -1;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        std::fprintf(stderr, "[rank %d] watchdog: test binary still running after %d s, aborting\n",
                     rank, seconds);
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 124);
      }
    });
  }
  void stop() {
    if (!th.joinable()) return;
    {
      std::lock_guard<std::mutex> lk(mu);
      done = true;
    }
    cv.notify_all();
    th.join();
  }
};

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (provided < MPI_THREAD_MULTIPLE) {
    if (rank == 0) std::fprintf(stderr, "MPI library lacks MPI_THREAD_MULTIPLE: skipping\n");
    MPI_Finalize();
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(rank));
  }

  Watchdog dog;
  if (const char* w = std::getenv("EDAOS_TEST_WATCHDOG"); w && std::atoi(w) > 0)
    dog.start(std::atoi(w));

  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  dog.stop();
  if (rank == 0 && any_failed && !failed)
    std::fprintf(stderr, "a test failed on another rank (see [rank N] lines above)\n");
  MPI_Finalize();
  return any_failed;
}
