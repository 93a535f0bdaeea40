// Backoff for polling loops. A waiting thread yields first, then sleeps with growing pauses
// up to `max_us`, so an idle server or a waiting client on an oversubscribed node gives its
// core away instead of spinning. Call reset() whenever the loop did useful work.
#pragma once

#include <sched.h>
#include <time.h>

#include <algorithm>

namespace edaos {

class Backoff {
 public:
  explicit Backoff(long max_us = 200) : max_us_(max_us) {}
  void reset() { n_ = 0; }
  void pause() {
    if (++n_ < 32) {
      sched_yield();
      return;
    }
    long us = std::min<long>(max_us_, 1L << std::min<unsigned>((n_ - 32) / 8, 12));
    timespec ts{0, us * 1000};
    nanosleep(&ts, nullptr);
  }

 private:
  unsigned n_ = 0;
  long max_us_;
};

}  // namespace edaos
