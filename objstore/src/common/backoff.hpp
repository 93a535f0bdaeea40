// Backoff for polling loops. A waiting thread first yields (sched_yield) for about `spin_us`
// microseconds, which keeps latency low while a transfer is in flight yet gives the core to
// any other runnable process on an oversubscribed node; then it sleeps with growing pauses up
// to `max_us`, so an idle server or a long wait costs almost no CPU. Call reset() whenever
// the loop did useful work.
#pragma once

#include <sched.h>
#include <time.h>

#include <algorithm>

namespace edaos {

class Backoff {
 public:
  explicit Backoff(long max_us = 200, long spin_us = 2000) : max_us_(max_us), spin_us_(spin_us) {}
  void reset() { n_ = 0; }
  void pause() {
    if (n_++ == 0) {
      t0_ = now_us();
      sleeps_ = 0;
    }
    if (sleeps_ == 0 && ((n_ & 15) != 0 || now_us() - t0_ < spin_us_)) {
      sched_yield();
      return;
    }
    long us = std::min<long>(max_us_, 10L << std::min<unsigned>(sleeps_++ / 4, 10));
    timespec ts{0, us * 1000};
    nanosleep(&ts, nullptr);
  }

 private:
  static long now_us() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
  }
  unsigned n_ = 0, sleeps_ = 0;
  long t0_ = 0;
  long max_us_, spin_us_;
};

}  // namespace edaos
