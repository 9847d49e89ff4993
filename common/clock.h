// Clock: the only way lastcall code reads the time.
//
// Wall time (Now) is for deadlines shown to people and clouds; monotonic time (Monotonic) is for
// intervals, timeouts and backoff, which must not jump when NTP steps the wall clock.
// Production code gets a SystemClock; tests get a FakeClock and move it by hand.
// No code outside clock.cc calls std::chrono::system_clock::now().
//
// Thread-safety: SystemClock is stateless. FakeClock is safe to read and advance from several
// threads (the daemon's poller and hook threads share one).
#pragma once

#include <chrono>
#include <mutex>

namespace lastcall {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
  virtual MonoTime Monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime Now() const override;
  MonoTime Monotonic() const override;
  // A process-wide instance for production wiring.
  static const SystemClock& Instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::seconds(1'700'000'000)));
  WallTime Now() const override;
  MonoTime Monotonic() const override;

  // Moves both wall and monotonic time forward.
  void Advance(Duration d);
  // Steps only the wall clock (as NTP or a wrong RTC would); monotonic time is unaffected.
  void SetWall(WallTime t);

 private:
  mutable std::mutex mu_;
  WallTime wall_;
  MonoTime mono_;
};

}  // namespace lastcall
