#include "common/clock.h"

namespace lastcall {

WallTime SystemClock::Now() const { return std::chrono::system_clock::now(); }
MonoTime SystemClock::Monotonic() const { return std::chrono::steady_clock::now(); }

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

FakeClock::FakeClock(WallTime start) : wall_(start), mono_(std::chrono::hours(1)) {}

WallTime FakeClock::Now() const {
  std::lock_guard lock(mu_);
  return wall_;
}

MonoTime FakeClock::Monotonic() const {
  std::lock_guard lock(mu_);
  return mono_;
}

void FakeClock::Advance(Duration d) {
  std::lock_guard lock(mu_);
  wall_ += d;
  mono_ += d;
}

void FakeClock::SetWall(WallTime t) {
  std::lock_guard lock(mu_);
  wall_ = t;
}

}  // namespace lastcall
