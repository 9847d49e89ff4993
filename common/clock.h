// Clock: the only way lastcall code reads the time.
//
// Wall time (Now) is for deadlines shown to people and clouds; monotonic time (Monotonic) is for
// intervals, timeouts and backoff, which must not jump when NTP steps the wall clock.
// Production code gets a SystemClock; tests get a FakeClock and move it by hand.
// No code outside clock.cc calls std::chrono::system_clock::now().
//
// Waits that end at a time go through the clock too (WaitUntil, SleepUntil), so that code which
// waits for "an event or a deadline" runs on fake time in tests: FakeClock wakes its waiters
// when it is advanced, and a test can see that a thread is waiting (WaitingCount,
// AwaitWaiting) instead of sleeping and hoping.
//
// Thread-safety: SystemClock is stateless. FakeClock is safe to read, wait on and advance from
// several threads (the daemon's poller and hook threads share one).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace lastcall {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
  virtual MonoTime Monotonic() const = 0;

  // Waits on `cv` (its mutex held through `lock`, as std::condition_variable::wait_until does)
  // until `pred()` holds or Monotonic() reaches `deadline`; returns pred(). Notifying `cv`
  // wakes it as usual; on a FakeClock, advancing the clock wakes it too.
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         MonoTime deadline, const std::function<bool()>& pred) const = 0;

  // Returns when Monotonic() reaches `deadline` (a WaitUntil on nothing else).
  void SleepUntil(MonoTime deadline) const;
};

class SystemClock final : public Clock {
 public:
  WallTime Now() const override;
  MonoTime Monotonic() const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, MonoTime deadline,
                 const std::function<bool()>& pred) const override;
  // A process-wide instance for production wiring.
  static const SystemClock& Instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime(std::chrono::seconds(1'700'000'000)));
  WallTime Now() const override;
  MonoTime Monotonic() const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, MonoTime deadline,
                 const std::function<bool()>& pred) const override;

  // Moves both wall and monotonic time forward and wakes every waiter (which then re-checks
  // its predicate and deadline).
  void Advance(Duration d);
  // Steps only the wall clock (as NTP or a wrong RTC would); monotonic time is unaffected.
  void SetWall(WallTime t);

  // Threads blocked in WaitUntil now.
  size_t WaitingCount() const;
  // How many WaitUntil calls have begun blocking so far (a thread that wakes and waits again
  // counts twice): lets a test tell a new wait from the one it already saw.
  uint64_t WaitsBegun() const;
  // Blocks (in real time, at most `real_limit`) until at least `n` threads wait on the clock
  // and at least `begun` waits have begun; false on the limit. The way a test knows that the
  // code under test has finished its step and is waiting for time to pass.
  bool AwaitWaiting(
      size_t n, uint64_t begun = 0,
      std::chrono::steady_clock::duration real_limit = std::chrono::seconds(10)) const;
  // The earliest deadline of the threads waiting now, or MonoTime::max() if none.
  MonoTime NextDeadline() const;

 private:
  struct Waiter {
    uint64_t id = 0;
    std::mutex* mu = nullptr;
    std::condition_variable* cv = nullptr;
    MonoTime deadline;
  };
  void WakeWaiters() const;

  mutable std::mutex mu_;
  mutable std::condition_variable waiting_cv_;  // signalled when a wait begins
  WallTime wall_;
  MonoTime mono_;
  mutable std::vector<Waiter> waiters_;
  mutable uint64_t waits_begun_ = 0;
};

}  // namespace lastcall
