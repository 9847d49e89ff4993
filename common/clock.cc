#include "common/clock.h"

#include <algorithm>

namespace lastcall {

WallTime SystemClock::Now() const { return std::chrono::system_clock::now(); }
MonoTime SystemClock::Monotonic() const { return std::chrono::steady_clock::now(); }

void Clock::SleepUntil(MonoTime deadline) const {
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock lock(mu);
  WaitUntil(lock, cv, deadline, [] { return false; });
}

bool SystemClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                            MonoTime deadline, const std::function<bool()>& pred) const {
  return cv.wait_until(lock, deadline, pred);
}

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
  {
    std::lock_guard lock(mu_);
    wall_ += d;
    mono_ += d;
  }
  WakeWaiters();
}

bool FakeClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          MonoTime deadline, const std::function<bool()>& pred) const {
  // Registered while `lock` is held: Advance takes that mutex before it notifies, so a time
  // step between the deadline check below and cv.wait cannot be missed. Each time the waiter
  // goes back to sleep counts as a wait begun (AwaitWaiting).
  uint64_t id = 0;
  while (!pred() && Monotonic() < deadline) {
    {
      std::lock_guard g(mu_);
      ++waits_begun_;
      if (id == 0) {
        id = waits_begun_;
        waiters_.push_back({id, lock.mutex(), &cv, deadline});
      }
    }
    waiting_cv_.notify_all();
    cv.wait(lock);
  }
  if (id != 0) {
    std::lock_guard g(mu_);
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
      if (it->id == id) {
        waiters_.erase(it);
        break;
      }
    }
  }
  return pred();
}

void FakeClock::WakeWaiters() const {
  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(mu_);
    waiters = waiters_;
  }
  // Each waiter's own mutex, taken and released, orders this notify after its check of the
  // time (it holds the mutex from the check until cv.wait releases it). Not under mu_: a waiter
  // holds its mutex while it reads the time.
  for (const Waiter& w : waiters) {
    { std::lock_guard g(*w.mu); }
    w.cv->notify_all();
  }
}

size_t FakeClock::WaitingCount() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

uint64_t FakeClock::WaitsBegun() const {
  std::lock_guard lock(mu_);
  return waits_begun_;
}

bool FakeClock::AwaitWaiting(size_t n, uint64_t begun,
                             std::chrono::steady_clock::duration real_limit) const {
  std::unique_lock lock(mu_);
  // Real time on purpose: the bound is on the test, not on the code under test.
  return waiting_cv_.wait_for(lock, real_limit,
                              [&] { return waiters_.size() >= n && waits_begun_ >= begun; });
}

MonoTime FakeClock::NextDeadline() const {
  std::lock_guard lock(mu_);
  MonoTime next = MonoTime::max();
  for (const Waiter& w : waiters_) next = std::min(next, w.deadline);
  return next;
}

void FakeClock::SetWall(WallTime t) {
  std::lock_guard lock(mu_);
  wall_ = t;
}

}  // namespace lastcall
