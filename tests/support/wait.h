// Bounded waiting for a condition that another process makes true (a file a hook wrote, a
// request a server counted, a pid gone): the one poll loop the tests share. Only for effects
// the test has no descriptor or clock wait for; a child's exit is an event (process.h,
// WaitChildExit) and a thread's progress a condition variable. Header-only.
//
// Thread-safety: WaitFor is a free function; `pred` runs on the caller's thread only.
#pragma once

#include <chrono>
#include <thread>

namespace lastcall::testing {

// Polls `pred` every 10 ms until it holds or `limit` passes; returns its last value.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::nanoseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace lastcall::testing
