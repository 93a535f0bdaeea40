// Runs fn(i) for every i in [0, n) on up to `max_threads` threads (the caller's included), each
// index once, and returns when all are done. Threads the system will not give are done without:
// the caller's thread takes what they would have. For independent blocking work (engine opens,
// engine syncs: each engine has its own lock and files), where the disk serves many requests at
// once better than one after another.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace edaos::objstore {

template <typename Fn>
void for_each_parallel(size_t n, size_t max_threads, Fn&& fn) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
  };
  const size_t nthreads = std::min(n, std::max<size_t>(max_threads, 1));
  std::vector<std::thread> threads;
  try {
    for (size_t t = 1; t < nthreads; ++t) threads.emplace_back(worker);
  } catch (const std::system_error&) {  // no more threads: the ones running and this one do it
  }
  worker();
  for (auto& t : threads) t.join();
}

}  // namespace edaos::objstore
